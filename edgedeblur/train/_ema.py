"""Exponential moving average of a model's weights: the weights we ship.

A small restoration net trained with a high learning rate on small batches jitters from step to
step; the EMA ``ema = d * ema + (1 - d) * w`` averages that out and is typically a few tenths of
a dB better on validation. The decay ramps up as ``min(d, (1 + n) / (10 + n))`` so early,
still-random weights are forgotten quickly. Buffers (BatchNorm running statistics) are copied.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """Keeps ``self.module``, an eval-mode copy of a model whose weights are the EMA."""

    def __init__(self, model: nn.Module, decay: float = 0.999, updates: int = 0) -> None:
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)
        self.decay = float(decay)
        self.updates = int(updates)

    def current_decay(self) -> float:
        """The decay used by the next update (ramped up over the first updates)."""
        n = self.updates
        return min(self.decay, (1.0 + n) / (10.0 + n))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Blend ``model``'s parameters into the average; copy its buffers."""
        d = self.current_decay() if self.decay > 0 else 0.0
        self.updates += 1
        src = dict(model.named_parameters())
        for name, p in self.module.named_parameters():
            p.mul_(d).add_(src[name].detach().to(p.dtype), alpha=1.0 - d)
        src_buffers = dict(model.named_buffers())
        for name, b in self.module.named_buffers():
            b.copy_(src_buffers[name])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged model's state dict (what is saved as safetensors)."""
        return self.module.state_dict()
