"""Measure every zoo model that has weights; regenerate docs/zoo_results.md and the model cards.

The cards are written by ``edgedeblur.models.write_card``, next to their reader.

    .venv/bin/python benchmarks/zoo_eval.py                      # all trained models, writes docs + cards
    .venv/bin/python benchmarks/zoo_eval.py --models mnv2unet_s_denoise --no-write
    .venv/bin/python benchmarks/zoo_eval.py --deblur-limit 4 --denoise-limit 8   # quick look

Benchmarks (all images from ../shared/data/eval, never used in training):

* denoising, the published protocol (``edgedeblur.degrade.paper_awgn``: white Gaussian noise
  added in float, unclipped, PSNR on the uint8-quantised output over the whole image):
  CBSD68 at sigma 15/25/50 and BSD68 (grey) at sigma 25 for denoisers; CBSD68 sigma 25 for
  every model;
* deblurring: the first ``--deblur-limit`` CBSD68 images x the 8 Levin et al. kernels (true
  convolution in sRGB) + Gaussian noise sigma 2.55, float, unclipped. Wiener gets the true
  kernel and sigma (oracle); the zoo models are blind.

The default denoiser is also measured with the runtime's x8 geometric self-ensemble
(``--ensemble``, :mod:`edgedeblur.runtime.ensemble`): same weights, 8 passes, 8x the MACs.

Plus parameters, MACs per 1280x720 frame, and the median CPU latency of the PyTorch deploy
model on one 720p frame (``--threads`` torch threads, ``--runs`` timed runs after a warm-up),
with its ratio to mnv2unet_s measured in the same process. Each model is evaluated in this one
process, one after the other; the machine is shared, so latencies are medians and the ratio is
the comparable figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
DOC = REPO / "docs" / "zoo_results.md"
ENSEMBLE_PASSES = 8  # the --ensemble row: all 8 orientations
PUBLISHED_CBSD68 = {  # README of the shared data: sigma 15 / 25 / 50
    "CBM3D": (33.52, 30.71, 27.38), "DnCNN": (33.90, 31.24, 27.95), "FFDNet": (33.87, 31.21, 27.96),
}
PUBLISHED_BSD68_25 = {"BM3D": 28.57, "DnCNN": 29.23, "FFDNet": 29.19}
LATENCY_BASELINE = "mnv2unet_s_denoise"


def dncnn_macs_720p() -> tuple[int, int]:
    """Params and MACs of the published DnCNN (17 conv layers, 64 channels, colour), built to count."""
    from torch import nn

    from edgedeblur.models import count_macs, count_params

    layers: list[nn.Module] = [nn.Conv2d(3, 64, 3, padding=1), nn.ReLU()]
    for _ in range(15):
        layers += [nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64), nn.ReLU()]
    layers.append(nn.Conv2d(64, 3, 3, padding=1, bias=False))
    net = nn.Sequential(*layers)
    return count_params(net), count_macs(net, 720, 1280)


def latency_720p(name: str, runs: int, pretrained: bool = True) -> float:
    """Median seconds of the deploy-form PyTorch model on one 1280x720 RGB frame (padded up to
    the model's ``pad_multiple``, as the runtime does)."""
    import torch

    from edgedeblur.models import create_model

    net = create_model(name, pretrained=pretrained).to_deploy()
    mult = int(getattr(net, "pad_multiple", 1))  # e.g. 32: 720 -> 736, as the runner pads
    h, w = -(-720 // mult) * mult, -(-1280 // mult) * mult
    x = torch.rand(1, int(getattr(net, "in_channels", 3) or 3), h, w, generator=torch.Generator().manual_seed(0))
    times = []
    with torch.inference_mode():
        net(x)  # warm-up
        for _ in range(runs):
            t = time.perf_counter()
            net(x)
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def _eval(method, folder: Path, degradation, *, kernels=None, limit=None, centre_kernels=False,
          oracle: bool = True) -> dict:
    from edgedeblur.evaluate import evaluate

    res = evaluate(method, folder, degradation, seed=0, kernels=kernels, limit=limit, centre_kernels=centre_kernels,
                   oracle=oracle)
    if res.failures:
        raise RuntimeError(f"{len(res.failures)} images failed: {res.failures[0]}")
    return {"psnr": round(res.psnr, 3), "ssim": round(res.ssim, 4), "input_psnr": round(res.input_psnr, 3),
            "images": len(res.scores), "s_per_mp": round(res.seconds_per_mp, 3)}


def deblur_spec():
    from edgedeblur.degrade import parse_degradation

    return parse_degradation(noise="gaussian:sigma=2.55", linear=False, clip=False, quantize=False)


def evaluate_model(name: str, task: str, args: argparse.Namespace, passes: int = 1) -> dict[str, dict]:
    """All benchmark numbers of one zoo model (or of 'wiener'); ``passes`` > 1: with the
    self-ensemble, on the denoising benchmarks only."""
    from edgedeblur.degrade import paper_awgn

    if name == "wiener":
        from edgedeblur.methods import get_method

        method = get_method("wiener")
    else:
        from edgedeblur.models import create_method

        method = create_method(name, self_ensemble=passes)
    out: dict[str, dict] = {}
    cbsd, bsd, levin = DATA / "eval/cbsd68", DATA / "eval/bsd68", DATA / "kernels/levin09"
    if task == "prior":  # a deblur-pipeline prior: a sigma-given denoiser, and the pipeline
        return evaluate_prior(name, method, args)
    if name != "wiener":
        sigmas = (15, 25, 50) if task == "denoise" else (25,)
        limit = args.denoise_limit if task == "denoise" else args.cross_limit
        for sigma in sigmas:
            out[f"cbsd68_sigma{sigma}"] = _eval(method, cbsd, paper_awgn(sigma), limit=limit)
            print(f"  {name} cbsd68 sigma {sigma}: {out[f'cbsd68_sigma{sigma}']['psnr']:.2f} dB", flush=True)
        if task == "denoise":
            out["bsd68_sigma25"] = _eval(method, bsd, paper_awgn(25), limit=args.denoise_limit)
            print(f"  {name} bsd68 sigma 25: {out['bsd68_sigma25']['psnr']:.2f} dB", flush=True)
    if passes > 1:
        return out
    out["levin8_cbsd68"] = _eval(method, cbsd, deblur_spec(), kernels=levin, limit=args.deblur_limit)
    print(f"  {name} levin x cbsd68: {out['levin8_cbsd68']['psnr']:.2f} dB", flush=True)
    out[CENTRED] = levin_centred(method, name, args)
    return out


CENTRED = "levin8c_cbsd68"  # the Levin kernels shifted onto their centroids (blind-fair protocol)
BLIND = "levin8c_cbsd68_blind"  # the same, the deblur pipeline estimating each kernel


def evaluate_prior(name: str, method, args: argparse.Namespace) -> dict[str, dict]:
    """A noise-conditioned prior: the denoising benchmarks with the true sigma given (its
    strength control), and the deblur pipeline around it on Levin x CBSD68, kernel given
    (centred and as published) and estimated from each photo (centred)."""
    from edgedeblur.degrade import paper_awgn
    from edgedeblur.methods import DEFAULT_DEBLUR_PRIOR, get_method

    out: dict[str, dict] = {}
    cbsd, levin = DATA / "eval/cbsd68", DATA / "kernels/levin09"
    for sigma in (15, 25, 50):
        out[f"cbsd68_sigma{sigma}"] = _eval(method, cbsd, paper_awgn(sigma), limit=args.denoise_limit)
        print(f"  {name} cbsd68 sigma {sigma} (given): {out[f'cbsd68_sigma{sigma}']['psnr']:.2f} dB", flush=True)
    out["bsd68_sigma25"] = _eval(method, DATA / "eval/bsd68", paper_awgn(25), limit=args.denoise_limit)
    if name != DEFAULT_DEBLUR_PRIOR:
        return out
    pipe = get_method("deblur")
    out["levin8_cbsd68"] = _eval(pipe, cbsd, deblur_spec(), kernels=levin, limit=args.deblur_limit)
    out[CENTRED] = _eval(pipe, cbsd, deblur_spec(), kernels=levin, limit=args.deblur_limit, centre_kernels=True)
    out[BLIND] = _eval(pipe, cbsd, deblur_spec(), kernels=levin, limit=args.deblur_limit, centre_kernels=True,
                       oracle=False)
    for key in ("levin8_cbsd68", CENTRED, BLIND):
        print(f"  deblur pipeline ({name}) {key}: {out[key]['psnr']:.2f} dB", flush=True)
    return out


def levin_centred(method, name: str, args: argparse.Namespace) -> dict:
    """Levin x CBSD68 with each kernel first moved onto its centroid (``centre_kernels``): the
    published kernels are up to 4.3 px off-centre, which translates the blurred image, and no
    blind method can know by how much (blind benchmarks align before scoring for this reason)."""
    if isinstance(method, str):
        from edgedeblur.methods import get_method

        method = get_method(method)
    out = _eval(method, DATA / "eval/cbsd68", deblur_spec(), kernels=DATA / "kernels/levin09",
                limit=args.deblur_limit, centre_kernels=True)
    print(f"  {name} levin (centred) x cbsd68: {out['psnr']:.2f} dB", flush=True)
    return out


def cached_metrics(name: str, task: str, args: argparse.Namespace, passes: int = 1) -> dict[str, dict] | None:
    """evaluate_model, cached in --cache keyed by the weights' sha256 and the protocol options,
    so re-rendering the page after one more model is trained does not re-run the others."""
    from edgedeblur.io import atomic_write
    from edgedeblur.models import weights_path
    from edgedeblur.runtime import sha256_file

    key = {"sha256": sha256_file(weights_path(name)) if name != "wiener" else "wiener",
           "deblur_limit": args.deblur_limit, "denoise_limit": args.denoise_limit, "version": 1}
    if task != "denoise":
        key["cross_limit"] = args.cross_limit
    if passes > 1:
        key["self_ensemble"] = passes
    path = args.cache / (f"{name}.json" if passes == 1 else f"{name}_x{passes}.json")
    if path.is_file() and not args.no_cache:
        data = json.loads(path.read_text())
        if data.get("key") == key:
            print(f"  {name}: cached metrics ({path})", flush=True)
            metrics = data["metrics"]
            if "levin8_cbsd68" in metrics and CENTRED not in metrics and not args.cached_only:
                # added later: measure only the new protocol instead of re-running the rest
                metrics[CENTRED] = levin_centred(name, name, args)  # a zoo or classical name
                atomic_write(path, json.dumps({"key": key, "metrics": metrics}, indent=2))
            return metrics
    if args.cached_only:
        return None
    metrics = evaluate_model(name, task, args, passes)
    args.cache.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"key": key, "metrics": metrics}, indent=2))
    return metrics


def _fmt(v: float | None, digits: int = 2) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def render(rows: list[dict], args: argparse.Namespace, machine: str, dncnn: tuple[int, int]) -> str:
    """The markdown page."""
    lines = [
        "# Zoo results (measured)",
        "",
        "Generated by `benchmarks/zoo_eval.py` (re-run it to refresh this page and the model cards"
        " in `edgedeblur/models/cards/`). Do not edit by hand.",
        "",
        f"Machine: {machine}; torch {args.torch_version}, {args.threads} thread(s); "
        f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC.",
        "",
        "**Training budget.** Every model here was trained on a shared 2-core CPU (1 torch thread),"
        " 64 px patches, batch 8 (mnv2unet_m_denoise: 64 px x 12, then fine-tuned at 96 px x 8 and at"
        " 128 px x 6, recipes mnv2unet_m_denoise_finetune and _stage3; mnv2unet_m_deblur: fine-tuned"
        " at 128 px x 6 for 100 more minutes, recipe mnv2unet_m_deblur_stage2, four times the CPU"
        " time of its first stage), for the budget in its recipe: wall-clock"
        " minutes (`train.max_minutes`; the 25-minute runs of 2026-11-22, on an AMD EPYC at load"
        " 10-25) or a step count (the 6000-step NAS comparison runs of 2026-11-30, on this machine)."
        " Runs since 2026-11-30 06:00 UTC end by re-estimating the BatchNorm statistics of the"
        " shipped EMA weights (`train.bn_recal`); mnv2unet_s_denoise's finished run was resumed once"
        " to get that step (validation +0.09 dB, CBSD68 sigma 25 29.40 -> 29.49 dB); so were the"
        " deblur NAS pairs' runs. mnv2unet_xs_denoise and mnv2unet_xs_deblur are their 6000-step NAS"
        " comparison runs (benchmarks/nas_results.py)."
        " The 'trained' column gives the steps, wall and CPU minutes each run got. The published"
        " models below trained for days on GPUs (DnCNN: ~1.4 M patches of 40 px x 50 epochs; FFDNet"
        " and DeblurGAN-v2: several GPU-days). Expect our numbers to fall short accordingly; see"
        " 'what it would take' at the end.",
        "",
        "## Denoising (published protocol: AWGN added in float, unclipped, PSNR on uint8 output)",
        "",
        f"CBSD68 ({args.denoise_limit or 68} images) and BSD68 grey; PSNR dB / SSIM.",
        "",
        "| model | params | GMAC/720p | vs DnCNN MACs | CBSD68 s15 | CBSD68 s25 | CBSD68 s50 | BSD68 s25 | trained (steps, wall min) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        m = r["metrics"]
        if r["task"] not in ("denoise", "prior"):
            continue
        if r["task"] == "prior":  # a conditioned prior is told the noise level
            r = {**r, "name": f"{r['name']} (sigma given)"}
        cells = [_cell(m.get(k)) for k in ("cbsd68_sigma15", "cbsd68_sigma25", "cbsd68_sigma50", "bsd68_sigma25")]
        lines.append(f"| {r['name']} | {r['params'] / 1e6:.3f} M | {r['macs'] / 1e9:.2f} | "
                     f"{r['macs'] / dncnn[1]:.3f}x | " + " | ".join(cells) + " | "
                     + (f"same weights, {ENSEMBLE_PASSES} passes" if r.get("ensemble") else _train_cell(r["train"]))
                     + " |")
    for ref, (s15, s25, s50) in PUBLISHED_CBSD68.items():
        bsd = PUBLISHED_BSD68_25.get(ref, PUBLISHED_BSD68_25.get("BM3D") if ref == "CBM3D" else None)
        macs = f"{dncnn[1] / 1e9:.0f}" if ref == "DnCNN" else "-"
        ratio = "1x" if ref == "DnCNN" else "-"
        params = f"{dncnn[0] / 1e6:.3f} M" if ref == "DnCNN" else ("0.85 M" if ref == "FFDNet" else "-")
        lines.append(f"| {ref} (published) | {params} | {macs} | {ratio} | {s15:.2f} | {s25:.2f} | {s50:.2f} | "
                     f"{_fmt(bsd)} | GPU, paper |")
    denoisers = [r for r in rows if r["task"] == "denoise" and r["metrics"]]
    for r in denoisers[:1]:
        ins = ", ".join(f"{k.replace('_', ' ')} {v['input_psnr']:.2f}" for k, v in r["metrics"].items()
                        if k != "levin8_cbsd68")
        lines += ["", f"Noisy inputs (dB): {ins}."]
    if any(r.get("ensemble") for r in rows):
        lines += ["", f"'+ x{ENSEMBLE_PASSES} self-ensemble': the same weights run on the {ENSEMBLE_PASSES} flips"
                  " and rotations of each image, each result turned back and averaged"
                  f" (`-O self_ensemble={ENSEMBLE_PASSES}` in edge-deblur / edge-eval, `load(...,"
                  f" self_ensemble={ENSEMBLE_PASSES})` in the runtime): {ENSEMBLE_PASSES}x the MACs and the"
                  " latency, for offline photos rather than video."]
    lines += ["", "BSD68 is grey: the zoo models are RGB, so the grey image is replicated to 3 channels"
              " and the output averaged (`edgedeblur.models.create_method`). Its noise is then identical"
              " in the 3 channels. The models trained since 2026-11-30 saw such grey samples (the"
              " Train400 photos are degraded as grey, `edgedeblur/train/_data.py`); the earlier"
              " mnv2unet_s_denoise, trained on per-channel noise only, scored 23.03 dB here."]
    lines += [
        "",
        f"## Deblurring: CBSD68 first {args.deblur_limit} images x 8 Levin kernels + noise sigma 2.55",
        "",
        "True convolution in sRGB, Gaussian noise sigma 2.55 (0-255 scale) added in float, unclipped;"
        f" {args.deblur_limit * 8} blurred images per row. Wiener is given the true kernel and sigma;"
        " the learned models are blind (they never saw the Levin kernels in training).",
        "",
        "Two protocols. 'Centred': each Levin kernel is first moved by whole pixels onto its centroid"
        " (`edge-eval --centre-kernels`, `edgedeblur.degrade.centre_kernel`). The kernels as published"
        " are up to 4.3 px off-centre (k4, k6, k7, k8 by 2-4 px), so they also translate the image;"
        " a blind method cannot know that translation, and is scored against a reference it cannot"
        " line up with (published blind-deblurring benchmarks align before scoring for this reason:"
        " Koehler et al. 2012, Lai et al. 2016). Centring removes that unavoidable penalty and leaves"
        " the blur; Wiener, given the kernel, undoes the translation either way. 'As published': the"
        " kernels as stored, the protocol of the earlier versions of this page.",
        "",
        f"The CBSD68 sigma 25 column of deblur models uses the first {args.cross_limit} images.",
        "",
        "| method | params | GMAC/720p | centred: PSNR dB | gain vs blurred | SSIM | as published: PSNR dB | gain vs blurred | CBSD68 s25 PSNR | trained (steps, min) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    blurred = blurred_c = None
    for r in rows:
        m = r["metrics"]
        if "levin8_cbsd68" not in m:
            continue
        raw, cen = m["levin8_cbsd68"], m.get(CENTRED)
        blurred = raw["input_psnr"]
        params = f"{r['params'] / 1e6:.3f} M" if r["params"] else "-"
        macs = f"{r['macs'] / 1e9:.2f}" if r["macs"] else "-"
        if cen:
            blurred_c = cen["input_psnr"]
            centred = f"{cen['psnr']:.2f} | {cen['psnr'] - cen['input_psnr']:+.2f} | {cen['ssim']:.4f}"
        else:
            centred = "- | - | -"
        label = r["name"]
        if r["task"] == "prior":  # the deblur pipeline around this prior, kernel given; blind too
            blind = m.get(BLIND)
            label = (f"deblur pipeline ({r['name']}), kernel given" + (
                f"; kernel estimated (--blind): {blind['psnr']:.2f} dB" if blind else ""))
        lines.append(f"| {label} | {params} | {macs} | {centred} | {raw['psnr']:.2f} | "
                     f"{raw['psnr'] - raw['input_psnr']:+.2f} | {_cell(m.get('cbsd68_sigma25'), ssim=False)} | "
                     f"{_train_cell(r['train'])} |")
    if blurred is not None:
        lines += ["", f"Blurred input: {_fmt(blurred_c)} dB centred, {blurred:.2f} dB as published."]
    lines += [
        "",
        f"## Every trained zoo entry: cost and CPU latency (PyTorch deploy form, 1280x720, {args.threads} thread(s))",
        "",
        f"Median of {args.runs} runs after a warm-up; ratio to {LATENCY_BASELINE} measured in the same process.",
        "",
        "| model | task | params | GMAC/720p | latency 720p (ms) | vs baseline | CBSD68 s25 PSNR/SSIM | Levin (centred) x CBSD68 PSNR/SSIM |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = next((r["latency"] for r in rows if r["name"] == LATENCY_BASELINE), None)
    for r in rows:
        if r["name"] == "wiener" or r.get("ensemble"):
            continue
        ratio = f"{r['latency'] / base:.2f}x" if base else "-"
        m = r["metrics"]
        lines.append(f"| {r['name']} | {r['task']} | {r['params'] / 1e6:.3f} M | {r['macs'] / 1e9:.2f} | "
                     f"{r['latency'] * 1000:.0f} | {ratio} | {_cell(m.get('cbsd68_sigma25'))} | "
                     f"{_cell(m.get(CENTRED))} |")
    lines += [
        "",
        "## What it would take",
        "",
        "These nets are far from converged: the validation PSNR was still rising when the budget ran"
        " out (curves in each run folder, `runs/<model>/curves.png`). Published small denoisers/deblurrers"
        " train for 10^5-10^6 steps at batch 16-64 on 128-256 px patches; on one H100 with mixed precision"
        " `edge-train` runs such a recipe (`--set train.steps=300000 --set data.crop=128 --set data.batch=32"
        " --max-minutes 0`) in a few GPU-hours per model; on this CPU it would take weeks.",
        "",
    ]
    return "\n".join(lines)


def _cell(v: dict | None, ssim: bool = True) -> str:
    if not v:
        return "-"
    return f"{v['psnr']:.2f} / {v['ssim']:.3f}" if ssim else f"{v['psnr']:.2f}"


def _train_cell(t: dict | None) -> str:
    if not t:
        return "-"
    cpu = f" ({t['cpu_minutes']:.1f} CPU-min)" if t.get("cpu_minutes") else ""
    stages = f" in {len(t['stages'])} stages" if t.get("stages") else ""
    return f"{t['steps']} steps{stages}, {t['wall_minutes']:.0f} min{cpu}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", nargs="*", default=None, help="zoo names (default: every model with weights)")
    p.add_argument("--deblur-limit", type=int, default=12, help="CBSD68 images blurred by the 8 Levin kernels")
    p.add_argument("--denoise-limit", type=int, default=None, help="CBSD68/BSD68 images (default: all 68)")
    p.add_argument("--cross-limit", type=int, default=12,
                   help="CBSD68 images for the denoising column of deblur models (default 12)")
    p.add_argument("--cached-only", action="store_true",
                   help="render from cached metrics only; models not evaluated yet are listed as pending")
    p.add_argument("--threads", type=int, default=1, help="torch threads")
    p.add_argument("--runs", type=int, default=5, help="timed 720p runs per model")
    p.add_argument("--no-wiener", action="store_true", help="skip the Wiener (true kernel) row")
    p.add_argument("--runs-dir", type=Path, default=REPO / "runs", help="training run folders (for the budget)")
    p.add_argument("--run", action="append", default=[], metavar="MODEL=DIR",
                   help="the run folder that made MODEL's shipped weights, when it is not runs-dir/MODEL"
                        " (e.g. mnv2unet_m_denoise=runs/mnv2unet_m_denoise_stage3); its train.init chain"
                        " of earlier stages is followed")
    p.add_argument("--ensemble", default="mnv2unet_m_denoise", metavar="MODEL",
                   help="denoiser also measured with the x8 self-ensemble (default: the default denoiser;"
                        " '' for none)")
    p.add_argument("--no-write", action="store_true", help="print only; do not write the docs page and cards")
    p.add_argument("--cache", type=Path, default=REPO / "runs" / "zoo_eval_cache",
                   help="per-model metric cache, keyed by the weights' sha256 (git-ignored)")
    p.add_argument("--no-cache", action="store_true", help="re-evaluate every model")
    p.add_argument("--metrics-only", action="store_true",
                   help="evaluate (and cache) the models, skip latency, docs and cards")
    p.add_argument("--cards-only", action="store_true",
                   help="evaluate --models and write their cards, not docs/zoo_results.md (a page of "
                        "only these models would drop the others)")
    p.add_argument("--json", type=Path, default=None, help="also write all numbers to this JSON file")
    args = p.parse_args(argv)

    import torch

    from edgedeblur.evaluate import machine_description
    from edgedeblur.io import atomic_write
    from edgedeblur.models import get_card, list_models, training_info, weights_path, write_card
    from edgedeblur.train import list_recipes

    torch.set_num_threads(args.threads)
    args.torch_version = torch.__version__
    names = args.models or [n for n in list_models() if weights_path(n).is_file()]
    if not names:
        print("no zoo model has weights yet: train one with edge-train", file=sys.stderr)
        return 1
    if args.metrics_only:
        for name in names:
            cached_metrics(name, get_card(name).task, args)
        if not args.no_wiener:
            cached_metrics("wiener", "deblur", args)
        if args.ensemble:
            cached_metrics(args.ensemble, "denoise", args, ENSEMBLE_PASSES)
        return 0
    runs = {}
    for item in args.run:
        model, sep, folder = item.partition("=")
        if not sep or not (Path(folder) / "summary.json").is_file():
            print(f"--run {item!r}: expected MODEL=DIR with DIR/summary.json", file=sys.stderr)
            return 2
        runs[model] = Path(folder)
    dncnn = dncnn_macs_720p()
    base_latency = latency_720p(LATENCY_BASELINE, args.runs, pretrained=False)
    rows: list[dict] = []
    pending: list[str] = []
    for name in names:
        card = get_card(name)
        print(f"{name}: {card.params} params, {card.macs_720p / 1e9:.2f} GMAC/720p", flush=True)
        metrics = cached_metrics(name, card.task, args)
        if metrics is None:
            pending.append(name)
            continue
        latency = base_latency if name == LATENCY_BASELINE else latency_720p(name, args.runs)
        train = training_info(name, args.runs_dir, runs.get(name), recipes=list_recipes())
        rows.append({"name": name, "task": card.task, "params": card.params, "macs": card.macs_720p,
                     "metrics": metrics, "latency": latency, "train": train})
        if not args.no_write:
            write_card(name, metrics, latency, train)
    base_row = next((r for r in rows if r["name"] == args.ensemble), None)
    ensembled = cached_metrics(args.ensemble, "denoise", args, ENSEMBLE_PASSES) if base_row else None
    if ensembled:  # same weights, N passes: N x the MACs; no latency row (N x the model's)
        rows.append({**base_row, "name": f"{args.ensemble} + x{ENSEMBLE_PASSES} self-ensemble",
                     "macs": base_row["macs"] * ENSEMBLE_PASSES, "metrics": ensembled, "ensemble": True})
    wiener = None if args.no_wiener else cached_metrics("wiener", "deblur", args)
    if wiener:
        rows.append({"name": "wiener", "task": "deblur", "params": 0, "macs": 0, "latency": float("nan"),
                     "metrics": wiener, "train": None})
    if LATENCY_BASELINE not in names:  # the ratio's baseline, timed in this process (random init)
        rows.append({"name": LATENCY_BASELINE, "task": "denoise", "params": get_card(LATENCY_BASELINE).params,
                     "macs": get_card(LATENCY_BASELINE).macs_720p, "latency": base_latency, "metrics": {},
                     "train": None})
    if args.cards_only:
        print(f"wrote the cards of {', '.join(r['name'] for r in rows if r.get('train') is not None)}")
        return 0
    text = render(rows, args, machine_description(), dncnn)
    if pending:
        text += f"\nPending (trained, not evaluated yet when this page was made): {', '.join(pending)}.\n"
    print(text)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2, default=str))
    if not args.no_write:
        atomic_write(DOC, text)
        print(f"wrote {DOC}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
