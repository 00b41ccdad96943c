"""TFLite routes through litert-torch (no TensorFlow) and ai-edge-quantizer.

fp32: ``litert_torch.convert`` of the model wrapped by ``to_channel_last_io`` so the file takes
and returns NHWC (what phone camera pipelines hand over). fp16: fp16 weights (FLOAT_CASTING,
weights dequantized at load, compute in fp32 on CPU; GPU delegates run fp16). int8: full-integer
static w8a8 with our calibration patches, int8 input and output; the final clamp island is
folded (see ``_tflite_ops``) so no float op remains. Shapes are static: the tile size.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from pathlib import Path

from ..calibration import litert_dataset
from ..errors import ConfigError, ExportError, require
from ._context import ExportJob, ExportResult, tensor_spec, version_of
from ._tflite_ops import fold_output_clamp, op_precisions

LITERT_METHODS = ("minmax",)
SIGNATURE = "serving_default"


def _versions() -> dict[str, str]:
    return {"torch": version_of("torch"), "litert-torch": version_of("litert-torch"),
            "ai-edge-quantizer": version_of("ai-edge-quantizer"), "ai-edge-litert": version_of("ai-edge-litert")}


@contextlib.contextmanager
def _quiet():
    """litert-torch and the quantizer print progress bars and warnings; keep the CLI output ours."""
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def cached_fp32_tflite(job: ExportJob) -> Path:
    """One NHWC fp32 .tflite per run, the source of the fp16 and int8 files."""
    if "tflite" not in job._cache:
        torch = require("torch", "export", "TFLite export")
        litert_torch = require("litert_torch", "export", "TFLite export (litert-torch)")
        path = job.workdir / "fp32.tflite"
        x = job.example_input("NHWC")  # C: 3, or 4 for a prior (RGB + noise map)
        try:
            with _quiet(), torch.no_grad():
                nhwc = litert_torch.to_channel_last_io(job.model, args=[0], outputs=[0])
                litert_torch.convert(nhwc.eval(), (x,)).export(str(path))
        except Exception as exc:
            raise ExportError(f"litert_torch.convert failed: {type(exc).__name__}: {str(exc)[:400]}",
                              path=job.out_path) from exc
        job._cache["tflite"] = path
    return job._cache["tflite"]


def _io_specs(path: Path) -> tuple[dict, dict]:
    mod = require("ai_edge_litert.interpreter", "litert", "inspecting .tflite files")
    interp = mod.Interpreter(model_path=str(path))
    specs = []
    for d in (interp.get_input_details()[0], interp.get_output_details()[0]):
        dtype = d["dtype"].__name__
        scale, zp = d["quantization"]
        quantized = dtype in ("int8", "uint8")
        specs.append(tensor_spec(d["name"], list(d["shape"]), dtype, "NHWC",
                                 scale if quantized else None, zp if quantized else None))
    return specs[0], specs[1]


def _signature_input(path: Path) -> str:
    mod = require("ai_edge_litert.interpreter", "litert", "inspecting .tflite files")
    return mod.Interpreter(model_path=str(path)).get_signature_list()[SIGNATURE]["inputs"][0]


def export_tflite_fp32(job: ExportJob) -> ExportResult:
    """fp32 .tflite with NHWC I/O at the tile size."""
    src = cached_fp32_tflite(job)
    job.out_path.write_bytes(src.read_bytes())
    i, o = _io_specs(job.out_path)
    return ExportResult(job.out_path, i, o, dynamic_hw=False, tool_versions=_versions())


def export_tflite_fp16(job: ExportJob) -> ExportResult:
    """fp16 weights (half the size); activations stay fp32 on CPU."""
    aeq = require("ai_edge_quantizer", "export", "TFLite fp16 (ai-edge-quantizer)")
    from ai_edge_quantizer import qtyping
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    q = aeq.Quantizer(str(cached_fp32_tflite(job)))
    q.add_weight_only_config(".*", qtyping.TFLOperationName.ALL_SUPPORTED, 16,
                             algorithm_key=AlgorithmName.FLOAT_CASTING)
    with _quiet():
        job.out_path.write_bytes(bytes(q.quantize().quantized_model))
    i, o = _io_specs(job.out_path)
    return ExportResult(job.out_path, i, o, dynamic_hw=False, tool_versions=_versions(),
                        quantization={"method": "ai-edge-quantizer weight-only float16 (FLOAT_CASTING)"})


def export_tflite_int8(job: ExportJob) -> ExportResult:
    """Full-integer INT8 (int8 I/O) via ai-edge-quantizer's static w8a8 recipe."""
    aeq = require("ai_edge_quantizer", "export", "TFLite INT8 (ai-edge-quantizer)")
    from ai_edge_quantizer import recipe

    src = cached_fp32_tflite(job)
    q = aeq.Quantizer(str(src), recipe.static_wi8_ai8())
    try:
        with _quiet():
            calib = q.calibrate(litert_dataset(job.calib, _signature_input(src), SIGNATURE), num_threads=2)
            job.out_path.write_bytes(bytes(q.quantize(calib).quantized_model))
    except (ValueError, RuntimeError) as exc:
        raise ExportError(f"ai-edge-quantizer static INT8 failed: {exc}", path=job.out_path) from exc
    folded = fold_output_clamp(job.out_path)
    counts, float_ops = op_precisions(job.out_path)
    if float_ops and not job.allow_float_ops:
        job.out_path.unlink(missing_ok=True)
        raise ConfigError(
            "the INT8 .tflite still has float ops", path=job.out_path, given=", ".join(float_ops[:8]),
            allowed="a full-integer model", hint="pass --allow-float-ops to keep them (listed in the manifest)")
    i, o = _io_specs(job.out_path)
    quant = {"method": "ai-edge-quantizer static_wi8_ai8 (int8 per-channel weights, int8 activations)",
             "algorithm": job.calib_method, "folded_output_clamp": folded,
             "io_dtype": i["dtype"]}
    return ExportResult(job.out_path, i, o, dynamic_hw=False, quantization=quant, tool_versions=_versions())
