"""How good is blind kernel estimation (``edgedeblur.runtime.kernel_estimate``) for Wiener?

Per photo: PSNR of the blurred input, of Wiener with the true kernel, of Wiener with the
estimated kernel (both at the true noise sigma 2.55), and the seconds the estimation took.

* ``--set val`` (default, the one to tune on): the last 8 photos of train/bsds500_test (the
  project's validation photos), each blurred by its own synthetic camera-shake kernel
  (``camera_shake_kernel``, sizes 13-27 px, seeded), noise sigma 2.55/255, 8-bit quantised.
* ``--set sharp``: the same photos unblurred (noise and quantisation only): the estimate must
  not make Wiener worse than the input.
* ``--set levin``: the 8 Levin et al. 2009 kernels (centred) x the first 4 CBSD68 photos, same
  noise. A check only, run once at the end: do not tune on it.
* ``--set val24``: benchmarks/blind_refine_eval.py's cases (the same 8 photos x 3 kernels each),
  sigma 2.55, 8 bit; ``--domain linear`` blurs in linear light.
* ``--set camera`` / ``camera-sharp``: benchmarks/deblur_eval.py's validation split (8 photos x 3
  kernels, blur in linear light, Poisson-Gaussian noise, gamma, 8 bit; ``--jpeg``: quality 90),
  and the same photos unblurred; sigma unknown, as in the pipeline: the estimator estimates it,
  Wiener uses ``estimate_noise_sigma``. The rows keep the sharpness test's and the pyramid's
  kernel radii (``test_spread_px``, ``pyramid_spread_px``) that the "sharp" thresholds were set from.

The summary gives median and mean gap (Wiener with the true kernel minus with the estimate).

    EDGEDEBLUR_FFT_WORKERS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \
        .venv/bin/python benchmarks/kernel_estimate_eval.py --set val --json /tmp/val.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

from edgedeblur.degrade import (
    add_gaussian_noise,
    blur_image,
    camera_shake_kernel,
    centre_kernel,
    load_kernel,
    quantize,
)
from edgedeblur.io import read_image, to_float
from edgedeblur.metrics import psnr
from edgedeblur.runtime.deconv import (
    MIN_SIGMA,
    estimate_noise_sigma,
    linear_to_srgb,
    srgb_to_linear,
    wiener_deconvolve,
)
from edgedeblur.runtime.kernel_estimate import estimate_kernel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))  # the other benchmarks' case lists
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
SIGMA = 2.55
SHAKE_SIZES = (13, 15, 17, 19, 21, 23, 25, 27)


def cases(which: str) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """(name, clean image, true kernel or None for unblurred) for one evaluation set."""
    if which in ("val", "sharp"):
        photos = sorted((DATA / "train" / "bsds500_test").glob("*.jpg"))[-8:]
        out = []
        for i, path in enumerate(photos):
            kernel = camera_shake_kernel(SHAKE_SIZES[i], rng=1000 + i) if which == "val" else None
            out.append((path.stem, to_float(read_image(path)), kernel))
        return out
    if which == "levin":
        photos = sorted((DATA / "eval" / "cbsd68").glob("*.png"))[:4]
        kernels = sorted((DATA / "kernels" / "levin09").glob("*.npy"))
        return [(f"{p.stem}/{k.stem}", to_float(read_image(p)), centre_kernel(load_kernel(k)))
                for p in photos for k in kernels]
    if which == "val24":
        from blind_refine_eval import cases as val24_cases

        return [(name, clean, kernel) for name, clean, kernel, _seed in val24_cases("val")]
    raise SystemExit(f"unknown set {which!r}: use val, sharp, levin or val24")


def observe(clean: np.ndarray, kernel: np.ndarray | None, seed: int, domain: str) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kernel is None:
        blurred = clean
    elif domain == "linear":
        blurred = linear_to_srgb(np.clip(blur_image(srgb_to_linear(clean), kernel), 0.0, 1.0))
    else:
        blurred = blur_image(clean, kernel)
    return quantize(add_gaussian_noise(blurred, SIGMA, rng))


def run_case(name: str, clean: np.ndarray, kernel: np.ndarray | None, observed: np.ndarray,
             sigma: float | None, args: argparse.Namespace) -> dict:
    """``sigma``: the noise level known to the estimator and Wiener (None: estimated)."""
    est = estimate_kernel(observed, kernel_size=args.kernel_size, max_side=args.max_side,
                          time_budget_s=args.budget, sigma=None if args.blind_sigma else sigma)
    s = sigma if sigma is not None else max(estimate_noise_sigma(observed), MIN_SIGMA)
    row = {
        "image": name,
        "kernel_px": None if kernel is None else int(kernel.shape[0]),
        "psnr_input": psnr(clean, observed),
        "psnr_true": None if kernel is None else psnr(clean, wiener_deconvolve(observed, kernel, sigma=s)),
        "psnr_est": psnr(clean, wiener_deconvolve(observed, est.kernel, sigma=s)),
        "test_spread_px": est.info.get("test_spread_px"),
        "spread_px": est.info.get("spread_px"),
        "pyramid_spread_px": est.info.get("pyramid_spread_px"),
        "seconds": est.seconds,
        "cpu_seconds": est.info.get("cpu_seconds"),
        "confidence": est.confidence,
        "sharp": est.sharp,
        "est_px": int(est.kernel.shape[0]),
        "stopped": est.info.get("stopped"),
        "iterations": est.info.get("iterations"),
    }
    if args.save_kernels:
        row["kernel"] = est.kernel.round(5).tolist()
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="val", choices=["val", "sharp", "levin", "val24", "camera", "camera-sharp"])
    parser.add_argument("--domain", default="srgb", choices=["srgb", "linear"], help="val24: where the blur happens")
    parser.add_argument("--jpeg", action="store_true", help="camera sets: with a JPEG quality-90 round trip")
    parser.add_argument("--json", type=Path, help="write the rows and medians here")
    parser.add_argument("--kernel-size", type=int, default=31)
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--budget", type=float, default=3.0, help="time_budget_s")
    parser.add_argument("--blind-sigma", action="store_true", help="let the estimator estimate sigma")
    parser.add_argument("--limit", type=int, default=0, help="only the first N cases")
    parser.add_argument("--save-kernels", action="store_true")
    args = parser.parse_args(argv)
    if not (DATA / "README.md").exists():
        print(f"shared data not found at {DATA} (set EDGEDEBLUR_DATA)", file=sys.stderr)
        return 2
    if args.set.startswith("camera"):
        from deblur_eval import camera_split

        todo = [(n, c, k, y, None) for n, c, k, y in camera_split(args.jpeg, sharp=args.set == "camera-sharp")]
    else:
        todo = [(n, c, k, observe(c, k, 10 * (i // 3) + i % 3 if args.set == "val24" else i, args.domain), SIGMA)
                for i, (n, c, k) in enumerate(cases(args.set))]
    todo = todo[: args.limit] if args.limit else todo
    rows = []
    print(f"{'image':<18} {'k':>3} {'input':>6} {'true':>6} {'est':>6} {'gap':>5} {'sec':>5} "
          f"{'conf':>5} {'k_est':>5}")
    for name, clean, kernel, observed, sigma in todo:
        row = run_case(name, clean, kernel, observed, sigma, args)
        rows.append(row)
        true = row["psnr_true"] if row["psnr_true"] is not None else row["psnr_input"]
        print(f"{name:<18} {row['kernel_px'] or 0:>3} {row['psnr_input']:6.2f} {true:6.2f} "
              f"{row['psnr_est']:6.2f} {true - row['psnr_est']:5.2f} {row['seconds']:5.2f} "
              f"{row['confidence']:5.2f} {row['est_px']:>5}{' sharp' if row['sharp'] else ''}"
              f"{'  ' + row['stopped'] if row['stopped'] not in (None, 'sharp') else ''}", flush=True)
    ref = "psnr_true" if not args.set.endswith("sharp") else "psnr_input"
    medians = {key: statistics.median(r[key] for r in rows)
               for key in ("psnr_input", ref, "psnr_est", "seconds", "confidence")}
    medians["gap_db"] = statistics.median(r[ref] - r["psnr_est"] for r in rows)
    medians["mean_gap_db"] = statistics.fmean(r[ref] - r["psnr_est"] for r in rows)
    medians["worst_gap_db"] = max(r[ref] - r["psnr_est"] for r in rows)
    medians["called_sharp"] = sum(r["sharp"] for r in rows)
    print("median " + "  ".join(f"{k} {v:.2f}" for k, v in medians.items()))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"set": args.set, "sigma": SIGMA, "args": {
            k: str(v) for k, v in vars(args).items()}, "medians": medians, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
