"""Write the golden vectors of the PSF-aware deblur pipeline that the device ports must match.

The C firmware (tests/test_firmware_deblur.py) and later the Android core and the browser demo
re-implement ``edgedeblur.runtime.pipeline`` (data steps, prior rounds), ``runtime.deconv``
and ``runtime.gyro``. These vectors come from the Python runtime's public functions, so a port
that drifts from it fails its tests. Output: ``tests/golden/deblur.json`` with

- ``gyro``: a camera model and a gyro trace (400 Hz, rolling shutter) and the PSF grids
  ``gyro_psf_grid`` makes from them (1x1 and 2x3 tiles);
- ``cases``: pipeline runs on small uint8 photos (synthetic scene, blurred in linear light or
  sRGB, noise, rounding) with the kernel given or from the gyro trace: the settings
  (``PipelineConfig.to_dict()``, the domain, the PSF-grid loop with its ``grid_prior_scale`` and
  ``grid_iterations``, at the defaults and at 20 / 2 passes), the noise level used, every
  input the prior got (the data-step outputs as the prior sees them: clipped, sRGB, H x W x 3)
  with its sigma, and the final uint8 image (``io.from_float``).

The prior: ``"stand-in"`` cases use :class:`StandInPrior`, a deterministic formula any port can
re-implement (the input clipped to [0, 1], blended with its 3x3 box mean, edge replicated, by
``min(1, sigma / 25)``); the ``"mnv2unet_m_prior"`` case runs the shipped learned prior
(PyTorch, ``models.create_method``), which a port calls through its engine.

Run: ``.venv/bin/python benchmarks/make_deblur_golden.py [--check]``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from edgedeblur.io import from_float, to_float
from edgedeblur.runtime.deconv import linear_to_srgb, srgb_to_linear
from edgedeblur.runtime.gyro import (
    ANDROID_BACK_CAMERA,
    CameraModel,
    GyroLog,
    PSFGrid,
    gyro_psf_grid,
)
from edgedeblur.runtime.pipeline import DeblurPipeline, PipelineConfig

GOLDEN = Path(__file__).resolve().parent.parent / "tests" / "golden" / "deblur.json"
H, W = 24, 32


class StandInPrior:
    """Deterministic stand-in for the learned prior: ``x + min(1, sigma / 25) (box3(x) - x)``,
    ``x`` the input clipped to [0, 1] (as ``noise_map_input``), box3 with edge replication."""

    def restore(self, image: np.ndarray, *, sigma: float | None = None) -> np.ndarray:
        x = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        h, w = x.shape[:2]
        p = np.pad(x, ((1, 1), (1, 1), (0, 0)), mode="edge")
        box = sum(p[i:i + h, j:j + w] for i in range(3) for j in range(3)) / np.float32(9.0)
        a = np.float32(min(1.0, float(sigma) / 25.0))
        return (x + a * (box - x)).astype(np.float32)


class Recorder:
    """Wraps a prior and keeps what it was given (the data-step outputs, clipped)."""

    def __init__(self, prior: object) -> None:
        self.prior, self.calls = prior, []

    def restore(self, image: np.ndarray, *, sigma: float | None = None) -> np.ndarray:
        self.calls.append((float(sigma), np.clip(np.asarray(image, np.float32), 0, 1).copy()))
        return np.asarray(self.prior.restore(image, sigma=sigma), dtype=np.float32)  # type: ignore[attr-defined]


def scene(seed: int) -> np.ndarray:
    """A sharp H x W x 3 float32 scene with edges of every orientation."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    base = np.stack([((xx // 6 + yy // 5) % 2) * 0.55 + 0.2, 0.5 + 0.3 * np.sin(xx / 4 + yy / 7),
                     0.25 + 0.45 * ((xx - 15) ** 2 + (yy - 11) ** 2 < 60)], axis=2)
    return np.clip(base + rng.normal(0, 0.01, base.shape), 0, 1).astype(np.float32)


def convolve(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """``kernel * x`` (true convolution, centre kh // 2), reflected borders."""
    kh, kw = kernel.shape
    p = np.pad(x, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2), (0, 0)), mode="reflect")
    out = np.zeros_like(x, dtype=np.float64)
    for i in range(kh):
        for j in range(kw):
            out += kernel[kh - 1 - i, kw - 1 - j] * p[i:i + x.shape[0], j:j + x.shape[1]]
    return out.astype(np.float32)


def photo(seed: int, kernel: np.ndarray, linear: bool, noise: float = 2.0) -> np.ndarray:
    sharp = scene(seed)
    blurred = linear_to_srgb(convolve(srgb_to_linear(sharp), kernel)) if linear else convolve(sharp, kernel)
    rng = np.random.default_rng(seed + 100)
    return np.clip(np.round((blurred + rng.normal(0, noise / 255, blurred.shape)) * 255), 0, 255).astype(np.uint8)


def motion_kernel(size: int, seed: int) -> np.ndarray:
    """A smooth random motion path splatted into size x size (sums to 1)."""
    rng = np.random.default_rng(seed)
    k = np.zeros((size, size), np.float64)
    pos = np.array([size / 2 - 0.5, size / 2 - 0.5])
    vel = rng.normal(0, 1, 2)
    for _ in range(60):
        vel = 0.8 * vel + rng.normal(0, 0.5, 2)
        pos = np.clip(pos + 0.15 * vel, 0, size - 1.001)
        y0, x0 = np.floor(pos).astype(int)
        fy, fx = pos - (y0, x0)
        k[y0, x0] += (1 - fy) * (1 - fx)
        k[y0 + 1, x0] += fy * (1 - fx)
        k[y0, x0 + 1] += (1 - fy) * fx
        k[y0 + 1, x0 + 1] += fy * fx
    return (k / k.sum()).astype(np.float32)


def gyro_setup() -> tuple[CameraModel, GyroLog]:
    cam = CameraModel(fx=40.0, fy=39.5, cx=15.7, cy=11.4, width=W, height=H, exposure_start=0.3,
                      exposure_time=0.06, readout_time=0.02, time_offset=0.004,
                      gyro_to_camera=ANDROID_BACK_CAMERA)
    rng = np.random.default_rng(5)
    t = 0.1 + np.arange(320) / 400.0
    omega = np.cumsum(rng.normal(0, 0.04, (t.size, 3)), axis=0) * [1.0, 1.0, 0.3] + [0.9, -0.6, 0.2]
    return cam, GyroLog(t, omega)


def _floats(x: np.ndarray) -> list[float]:
    return [float(f"{v:.7g}") for v in np.asarray(x, dtype=np.float32).ravel()]


def run_case(name: str, prior_name: str, img: np.ndarray, kernel: np.ndarray, *, linear: bool,
             sigma: float | None, mode: str = "hqs", psf_grid: bool = False, record: bool = True,
             **settings: object) -> dict:
    prior = StandInPrior() if prior_name == "stand-in" else load_real_prior()
    rec = Recorder(prior)
    cfg = PipelineConfig(linear=linear, mode=mode, **settings)  # type: ignore[arg-type]
    pipe = DeblurPipeline(rec, cfg)
    if psf_grid:
        out = pipe.restore(to_float(img), psf_grid=PSFGrid.uniform(kernel, H, W), sigma=sigma)
    else:
        out = pipe.restore(to_float(img), kernel=kernel, sigma=sigma)
    assert kernel.size == 1 or pipe.last_linear == linear
    case = {"name": name, "prior": prior_name, "config": {**cfg.to_dict(), "linear": linear},
            "psf_grid": psf_grid, "sigma": sigma, "height": H, "width": W,
            "image": img.ravel().tolist(), "kernel_shape": list(kernel.shape), "kernel": _floats(kernel),
            "prior_sigmas": [s for s, _ in rec.calls],
            "output": from_float(out, np.uint8).ravel().tolist()}
    if record:
        case["prior_inputs"] = [_floats(x) for _, x in rec.calls]
    return case


_REAL: list[object] = []


def load_real_prior() -> object:
    if not _REAL:
        from edgedeblur import models
        from edgedeblur.methods import DEFAULT_DEBLUR_PRIOR

        _REAL.append(models.create_method(DEFAULT_DEBLUR_PRIOR))
    return _REAL[0]


def build() -> dict:
    cam, log = gyro_setup()
    grids = {f"{r}x{c}": gyro_psf_grid(cam, log, (r, c)).kernels for r, c in ((1, 1), (2, 3))}
    gyro_kernel = grids["1x1"][0, 0]
    k9 = motion_kernel(9, 1)
    cases = [
        run_case("linear_hqs_estimated_sigma", "stand-in", photo(1, k9, True), k9, linear=True, sigma=None),
        run_case("srgb_hqs_given_sigma", "stand-in", photo(2, k9, False), k9, linear=False, sigma=4.0),
        run_case("linear_wiener", "stand-in", photo(3, k9, True), k9, linear=True, sigma=None, mode="wiener",
                 record=False),
        run_case("gyro_psf_linear", "stand-in", photo(4, gyro_kernel, True), gyro_kernel, linear=True, sigma=None,
                 psf_grid=True),
        run_case("denoise_only", "stand-in", photo(5, np.ones((1, 1), np.float32), True, noise=6.0),
                 np.ones((1, 1), np.float32), linear=True, sigma=None, record=False),
        run_case("real_prior_linear_hqs", "mnv2unet_m_prior", photo(1, k9, True), k9, linear=True, sigma=None),
        # the gyro loop's settings away from their defaults: two prior passes, sRGB
        run_case("gyro_psf_srgb_two_passes", "stand-in", photo(6, gyro_kernel, False), gyro_kernel, linear=False,
                 sigma=3.0, psf_grid=True, grid_prior_scale=20.0, grid_iterations=2),
    ]
    camera = cam.to_dict()
    camera["readout_direction_index"] = 0
    return {
        "about": "benchmarks/make_deblur_golden.py: the deblur pipeline (runtime.pipeline/deconv/gyro) on small "
                 "photos; images H x W x 3 uint8 row-major, floats H x W x 3",
        "stand_in_prior": "x = clip(input, 0, 1); out = x + min(1, sigma / 25) * (box3(x) - x), box3 = 3x3 mean "
                          "with edge replication, float32",
        "gyro": {"camera": camera, "t": log.t.tolist(), "omega": log.omega.ravel().tolist(),
                 "grids": {k: {"shape": list(v.shape), "kernels": _floats(v)} for k, v in grids.items()}},
        "cases": cases,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed file instead of writing")
    args = ap.parse_args()
    text = json.dumps(build(), separators=(",", ":")) + "\n"
    if args.check:
        same = GOLDEN.exists() and GOLDEN.read_text() == text
        print("deblur.json:", "up to date" if same else "DIFFERS")
        sys.exit(0 if same else 1)
    GOLDEN.write_text(text)
    print(f"wrote {GOLDEN} ({len(text) // 1024} KiB)")


if __name__ == "__main__":
    main()
