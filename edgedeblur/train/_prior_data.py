"""Training inputs for the deblur pipeline's prior: what the prior sees inside the pipeline.

The prior (a zoo net with ``in_channels=4``) never sees a blurred photo. It sees the output of
the runtime's data step (:func:`edgedeblur.runtime.deconv.wiener_deconvolve`, the same code the
device runs) next to a constant map of the noise level, and learns to remove the ringing and
amplified noise deconvolution leaves. So a training sample is made like this:

1. the camera-order degradation of :mod:`edgedeblur.degrade` blurs and noises a clean patch;
2. the kernel the data step gets is the true one, or (``kernel_error`` of the time) a perturbed
   copy of the size of the errors a blind estimator or a gyroscope makes: a blur of the PSF,
   a rescale, a sub-pixel shift or spurious isolated mass;
3. the sigma given to the data step and the map is the applied Gaussian sigma, or the
   runtime's noise estimate for camera noise, jittered by ``sigma_jitter`` (a user's or an
   estimator's sigma is never exact);
4. the data step runs in sRGB or (``linear_share`` of the time) in linear light, as the
   pipeline's ``linear`` setting does, on the whole patch with its margin (as on a whole photo), then crops;
5. an unblurred sample (a 1x1 kernel) skips the data step, as the pipeline does for a photo
   it finds sharp: the prior is then a plain noise-conditioned denoiser, which is also what the
   later HQS rounds ask of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..runtime.deconv import (
    MIN_SIGMA,
    estimate_noise_sigma,
    wiener_deconvolve,
    wiener_deconvolve_linear,
)
from ..runtime.pipeline import noise_map_input

__all__ = ["PRIOR_MODES", "check_prior_config", "given_sigma", "prior_input", "perturb_kernel"]

PRIOR_MODES = ("", "wiener")


def check_prior_config(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """The recipe's ``data.prior`` mapping, checked (mode "" means: no prior inputs)."""
    mode = cfg.get("mode", "")
    if mode not in PRIOR_MODES:
        raise ConfigError("unknown recipe key value data.prior.mode", given=mode, allowed=", ".join(
            repr(m) for m in PRIOR_MODES), hint="'wiener' trains a refiner of the Wiener data step")
    for key in ("prior_scale", "kernel_error", "sigma_jitter", "linear_share"):
        value = cfg.get(key, 0.0)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"recipe key data.prior.{key} must be a number >= 0", given=repr(value))
    if cfg.get("linear_share", 0.0) > 1:
        raise ConfigError("recipe key data.prior.linear_share is a probability", given=cfg["linear_share"],
                          allowed="0-1")
    return dict(cfg)


def given_sigma(result: Any) -> float | None:
    """The sigma a user would pass for a degraded photo: the applied Gaussian sigma when it was
    added to the sRGB values; None (the runtime estimates it) for noise added in linear light,
    whose level on the sRGB scale varies with brightness."""
    return result.sigma if result.info.get("domain") == "srgb" else None


def _normalise(k: np.ndarray) -> np.ndarray:
    k = np.clip(k, 0.0, None)
    total = float(k.sum())
    return (k / total).astype(np.float32) if total > 0 else k.astype(np.float32)


def _gauss1d(sigma: float) -> np.ndarray:
    r = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-r, r + 1, dtype=np.float64)
    g = np.exp(-0.5 * (t / sigma) ** 2)
    return g / g.sum()


def perturb_kernel(kernel: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A plausible estimation error of ``kernel`` (same centre, sums to 1, non-negative)."""
    from scipy import ndimage

    k = np.pad(kernel.astype(np.float64), 3)
    kind = int(rng.integers(4))
    if kind == 0:  # too smooth: an estimator's coarse-to-fine blur, a gyro's timing jitter
        g = _gauss1d(float(rng.uniform(0.4, 1.2)))
        k = ndimage.convolve1d(ndimage.convolve1d(k, g, axis=0), g, axis=1)
    elif kind == 1:  # wrong extent: focal length or exposure-time error of a gyro PSF
        zoom = float(rng.uniform(0.85, 1.15))
        c = (np.asarray(k.shape) - 1) / 2.0
        matrix = np.eye(2) / zoom
        k = ndimage.affine_transform(k, matrix, offset=c - matrix @ c, order=1)
    elif kind == 2:  # sub-pixel shift: a centring or time-offset error
        k = ndimage.shift(k, rng.uniform(-0.75, 0.75, size=2), order=1)
    else:  # spurious mass: isolated speckles an L0 estimator leaves around the support
        support = ndimage.binary_dilation(k > 0.05 * k.max(), iterations=2)
        speckle = rng.random(k.shape) * (rng.random(k.shape) < 0.08) * support
        k = k + speckle * k.max() * float(rng.uniform(0.05, 0.2))
    return _normalise(k)


def prior_input(degraded: np.ndarray, kernel: np.ndarray, sigma: float | None, rng: np.random.Generator,
                cfg: Mapping[str, Any]) -> np.ndarray:
    """H x W x 4 float32: the Wiener data step of ``degraded`` and the noise-level map."""
    if sigma is None:  # camera noise: the runtime estimates it the same way
        sigma = estimate_noise_sigma(degraded)
    sigma = max(float(sigma), 0.0) * float(np.exp(rng.uniform(-1.0, 1.0) * np.log1p(cfg["sigma_jitter"])))
    sigma = max(sigma, MIN_SIGMA / 2)
    if kernel.size == 1:  # no blur: the pipeline hands the photo itself to the prior (a denoiser)
        return noise_map_input(degraded, sigma)
    k_est = kernel
    if rng.random() < float(cfg["kernel_error"]):
        k_est = perturb_kernel(kernel, rng)
    if rng.random() < float(cfg.get("linear_share", 0.0)):  # the pipeline's linear=true data step
        x0, _ = wiener_deconvolve_linear(degraded, k_est, prior_scale=float(cfg["prior_scale"]))
    else:
        x0 = wiener_deconvolve(degraded, k_est, sigma=sigma, prior_scale=float(cfg["prior_scale"]))
    return noise_map_input(x0, sigma)
