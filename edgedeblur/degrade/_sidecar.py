"""Reproducible degraded files: per-image seeds, atomic kernel/JSON writes and replay.

``edge-degrade`` writes, next to every degraded image, the kernel used (``.kernel.npy``) and a
JSON sidecar holding the spec and the seed; :func:`reproduce` turns a sidecar back into the
same pixels, so any pair in a data set can be regenerated or audited.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from ..io import atomic_write
from ._pipeline import DegradeResult, degrade
from ._spec import Degradation

__all__ = ["file_seed", "reproduce", "atomic_write", "save_npy", "save_json", "kernel_preview", "SIDECAR_VERSION"]

SIDECAR_VERSION = 1


def file_seed(seed: int, name: str) -> list[int]:
    """The seed for one file: ``[seed, crc32(name)]``, independent of batch order and size."""
    return [int(seed), zlib.crc32(name.encode("utf-8"))]


def save_npy(path: Path, array: np.ndarray) -> Path:
    """``np.save`` atomically (the file name is kept exactly, no ``.npy`` appended twice)."""
    def write(tmp: Path) -> None:
        with open(tmp, "wb") as fh:
            np.save(fh, array, allow_pickle=False)

    return atomic_write(path, write)


def save_json(path: Path, data: dict) -> Path:
    """Write ``data`` as indented JSON, atomically."""
    return atomic_write(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2) + "\n"))


def kernel_preview(kernel: np.ndarray, min_size: int = 128) -> np.ndarray:
    """A uint8 picture of a kernel: peak-normalised, enlarged with square pixels to ``min_size``."""
    k = kernel / max(float(kernel.max()), 1e-12)
    factor = max(1, -(-min_size // max(kernel.shape)))
    big = np.kron(k, np.ones((factor, factor), np.float32))
    return (np.clip(big, 0, 1) * 255 + 0.5).astype(np.uint8)


def reproduce(sidecar: str | Path) -> DegradeResult:
    """Re-run the degradation a sidecar describes, on the source image it names."""
    from ..io import read_image, to_float

    sidecar = Path(sidecar)
    try:
        data = json.loads(sidecar.read_text())
        spec = Degradation.from_dict(data["spec"])
        seed = data["rng_seed"]
        source = Path(data["source"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"not an edge-degrade sidecar ({exc})", path=sidecar) from exc
    return degrade(to_float(read_image(source)), spec, seed)
