"""The PatchGAN discriminator for the GAN-trained variants (DeblurGAN-v2's local discriminator).

Each output pixel scores one receptive-field patch (70x70 with 3 layers) as real or restored,
so the adversarial signal is about local texture, not global content. Instance norm (as
pix2pix / DeblurGAN) and LeakyReLU; no norm on the first and last layers. It is a training-only
network: never exported, never shipped.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["PatchDiscriminator"]


class PatchDiscriminator(nn.Module):
    """``layers`` stride-2 4x4 convs from ``width`` channels (doubling, at most 8x), then 2 stride-1."""

    def __init__(self, in_channels: int = 3, width: int = 32, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, 2, 1), nn.LeakyReLU(0.2)]
        ch = width
        for i in range(1, layers):
            nxt = width * min(2**i, 8)
            blocks += [nn.Conv2d(ch, nxt, 4, 2, 1), nn.InstanceNorm2d(nxt, affine=True), nn.LeakyReLU(0.2)]
            ch = nxt
        nxt = width * min(2**layers, 8)
        blocks += [nn.Conv2d(ch, nxt, 4, 1, 1), nn.InstanceNorm2d(nxt, affine=True), nn.LeakyReLU(0.2),
                   nn.Conv2d(nxt, 1, 4, 1, 1)]
        self.net = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """N x 1 x h x w patch scores (unbounded: both losses work on raw scores)."""
        return self.net(x)
