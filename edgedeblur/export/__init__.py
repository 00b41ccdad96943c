"""edgedeblur.export: zoo model -> ONNX / OpenVINO / TFLite (fp32, fp16, INT8) + manifest + parity.

``TARGETS`` is the one table of targets; :func:`export_model` runs them; every artifact is
checked through ``edgedeblur.runtime.load`` before it is called exported. Toolchains (torch,
onnxruntime, openvino, nncf, litert-torch, ai-edge-quantizer) are imported only when used.
"""

from ._api import export_model
from ._model import ResolvedModel, resolve_model
from ._parity import Parity, measure_parity
from ._pipeline import ExportOutcome, artifact_name, export_target
from .targets import TARGETS, Target, get_target, list_targets, resolve_targets

__all__ = [
    "TARGETS",
    "ExportOutcome",
    "Parity",
    "ResolvedModel",
    "Target",
    "artifact_name",
    "export_model",
    "export_target",
    "get_target",
    "list_targets",
    "measure_parity",
    "resolve_model",
    "resolve_targets",
]
