"""ncnn backend: ``ncnn.Net`` on the CPU (Vulkan GPU when asked and present), one image per call."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ...errors import ArtifactError, InvalidInputError, require
from .base import BackendInfo, check_name, fall_back, load_failed

DEVICES = ("cpu", "vulkan", "gpu")


def _blob_names(param: Path) -> tuple[str, str, int | None]:
    """The graph's input blob (its Input layer's top), output blob (the last layer's top) and the
    input channels when a convolution reads the input directly (ncnn does not check them)."""
    lines = [ln.split() for ln in param.read_text(encoding="utf-8", errors="replace").splitlines() if ln.strip()]
    if len(lines) < 3 or lines[0] != ["7767517"]:
        raise ArtifactError("not an ncnn .param file (magic 7767517 missing)", path=param,
                            hint="re-export with edge-export --target ncnn-fp32")
    inputs = [tok[4 + int(tok[2])] for tok in lines[2:] if tok[0] == "Input" and int(tok[3]) >= 1]
    last = lines[-1]
    if not inputs or int(last[3]) < 1:
        raise ArtifactError("the ncnn graph has no Input layer or no output blob", path=param)
    return inputs[0], last[4 + int(last[2])], _input_channels(lines, inputs[0])


def _input_channels(lines: list[list[str]], blob: str) -> int | None:
    """in = weight_data_size / (num_output * kernel_w * kernel_h) of a Convolution reading ``blob``
    (directly or through a Split)."""
    names = {blob}
    for tok in lines[2:]:
        nb = int(tok[2])
        if tok[0] == "Split" and tok[4] in names:
            names.update(tok[4 + nb:4 + nb + int(tok[3])])
        elif tok[0] == "Convolution" and tok[4] in names:
            p = dict(t.split("=", 1) for t in tok[4 + nb + int(tok[3]):] if "=" in t)
            kw = int(p.get("1", "0"))
            per = int(p.get("0", "0")) * kw * int(p.get("11", str(kw)))
            return int(p.get("6", "0")) // per if per else None
    return None


class NcnnBackend:
    """``ncnn.Net`` with fp16/bf16 storage off on the CPU, so float layers compute in fp32 (the
    precision the export's parity was measured in); INT8 layers run ncnn's int8 kernels. The
    weights are the ``.bin`` beside the ``.param``."""

    name = "ncnn"

    def __init__(self) -> None:
        self.net = None
        self.info = BackendInfo(self.name, "", "cpu")

    def load(self, path: Path, *, device: str | None = None, threads: int | None = None,
             delegate: str | None = None, strict: bool = False) -> None:
        ncnn = require("ncnn", "ncnn", "running ncnn models")
        path = Path(path)
        device = check_name("ncnn device", delegate or device or "cpu", DEVICES)
        self._in, self._out, self._channels = _blob_names(path)
        vulkan, fallback = False, None
        if device != "cpu":
            vulkan = ncnn.get_gpu_count() > 0
            if not vulkan:
                fallback = fall_back("ncnn Vulkan device", "no Vulkan GPU or driver found", strict=strict)
        net = ncnn.Net()
        opt = net.opt
        opt.use_vulkan_compute = vulkan
        if threads:
            opt.num_threads = int(threads)
        if not vulkan:
            opt.use_fp16_storage = opt.use_fp16_packed = opt.use_fp16_arithmetic = False
            opt.use_bf16_storage = False
        weights = path.with_suffix(".bin")
        try:
            if net.load_param(str(path)) != 0 or net.load_model(str(weights)) != 0:
                raise RuntimeError("load_param/load_model returned an error")
        except Exception as exc:  # the binding raises RuntimeError or returns non-zero
            raise load_failed(path, self.name, exc) from exc
        self.net, self._ncnn = net, ncnn
        self.info = BackendInfo(self.name, str(getattr(ncnn, "__version__", "unknown")),
                                "vulkan" if vulkan else "cpu", requested_device=device,
                                threads=int(opt.num_threads), fallback=fallback,
                                extra={"fp16_storage": bool(opt.use_fp16_storage), "layout": "CHW per image"})

    def run(self, x: np.ndarray) -> np.ndarray:
        if x.ndim != 4 or (self._channels is not None and x.shape[1] != self._channels):
            raise InvalidInputError("input tensor does not fit the model", given=list(x.shape),
                                    allowed=f"N x {self._channels or 'C'} x H x W float32")
        outs = []
        for image in x:  # ncnn takes one C x H x W image per extractor
            ex = self.net.create_extractor()
            ex.input(self._in, self._ncnn.Mat(np.ascontiguousarray(image, dtype=np.float32)))
            ret, mat = ex.extract(self._out)
            if ret != 0:
                raise ArtifactError(f"ncnn could not compute blob {self._out!r} (error {ret})",
                                    hint="re-export the artifact")
            outs.append(np.array(mat, dtype=np.float32, copy=True))
        return np.stack(outs)

    def close(self) -> None:
        self.net = None

    @property
    def input_details(self) -> dict:
        return {"name": self._in, "shape": None, "dtype": "float32", "scale": None, "zero_point": None}
