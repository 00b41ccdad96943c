"""Image-quality metrics: PSNR/SSIM with the published protocol, and NIQE (no reference).

``psnr``/``ssim`` quantise a float result to uint8 levels and score the whole image, as the
denoising papers do (``border`` and ``y_channel`` reproduce the other conventions). ``niqe``
scores an image with no reference against a model fitted on this project's clean training
photos (``benchmarks/fit_niqe.py``, BSD400); lower is more natural. numpy + scipy only.
"""

from ._fidelity import crop_border, psnr, psnr_from_mse, rgb_to_y, ssim, to_protocol_scale
from ._niqe import NiqeModel, fit_niqe_model, load_niqe_model, mscn, niqe, niqe_patch_features

__all__ = [
    "psnr",
    "psnr_from_mse",
    "ssim",
    "to_protocol_scale",
    "rgb_to_y",
    "crop_border",
    "niqe",
    "NiqeModel",
    "load_niqe_model",
    "fit_niqe_model",
    "niqe_patch_features",
    "mscn",
]
