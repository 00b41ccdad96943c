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
CLAMP_ISLAND = {"DEQUANTIZE", "RELU_0_TO_1", "QUANTIZE"}
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
        quantized = dtype in ("int8", "uint8", "int16")
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
    return _export_static(job, 8)


def export_tflite_int16x8(job: ExportJob) -> ExportResult:
    """int16 activations, int8 weights (int16 I/O): ai-edge-quantizer's static w8a16 recipe, the
    same kind of file as TensorFlow's ``EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8``."""
    return _export_static(job, 16)


def _export_static(job: ExportJob, act_bits: int) -> ExportResult:
    """Static quantization with int8 weights and ``act_bits`` activations, calibrated once.

    With a parity budget (``max_drop_db``, always set by ``edge-export``) and
    ``options["tflite_accuracy_control"]`` not false, the ops whose quantization costs the most
    PSNR on the calibration patches stay float (NO_QUANTIZE rules, ``_tflite_control``) until
    the drop there is half the budget. Those ops (and their QUANTIZE/DEQUANTIZE) are the only
    float ops the file may keep without ``--allow-float-ops``.
    """
    aeq = require("ai_edge_quantizer", "export", "TFLite static quantization (ai-edge-quantizer)")
    from ai_edge_quantizer import recipe

    make_recipe = recipe.static_wi8_ai8 if act_bits == 8 else recipe.static_wi8_ai16
    src = cached_fp32_tflite(job)
    q = aeq.Quantizer(str(src), make_recipe())
    key = f"tflite-calib-{act_bits}"
    try:
        with _quiet():
            if key not in job._cache:  # the ranges of every tensor, once per run and activation width
                job._cache[key] = q.calibrate(litert_dataset(job.calib, _signature_input(src), SIGNATURE),
                                              num_threads=2)
    except (ValueError, RuntimeError) as exc:
        raise ExportError(f"ai-edge-quantizer calibration failed: {exc}", path=job.out_path) from exc
    calib = job._cache[key]

    def build(keep: set[str], out: Path) -> None:
        from ._tflite_control import keep_rules

        q.load_quantization_recipe(make_recipe())
        keep_rules(q, keep)
        try:
            with _quiet():
                out.write_bytes(bytes(q.quantize(calib).quantized_model))
        except (ValueError, RuntimeError) as exc:
            raise ExportError(f"ai-edge-quantizer static quantization failed: {exc}", path=out) from exc
        fold_output_clamp(out)

    build(set(), job.out_path)
    folded = fold_output_clamp(job.out_path) or _clamp_folded(job.out_path)
    quant: dict = {"method": f"ai-edge-quantizer static_wi8_ai{act_bits} (int8 per-channel weights, "
                             f"int{act_bits} activations)", "algorithm": job.calib_method,
                   "folded_output_clamp": folded}
    keep: list[str] = []
    budget = job.options.get("max_drop_db")
    if bool(job.options.get("tflite_accuracy_control", True)) and budget is not None:
        from ._tflite_control import keep_float

        keep, quant["accuracy_control"] = keep_float(job, src, build, 0.5 * float(budget))
        if keep:
            build(set(keep), job.out_path)
    counts, float_ops = op_precisions(job.out_path)
    # int16 is symmetric (zero point 0): its saturation is not clamp(0, 1), so a 16x8 file keeps
    # the final clamp as a float island (DEQUANTIZE -> RELU_0_TO_1 -> QUANTIZE)
    island = act_bits == 16 and {op.split("#")[0] for op in float_ops} <= CLAMP_ISLAND
    if float_ops and not job.allow_float_ops and not keep and not island:
        job.out_path.unlink(missing_ok=True)
        raise ConfigError(
            f"the int{act_bits} .tflite still has float ops", path=job.out_path, given=", ".join(float_ops[:8]),
            allowed="a full-integer model", hint="pass --allow-float-ops to keep them (listed in the manifest)")
    i, o = _io_specs(job.out_path)
    quant["io_dtype"] = i["dtype"]
    return ExportResult(job.out_path, i, o, dynamic_hw=False, quantization=quant, tool_versions=_versions())


def _clamp_folded(path: Path) -> bool:
    """Whether the file's final clamp is already folded (``build`` folds every file it writes)."""
    _, float_ops = op_precisions(path)
    return not any(op.startswith("RELU_0_TO_1") for op in float_ops)
