"""Physical synthetic benchmark of gyro PSFs (``edgedeblur.runtime.gyro``): how much do gyro
sensor errors cost, and how much does a per-region PSF gain over one global PSF?

Per photo (the first 8 of CBSD68; report only, nothing is tuned on them):

1. **Scene and camera.** The observed frame is the photo minus a 32 px margin (so the blur
   near the frame border comes from real scene content, not a reflection); focal length
   ``0.75 * max(w, h)`` px (about 67 degrees across, a phone main camera), principal point at
   the centre, exposure 1/15 s (even photos) or 1/30 s (odd), rolling shutter reading top to
   bottom in 20 ms.
2. **Hand shake.** Angular velocity in camera axes: Gaussian noise band-limited to 0.5-8 Hz
   (raised-cosine band edges), pitch and yaw at equal RMS, roll at 0.4 of it, sampled at
   2 kHz; scaled so that the PSF at the frame centre spans a target drawn from 10-25 px (the
   size of the Levin et al. kernels).
3. **Blur.** Rendered from the TRUE trajectory, per pixel row: row ``y`` integrates
   ``exposure_time`` from ``readout * y / h``; each pixel averages the scene over
   ``ceil(4 * path length) + 32`` time steps, each a bilinear sample at the pixel's source
   position ``K R_mid(y)^T R(t) K^-1 x`` (so the sharp reference of every row is its
   mid-exposure view, the convention of ``gyro_psf``). ``--domain linear`` (default) renders on
   the linear-light scene and encodes the result with the sRGB curve, as a camera does, and the
   data steps then run in linear light too (as the pipeline's for a gyro PSF grid); ``srgb``
   renders on the sRGB values. Then white Gaussian noise sigma 2.55 (0-255 scale) and 8-bit
   quantisation.
4. **The gyro the deblurrer sees**: the true angular velocity in device axes (Android back
   camera mapping) sampled at ``rate`` Hz with a random phase, plus a constant per-axis bias
   (uniform in +-``bias`` rad/s), white noise ``noise`` rad/s, and timestamps late by
   ``offset`` s (the deblurrer's camera model says time_offset = 0).

Rows (PSNR of the uint8 output over the whole frame, Wiener at the true sigma, prior_scale 10):
blurred; Wiener with one global PSF (the true PSF at the frame centre, whole frame); Wiener
per region with the TRUE per-region PSFs (``deconvolve_grid`` on the true-trajectory grid);
Wiener per region with the gyro grid at each sensor-error level (one error swept at a time from
the base: 200 Hz, noise 0.01 rad/s, bias 0.005 rad/s, no offset); the base gyro with the rolling
shutter ignored (readout 0); the 10 ms offset error after ``estimate_time_offset``; Wiener with
one kernel estimated blindly from the photo (``estimate_kernel``). With the shipped prior
weights: one prior pass after the global / true / gyro Wiener outputs, and the whole deblur
pipeline as ``edge-deblur`` runs it (its own sigma and domain): blind (estimate and
refinement), from the gyro grid (base errors) and from the true per-region PSFs.

    EDGEDEBLUR_FFT_WORKERS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 \\
        .venv/bin/python benchmarks/gyro_eval.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from edgedeblur.degrade import add_gaussian_noise, quantize
from edgedeblur.io import atomic_write, read_image, to_float
from edgedeblur.metrics import psnr
from edgedeblur.runtime.deconv import (
    estimate_noise_sigma,
    linear_to_srgb,
    srgb_to_linear,
    wiener_deconvolve,
)
from edgedeblur.runtime.gyro import (
    ANDROID_BACK_CAMERA,
    CameraModel,
    GyroLog,
    deconvolve_grid,
    estimate_time_offset,
    gyro_psf,
    gyro_psf_grid,
    psf_trajectory,
    rotation_at,
)
from edgedeblur.runtime.kernel_estimate import estimate_kernel

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
SIGMA = 2.55
MARGIN = 32
READOUT = 0.020
TRUE_RATE = 2000.0
BASE = {"rate": 200.0, "noise": 0.01, "bias": 0.005, "offset": 0.0}
NOISE_LEVELS = (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2)
OFFSETS = (0.0, 0.002, 0.005, 0.01)
RATES = (100.0, 200.0, 400.0)
BIASES = (0.0, 0.005, 0.02, 0.05)
M = np.asarray(ANDROID_BACK_CAMERA)


def band_limited(n: int, rate: float, lo: float, hi: float, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS Gaussian noise with its spectrum kept between ``lo`` and ``hi`` Hz."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / rate)
    gain = np.clip((f - 0.5 * lo) / (0.5 * lo), 0, 1) * np.clip((1.5 * hi - f) / (0.5 * hi), 0, 1)
    x = np.fft.irfft(spec * (0.5 - 0.5 * np.cos(np.pi * gain)), n)
    return x / np.sqrt(np.mean(x * x))


def make_scene(i: int, photo: np.ndarray, rng: np.random.Generator) -> tuple[CameraModel, GyroLog, float]:
    """Camera of the cropped frame and the true (2 kHz) gyro log, scaled to a target blur."""
    h, w = photo.shape[0] - 2 * MARGIN, photo.shape[1] - 2 * MARGIN
    f = 0.75 * max(w, h)
    exposure = 1 / 15 if i % 2 == 0 else 1 / 30
    cam = CameraModel(fx=f, fy=f, cx=(w - 1) / 2, cy=(h - 1) / 2, width=w, height=h, exposure_start=0.5,
                      exposure_time=exposure, readout_time=READOUT)
    n = int(1.3 * TRUE_RATE)
    t = np.arange(n) / TRUE_RATE
    w_cam = np.stack([band_limited(n, TRUE_RATE, 0.5, 8.0, rng) for _ in range(3)], axis=1) * [1.0, 1.0, 0.4]
    target = float(rng.uniform(10, 25))
    scale = 0.3
    for _ in range(3):  # the extent is nearly linear in the amplitude
        log = GyroLog(t, (w_cam * scale) @ M)  # camera axes -> device (gyro) axes: M^T w
        dx, dy = psf_trajectory(cam, log, (cam.cx, cam.cy))
        extent = max(np.ptp(dx), np.ptp(dy)) + 1.0
        scale *= target / extent
    return cam, GyroLog(t, (w_cam * scale) @ M), target


def _bilinear(img: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    hh, ww = img.shape[:2]
    u, v = np.clip(u, 0, ww - 1.001), np.clip(v, 0, hh - 1.001)
    x0, y0 = u.astype(np.int64), v.astype(np.int64)
    fx, fy = (u - x0)[..., None], (v - y0)[..., None]
    a, b = img[y0, x0], img[y0, x0 + 1]
    c, d = img[y0 + 1, x0], img[y0 + 1, x0 + 1]
    return (a * (1 - fx) + b * fx) * (1 - fy) + (c * (1 - fx) + d * fx) * fy


def render_blur(photo: np.ndarray, cam: CameraModel, log: GyroLog) -> np.ndarray:
    """The rolling-shutter blurred frame from the true trajectory (see the module docstring)."""
    h, w = cam.height, cam.width
    dx, dy = psf_trajectory(cam, log, (cam.cx, cam.cy))
    steps = int(math.ceil(4 * np.hypot(np.diff(dx), np.diff(dy)).sum())) + 32
    y = np.arange(h, dtype=np.float64)
    t_row = cam.exposure_start + cam.readout_time * y / h
    times = t_row[:, None] + (np.arange(steps) + 0.5) / steps * cam.exposure_time
    r_ref = M @ rotation_at(log, t_row + 0.5 * cam.exposure_time) @ M.T  # (h, 3, 3) camera axes
    r_t = M @ rotation_at(log, times) @ M.T  # (h, steps, 3, 3)
    k, k_inv = cam.K, np.linalg.inv(cam.K)
    a = k @ np.einsum("yji,ysjk->ysik", r_ref, r_t) @ k_inv  # source = K R_ref^T R(t) K^-1 x
    xs = np.arange(w, dtype=np.float64)[None, :]
    acc = np.zeros((h, w, photo.shape[2]), dtype=np.float64)
    for s in range(steps):
        m = a[:, s]
        col = [m[:, r, 0][:, None] * xs + (m[:, r, 1] * y + m[:, r, 2])[:, None] for r in range(3)]
        acc += _bilinear(photo, col[0] / col[2] + MARGIN, col[1] / col[2] + MARGIN)
    return (acc / steps).astype(np.float32)


def sensor_log(true: GyroLog, cam: CameraModel, rng: np.random.Generator, *, rate: float, noise: float,
               bias: float, offset: float) -> GyroLog:
    """What the phone records: samples at ``rate`` Hz, bias, white noise, timestamps ``offset`` late."""
    t0, t1 = true.t[0] + 0.05 + offset, true.t[-1] - 0.05
    stamps = np.arange(t0 + rng.uniform(0, 1 / rate), t1, 1 / rate)
    idx = np.clip(np.searchsorted(true.t, stamps - offset) - 1, 0, len(true) - 2)
    frac = ((stamps - offset - true.t[idx]) / (true.t[idx + 1] - true.t[idx]))[:, None]
    omega = true.omega[idx] * (1 - frac) + true.omega[idx + 1] * frac
    omega = omega + rng.uniform(-bias, bias, 3) + rng.normal(0, noise, omega.shape)
    return GyroLog(stamps, omega)


def score(gt: np.ndarray, x: np.ndarray) -> float:
    return psnr(gt, np.clip(x, 0, 1))


PHOTO_SETS = {"eval": ("eval/cbsd68", "*.png"), "val": ("train/bsds500_test", "*.jpg")}


def evaluate(limit: int, pipeline: object | None, domain: str = "linear", photo_set: str = "eval") -> dict:
    folder, pattern = PHOTO_SETS[photo_set]
    photos = sorted((DATA / folder).glob(pattern))
    photos = photos[:limit] if photo_set == "eval" else photos[-limit:]  # val: the held-out last ones
    if not photos:
        sys.exit(f"no photos under {DATA / folder}")
    rows: dict[str, list[float]] = {}
    extra: dict[str, list[float]] = {"blur_px": [], "offset_est_ms": [], "offset_conf": [], "seconds": [],
                                     "blind_kernel_px": []}

    def add(name: str, value: float) -> None:
        rows.setdefault(name, []).append(value)

    for i, path in enumerate(photos):
        started = time.perf_counter()
        rng = np.random.default_rng(2024 + i)
        photo = to_float(read_image(path)).astype(np.float64)
        cam, true_log, target = make_scene(i, photo, rng)
        gt = photo[MARGIN:-MARGIN, MARGIN:-MARGIN].astype(np.float32)
        if domain == "linear":  # a camera: the scene's light is blurred, then encoded
            blurred = linear_to_srgb(np.clip(render_blur(srgb_to_linear(photo), cam, true_log), 0, 1))
        else:
            blurred = render_blur(photo, cam, true_log)
        noisy = quantize(add_gaussian_noise(blurred, SIGMA, rng))
        # what the data steps see: the linear-light photo (its own noise level) or the sRGB one
        obs = srgb_to_linear(noisy) if domain == "linear" else noisy
        sig = max(estimate_noise_sigma(obs), 0.5) if domain == "linear" else SIGMA

        def enc(x: np.ndarray) -> np.ndarray:
            return linear_to_srgb(np.clip(x, 0, 1)) if domain == "linear" else x

        extra["blur_px"].append(target)
        add("blurred", score(gt, noisy))
        centre = gyro_psf(cam, true_log, (cam.cx, cam.cy), row_time_offset=0.5 * READOUT)
        x_glob = enc(wiener_deconvolve(obs, centre, sigma=sig))
        add("wiener, one global PSF (true, centre)", score(gt, x_glob))
        true_grid = gyro_psf_grid(cam, true_log)
        x_true = enc(deconvolve_grid(obs, true_grid, sigma=sig))
        add("wiener, true per-region PSFs", score(gt, x_true))
        kept = {"global": x_glob, "true": x_true}
        for name, values in [("noise", NOISE_LEVELS), ("offset", OFFSETS), ("rate", RATES), ("bias", BIASES)]:
            for v in values:
                cfg = dict(BASE, **{name: v})
                log = sensor_log(true_log, cam, np.random.default_rng(7000 + i), **cfg)
                x = enc(deconvolve_grid(obs, gyro_psf_grid(cam, log), sigma=sig))
                add(f"wiener, gyro {name}={v:g}", score(gt, x))
                if cfg == BASE and name == "noise":
                    kept["gyro"] = x
        log = sensor_log(true_log, cam, np.random.default_rng(7000 + i), **BASE)
        x = enc(deconvolve_grid(obs, gyro_psf_grid(replace(cam, readout_time=0.0), log), sigma=sig))
        add("wiener, gyro grid assuming a global shutter", score(gt, x))
        cfg = dict(BASE, offset=0.01)
        log = sensor_log(true_log, cam, np.random.default_rng(7000 + i), **cfg)
        est = estimate_time_offset(obs, cam, log, np.arange(-0.02, 0.0201, 0.001), sigma=sig)
        extra["offset_est_ms"].append(1e3 * est.offset)
        extra["offset_conf"].append(est.confidence)
        x = enc(deconvolve_grid(obs, gyro_psf_grid(replace(cam, time_offset=est.offset), log), sigma=sig))
        add("wiener, gyro offset=0.01 then estimated", score(gt, x))
        blind = estimate_kernel(noisy)  # blind, one PSF for the frame, from the photo as a user has it
        extra["blind_kernel_px"].append(int(blind.kernel.shape[0]))
        add("wiener, blind estimated kernel (one global)",
            score(gt, enc(wiener_deconvolve(obs, blind.kernel, sigma=sig))))
        if pipeline is not None:
            for key, x0 in kept.items():
                out = pipeline.prior.restore(np.clip(x0, 0, 1), sigma=SIGMA)
                add(f"pipeline (prior), {key}", score(gt, out))
            # the whole deblur pipeline as a user runs it: blind, and from the gyro log
            add("deblur pipeline, blind (estimate + refinement)", score(gt, pipeline.restore(noisy)))
            grid = gyro_psf_grid(cam, sensor_log(true_log, cam, np.random.default_rng(7000 + i), **BASE))
            add("deblur pipeline, gyro grid (base errors)", score(gt, pipeline.restore(noisy, psf_grid=grid)))
            # the single-PSF settings the grid path used before grid_prior_scale / grid_iterations
            old = type(pipeline)(pipeline.prior, replace(pipeline.config, grid_prior_scale=pipeline.config.prior_scale,
                                                          grid_iterations=pipeline.config.iterations))
            add("deblur pipeline, gyro grid, single-PSF settings", score(gt, old.restore(noisy, psf_grid=grid)))
            add("deblur pipeline, true per-region PSFs", score(gt, pipeline.restore(noisy, psf_grid=true_grid)))
        extra["seconds"].append(time.perf_counter() - started)
        print(f"{path.stem}: blur {target:.1f} px, {extra['seconds'][-1]:.1f} s, "
              f"offset est {1e3 * est.offset:+.1f} ms (true +10, confidence {est.confidence:.2f})", flush=True)
    return {"photos": [p.stem for p in photos], "psnr": rows, "extra": extra,
            "mean": {k: statistics.fmean(v) for k, v in rows.items()}}


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mean = result["mean"]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, name, values, unit, scale in [(axes[0], "noise", NOISE_LEVELS, "gyro white noise (rad/s)", 1.0),
                                          (axes[1], "offset", OFFSETS, "gyro time-offset error (ms)", 1e3)]:
        xs = [v * scale for v in values]
        ax.plot(xs, [mean[f"wiener, gyro {name}={v:g}"] for v in values], "o-", label="Wiener, gyro grid")
        for key, style in [("wiener, true per-region PSFs", "--"), ("wiener, one global PSF (true, centre)", ":"),
                           ("blurred", "-.")]:
            ax.axhline(mean[key], linestyle=style, color="grey", label=key)
        if name == "noise":
            ax.set_xscale("symlog", linthresh=0.005, linscale=0.5)
            ax.set_xlim(0, 0.25)
            ax.set_xticks([0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2], ["0", ".005", ".01", ".02", ".05", ".1", ".2"])
        else:
            ax.plot([10], [mean["wiener, gyro offset=0.01 then estimated"]], "r*", markersize=11,
                    label="10 ms error, offset estimated from the photo")
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("PSNR (dB), mean of 8 CBSD68 photos")
    axes[1].legend(fontsize=7, loc="lower left")
    fig.suptitle("Gyro PSFs: rolling shutter 20 ms, hand shake 10-25 px, sigma 2.55")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=110, format="png"), suffix=".png")


def load_pipeline() -> object | None:
    weights = REPO / "edgedeblur" / "models" / "weights" / "mnv2unet_m_prior.safetensors"
    if not weights.exists():
        print(f"note: {weights.name} not shipped yet: no full-pipeline rows")
        return None
    from edgedeblur.methods import get_method

    return get_method("deblur")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--limit", type=int, default=8, help="number of CBSD68 photos (default 8)")
    p.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "gyro_eval.json")
    p.add_argument("--plot", type=Path, default=REPO / "docs" / "gyro_psnr.png")
    p.add_argument("--no-prior", action="store_true", help="skip the full-pipeline rows")
    p.add_argument("--photos", choices=sorted(PHOTO_SETS), default="eval",
                   help="eval: the first CBSD68 photos (reported); val: the last held-out photos of the "
                        "training split (where pipeline settings are decided; write with --json/--plot elsewhere)")
    p.add_argument("--domain", choices=("linear", "srgb"), default="linear",
                   help="blur rendered on linear light (a camera; data steps in linear light too) or on sRGB values")
    args = p.parse_args()
    result = evaluate(args.limit, None if args.no_prior else load_pipeline(), args.domain, args.photos)
    result["photo_set"] = args.photos
    result["domain"] = args.domain
    result["setup"] = {"sigma": SIGMA, "margin": MARGIN, "readout_s": READOUT, "base_gyro": BASE,
                       "true_rate_hz": TRUE_RATE, "wiener_prior_scale": 10.0}
    width = max(map(len, result["mean"]))
    print(f"\n{'row':<{width}}  PSNR dB (mean of {len(result['photos'])})")
    for k, v in result["mean"].items():
        print(f"{k:<{width}}  {v:6.2f}")
    ex = result["extra"]
    print(f"offset estimate (true +10 ms): {', '.join(f'{v:+.1f}' for v in ex['offset_est_ms'])} ms")
    atomic_write(args.json, lambda tmp: tmp.write_text(json.dumps(result, indent=1) + "\n"), suffix=".json")
    plot(result, args.plot)
    print(f"wrote {args.json} and {args.plot}")


if __name__ == "__main__":
    main()
