"""Time the deblur pipeline on this machine: 720p frames and whole photos, medians per stage.

    .venv/bin/python benchmarks/deblur_speed.py --artifacts exported/mnv2unet_m_prior.*.manifest.json

Input: a real photo (the first validation photo of the training split) resized to 1280x720,
blurred with a 21 px synthetic shake kernel + sigma 2.55 noise, 8 bit. Interleaved rounds in
one process (``--rounds``, median reported), so the ratios are comparable on a shared machine:

* the data step alone (one Wiener step, float32 numpy + scipy.fft, ``EDGEDEBLUR_FFT_WORKERS``);
* the whole non-blind pipeline with each exported prior (runtime runner, any backend) and
  with the PyTorch prior (``--torch``), which is what ``edge-deblur --kernel`` runs;
* blind kernel estimation on a 481x321 photo and on the 720p frame (its default time budget).

Writes benchmarks/results/deblur_speed.json with the load average before and after.
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

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
OUT = REPO / "benchmarks" / "results" / "deblur_speed.json"


def _frame() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import cv2

    from edgedeblur.degrade import blur_image, camera_shake_kernel, centre_kernel
    from edgedeblur.io import list_images, read_image, to_float

    photo = to_float(read_image(list_images([DATA / "train/bsds500_test"], recursive=False)[-8]))
    big = cv2.resize(photo, (1280, 720), interpolation=cv2.INTER_CUBIC)
    k = centre_kernel(camera_shake_kernel(21, np.random.default_rng(7)))
    rng = np.random.default_rng(0)
    y = np.clip(blur_image(big, k) + rng.normal(0, 2.55 / 255, big.shape), 0, 1)
    return (np.round(y * 255) / 255).astype(np.float32), k, photo


def _median_ms(fn, rounds: int) -> float:  # noqa: ANN001
    fn()  # warm-up (compilation, caches)
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    from edgedeblur._eval_result import machine_description
    from edgedeblur.io import atomic_write
    from edgedeblur.runtime import load_pipeline
    from edgedeblur.runtime.deconv import wiener_deconvolve
    from edgedeblur.runtime.kernel_estimate import estimate_kernel

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--artifacts", nargs="*", default=[], help="manifests written by edge-export deblur")
    p.add_argument("--torch", action="store_true", help="also time the PyTorch prior")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=2, help="backend threads (default: both cores)")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    y, k, photo = _frame()
    mp = y.shape[0] * y.shape[1] / 1e6
    load_before = os.getloadavg()
    rows: dict[str, dict] = {}

    def record(name: str, ms: float, megapixels: float = mp) -> None:
        rows[name] = {"ms": round(ms, 1), "s_per_mp": round(ms / 1000 / megapixels, 3)}
        print(f"  {name:44s} {ms:8.1f} ms  ({ms / 1000 / megapixels:.3f} s/MP)", flush=True)

    print(f"1280x720 frame, {k.shape[0]} px shake kernel, {args.rounds} rounds (median)")
    record("data step (Wiener, numpy)", _median_ms(lambda: wiener_deconvolve(y, k, sigma=2.55, prior_scale=30),
                                                   args.rounds))
    for manifest in args.artifacts:
        pipe = load_pipeline(manifest, threads=args.threads)
        art = pipe.prior.manifest.data["artifact"]
        passed = (pipe.prior.manifest.data.get("parity") or {}).get("passed")
        record(f"pipeline, prior {art.get('target')} ({pipe.prior.info.name})" + ("" if passed else ", parity FAILED"),
               _median_ms(lambda pipe=pipe: pipe.restore(y, kernel=k, sigma=2.55), args.rounds))
        pipe.prior.close()
    if args.torch:
        import torch

        from edgedeblur.methods import get_method

        torch.set_num_threads(args.threads)
        pipe = get_method("deblur")
        record("pipeline, prior PyTorch (eager)", _median_ms(lambda: pipe.restore(y, kernel=k, sigma=2.55),
                                                              max(1, args.rounds // 2)))
    small = np.clip(photo, 0, 1)
    est = estimate_kernel(small)
    record(f"kernel estimation, {small.shape[1]}x{small.shape[0]} photo", 1000 * est.seconds,
           small.shape[0] * small.shape[1] / 1e6)
    est = estimate_kernel(y)
    record("kernel estimation, 1280x720 frame", 1000 * est.seconds)
    out = {"machine": machine_description(), "frame": "1280x720", "kernel_px": int(k.shape[0]),
           "rounds": args.rounds, "threads": args.threads, "load_before": [round(v, 2) for v in load_before],
           "load_after": [round(v, 2) for v in os.getloadavg()], "rows": rows}
    if not args.no_write:
        text = json.dumps(out, indent=2) + "\n"
        atomic_write(OUT, lambda t: t.write_text(text, encoding="utf-8"))
        print(f"wrote {OUT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
