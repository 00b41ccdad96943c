"""Degradations: the data every model is trained and judged on.

Blur kernels (camera shake, motion, defocus, Gaussian, real kernels from files), camera noise,
the camera-order pipeline and its spec strings, and image sources for training patches. Pure
numpy in, numpy out, seeded with numpy Generators, so a torch ``Dataset`` can call it directly.

    >>> from edgedeblur.degrade import parse_degradation, degrade
    >>> spec = parse_degradation(blur="shake:size=31|defocus:radius=1-4", noise="gaussian:sigma=0-5")
    >>> result = degrade(clean, spec, seed)   # result.degraded, result.kernel, result.clean
"""

from ._kernels import (
    KERNEL_EXTENSIONS,
    camera_shake_kernel,
    centre_kernel,
    defocus_kernel,
    gaussian_kernel,
    kernel_files,
    linear_motion_kernel,
    load_kernel,
    validate_kernel,
)
from ._ops import (
    add_gaussian_noise,
    add_poisson_gaussian_noise,
    blur_image,
    jpeg_compress,
    linear_to_srgb,
    quantize,
    srgb_to_linear,
)
from ._pipeline import DegradeResult, as_rng, degrade, kernel_set_dir, sample_kernel
from ._sidecar import file_seed, kernel_preview, reproduce
from ._sources import FolderSource, Patch, PatchSampler, dead_leaves, random_crop, to_channels
from ._spec import (
    BLUR_FORMS,
    KERNEL_SETS,
    NOISE_FORMS,
    BlurSpec,
    Degradation,
    NoiseSpec,
    paper_awgn,
    parse_blur,
    parse_degradation,
    parse_jpeg,
    parse_noise,
)

__all__ = [
    "Degradation",
    "BlurSpec",
    "NoiseSpec",
    "DegradeResult",
    "parse_degradation",
    "parse_blur",
    "parse_noise",
    "parse_jpeg",
    "paper_awgn",
    "degrade",
    "sample_kernel",
    "as_rng",
    "kernel_set_dir",
    "BLUR_FORMS",
    "NOISE_FORMS",
    "KERNEL_SETS",
    "KERNEL_EXTENSIONS",
    "camera_shake_kernel",
    "centre_kernel",
    "linear_motion_kernel",
    "defocus_kernel",
    "gaussian_kernel",
    "load_kernel",
    "validate_kernel",
    "kernel_files",
    "add_gaussian_noise",
    "add_poisson_gaussian_noise",
    "jpeg_compress",
    "quantize",
    "srgb_to_linear",
    "linear_to_srgb",
    "blur_image",
    "FolderSource",
    "random_crop",
    "dead_leaves",
    "PatchSampler",
    "Patch",
    "to_channels",
    "file_seed",
    "reproduce",
    "kernel_preview",
]
