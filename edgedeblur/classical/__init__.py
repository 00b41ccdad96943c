"""Classical restoration baselines behind the method protocol (see ``edgedeblur.methods``).

Importing this package registers ``identity``, ``wiener``, ``richardson-lucy``, ``nlm-opencv``,
``nlm-skimage`` and ``bm3d``. Only numpy is needed at import time; scipy, OpenCV,
scikit-image and bm3d are imported when a method runs (``pip install 'edgedeblur[classical]'``).
``sigma`` is always the noise deviation on the 0-255 scale.
"""

from ._base import ClassicalMethod, Identity, check_kernel, check_sigma
from .denoise import BM3D, NLMOpenCV, NLMSkimage, estimate_sigma
from .richardson_lucy import RichardsonLucy, richardson_lucy
from .wiener import Wiener, estimate_noise_sigma, wiener_deconvolve

__all__ = [
    "BM3D",
    "ClassicalMethod",
    "Identity",
    "NLMOpenCV",
    "NLMSkimage",
    "RichardsonLucy",
    "Wiener",
    "check_kernel",
    "check_sigma",
    "estimate_noise_sigma",
    "estimate_sigma",
    "richardson_lucy",
    "wiener_deconvolve",
]
