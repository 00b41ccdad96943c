"""Protocol check: colour BM3D on CBSD68 at sigma 25 must score 30.71 +- 0.15 dB (published CBM3D).

Why: if our noise model, quantisation or PSNR differ from the papers' protocol, every number we
publish for the zoo is off by an unknown amount. BM3D is deterministic and has a published
figure on this exact set, so it pins the whole evaluation chain (degrade -> method -> metrics).

Run (about 20 s per image on 2 cores, ~25-40 min for the 68 images):

    nice -n 10 .venv/bin/python benchmarks/bm3d_cbsd68.py \
        --data ../shared/data/eval/cbsd68 --json benchmarks/results/bm3d_cbsd68.json

It goes through ``edgedeblur.evaluate.evaluate`` - the library behind ``edge-eval`` - with the
registry's ``bm3d`` method and ``edgedeblur.degrade.paper_awgn`` when they are installed, and
otherwise with equivalent local objects (named in the output), so the check can run before those
land. Exit status 0 when within tolerance, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

PUBLISHED_CBM3D_SIGMA25 = 30.71
TOLERANCE_DB = 0.15
REPO = Path(__file__).resolve().parents[1]


class _LocalBM3D:
    """Colour BM3D from the ``bm3d`` package, sigma_psd = sigma/255, input not clipped."""

    name = "bm3d (local: bm3d.bm3d_rgb)"
    needs_kernel = False
    needs_sigma = True

    def restore(self, image: np.ndarray, *, kernel=None, sigma: float | None = None) -> np.ndarray:  # noqa: ANN001
        import bm3d

        return np.asarray(bm3d.bm3d_rgb(image, sigma / 255.0), dtype=np.float32)


class _LocalPaperAWGN:
    """The papers' noise: x + N(0, (sigma/255)^2) in float on [0, 1], seeded, no clipping."""

    def __init__(self, sigma: float) -> None:
        self.sigma = sigma

    def describe(self) -> str:
        return f"paper AWGN sigma={self.sigma:g} (local)"

    def apply(self, clean: np.ndarray, seed: int, kernel):  # noqa: ANN001, ANN201
        rng = np.random.default_rng(seed)
        noise = rng.standard_normal(clean.shape) * (self.sigma / 255.0)
        return (clean + noise).astype(np.float32), None, self.sigma


def _method():  # noqa: ANN202
    from edgedeblur.errors import UnknownNameError
    from edgedeblur.methods import get_method

    try:
        return get_method("bm3d")
    except UnknownNameError:
        return _LocalBM3D()


def _degradation(sigma: float):  # noqa: ANN202
    try:
        from edgedeblur.degrade import paper_awgn
    except ImportError:
        return _LocalPaperAWGN(sigma)
    return paper_awgn(sigma)


def main(argv: list[str] | None = None) -> int:
    from edgedeblur.cli._common import progress
    from edgedeblur.evaluate import evaluate

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "eval" / "cbsd68"))
    parser.add_argument("--sigma", type=float, default=25.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--json", default=None, help="write the full report here")
    args = parser.parse_args(argv)

    result = evaluate(
        _method(), args.data, _degradation(args.sigma), seed=args.seed, limit=args.limit,
        progress=lambda it, n: progress(it, desc="bm3d", total=n, unit="img"),
    )
    print(result.format_table())
    print(f"method: {result.method}\ndegradation: {result.degradation}\nmachine: {result.machine}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        result.write_json(args.json)
    gap = result.psnr - PUBLISHED_CBM3D_SIGMA25
    ok = abs(gap) <= TOLERANCE_DB and not result.failures
    print(f"mean PSNR {result.psnr:.2f} dB vs published CBM3D {PUBLISHED_CBM3D_SIGMA25} dB "
          f"(gap {gap:+.2f}, tolerance {TOLERANCE_DB}): {'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
