"""Classical denoisers behind the method protocol: non-local means (OpenCV, scikit-image), BM3D.

All take ``sigma`` on the 0-255 scale. When it is not given they estimate it per image with
``skimage.restoration.estimate_sigma`` (wavelet MAD) and say so through the
``edgedeblur.classical`` logger and ``last_sigma``; estimating is blind and usually a little
worse than the true value, so pass ``sigma`` when you know it.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import InvalidInputError, require
from ..methods import register_method
from ._base import ClassicalMethod

__all__ = ["NLMOpenCV", "NLMSkimage", "BM3D", "estimate_sigma"]

log = logging.getLogger("edgedeblur.classical")

#: OpenCV's filter strength as a multiple of sigma, colour (Lab luminance and colour) and grey.
#: Colour, 6 BSDS500 training crops, 128 px, sigma 15/25/50: h/sigma 0.5-0.6 best
#: (28.2/25.5/22.8 dB); 1.0 is 1.5-2.3 dB worse, 0.3 collapses at sigma 50.
#: Grey, 6 Train400 crops: 0.8-1.0 best (29.0/26.5/24.1 dB); 0.55 is 4-6 dB worse.
OPENCV_H_PER_SIGMA = 0.55
OPENCV_H_PER_SIGMA_GREY = 0.9
#: scikit-image's recommendation: with ``sigma`` given, h slightly below sigma (0.8 sigma).
SKIMAGE_H_PER_SIGMA = 0.8


def estimate_sigma(image: np.ndarray) -> float:
    """Noise standard deviation on the 0-255 scale (skimage wavelet estimator, channel mean)."""
    restoration = require("skimage.restoration", "classical", "estimating the noise level")
    channel_axis = -1 if image.ndim == 3 else None
    sigma = restoration.estimate_sigma(image, average_sigmas=True, channel_axis=channel_axis)
    return float(sigma) * 255.0


class _Denoiser(ClassicalMethod):
    """A denoiser: sigma optional (estimated and reported when missing)."""

    needs_sigma = False

    def __init__(self) -> None:
        self.last_sigma: float | None = None
        self.last_sigma_estimated = False

    def _sigma(self, image: np.ndarray, sigma: float | None) -> float:
        estimated = sigma is None
        if sigma is None:
            sigma = estimate_sigma(image)
            log.info("%s: sigma not given, estimated %.2f (0-255 scale)", self.name, sigma)
        self.last_sigma, self.last_sigma_estimated = float(sigma), estimated
        return float(sigma)


def _window(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 99:
        raise InvalidInputError(f"{what} must be a whole number", given=value, allowed="1 to 99")
    return int(value)


@register_method("nlm-opencv")
class NLMOpenCV(_Denoiser):
    """OpenCV fast non-local means (``fastNlMeansDenoisingColored`` / ``fastNlMeansDenoising``).

    Works on 8-bit data internally (OpenCV's colour NLM needs uint8), so 16-bit inputs are
    denoised at 8-bit precision. ``h = 0.55 sigma`` (colour) or ``0.9 sigma`` (grey), measured.
    Options: ``template`` (patch size, 7), ``search`` (search window, 21).
    """

    name = "nlm-opencv"

    def __init__(self, *, template: int = 7, search: int = 21) -> None:
        super().__init__()
        self.template = _window(template, "template")
        self.search = _window(search, "search")

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        cv2 = require("cv2", "classical", "the nlm-opencv method")
        per_sigma = OPENCV_H_PER_SIGMA if image.ndim == 3 else OPENCV_H_PER_SIGMA_GREY
        h = per_sigma * self._sigma(image, sigma)
        data = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        if data.ndim == 3:
            bgr = np.ascontiguousarray(data[..., ::-1])
            out = cv2.fastNlMeansDenoisingColored(bgr, None, h, h, self.template, self.search)
            out = out[..., ::-1]
        else:
            out = cv2.fastNlMeansDenoising(data, None, h, self.template, self.search)
        return out.astype(np.float32) / 255.0


@register_method("nlm-skimage")
class NLMSkimage(_Denoiser):
    """scikit-image non-local means (``denoise_nl_means``, ``fast_mode``, sigma-aware).

    Runs in float, so 16-bit inputs keep their precision. ``h = 0.8 sigma``. Options:
    ``patch_size`` (5), ``patch_distance`` (6), ``fast_mode`` (True).
    """

    name = "nlm-skimage"

    def __init__(self, *, patch_size: int = 5, patch_distance: int = 6, fast_mode: bool = True) -> None:
        super().__init__()
        self.patch_size = _window(patch_size, "patch_size")
        self.patch_distance = _window(patch_distance, "patch_distance")
        self.fast_mode = bool(fast_mode)

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        restoration = require("skimage.restoration", "classical", "the nlm-skimage method")
        s = self._sigma(image, sigma) / 255.0
        out = restoration.denoise_nl_means(
            image,
            patch_size=self.patch_size,
            patch_distance=self.patch_distance,
            h=SKIMAGE_H_PER_SIGMA * s,
            sigma=s,
            fast_mode=self.fast_mode,
            channel_axis=-1 if image.ndim == 3 else None,
        )
        return np.asarray(out, dtype=np.float32)


@register_method("bm3d")
class BM3D(_Denoiser):
    """BM3D (``bm3d`` package): ``bm3d_rgb`` (opponent colour space) or ``bm3d`` for grey.

    ``sigma_psd = sigma / 255``. Option ``profile``: ``"np"`` (default, normal) or
    ``"refilter"``, ``"vn"`` (very noisy), ``"high"`` (slower, better), ``"deb"``.
    """

    name = "bm3d"
    PROFILES = ("np", "refilter", "vn", "vn_old", "high", "deb")

    def __init__(self, *, profile: str = "np") -> None:
        super().__init__()
        if profile not in self.PROFILES:
            raise InvalidInputError(
                "unknown BM3D profile", given=profile, allowed=", ".join(self.PROFILES)
            )
        self.profile = profile

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        bm3d = require("bm3d", "classical", "the bm3d method")
        s = self._sigma(image, sigma) / 255.0
        if s <= 0:
            return image.copy()
        if image.ndim == 3:
            out = bm3d.bm3d_rgb(image, s, profile=self.profile)
        else:
            out = bm3d.bm3d(image, s, profile=self.profile)
        return np.asarray(out, dtype=np.float32)
