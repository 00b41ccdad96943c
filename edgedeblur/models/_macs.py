"""Multiply-accumulate counting with forward hooks (no third-party profiler).

Counted: ``Conv2d`` (output elements x input channels per group x kernel area),
``ConvTranspose2d`` (input elements x output channels per group x kernel area) and ``Linear``
(output elements x in_features). Biases, BatchNorm, activations, adds and resizes are not
counted: they fold away or are negligible next to the convs, and this is the convention of the
papers we compare with (DeblurGAN-v2's "GFLOPs" are MACs in this sense).
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

__all__ = ["count_macs", "count_params"]


def _conv_macs(module: nn.Conv2d, out: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    return int(out.numel()) * (module.in_channels // module.groups) * kh * kw


def _deconv_macs(module: nn.ConvTranspose2d, inp: torch.Tensor) -> int:
    kh, kw = module.kernel_size
    return int(inp.numel()) * (module.out_channels // module.groups) * kh * kw


def _linear_macs(module: nn.Linear, out: torch.Tensor) -> int:
    return int(out.numel()) * module.in_features


def count_params(model: nn.Module) -> int:
    """Number of parameters (all, trainable or not)."""
    return int(sum(p.numel() for p in model.parameters()))


def input_channels(model: nn.Module) -> int:
    """Channels the net takes: 3 (RGB), or 4 for a prior conditioned on a noise-level map."""
    return int(getattr(model, "in_channels", 3) or 3)


def count_macs(model: nn.Module, h: int = 720, w: int = 1280) -> int:
    """MACs of one forward pass on a 1xCxHxW input (batch 1, C from :func:`input_channels`).

    H and W are first rounded up to ``model.pad_multiple`` (what ``create_method`` feeds the
    net), so ``count_macs(model)`` is the cost of restoring one 1280x720 frame. The pass runs on
    the ``meta`` device (shapes only, no memory, instant) and falls back to a real CPU pass
    for modules that cannot run on meta.
    """
    if h < 1 or w < 1:
        raise ValueError(f"h and w must be positive, got {h}x{w}")
    m = int(getattr(model, "pad_multiple", 1) or 1)
    h, w = math.ceil(h / m) * m, math.ceil(w / m) * m
    total = 0

    def hook(module: nn.Module, inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            total += _conv_macs(module, output)
        elif isinstance(module, nn.ConvTranspose2d):
            total += _deconv_macs(module, inputs[0])
        elif isinstance(module, nn.Linear):
            total += _linear_macs(module, output)

    def run(device: str) -> int:
        nonlocal total
        total = 0
        probe = copy.deepcopy(model).eval().to(device)
        handles = [
            mod.register_forward_hook(hook)
            for mod in probe.modules()
            if isinstance(mod, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
        ]
        try:
            with torch.no_grad():
                probe(torch.zeros(1, input_channels(model), h, w, device=device))
        finally:
            for handle in handles:
                handle.remove()
        return total

    try:
        return run("meta")
    except (NotImplementedError, RuntimeError):
        return run("cpu")
