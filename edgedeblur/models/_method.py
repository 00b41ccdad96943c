"""A zoo model behind the method protocol: ``restore(image) -> image`` on numpy arrays.

The same protocol the classical methods and the runtime runner follow, so ``edge-deblur``,
``edge-eval`` and ``edge-bench`` compare like for like. Padding is by reflection to
``pad_multiple`` and cropped back; grey images are replicated to RGB and the output channels
averaged (the zoo is trained on RGB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .._arrays import check_image
from ..errors import ArtifactError, InvalidInputError

__all__ = ["ModelMethod", "create_method", "pad_to_multiple"]


def pad_to_multiple(batch: Any, multiple: int) -> tuple[Any, int, int]:
    """Reflect-pad an NCHW tensor so H and W are multiples of ``multiple``; return pads too.

    Reflection needs the pad to be smaller than the side; tiny images fall back to replicate.
    """
    import torch.nn.functional as F

    h, w = batch.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph == 0 and pw == 0:
        return batch, 0, 0
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(batch, (0, pw, 0, ph), mode=mode), ph, pw


AUTO_TILE_PIXELS = 4_000_000  # above this, whole-image eager torch needs GBs of activations
AUTO_TILE, AUTO_OVERLAP = 512, 32


class ModelMethod:
    """A zoo model as a restoration method (PyTorch, deploy form, no grad).

    Inputs slightly outside [0, 1] (noisy images are not clipped in the papers' protocol) are
    accepted; the output is always clamped to [0, 1] and float32, same shape as the input.
    ``tile``: ``None`` runs the whole image, except above ``AUTO_TILE_PIXELS`` where 512-pixel
    tiles with 32-pixel blended overlap are used (the runtime runner's streaming tiler);
    ``0`` never tiles; a positive value (a multiple of ``pad_multiple``) always tiles.
    ``self_ensemble`` (1, 2, 4 or 8) averages that many flipped/rotated passes
    (:mod:`edgedeblur.runtime.ensemble`, the runtime's own, so both paths agree).
    """

    needs_kernel = False
    needs_sigma = False

    def __init__(self, model: Any, name: str, device: str = "cpu", tile: int | None = None,
                 overlap: int = AUTO_OVERLAP, self_ensemble: int = 1) -> None:
        import torch

        from ..runtime.ensemble import check_passes

        self.self_ensemble = check_passes(self_ensemble)
        self.name = name
        self.device = torch.device(device)
        self.model = model.to_deploy().to(self.device) if hasattr(model, "to_deploy") else model.eval()
        self.pad_multiple = int(getattr(model, "pad_multiple", 1) or 1)
        # a prior conditioned on the noise level takes RGB + a sigma map (runtime.pipeline)
        self.conditioned = int(getattr(model, "in_channels", 3) or 3) == 4
        if tile is not None and (tile < 0 or (tile and (tile % self.pad_multiple or overlap >= tile))):
            raise InvalidInputError(
                "tile must be 0 (off) or a positive multiple of the model's pad multiple, larger than the overlap",
                given=f"tile={tile}, overlap={overlap}", allowed=f"multiples of {self.pad_multiple}",
                hint=f"try tile={AUTO_TILE}")
        self.tile, self.overlap = tile, overlap

    def _run(self, batch: np.ndarray) -> np.ndarray:
        """B x H x W x 3 float32 -> same, through the net (padded and cropped back)."""
        import torch

        x = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 3, 1, 2)))
        h, w = x.shape[-2:]
        x, _, _ = pad_to_multiple(x.to(self.device), self.pad_multiple)
        with torch.no_grad():
            y = self.model(x)[..., :h, :w]
        return y.permute(0, 2, 3, 1).cpu().numpy().astype(np.float32)

    def _tile_for(self, h: int, w: int) -> int:
        if self.tile is None:
            return AUTO_TILE if h * w > AUTO_TILE_PIXELS else 0
        return self.tile

    def restore(
        self, image: np.ndarray, *, kernel: np.ndarray | None = None, sigma: float | None = None
    ) -> np.ndarray:
        """Restore one H x W or H x W x 3 float image; returns float32 of the same shape.

        ``kernel`` is part of the method protocol (``edgedeblur.methods``); zoo models are
        blind, so it is accepted and ignored. ``sigma`` (0-255 scale) is the strength of a
        noise-conditioned prior (estimated when ``None``) and ignored by blind models.
        """
        del kernel
        image = check_image(image)
        if self.conditioned and sigma is None:
            from ..runtime.deconv import MIN_SIGMA, estimate_noise_sigma

            sigma = max(estimate_noise_sigma(image), MIN_SIGMA)
        if self.self_ensemble > 1:
            from ..runtime.ensemble import self_ensemble

            return self_ensemble(lambda x: self._restore_once(x, sigma), image, self.self_ensemble)
        return self._restore_once(image, sigma)

    def _restore_once(self, image: np.ndarray, sigma: float | None = None) -> np.ndarray:
        grey = image.ndim == 2
        rgb = np.repeat(image[:, :, None], 3, axis=2) if grey else image
        rgb = np.ascontiguousarray(rgb, dtype=np.float32)
        if self.conditioned:
            from ..runtime.pipeline import noise_map_input

            rgb = noise_map_input(rgb, float(sigma))  # type: ignore[arg-type]
        h, w = rgb.shape[:2]
        tile = self._tile_for(h, w)
        if tile and h >= tile and w >= tile and (h > tile or w > tile):
            from ..runtime.tiling import run_tiled

            out = np.empty((h, w, 3), dtype=np.float32)
            run_tiled(rgb, self._run, out, tile, self.overlap, prepare=lambda t: t, finish=lambda r: r)
        else:
            out = self._run(rgb[None])[0]
        return out.mean(axis=2) if grey else out

    def __repr__(self) -> str:
        return f"ModelMethod({self.name!r}, device={str(self.device)!r})"


def create_method(name: str, device: str = "cpu", pretrained: bool = True,
                  tile: int | None = None, overlap: int = AUTO_OVERLAP, self_ensemble: int = 1,
                  weights: str | Path | None = None) -> ModelMethod:
    """The trained zoo model ``name`` as a method (``pretrained=False`` only for tests/timing).

    ``weights``: a ``.safetensors`` file of this architecture to use instead of the shipped
    weights, e.g. a training run's ``runs/<recipe>/weights.safetensors``, so a run can be scored
    (``edge-eval -m NAME -O weights=FILE``) before it is shipped. The method's name then records
    the file: ``NAME[FILE]``.
    """
    from ._registry import _load_weights, create_model

    if weights is None:
        return ModelMethod(create_model(name, pretrained=pretrained), name, device, tile, overlap, self_ensemble)
    path = Path(weights).expanduser()
    if not path.is_file():
        raise ArtifactError("weights file not found", given=str(weights), path=path,
                            allowed="a .safetensors file saved by edge-train for this model",
                            hint=f"e.g. -O weights=runs/{name}/weights.safetensors, or drop it for the shipped weights")
    model = create_model(name, pretrained=False)
    _load_weights(model, name, path)
    return ModelMethod(model.eval(), f"{name}[{path}]", device, tile, overlap, self_ensemble)
