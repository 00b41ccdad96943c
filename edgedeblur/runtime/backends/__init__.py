"""Inference backends behind one protocol; each imports its toolkit only when loaded."""

from __future__ import annotations

from .base import (
    BACKEND_FORMATS,
    DEFAULT_BACKEND,
    Backend,
    BackendInfo,
    FallbackWarning,
    check_name,
)

__all__ = ["BACKEND_FORMATS", "DEFAULT_BACKEND", "Backend", "BackendInfo", "FallbackWarning",
           "create_backend", "check_name"]


def create_backend(name: str) -> Backend:
    """A fresh, unloaded backend object for a (normalised) backend name."""
    if name == "onnxruntime":
        from .onnxruntime import OnnxRuntimeBackend
        return OnnxRuntimeBackend()
    if name == "openvino":
        from .openvino import OpenVinoBackend
        return OpenVinoBackend()
    if name == "litert":
        from .litert import LiteRtBackend
        return LiteRtBackend()
    if name == "opencv":
        from .opencv import OpenCvBackend
        return OpenCvBackend()
    from ...errors import UnknownNameError

    raise UnknownNameError("backend", name, BACKEND_FORMATS)
