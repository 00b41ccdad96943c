"""The pixel operations of the degradation pipeline: blur, noise, gamma, JPEG.

All take and return float32 images (H x W or H x W x 3) and are pure functions of their inputs
and the random generator, so the same seed gives the same bytes.
"""

from __future__ import annotations

import numpy as np

from .._arrays import check_image
from ..errors import ConfigError, InvalidInputError, require
from ._kernels import validate_kernel

__all__ = [
    "blur_image",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "jpeg_compress",
    "quantize",
    "srgb_to_linear",
    "linear_to_srgb",
]

_BORDERS = ("reflect", "symmetric", "wrap", "constant")
_EXACT_POISSON_BELOW = 64.0  # expected electrons; above, the normal approximation is used


def blur_image(image: np.ndarray, kernel: np.ndarray, *, border: str = "reflect") -> np.ndarray:
    """Convolve every channel with ``kernel`` (a true convolution), same-size output.

    ``border`` follows numpy's names: ``reflect`` (d c b | a b c d | c b a, no edge repeat),
    ``symmetric`` (edge repeated), ``wrap`` (circular) or ``constant`` (zeros). Uses OpenCV's
    ``filter2D`` on the 180-degree-rotated kernel (OpenCV computes correlation), which switches
    to a DFT for large kernels.
    """
    cv2 = require("cv2", "classical", "blurring images")
    image = check_image(image, channels="any", min_side=1)
    k = validate_kernel(kernel)
    flags = {
        "reflect": cv2.BORDER_REFLECT_101,
        "symmetric": cv2.BORDER_REFLECT,
        "wrap": cv2.BORDER_WRAP,
        "constant": cv2.BORDER_CONSTANT,
    }
    if border not in flags:
        raise ConfigError("unknown border mode", given=border, allowed=", ".join(_BORDERS))
    if border == "wrap":  # OpenCV's filter2D rejects BORDER_WRAP: pad ourselves
        ph, pw = k.shape[0] // 2, k.shape[1] // 2
        pad = ((ph, ph), (pw, pw)) + ((0, 0),) * (image.ndim - 2)
        padded = np.pad(image, pad, mode="wrap")
        out = cv2.filter2D(padded, cv2.CV_32F, np.ascontiguousarray(k[::-1, ::-1]),
                           borderType=cv2.BORDER_CONSTANT)
        out = out[ph: ph + image.shape[0], pw: pw + image.shape[1]]
    else:
        if border != "constant" and (k.shape[0] // 2 >= image.shape[0] or k.shape[1] // 2 >= image.shape[1]):
            raise InvalidInputError("image is smaller than half the kernel", given=f"image {image.shape[:2]}, kernel {k.shape}",
                                    hint="use a larger image or a smaller kernel")
        out = cv2.filter2D(image, cv2.CV_32F, np.ascontiguousarray(k[::-1, ::-1]), borderType=flags[border])
    if image.ndim == 3 and out.ndim == 2:  # OpenCV drops a single channel axis
        out = out[..., None]
    return np.ascontiguousarray(out, dtype=np.float32)


def add_gaussian_noise(image: np.ndarray, sigma: float, rng: np.random.Generator | np.random.RandomState) -> np.ndarray:
    """Add white Gaussian noise of standard deviation ``sigma`` **on the 0-255 scale**; no clipping.

    ``rng`` may be a legacy ``np.random.RandomState`` to replay the papers' ``np.random.seed``
    noise exactly (``normal(0, sigma / 255, shape)``).
    """
    image = check_image(image, channels="any", min_side=1)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ConfigError("noise sigma must be >= 0 (0-255 scale)", given=sigma)
    if sigma == 0:
        return image.copy()
    if isinstance(rng, np.random.Generator):
        noise = rng.standard_normal(image.shape, dtype=np.float32) * np.float32(sigma / 255.0)
    else:
        noise = rng.normal(0.0, sigma / 255.0, image.shape)
    return (image + noise).astype(np.float32)


def add_poisson_gaussian_noise(image: np.ndarray, gain: float, read: float, rng: np.random.Generator) -> np.ndarray:
    """Camera sensor noise on a linear image in [0, 1]: shot noise plus read noise, no clipping.

    Shot noise is Poisson on ``x / gain`` photo-electrons (``gain`` is 1 / full-well electrons
    on the [0, 1] scale); read noise is Gaussian with std ``read`` on the [0, 1] scale. The
    variance at intensity x is ``gain * x + read ** 2``. Pixels with fewer than 64 expected
    electrons are drawn exactly; brighter ones from the normal approximation with the same mean
    and variance (skew below 1/8), which is 3-4x faster than numpy's Poisson sampler there.
    """
    image = check_image(image, channels="any", min_side=1)
    if not (np.isfinite(gain) and gain >= 0 and np.isfinite(read) and read >= 0):
        raise ConfigError("poisson-gaussian gain and read must be >= 0", given=(gain, read))
    out = image
    if gain > 0:
        lam = np.clip(image, 0.0, None) * np.float32(1.0 / gain)
        electrons = lam + np.sqrt(lam) * rng.standard_normal(image.shape, dtype=np.float32)
        dim = lam < _EXACT_POISSON_BELOW
        if dim.any():
            electrons[dim] = rng.poisson(lam[dim].astype(np.float64))
        out = (electrons * np.float32(gain)).astype(np.float32)
    if read > 0:
        out = out + rng.standard_normal(image.shape, dtype=np.float32) * np.float32(read)
    return np.asarray(out, dtype=np.float32)


def quantize(image: np.ndarray, levels: int = 255) -> np.ndarray:
    """Clip to [0, 1] and round to ``levels`` steps (8 bit by default), as saving a file does."""
    return (np.floor(np.clip(image, 0.0, 1.0) * levels + 0.5) / levels).astype(np.float32)


def jpeg_compress(image: np.ndarray, quality: int) -> np.ndarray:
    """Round-trip ``image`` through an 8-bit baseline JPEG at ``quality`` (1-100), via OpenCV."""
    cv2 = require("cv2", "classical", "JPEG compression")
    image = check_image(image, channels="any", min_side=1)
    quality = int(quality)
    if not 1 <= quality <= 100:
        raise ConfigError("JPEG quality must be in 1-100", given=quality, allowed="1-100, e.g. --jpeg 90")
    u8 = (np.clip(image, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    squeeze = u8.ndim == 3 and u8.shape[2] == 1
    if squeeze:
        u8 = u8[..., 0]
    bgr = u8[..., ::-1] if u8.ndim == 3 else u8
    ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(bgr), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV fails only on impossible shapes
        raise InvalidInputError("OpenCV could not JPEG-encode the image", given=f"shape {image.shape}")
    dec = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    dec = dec[..., ::-1] if dec.ndim == 3 else dec
    if squeeze:
        dec = dec[..., None]
    return (dec.astype(np.float32) / 255.0).astype(np.float32)


def _pow(x: np.ndarray, exponent: float) -> np.ndarray:
    """x ** exponent for x >= 0, float32; OpenCV's SIMD pow is ~4x faster than numpy's here."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - numpy fallback
        return np.power(x, np.float32(exponent))
    flat = np.ascontiguousarray(x, dtype=np.float32).reshape(-1, 1)
    return cv2.pow(flat, exponent).reshape(x.shape)


def srgb_to_linear(image: np.ndarray) -> np.ndarray:
    """The sRGB transfer function inverted (IEC 61966-2-1), sign-preserving for unclipped data."""
    x = np.asarray(image, dtype=np.float32)
    a = np.abs(x)
    out = np.asarray(_pow((a + np.float32(0.055)) * np.float32(1 / 1.055), 2.4))
    low = a <= np.float32(0.04045)
    np.copyto(out, a * np.float32(1 / 12.92), where=low)
    return np.copysign(out, x)


def linear_to_srgb(image: np.ndarray) -> np.ndarray:
    """The sRGB transfer function (IEC 61966-2-1), sign-preserving for unclipped data."""
    x = np.asarray(image, dtype=np.float32)
    a = np.abs(x)
    out = np.asarray(_pow(a, 1 / 2.4) * np.float32(1.055) - np.float32(0.055))
    low = a <= np.float32(0.0031308)
    np.copyto(out, a * np.float32(12.92), where=low)
    return np.copysign(out, x)
