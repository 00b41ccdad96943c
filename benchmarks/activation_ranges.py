"""Per-layer activation ranges of every zoo architecture on real image patches.

Why: image-to-image nets lose dB under full-INT8 when one tensor spans a wide range (one
scale for the whole tensor). This script records, for the *deploy* form of each model (what
the exporters see), min / max / 0.1 and 99.9 percentiles of every module output over real
patches from ``shared/data/train`` (blurred with real Levin et al. kernels for deblur models,
Gaussian noise sigma 25/255 for denoise models), and writes ``docs/activation_ranges.md``
(+ ``.json``). Trained weights are used when ``models/weights/<name>.safetensors`` exists;
otherwise the net is random-init with BatchNorm statistics recalibrated on the same patches
and NAF layer scales set to 1 (so every branch is exercised) - the report says which.

Run: ``nice -n 10 .venv/bin/python benchmarks/activation_ranges.py`` (about 1-3 min, 2 cores).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from torch import nn

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data"


def load_patches(data: Path, n: int, size: int, seed: int) -> np.ndarray:
    """``n`` seeded random ``size``x``size`` RGB crops (float32 [0, 1]) from BSDS500 train."""
    from edgedeblur.io import list_images, read_image, to_float

    files = sorted(list_images([data / "train" / "bsds500_train"]))
    rng = np.random.default_rng(seed)
    patches = []
    for path in rng.choice(files, size=n, replace=len(files) < n):
        img = to_float(read_image(path))
        if img.ndim == 2:
            img = np.repeat(img[:, :, None], 3, axis=2)
        y = rng.integers(0, img.shape[0] - size + 1)
        x = rng.integers(0, img.shape[1] - size + 1)
        patches.append(img[y:y + size, x:x + size])
    return np.stack(patches).transpose(0, 3, 1, 2).astype(np.float32)


def degrade(clean: np.ndarray, task: str, data: Path, seed: int) -> np.ndarray:
    """Model inputs: blur with a real Levin kernel (deblur), add sigma-25 noise (denoise)."""
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(seed + 1)
    out = clean.copy()
    if task in ("deblur", "joint"):
        kernels = sorted((data / "kernels" / "levin09").glob("*.npy"))
        for i in range(len(out)):
            k = np.load(kernels[i % len(kernels)])
            for c in range(3):
                out[i, c] = fftconvolve(np.pad(clean[i, c], k.shape[0], mode="reflect"), k, "same")[
                    k.shape[0]:-k.shape[0], k.shape[0]:-k.shape[0]]
    if task in ("denoise", "joint"):
        out = out + rng.normal(0, 25 / 255, out.shape).astype(np.float32)
    return out.astype(np.float32)


def prepare(name: str, inputs: torch.Tensor) -> tuple[nn.Module, str]:
    """Deploy form of ``name``: trained if weights exist, else BN-recalibrated random init."""
    import edgedeblur.models as zoo

    if zoo.weights_path(name).is_file():
        return zoo.create_model(name).to_deploy(), "trained"
    from edgedeblur.train import recalibrate_bn

    torch.manual_seed(0)
    model = zoo.create_model(name, pretrained=False)
    for mod in model.modules():
        for pname in ("beta", "gamma"):
            if isinstance(getattr(mod, pname, None), nn.Parameter):
                nn.init.ones_(getattr(mod, pname))
    # BN statistics: the plain average over the calibration batches (the trainer's precise BN)
    recalibrate_bn(model, (batch.numpy() for batch in inputs.split(4)))
    return model.to_deploy(), "random init, BN recalibrated on the patches"


def record_ranges(model: nn.Module, inputs: torch.Tensor) -> dict[str, dict[str, float]]:
    """min/max/p0.1/p99.9 of every module output (percentiles from a seeded subsample)."""
    stats: dict[str, dict[str, list]] = {}
    rng = np.random.default_rng(0)

    def hook(name: str):
        def fn(_mod: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
            if not isinstance(out, torch.Tensor):
                return
            flat = out.detach().reshape(-1).numpy()
            sample = flat[rng.integers(0, flat.size, min(flat.size, 50_000))]
            lo, hi = np.percentile(sample, [0.1, 99.9])
            s = stats.setdefault(name, {"min": [], "max": [], "lo": [], "hi": []})
            s["min"].append(float(flat.min()))
            s["max"].append(float(flat.max()))
            s["lo"].append(float(lo))
            s["hi"].append(float(hi))
        return fn

    handles = [m.register_forward_hook(hook(n or "(model output)"))
               for n, m in _tensor_modules(model)]
    try:
        with torch.no_grad():
            for batch in inputs.split(4):
                model(batch)
    finally:
        for h in handles:
            h.remove()
    return {
        n: {"min": min(s["min"]), "max": max(s["max"]),
            "p0.1": float(np.median(s["lo"])), "p99.9": float(np.median(s["hi"]))}
        for n, s in stats.items()
    }


def _tensor_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Modules whose output is a tensor a converter keeps (INT8 gets its own scale).

    Skipped: containers and identities (same tensor as a child), and a conv directly followed
    by its block's activation (Conv+ReLU6 is fused by every converter: only the activation's
    output exists). The model itself is listed last, as "(model output)".
    """
    fused: set[int] = set()
    for mod in model.modules():
        act = getattr(mod, "act", None)
        if isinstance(act, nn.Module):  # conv(-bn)(-act) block: one tensor, the block's output
            for child in ("conv", "bn", "merged", "act"):
                if isinstance(getattr(mod, child, None), nn.Module):
                    fused.add(id(getattr(mod, child)))
    keep = [(n, m) for n, m in model.named_modules()
            if n and id(m) not in fused and not isinstance(m, (nn.Identity, nn.Sequential, nn.ModuleList))]
    return keep + [("", model)]


def summarise(ranges: dict[str, dict[str, float]], top: int = 5) -> dict:
    """Widest layers by max-min span, and the output tensor's range."""
    spans = sorted(ranges.items(), key=lambda kv: kv[1]["max"] - kv[1]["min"], reverse=True)
    last = ("(model output)", ranges["(model output)"])
    return {
        "layers": len(ranges),
        "widest": [{"layer": n, **r, "span": r["max"] - r["min"]} for n, r in spans[:top]],
        "median_span": float(np.median([r["max"] - r["min"] for r in ranges.values()])),
        "output": {"layer": last[0], **last[1]},
    }


def write_report(results: dict, meta: dict, out_md: Path) -> None:
    lines = [
        "# Activation ranges of the zoo (deploy form)",
        "",
        "Generated by `benchmarks/activation_ranges.py`; do not edit by hand. "
        f"{meta['patches']} patches of {meta['size']}x{meta['size']} from `shared/data/train/bsds500_train` "
        f"(seed {meta['seed']}); deblur inputs blurred with the Levin et al. kernels, denoise inputs with "
        f"sigma 25/255 Gaussian noise. Machine: {meta['machine']}; {meta['date']}.",
        "",
        "Span = max - min of one module's output over all patches: one INT8 scale covers it, so a span "
        "of 12 means steps of 0.047. For contrast, the test U-Net in `/work/shared/toolchain-notes.md` "
        "(Hardswish, 1x1 conv before PixelShuffle) had spans of about 113-243 and lost 2.7 dB as "
        "full-integer TFLite. Tensors are module outputs a converter keeps: a conv followed by its "
        "block's ReLU6 is counted once (the fused output), containers and identities not at all.",
        "",
        "| model | weights | tensors | median span | widest tensor | its min / max (p0.1 / p99.9) | output range |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, res in results.items():
        s = res["summary"]
        w = s["widest"][0]
        o = s["output"]
        lines.append(
            f"| {name} | {res['weights']} | {s['layers']} | {s['median_span']:.2f} | `{w['layer']}` | "
            f"{w['min']:.2f} / {w['max']:.2f} ({w['p0.1']:.2f} / {w['p99.9']:.2f}) | "
            f"{o['min']:.3f} .. {o['max']:.3f} |")
    lines += ["", "## Five widest layers per model", ""]
    for name, res in results.items():
        lines.append(f"**{name}**: " + "; ".join(
            f"`{w['layer']}` {w['min']:.2f}..{w['max']:.2f}" for w in res["summary"]["widest"]))
        lines.append("")
    out_md.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    import edgedeblur.models as zoo

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", help="names (default: one per architecture)")
    parser.add_argument("--patches", type=int, default=16)
    parser.add_argument("--size", type=int, default=128, help="patch side (a multiple of 32)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "activation_ranges.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    names = args.models or _one_per_architecture(zoo)
    clean = load_patches(args.data, args.patches, args.size, args.seed)
    results = {}
    for name in names:
        task = zoo.get_card(name).task
        inputs = torch.from_numpy(degrade(clean, task, args.data, args.seed))
        model, weights = prepare(name, inputs)
        ranges = record_ranges(model, inputs)
        results[name] = {"weights": weights, "task": task, "summary": summarise(ranges), "layers": ranges}
        print(f"{name}: widest {results[name]['summary']['widest'][0]['span']:.2f}", file=sys.stderr)
    meta = {"patches": args.patches, "size": args.size, "seed": args.seed,
            "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads",
            "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(results, meta, args.out)
    args.out.with_suffix(".json").write_text(json.dumps({"meta": meta, "models": results}, indent=1))
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
    return 0


def _one_per_architecture(zoo) -> list[str]:  # noqa: ANN001
    seen: dict[str, str] = {}
    for name in zoo.list_models():
        entry = zoo._registry._REGISTRY[name]
        seen.setdefault(f"{entry.family}:{sorted(entry.arch.items())}", name)
    return sorted(seen.values())


if __name__ == "__main__":
    raise SystemExit(main())
