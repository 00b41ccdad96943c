"""ONNX Runtime backend: execution providers by short name, CPU fallback reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import require
from .base import BackendInfo, check_name, fall_back, load_failed

#: short device name -> execution provider
PROVIDERS = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "tensorrt": "TensorrtExecutionProvider",
    "qnn": "QNNExecutionProvider",
    "nnapi": "NnapiExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "openvino": "OpenVINOExecutionProvider",
    "dml": "DmlExecutionProvider",
}
_ORT_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16",
              "tensor(int8)": "int8", "tensor(uint8)": "uint8"}


class OnnxRuntimeBackend:
    """``onnxruntime.InferenceSession`` with one requested provider plus the CPU provider."""

    name = "onnxruntime"

    def __init__(self) -> None:
        self.session = None
        self.info = BackendInfo(self.name, "", "cpu")

    def load(self, path: Path, *, device: str | None = None, threads: int | None = None,
             delegate: str | None = None, strict: bool = False) -> None:
        ort = require("onnxruntime", "onnxruntime", "running ONNX models with ONNX Runtime")
        device = check_name("ONNX Runtime device", device or "cpu", PROVIDERS)
        if delegate:
            check_name("ONNX Runtime execution provider", delegate, PROVIDERS)
            device = delegate.lower()
        wanted = PROVIDERS[device]
        available = ort.get_available_providers()
        fallback = None
        providers = ["CPUExecutionProvider"]
        if wanted != "CPUExecutionProvider":
            if wanted in available:
                providers = [wanted, "CPUExecutionProvider"]
            else:
                fallback = fall_back(f"ONNX Runtime provider {wanted}",
                                     f"this onnxruntime build has {', '.join(available)}", strict=strict)
        opts = ort.SessionOptions()
        if threads:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(path), sess_options=opts, providers=providers)
        except Exception as exc:  # ORT raises its own exception types for bad files
            raise load_failed(path, self.name, exc) from exc
        active = self.session.get_providers()
        if wanted not in active and fallback is None and wanted != "CPUExecutionProvider":
            fallback = fall_back(f"ONNX Runtime provider {wanted}", "the session did not enable it",
                                 strict=strict)
        used = next((k for k, v in PROVIDERS.items() if v == active[0]), active[0])
        self.info = BackendInfo(self.name, ort.__version__, used, requested_device=device,
                                threads=threads, fallback=fallback, extra={"providers": active})
        self._in = self.session.get_inputs()[0].name
        self._out = self.session.get_outputs()[0].name

    def run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run([self._out], {self._in: x})[0]

    def close(self) -> None:
        self.session = None

    @property
    def input_details(self) -> dict:
        i = self.session.get_inputs()[0]
        return {"name": i.name, "shape": [d if isinstance(d, int) else -1 for d in i.shape],
                "dtype": _ORT_TYPES.get(i.type, i.type), "scale": None, "zero_point": None}
