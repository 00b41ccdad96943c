"""Accuracy control for ncnn-int8: the convolutions whose INT8 costs the most go back to float.

The same rule as openvino-int8's NNCF accuracy control (``_sensitivity.select_float_layers``,
shared with onnx-int8 and tflite-int8), done here because ncnn has no such tool: the metric is
PSNR vs the clean calibration patches; this module only builds and runs the trial files.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._context import ExportJob
from ._ncnn import OUTPUT
from ._ncnn_int8 import open_net, run_net
from ._sensitivity import select_float_layers


def keep_float(job: ExportJob, layers: list[dict], parts: dict, param: Path, weights: Path, max_drop: float,
               write: Callable[..., None]) -> tuple[list[str], dict]:
    """(names of the convolutions to keep in float, the manifest record of the search)."""
    from ..metrics import psnr

    patches = job.calib.calib
    inputs = job.calib.calib_batches("NCHW")
    reference = open_net(param, weights)
    base = [float(psnr(p.clean, _hwc(run_net(reference, x, [OUTPUT])[0]), quantize=False))
            for p, x in zip(patches, inputs, strict=True)]
    trial = job.workdir / "ncnn-control" / "trial.param"
    trial.parent.mkdir(parents=True, exist_ok=True)

    def drop(keep: set[str], count: int) -> float:
        write(layers, parts, keep, param, trial)
        net = open_net(trial, trial.with_suffix(".bin"))
        got = [float(psnr(p.clean, _hwc(run_net(net, x, [OUTPUT])[0]), quantize=False))
               for p, x in zip(patches[:count], inputs[:count], strict=True)]
        return float(np.mean(np.asarray(base[:count]) - np.asarray(got)))

    return select_float_layers(list(parts), drop, len(patches), max_drop,
                               rank=bool(job.options.get("sensitivity_always", False)))


def _hwc(y: np.ndarray) -> np.ndarray:
    return np.clip(y.transpose(1, 2, 0), 0.0, 1.0)
