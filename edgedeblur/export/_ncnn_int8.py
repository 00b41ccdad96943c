"""ncnn INT8 without ncnn's C++ tools (placeholder until the writer lands)."""

from __future__ import annotations

from ..errors import ConfigError
from ._context import ExportJob, ExportResult


def quantize_ncnn(job: ExportJob) -> ExportResult:
    """Refuse: ncnn2table and ncnn2int8 are not in the PyPI wheels."""
    raise ConfigError("ncnn-int8 cannot be made here: ncnn's INT8 tools (ncnn2table, ncnn2int8) are C++ "
                      "programs that the PyPI ncnn and pnnx wheels do not ship", path=job.out_path,
                      hint="export ncnn-fp32 or ncnn-fp16, or another INT8 target (onnx-int8, openvino-int8)")
