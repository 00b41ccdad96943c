"""deblurganv2_mnv2: the DeblurGAN-v2 generator (FPN on MobileNetV2), our reference to beat.

Kupyn et al., "DeblurGAN-v2" (ICCV 2019), MobileNet variant: 28.17 dB on GoPro at about
43.75 GFLOPs per 720p frame. Architecture as described in the paper:

* MobileNetV2 encoder (width 1.0), five feature maps at strides 2, 4, 8, 16, 32
  (16, 24, 32, 64, 160 channels);
* an FPN: 1x1 lateral convs to ``fpn_ch`` (128; ``fpn_ch/2`` for the stride-2 map), top-down
  pathway of nearest x2 upsample + add + 3x3 conv;
* four feature heads (two 3x3 convs to ``head_ch`` = 64) on strides 4-32, upsampled to
  stride 4 and concatenated, a 3x3 "smooth" conv, x2 upsample, add the stride-2 lateral,
  a second smooth conv, x2 upsample, a 3x3 conv to RGB;
* output ``clamp(x + tanh(f(x)))`` (a residual through tanh), here clamped to [0, 1]
  because the zoo works in [0, 1] (the paper used [-1, 1]).

Edge/INT8 changes that keep the design: ReLU6 instead of ReLU, BatchNorm (folded) instead of
instance norm, and stride-2 depthwise convs with kernel 4 / padding 1 instead of 3 / 1 so
TFLite needs no PAD op (this adds about 2 % MACs). ``pad_multiple`` is 32.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ._base import ZooModel
from ._blocks import ConvBNAct, InvertedResidual
from ._registry import register_model

__all__ = ["DeblurGANv2MNV2", "MOBILENETV2_STAGES"]

# MobileNetV2 inverted-residual settings (expansion t, channels c, repeats n, first stride s,
# FPN tap group): taps sit after groups 0-4, at strides 2, 4, 8, 16, 32 (as DeblurGAN-v2's
# enc0 = features[0:2], enc1 = [2:4], enc2 = [4:7], enc3 = [7:11], enc4 = [11:16]).
MOBILENETV2_STAGES = ((1, 16, 1, 1, 0), (6, 24, 2, 2, 1), (6, 32, 3, 2, 2), (6, 64, 4, 2, 3),
                      (6, 96, 3, 1, 4), (6, 160, 2, 2, 4))


def _make_encoder(stem_ch: int = 32) -> nn.ModuleList:
    """MobileNetV2 features up to the second 160-channel block, grouped into the five FPN taps."""
    groups: list[list[nn.Module]] = [[ConvBNAct(3, stem_ch, 4, 2, padding=1)], [], [], [], []]
    cin = stem_ch
    for t, c, n, s, group in MOBILENETV2_STAGES:
        for i in range(n):
            groups[group].append(InvertedResidual(cin, c, s if i == 0 else 1, t))
            cin = c
    return nn.ModuleList([nn.Sequential(*blocks) for blocks in groups])


class _Head(nn.Module):
    """FPN feature head: two 3x3 conv + ReLU6 (DeblurGAN-v2's FPNHead)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(ConvBNAct(cin, cout, 3, bn=False), ConvBNAct(cout, cout, 3, bn=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


def _up(x: torch.Tensor, factor: int) -> torch.Tensor:
    return F.interpolate(x, scale_factor=float(factor), mode="nearest")


class DeblurGANv2MNV2(ZooModel):
    """DeblurGAN-v2 FPN generator on MobileNetV2 (see module docstring)."""

    pad_multiple = 32

    def __init__(self, fpn_ch: int = 128, head_ch: int = 64) -> None:
        super().__init__()
        self.encoder = _make_encoder()
        tap_channels = (16, 24, 32, 64, 160)
        self.lateral0 = nn.Conv2d(tap_channels[0], fpn_ch // 2, 1, bias=False)
        self.laterals = nn.ModuleList([nn.Conv2d(c, fpn_ch, 1, bias=False) for c in tap_channels[1:]])
        self.topdown = nn.ModuleList([ConvBNAct(fpn_ch, fpn_ch, 3) for _ in range(3)])
        self.heads = nn.ModuleList([_Head(fpn_ch, head_ch) for _ in range(4)])
        self.smooth = ConvBNAct(4 * head_ch, fpn_ch // 2, 3)
        self.smooth2 = ConvBNAct(fpn_ch // 2, head_ch // 2, 3)
        self.final = nn.Conv2d(head_ch // 2, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        taps = []
        feat = x
        for stage in self.encoder:
            feat = stage(feat)
            taps.append(feat)
        map0 = self.lateral0(taps[0])
        lat = [lateral(t) for lateral, t in zip(self.laterals, taps[1:], strict=True)]
        maps = [lat[3]]  # stride 32, then top-down to stride 4
        for i, td in enumerate(self.topdown):
            maps.append(td(lat[2 - i] + _up(maps[-1], 2)))
        map4, map3, map2, map1 = maps
        pyramid = torch.cat([_up(self.heads[3](map4), 8), _up(self.heads[2](map3), 4),
                             _up(self.heads[1](map2), 2), self.heads[0](map1)], dim=1)
        smoothed = _up(self.smooth(pyramid), 2)
        smoothed = _up(self.smooth2(smoothed + map0), 2)
        return torch.clamp(x + torch.tanh(self.final(smoothed)), 0.0, 1.0)


@register_model(
    "deblurganv2_mnv2_deblur",
    card={"family": "deblurganv2_mnv2", "task": "deblur",
          "description": "DeblurGAN-v2 FPN generator on MobileNetV2 (the published reference design)"},
)
def deblurganv2_mnv2(**kwargs) -> DeblurGANv2MNV2:
    """Factory of the DeblurGAN-v2 MobileNetV2 generator."""
    return DeblurGANv2MNV2(**kwargs)
