"""Full-reference metrics (PSNR, SSIM) computed the way the denoising papers compute them.

Why a protocol module and not just ``skimage.metrics``: published tables (BM3D, DnCNN, FFDNet,
DRUNet, SwinIR) are computed on the *uint8-quantised* restored image against the uint8 clean
image, over the whole image unless a border crop is asked for, optionally on the BT.601 luma
channel as MATLAB's ``rgb2ycbcr`` defines it. A float output that is not rounded first scores a
few hundredths of a dB differently, which is the size of the differences tables argue about.

Everything here is numpy + scipy; the SSIM is written from Wang et al. 2004 (11x11 Gaussian
window, sigma 1.5, K1 = 0.01, K2 = 0.03, 'valid' filtering) and is tested against
``skimage.metrics.structural_similarity`` with the same settings.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError

__all__ = ["psnr", "psnr_from_mse", "ssim", "to_protocol_scale", "rgb_to_y", "crop_border"]

# MATLAB rgb2ycbcr, BT.601 "studio swing": Y = 16 + 65.481 R + 128.553 G + 24.966 B, RGB in [0, 1].
_BT601_Y = np.array([65.481, 128.553, 24.966])
_BT601_OFFSET = 16.0

_SSIM_SIGMA = 1.5
_SSIM_RADIUS = 5  # 11 taps: int(3.5 * 1.5 + 0.5), as Wang et al. and scikit-image
_SSIM_K1 = 0.01
_SSIM_K2 = 0.03


def to_protocol_scale(image: np.ndarray, *, quantize: bool = True, what: str = "image") -> np.ndarray:
    """Return ``image`` as float64 on the 0-255 scale, as the paper protocol scores it.

    uint8 is taken as is; uint16 is divided by 257 (so 65535 -> 255); a float image is taken as
    [0, 1], clipped, and - when ``quantize`` (the published protocol) - rounded to uint8 levels,
    exactly what saving the output as an 8-bit PNG would do.
    """
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(f"{what} must be a numpy array", given=type(image).__name__)
    if image.dtype == np.uint8:
        return image.astype(np.float64)
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 257.0
    if np.issubdtype(image.dtype, np.floating):
        if not np.all(np.isfinite(image)):
            raise InvalidInputError(f"{what} contains NaN or infinity")
        scaled = np.clip(image.astype(np.float64), 0.0, 1.0) * 255.0
        return np.floor(scaled + 0.5) if quantize else scaled
    raise InvalidInputError(
        f"{what} has an unsupported dtype",
        given=str(image.dtype),
        allowed="uint8, uint16, or float in [0, 1]",
    )


def rgb_to_y(image255: np.ndarray) -> np.ndarray:
    """BT.601 luma (MATLAB ``rgb2ycbcr`` Y, range 16-235) of an RGB image on the 0-255 scale.

    Grey images are returned unchanged. The result is not re-rounded, matching the papers'
    Python ports (KAIR / BasicSR ``only_y``).
    """
    if image255.ndim == 2:
        return image255
    return image255 @ _BT601_Y / 255.0 + _BT601_OFFSET


def crop_border(image: np.ndarray, border: int) -> np.ndarray:
    """Drop ``border`` pixels on each side (the papers' ``shave``/``border`` argument)."""
    if border == 0:
        return image
    return image[border:-border, border:-border, ...]


def _prepare(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    border: int,
    y_channel: bool,
    quantize: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair and bring both to the scored form: 0-255 float64, cropped, maybe luma."""
    ref = to_protocol_scale(reference, quantize=quantize, what="reference image")
    est = to_protocol_scale(estimate, quantize=quantize, what="restored image")
    if ref.ndim == 3 and ref.shape[2] == 1:
        ref = ref[..., 0]
    if est.ndim == 3 and est.shape[2] == 1:
        est = est[..., 0]
    if ref.shape != est.shape:
        raise InvalidInputError(
            "reference and restored images differ in shape",
            given=f"{ref.shape} vs {est.shape}",
            hint="compare images of the same size and channel count",
        )
    if ref.ndim not in (2, 3) or (ref.ndim == 3 and ref.shape[2] != 3):
        raise InvalidInputError("images must be H x W or H x W x 3", given=ref.shape)
    if not isinstance(border, (int, np.integer)) or border < 0:
        raise InvalidInputError("crop border must be a non-negative integer", given=border)
    if 2 * border >= min(ref.shape[:2]):
        raise InvalidInputError(
            "crop border leaves no pixels",
            given=border,
            allowed=f"0 to {(min(ref.shape[:2]) - 1) // 2} for a {ref.shape[0]}x{ref.shape[1]} image",
        )
    if y_channel:
        ref, est = rgb_to_y(ref), rgb_to_y(est)
    return crop_border(ref, border), crop_border(est, border)


def psnr(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    border: int = 0,
    y_channel: bool = False,
    quantize: bool = True,
    max_db: float | None = None,
) -> float:
    """Peak signal-to-noise ratio in dB (peak 255) with the published denoising protocol.

    ``reference`` is the clean image (uint8/uint16, or float in [0, 1]); ``estimate`` the
    restored one, usually float32 in [0, 1]. Float inputs are quantised to uint8 levels first
    unless ``quantize=False`` (then only clipped to [0, 1]: the float PSNR export parity and the
    benchmarks report). Returns ``inf`` for identical images, or ``max_db`` when given (a cap).
    """
    ref, est = _prepare(reference, estimate, border=border, y_channel=y_channel, quantize=quantize)
    return psnr_from_mse(float(np.mean((ref - est) ** 2)), max_db=max_db)


def psnr_from_mse(mse: float, *, peak: float = 255.0, max_db: float | None = None) -> float:
    """``10 log10(peak^2 / mse)``: the one PSNR formula (:func:`psnr`; the trainer's validation
    PSNR on torch batches, ``peak=1``). ``inf`` for ``mse == 0``, at most ``max_db`` when given."""
    value = float("inf") if mse == 0.0 else 10.0 * float(np.log10(peak**2 / mse))
    return value if max_db is None else min(value, max_db)


def _gaussian_taps() -> np.ndarray:
    x = np.arange(-_SSIM_RADIUS, _SSIM_RADIUS + 1, dtype=np.float64)
    taps = np.exp(-(x**2) / (2 * _SSIM_SIGMA**2))
    return taps / taps.sum()


def _filter_valid(image: np.ndarray, taps: np.ndarray) -> np.ndarray:
    """Separable 2-D Gaussian filtering keeping only fully covered pixels (MATLAB 'valid')."""
    from scipy.ndimage import correlate1d

    out = correlate1d(image, taps, axis=0, mode="constant")
    out = correlate1d(out, taps, axis=1, mode="constant")
    r = _SSIM_RADIUS
    return out[r:-r, r:-r]


def _ssim_channel(x: np.ndarray, y: np.ndarray) -> float:
    """Mean SSIM of one channel on the 0-255 scale (Wang et al. 2004, eq. 13)."""
    taps = _gaussian_taps()
    c1 = (_SSIM_K1 * 255.0) ** 2
    c2 = (_SSIM_K2 * 255.0) ** 2
    mx, my = _filter_valid(x, taps), _filter_valid(y, taps)
    vx = _filter_valid(x * x, taps) - mx * mx
    vy = _filter_valid(y * y, taps) - my * my
    cxy = _filter_valid(x * y, taps) - mx * my
    num = (2 * mx * my + c1) * (2 * cxy + c2)
    den = (mx * mx + my * my + c1) * (vx + vy + c2)
    return float(np.mean(num / den))


def ssim(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    border: int = 0,
    y_channel: bool = False,
    quantize: bool = True,
) -> float:
    """Structural similarity (Wang et al. 2004) with the same protocol as :func:`psnr`.

    Gaussian window sigma 1.5 (11x11), population statistics, only windows lying fully inside
    the image. Colour images score the mean over the three channels (as KAIR and scikit-image's
    ``channel_axis`` do). The image must be at least 11x11 after the border crop.
    """
    ref, est = _prepare(reference, estimate, border=border, y_channel=y_channel, quantize=quantize)
    if min(ref.shape[:2]) < 2 * _SSIM_RADIUS + 1:
        raise InvalidInputError(
            "image too small for SSIM's 11x11 window",
            given=ref.shape[:2],
            allowed="at least 11 x 11 after the border crop",
        )
    if ref.ndim == 2:
        return _ssim_channel(ref, est)
    return float(np.mean([_ssim_channel(ref[..., c], est[..., c]) for c in range(ref.shape[2])]))
