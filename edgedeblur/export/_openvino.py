"""OpenVINO routes: ``ov.convert_model`` from the fp32 ONNX, and NNCF post-training INT8.

fp32 is saved with ``compress_to_fp16=False`` (OpenVINO compresses by default, which would make
"fp32" a lie); fp16 compresses the weights. INT8 uses the MIXED preset (symmetric weights,
asymmetric activations) and ``OverflowFix.ENABLE``: measured 52 dB vs float against 46 dB with the
defaults on an AVX2 CPU without VNNI (see /work/shared/toolchain-notes.md and docs/export.md).
"""

from __future__ import annotations

from ..calibration import nncf_dataset
from ..errors import ExportError, require
from ._context import ExportJob, ExportResult, tensor_spec, version_of
from ._onnx import cached_fp32_onnx, onnx_exporter_used

OV_METHODS = ("minmax", "percentile")


def _convert(job: ExportJob):  # noqa: ANN202 - returns ov.Model
    ov = require("openvino", "openvino", "OpenVINO export")
    src = cached_fp32_onnx(job, dynamic=True)
    try:
        return ov, ov.convert_model(str(src))
    except Exception as exc:
        raise ExportError(f"openvino.convert_model failed: {exc}", path=src) from exc


def _result(job: ExportJob, ov_model, fp16: bool, quant: dict | None = None) -> ExportResult:  # noqa: ANN001
    ov = require("openvino", "openvino", "OpenVINO export")
    ov.save_model(ov_model, str(job.out_path), compress_to_fp16=fp16)
    versions = {"torch": version_of("torch"), "openvino": version_of("openvino")}
    if quant:
        versions["nncf"] = version_of("nncf")
    i = ov_model.inputs[0].get_any_name()
    o = ov_model.outputs[0].get_any_name()
    return ExportResult(job.out_path, tensor_spec(i, [1, job.in_channels, -1, -1]),
                        tensor_spec(o, [1, job.out_channels, -1, -1]), dynamic_hw=True,
                        weights=job.out_path.with_suffix(".bin"), quantization=quant, tool_versions=versions,
                        notes=[f"ov.convert_model from ONNX written by {onnx_exporter_used(job, True)}"])


def export_openvino_fp32(job: ExportJob) -> ExportResult:
    """OpenVINO IR with fp32 weights and dynamic H/W."""
    _, model = _convert(job)
    return _result(job, model, fp16=False)


def export_openvino_fp16(job: ExportJob) -> ExportResult:
    """OpenVINO IR with fp16-compressed weights (computed in fp32 on CPUs without fp16)."""
    _, model = _convert(job)
    return _result(job, model, fp16=True)


def export_openvino_int8(job: ExportJob) -> ExportResult:
    """NNCF post-training INT8 (MIXED preset, overflow fix ENABLE) on the calibration patches."""
    nncf = require("nncf", "export", "OpenVINO INT8 quantization")
    from nncf.quantization.advanced_parameters import AdvancedQuantizationParameters, OverflowFix
    from nncf.quantization.range_estimator import RangeEstimatorParametersSet

    _, model = _convert(job)
    adv = {"overflow_fix": OverflowFix.ENABLE}
    if job.calib_method == "percentile":
        adv["activations_range_estimator_params"] = RangeEstimatorParametersSet.MEAN_QUANTILE
    preset = job.options.get("nncf_preset", "mixed")
    fbc = bool(job.options.get("nncf_fast_bias_correction", True))
    try:
        qmodel = nncf.quantize(
            model, nncf_dataset(job.calib), preset=getattr(nncf.QuantizationPreset, preset.upper()),
            subset_size=len(job.calib.calib), fast_bias_correction=fbc,
            advanced_parameters=AdvancedQuantizationParameters(**adv))
    except Exception as exc:
        raise ExportError(f"nncf.quantize failed: {exc}", path=job.out_path) from exc
    quant = {"method": f"nncf.quantize PTQ preset={preset} overflow_fix=ENABLE fast_bias_correction={fbc}",
             "algorithm": job.calib_method}
    return _result(job, qmodel, fp16=False, quant=quant)
