"""LiteRT (TFLite) backend: XNNPACK by default, external delegates by name or path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import require
from .base import BackendInfo, check_name, fall_back, load_failed

#: delegate short name -> shared library looked up by the dynamic loader
DELEGATES = {
    "xnnpack": None,  # built in, the default
    "none": None,  # LiteRT's builtin kernels without XNNPACK: a cross-check when a delegate is suspect
    "gpu": "libtensorflowlite_gpu_delegate.so",
    "nnapi": "libnnapi_delegate.so",
    "qnn": "libQnnTFLiteDelegate.so",
    "hexagon": "libhexagon_delegate.so",
    "armnn": "libarmnnDelegate.so",
}


class LiteRtBackend:
    """``ai_edge_litert.interpreter.Interpreter``; dynamic H/W models are resized per shape."""

    name = "litert"

    def __init__(self) -> None:
        self.interp = None
        self.info = BackendInfo(self.name, "", "cpu")

    def load(self, path: Path, *, device: str | None = None, threads: int | None = None,
             delegate: str | None = None, strict: bool = False) -> None:
        mod = require("ai_edge_litert.interpreter", "litert", "running .tflite models with LiteRT")
        if device and device.lower() not in ("cpu", *DELEGATES):
            check_name("LiteRT device", device, ("cpu", *DELEGATES))
        delegate = delegate or (device if device and device.lower() != "cpu" else None)
        delegates, fallback, used = [], None, "xnnpack"
        if delegate:
            library = self._delegate_library(delegate)
            if library is not None:
                try:
                    delegates = [mod.load_delegate(library)]
                    used = delegate
                except (ValueError, OSError, RuntimeError) as exc:
                    fallback = fall_back(f"LiteRT delegate {delegate!r}", f"{exc}".strip() or "failed to load",
                                         strict=strict, path=Path(library))
        kwargs = {}
        if delegate and delegate.lower() == "none":
            kwargs["experimental_op_resolver_type"] = mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
            used = "none"
        try:
            self.interp = mod.Interpreter(model_path=str(path), num_threads=threads,
                                          experimental_delegates=delegates or None, **kwargs)
            self.interp.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise load_failed(path, self.name, exc) from exc
        self._shape = tuple(self.interp.get_input_details()[0]["shape"])
        try:
            from importlib.metadata import version
            ver = version("ai-edge-litert")
        except Exception:  # metadata missing in some vendor builds
            ver = "unknown"
        self.info = BackendInfo(self.name, ver, "cpu" if used in ("xnnpack", "none") else used,
                                requested_device=delegate or "cpu", delegate=used, threads=threads,
                                fallback=fallback)

    @staticmethod
    def _delegate_library(delegate: str) -> str | None:
        """A short name from DELEGATES, or a path to a delegate .so."""
        if "/" in delegate or delegate.endswith((".so", ".dll", ".dylib")):
            return delegate
        key = check_name("LiteRT delegate", delegate, DELEGATES)
        return DELEGATES[key]

    def run(self, x: np.ndarray) -> np.ndarray:
        inp = self.interp.get_input_details()[0]
        if tuple(x.shape) != self._shape:
            self.interp.resize_tensor_input(inp["index"], list(x.shape), strict=False)
            self.interp.allocate_tensors()
            self._shape = tuple(x.shape)
            inp = self.interp.get_input_details()[0]
        self.interp.set_tensor(inp["index"], x)
        self.interp.invoke()
        return self.interp.get_tensor(self.interp.get_output_details()[0]["index"]).copy()

    def close(self) -> None:
        self.interp = None

    @property
    def input_details(self) -> dict:
        d = self.interp.get_input_details()[0]
        sig = d.get("shape_signature", d["shape"])
        scale, zp = d.get("quantization", (0.0, 0))
        return {"name": d["name"], "shape": [int(s) for s in sig], "dtype": np.dtype(d["dtype"]).name,
                "scale": float(scale) if scale else None, "zero_point": int(zp) if scale else None}
