"""The frequency-domain data step of PSF-aware deblurring, in float32 numpy (no torch, no scipy).

Two solvers share one extended, tapered frame (see ``_fft``):

* :func:`wiener_deconvolve`: ``X = conj(K) Y / (|K|^2 + NSR(w))`` with the natural-image signal
  model ``NSR(w) = nsr * |D(w)|^2`` (``|D|^2``: power of the finite-difference gradient filters,
  about ``|w|^2``). ``nsr`` follows from the noise level ``sigma`` and the image's gradient power
  ``G`` as ``sigma^2 / (prior_scale * G)``. A flat NSR (one number for all frequencies) was
  measured much worse: noise blows up at high frequencies, DC is not kept (``.notes/classical.md``).
* :class:`DataStep`: the half-quadratic-splitting data step of DPIR / USRNet,
  ``x = F^-1[(conj(K) F(y) + rho F(z)) / (|K|^2 + rho)]``: the image closest to the prior's
  estimate ``z`` that still explains the blurred ``y``. The spectra of ``y`` and ``K`` are
  computed once, so each iteration costs one forward and one inverse FFT.

Both take float32 ``[0, 1]`` images (H x W or H x W x C) and a kernel (a convolution PSF that
sums to 1) and return float32 of the input's shape, not clipped.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InvalidInputError
from ._fft import irfft2, pad_and_taper, rfft2

__all__ = ["srgb_to_linear", "linear_to_srgb", "DataStep", "wiener_deconvolve", "wiener_deconvolve_linear", "in_linear_light", "estimate_noise_sigma", "MIN_SIGMA", "PRIOR_SCALE"]

#: Smallest noise level assumed when estimating (0-255 scale): 8-bit rounding plus the
#: small kernel/model mismatch every real image has; keeps NSR from collapsing to zero.
MIN_SIGMA = 1.0

#: Multiplier of the gradient power ``G`` in the signal model. The blurred image's gradients
#: understate the sharp image's, so the best value is well above 1: 10 was the best of
#: {0.1, 0.33, 1, 3.3, 5, 10, 33} on 4 BSDS500 *training* crops x 4 Levin kernels at noise
#: 2.55-15 (3-5 is slightly better without noise).
PRIOR_SCALE = 10.0


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    """The inverse sRGB curve (IEC 61966-2-1) for [0, 1] values, float32 (numpy only, so the
    runtime need not import ``edgedeblur.degrade``, whose version also handles negatives)."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    """The sRGB curve for [0, 1] linear values, float32."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1 / 2.4) - 0.055).astype(np.float32)


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


def gradient_spectrum(shape: tuple[int, int]) -> np.ndarray:
    """``|Dx|^2 + |Dy|^2`` of the forward differences, in rfft2 layout (no FFT needed)."""
    h, w = shape
    fy = 2.0 - 2.0 * np.cos(2.0 * np.pi * np.arange(h, dtype=np.float32) / h)
    fx = 2.0 - 2.0 * np.cos(2.0 * np.pi * np.arange(w // 2 + 1, dtype=np.float32) / w)
    return (fy[:, None] + fx[None, :]).astype(np.float32)


def wiener_nsr(image: np.ndarray, sigma: float, prior_scale: float = PRIOR_SCALE) -> float:
    """The regularisation weight ``sigma^2 / (prior_scale * G)`` for a blurred image."""
    noise_var = (max(float(sigma), MIN_SIGMA / 4) / 255.0) ** 2
    return noise_var / (prior_scale * _gradient_power(image, noise_var))


def wiener_deconvolve(
    image: np.ndarray,
    kernel: np.ndarray,
    *,
    sigma: float | None = None,
    nsr: float | None = None,
    taper: str = "mean",
    prior_scale: float = PRIOR_SCALE,
) -> np.ndarray:
    """Deconvolve a float32 [0, 1] image (H x W or H x W x C) blurred by ``kernel``.

    ``sigma`` is the noise deviation on the 0-255 scale (estimated when ``None``); ``nsr``
    fixes the ratio ``sigma^2 / (prior_scale * G)`` directly (so ``NSR(w) = nsr * |D(w)|^2``).
    A larger ``prior_scale`` regularises less (keeps more detail and more noise, for a learned
    refiner to clean). Returns float32, same shape, not clipped.
    """
    if nsr is None:
        if sigma is None:
            sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
        nsr = wiener_nsr(image, sigma, prior_scale)
    elif not np.isfinite(nsr) or nsr <= 0:
        raise InvalidInputError("nsr must be a positive number", given=nsr, allowed="> 0, e.g. 0.01")
    padded = pad_and_taper(image, kernel, taper=taper)
    otf = padded.otf
    reg = np.float32(nsr) * gradient_spectrum(padded.data.shape[:2])
    filt = (np.conj(otf) / (otf.real**2 + otf.imag**2 + reg)).astype(np.complex64)
    if image.ndim == 3:
        filt = filt[..., None]
    spectrum = rfft2(padded.data)
    spectrum *= filt
    out = irfft2(spectrum, padded.data.shape[:2])
    return padded.crop(out).astype(np.float32, copy=False)


def in_linear_light(image: np.ndarray, deconvolve: Callable[[np.ndarray, float], np.ndarray]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Run a data step ``deconvolve(linear_image, sigma)`` in linear light for an sRGB-encoded
    photo: (sRGB result, linear image).

    A camera blurs light, then its tone curve encodes it; so the inverse curve comes first, the
    noise level is estimated there (the curve changes it), and the result is encoded back and
    clipped for the prior. One PSF (:func:`wiener_deconvolve_linear`) and a PSF grid (the
    pipeline's gyro path) both go through here.
    """
    lin = srgb_to_linear(image)
    x = deconvolve(lin, max(estimate_noise_sigma(lin), MIN_SIGMA / 2))
    return linear_to_srgb(np.clip(x, 0.0, 1.0)).astype(np.float32, copy=False), lin


def wiener_deconvolve_linear(image: np.ndarray, kernel: np.ndarray, *, taper: str = "mean",
                             prior_scale: float = PRIOR_SCALE) -> tuple[np.ndarray, np.ndarray]:
    """The Wiener data step in linear light (:func:`in_linear_light`): (sRGB result, linear image).

    The pipeline and the prior's training inputs both call this, so the prior is trained on
    exactly what the runtime gives it.
    """
    return in_linear_light(image, lambda lin, s: wiener_deconvolve(lin, kernel, sigma=s, prior_scale=prior_scale,
                                                                   taper=taper))


class DataStep:
    """The HQS data step for one blurred image and its kernel: ``solve(z, rho)`` per iteration.

    ``z`` is the prior's current estimate (same shape as the image). It is extended to the
    padded frame by the same reflection + taper as ``y``, so the borders stay consistent.
    """

    def __init__(self, image: np.ndarray, kernel: np.ndarray, *, taper: str = "mean") -> None:
        self.image = np.asarray(image, dtype=np.float32)
        self.kernel = np.asarray(kernel, dtype=np.float32)
        self.taper = taper
        padded = pad_and_taper(self.image, self.kernel, taper=taper)
        self._padded = padded
        otf = padded.otf if self.image.ndim == 2 else padded.otf[..., None]
        self._otf_power = (otf.real**2 + otf.imag**2).astype(np.float32)
        self._kty = (np.conj(otf) * rfft2(padded.data)).astype(np.complex64)

    def _extend(self, z: np.ndarray) -> np.ndarray:
        p = self._padded
        hp, wp = p.data.shape[:2]
        pad = [(p.top, hp - p.height - p.top), (p.left, wp - p.width - p.left)]
        pad += [(0, 0)] * (z.ndim - 2)
        ext = np.pad(z.astype(np.float32, copy=False), pad, mode="symmetric")
        # the extension of z is the (tapered) extension of y: z is only trusted inside the frame
        out = p.data.copy()
        out[p.top : p.top + p.height, p.left : p.left + p.width] = ext[
            p.top : p.top + p.height, p.left : p.left + p.width
        ]
        return out

    def solve(self, z: np.ndarray, rho: float) -> np.ndarray:
        """``argmin_x ||k * x - y||^2 + rho ||x - z||^2`` (closed form in the Fourier domain)."""
        if not np.isfinite(rho) or rho <= 0:
            raise InvalidInputError("HQS rho must be a positive number", given=rho, allowed="> 0")
        if z.shape != self.image.shape:
            raise InvalidInputError("HQS estimate has the wrong shape", given=z.shape,
                                    allowed=str(self.image.shape))
        spec = rfft2(self._extend(z))
        spec *= np.float32(rho)
        spec += self._kty
        spec /= self._otf_power + np.float32(rho)
        out = irfft2(spec, self._padded.data.shape[:2])
        return self._padded.crop(out).astype(np.float32, copy=False)
