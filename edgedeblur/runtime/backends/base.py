"""The protocol every inference backend implements, and how names map to backends.

A backend only moves tensors: it gets arrays already in the model's layout and dtype and
returns the raw output. Normalisation, quantization, layout, padding and tiling live in the
runner, once, so all backends run the same pre/post-processing.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ...errors import ArtifactError, ConfigError, UnknownNameError

__all__ = ["Backend", "BackendInfo", "FallbackWarning", "fall_back", "BACKEND_FORMATS", "check_name"]

#: backend name -> artifact formats it can run
BACKEND_FORMATS = {
    "onnxruntime": ("onnx",),
    "openvino": ("openvino", "onnx"),
    "litert": ("tflite",),
    "opencv": ("onnx",),
}
DEFAULT_BACKEND = {"onnx": "onnxruntime", "openvino": "openvino", "tflite": "litert"}
ALIASES = {"ort": "onnxruntime", "ov": "openvino", "tflite": "litert", "cv2": "opencv", "opencv-dnn": "opencv"}


class FallbackWarning(UserWarning):
    """A requested device, execution provider or delegate was not used; something else was."""


@dataclass
class BackendInfo:
    """What a loaded backend actually uses (reported by edge-bench and on the runner)."""

    name: str
    version: str
    device: str
    requested_device: str | None = None
    delegate: str | None = None
    threads: int | None = None
    fallback: str | None = None  # why the requested device/delegate is not in use, or None
    extra: dict = field(default_factory=dict)


class Backend(Protocol):
    """``load`` the file, ``run`` one batch, ``close``; ``input_details`` describes the model."""

    info: BackendInfo

    def load(self, path: Path, *, device: str | None, threads: int | None,
             delegate: str | None, strict: bool) -> None: ...

    def run(self, x: np.ndarray) -> np.ndarray: ...

    def close(self) -> None: ...

    @property
    def input_details(self) -> dict:
        """``{"name", "shape" (ints, -1 dynamic), "dtype" (numpy name), "scale", "zero_point"}``."""
        ...


def check_name(kind: str, name: str | None, choices: dict | tuple | list) -> str | None:
    """Normalise a user-given name (case, aliases) or raise UnknownNameError with a suggestion."""
    if name is None:
        return None
    key = name.lower().strip()
    key = ALIASES.get(key, key) if kind == "backend" else key
    if key not in choices:
        raise UnknownNameError(kind, name, list(choices))
    return key


def fall_back(what: str, reason: str, *, strict: bool, path: Path | None = None) -> str:
    """Warn that ``what`` is not used (or raise ConfigError when ``strict``); return the reason."""
    message = f"{what} is not available ({reason}); falling back"
    if strict:
        raise ConfigError(f"{what} is not available ({reason})", path=path,
                          hint="drop strict=True (--strict) to fall back to the CPU")
    warnings.warn(message, FallbackWarning, stacklevel=3)
    return message


def load_failed(path: Path, backend: str, exc: BaseException) -> ArtifactError:
    """The backend refused the file: truncated, wrong format, unsupported ops."""
    return ArtifactError(f"{backend} could not load the model ({type(exc).__name__}: {exc})".strip(),
                         path=path, hint="re-export the artifact, or try another backend")
