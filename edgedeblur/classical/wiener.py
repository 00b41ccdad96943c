"""Wiener deconvolution with a known blur kernel (non-blind), in the Fourier domain.

Restored spectrum ``X = conj(K) Y / (|K|^2 + NSR(w))``, where ``K`` is the kernel's OTF and
``NSR(w) = sigma^2 / S(w)`` is the noise-to-signal power ratio at frequency ``w``.

The signal power spectrum ``S(w)`` follows the natural-image law ``S(w) ~ G / |D(w)|^2``
(``|D|^2``: power of the finite-difference gradient filters, about ``|w|^2``), with ``G`` the
gradient power of the blurred image (noise removed) times ``PRIOR_SCALE``. A flat NSR (one
number for all frequencies) was measured much worse: it under-regularises high frequencies
(noise blows up) and over-regularises low ones (it even darkens the image, since it does not
keep DC); see ``.notes/classical.md``. When sigma is not given it is estimated from the image
(Immerkaer's fast Laplacian-difference estimator), floored at ``MIN_SIGMA``. Borders are
handled by reflection + edge tapering (see ``_fft``), so they do not ring.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import InvalidInputError
from ..methods import register_method
from ._base import ClassicalMethod
from ._fft import TAPERS, irfft2, pad_and_taper, rfft2

__all__ = ["Wiener", "wiener_deconvolve", "estimate_noise_sigma"]

log = logging.getLogger(__name__)

#: Smallest noise level assumed when estimating (0-255 scale): 8-bit rounding plus the
#: small kernel/model mismatch every real image has; keeps NSR from collapsing to zero.
MIN_SIGMA = 1.0

#: Multiplier of the gradient power ``G`` in the signal model. The blurred image's gradients
#: understate the sharp image's, so the best value is well above 1: 10 was the best of
#: {0.1, 0.33, 1, 3.3, 5, 10, 33} on 4 BSDS500 *training* crops x 4 Levin kernels at noise
#: 2.55-15 (3-5 is slightly better without noise).
PRIOR_SCALE = 10.0


def estimate_noise_sigma(image: np.ndarray) -> float:
    """Fast noise estimate on the 0-255 scale (Immerkaer 1996), averaged over channels.

    The 3x3 mask ``[[1,-2,1],[-2,4,-2],[1,-2,1]]`` is the difference of two Laplacians, which
    cancels smooth structure; the mean absolute response scales with the noise deviation.
    """
    x = image.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x[..., None]
    h, w = x.shape[:2]
    if h < 3 or w < 3:
        return 0.0
    # The mask is separable: [1, -2, 1] along the rows, then down the columns. Using one
    # row triple in every 4 (a quarter of the rows) keeps ~170k samples per channel at 720p.
    d = x[:, :-2] - 2.0 * x[:, 1:-1]
    d += x[:, 2:]
    n = len(range(0, h - 2, 4))
    r = d[0 : h - 2 : 4][:n] - 2.0 * d[1 : h - 1 : 4][:n]
    r += d[2:h:4][:n]
    np.abs(r, out=r)
    sigma = np.sqrt(np.pi / 2.0) / (6.0 * r.shape[0] * (w - 2)) * r.sum(axis=(0, 1), dtype=np.float64)
    return float(np.mean(sigma) * 255.0)


def _gradient_power(image: np.ndarray, noise_var: float) -> float:
    """Mean squared horizontal + vertical difference, minus what the noise contributes."""
    # Every 4th row/column pair is plenty for one statistic and 4x cheaper on a 720p frame.
    gy = image[1::4] - image[0:-1:4][: image[1::4].shape[0]]
    gx = image[:, 1::4] - image[:, 0:-1:4][:, : image[:, 1::4].shape[1]]
    power = float(np.mean(gy * gy, dtype=np.float64) + np.mean(gx * gx, dtype=np.float64))
    power -= 4.0 * noise_var
    return max(power, 1e-4)


def _gradient_spectrum(shape: tuple[int, int]) -> np.ndarray:
    """``|Dx|^2 + |Dy|^2`` of the forward differences, in rfft2 layout (no FFT needed)."""
    h, w = shape
    fy = 2.0 - 2.0 * np.cos(2.0 * np.pi * np.arange(h, dtype=np.float32) / h)
    fx = 2.0 - 2.0 * np.cos(2.0 * np.pi * np.arange(w // 2 + 1, dtype=np.float32) / w)
    return (fy[:, None] + fx[None, :]).astype(np.float32)


def wiener_deconvolve(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    sigma: float | None = None,
    nsr: float | None = None,
    taper: str = "mean",
) -> np.ndarray:
    """Deconvolve a float32 [0, 1] image (H x W or H x W x 3) blurred by ``kernel``.

    ``sigma`` is the noise deviation on the 0-255 scale (estimated when ``None``); ``nsr``
    fixes the ratio ``sigma^2 / (PRIOR_SCALE * G)`` directly (so ``NSR(w) = nsr * |D(w)|^2``).
    Returns float32, same shape, not clipped.
    """
    if nsr is None:
        if sigma is None:
            sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
            log.info("wiener: sigma not given, estimated %.2f (0-255 scale)", sigma)
        noise_var = (max(float(sigma), MIN_SIGMA / 4) / 255.0) ** 2
        nsr = noise_var / (PRIOR_SCALE * _gradient_power(image, noise_var))
    elif not np.isfinite(nsr) or nsr <= 0:
        raise InvalidInputError("nsr must be a positive number", given=nsr, allowed="> 0, e.g. 0.01")
    padded = pad_and_taper(image, kernel, taper=taper)
    otf = padded.otf
    reg = np.float32(nsr) * _gradient_spectrum(padded.data.shape[:2])
    filt = (np.conj(otf) / (otf.real**2 + otf.imag**2 + reg)).astype(np.complex64)
    if image.ndim == 3:
        filt = filt[..., None]
    spectrum = rfft2(padded.data)
    spectrum *= filt
    out = irfft2(spectrum, padded.data.shape[:2])
    return padded.crop(out).astype(np.float32, copy=False)


def _positive(value: object, what: str) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be a number", given=value) from None
    if not np.isfinite(number) or number <= 0:
        raise InvalidInputError(f"{what} must be a positive number", given=value, allowed="> 0")
    return number


def _check_taper(taper: object) -> str:
    if taper not in TAPERS:
        raise InvalidInputError("unknown border taper", given=taper, allowed=", ".join(TAPERS))
    return str(taper)


@register_method("wiener")
class Wiener(ClassicalMethod):
    """Wiener deconvolution; needs the kernel, sigma optional (estimated when missing).

    Options: ``nsr`` (fixed regularisation weight instead of one derived from sigma),
    ``taper`` (border taper: ``"mean"`` default and fastest, ``"blur"`` MATLAB-edgetaper style,
    ``"none"`` only to show the ringing it prevents).
    """

    name = "wiener"
    needs_kernel = True
    needs_sigma = False

    def __init__(self, *, nsr: float | None = None, taper: str = "mean") -> None:
        self.nsr = None if nsr is None else _positive(nsr, "nsr")
        self.taper = _check_taper(taper)

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        assert kernel is not None  # guaranteed by ClassicalMethod.restore (needs_kernel)
        return wiener_deconvolve(image, kernel, sigma=sigma, nsr=self.nsr, taper=self.taper)
