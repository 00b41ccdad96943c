"""Blind deblurring with kernel refinement: how close does it get to the true kernel?

Per case (photo x kernel), the PSNR of:

* ``wiener_true``: plain Wiener with the true kernel (the goal blind deblurring must reach);
* ``true``: the deblur pipeline given the true kernel;
* ``est``: the pipeline with the blind estimate k0 (``estimate_kernel``);
* ``ref1``: k0 refined once from the pipeline's output, ``refine_kernel(y, x1, k0)``, then
  the pipeline again with it; ``ref2``: refined a second time from that output;
* ``est_shift``: the cheap alternative to refinement for the centring: the ``est`` output moved
  (band-limited) by k0's sub-pixel centroid offset, as if k0 had been centred exactly;
* ``sel``: of k0, k1, k2 the one whose pipeline output best re-explains the photo (the
  smallest ``||k * x - y||`` over the pixels whose footprint lies inside the frame);

and the seconds of the estimate, each refinement and each pipeline pass. A photo the
estimator calls sharp (a 1x1 kernel: the pipeline only denoises) is not refined: refining a
delta on the unblurred validation photos gave 3x3 kernels with 57-76 % in the middle and
changed the output by -3.0..+1.7 dB, so ``ref1``/``ref2`` repeat ``est`` there. The noise sigma
(2.55) is given to the estimator, the refinement and the pipeline.

* ``--set val`` (default, the one to tune on): the last 8 photos of train/bsds500_test (the
  project's validation photos) x 3 seeded camera-shake kernels each (``camera_shake_kernel``,
  13-27 px, every size three times; the first kernel of each photo is the one of
  benchmarks/kernel_estimate_eval.py), noise sigma 2.55/255, 8-bit quantised. ``--domain
  linear`` blurs in linear light (sRGB -> linear -> blur -> sRGB, then noise), as a camera.
* ``--set levin``: the first 4 CBSD68 photos x the 8 Levin et al. 2009 kernels (centred on
  their centroid), noise 2.55/255 in float (not quantised). A check only: do not tune on it.

    EDGEDEBLUR_FFT_WORKERS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/blind_refine_eval.py --weights /tmp/prior_stage1.safetensors
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from edgedeblur.degrade import (
    add_gaussian_noise,
    blur_image,
    camera_shake_kernel,
    centre_kernel,
    linear_to_srgb,
    load_kernel,
    quantize,
    srgb_to_linear,
)
from edgedeblur.io import read_image, to_float
from edgedeblur.methods import get_method
from edgedeblur.metrics import psnr
from edgedeblur.runtime.deconv import wiener_deconvolve
from edgedeblur.runtime.kernel_estimate import estimate_kernel, refine_kernel

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
SIGMA = 2.55
SHAKE_SIZES = (13, 15, 17, 19, 21, 23, 25, 27)
KERNELS_PER_PHOTO = 3
COLUMNS = ("wiener_true", "true", "est", "est_shift", "ref1", "ref2", "sel")


def cases(which: str) -> list[tuple[str, np.ndarray, np.ndarray, int]]:
    """(name, clean image, true kernel, noise seed) for one evaluation set."""
    if which == "val":
        photos = sorted((DATA / "train" / "bsds500_test").glob("*.jpg"))[-8:]
        out = []
        for i, path in enumerate(photos):
            clean = to_float(read_image(path))
            for j in range(KERNELS_PER_PHOTO):
                size = SHAKE_SIZES[(i + 3 * j) % len(SHAKE_SIZES)]
                kernel = camera_shake_kernel(size, rng=1000 + 8 * j + i)
                out.append((f"{path.stem}/{j}", clean, kernel, 10 * i + j))
        return out
    if which == "levin":
        photos = sorted((DATA / "eval" / "cbsd68").glob("*.png"))[:4]
        kernels = sorted((DATA / "kernels" / "levin09").glob("*.npy"))
        return [(f"{p.stem}/{k.stem[-2:]}", to_float(read_image(p)), centre_kernel(load_kernel(k)),
                 8 * a + b) for a, p in enumerate(photos) for b, k in enumerate(kernels)]
    raise SystemExit(f"unknown set {which!r}: use val or levin")


def degrade(clean: np.ndarray, kernel: np.ndarray, seed: int, which: str, domain: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if domain == "linear":
        blurred = linear_to_srgb(np.clip(blur_image(srgb_to_linear(clean), kernel), 0.0, 1.0))
    else:
        blurred = blur_image(clean, kernel)
    noisy = add_gaussian_noise(blurred, SIGMA, rng)
    return noisy if which == "levin" else quantize(noisy)


def centroid_offset(kernel: np.ndarray) -> tuple[float, float]:
    idx = np.arange(kernel.shape[0]) - (kernel.shape[0] - 1) / 2
    s = float(kernel.sum())
    return float(kernel.sum(axis=1) @ idx) / s, float(kernel.sum(axis=0) @ idx) / s


def shift_image(x: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """x moved by (dy, dx) px (content at p goes to p + d) by a Fourier phase ramp, borders
    reflected first so nothing wraps around."""
    pad = 8
    ext = np.pad(x, [(pad, pad), (pad, pad)] + [(0, 0)] * (x.ndim - 2), mode="symmetric")
    h, w = ext.shape[:2]
    ramp = np.exp(-2j * np.pi * (np.fft.fftfreq(h)[:, None] * dy + np.fft.rfftfreq(w)[None, :] * dx))
    ramp = ramp[..., None] if x.ndim == 3 else ramp
    out = np.fft.irfft2(np.fft.rfft2(ext, axes=(0, 1)) * ramp, (h, w), axes=(0, 1))
    return out[pad : pad + x.shape[0], pad : pad + x.shape[1]].astype(np.float32)


def residual(y: np.ndarray, x: np.ndarray, kernel: np.ndarray) -> float:
    """RMS of k * x - y (0-255 scale) over the pixels whose footprint lies inside the frame."""
    r = kernel.shape[0] // 2
    diff = blur_image(np.clip(x, 0.0, 1.0), kernel) - y
    return float(np.sqrt(np.mean(diff[r : diff.shape[0] - r, r : diff.shape[1] - r] ** 2)) * 255)


def run_case(pipe, name: str, clean: np.ndarray, kernel: np.ndarray, seed: int,  # noqa: ANN001
             args: argparse.Namespace) -> tuple[dict, dict]:
    y = degrade(clean, kernel, seed, args.set, args.domain)

    def restore(k: np.ndarray) -> tuple[np.ndarray, float]:
        t = time.perf_counter()
        out = pipe.restore(y, kernel=k, sigma=SIGMA)
        return out, time.perf_counter() - t

    x_true, _ = restore(kernel)
    est = estimate_kernel(y, sigma=SIGMA)
    kernels, outputs, sec_restore, sec_refine = [est.kernel], [], [], []
    for step in range(3):
        if est.sharp and step > 0:  # the pipeline refines estimated kernels only (see below)
            kernels.append(kernels[0])
            outputs.append(outputs[0])
            continue
        out, sec = restore(kernels[-1])
        outputs.append(out)
        sec_restore.append(sec)
        if step < 2 and not est.sharp:
            t = time.perf_counter()
            kernels.append(refine_kernel(y, out, kernels[-1], sigma=SIGMA))
            sec_refine.append(time.perf_counter() - t)
    res = [residual(y, x, k) for x, k in zip(outputs, kernels, strict=True)]
    best = int(np.argmin(res))
    row = {
        "case": name, "kernel_px": int(kernel.shape[0]),
        "kernel_px_est": [int(k.shape[0]) for k in kernels],
        "wiener_true": psnr(clean, wiener_deconvolve(y, kernel, sigma=SIGMA)),
        "true": psnr(clean, x_true),
        "est": psnr(clean, outputs[0]),
        "est_shift": psnr(clean, np.clip(shift_image(outputs[0], *centroid_offset(kernels[0])), 0, 1)),
        "ref1": psnr(clean, outputs[1]), "ref2": psnr(clean, outputs[2]),
        "sel": psnr(clean, outputs[best]), "sel_index": best, "residual": res,
        "sec_estimate": est.seconds, "sec_refine": sec_refine, "sec_restore": sec_restore,
        "confidence": est.confidence, "sharp": est.sharp,
    }
    saved = {"y": y, "true": kernel, **{f"k{i}": k for i, k in enumerate(kernels)},
             **{f"x{i + 1}": x for i, x in enumerate(outputs)}}
    return row, saved


def summary(rows: list[dict]) -> dict:
    out = {}
    for key in COLUMNS:
        vals = [r[key] for r in rows]
        out[key] = {"median": statistics.median(vals), "mean": statistics.fmean(vals)}
    for key in COLUMNS[2:]:
        gaps = [r[key] - r["wiener_true"] for r in rows]
        out[f"{key}_minus_wiener_true"] = {"median": statistics.median(gaps), "mean": statistics.fmean(gaps),
                                          "worst": min(gaps)}
    refined = [r for r in rows if r["sec_refine"]]
    out["seconds"] = {
        "estimate": statistics.median(r["sec_estimate"] for r in rows),
        "refine": statistics.median(s for r in refined for s in r["sec_refine"]) if refined else 0.0,
        "restore": statistics.median(s for r in rows for s in r["sec_restore"]),
        "blind_est": statistics.median(r["sec_estimate"] + r["sec_restore"][0] for r in rows),
        "blind_ref1": statistics.median(r["sec_estimate"] + sum(r["sec_restore"][:2]) + sum(r["sec_refine"][:1])
                                        for r in rows),
        "blind_ref2": statistics.median(r["sec_estimate"] + sum(r["sec_restore"]) + sum(r["sec_refine"])
                                        for r in rows),
    }
    out["estimated_sharp"] = sum(r["sharp"] for r in rows)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="val", choices=["val", "levin"])
    parser.add_argument("--weights", default="/tmp/prior_stage1.safetensors", help="the prior's weights")
    parser.add_argument("--mode", default="hqs", choices=["hqs", "wiener"], help="the pipeline's data step")
    parser.add_argument("--domain", default="srgb", choices=["srgb", "linear"], help="where the blur happens")
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "blind_refine_eval.json")
    parser.add_argument("--save-dir", type=Path, help="write each case's arrays here (npz)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases")
    args = parser.parse_args(argv)
    if not (DATA / "README.md").exists():
        print(f"shared data not found at {DATA} (set EDGEDEBLUR_DATA)", file=sys.stderr)
        return 2
    pipe = get_method("deblur", weights=args.weights, mode=args.mode)
    todo = cases(args.set)
    todo = todo[: args.limit] if args.limit else todo
    rows = []
    print(f"{'case':<12} {'k':>3} {'sizes':>9} " + " ".join(f"{c:>11}" for c in COLUMNS) + "   sec")
    for name, clean, kernel, seed in todo:
        row, saved = run_case(pipe, name, clean, kernel, seed, args)
        rows.append(row)
        if args.save_dir:
            args.save_dir.mkdir(parents=True, exist_ok=True)
            np.savez(args.save_dir / (name.replace("/", "_") + ".npz"), clean=clean, **saved)
        sizes = "/".join(str(s) for s in row["kernel_px_est"])
        sec = row["sec_estimate"] + sum(row["sec_refine"]) + sum(row["sec_restore"])
        print(f"{name:<12} {row['kernel_px']:>3} {sizes:>9} " + " ".join(f"{row[c]:11.2f}" for c in COLUMNS)
              + f" {sec:5.1f}", flush=True)
    stats = summary(rows)
    for agg in ("median", "mean"):
        print(f"{agg:<26} " + " ".join(f"{stats[c][agg]:11.2f}" for c in COLUMNS))
    for agg in ("median", "mean", "worst"):
        print(f"{agg + ' minus wiener_true':<26} {'':>23} " + " ".join(
            f"{stats[c + '_minus_wiener_true'][agg]:11.2f}" for c in COLUMNS[2:]))
    print("seconds (median): " + ", ".join(f"{k} {v:.2f}" for k, v in stats["seconds"].items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"set": args.set, "mode": args.mode, "domain": args.domain,
                                         "sigma": SIGMA, "weights": str(args.weights),
                                         "summary": stats, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
