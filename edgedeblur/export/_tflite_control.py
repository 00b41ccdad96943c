"""Accuracy control for the static TFLite routes: the ops whose quantization costs most stay float.

ai-edge-quantizer's recipes are ordered (regex on an op's output tensor name, op type) rules, the
last match winning; a rule with ``algorithm_key=NO_QUANTIZE`` leaves that op in float, with a
DEQUANTIZE before and a QUANTIZE after it, in an otherwise integer file (the quantizer's
selective quantization). The calibration ranges are computed once
(``CALIBRATION_PRESERVE_ALL_TENSORS``, every tensor) and reused by every trial file. This module
builds and runs those trials in LiteRT on the calibration patches; the ranking and the stopping
rule are ``_sensitivity.select_float_layers`` (shared with onnx-int8 and ncnn-int8).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import require
from ._context import ExportJob
from ._sensitivity import select_float_layers

#: ops never ranked: no arithmetic of their own, or the quantizer's own boundary ops
UNRANKED = {"QUANTIZE", "DEQUANTIZE", "RESHAPE", "TRANSPOSE", "SQUEEZE", "EXPAND_DIMS"}


def ranked_ops(fp32: Path) -> list[str]:
    """The quantizer's scope names of the ops ranked (output tensor names, each followed by
    ``;``), in graph order."""
    fb = require("ai_edge_litert.tools.flatbuffer_utils", "litert", "editing .tflite files")
    schema = require("ai_edge_litert.schema_py_generated", "litert", "editing .tflite files")
    model = fb.read_model(str(fp32))
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    sg = model.subgraphs[0]
    out = []
    for op in sg.operators:
        if names.get(codes[op.opcodeIndex], "?") in UNRANKED or not len(op.outputs):
            continue
        tensors = [sg.tensors[t].name for t in op.outputs if t != -1]
        out.append("".join(f"{n.decode() if isinstance(n, bytes) else n};" for n in tensors))
    return out


def keep_rules(quantizer, keep: set[str]) -> None:  # noqa: ANN001 - an ai_edge_quantizer.Quantizer
    """Add one NO_QUANTIZE rule per op kept in float (exact match of its scope name)."""
    from ai_edge_quantizer import qtyping
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    for name in sorted(keep):
        quantizer.update_quantization_recipe(f"^{re.escape(name)}$", qtyping.TFLOperationName.ALL_SUPPORTED,
                                             algorithm_key=AlgorithmName.NO_QUANTIZE)


def run_tflite(path: Path, inputs: list[np.ndarray]) -> list[np.ndarray]:
    """NHWC float outputs of a .tflite file on NHWC float inputs (quantizing I/O as it declares)."""
    mod = require("ai_edge_litert.interpreter", "litert", "running .tflite files")
    interp = mod.Interpreter(model_path=str(path), num_threads=2)
    interp.allocate_tensors()
    i, o = interp.get_input_details()[0], interp.get_output_details()[0]
    outs = []
    for x in inputs:
        if np.issubdtype(i["dtype"], np.integer):
            scale, zp = i["quantization"]
            info = np.iinfo(i["dtype"])
            x = np.clip(np.rint(x / scale) + zp, info.min, info.max).astype(i["dtype"])
        interp.set_tensor(i["index"], x.astype(i["dtype"], copy=False))
        interp.invoke()
        y = interp.get_tensor(o["index"])
        if np.issubdtype(o["dtype"], np.integer):
            scale, zp = o["quantization"]
            y = (y.astype(np.float32) - zp) * np.float32(scale)
        outs.append(np.asarray(y[0], dtype=np.float32))
    return outs


def keep_float(job: ExportJob, fp32: Path, build: Callable[[set[str], Path], None],
               max_drop: float) -> tuple[list[str], dict]:
    """(output tensor names of the ops to keep in float, the manifest record of the search)."""
    from ..metrics import psnr

    patches = job.calib.calib
    inputs = job.calib.calib_batches("NHWC")

    def scores(path: Path, count: int) -> np.ndarray:
        return np.asarray([psnr(p.clean, np.clip(y, 0.0, 1.0), quantize=False)
                           for p, y in zip(patches[:count], run_tflite(path, inputs[:count]), strict=True)])

    base = scores(fp32, len(patches))
    trial = job.workdir / f"tflite-control-{job.out_path.stem}.tflite"

    def drop(keep: set[str], count: int) -> float:
        build(keep, trial)
        return float(np.mean(base[:count] - scores(trial, count)))

    return select_float_layers(ranked_ops(fp32), drop, len(patches), max_drop,
                               rank=bool(job.options.get("sensitivity_always", False)))
