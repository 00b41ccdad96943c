"""Fit the NIQE pristine model shipped as ``edgedeblur/metrics/niqe_model.npz``.

Why here and not the authors' model: their ``modelparameters.mat`` was fitted on 125 photos that
we do not have a licence to redistribute, and refitting keeps the whole metric reproducible from
data in this project. We fit on BSD400 (``train/bsds500_train`` + ``train/bsds500_test``), the
training split; the evaluation sets (CBSD68, Set12, McMaster...) are never used, so NIQE scores on
them are not biased towards their content.

    nice -n 10 .venv/bin/python benchmarks/fit_niqe.py            # about 3-5 min on 2 cores

Writes the model and prints how many images and sharp patches went in, plus a sanity line:
NIQE of a few CBSD68 images clean, blurred and noisy (must increase).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    from edgedeblur._progress import progress
    from edgedeblur.io import list_images, read_image, to_float
    from edgedeblur.metrics._niqe import MODEL_PATH, fit_niqe_model, niqe

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(DATA), help="the shared data folder")
    parser.add_argument("--out", default=str(MODEL_PATH), help="where to write the model (.npz)")
    args = parser.parse_args(argv)

    folders = [Path(args.data) / "train" / "bsds500_train", Path(args.data) / "train" / "bsds500_test"]
    files = list_images(folders)
    start = time.perf_counter()
    images = [read_image(f) for f in progress(files, desc="reading", unit="img")]
    model = fit_niqe_model(progress(images, desc="features", unit="img"),
                           source="BSD400 (shared/data/train/bsds500_train + bsds500_test), "
                                  "sharp 96x96 patches (> 0.75 of the image's sharpest)")
    model.save(args.out)
    print(f"fitted on {model.n_images} images, {model.n_patches} sharp patches "
          f"in {time.perf_counter() - start:.0f} s -> {args.out}")

    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(0)
    print(f"{'CBSD68 image':<14}{'clean':>8}{'blur s=2':>10}{'noise 25':>10}")
    for f in list_images([Path(args.data) / "eval" / "cbsd68"])[:5]:
        clean = to_float(read_image(f))
        blurred = gaussian_filter(clean, sigma=(2, 2, 0))
        noisy = clean + rng.standard_normal(clean.shape).astype(np.float32) * 25 / 255
        print(f"{f.name:<14}{niqe(clean):8.2f}{niqe(blurred):10.2f}{niqe(noisy):10.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
