"""Inspect and repair TFLite flatbuffers: which ops are not INT8, and the final-clamp island.

ai-edge-quantizer leaves the model's final ``clamp(0, 1)`` (RELU_0_TO_1) in float between a
DEQUANTIZE and a QUANTIZE. When the output is quantized to a range inside [0, 1] the clamp is
exactly what int8 saturation does, so :func:`fold_output_clamp` replaces the three ops with one
int8->int8 QUANTIZE (a requantize), giving a file with no float op and the same numbers.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from ..errors import require

_INT_TYPES = {"int8", "uint8", "int16", "int32", "int64", "bool"}


def op_precisions(path: Path) -> tuple[dict[str, int], list[str]]:
    """(ops counted by precision, names of ops touching float tensors) of a .tflite file.

    Inspected without delegates so XNNPACK's fused DELEGATE nodes do not hide the real ops.
    """
    mod = require("ai_edge_litert.interpreter", "litert", "inspecting .tflite files")
    interp = mod.Interpreter(model_path=str(path),
                             experimental_op_resolver_type=mod.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    counts: Counter = Counter()
    float_ops: list[str] = []
    for op in interp._get_ops_details():
        types = {t.__name__ for t in (*op["operand_types"], *op["result_types"])}
        floats = sorted(t for t in types if t not in _INT_TYPES)
        if floats:
            counts[floats[0]] += 1
            float_ops.append(f"{op['op_name']}#{op['index']}({','.join(floats)})")
        else:
            counts["int8" if "int8" in types or "uint8" in types else "int32"] += 1
    return dict(counts), float_ops


def _q(tensor) -> tuple[float, int] | None:  # noqa: ANN001
    qp = tensor.quantization
    if qp is None or qp.scale is None or len(qp.scale) != 1:
        return None
    return float(qp.scale[0]), int(qp.zeroPoint[0])


def fold_output_clamp(path: Path) -> bool:
    """Replace DEQUANTIZE -> RELU_0_TO_1 -> QUANTIZE by one requantize; True when changed."""
    fb = require("ai_edge_litert.tools.flatbuffer_utils", "litert", "editing .tflite files")
    schema = require("ai_edge_litert.schema_py_generated", "litert", "editing .tflite files")
    model = fb.read_model(str(path))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    BO = schema.BuiltinOperator
    sg = model.subgraphs[0]
    producers = {o: i for i, op in enumerate(sg.operators) for o in op.outputs}
    consumers: dict[int, list[int]] = {}
    for i, op in enumerate(sg.operators):
        for t in op.inputs:
            consumers.setdefault(int(t), []).append(i)
    drop: set[int] = set()
    for i, op in enumerate(sg.operators):
        if codes[op.opcodeIndex] != BO.RELU_0_TO_1:
            continue
        deq = producers.get(op.inputs[0])
        users = consumers.get(int(op.outputs[0]), [])
        if deq is None or codes[sg.operators[deq].opcodeIndex] != BO.DEQUANTIZE or len(users) != 1:
            continue
        quant = sg.operators[users[0]]
        if codes[quant.opcodeIndex] != BO.QUANTIZE or len(consumers.get(int(op.inputs[0]), [])) != 1:
            continue
        q_in, q_out = sg.operators[deq].inputs[0], quant.outputs[0]
        out_q = _q(sg.tensors[q_out])
        if out_q is None or sg.tensors[q_out].type not in (schema.TensorType.INT8, schema.TensorType.UINT8):
            continue
        scale, zp = out_q
        qmin, qmax = (-128, 127) if sg.tensors[q_out].type == schema.TensorType.INT8 else (0, 255)
        lo, hi = scale * (qmin - zp), scale * (qmax - zp)
        if lo < -1e-6 or hi > 1 + 1e-3:  # saturation would not reproduce clamp(0, 1)
            continue
        quant.inputs = [q_in]
        drop.update({deq, i})
    if not drop:
        return False
    sg.operators = [op for i, op in enumerate(sg.operators) if i not in drop]
    fb.write_model(model, str(path))
    return True
