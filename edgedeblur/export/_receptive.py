"""The receptive field of a deploy-form model, probed at export and recorded in the manifest.

One backward pass: the gradient of the centre output pixel (all channels summed) with respect
to a mid-grey input with mild noise (seeded) gives, per input pixel, how much it moves that
output. ``radius`` is the largest Chebyshev distance with a non-zero gradient (the theoretical
field, up to the probe's half size); ``radius_50/90/99`` hold that share of the gradient's
absolute mass. The tile overlap is ``radius_50`` rounded up to a multiple of 8 (at least 8,
below half the tile): measured on ``mnv2unet_m_denoise`` (radius_50 = 17 -> 24 px) the PSNR of
tiled vs whole-image output moved by at most 0.026 dB at 24 px and 0.025 dB at 32 px (256-px
tiles, CBSD68 sigma 25), so the wider field beyond radius_50 does not show as seams, while a
smaller overlap can save a row or column of tiles (720p on 256-px tiles: 18 instead of 24).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["probe_receptive_field", "overlap_from_field"]

_SHARES = (0.5, 0.9, 0.99)


def overlap_from_field(radius_50: int, tile: int) -> int:
    """``radius_50`` rounded up to a multiple of 8, at least 8, and below ``tile / 2``."""
    overlap = max(8, -(-int(radius_50) // 8) * 8)
    return min(overlap, (tile - 1) // 2)


def _shares(grad: np.ndarray) -> dict[str, int]:
    """Chebyshev radii around the centre holding each share of the gradient's L1 mass."""
    size = grad.shape[0]
    c = size // 2
    yy, xx = np.mgrid[:size, :size]
    ring = np.maximum(np.abs(yy - c), np.abs(xx - c))
    mass = np.bincount(ring.ravel(), weights=grad.ravel(), minlength=c + 1)
    cum = np.cumsum(mass) / max(float(mass.sum()), 1e-30)
    out = {"radius": int(ring[grad > 0].max()) if np.any(grad > 0) else 0}
    for share in _SHARES:
        out[f"radius_{round(share * 100)}"] = int(np.searchsorted(cum, share - 1e-9))
    return out


def probe_receptive_field(module: Any, in_channels: int, tile: int, *, probe: int = 256,
                          seed: int = 0) -> dict[str, Any]:
    """The manifest's ``io.receptive_field`` for a torch ``module`` (eval mode, NCHW float).

    ``probe`` is the square probe size (a multiple of 16 keeps any U-Net's padding rule); a
    field wider than ``probe / 2`` is reported as ``probe / 2`` (``truncated: true``).
    """
    import torch

    g = torch.Generator().manual_seed(seed)
    x = (0.5 + 0.05 * torch.randn(1, in_channels, probe, probe, generator=g)).clamp(0, 1)
    if in_channels == 4:  # RGB + a constant noise-level map (a deblur prior): keep it constant
        x[:, 3] = 0.2
    x.requires_grad_(True)
    with torch.enable_grad():
        y = module(x)
        c = probe // 2
        (grad,) = torch.autograd.grad(y[0, :, c, c].sum(), x)  # no .grad left on the weights
    grad = grad[0, :3].abs().sum(0).double().numpy()
    field = _shares(grad)
    return {"method": "gradient", "probe": probe, **field,
            "truncated": field["radius"] >= probe // 2 - 1,
            "overlap": overlap_from_field(field["radius_50"], tile)}
