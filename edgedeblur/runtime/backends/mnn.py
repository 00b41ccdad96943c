"""MNN backend: ``MNN.nn`` module API on MNN's CPU backend, fp32 arithmetic ("precision high")."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ...errors import InvalidInputError, require
from .base import BackendInfo, check_name, fall_back, load_failed

DEVICES = ("cpu", "opencl", "vulkan", "metal", "cuda")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """MNN's C++ prints CPU features and the precision mode on stdout at import and load."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _channel_dim(shape: list[int]) -> int | None:
    return int(shape[1]) if len(shape) == 4 and int(shape[1]) > 0 else None


def _check_input(x: np.ndarray, channels: int | None) -> None:
    """MNN aborts the process (SIGSEGV) on a channel mismatch: refuse it here with an error."""
    if x.ndim != 4 or (channels is not None and x.shape[1] != channels):
        raise InvalidInputError("input tensor does not fit the model", given=list(x.shape),
                                allowed=f"N x {channels or 'C'} x H x W float32")


class MnnBackend:
    """``MNN.nn.load_module_from_file`` with mutable shapes; NCHW in and out.

    The PyPI wheel's engine runs on the CPU; another MNN device is reported as a fallback (this
    runtime has no way to check that MNN used it). Precision "high" keeps float layers in fp32,
    the precision the export's parity was measured in; INT8 files run MNN's int8 kernels.
    """

    name = "mnn"

    def __init__(self) -> None:
        self.module = None
        self.info = BackendInfo(self.name, "", "cpu")

    def load(self, path: Path, *, device: str | None = None, threads: int | None = None,
             delegate: str | None = None, strict: bool = False) -> None:
        with _quiet():
            mnn = require("MNN", "mnn", "running .mnn models with MNN")
        device = check_name("MNN device", delegate or device or "cpu", DEVICES)
        fallback = None
        if device != "cpu":
            fallback = fall_back(f"MNN device {device!r}", "this runtime drives MNN's CPU backend only",
                                 strict=strict)
        config: dict = {"backend": "CPU", "precision": "high"}
        if threads:
            config["numThread"] = int(threads)
        try:
            with _quiet():
                manager = mnn.nn.create_runtime_manager((config,))
                self.module = mnn.nn.load_module_from_file(str(path), [], [], runtime_manager=manager,
                                                           shape_mutable=True)
            if self.module is None:
                raise RuntimeError("MNN returned no module")
            self._info = self.module.get_info()
        except Exception as exc:  # MNN raises plain RuntimeError/TypeError for bad files
            raise load_failed(path, self.name, exc) from exc
        self._expr = mnn.expr
        self._channels = _channel_dim(self._info["inputs"][0].shape)
        version = self._info.get("version") or getattr(mnn, "version", lambda: "unknown")()
        self.info = BackendInfo(self.name, str(version), "cpu", requested_device=device, threads=threads,
                                fallback=fallback, extra={"precision": "high", "layout": "NCHW"})

    def run(self, x: np.ndarray) -> np.ndarray:
        _check_input(x, self._channels)
        e = self._expr
        y = self.module.forward(e.const(np.ascontiguousarray(x), list(x.shape), e.NCHW))
        return np.array(e.convert(y, e.NCHW).read(), dtype=np.float32, copy=True)

    def close(self) -> None:
        self.module = None

    @property
    def input_details(self) -> dict:
        first = self._info["inputs"][0]
        names = self._info.get("inputNames") or [None]
        dtype = "float32" if "float" in str(first.dtype) else str(first.dtype)
        return {"name": names[0], "shape": [int(d) for d in first.shape], "dtype": dtype,
                "scale": None, "zero_point": None}
