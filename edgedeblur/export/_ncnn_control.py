"""Accuracy control for ncnn-int8: the convolutions whose INT8 costs the most go back to float.

The same rule as openvino-int8's NNCF accuracy control, done here because ncnn has no such
tool: the metric is PSNR vs the clean calibration patches; while the INT8 file loses more than
half the target's parity budget there, the convolution whose return to float regains the most
(ranked once, one layer at a time, on the first 4 calibration patches) is kept in float, at most a
quarter of them. The held-out parity is measured afterwards by the export, as for every target.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from ._context import ExportJob
from ._ncnn import OUTPUT
from ._ncnn_int8 import open_net, run_net

RANK_PATCHES = 4


def keep_float(job: ExportJob, layers: list[dict], parts: dict, param: Path, weights: Path, max_drop: float,
               write: Callable[..., None]) -> tuple[list[str], dict]:
    """(names of the convolutions to keep in float, the manifest record of the search)."""
    from ..metrics import psnr

    patches = job.calib.calib
    inputs = job.calib.calib_batches("NCHW")
    reference = open_net(param, weights)
    base = [float(psnr(p.clean, _hwc(run_net(reference, x, [OUTPUT])[0]), quantize=False)) for p, x in zip(patches, inputs, strict=True)]
    trial = job.workdir / "ncnn-control" / "trial.param"
    trial.parent.mkdir(parents=True, exist_ok=True)

    def drop(keep: set[str], count: int) -> float:
        write(layers, parts, keep, param, trial)
        net = open_net(trial, trial.with_suffix(".bin"))
        got = [float(psnr(p.clean, _hwc(run_net(net, x, [OUTPUT])[0]), quantize=False))
               for p, x in zip(patches[:count], inputs[:count], strict=True)]
        return float(np.mean(np.asarray(base[:count]) - np.asarray(got)))

    initial = drop(set(), len(patches))
    record = {"metric": "PSNR vs clean on the calibration patches", "max_drop_db": round(max_drop, 4),
              "initial_drop_db": round(initial, 4)}
    if initial <= max_drop:
        return [], {**record, "final_drop_db": round(initial, 4), "float_ops": []}
    n = min(RANK_PATCHES, len(patches))
    all_int8 = drop(set(), n)
    gains = sorted(((all_int8 - drop({name}, n), name) for name in parts), reverse=True)
    keep: list[str] = []
    current = initial
    for _, name in gains[:max(1, len(parts) // 4)]:
        keep.append(name)
        current = drop(set(keep), len(patches))
        if current <= max_drop:
            break
    return keep, {**record, "final_drop_db": round(current, 4), "float_ops": keep, "met": current <= max_drop}


def _hwc(y: np.ndarray) -> np.ndarray:
    return np.clip(y.transpose(1, 2, 0), 0.0, 1.0)
