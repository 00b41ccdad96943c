"""Checkpoints: weights as safetensors (no pickle), optimiser state as a weights-only torch file.

A run folder holds ``checkpoint/`` (model, EMA, discriminator weights + ``state.pt``, written
atomically: a half-written checkpoint is never picked up by ``--resume``) and
``weights.safetensors`` (the EMA model: what ships). Shipped weights carry the recipe name and
step in the safetensors metadata so a file can always be traced to the run that made it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import ArtifactError, require
from ..io import atomic_write

__all__ = ["save_weights", "load_weights", "save_checkpoint", "load_checkpoint", "CHECKPOINT_DIR"]

CHECKPOINT_DIR = "checkpoint"


def _contiguous(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in state.items()}


def save_weights(path: str | Path, state: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> Path:
    """Write a state dict as safetensors, atomically (temporary file in the folder, then rename)."""
    st = require("safetensors.torch", "train", "saving weights")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {k: str(v) for k, v in (metadata or {}).items()}
    return atomic_write(path, lambda tmp: st.save_file(_contiguous(state), str(tmp), metadata=meta),
                        suffix=".safetensors")


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors state dict, raising :class:`ArtifactError` naming the file."""
    st = require("safetensors.torch", "train", "loading weights")
    try:
        return st.load_file(str(path))
    except Exception as exc:  # safetensors has its own exception types
        raise ArtifactError(f"cannot read weights ({exc})", path=path) from exc


def save_checkpoint(run_dir: Path, *, model: nn.Module, ema: nn.Module, state: dict[str, Any],
                    disc: nn.Module | None = None) -> Path:
    """Write ``run_dir/checkpoint`` atomically (a sibling temp folder renamed into place)."""
    def write(tmp: Path) -> None:
        save_weights(tmp / "model.safetensors", model.state_dict())
        save_weights(tmp / "ema.safetensors", ema.state_dict())
        if disc is not None:
            save_weights(tmp / "disc.safetensors", disc.state_dict())
        torch.save(state, tmp / "state.pt")

    return atomic_write(Path(run_dir) / CHECKPOINT_DIR, write, folder=True)


def load_checkpoint(run_dir: Path) -> dict[str, Any]:
    """Read ``run_dir/checkpoint``: ``{'model', 'ema', 'disc' (or None), 'state'}``."""
    folder = Path(run_dir) / CHECKPOINT_DIR
    if not (folder / "state.pt").is_file():
        raise ArtifactError("no checkpoint to resume from", path=folder,
                            hint="run without --resume to start a new run, or pass the run's --out folder")
    try:
        state = torch.load(folder / "state.pt", map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ArtifactError(f"unreadable checkpoint state ({exc})", path=folder / "state.pt") from exc
    disc = folder / "disc.safetensors"
    return {
        "model": load_weights(folder / "model.safetensors"),
        "ema": load_weights(folder / "ema.safetensors"),
        "disc": load_weights(disc) if disc.is_file() else None,
        "state": state,
    }
