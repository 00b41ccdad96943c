"""srn_lite: scale-recurrent coarse-to-fine deblurring in the spirit of SRN-DeblurNet.

SRN (Tao et al. 2018) runs one encoder-decoder at 1/4, 1/2 and full resolution with weights
shared across scales: each scale sees the blurred image at that scale concatenated with the
upsampled estimate of the coarser scale, and a ConvLSTM carries a hidden state between scales.

Export-friendly form here: the three scales are unrolled in ``forward`` (a fixed graph, no
loop, no state kept between calls); the LSTM is replaced by a *feature pass-through*: the
bottleneck features of the coarser scale are resized x2 and merged by a 1x1 conv (ReLU6) into
the next scale's bottleneck. Scales are made with 2x2 average pooling and bilinear resize
(both exact in every converter); each scale ends with ``x_s + f(...)`` clamped to [0, 1].
``pad_multiple`` = 4 (two coarser scales) x 2**levels of the inner net.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._base import ZooModel
from ._blocks import ClampResidualHead, ConvBNAct, Down, ResBlock, UpResize
from ._registry import register_model

__all__ = ["SRNLite", "VARIANTS"]

SCALES = 3


class _ScaleNet(nn.Module):
    """The shared encoder-decoder: (image, previous estimate) + optional hidden -> (estimate, hidden)."""

    def __init__(self, widths: tuple[int, ...], blocks: int) -> None:
        super().__init__()
        self.stem = ConvBNAct(6, widths[0], 3)
        self.enc = nn.ModuleList([nn.Sequential(*[ResBlock(widths[0]) for _ in range(blocks)])])
        for i in range(1, len(widths)):
            self.enc.append(nn.Sequential(Down(widths[i - 1], widths[i]),
                                          *[ResBlock(widths[i]) for _ in range(blocks)]))
        self.hidden_merge = ConvBNAct(2 * widths[-1], widths[-1], 1)
        self.ups = nn.ModuleList()
        self.dec = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.ups.append(UpResize(widths[i], widths[i - 1]))
            self.dec.append(nn.Sequential(*[ResBlock(widths[i - 1]) for _ in range(blocks)]))
        self.head = ClampResidualHead(widths[0])

    def forward(
        self, blurred: torch.Tensor, estimate: torch.Tensor, hidden: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        feat = self.stem(torch.cat([blurred, estimate], dim=1))
        skips = []
        for enc in self.enc:
            feat = enc(feat)
            skips.append(feat)
        if hidden is not None:
            feat = self.hidden_merge(torch.cat([feat, hidden], dim=1))
        bottleneck = feat
        skips.pop()
        for up, dec in zip(self.ups, self.dec, strict=True):
            feat = dec(up(feat) + skips.pop())
        return self.head(feat, blurred), bottleneck


class SRNLite(ZooModel):
    """Three scales, one shared :class:`_ScaleNet`, unrolled; ``forward`` returns the full scale."""

    def __init__(self, widths: tuple[int, ...] = (24, 48, 96), blocks: int = 1) -> None:
        super().__init__()
        self.pad_multiple = 2 ** (SCALES - 1) * 2 ** (len(widths) - 1)
        self.net = _ScaleNet(widths, blocks)

    def forward_scales(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Estimates from coarsest to finest (SRN trains with a loss on every scale)."""
        pyramid = [x]
        for _ in range(SCALES - 1):
            pyramid.append(F.avg_pool2d(pyramid[-1], 2))
        estimate, hidden = pyramid[-1], None
        outputs = []
        for level, blurred in enumerate(reversed(pyramid)):
            if level > 0:
                estimate = F.interpolate(estimate, scale_factor=2.0, mode="bilinear", align_corners=False)
                hidden = F.interpolate(hidden, scale_factor=2.0, mode="bilinear", align_corners=False)
            estimate, hidden = self.net(blurred, estimate, hidden)
            outputs.append(estimate)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_scales(x)[-1]


VARIANTS: dict[str, tuple[tuple[int, ...], int]] = {
    "s": ((8, 16, 32, 64), 1),
    "m": ((12, 24, 48, 96), 1),
}


def srn_lite(**kwargs) -> SRNLite:
    """Factory for every registered srn_lite variant."""
    return SRNLite(**kwargs)


for _size, (_widths, _blocks) in VARIANTS.items():
    register_model(
        f"srn_lite_{_size}_deblur",
        card={"family": "srn_lite", "task": "deblur",
              "description": f"scale-recurrent coarse-to-fine net, 3 shared scales, size {_size}"},
        widths=_widths, blocks=_blocks,
    )(srn_lite)
