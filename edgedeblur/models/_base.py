"""The base class every zoo network derives from: the I/O contract and ``to_deploy``."""

from __future__ import annotations

import torch
from torch import nn

from ._blocks import fuse_for_deploy

__all__ = ["ZooModel", "encode_levels"]


def encode_levels(x: torch.Tensor, stem: nn.Module, enc0: nn.Module,
                  downs: nn.ModuleList) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The U-Net encoder pass: the deepest features and the skips of the shallower levels
    (full resolution first), as the mnv2unet and nasunet decoders consume them."""
    feat = enc0(stem(x))
    skips = [feat]
    for down in downs:
        feat = down(feat)
        skips.append(feat)
    skips.pop()
    return feat, skips


class ZooModel(nn.Module):
    """NCHW float32 RGB in [0, 1] in, the same shape out, clamped to [0, 1].

    Subclasses set ``pad_multiple``: H and W must be multiples of it (``create_method`` pads by
    reflection and crops back). ``to_deploy()`` returns an eval-mode copy with BatchNorm folded
    and re-parameterised branches merged, numerically equal to the training form in eval mode.
    """

    pad_multiple: int = 1

    def to_deploy(self) -> nn.Module:
        """Export-ready copy: BN folded, branches merged, eval mode, no grad needed."""
        deployed = fuse_for_deploy(self)
        for p in deployed.parameters():
            p.requires_grad_(False)
        return deployed
