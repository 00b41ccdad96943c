"""Count compute ops by precision in ONNX and OpenVINO files (TFLite lives in ``_tflite_ops``).

For QDQ ONNX and FakeQuantize OpenVINO graphs "INT8" means the op's activation input comes from
a DequantizeLinear / FakeQuantize node, i.e. the runtime can fuse it into an integer kernel.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import require

_ONNX_COMPUTE = {"Conv", "ConvTranspose", "MatMul", "Gemm", "Add", "Mul", "Concat", "Resize", "HardSwish",
                 "Relu", "Clip", "DepthToSpace", "Sigmoid"}
_OV_COMPUTE = {"Convolution", "GroupConvolution", "ConvolutionBackpropData", "MatMul"}


def onnx_op_precisions(path: Path) -> tuple[dict[str, int], list[str]]:
    """(counts of compute ops by precision, names of float compute ops) of an ONNX file."""
    onnx = require("onnx", "export", "inspecting ONNX files")
    g = onnx.load(str(path)).graph
    dq_outputs = {o for n in g.node if n.op_type == "DequantizeLinear" for o in n.output}
    counts = {"int8": 0, "float32": 0}
    floats = []
    for n in g.node:
        if n.op_type not in _ONNX_COMPUTE:
            continue
        if n.input and n.input[0] in dq_outputs:
            counts["int8"] += 1
        else:
            counts["float32"] += 1
            floats.append(f"{n.op_type}:{n.name}")
    return counts, floats


def openvino_op_precisions(path: Path) -> tuple[dict[str, int], list[str]]:
    """(counts of convolution-like ops by precision, names of float ones) of an OpenVINO IR."""
    ov = require("openvino", "openvino", "inspecting OpenVINO files")
    model = ov.Core().read_model(str(path))
    counts = {"int8": 0, "float32": 0}
    floats = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in _OV_COMPUTE:
            continue
        src = op.input_value(0).get_node()
        if src.get_type_name() == "FakeQuantize":
            counts["int8"] += 1
        else:
            counts["float32"] += 1
            floats.append(f"{op.get_type_name()}:{op.get_friendly_name()}")
    return counts, floats
