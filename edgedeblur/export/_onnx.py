"""ONNX routes: ``torch.onnx.export`` (fp32, dynamic H/W) and ONNX Runtime static QDQ INT8.

INT8 uses ``quantize_static`` in QDQ format so the same file runs in ONNX Runtime, OpenCV DNN
and TensorRT. The saturation trap (uint8 activations x int8 weights overflow the 16-bit
accumulators of AVX2 without VNNI) is avoided with ``reduce_range`` (7-bit weights) by default;
``docs/export.md`` has the measured alternatives.
"""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path

from ..calibration import ort_reader
from ..errors import ExportError, require
from ._context import ExportJob, ExportResult, tensor_spec, version_of

OPSET = 18
OPSET_TS = 17
#: quantize_static settings per scheme; "u8s8-rr" is the default (see docs/export.md)
ORT_SCHEMES = {
    "u8s8-rr": dict(activation="QUInt8", weight="QInt8", per_channel=True, reduce_range=True),
    "u8s8": dict(activation="QUInt8", weight="QInt8", per_channel=True, reduce_range=False),
    "u8s8-pt": dict(activation="QUInt8", weight="QInt8", per_channel=False, reduce_range=False),
    "s8s8": dict(activation="QInt8", weight="QInt8", per_channel=True, reduce_range=False),
}
ORT_METHODS = ("minmax", "percentile", "entropy")


def export_torch_onnx(model, path: Path, size: int, dynamic: bool, pad_multiple: int = 1,  # noqa: ANN001
                      exporter: str = "auto", channels: int | None = None) -> str:
    """Write ``model`` to ``path`` as ONNX; returns which exporter produced it.

    ``auto`` tries the TorchScript exporter first (``dynamo=False``, opset 17): deprecated but
    0.7 s against 41 s for ``dynamo=True`` on the xs model here, with identical outputs (1e-7);
    the dynamo exporter (opset 18, ``Dim`` multiples of ``pad_multiple``) is the fallback.
    ``channels`` (default: ``input_channels(model)``) is 4 for a deblur prior (RGB + noise map).
    """
    torch = require("torch", "export", "ONNX export")
    if channels is None:
        from ..models._macs import input_channels

        channels = input_channels(model)
    x = torch.rand(1, channels, size, size)
    errors = []
    if exporter in ("auto", "torchscript"):
        axes = {"input": {2: "height", 3: "width"}, "output": {2: "height", 3: "width"}} if dynamic else None
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=OPSET_TS,
                                  input_names=["input"], output_names=["output"], dynamic_axes=axes)
            return f"torch.onnx.export(dynamo=False, opset {OPSET_TS})"
        except Exception as exc:  # removed or unsupported op: try the dynamo exporter
            errors.append(f"torchscript: {type(exc).__name__}: {str(exc)[:200]}")
    require("onnxscript", "export", "ONNX export")
    kwargs: dict = {}
    if dynamic:
        step = max(int(pad_multiple), 1)
        h, w = torch.export.Dim("h", min=1, max=4096 // step), torch.export.Dim("w", min=1, max=4096 // step)
        kwargs["dynamic_shapes"] = {"x": {2: step * h, 3: step * w}}
    try:
        with torch.no_grad():
            prog = torch.onnx.export(model, (x,), dynamo=True, opset_version=OPSET, input_names=["input"],
                                     output_names=["output"], verbose=False, **kwargs)
        prog.save(str(path))
    except Exception as exc:  # the exporter raises many types; all mean "this model did not export"
        errors.append(f"dynamo: {type(exc).__name__}: {str(exc)[:300]}")
        raise ExportError("torch.onnx.export failed: " + " | ".join(errors), path=path) from exc
    return f"torch.onnx.export(dynamo=True, opset {OPSET})"


def _onnx_io(path: Path) -> tuple[str, str]:
    onnx = require("onnx", "export", "ONNX export")
    m = onnx.load(str(path), load_external_data=False)
    return m.graph.input[0].name, m.graph.output[0].name


def cached_fp32_onnx(job: ExportJob, dynamic: bool) -> Path:
    """One fp32 ONNX export per run and shape kind, reused by OpenVINO and INT8 routes."""
    key = f"onnx-{'dyn' if dynamic else 'static'}"
    if key not in job._cache:
        path = job.workdir / f"{key}.onnx"
        job._cache[f"{key}-exporter"] = export_torch_onnx(job.model, path, job.tile, dynamic, job.pad_multiple,
                                                         job.options.get("onnx_exporter", "auto"),
                                                         channels=job.in_channels)
        job._cache[key] = path
    return job._cache[key]


def onnx_exporter_used(job: ExportJob, dynamic: bool) -> str:
    """Which torch exporter wrote the cached ONNX (recorded in the manifest notes)."""
    return job._cache.get(f"onnx-{'dyn' if dynamic else 'static'}-exporter", "unknown")


def export_onnx_fp32(job: ExportJob) -> ExportResult:
    """fp32 ONNX with dynamic H/W (multiples of the model's pad_multiple)."""
    src = cached_fp32_onnx(job, dynamic=True)
    shutil.copyfile(src, job.out_path)
    i, o = _onnx_io(job.out_path)
    return ExportResult(job.out_path, tensor_spec(i, [1, job.in_channels, -1, -1]),
                        tensor_spec(o, [1, job.out_channels, -1, -1]), dynamic_hw=True,
                        tool_versions={"torch": version_of("torch"), "onnx": version_of("onnx")},
                        notes=[onnx_exporter_used(job, True)])


def export_onnx_int8(job: ExportJob) -> ExportResult:
    """Static-shape QDQ INT8 via ONNX Runtime ``quantize_static`` with the calibration source.

    With a parity budget (``max_drop_db``, always set by ``edge-export``) and
    ``options["ort_accuracy_control"]`` not false, the convolutions whose INT8 costs the most
    PSNR on the calibration patches stay float (``nodes_to_exclude``) until the drop there is
    half the budget (``_sensitivity.select_float_layers``, as ncnn-int8 and tflite-int8 do).
    """
    q = require("onnxruntime.quantization", "onnxruntime", "ONNX INT8 quantization")
    scheme_name = job.options.get("ort_scheme", "u8s8-rr")
    scheme = ORT_SCHEMES[scheme_name]
    src = cached_fp32_onnx(job, dynamic=False)
    pre = job.workdir / "onnx-static-pre.onnx"
    if not pre.exists():
        cwd = os.getcwd()
        os.chdir(job.workdir)  # quant_pre_process leaves temp files in the cwd
        try:
            q.quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
        finally:
            os.chdir(cwd)
    i, o = _onnx_io(pre)
    quantize = _quantizer(job, q, pre, i, scheme)
    quantize(set(), job.out_path)
    quant = {"method": f"onnxruntime quantize_static QDQ {scheme_name}", "scheme": scheme_name, **scheme,
             "algorithm": job.calib_method}
    budget = job.options.get("max_drop_db")
    if bool(job.options.get("ort_accuracy_control", True)) and budget is not None:
        from ._onnx_control import keep_float

        keep, record = keep_float(job, pre, i, quantize, 0.5 * float(budget))
        if keep:
            quantize(set(keep), job.out_path)
        quant["accuracy_control"] = record
    return ExportResult(job.out_path, tensor_spec(i, [1, job.in_channels, job.tile, job.tile]),
                        tensor_spec(o, [1, job.out_channels, job.tile, job.tile]), dynamic_hw=False,
                        quantization=quant, notes=[onnx_exporter_used(job, False)],
                        tool_versions={"torch": version_of("torch"), "onnx": version_of("onnx"),
                                       "onnxruntime": version_of("onnxruntime")})


def _quantizer(job: ExportJob, q, pre: Path, input_name: str, scheme: dict):  # noqa: ANN001, ANN202
    """``quantize(nodes_kept_float, out_path)``: one ``quantize_static`` call per file; the
    calibration ranges are computed once and reused through ORT's calibration cache when this
    onnxruntime has it (1.32+), so a trial file costs the quantization, not a calibration."""
    import inspect

    method = {"minmax": q.CalibrationMethod.MinMax, "percentile": q.CalibrationMethod.Percentile,
              "entropy": q.CalibrationMethod.Entropy}[job.calib_method]
    extra = {"CalibMovingAverage": False}
    if job.calib_method == "percentile":
        extra["CalibPercentile"] = float(job.options.get("percentile", 99.999))
    cached: dict = {}
    if "calibration_cache_path" in inspect.signature(q.quantize_static).parameters:
        cache = job.workdir / f"ort-ranges-{job.calib_method}.json"
        cache.unlink(missing_ok=True)  # ranges of this run's calibration patches only
        cached["calibration_cache_path"] = str(cache)

    def quantize(keep: set[str], out: Path) -> None:
        try:
            q.quantize_static(
                str(pre), str(out), ort_reader(job.calib, input_name), quant_format=q.QuantFormat.QDQ,
                activation_type=getattr(q.QuantType, scheme["activation"]),
                weight_type=getattr(q.QuantType, scheme["weight"]), per_channel=scheme["per_channel"],
                reduce_range=scheme["reduce_range"], calibrate_method=method, extra_options=dict(extra),
                nodes_to_exclude=sorted(keep), **cached)
        except Exception as exc:
            raise ExportError(f"onnxruntime quantize_static failed: {exc}", path=out) from exc

    return quantize
