"""unet_small: a plain small U-Net of re-parameterisable 3x3 blocks (RepVGG-style).

Classic U-Net shape (two 3x3 blocks per level, concat skips) for dense 3x3-conv accelerators
(phone NPUs, DSPs prefer plain 3x3 convs over depthwise). Training uses three-branch
:class:`RepConv3x3` blocks (3x3, 1x1, identity, each with BatchNorm); ``to_deploy`` merges
them into one 3x3 conv + ReLU6. Downsampling: 4x4 stride-2 conv with padding 1 (no PAD op);
upsampling: 1x1 conv + ReLU6 then bilinear x2. Both sides of every concat are ReLU6 outputs,
so they share the [0, 6] range and one INT8 scale. Global residual, output clamp.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ZooModel
from ._blocks import ClampResidualHead, ConvBNAct, Down, RepConv3x3, UpResize
from ._registry import register_model

__all__ = ["UNetSmall", "VARIANTS"]


class UNetSmall(ZooModel):
    """U-Net with ``widths[i]`` channels at 1/2**i resolution, ``blocks`` RepConv per stage."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 64, 96), blocks: int = 1) -> None:
        super().__init__()
        self.pad_multiple = 2 ** (len(widths) - 1)
        self.stem = ConvBNAct(3, widths[0], 3)
        self.enc = nn.ModuleList([nn.Sequential(*[RepConv3x3(widths[0]) for _ in range(blocks)])])
        for i in range(1, len(widths)):
            self.enc.append(nn.Sequential(Down(widths[i - 1], widths[i]),
                                          *[RepConv3x3(widths[i]) for _ in range(blocks)]))
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.ups.append(UpResize(widths[i], widths[i - 1]))
            self.dec.append(nn.Sequential(ConvBNAct(2 * widths[i - 1], widths[i - 1], 3),
                                          *[RepConv3x3(widths[i - 1]) for _ in range(blocks)]))
        self.head = ClampResidualHead(widths[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.stem(x)
        skips = []
        for enc in self.enc:
            feat = enc(feat)
            skips.append(feat)
        skips.pop()
        for up, dec in zip(self.ups, self.dec, strict=True):
            feat = dec(torch.cat([up(feat), skips.pop()], dim=1))
        return self.head(feat, x)


VARIANTS: dict[str, tuple[tuple[int, ...], int]] = {"": ((12, 24, 48, 96), 1)}


def unet_small(**kwargs) -> UNetSmall:
    """Factory for the registered unet_small entries."""
    return UNetSmall(**kwargs)


for _task in ("deblur", "denoise"):
    register_model(
        f"unet_small_{_task}",
        card={"family": "unet_small", "task": _task,
              "description": "plain U-Net of re-parameterised 3x3 blocks, concat skips"},
        widths=VARIANTS[""][0], blocks=VARIANTS[""][1],
    )(unet_small)
