"""dncnn_s: a smaller DnCNN (Zhang et al. 2017) denoiser with residual learning.

DnCNN: conv+ReLU, (depth-2) x conv+BN+ReLU, conv; it predicts the noise and subtracts it.
Here ``x + f(x)`` (``f`` learns minus the noise, the same thing), ReLU6 for bounded INT8
ranges, BatchNorm folded on deploy, output clamped to [0, 1]. No downsampling, so
``pad_multiple`` is 1 and the receptive field is ``2 * depth + 1`` pixels. The paper's net is
17 layers x 64 channels (0.56 M parameters); ``dncnn_s`` keeps
the design at 10 x 32 (76 k parameters; DnCNN 17 x 64 is about 0.51 TMAC per 720p frame).
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ZooModel
from ._blocks import ClampResidualHead, ConvBNAct
from ._registry import register_model

__all__ = ["DnCNN"]


class DnCNN(ZooModel):
    """``depth`` 3x3 conv layers of ``channels`` channels, residual learning."""

    pad_multiple = 1

    def __init__(self, depth: int = 10, channels: int = 32) -> None:
        super().__init__()
        if depth < 3:
            raise ValueError("DnCNN needs at least 3 layers")
        layers = [ConvBNAct(3, channels, 3, bn=False)]
        layers += [ConvBNAct(channels, channels, 3) for _ in range(depth - 2)]
        self.body = nn.Sequential(*layers)
        self.head = ClampResidualHead(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x), x)


@register_model(
    "dncnn_s_denoise",
    card={"family": "dncnn_s", "task": "denoise",
          "description": "DnCNN-style residual denoiser, 10 layers x 32 channels"},
    depth=10, channels=32,
)
def dncnn(**kwargs) -> DnCNN:
    """Factory of the DnCNN-style denoisers."""
    return DnCNN(**kwargs)
