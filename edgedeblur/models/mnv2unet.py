"""mnv2unet: a U-Net of MobileNetV2 inverted residuals, the zoo's main edge family.

Shape: 3x3 stem at full resolution -> per level a stride-2 inverted residual (4x4 depthwise,
padding 1: no PAD op in TFLite) plus ``depths[i]`` stride-1 inverted residuals -> decoder of
:class:`UpResize` (1x1 conv + ReLU6 at low resolution, bilinear x2) added to the skip, one
inverted residual per level -> 3x3 conv head, global residual ``x + f(x)``, clamp to [0, 1].

Why INT8-friendly: ReLU6 everywhere but the linear bottlenecks; add skips (no concat of
mismatched ranges); no PixelShuffle; BatchNorm folds; the output clamp fixes the output range.
Variants differ only in widths/depths (data in the ``register_model`` calls below) and span
about 1 to 20 GMAC per 1280x720 frame.
"""

from __future__ import annotations

import torch
from torch import nn

from ._base import ZooModel, encode_levels
from ._blocks import ClampResidualHead, ConvBNAct, Down, InvertedResidual, UpResize
from ._registry import register_model

__all__ = ["MNV2UNet", "VARIANTS"]


class MNV2UNet(ZooModel):
    """MobileNetV2-block U-Net; ``widths[i]`` channels at 1/2**i resolution.

    ``in_channels`` 4 makes it a noise-level-conditioned prior: the input is RGB plus a constant
    map of the noise sigma (0-255 scale divided by 255), the residual and output are RGB.

    ``depths[i]`` is the number of extra stride-1 inverted residuals at level ``i`` (level 0,
    full resolution, usually 0 to keep full-resolution cost low); ``expand`` the MobileNetV2
    expansion ratio.
    """

    def __init__(
        self,
        widths: tuple[int, ...] = (16, 24, 48, 96),
        depths: tuple[int, ...] = (0, 1, 2, 2),
        expand: int = 4,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if len(widths) != len(depths) or len(widths) < 2:
            raise ValueError("widths and depths must have the same length (at least 2 levels)")
        self.pad_multiple = 2 ** (len(widths) - 1)
        # in_channels 4: RGB plus a constant noise-level map (the conditioned deblur prior)
        self.in_channels = in_channels
        self.stem = ConvBNAct(in_channels, widths[0], 3)
        self.enc0 = nn.Sequential(*[InvertedResidual(widths[0], widths[0], 1, expand) for _ in range(depths[0])])
        self.downs = nn.ModuleList()
        for i in range(1, len(widths)):
            blocks: list[nn.Module] = [Down(widths[i - 1], widths[i], depthwise=True)]
            blocks += [InvertedResidual(widths[i], widths[i], 1, expand) for _ in range(depths[i])]
            self.downs.append(nn.Sequential(*blocks))
        self.ups = nn.ModuleList()
        self.merges = nn.ModuleList()
        for i in range(len(widths) - 1, 0, -1):
            self.ups.append(UpResize(widths[i], widths[i - 1]))
            # full resolution merges without expansion (as MobileNetV2's first block): 4x cheaper
            self.merges.append(InvertedResidual(widths[i - 1], widths[i - 1], 1, expand if i > 1 else 1))
        self.head = ClampResidualHead(widths[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feat, skips = encode_levels(x, self.stem, self.enc0, self.downs)
        for up, merge in zip(self.ups, self.merges, strict=True):
            feat = merge(up(feat) + skips.pop())
        return self.head(feat, x if self.in_channels == 3 else x[:, :3])


# name -> (widths, depths, expand); MACs per 720p are computed into the card, see docs/zoo.md.
VARIANTS: dict[str, tuple[tuple[int, ...], tuple[int, ...], int]] = {
    "xs": ((8, 12, 24, 48), (0, 0, 1, 2), 2),
    "s": ((12, 24, 48, 96), (0, 1, 1, 2), 2),
    "m": ((12, 24, 48, 96, 128), (0, 1, 2, 3, 2), 3),
    "l": ((16, 32, 64, 128, 192), (0, 1, 2, 3, 2), 4),
}


def mnv2unet(**kwargs) -> MNV2UNet:
    """Factory for every registered mnv2unet variant."""
    return MNV2UNet(**kwargs)


for _size, (_widths, _depths, _expand) in VARIANTS.items():
    for _task in ("deblur", "denoise"):
        register_model(
            f"mnv2unet_{_size}_{_task}",
            card={"family": "mnv2unet", "task": _task,
                  "description": f"MobileNetV2 inverted-residual U-Net, size {_size}"},
            widths=_widths,
            depths=_depths,
            expand=_expand,
        )(mnv2unet)

# The deblur pipeline's learned prior: sees the data step's output and the noise level
# (see edgedeblur/runtime/pipeline.py); warm-started from mnv2unet_m_denoise.
register_model(
    "mnv2unet_m_prior",
    card={"family": "mnv2unet", "task": "prior",
          "description": "MobileNetV2 U-Net size m, noise-level-conditioned deconvolution prior/refiner"},
    widths=VARIANTS["m"][0], depths=VARIANTS["m"][1], expand=VARIANTS["m"][2], in_channels=4,
)(mnv2unet)
