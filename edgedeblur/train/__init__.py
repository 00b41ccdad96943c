"""edgedeblur.train: the trainer behind ``edge-train`` and the recipes of the shipped models.

    >>> from edgedeblur.train import load_recipe, train
    >>> recipe = load_recipe("mnv2unet_s_denoise", ["train.max_minutes=30"])
    >>> result = train(recipe, "runs/s_denoise")          # resumable: train(..., resume=True)

Recipes are YAML (``edgedeblur/train/recipes``): defaults < recipe < overrides, every key
checked. Training pairs are made on the fly from the training photos by
:mod:`edgedeblur.degrade`; the eval sets are never read. Weights are saved as safetensors (the
EMA model). Importing this package imports torch.
"""

from ._checkpoint import load_checkpoint, load_weights, save_checkpoint, save_weights
from ._data import SOURCES, PairStream, data_root, validation_pairs
from ._disc import PatchDiscriminator
from ._ema import ModelEMA
from ._losses import (
    PixelLoss,
    charbonnier,
    fft_l1,
    gradient_penalty,
    l1,
    ragan_ls_d,
    ragan_ls_g,
    wgan_d,
    wgan_g,
)
from ._recipe import (
    DEFAULTS,
    RECIPES_DIR,
    apply_overrides,
    list_recipes,
    load_recipe,
    parse_override,
    recipe_path,
    validate_recipe,
)
from ._trainer import (
    TrainResult,
    has_batchnorm,
    lr_factor,
    psnr,
    recalibrate_bn,
    recalibrate_bn_for_recipe,
    train,
    validation_psnr,
)

__all__ = [
    "DEFAULTS",
    "RECIPES_DIR",
    "SOURCES",
    "load_recipe",
    "apply_overrides",
    "parse_override",
    "validate_recipe",
    "list_recipes",
    "recipe_path",
    "train",
    "TrainResult",
    "lr_factor",
    "psnr",
    "PairStream",
    "validation_pairs",
    "data_root",
    "ModelEMA",
    "PatchDiscriminator",
    "PixelLoss",
    "l1",
    "charbonnier",
    "fft_l1",
    "ragan_ls_d",
    "ragan_ls_g",
    "wgan_d",
    "wgan_g",
    "gradient_penalty",
    "save_weights",
    "load_weights",
    "save_checkpoint",
    "load_checkpoint",
    "recalibrate_bn",
    "recalibrate_bn_for_recipe",
    "has_batchnorm",
    "validation_psnr",
]
