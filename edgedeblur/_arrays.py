"""The array checks every entry point shares: images in, blur kernels in (numpy only).

At the bottom of the package (it imports only ``errors``), so the runtime, the degradation
pipeline, the classical methods and the zoo refuse a bad array with the same explanation.
:func:`check_kernel` is ``degrade.validate_kernel`` and ``classical.check_kernel``: every kernel
that enters (a file, ``--kernel``, ``restore(kernel=)``, the deblur pipeline's given PSF) is
checked here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np

from .errors import InvalidInputError, KernelError

__all__ = ["check_image", "check_kernel"]

_PIXELS = "uint8, uint16, float32/float64 in [0, 1]"
_KERNEL = "a finite, non-negative, real 2-D array (float or integer) with a positive sum"
# Values this far below zero (relative to the peak) are conversion noise and are clipped to 0;
# anything more negative is not a physical PSF.
_NEGATIVE_TOLERANCE = 1e-4


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
        with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, refused below
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


def check_kernel(kernel: object, *, path: str | Path | None = None, image_shape: tuple[int, ...] | None = None,
                 normalise: bool = True) -> np.ndarray:
    """Check a blur PSF; return it float32 and (``normalise``) odd-sized, non-negative, sum 1.

    Refused with :class:`~edgedeblur.errors.KernelError` (an ``InvalidInputError``) naming
    ``path``: a value that is not real numbers (complex, bool, text), more than two dimensions
    after dropping singleton axes, no elements, NaN/inf, negative values, a sum that is not
    positive, and - given the ``image_shape`` it is applied to - a kernel larger than the image.
    Normalising appends a zero row/column to an even side (so the centre stays at index
    ``n // 2``, as ``fftconvolve(mode='same')`` and MATLAB's ``psf2otf`` put it), clips the
    conversion noise below zero and divides by the sum; ``normalise=False`` returns the kernel
    as given (float32), for callers that use it as it is.
    """
    try:
        raw = np.asarray(kernel)
    except (TypeError, ValueError) as exc:
        raise KernelError("kernel is not numeric", given=type(kernel).__name__, allowed=_KERNEL, path=path) from exc
    if np.issubdtype(raw.dtype, np.complexfloating):
        raise KernelError("kernel is complex-valued", given=str(raw.dtype), allowed=_KERNEL, path=path,
                          hint="a PSF is real: save np.real(k) (or np.abs(k) for a magnitude) instead")
    if not (np.issubdtype(raw.dtype, np.floating) or np.issubdtype(raw.dtype, np.integer)):
        raise KernelError("kernel is not numeric", given=f"{type(kernel).__name__} of {raw.dtype}",
                          allowed=_KERNEL, path=path)
    k = np.squeeze(raw) if raw.ndim > 2 else raw
    if k.ndim != 2:
        raise KernelError("kernel must be 2-D", given=f"shape {raw.shape}", allowed=_KERNEL, path=path)
    if k.size == 0:
        raise KernelError("kernel is empty", given=f"shape {raw.shape}", allowed=_KERNEL, path=path)
    k = k.astype(np.float64)
    if not np.all(np.isfinite(k)):
        raise KernelError("kernel contains NaN or inf", allowed=_KERNEL, path=path,
                          hint="regenerate or re-export the kernel")
    peak = float(np.abs(k).max())
    if k.min() < -_NEGATIVE_TOLERANCE * max(peak, 1e-30):
        raise KernelError("kernel has negative values", given=f"min {k.min():.3g}", allowed=_KERNEL,
                          path=path, hint="a blur PSF is non-negative; clip it with np.clip(k, 0, None)")
    clipped = np.clip(k, 0.0, None)
    total = float(clipped.sum())
    if not total > 0.0:
        raise KernelError("kernel sums to zero", given=f"sum {total:.3g}", allowed=_KERNEL, path=path)
    if image_shape is not None and (k.shape[0] > image_shape[0] or k.shape[1] > image_shape[1]):
        raise KernelError("kernel is larger than the image", path=path,
                          given=f"a {k.shape[0]} x {k.shape[1]} kernel for a {image_shape[0]} x {image_shape[1]} image",
                          allowed="a kernel no larger than the image on either side",
                          hint="crop the PSF to its support (or check that this is the right kernel file)")
    if not normalise:
        return np.asarray(raw if raw.ndim == 2 else k, dtype=np.float32)
    clipped /= total
    pad_r, pad_c = 1 - k.shape[0] % 2, 1 - k.shape[1] % 2
    if pad_r or pad_c:
        clipped = np.pad(clipped, ((0, pad_r), (0, pad_c)))
    return np.ascontiguousarray(clipped, dtype=np.float32)
