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
    # accuracy control (NNCF's own sensitivity ranking): layers whose INT8 costs the most PSNR
    # on the calibration patches go back to float until the drop there is within half the
    # parity budget (the gate itself is measured afterwards on held-out patches)
    budget = job.options.get("max_drop_db")
    control = bool(job.options.get("nncf_accuracy_control", True)) and budget is not None
    common = {"preset": getattr(nncf.QuantizationPreset, preset.upper()), "subset_size": len(job.calib.calib),
              "fast_bias_correction": fbc}
    try:
        if control:
            qmodel = nncf.quantize_with_accuracy_control(
                model, nncf_dataset(job.calib), _validation_dataset(nncf, job), _psnr_metric,
                max_drop=0.5 * float(budget), drop_type=nncf.DropType.ABSOLUTE,
                advanced_quantization_parameters=AdvancedQuantizationParameters(**adv), **common)
        else:
            qmodel = nncf.quantize(model, nncf_dataset(job.calib), advanced_parameters=AdvancedQuantizationParameters(**adv),
                                   **common)
    except Exception as exc:
        raise ExportError(f"nncf.quantize failed: {exc}", path=job.out_path) from exc
    method = "nncf.quantize_with_accuracy_control" if control else "nncf.quantize PTQ"
    quant = {"method": f"{method} preset={preset} overflow_fix=ENABLE fast_bias_correction={fbc}",
             "algorithm": job.calib_method}
    if control:
        quant["accuracy_control"] = {"metric": "PSNR vs clean on the calibration patches", "max_drop_db": 0.5 * float(budget),
                                     "float_ops": _float_ops(qmodel)}
    return _result(job, qmodel, fp16=False, quant=quant)


def _validation_dataset(nncf, job: ExportJob):  # noqa: ANN001, ANN202 - an nncf.Dataset
    items = list(zip(job.calib.calib_batches("NCHW"), [p.clean for p in job.calib.calib], strict=True))
    return nncf.Dataset(items, lambda item: item[0])


def _psnr_metric(compiled, items) -> tuple[float, list[float]]:  # noqa: ANN001
    """NNCF's validation function: mean PSNR (dB) of the model's output vs the clean patches."""
    import numpy as np

    from ..metrics import psnr

    scores = []
    for x, clean in items:
        out = np.asarray(compiled(x)[0])[0].transpose(1, 2, 0)
        scores.append(float(psnr(clean, np.clip(out, 0.0, 1.0))))
    return float(np.mean(scores)), scores


def _float_ops(model) -> list[str]:  # noqa: ANN001
    """Names of the convolutions left without a FakeQuantize on their input (kept in float)."""
    quantized = set()
    for op in model.get_ops():
        if op.get_type_name() == "FakeQuantize":
            for t in op.output(0).get_target_inputs():
                quantized.add(t.get_node().get_friendly_name())
    return sorted(op.get_friendly_name() for op in model.get_ops()
                  if op.get_type_name() in ("Convolution", "GroupConvolution") and op.get_friendly_name() not in quantized)
