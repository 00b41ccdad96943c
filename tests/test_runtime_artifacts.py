"""Real test artifacts for the runtime tests, built with the ONNX/OpenVINO/LiteRT toolchains.

Until edge-export's outputs are cheap to make in a test, these small fully-convolutional nets
(two 3x3 convs, ReLU, global residual) are written as real model files plus manifests written
with ``write_manifest``. ONNX graphs are built with ``onnx.helper`` (no torch), so int8 I/O,
NHWC layout and fixed shapes are all exercised. Other test modules import the builders.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from edgedeblur.runtime import Manifest, sha256_file, write_manifest

RNG_SEED = 1234


def _weights(seed: int = RNG_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    eye = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        eye[c, c, 1, 1] = 1.0
    w1 = (eye + 0.2 * rng.standard_normal((3, 3, 3, 3))).astype(np.float32)
    w2 = (eye + 0.2 * rng.standard_normal((3, 3, 3, 3))).astype(np.float32)
    b1 = (0.05 * rng.standard_normal(3)).astype(np.float32)
    b2 = (0.05 * rng.standard_normal(3)).astype(np.float32)
    return w1, b1, w2, b2


def reference_forward(x_nchw: np.ndarray) -> np.ndarray:
    """The same net in numpy (float64), for checking backends independently."""
    w1, b1, w2, b2 = _weights()

    def conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        n, c, h, wd = x.shape
        xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
        out = np.zeros((n, w.shape[0], h, wd))
        for dy in range(3):
            for dx in range(3):
                out += np.einsum("oc,nchw->nohw", w[:, :, dy, dx], xp[:, :, dy:dy + h, dx:dx + wd])
        return out + b[None, :, None, None]

    return x_nchw + 0.1 * conv(np.maximum(conv(x_nchw, w1, b1), 0), w2, b2)


def build_onnx(
    folder: Path,
    stem: str = "tiny",
    *,
    layout: str = "NCHW",
    size: int | None = None,
    qdtype: str | None = None,
    scale: float = 1 / 255,
    zero_point: int = 0,
    pad_multiple: int = 1,
    tile: tuple[int, int] | None = None,
    channels_in_manifest: int = 3,
) -> Path:
    """Write ``stem.onnx`` and its manifest; ``size`` fixes H = W, ``qdtype`` gives int8/uint8 I/O."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w1, b1, w2, b2 = _weights()
    hw = [size, size] if size else ["H", "W"]
    shape = [1, 3, *hw] if layout == "NCHW" else [1, *hw, 3]
    elem = {None: TensorProto.FLOAT, "int8": TensorProto.INT8, "uint8": TensorProto.UINT8}[qdtype]
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (np.array(0.1, np.float32), "k")]]
    nodes, cur = [], "input"
    if qdtype:
        inits += [numpy_helper.from_array(np.array(scale, np.float32), "s"),
                  numpy_helper.from_array(np.array(zero_point, np.dtype(qdtype)), "z")]
        nodes.append(helper.make_node("DequantizeLinear", ["input", "s", "z"], ["xf"]))
        cur = "xf"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [cur], ["xc"], perm=[0, 3, 1, 2]))
        cur = "xc"
    nodes += [
        helper.make_node("Conv", [cur, "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1]),
        helper.make_node("Mul", ["c2", "k"], ["m2"]),
        helper.make_node("Add", [cur, "m2"], ["y"]),
    ]
    cur = "y"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", [cur], ["yl"], perm=[0, 2, 3, 1]))
        cur = "yl"
    nodes.append(helper.make_node("QuantizeLinear", [cur, "s", "z"], ["output"]) if qdtype
                 else helper.make_node("Identity", [cur], ["output"]))
    graph = helper.make_graph(nodes, stem, [helper.make_tensor_value_info("input", elem, shape)],
                              [helper.make_tensor_value_info("output", elem, shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / f"{stem}.onnx"
    onnx.save(model, path)
    mshape = [1, channels_in_manifest, *(hw if size else [-1, -1])] if layout == "NCHW" \
        else [1, *([size, size] if size else [-1, -1]), channels_in_manifest]
    write_artifact_manifest(path, "onnx", layout=layout, shape=mshape, dtype=qdtype or "float32",
                            scale=scale if qdtype else None, zero_point=zero_point if qdtype else None,
                            dynamic=size is None, pad_multiple=pad_multiple,
                            tile=tile or ((size, size // 8) if size else None))
    return path


def write_artifact_manifest(path: Path, fmt: str, *, layout: str, shape: list[int], dtype: str,
                            scale: float | None = None, zero_point: int | None = None,
                            dynamic: bool = True, pad_multiple: int = 1,
                            tile: tuple[int, int] | None = None, backend: str | None = None,
                            weights: Path | None = None) -> Path:
    """A manifest for ``path`` written by the runtime's own writer (validated)."""
    def tensor(name: str) -> dict:
        return {"name": name, "shape": shape, "dtype": dtype, "layout": layout, "range": [0.0, 1.0],
                "colour": "RGB" if shape[1 if layout == "NCHW" else 3] == 3 else "GREY",
                "scale": scale, "zero_point": zero_point}
    data = {
        "schema_version": 1,
        "artifact": {"file": path.name, "sha256": sha256_file(path), "bytes": os.path.getsize(path),
                     "format": fmt, "precision": "int8" if dtype in ("int8", "uint8") else "fp32",
                     "target": None, "backend": backend,
                     "weights_file": weights.name if weights else None,
                     "weights_sha256": sha256_file(weights) if weights else None},
        "model": {"name": path.stem, "task": "denoise", "params": 174},
        "io": {"input": tensor("input"), "output": tensor("output"), "dynamic_hw": dynamic,
               "pad_multiple": pad_multiple,
               "tile": None if tile is None else {"size": tile[0], "overlap": tile[1]}},
        "export": None, "parity": None, "created": "2026-11-22T00:00:00Z", "edgedeblur_version": "0.1.0",
    }
    return write_manifest(path.with_name(path.stem + ".manifest.json"), data)


def build_openvino_ir(folder: Path, onnx_path: Path) -> Path:
    """Convert an ONNX test model to OpenVINO IR (.xml + .bin) with ``ov.convert_model``."""
    import openvino as ov

    xml = folder / (onnx_path.stem + "_ov.xml")
    ov.save_model(ov.convert_model(str(onnx_path)), str(xml), compress_to_fp16=False)
    src = Manifest.read(onnx_path).data
    io = src["io"]
    return write_artifact_manifest(xml, "openvino", layout=io["input"]["layout"],
                                   shape=io["input"]["shape"], dtype=io["input"]["dtype"],
                                   dynamic=io["dynamic_hw"], pad_multiple=io["pad_multiple"],
                                   tile=None if io["tile"] is None else (io["tile"]["size"], io["tile"]["overlap"]),
                                   weights=xml.with_suffix(".bin"))


def build_tflite(folder: Path, size: int = 32) -> Path:
    """A fixed-shape NHWC float .tflite of the same net via litert-torch (skips when absent)."""
    pytest.importorskip("litert_torch", reason="litert-torch not installed (pip install litert-torch)")
    import litert_torch
    import torch

    torch.set_num_threads(1)
    w1, b1, w2, b2 = _weights()

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Conv2d(3, 3, 3, padding=1)
            self.b = torch.nn.Conv2d(3, 3, 3, padding=1)
            with torch.no_grad():
                for conv, w, b in ((self.a, w1, b1), (self.b, w2, b2)):
                    conv.weight.copy_(torch.from_numpy(w))
                    conv.bias.copy_(torch.from_numpy(b))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + 0.1 * self.b(torch.relu(self.a(x)))

    model = litert_torch.to_channel_last_io(Net().eval(), args=[0], outputs=[0])
    path = folder / "tiny_fixed.tflite"
    litert_torch.convert(model, (torch.rand(1, size, size, 3),)).export(str(path))
    write_artifact_manifest(path, "tflite", layout="NHWC", shape=[1, size, size, 3], dtype="float32",
                            dynamic=False, tile=(size, size // 8))
    return path


# --- tests of the builders themselves: the numpy reference must match ONNX Runtime ---------------

def test_onnx_builder_matches_numpy_reference(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    path = build_onnx(tmp_path)
    x = np.random.default_rng(0).random((1, 3, 20, 24), dtype=np.float32)
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    np.testing.assert_allclose(got, reference_forward(x), atol=1e-5)
