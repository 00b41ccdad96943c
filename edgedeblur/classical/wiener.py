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
handled by reflection + edge tapering (see ``_fft``), so they do not ring. The solver itself
lives in :mod:`edgedeblur.runtime.deconv` (numpy only), where the deblur pipeline reuses it.
"""

from __future__ import annotations

import logging

import numpy as np

from ..errors import InvalidInputError
from ..methods import register_method
from ..runtime.deconv import MIN_SIGMA, PRIOR_SCALE, estimate_noise_sigma, wiener_deconvolve
from ._base import ClassicalMethod
from ._fft import TAPERS

__all__ = ["Wiener", "wiener_deconvolve", "estimate_noise_sigma", "MIN_SIGMA", "PRIOR_SCALE"]

log = logging.getLogger(__name__)


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
        if sigma is None and self.nsr is None:
            sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
            log.info("wiener: sigma not given, estimated %.2f (0-255 scale)", sigma)
        return wiener_deconvolve(image, kernel, sigma=sigma, nsr=self.nsr, taper=self.taper)
