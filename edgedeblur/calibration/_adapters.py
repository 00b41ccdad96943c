"""Feed a :class:`CalibrationSource` to each quantizer in the form it wants.

ONNX Runtime pulls dicts through a ``CalibrationDataReader``; NNCF wraps an iterable in
``nncf.Dataset``; ai-edge-quantizer takes ``{signature: [{input_name: array}, ...]}``. The arrays
are the same seeded patches in every case, so the three INT8 routes are comparable.
"""

from __future__ import annotations

from typing import Any

from ..errors import require
from ._source import CalibrationSource


def ort_reader(source: CalibrationSource, input_name: str) -> Any:
    """An ``onnxruntime.quantization.CalibrationDataReader`` over the calibration patches."""
    q = require("onnxruntime.quantization", "onnxruntime", "ONNX INT8 calibration")

    class _Reader(q.CalibrationDataReader):
        def __init__(self) -> None:
            self._items = iter(source.calib_batches("NCHW"))

        def get_next(self) -> dict | None:
            x = next(self._items, None)
            return None if x is None else {input_name: x}

        def rewind(self) -> None:
            self._items = iter(source.calib_batches("NCHW"))

    return _Reader()


def nncf_dataset(source: CalibrationSource) -> Any:
    """An ``nncf.Dataset`` of NCHW float32 patches."""
    nncf = require("nncf", "export", "OpenVINO INT8 calibration")
    return nncf.Dataset(source.calib_batches("NCHW"))


def litert_dataset(source: CalibrationSource, input_name: str, signature: str = "serving_default") -> dict:
    """ai-edge-quantizer calibration data: NHWC patches under the model's signature."""
    return {signature: [{input_name: x} for x in source.calib_batches("NHWC")]}
