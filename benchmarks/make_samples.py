"""Make the README quick-start samples in ``samples/`` from one BSDS500 *training* photo.

Why: the quick start (``edge-deblur samples/*.png -o out/``) needs small degraded inputs that
anyone may redistribute and that never leak the evaluation sets. Everything is derived here, with
a fixed seed, from ``../shared/data/train/bsds500_train/<PHOTO>.jpg``:

* ``samples/blurred_shake.png``: the whole photo (481x321: blind kernel estimation needs edges
  in many directions; on a 256x192 crop, 27 px of shake is 14 % of the height: tried on five
  training photos x Levin kernels 1, 4 and 6, the blind estimate failed far more often on such
  crops than on the whole photos), blurred by the real Levin et al. 2009 camera-shake kernel 4 (27x27),
  moved onto its centroid (``edgedeblur.degrade.centre_kernel``: as published it also shifts
  the image by 2-3 px, a translation no blind method can know, which would make the PSNR
  against the clean crop measure the shift instead of the blur), applied in linear light with mild sensor noise (Gaussian sigma 1 on the 0-255 scale, linear),
  then sRGB gamma and 8-bit rounding: the camera order of ``edgedeblur.degrade``.
* ``samples/blurred_shake.kernel.npy``: that kernel (float32, true-convolution PSF, sum 1).
* ``samples/noisy_sigma25.png``: white Gaussian noise sigma 25 added in sRGB, clipped and
  rounded to 8 bit (what a saved noisy file can hold).
* ``samples/clean/blurred_shake.png``, ``samples/clean/noisy_sigma25.png``: the clean crops,
  named like their degraded versions so evaluators can pair them by file name.

    .venv/bin/python benchmarks/make_samples.py            # rewrites samples/, prints sizes/PSNR
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
PHOTO = "135069"  # a BSDS500 training photo with smooth sky and hard edges (small PNGs)
CROP = (192, 256)  # height, width of the noisy sample's crop
SEED = 20261122
MAX_TOTAL_BYTES = 600_000


def _crop(image: np.ndarray, top: int, left: int) -> np.ndarray:
    h, w = CROP
    return np.ascontiguousarray(image[top: top + h, left: left + w])


def main(argv: list[str] | None = None) -> int:
    from edgedeblur.degrade import (
        Degradation,
        centre_kernel,
        degrade,
        load_kernel,
        parse_degradation,
    )
    from edgedeblur.degrade._sidecar import save_npy
    from edgedeblur.io import from_float, read_image, to_float, write_image
    from edgedeblur.metrics import psnr

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data", help="shared data folder")
    parser.add_argument("--out", type=Path, default=REPO / "samples", help="samples folder")
    args = parser.parse_args(argv)

    photo = args.data / "train" / "bsds500_train" / f"{PHOTO}.jpg"
    image = read_image(photo)
    h, w = image.shape[:2]
    (args.out / "clean").mkdir(parents=True, exist_ok=True)

    # the blurred sample is the whole photo, the noisy one a crop of its right half
    clean_blur = np.ascontiguousarray(image)
    clean_noise = _crop(image, (h - CROP[0]) // 2, w - CROP[1])

    kernel = centre_kernel(load_kernel(args.data / "kernels" / "levin09" / "levin09_k4.npy"))
    camera = parse_degradation(noise="gaussian:sigma=1")  # linear light, clip, 8 bit
    blurred = degrade(to_float(clean_blur), camera, [SEED, 1], kernel=kernel).degraded
    noisy_spec = Degradation(noise=parse_degradation(noise="gaussian:sigma=25").noise, linear=False)
    noisy = degrade(to_float(clean_noise), noisy_spec, [SEED, 2]).degraded

    written = [
        write_image(args.out / "blurred_shake.png", from_float(blurred, np.uint8)),
        write_image(args.out / "noisy_sigma25.png", from_float(noisy, np.uint8)),
        write_image(args.out / "clean" / "blurred_shake.png", clean_blur),
        write_image(args.out / "clean" / "noisy_sigma25.png", clean_noise),
    ]
    written.append(save_npy(args.out / "blurred_shake.kernel.npy", kernel))

    total = sum(p.stat().st_size for p in written)
    for p in written:
        print(f"{p.relative_to(args.out.parent)}: {p.stat().st_size / 1000:.1f} kB")
    print(f"total {total / 1000:.1f} kB (limit {MAX_TOTAL_BYTES / 1000:.0f} kB); from {photo.name}, seed {SEED}")
    print(f"PSNR blurred_shake vs clean: {psnr(clean_blur, from_float(blurred, np.uint8)):.2f} dB")
    print(f"PSNR noisy_sigma25 vs clean: {psnr(clean_noise, from_float(noisy, np.uint8)):.2f} dB")
    return 0 if total <= MAX_TOTAL_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
