"""The array checks every entry point shares: images in, blur kernels in (numpy only).

At the bottom of the package (it imports only ``errors``), so the runtime, the degradation
pipeline, the classical methods and the zoo refuse a bad array with the same explanation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .errors import InvalidInputError

__all__ = ["check_image"]

_PIXELS = "uint8, uint16, float32/float64 in [0, 1]"


def check_image(
    image: object,
    *,
    what: str = "image",
    dtypes: Literal["float", "pixels"] = "float",
    channels: Literal["grey/rgb", "any"] = "grey/rgb",
    min_side: int = 2,
) -> np.ndarray:
    """Validate an image array and return it ready to use, or raise :class:`InvalidInputError`.

    ``dtypes="float"`` (methods, the degradation pipeline): any float dtype, returned as
    float32 (values slightly outside [0, 1], as noisy inputs have, are accepted).
    ``dtypes="pixels"`` (the runtime runner, which returns the input's dtype): also uint8 and
    uint16, returned unchanged. ``channels="grey/rgb"``: H x W or H x W x 3, with H x W x 1
    taken as grey (H x W); ``"any"``: H x W or H x W x C, kept as given. Both sides must be at
    least ``min_side``; float pixels must be finite (after the cast to float32).
    """
    if not isinstance(image, np.ndarray):
        raise InvalidInputError(f"{what} must be a numpy array", given=type(image).__name__,
                                allowed="float32 H x W or H x W x 3 in [0, 1]",
                                hint="read files with edgedeblur.io.read_image then to_float")
    if channels == "grey/rgb" and image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or (channels == "grey/rgb" and image.ndim == 3 and image.shape[2] != 3):
        raise InvalidInputError(f"{what} has the wrong shape", given=f"shape {image.shape}",
                                allowed="H x W (grey) or H x W x 3 (RGB)" if channels == "grey/rgb"
                                else "H x W or H x W x C")
    if min(image.shape[:2]) < min_side or image.size == 0:
        raise InvalidInputError(f"{what} is too small", given=f"shape {image.shape}",
                                allowed=f"at least {min_side} x {min_side} pixels")
    floating = np.issubdtype(image.dtype, np.floating)
    if not floating and not (dtypes == "pixels" and image.dtype in (np.uint8, np.uint16)):
        raise InvalidInputError(f"{what} must be float in [0, 1]" if dtypes == "float"
                                else f"{what} has an unsupported dtype", given=str(image.dtype),
                                allowed="float32 (or float64/float16)" if dtypes == "float" else _PIXELS,
                                hint="convert with edgedeblur.io.to_float(image)")
    if dtypes == "float":
        image = image.astype(np.float32, copy=False)
    if floating and not _all_finite(image):
        raise InvalidInputError(f"{what} contains NaN or infinity", given="non-finite pixels",
                                allowed="finite values, nominally in [0, 1]", hint="clean the array first")
    return image


def _all_finite(x: np.ndarray) -> bool:
    """True when every element is finite: one summing pass (a NaN or an infinity anywhere makes
    the float64 sum non-finite), confirmed element-wise only when the sum is not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(x, axis=None, dtype=np.float64)
    return bool(np.isfinite(total)) or bool(np.isfinite(x).all())
