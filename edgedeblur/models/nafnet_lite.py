"""nafnet_lite: a NAFNet-style U-Net made edge-friendly.

NAFNet (Chen et al. 2022) replaces activations with a *simple gate* (``a * b`` over a channel
split) and uses *simplified channel attention* (global mean -> 1x1 conv -> multiply). Its
LayerNorm and PixelShuffle upsampling are the two things that hurt on edge converters and
under INT8, so here:

* LayerNorm -> BatchNorm, folded into the following 1x1 conv on deploy (exact);
* the gate is hard-clamped (``gate_clip``) so its product cannot blow the INT8 range;
* downsampling is a 2x2 stride-2 conv (VALID padding, no PAD op), upsampling a 1x1 conv at low
  resolution + bilinear resize (no PixelShuffle);
* global residual and a final clamp to [0, 1].

Note: the channel attention's global mean makes the output depend on the tile it sees; the
runner's overlapping tiles keep seams small, whole-image inference avoids the effect.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ZooModel
from ._blocks import ClampResidualHead, NAFBlockLite, UpResize
from ._registry import register_model

__all__ = ["NAFNetLite", "VARIANTS"]


class NAFNetLite(ZooModel):
    """Encoder ``enc_blocks[i]`` NAF blocks at ``width * 2**i`` channels, a middle, a decoder."""

    def __init__(
        self,
        width: int = 16,
        enc_blocks: tuple[int, ...] = (1, 1, 2),
        middle_blocks: int = 2,
        dec_blocks: tuple[int, ...] = (1, 1, 1),
        gate_clip: float | None = 6.0,
    ) -> None:
        super().__init__()
        if len(enc_blocks) != len(dec_blocks):
            raise ValueError("enc_blocks and dec_blocks need the same length")
        self.pad_multiple = 2 ** len(enc_blocks)
        self.intro = nn.Conv2d(3, width, 3, 1, 1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        c = width
        for n in enc_blocks:
            self.encoders.append(nn.Sequential(*[NAFBlockLite(c, gate_clip=gate_clip) for _ in range(n)]))
            self.downs.append(nn.Conv2d(c, 2 * c, 2, 2))
            c *= 2
        self.middle = nn.Sequential(*[NAFBlockLite(c, gate_clip=gate_clip) for _ in range(middle_blocks)])
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for n in dec_blocks:
            self.ups.append(UpResize(c, c // 2, act=None))
            c //= 2
            self.decoders.append(nn.Sequential(*[NAFBlockLite(c, gate_clip=gate_clip) for _ in range(n)]))
        self.head = ClampResidualHead(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat = self.intro(x)
        skips = []
        for enc, down in zip(self.encoders, self.downs, strict=True):
            feat = enc(feat)
            skips.append(feat)
            feat = down(feat)
        feat = self.middle(feat)
        for up, dec in zip(self.ups, self.decoders, strict=True):
            feat = dec(up(feat) + skips.pop())
        return self.head(feat, x)


# name -> (width, enc_blocks, middle_blocks, dec_blocks)
VARIANTS: dict[str, tuple[int, tuple[int, ...], int, tuple[int, ...]]] = {
    "s": (12, (1, 1, 1, 2), 2, (1, 1, 1, 1)),
    "m": (16, (1, 1, 2, 4), 4, (1, 1, 1, 1)),
}


def nafnet_lite(**kwargs) -> NAFNetLite:
    """Factory for every registered nafnet_lite variant."""
    return NAFNetLite(**kwargs)


for _size, (_width, _enc, _mid, _dec) in VARIANTS.items():
    for _task in ("deblur", "denoise"):
        register_model(
            f"nafnet_lite_{_size}_{_task}",
            card={"family": "nafnet_lite", "task": _task,
                  "description": f"NAFNet-style gated U-Net, BatchNorm folded, clamped gates, size {_size}"},
            width=_width, enc_blocks=_enc, middle_blocks=_mid, dec_blocks=_dec,
        )(nafnet_lite)
