"""ncnn routes: pnnx from a TorchScript trace (fp32, fp16 weights); INT8 by edgedeblur's own writer.

``pnnx`` (the PyPI wheel's converter binary) reads ``torch.jit.trace`` of the deploy-form model,
traced at the tile size and a second size so the ncnn graph keeps dynamic H/W, and writes the
ncnn ``.param`` (graph, text) and ``.bin`` (weights). fp32 stores float32 weights (``fp16=0``);
fp16 stores float16 weights (``fp16=1``), widened to float32 at load on this runtime's CPU path.

INT8: ncnn's own tools for it (``ncnn2table``, ``ncnn2int8``) are C++ programs the PyPI wheels
do not ship, so :mod:`edgedeblur.export._ncnn_int8` calibrates the fp32 file on the project's
calibration patches through the ncnn Python binding and writes the int8 ``.param``/``.bin``.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

from ..errors import ExportError, require
from ._context import ExportJob, ExportResult, tensor_spec, version_of
from ._engine_tools import run_tool

LAYOUT = "NCHW input and output tensors (one C x H x W ncnn::Mat per image, batch 1); packed channels inside the engine"
INPUT, OUTPUT = "in0", "out0"  # the blob names pnnx gives the first input and output


def _versions() -> dict[str, str]:
    return {"torch": version_of("torch"), "pnnx": version_of("pnnx"), "ncnn": version_of("ncnn")}


def _engine(how: str) -> dict:
    return {"name": "ncnn", "converter": how, "converter_version": f"pnnx {version_of('pnnx')}", "layout": LAYOUT}


def _trace(job: ExportJob) -> Path:
    """``torch.jit.trace`` of the model at the tile size, saved once per run."""
    if "ncnn-trace" not in job._cache:
        torch = require("torch", "export", "ncnn export (TorchScript trace)")
        path = job.workdir / "ncnn-trace.pt"
        try:
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.jit.trace(job.model, job.example_input("NCHW"), check_trace=False).save(str(path))
        except Exception as exc:  # tracing raises many types; all mean "this model did not trace"
            raise ExportError(f"torch.jit.trace failed: {type(exc).__name__}: {str(exc)[:300]}",
                              path=job.out_path) from exc
        job._cache["ncnn-trace"] = path
    return job._cache["ncnn-trace"]


def convert_pnnx(job: ExportJob, fp16: bool) -> tuple[Path, Path]:
    """(.param, .bin) written by pnnx into the run's scratch folder (cached per precision)."""
    key = f"ncnn-{'fp16' if fp16 else 'fp32'}"
    if key not in job._cache:
        pnnx = require("pnnx", "ncnn-export", "ncnn export (pnnx)")
        src = _trace(job)
        out = job.workdir / key
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        c, t, m = job.in_channels, job.tile, max(job.pad_multiple, 1)
        t2 = max(m, (t // 2) // m * m)  # a second shape: pnnx keeps H/W dynamic when two shapes trace alike
        param, weights = out / "model.ncnn.param", out / "model.ncnn.bin"
        files = {"ncnnparam": param, "ncnnbin": weights, "ncnnpy": out / "model_ncnn.py",
                 "pnnxparam": out / "model.pnnx.param", "pnnxbin": out / "model.pnnx.bin",
                 "pnnxpy": out / "model_pnnx.py", "pnnxonnx": out / "model.pnnx.onnx"}
        cmd = [pnnx.EXEC_PATH, src, f"inputshape=[1,{c},{t},{t}]f32", f"inputshape2=[1,{c},{t2},{t2 + m}]f32",
               f"fp16={int(fp16)}", "device=cpu", *(f"{k}={v}" for k, v in files.items())]
        run_tool(cmd, "pnnx", [param, weights], cwd=out)
        job._cache[key] = (param, weights)
    return job._cache[key]


def _io(job: ExportJob) -> tuple[dict, dict]:
    return (tensor_spec(INPUT, [1, job.in_channels, -1, -1]), tensor_spec(OUTPUT, [1, job.out_channels, -1, -1]))


def result(job: ExportJob, weights: Path, how: str, quant: dict | None = None) -> ExportResult:
    """The ExportResult of an ncnn file pair written to ``job.out_path`` and ``weights``."""
    i, o = _io(job)
    return ExportResult(job.out_path, i, o, dynamic_hw=True, weights=weights, quantization=quant,
                        tool_versions=_versions(), engine=_engine(how),
                        notes=["pnnx from torch.jit.trace at the tile size and at a second size (dynamic H/W)"])


def _write(job: ExportJob, fp16: bool) -> Path:
    param, weights = convert_pnnx(job, fp16)
    shutil.copyfile(param, job.out_path)
    dest = job.out_path.with_suffix(".bin")
    shutil.copyfile(weights, dest)
    return dest


def export_ncnn_fp32(job: ExportJob) -> ExportResult:
    """ncnn fp32 (.param + .bin), dynamic H/W."""
    return result(job, _write(job, fp16=False), "pnnx fp16=0 from torch.jit.trace")


def export_ncnn_fp16(job: ExportJob) -> ExportResult:
    """ncnn with float16-stored weights (pnnx ``fp16=1``); computed in float32 on this CPU path."""
    return result(job, _write(job, fp16=True), "pnnx fp16=1 from torch.jit.trace",
                  {"method": "pnnx fp16=1 (weights stored as float16, computed in float32)"})


#: ncnn layers that carry weights and do the arithmetic (counted by precision)
COMPUTE_LAYERS = ("Convolution", "ConvolutionDepthWise", "Deconvolution", "DeconvolutionDepthWise",
                  "InnerProduct", "Convolution1D", "Convolution3D")


def read_param(path: Path) -> list[dict]:
    """The layers of an ncnn .param file: ``{"type", "name", "bottoms", "tops", "params"}``."""
    lines = [ln.split() for ln in Path(path).read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines or lines[0] != ["7767517"] or len(lines) < 2:
        raise ExportError("not an ncnn .param file (magic 7767517 missing)", path=path)
    layers = []
    for tok in lines[2:]:
        kind, name, nb, nt = tok[0], tok[1], int(tok[2]), int(tok[3])
        bottoms, tops = tok[4:4 + nb], tok[4 + nb:4 + nb + nt]
        params = dict(p.split("=", 1) for p in tok[4 + nb + nt:])
        layers.append({"type": kind, "name": name, "bottoms": bottoms, "tops": tops, "params": params})
    return layers


def ncnn_op_precisions(path: Path) -> tuple[dict[str, int], list[str]]:
    """(compute layers counted by precision, names of float ones) of an ncnn .param file.

    A layer is INT8 when its ``int8_scale_term`` (param id 8) is set, i.e. it quantizes its
    input and runs an integer kernel.
    """
    counts = {"int8": 0, "float32": 0}
    floats = []
    for layer in read_param(path):
        if layer["type"] not in COMPUTE_LAYERS:
            continue
        if int(layer["params"].get("8", "0")):
            counts["int8"] += 1
        else:
            counts["float32"] += 1
            floats.append(f"{layer['type']}:{layer['name']}")
    return counts, floats


def export_ncnn_int8(job: ExportJob) -> ExportResult:
    """ncnn INT8: calibrated on the project's patches by edgedeblur's own table writer."""
    from ._ncnn_int8 import quantize_ncnn

    return quantize_ncnn(job)
