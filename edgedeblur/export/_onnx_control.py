"""Accuracy control for onnx-int8: the convolutions whose INT8 costs the most stay float.

ONNX Runtime has no accuracy-aware quantization of its own; ``quantize_static`` takes
``nodes_to_exclude`` (nodes left float in an otherwise QDQ file). This module builds and runs the
trial files in ONNX Runtime on the calibration patches; the ranking and the stopping rule are
``_sensitivity.select_float_layers`` (shared with ncnn-int8 and tflite-int8).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..errors import require
from ._context import ExportJob
from ._sensitivity import select_float_layers

#: op types never ranked (they hold no arithmetic ORT would quantize)
UNRANKED_OPS = ("QuantizeLinear", "DequantizeLinear", "Constant", "Shape", "Reshape", "Transpose", "Identity")


def ranked_nodes(path: Path) -> list[str]:
    """Names of the nodes ranked, in graph order: every node ``quantize_static`` may quantize
    (convolutions, and the adds, clips and resizes whose activations it quantizes too)."""
    onnx = require("onnx", "export", "ONNX INT8 quantization")
    graph = onnx.load(str(path), load_external_data=False).graph
    return [n.name for n in graph.node if n.op_type not in UNRANKED_OPS and n.name]


def keep_float(job: ExportJob, pre: Path, input_name: str, quantize: Callable[[set[str], Path], None],
               max_drop: float) -> tuple[list[str], dict]:
    """(nodes to keep in float, the manifest record of the search)."""
    from ..metrics import psnr

    ort = require("onnxruntime", "onnxruntime", "ONNX INT8 quantization")
    patches = job.calib.calib
    inputs = job.calib.calib_batches("NCHW")

    def scores(path: Path, count: int) -> np.ndarray:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 2
        sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
        out = [sess.run(None, {input_name: x})[0][0] for x in inputs[:count]]
        return np.asarray([psnr(p.clean, np.clip(y.transpose(1, 2, 0), 0.0, 1.0), quantize=False)
                           for p, y in zip(patches[:count], out, strict=True)])

    base = scores(pre, len(patches))
    trial = job.workdir / "onnx-control-trial.onnx"

    def drop(keep: set[str], count: int) -> float:
        quantize(keep, trial)
        return float(np.mean(base[:count] - scores(trial, count)))

    return select_float_layers(ranked_nodes(pre), drop, len(patches), max_drop,
                               rank=bool(job.options.get("sensitivity_always", False)))
