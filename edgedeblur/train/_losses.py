"""Training losses: pixel (L1, Charbonnier), frequency (FFT), adversarial (RaLSGAN, WGAN-GP).

Why each one:

* Charbonnier ``sqrt((x - y)^2 + eps^2)`` is L1 with a smooth minimum; restoration nets trained
  with it converge faster than with L2 and keep edges sharper.
* The FFT loss is L1 between ``rfft2`` spectra (real and imaginary parts, ``norm='ortho'``),
  as in MIMO-UNet: deblurring is about recovering high frequencies, which pixel losses
  underweight.
* The relativistic-average LSGAN is DeblurGAN-v2's adversarial loss; WGAN-GP is offered as the
  more stable alternative. Both work with the PatchGAN in :mod:`._disc`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

__all__ = ["charbonnier", "l1", "fft_l1", "PixelLoss", "ragan_ls_d", "ragan_ls_g",
           "wgan_d", "wgan_g", "gradient_penalty"]


def l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error."""
    return (pred - target).abs().mean()


def charbonnier(pred: torch.Tensor, target: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean of ``sqrt((pred - target)^2 + eps^2)`` (a differentiable L1)."""
    diff = pred - target
    return torch.sqrt(diff * diff + eps * eps).mean()


def fft_l1(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference of the orthonormal ``rfft2`` spectra (real and imaginary parts).

    Computed in float32 even under autocast (half-precision FFTs need power-of-two sizes).
    """
    fp = torch.fft.rfft2(pred.float(), norm="ortho")
    ft = torch.fft.rfft2(target.float(), norm="ortho")
    return torch.view_as_real(fp - ft).abs().mean()


class PixelLoss:
    """The weighted sum of the recipe's pixel and frequency losses; returns the parts for logging."""

    def __init__(self, weights: Mapping[str, Any]) -> None:
        self.w_l1 = float(weights.get("l1", 0.0))
        self.w_charb = float(weights.get("charbonnier", 0.0))
        self.eps = float(weights.get("charbonnier_eps", 1e-3))
        self.w_fft = float(weights.get("fft", 0.0))

    def __call__(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        parts: dict[str, torch.Tensor] = {}
        if self.w_l1:
            parts["l1"] = self.w_l1 * l1(pred, target)
        if self.w_charb:
            parts["charbonnier"] = self.w_charb * charbonnier(pred, target, self.eps)
        if self.w_fft:
            parts["fft"] = self.w_fft * fft_l1(pred, target)
        total = sum(parts.values())
        return total, {k: float(v.detach()) for k, v in parts.items()}  # type: ignore[return-value]


# --- adversarial -------------------------------------------------------------------------------
def ragan_ls_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Discriminator loss of the relativistic-average LSGAN (DeblurGAN-v2).

    Real patches should score 1 above the average fake, fakes 1 below the average real.
    """
    return 0.5 * (((d_real - d_fake.mean() - 1.0) ** 2).mean() + ((d_fake - d_real.mean() + 1.0) ** 2).mean())


def ragan_ls_g(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Generator loss of the relativistic-average LSGAN: the discriminator's targets swapped."""
    return 0.5 * (((d_real - d_fake.mean() + 1.0) ** 2).mean() + ((d_fake - d_real.mean() - 1.0) ** 2).mean())


def wgan_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Critic loss of WGAN (add :func:`gradient_penalty`)."""
    return d_fake.mean() - d_real.mean()


def wgan_g(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """Generator loss of WGAN (``d_real`` unused; same signature as the RaLSGAN pair)."""
    del d_real
    return -d_fake.mean()


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP: mean of ``(||grad critic(mix)|| - 1)^2`` on random interpolates of real and fake."""
    alpha = torch.rand(real.shape[0], 1, 1, 1, device=real.device, generator=generator)
    mix = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    score = critic(mix)
    (grad,) = torch.autograd.grad(score.sum(), mix, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1.0) ** 2).mean()


ADVERSARIAL = {"ragan_ls": (ragan_ls_d, ragan_ls_g), "wgan_gp": (wgan_d, wgan_g)}
