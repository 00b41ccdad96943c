"""The evidence ``linear="auto"`` decides on: does the sRGB or the linear-light blur model explain a photo?

For the 8 validation photos (the last 8 of ``train/bsds500_test``, never trained on) x 2 seeded
shake kernels (13-27 px), blurred three ways: in linear light with Poisson-Gaussian sensor noise
(a camera), the same with JPEG q90, and in sRGB with Gaussian noise sigma 0-5 (a synthetic
benchmark). For each, :func:`edgedeblur.runtime.pipeline.domain_evidence` with the true kernel:
the relative advantage of the sRGB model's fit residual. The pipeline picks sRGB above
``PipelineConfig.domain_margin``; the printout shows how the three kinds spread around it.

    EDGEDEBLUR_FFT_WORKERS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/deblur_domain_eval.py
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
NOISE = "poisson-gaussian:gain=0.0005-0.004,read=0.002-0.006"


def main(argv: list[str] | None = None) -> int:
    from edgedeblur.degrade import camera_shake_kernel, degrade, parse_degradation
    from edgedeblur.io import read_image, to_float
    from edgedeblur.methods import get_method
    from edgedeblur.runtime.pipeline import PipelineConfig, domain_evidence

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", help="prior weights of a training run (default: the shipped prior)")
    p.add_argument("--crop", type=int, default=320, help="domain_evidence's crop (the pipeline uses 320)")
    args = p.parse_args(argv)
    pipe = get_method("deblur", **({"weights": args.weights} if args.weights else {}))
    kinds = {"linear-light blur (camera)": parse_degradation(noise=NOISE, linear=True),
             "linear-light blur + JPEG q90": parse_degradation(noise=NOISE, linear=True, jpeg=90),
             "sRGB blur (synthetic)": parse_degradation(noise="gaussian:sigma=0-5", linear=False)}
    photos = sorted((DATA / "train" / "bsds500_test").glob("*.jpg"))[-8:]
    margin = PipelineConfig().domain_margin
    print(f"sRGB chosen above domain_margin = {margin:g}")
    for name, spec in kinds.items():
        ev = []
        for i, path in enumerate(photos):
            for j in range(2):
                k = camera_shake_kernel(13 + 2 * ((i + 3 * j) % 8), np.random.default_rng(500 + 8 * j + i))
                y = degrade(to_float(read_image(path)), spec, [7, i, j], kernel=k).degraded
                ev.append(domain_evidence(pipe, y, k, pipe._sigma(y, None, True), crop=args.crop))
        ev = np.sort(np.asarray(ev))
        print(f"{name:30s} min {ev[0]:+.3f} median {np.median(ev):+.3f} max {ev[-1]:+.3f}; "
              f"sRGB chosen {int((ev > margin).sum())}/{len(ev)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
