"""MNN routes: MNNConvert from the fp32 ONNX (fp32, fp16 weights) and MNN's offline INT8 quantizer.

The converter and the quantizer are the ``_tools`` extension of the PyPI ``MNN`` wheel, called in
a child process (``_engine_tools``). The wheel's ``mnnconvert``/``mnnquant`` console scripts are
not used: their Python wrappers import a usage logger that tries to ``pip install`` a logging SDK
and post to a remote service, and ``mnnquant``'s wrapper passes its arguments in a form the 3.6
extension rejects with a C++ abort.

INT8 calibration feeds MNN the project's own calibration patches (``CalibrationSource``), not
images MNN would read and preprocess itself: each patch becomes one sample folder of MNN's
"sequence" input type (``<input>.txt`` with the NCHW values and an ``input.json`` with the shape).
Activations are symmetric per-tensor int8 with scales from the chosen estimator, weights int8
per output channel (``MAX_ABS``). Files keep dynamic H/W (MNN resizes per shape).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np

from ..errors import ConfigError, ExportError, require
from ._context import ExportJob, ExportResult, tensor_spec, version_of
from ._engine_tools import run_tool, tail
from ._onnx import cached_fp32_onnx, onnx_exporter_used

#: --calib-method -> MNN feature_quantize_method. MNN has no plain min/max estimator: "EMA" is
#: its running min/max, "KL" its entropy (KL-divergence) threshold search, "ADMM" (options only)
#: a least-squares scale fit.
MNN_METHODS = {"minmax": "EMA", "entropy": "KL"}
MNN_FEATURE_METHODS = ("EMA", "KL", "ADMM")
LAYOUT = "NCHW input and output tensors (MNN.expr NCHW); NC4HW4 inside the engine"
_CONVERT = "import sys, _tools; _tools.mnnconvert(['mnnconvert', *sys.argv[1:]])"
_QUANT = "import sys, _tools; _tools.mnnquant(['quantized.out', *sys.argv[1:]])"


def _versions() -> dict[str, str]:
    return {"torch": version_of("torch"), "onnx": version_of("onnx"), "MNN": version_of("MNN")}


def _engine(how: str) -> dict:
    return {"name": "mnn", "converter": how, "converter_version": version_of("MNN"), "layout": LAYOUT}


def _convert(job: ExportJob, dst: Path, fp16: bool) -> str:
    require("MNN", "mnn", "MNN export (MNNConvert)")
    src = cached_fp32_onnx(job, dynamic=True)
    args = ["-f", "ONNX", "--modelFile", src, "--MNNModel", dst, "--bizCode", "edgedeblur"]
    log = run_tool([sys.executable, "-c", _CONVERT, *args, *(["--fp16"] if fp16 else [])],
                   "MNNConvert", [dst], cwd=job.workdir)
    if "Converted Success" not in log:
        dst.unlink(missing_ok=True)
        raise ExportError(f"MNNConvert did not convert the ONNX model: {tail(log)}", path=src)
    return log


def cached_fp32_mnn(job: ExportJob) -> Path:
    """One fp32 .mnn per run (dynamic H/W), the source of the INT8 file."""
    if "mnn" not in job._cache:
        path = job.workdir / "fp32.mnn"
        _convert(job, path, fp16=False)
        job._cache["mnn"] = path
    return job._cache["mnn"]


def _io(job: ExportJob) -> tuple[dict, dict]:
    return (tensor_spec("input", [1, job.in_channels, -1, -1]),
            tensor_spec("output", [1, job.out_channels, -1, -1]))


def _result(job: ExportJob, how: str, quant: dict | None = None) -> ExportResult:
    i, o = _io(job)
    return ExportResult(job.out_path, i, o, dynamic_hw=True, quantization=quant, tool_versions=_versions(),
                        notes=[f"MNNConvert -f ONNX from ONNX written by {onnx_exporter_used(job, True)}"],
                        engine=_engine(how))


def export_mnn_fp32(job: ExportJob) -> ExportResult:
    """MNN fp32, dynamic H/W, from the fp32 ONNX."""
    shutil.copyfile(cached_fp32_mnn(job), job.out_path)
    return _result(job, "MNNConvert -f ONNX")


def export_mnn_fp16(job: ExportJob) -> ExportResult:
    """MNN with fp16-stored weights (``--fp16``); the CPU backend computes in fp32 at precision high."""
    _convert(job, job.out_path, fp16=True)
    return _result(job, "MNNConvert -f ONNX --fp16",
                   {"method": "MNNConvert --fp16 (weights stored as float16, computed in float32)"})


def _write_calibration(job: ExportJob) -> Path:
    """The calibration patches as MNN "sequence" samples: one folder per patch (cached per run)."""
    folder = job.workdir / "mnn-calibration"
    if "mnn-calib" not in job._cache:
        shutil.rmtree(folder, ignore_errors=True)
        for n, x in enumerate(job.calib.calib_batches("NCHW")):
            sample = folder / f"{n:05d}"
            sample.mkdir(parents=True)
            np.savetxt(sample / "input.txt", x.reshape(-1), fmt="%.7g")
            (sample / "input.json").write_text(json.dumps({"inputs": [{"name": "input", "shape": list(x.shape)}],
                                                           "outputs": ["output"]}), encoding="utf-8")
        job._cache["mnn-calib"] = folder
    return folder


def export_mnn_int8(job: ExportJob) -> ExportResult:
    """MNN offline INT8 (int8 weights per channel, int8 activations) on the calibration patches."""
    feature = job.options.get("mnn_feature_method") or MNN_METHODS.get(job.calib_method)
    if feature not in MNN_FEATURE_METHODS:
        raise ConfigError("MNN's quantizer has no such activation range estimator",
                          given=feature or job.calib_method, allowed=", ".join(MNN_FEATURE_METHODS),
                          hint="use --calib-method minmax (MNN EMA) or entropy (MNN KL)")
    src = cached_fp32_mnn(job)
    shape = [1, job.in_channels, job.tile, job.tile]
    config = {"path": str(_write_calibration(job)) + "/", "used_sample_num": len(job.calib.calib),
              "input_type": "sequence", "feature_quantize_method": feature, "weight_quantize_method": "MAX_ABS",
              "feature_clamp_value": 127, "weight_clamp_value": 127, "quant_bits": 8,
              "inputs": [{"name": "input", "shape": shape}]}
    cfg = job.workdir / f"mnn-quant-{feature}.json"
    cfg.write_text(json.dumps(config, indent=1), encoding="utf-8")
    dst = job.workdir / f"int8-{feature}.mnn"
    dst.unlink(missing_ok=True)
    run_tool([sys.executable, "-c", _QUANT, src, dst, cfg], "MNN offline quantization (mnnquant)", [dst],
             cwd=job.workdir)
    shutil.copyfile(dst, job.out_path)
    quant = {"method": f"MNN offline quantization: {feature} activation ranges, MAX_ABS int8 weights per channel, "
                       "symmetric int8 (clamp 127)",
             "feature_quantize_method": feature, "weight_quantize_method": "MAX_ABS", "algorithm": job.calib_method}
    return _result(job, "MNNConvert -f ONNX, then MNN offline quantization", quant)


def mnn_op_precisions(path: Path) -> tuple[dict[str, int], list[str]]:
    """(convolutions counted by precision, names of float ones) of a .mnn file.

    The file is dumped to JSON by MNNConvert (``-f MNN --JsonFile``); a convolution is INT8 when
    the quantizer gave it int8 activations (``symmetricQuan`` with an int8 output type).
    """
    require("MNN", "mnn", "inspecting .mnn files")
    dump = path.with_name(path.name + ".ops.json")
    try:
        run_tool([sys.executable, "-c", _CONVERT, "-f", "MNN", "--modelFile", path, "--JsonFile", dump],
                 "MNNConvert (dump to JSON)", [dump], cwd=path.parent)
        ops = json.loads(dump.read_text(encoding="utf-8"))["oplists"]
    finally:
        dump.unlink(missing_ok=True)
    counts = {"int8": 0, "float32": 0}
    floats = []
    for op in ops:
        if op.get("type") not in ("Convolution", "ConvolutionDepthwise", "Deconvolution", "DeconvolutionDepthwise"):
            continue
        sym = ((op.get("main") or {}).get("symmetricQuan") or {})
        if sym.get("outputDataType") == "DT_INT8" or sym.get("nbits") == 8:
            counts["int8"] += 1
        else:
            counts["float32"] += 1
            floats.append(f"{op['type']}:{op.get('name', '?')}")
    return counts, floats
