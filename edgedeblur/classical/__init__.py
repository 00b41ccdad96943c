"""Classical restoration baselines behind the method protocol (see ``edgedeblur.methods``).

Importing this package registers ``identity``, ``wiener``, ``richardson-lucy``, ``nlm-opencv``,
``nlm-skimage`` and ``bm3d``. Only numpy is needed at import time; scipy, OpenCV,
scikit-image and bm3d are imported when a method runs (``pip install 'edgedeblur[classical]'``).
"""

from ._base import ClassicalMethod, Identity, check_kernel, check_sigma

__all__ = ["ClassicalMethod", "Identity", "check_kernel", "check_sigma"]
