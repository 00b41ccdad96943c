"""The practical MAC rate per backend: a large dense convolution, and each artifact's fraction of it.

A dense reference net (two 64 -> 64 3x3 convolutions with a ReLU between, 1 x 64 x 256 x 256 in:
4.83 GMAC per call) is exported to ONNX (``torch.onnx.export``) and to a fixed-shape NHWC TFLite
file (litert-torch), then run with the runtime's own backends (ONNX Runtime and OpenVINO on the
ONNX file, LiteRT/XNNPACK on the TFLite file), interleaved round by round, fp32, ``--threads``.
The rate is MACs / median call time. Each row of ``docs/bench/runner_vs_bare.json`` (the zoo
artifacts through the runner at 720p, ``model.macs_720p`` / time) is divided by its backend's
dense fp32 rate; INT8 artifacts are compared with the same fp32 rate (there is no INT8 dense
reference here), so their fraction can exceed what fp32 could reach.

Writes ``docs/bench/mac_rate.json`` and ``docs/bench/mac_rate.md`` (generated: do not edit).
Run after ``runtime_plan_bench.py``: ``nice .venv/bin/python benchmarks/runtime_mac_rate.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "docs" / "bench"
C, S = 64, 256
MACS = 2 * C * C * 9 * S * S


def _net():  # noqa: ANN202 - a torch module
    import torch

    class Dense(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Conv2d(C, C, 3, padding=1)
            self.b = torch.nn.Conv2d(C, C, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.b(torch.relu(self.a(x)))

    torch.manual_seed(0)
    return Dense().eval()


def _export(folder: Path) -> dict[str, tuple[Path, str]]:
    """The dense net as ONNX and TFLite; backend -> (file, layout)."""
    import torch

    net = _net()
    onnx_path = folder / "dense.onnx"
    torch.onnx.export(net, (torch.rand(1, C, S, S),), str(onnx_path), input_names=["input"],
                      output_names=["output"], opset_version=18, dynamo=False)
    files = {"onnxruntime": (onnx_path, "NCHW"), "openvino": (onnx_path, "NCHW")}
    try:
        import litert_torch
    except ImportError:
        print("litert-torch not installed: no LiteRT row", file=sys.stderr)
        return files
    tfl = folder / "dense.tflite"
    model = litert_torch.to_channel_last_io(net, args=[0], outputs=[0])
    litert_torch.convert(model, (torch.rand(1, S, S, C),)).export(str(tfl))
    files["litert"] = (tfl, "NHWC")
    return files


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--plan", type=Path, default=BENCH / "runner_vs_bare.json")
    p.add_argument("-o", "--output", type=Path, default=BENCH / "mac_rate.json")
    args = p.parse_args()
    sys.path.insert(0, str(REPO))
    from edgedeblur._machine import machine_summary
    from edgedeblur.io import atomic_write
    from edgedeblur.runtime.backends import create_backend

    with tempfile.TemporaryDirectory() as tmp:
        loaded = {}
        for name, (path, layout) in _export(Path(tmp)).items():
            backend = create_backend(name)
            backend.load(path, device=None, threads=args.threads, delegate=None, strict=False)
            shape = (1, C, S, S) if layout == "NCHW" else (1, S, S, C)
            x = np.random.default_rng(0).random(shape, dtype=np.float32)
            backend.run(x)  # warm-up (and LiteRT's allocation)
            loaded[name] = (backend, x)
        load_before = os.getloadavg()[0]
        times: dict[str, list[float]] = {n: [] for n in loaded}
        for _ in range(args.runs):
            for name, (backend, x) in loaded.items():
                t0 = time.perf_counter()
                backend.run(x)
                times[name].append(time.perf_counter() - t0)
        load_after = os.getloadavg()[0]
        for backend, _ in loaded.values():
            backend.close()
    dense = {n: round(MACS / statistics.median(t) / 1e9, 1) for n, t in times.items()}
    plan = json.loads(args.plan.read_text(encoding="utf-8")) if args.plan.exists() else {"rows": []}
    rows = []
    for r in plan["rows"]:
        peak = dense.get(r["backend"])
        if peak and r.get("gmac_per_s"):
            rows.append({"artifact": r["artifact"], "backend": r["backend"], "precision": r["precision"],
                         "gmac_per_s": r["gmac_per_s"], "dense_fp32_gmac_per_s": peak,
                         "fraction": round(r["gmac_per_s"] / peak, 3)})
    result = {"machine": machine_summary(), "load_1min": [round(load_before, 2), round(load_after, 2)],
              "dense": {"net": f"2 x conv3x3 {C}->{C}, 1x{C}x{S}x{S}", "gmac": round(MACS / 1e9, 2),
                        "gmac_per_s": dense, "threads": args.threads, "runs": args.runs},
              "plan_machine": plan.get("machine"), "rows": rows}
    atomic_write(args.output, json.dumps(result, indent=1) + "\n")
    atomic_write(args.output.with_suffix(".md"), _table(result))
    print(json.dumps(dense))
    return 0


def _table(result: dict) -> str:
    d = result["dense"]
    lines = [
        "# MAC rate: a dense convolution per backend, and each artifact's fraction of it",
        "",
        "Written by `benchmarks/runtime_mac_rate.py` (do not edit by hand). "
        f"Machine: {result['machine']}; 1-minute load average {result['load_1min'][0]:.1f} / "
        f"{result['load_1min'][1]:.1f}. Dense reference: {d['net']} ({d['gmac']} GMAC per call), fp32, "
        f"{d['threads']} threads, median of {d['runs']} interleaved calls. Artifact rates: "
        "`model.macs_720p` / runner time per 720p frame from `runner_vs_bare.json` (measured "
        "there, in its own run); INT8 rows are divided by the fp32 dense rate.",
        "",
        "| backend | dense fp32 GMAC/s |",
        "|---|---|",
        *[f"| {n} | {v} |" for n, v in d["gmac_per_s"].items()],
        "",
        "| artifact | backend | prec. | GMAC/s at 720p | fraction of dense fp32 |",
        "|---|---|---|---|---|",
        *[f"| {r['artifact']} | {r['backend']} | {r['precision']} | {r['gmac_per_s']} | "
          f"{r['fraction']:.2f} |" for r in result["rows"]],
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
