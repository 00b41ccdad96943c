"""ncnn INT8 without ncnn's C++ tools: calibrate through the Python binding, write int8 files.

ncnn's own route is ``ncnn2table`` (activation scales from images) then ``ncnn2int8`` (int8
weights + scales); neither is in the PyPI wheels. This module does the same job on the
project's calibration patches, written from ncnn's documented file format:

1. run the fp32 ``.param``/``.bin`` (pnnx) on every calibration patch with ``ncnn.Extractor``
   and record the largest magnitude reaching each convolution's input blob (``minmax``);
2. per convolution: weights quantized symmetrically per output channel (``ConvolutionDepthWise``:
   per group), ``int8 = round(w * scale)`` with ``scale = 127 / max|w|``, input scale
   ``127 / max|x|`` (ncnn multiplies by its scales);
3. write the ``.param`` with ``int8_scale_term`` (param 8: 2 for ``Convolution``, 1 for
   ``ConvolutionDepthWise``) and the ``.bin`` with each quantized layer's weights as int8 data
   (tag ``0x000D4B38``, padded to 4 bytes), its float bias, then the weight scales and the input
   scale as raw float32 (what ``load_model`` of those layers reads when the term is set).

ncnn then runs those convolutions with int8 kernels (quantize input, int8 GEMM, dequantize,
bias and activation in float); the layers between them (add, concat, resize, clip) stay float.
A graph with a weight-carrying layer this writer does not know is refused, never guessed.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..errors import ExportError, require
from ._context import ExportJob, ExportResult
from ._ncnn import INPUT, convert_pnnx, read_param, result

TAG_INT8 = 0x000D4B38
TAG_FP16 = 0x01306B47
QUANTIZED = {"Convolution": "2", "ConvolutionDepthWise": "1"}  # layer -> int8_scale_term written
#: layers that read nothing from the .bin (checked, so an unknown weight layer is refused)
NO_WEIGHTS = {"Input", "Split", "Concat", "BinaryOp", "Eltwise", "ReLU", "Clip", "HardSwish", "HardSigmoid",
              "Sigmoid", "Swish", "Mish", "TanH", "UnaryOp", "Interp", "PixelShuffle", "Reorg", "Crop",
              "Padding", "Pooling", "Reshape", "Permute", "Flatten", "Slice", "Noop", "Dropout", "Softmax"}


class _Bin:
    """A cursor over an fp32 ncnn .bin, reading what each layer's ``load_model`` reads."""

    def __init__(self, data: bytes, path: Path) -> None:
        self.data, self.pos, self.path = data, 0, path

    def raw(self, count: int) -> np.ndarray:  # ModelBin type 1: float32 without a tag
        end = self.pos + 4 * count
        if end > len(self.data):
            raise ExportError("ncnn .bin ends before the graph's weights do", path=self.path)
        out = np.frombuffer(self.data[self.pos:end], dtype="<f4").copy()
        self.pos = end
        return out

    def tagged(self, count: int) -> np.ndarray:  # ModelBin type 0: a 4-byte tag, then the data
        (tag,) = struct.unpack_from("<I", self.data, self.pos)
        self.pos += 4
        if tag == 0:
            return self.raw(count)
        if tag == TAG_FP16:
            size = (2 * count + 3) // 4 * 4
            out = np.frombuffer(self.data[self.pos:self.pos + 2 * count], dtype="<f2").astype(np.float32)
            self.pos += size
            return out
        raise ExportError(f"ncnn .bin holds weights in a form this writer does not read (tag {tag:#010x})",
                          path=self.path, hint="quantize from the fp32 or fp16 pnnx output")


def _tagged_int8(q: np.ndarray) -> bytes:
    body = q.astype(np.int8).tobytes()
    return struct.pack("<I", TAG_INT8) + body + b"\0" * (-len(body) % 4)


def _quantize_weights(w: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-row symmetric int8: (int8 values, ncnn scales ``127 / max|w|``; 1 for an all-zero row)."""
    w = w.reshape(rows, -1)
    peak = np.abs(w).max(axis=1)
    scales = np.where(peak > 0, 127.0 / np.where(peak > 0, peak, 1.0), 1.0).astype(np.float32)
    q = np.clip(np.round(w * scales[:, None]), -127, 127)
    return q.reshape(-1), scales


def open_net(param: Path, weights: Path):  # noqa: ANN201 - an ncnn.Net
    """An fp32-arithmetic CPU ``ncnn.Net`` (no fp16/bf16 storage), as the runtime backend loads it."""
    ncnn = require("ncnn", "ncnn", "ncnn INT8 calibration")
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.use_fp16_storage = net.opt.use_fp16_packed = net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.opt.num_threads = 2
    if net.load_param(str(param)) != 0 or net.load_model(str(weights)) != 0:
        raise ExportError("ncnn could not load the model", path=param)
    return net


def run_net(net, x: np.ndarray, blobs: list[str]) -> list[np.ndarray]:  # noqa: ANN001
    """The named blobs of one run on a 1 x C x H x W input."""
    ncnn = require("ncnn", "ncnn", "ncnn INT8 calibration")
    ex = net.create_extractor()
    ex.set_light_mode(False)  # keep every blob of this run, so each is computed once
    ex.input(INPUT, ncnn.Mat(np.ascontiguousarray(x[0])))
    outs = []
    for blob in blobs:
        ret, mat = ex.extract(blob)
        if ret != 0:
            raise ExportError(f"ncnn could not compute blob {blob!r}")
        outs.append(np.array(mat, dtype=np.float32, copy=True))
    return outs


def _input_peaks(job: ExportJob, param: Path, weights: Path, blobs: list[str]) -> dict[str, float]:
    """Largest |x| reaching each blob over the calibration patches, through the fp32 ncnn net."""
    net = open_net(param, weights)
    peaks = dict.fromkeys(blobs, 0.0)
    for x in job.calib.calib_batches("NCHW"):
        for blob, value in zip(blobs, run_net(net, x, blobs), strict=True):
            peaks[blob] = max(peaks[blob], float(np.abs(value).max()))
    return peaks


def _check_known(layers: list[dict], param: Path) -> None:
    for layer in layers:
        kind = layer["type"]
        if kind in QUANTIZED:
            if int(layer["params"].get("8", "0")):
                raise ExportError(f"layer {layer['name']} is already quantized", path=param)
            if int(layer["params"].get("19", "0")):  # dynamic_weight: weights come from a blob
                raise ExportError(f"{kind} {layer['name']} takes its weights from a blob (dynamic_weight)",
                                  path=param, hint="ncnn-int8 needs constant convolution weights")
        elif kind not in NO_WEIGHTS:
            raise ExportError(f"ncnn-int8 cannot quantize this graph: layer type {kind} ({layer['name']}) is not "
                              "one edgedeblur's ncnn INT8 writer knows", path=param,
                              allowed=", ".join(sorted({*QUANTIZED, *NO_WEIGHTS})),
                              hint="export ncnn-fp32/ncnn-fp16, or another INT8 target")


def _layer_parts(layers: list[dict], weights: Path, peaks: dict[str, float]) -> dict[str, tuple[bytes, bytes]]:
    """Per convolution: (its fp32 bytes as pnnx wrote them, its int8 bytes with scales)."""
    src = _Bin(weights.read_bytes(), weights)
    parts = {}
    for layer in layers:
        if layer["type"] not in QUANTIZED:
            continue
        p = layer["params"]
        num_output, size, bias = int(p.get("0", "0")), int(p.get("6", "0")), int(p.get("5", "0"))
        start = src.pos
        w = src.tagged(size)
        b = src.raw(num_output).astype("<f4").tobytes() if bias else b""
        fp32 = src.data[start:src.pos]
        q, w_scales = _quantize_weights(w, num_output if layer["type"] == "Convolution" else int(p.get("7", "1")))
        peak = peaks[layer["bottoms"][0]]
        in_scale = np.float32(127.0 / peak if peak > 0 else 1.0)
        parts[layer["name"]] = (fp32, _tagged_int8(q) + b + w_scales.astype("<f4").tobytes()
                                + in_scale.astype("<f4").tobytes())
    if src.pos != len(src.data):
        raise ExportError("ncnn .bin has more data than the graph reads (unknown layout)", path=weights)
    return parts


def _write(layers: list[dict], parts: dict, keep_float: set[str], param: Path, dst: Path) -> None:
    """The .param/.bin pair with every convolution INT8 except ``keep_float``."""
    terms = {c["name"]: QUANTIZED[c["type"]] for c in layers if c["name"] in parts and c["name"] not in keep_float}
    _write_param(param, dst, terms)
    body = b"".join(parts[c["name"]][0 if c["name"] in keep_float else 1] for c in layers if c["name"] in parts)
    dst.with_suffix(".bin").write_bytes(body)


def quantize_ncnn(job: ExportJob) -> ExportResult:
    """INT8 ncnn files from the fp32 pnnx output and the calibration patches."""
    param, weights = convert_pnnx(job, fp16=False)
    layers = read_param(param)
    _check_known(layers, param)
    convs = [layer for layer in layers if layer["type"] in QUANTIZED]
    if not convs:
        raise ExportError("the ncnn graph has no convolution to quantize", path=param)
    peaks = _input_peaks(job, param, weights, sorted({c["bottoms"][0] for c in convs}))
    parts = _layer_parts(layers, weights, peaks)
    budget = job.options.get("max_drop_db")
    control = bool(job.options.get("ncnn_accuracy_control", True)) and budget is not None
    keep: list[str] = []
    quant: dict = {"method": "edgedeblur ncnn INT8 writer: per-tensor symmetric int8 inputs (max |x| on the "
                             "calibration patches), int8 weights per output channel (per group for depthwise), "
                             "float bias",
                   "algorithm": job.calib_method,
                   "note": "ncnn2table/ncnn2int8 are not in the PyPI wheels; this writer follows ncnn's file format"}
    if control:
        from ._ncnn_control import keep_float

        keep, record = keep_float(job, layers, parts, param, weights, 0.5 * float(budget), _write)
        quant["accuracy_control"] = record
    _write(layers, parts, set(keep), param, job.out_path)
    quant["layers_int8"] = len(convs) - len(keep)
    return result(job, job.out_path.with_suffix(".bin"),
                  "pnnx fp16=0 from torch.jit.trace, then edgedeblur's ncnn INT8 writer", quant)


def _write_param(src: Path, dst: Path, terms: dict[str, str]) -> None:
    """Copy the .param, adding ``8=<int8_scale_term>`` to each quantized layer's line."""
    lines = src.read_text(encoding="utf-8").splitlines()
    out = lines[:2]
    for line in lines[2:]:
        tok = line.split()
        if tok and len(tok) > 1 and tok[1] in terms and tok[0] in QUANTIZED:
            line = f"{line.rstrip()} 8={terms[tok[1]]}"
        out.append(line)
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")

