"""Shared pieces of the classical methods: a base class that validates inputs, the sigma check.

Every classical method subclasses :class:`ClassicalMethod` and implements ``_restore`` on an
already-validated float32 image; the base class checks the image, the kernel and sigma once, so
each algorithm stays a short numerical function.
"""

from __future__ import annotations

import numpy as np

from .._arrays import check_image, check_kernel
from ..errors import InvalidInputError, KernelError
from ..methods import register_method

__all__ = ["ClassicalMethod", "Identity", "check_kernel", "check_sigma"]


def check_sigma(sigma: object, *, required: bool, method: str) -> float | None:
    """Validate a noise level on the 0-255 scale; ``None`` is fine unless ``required``."""
    if sigma is None:
        if required:
            raise InvalidInputError(
                f"method {method!r} needs the noise level",
                hint="pass sigma (0-255 scale), e.g. --sigma 25",
            )
        return None
    try:
        value = float(sigma)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError("sigma must be a number", given=sigma) from None
    if not np.isfinite(value) or value < 0 or value > 255:
        raise InvalidInputError(
            "sigma out of range", given=value, allowed="0 to 255 (0-255 scale, e.g. 25)"
        )
    return value


class ClassicalMethod:
    """Base class: validates image, kernel and sigma, then calls ``_restore``."""

    name = "classical"
    needs_kernel = False
    needs_sigma = False

    def restore(
        self,
        image: np.ndarray,
        *,
        kernel: np.ndarray | None = None,
        sigma: float | None = None,
    ) -> np.ndarray:
        """Restore a float32 [0, 1] H x W or H x W x 3 image (same shape, float32)."""
        image = check_image(image)
        if self.needs_kernel:
            if kernel is None:
                raise KernelError(
                    f"method {self.name!r} needs the blur kernel",
                    hint="pass a kernel (.npy or image file), e.g. --kernel psf.npy",
                )
            kernel = check_kernel(kernel, image_shape=image.shape)
        sigma = check_sigma(sigma, required=self.needs_sigma, method=self.name)
        out = self._restore(image, kernel=kernel, sigma=sigma)
        return np.ascontiguousarray(out, dtype=np.float32).reshape(image.shape)

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        raise NotImplementedError

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({opts})"


@register_method("identity")
class Identity(ClassicalMethod):
    """Returns the input unchanged: the "do nothing" baseline every table should include."""

    name = "identity"

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        return image.copy()
