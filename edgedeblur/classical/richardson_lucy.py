"""Richardson-Lucy deconvolution with a known kernel (non-blind), FFT-based.

The multiplicative update ``u <- u * K^T (y / (K u))`` is the maximum-likelihood estimate under
Poisson noise; it keeps the image non-negative and preserves its total intensity. Each iteration
is two FFT convolutions on the extended (reflected + tapered, see ``_fft``) image, batched over
colour channels. Noise is amplified as iterations grow: the iteration count is the
regulariser (``iterations``, default 30; fewer for noisy inputs).
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidInputError
from ..methods import register_method
from ._base import ClassicalMethod
from ._fft import TAPERS, irfft2, pad_and_taper, rfft2

__all__ = ["RichardsonLucy", "richardson_lucy"]

#: Values below this are treated as this when dividing, so dark pixels do not explode.
_EPS = 1e-6
#: Offset added to keep the data strictly positive (RL needs a positive image); removed after.
_OFFSET = 1.0 / 255.0


def richardson_lucy(
    image: np.ndarray, kernel: np.ndarray, *, iterations: int = 30, taper: str = "mean"
) -> np.ndarray:
    """Deconvolve a float32 [0, 1] image (H x W or H x W x 3) blurred by ``kernel``.

    Starts from the observed image. Returns float32, same shape, clipped to [0, 1].
    """
    padded = pad_and_taper(image, kernel, taper=taper)
    shape = padded.data.shape[:2]
    otf = padded.otf if image.ndim == 2 else padded.otf[..., None]
    otf_adj = np.conj(otf)
    observed = np.maximum(padded.data, 0.0) + np.float32(_OFFSET)
    estimate = observed.copy()
    for _ in range(iterations):
        predicted = irfft2(rfft2(estimate) * otf, shape)
        ratio = observed / np.maximum(predicted, np.float32(_EPS))
        estimate *= irfft2(rfft2(ratio) * otf_adj, shape)
        np.maximum(estimate, 0.0, out=estimate)
    result = padded.crop(estimate) - np.float32(_OFFSET)
    return np.clip(result, 0.0, 1.0).astype(np.float32, copy=False)


@register_method("richardson-lucy")
class RichardsonLucy(ClassicalMethod):
    """Richardson-Lucy deconvolution; needs the kernel, ignores sigma.

    Options: ``iterations`` (default 30; about 10 for noisy inputs, 50+ for clean ones),
    ``taper`` (border taper, as for ``wiener``).
    """

    name = "richardson-lucy"
    needs_kernel = True
    needs_sigma = False

    def __init__(self, *, iterations: int = 30, taper: str = "mean") -> None:
        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)) or not (
            1 <= iterations <= 10_000
        ):
            raise InvalidInputError(
                "iterations must be a whole number", given=iterations, allowed="1 to 10000"
            )
        if taper not in TAPERS:
            raise InvalidInputError("unknown border taper", given=taper, allowed=", ".join(TAPERS))
        self.iterations = int(iterations)
        self.taper = taper

    def _restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None, sigma: float | None
    ) -> np.ndarray:
        assert kernel is not None  # guaranteed by ClassicalMethod.restore (needs_kernel)
        return richardson_lucy(image, kernel, iterations=self.iterations, taper=self.taper)
