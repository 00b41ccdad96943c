"""Blind deblur settings on the camera validation split, with the kernel estimates held fixed.

``deblur_eval.py --sweep-blind`` re-estimates the kernel for every setting; on a shared machine
the estimator's time budget then stops it at different points from run to run (measured: 0.4 dB
of run-to-run spread in the blind mean). This script estimates each photo's kernel once, with a
generous budget (30 s) so load cannot cut it short, caches the estimates, and then runs every
setting of the pipeline after the estimate (refinement passes and rounds, fit check, domain) on
the same estimates, so only the setting differs:

    EDGEDEBLUR_FFT_WORKERS=1 OMP_NUM_THREADS=1 .venv/bin/python benchmarks/blind_settings_sweep.py \\
        '[{}, {"refine_passes": 1, "refine_rounds": 3}]' [--jpeg]

The cases are deblur_eval's validation split (8 held-out photos x 3 shake kernels, camera
order: linear-light blur, Poisson-Gaussian noise, gamma, 8 bit; ``--jpeg``: quality 90). Each
argument is a JSON list of ``PipelineConfig`` overrides; the mean PSNR and the per-case values
are printed, with the PSF source per case (e: estimated, f: no usable edges, R: refuted by the
fit check).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pickle
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import deblur_eval  # noqa: E402  (the split is defined there, once)

CACHE = Path(tempfile.gettempdir()) / "edgedeblur_blind_sweep"


def cases(jpeg: bool) -> list[tuple]:
    """(clean, degraded, PSFInfo of the estimate) per case, cached on disk per split."""
    from edgedeblur.methods import get_method

    path = CACHE / f"camera{'_jpeg90' if jpeg else ''}.pkl"
    if path.exists():
        with path.open("rb") as f:
            return pickle.load(f)
    estimator = get_method("deblur", estimator={"kernel_size": 31, "max_side": 512, "time_budget_s": 30.0,
                                                "min_confidence": 0.02})
    out = [(clean, y, estimator._kernel(y, None)) for _name, clean, _true, y in deblur_eval.camera_split(jpeg)]
    CACHE.mkdir(exist_ok=True)
    with path.open("wb") as f:
        pickle.dump(out, f)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", help='JSON list of PipelineConfig overrides, e.g. \'[{}, {"refine_passes": 1}]\'')
    parser.add_argument("--jpeg", action="store_true", help="the JPEG quality-90 split")
    args = parser.parse_args(argv)
    import logging

    from edgedeblur.methods import get_method
    from edgedeblur.metrics import psnr

    logging.disable(logging.WARNING)  # the fit check's fallbacks are shown per case instead
    data = cases(args.jpeg)
    for opts in json.loads(args.settings):
        pipe = get_method("deblur", **opts)
        scores, sources = [], ""
        for clean, y, psf in data:
            # a copy of the cached estimate: the pipeline appends to its note
            pipe._kernel = lambda image, kernel, psf=psf: dataclasses.replace(psf)
            scores.append(psnr(clean, pipe.restore(y)))
            note = pipe.last_psf.note
            sources += "R" if "rejected" in note else pipe.last_psf.source[0]
        print(f"{json.dumps(opts)}: {statistics.fmean(scores):.3f} dB  {sources}  "
              f"{[round(v, 1) for v in scores]}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
