"""edgedeblur.models: the model zoo (architectures, registry, cards, PyTorch restore methods).

Importing this package imports torch (it is not part of the edge runtime); safetensors and
yaml are imported only when weights or recipes are read. Every model takes NCHW float32 RGB in
[0, 1] and returns the same shape clamped to [0, 1]; ``model.pad_multiple`` says what H and W
must be multiples of; ``model.to_deploy()`` gives the export-ready form (BatchNorm folded,
branches merged). A new architecture is one file registering its variants plus one import below.
"""

# each family module registers its variants on import
from . import deblurganv2, dncnn, mnv2unet, nafnet_lite, nasunet, srn_lite, unet_small  # noqa: F401
from ._cards import build_card, training_info, write_card
from ._macs import count_macs, count_params
from ._method import ModelMethod, create_method
from ._registry import (
    TASKS,
    ModelCard,
    card_path,
    create_model,
    get_card,
    list_models,
    read_card_file,
    register_model,
    weights_path,
)

__all__ = [
    "TASKS",
    "ModelCard",
    "ModelMethod",
    "register_model",
    "create_model",
    "list_models",
    "get_card",
    "create_method",
    "count_macs",
    "count_params",
    "weights_path",
    "card_path",
    "read_card_file",
    "build_card",
    "write_card",
    "training_info",
]
