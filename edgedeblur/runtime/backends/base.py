"""The protocol every inference backend implements, and the one table of backends.

A backend only moves tensors: it gets arrays already in the model's layout and dtype and
returns the raw output. Normalisation, quantization, layout, padding and tiling live in the
runner, once, so all backends run the same pre/post-processing.

:data:`BACKENDS` is the one table: for each backend its class (imported only when created),
the artifact formats it runs and those it is the default for, its short aliases and the pip
extra and distributions that hold it. Everything else (``BACKEND_FORMATS``,
``DEFAULT_BACKEND``, the aliases, ``create_backend``, the benchmark fingerprint) is read from
it, so a new engine is one :class:`BackendSpec` row and one backend class.
"""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from ...errors import ArtifactError, ConfigError, UnknownNameError

__all__ = ["BACKENDS", "BACKEND_FORMATS", "DEFAULT_BACKEND", "Backend", "BackendInfo", "BackendSpec",
           "FallbackWarning", "check_name", "create_backend", "fall_back"]


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


@dataclass(frozen=True)
class BackendSpec:
    """One row of the backend table."""

    name: str
    impl: str  # "module:Class" inside edgedeblur.runtime.backends
    formats: tuple[str, ...]  # artifact formats (manifest artifact.format) it can run
    default_for: tuple[str, ...]  # formats it runs when neither the caller nor the manifest names one
    extra: str  # pip extra that installs it
    packages: tuple[str, ...]  # distributions that provide it (first found is reported by edge-bench)
    aliases: tuple[str, ...] = ()

    def create(self) -> Backend:
        """A fresh, unloaded backend object (imports only the backend module, not its toolkit)."""
        module, cls = self.impl.split(":")
        return getattr(importlib.import_module(f"{__package__}.{module}"), cls)()


BACKENDS: dict[str, BackendSpec] = {b.name: b for b in (
    BackendSpec("onnxruntime", "onnxruntime:OnnxRuntimeBackend", ("onnx",), ("onnx",), "onnxruntime",
                ("onnxruntime", "onnxruntime-gpu", "onnxruntime-qnn"), ("ort",)),
    BackendSpec("openvino", "openvino:OpenVinoBackend", ("openvino", "onnx"), ("openvino",), "openvino",
                ("openvino",), ("ov",)),
    BackendSpec("litert", "litert:LiteRtBackend", ("tflite",), ("tflite",), "litert",
                ("ai-edge-litert", "tflite-runtime"), ("tflite",)),
    BackendSpec("opencv", "opencv:OpenCvBackend", ("onnx",), (), "opencv",
                ("opencv-python-headless", "opencv-python", "opencv-contrib-python"), ("cv2", "opencv-dnn")),
    BackendSpec("mnn", "mnn:MnnBackend", ("mnn",), ("mnn",), "mnn", ("MNN",)),
    BackendSpec("ncnn", "ncnn:NcnnBackend", ("ncnn",), ("ncnn",), "ncnn", ("ncnn",)),
)}

#: backend name -> artifact formats it can run (a view of BACKENDS)
BACKEND_FORMATS: dict[str, tuple[str, ...]] = {b.name: b.formats for b in BACKENDS.values()}
#: artifact format -> the backend that runs it by default (a view of BACKENDS)
DEFAULT_BACKEND: dict[str, str] = {f: b.name for b in BACKENDS.values() for f in b.default_for}
ALIASES: dict[str, str] = {a: b.name for b in BACKENDS.values() for a in b.aliases}


def create_backend(name: str) -> Backend:
    """A fresh, unloaded backend object for a (normalised) backend name."""
    try:
        spec = BACKENDS[name]
    except KeyError:
        raise UnknownNameError("backend", name, BACKENDS) from None
    return spec.create()


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
