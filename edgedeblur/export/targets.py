"""The one table of export targets: CLI choices, help, validation, dispatch and benchmark rows.

A new target is one :class:`Target` row here plus one exporter function ``(ExportJob) ->
ExportResult`` (and, for a new engine, one row of ``edgedeblur.runtime.backends.BACKENDS``).
Exporters and op inspectors are referenced by module path and imported only when used, so this
table (and ``edge-export --help``) loads without torch or any toolchain. Nothing outside this
table dispatches on a target's format.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import UnknownNameError

FP_DROP_DB = 0.05
INT8_DROP_DB = 0.3


@dataclass(frozen=True)
class Target:
    """One export target."""

    name: str
    format: str  # manifest artifact.format: onnx | openvino | tflite
    precision: str  # fp32 | fp16 | int8
    suffix: str  # appended to the model name; unique per target so manifests never collide
    needs_calibration: bool
    exporter: str  # "module:function" inside edgedeblur.export: (ExportJob) -> ExportResult
    backend: str  # runtime backend that runs it (a row of edgedeblur.runtime.backends.BACKENDS)
    max_drop_db: float
    calib_methods: tuple[str, ...] = ()
    extra: str = "export"  # pip extra holding its toolchain
    summary: str = ""
    inspect: str = "_inspect:onnx_op_precisions"  # "module:function": path -> (ops by precision, float ops)
    weights_suffix: str | None = None  # a second file beside the artifact (OpenVINO .bin)

    def exporter_fn(self) -> Callable:
        return _resolve(self.exporter)

    def inspect_fn(self) -> Callable:
        return _resolve(self.inspect)


def _resolve(ref: str) -> Callable:
    module, func = ref.split(":")
    return getattr(importlib.import_module(f"edgedeblur.export.{module}"), func)


_OV_OPS = "_inspect:openvino_op_precisions"
_TFL_OPS = "_tflite_ops:op_precisions"
_MNN_OPS = "_mnn:mnn_op_precisions"
_NCNN_OPS = "_ncnn:ncnn_op_precisions"

TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("onnx-fp32", "onnx", "fp32", ".onnx-fp32.onnx", False, "_onnx:export_onnx_fp32",
           "onnxruntime", FP_DROP_DB, summary="ONNX opset 18, dynamic H/W (ONNX Runtime, OpenCV DNN, TensorRT)"),
    Target("onnx-int8", "onnx", "int8", ".onnx-int8.onnx", True, "_onnx:export_onnx_int8",
           "onnxruntime", INT8_DROP_DB, ("minmax", "percentile", "entropy"),
           summary="QDQ INT8, static tile (ONNX Runtime, OpenCV DNN, TensorRT)"),
    Target("openvino-fp32", "openvino", "fp32", ".openvino-fp32.xml", False, "_openvino:export_openvino_fp32",
           "openvino", FP_DROP_DB, extra="openvino", summary="OpenVINO IR fp32, dynamic H/W", inspect=_OV_OPS,
           weights_suffix=".bin"),
    Target("openvino-fp16", "openvino", "fp16", ".openvino-fp16.xml", False, "_openvino:export_openvino_fp16",
           "openvino", FP_DROP_DB, extra="openvino", summary="OpenVINO IR, fp16 weights, dynamic H/W", inspect=_OV_OPS,
           weights_suffix=".bin"),
    Target("openvino-int8", "openvino", "int8", ".openvino-int8.xml", True, "_openvino:export_openvino_int8",
           "openvino", INT8_DROP_DB, ("minmax", "percentile"),
           summary="OpenVINO IR INT8 via NNCF PTQ (MIXED, overflow fix)", inspect=_OV_OPS,
           weights_suffix=".bin"),
    Target("tflite-fp32", "tflite", "fp32", ".tflite-fp32.tflite", False, "_tflite:export_tflite_fp32",
           "litert", FP_DROP_DB, summary="LiteRT fp32, NHWC I/O, static tile", inspect=_TFL_OPS),
    Target("tflite-fp16", "tflite", "fp16", ".tflite-fp16.tflite", False, "_tflite:export_tflite_fp16",
           "litert", FP_DROP_DB, summary="LiteRT fp16 weights, NHWC I/O, static tile", inspect=_TFL_OPS),
    Target("tflite-int8", "tflite", "int8", ".tflite-int8.tflite", True, "_tflite:export_tflite_int8",
           "litert", INT8_DROP_DB, ("minmax",),
           summary="LiteRT full-integer INT8, int8 NHWC I/O, static tile", inspect=_TFL_OPS),
    Target("tflite-int16x8", "tflite", "int8", ".tflite-int16x8.tflite", True, "_tflite:export_tflite_int16x8",
           "litert", INT8_DROP_DB, ("minmax",),
           summary="LiteRT int16 activations + int8 weights (16x8), int16 NHWC I/O, static tile", inspect=_TFL_OPS),
    Target("mnn-fp32", "mnn", "fp32", ".mnn-fp32.mnn", False, "_mnn:export_mnn_fp32", "mnn", FP_DROP_DB,
           extra="mnn", summary="MNN fp32 (MNNConvert from ONNX), dynamic H/W", inspect=_MNN_OPS),
    Target("mnn-fp16", "mnn", "fp16", ".mnn-fp16.mnn", False, "_mnn:export_mnn_fp16", "mnn", FP_DROP_DB,
           extra="mnn", summary="MNN, fp16 weights, dynamic H/W", inspect=_MNN_OPS),
    Target("mnn-int8", "mnn", "int8", ".mnn-int8.mnn", True, "_mnn:export_mnn_int8", "mnn", INT8_DROP_DB,
           ("minmax", "entropy"), extra="mnn", inspect=_MNN_OPS,
           summary="MNN offline INT8 (EMA or KL ranges, int8 weights per channel), dynamic H/W"),
    Target("ncnn-fp32", "ncnn", "fp32", ".ncnn-fp32.param", False, "_ncnn:export_ncnn_fp32", "ncnn", FP_DROP_DB,
           extra="ncnn-export", summary="ncnn fp32 (.param + .bin, pnnx from TorchScript), dynamic H/W",
           inspect=_NCNN_OPS, weights_suffix=".bin"),
    Target("ncnn-fp16", "ncnn", "fp16", ".ncnn-fp16.param", False, "_ncnn:export_ncnn_fp16", "ncnn", FP_DROP_DB,
           extra="ncnn-export", summary="ncnn, fp16 weights, dynamic H/W", inspect=_NCNN_OPS, weights_suffix=".bin"),
    Target("ncnn-int8", "ncnn", "int8", ".ncnn-int8.param", True, "_ncnn:export_ncnn_int8", "ncnn", INT8_DROP_DB,
           ("minmax",), extra="ncnn-export", inspect=_NCNN_OPS, weights_suffix=".bin",
           summary="ncnn INT8 (int8 convolutions, per-channel weights), dynamic H/W"),
)}


def get_target(name: str) -> Target:
    """The target row for ``name``; unknown names raise with the closest suggestion."""
    try:
        return TARGETS[name]
    except KeyError:
        raise UnknownNameError("export target", name, [*TARGETS, "all"]) from None


def list_targets() -> list[str]:
    """Target names in table order."""
    return list(TARGETS)


def resolve_targets(names: Sequence[str | Target] | str | Target) -> list[Target]:
    """Target names (or rows, or ``'all'``) -> rows, resolved once; unknown names raise."""
    items = [names] if isinstance(names, (str, Target)) else list(names)
    if "all" in items:
        return list(TARGETS.values())
    return [n if isinstance(n, Target) else get_target(n) for n in items]


def calib_methods_help() -> str:
    """``onnx-int8: minmax, percentile, entropy; ...`` for the CLI's --calib-method help."""
    return "; ".join(f"{t.name}: {', '.join(t.calib_methods)}" for t in TARGETS.values() if t.calib_methods)
