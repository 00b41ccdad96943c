"""OpenCV DNN backend: fp32 or QDQ ONNX files on the CPU (CUDA when OpenCV was built with it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import require
from .base import BackendInfo, check_name, fall_back, load_failed

DEVICES = ("cpu", "cuda")


class OpenCvBackend:
    """``cv2.dnn.readNet`` + ``forward``; shapes are not introspectable, so none are reported."""

    name = "opencv"

    def __init__(self) -> None:
        self.net = None
        self.info = BackendInfo(self.name, "", "cpu")

    def load(self, path: Path, *, device: str | None = None, threads: int | None = None,
             delegate: str | None = None, strict: bool = False) -> None:
        cv2 = require("cv2", "opencv", "running ONNX models with OpenCV DNN")
        device = check_name("OpenCV DNN device", delegate or device or "cpu", DEVICES)
        try:
            self.net = cv2.dnn.readNet(str(path))
        except cv2.error as exc:
            raise load_failed(path, self.name, exc) from exc
        fallback = None
        if device == "cuda":
            has_cuda = hasattr(cv2, "cuda") and cv2.cuda.getCudaEnabledDeviceCount() > 0
            if has_cuda:
                self.net.setPreferableBackend(cv2.dnn.DNN_BACKEND_CUDA)
                self.net.setPreferableTarget(cv2.dnn.DNN_TARGET_CUDA)
            else:
                fallback = fall_back("OpenCV DNN CUDA target", "no CUDA device or OpenCV built without CUDA",
                                     strict=strict)
                device = "cpu"
        if threads:
            cv2.setNumThreads(int(threads))
        self.info = BackendInfo(self.name, cv2.__version__, device, requested_device=device,
                                threads=threads, fallback=fallback)

    def run(self, x: np.ndarray) -> np.ndarray:
        self.net.setInput(np.ascontiguousarray(x))
        return self.net.forward()

    def close(self) -> None:
        self.net = None

    @property
    def input_details(self) -> dict:
        return {"name": None, "shape": None, "dtype": None, "scale": None, "zero_point": None}
