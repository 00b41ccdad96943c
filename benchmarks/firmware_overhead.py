"""Footprint and per-frame overhead of the firmware C library (numbers quoted in docs/firmware.md).

What it measures, all in one run on this machine:
1. Code size: ``size`` of ``libedgedeblur_fw.a`` (sum over its objects) and of the ``.so``
   (gcc -O2 Release, x86-64).
2. Stack: gcc ``-fstack-usage`` per function of the library; the deepest per-frame call chain
   (edb_run -> pack_tile -> fetch_row -> edb_nv12_row_to_rgb) is summed.
3. Working memory for a 720p frame (edb_plan_work_bytes / edb_plan_tensor_bytes).
4. Library time around the inference callback for a 1280x720 frame with a callback that does
   nothing (``firmware/bench/edb_bench.c``; median of --runs frames, wall clock and process CPU
   time), for RGB/NV12/grey input and float32/int8 tensors, plus the instructions per frame
   counted by valgrind (callgrind, 2 frames minus 1 frame: independent of machine load);
   baseline in the same run: the Python runtime's own time around the engine for the same frame
   and tiling (Runner with an engine that returns its input).
5. With a real engine: the OpenVINO C API example restoring a 720p frame (CBSD68 image 0
   tiled to 1280x720) with the exported zoo model, median total / inference / library time,
   and the largest difference to the Python runtime's output on the same frame.

Run: ``nice .venv/bin/python benchmarks/firmware_overhead.py [--artifact MANIFEST] [--runs 15]``.
The artifact defaults to build/bench-artifacts/mnv2unet_s_denoise.openvino-fp32 (made by
``edge-export``, see benchmarks/runtime_bench_report.py). Results: benchmarks/results/firmware_overhead.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
DEFAULT_ART = REPO / "build" / "bench-artifacts" / "mnv2unet_s_denoise.openvino-fp32.manifest.json"
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
W, H, TILE, OVERLAP = 1280, 720, 256, 32
CONFIGS = [("rgb", "f32", "nchw"), ("rgb", "i8", "nhwc"), ("nv12", "f32", "nchw"), ("gray", "f32", "nchw")]


def _cmake(build: Path, *extra: str, target: str | None = None) -> None:
    subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release", *extra],
                   check=True, capture_output=True)
    cmd = ["cmake", "--build", str(build), "-j2"] + (["--target", target] if target else [])
    subprocess.run(cmd, check=True, capture_output=True)


def code_size(build: Path) -> dict:
    """text/data/bss of the static library (sum over objects) and of the shared one."""
    def berkeley(path: Path) -> list[list[int]]:
        out = subprocess.run(["size", str(path)], check=True, capture_output=True, text=True).stdout
        return [[int(v) for v in line.split()[:3]] for line in out.splitlines()[1:] if line.strip()]

    a = np.array(berkeley(build / "libedgedeblur_fw.a")).sum(axis=0)
    so = berkeley(build / "libedgedeblur_fw.so")[0]
    return {"static_text": int(a[0]), "static_data": int(a[1]), "static_bss": int(a[2]),
            "shared_text": so[0], "shared_data": so[1], "shared_bss": so[2]}


def stack_usage(build: Path) -> dict:
    """Per-function stack from gcc -fstack-usage, and the deepest per-frame chain."""
    frames: dict[str, int] = {}
    for su in build.rglob("*.su"):
        if "edgedeblur_fw.dir" not in str(su):
            continue
        for line in su.read_text().splitlines():
            m = re.match(r".*:(\w+)\t(\d+)\t(\w+)", line)
            if m:
                frames[m.group(1)] = max(frames.get(m.group(1), 0), int(m.group(2)))
    chain = ["edb_run", "pack_tile", "fetch_row", "edb_nv12_row_to_rgb"]
    finish = ["edb_run", "finish_rows", "finish_nv12_rgb", "edb_acc_rows_to_nv12"]
    deepest = max(sum(frames.get(f, 0) for f in chain), sum(frames.get(f, 0) for f in finish))
    return {"functions": frames, "max_frame": max(frames.values()), "per_frame_chain_bytes": deepest,
            "note": "static functions may be inlined into their caller; the chain sums what gcc reports"}


def _instructions(cmd: list[str]) -> int | None:
    """Instructions executed by ``cmd`` under callgrind (None without valgrind)."""
    if not shutil.which("valgrind"):
        return None
    with tempfile.TemporaryDirectory() as tmp:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg", *cmd],
                              capture_output=True, text=True, check=True)
    m = re.search(r"Collected : (\d+)", done.stderr)
    return int(m.group(1)) if m else None


def c_overhead(build: Path, runs: int) -> list[dict]:
    rows = []
    for fmt, dt, layout in CONFIGS:
        cmd = [str(build / "edb_bench"), str(W), str(H), fmt, dt, layout, str(TILE), str(OVERLAP)]
        row = json.loads(subprocess.run([*cmd, str(runs)], check=True, capture_output=True, text=True).stdout)
        one, two = _instructions([*cmd, "1"]), _instructions([*cmd, "2"])
        row["instructions_per_frame"] = None if one is None or two is None else two - one
        rows.append(row)
    return rows


class _IdentityEngine:
    """The engine for the Python baseline: returns its input (a copy, as the real backends do)."""

    def __init__(self) -> None:
        from edgedeblur.runtime import BackendInfo

        self.info = BackendInfo("identity", "0", "cpu")

    def run(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def close(self) -> None:
        pass


def python_overhead(manifest_path: Path, frame: np.ndarray, runs: int) -> dict:
    from edgedeblur.runtime import Runner
    from edgedeblur.runtime.manifest import Manifest

    runner = Runner(Manifest.read(manifest_path), _IdentityEngine(), tile=TILE, overlap=OVERLAP,
                    max_pixels=0, batch=1)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        runner.restore(frame)
        times.append(time.perf_counter() - t0)
    return {"median_ms": statistics.median(times) * 1e3, "min_ms": min(times) * 1e3, "runs": runs}


def frame_720p() -> np.ndarray:
    from edgedeblur.io import read_image

    src = read_image(sorted((DATA / "eval" / "cbsd68").iterdir())[0])
    return np.ascontiguousarray(np.tile(src, (H // src.shape[0] + 1, W // src.shape[1] + 1, 1))[:H, :W])


def real_engine(manifest_path: Path, frame: np.ndarray, work: Path, repeat: int, threads: int) -> dict:
    import openvino

    from edgedeblur.export.c_header import write_c_header
    from edgedeblur.runtime import load
    from edgedeblur.runtime.manifest import Manifest

    write_c_header(manifest_path, work / "model_contract.h", max_pixels=0, tile=TILE, overlap=OVERLAP)
    build = work / "build-ov"
    _cmake(build, f"-DEDB_OPENVINO_DIR={Path(openvino.__file__).parent / 'cmake'}",
           f"-DEDB_CONTRACT_DIR={work}", target="edb_ov_restore")
    src, dst = work / "frame.ppm", work / "restored.ppm"
    src.write_bytes(f"P6\n{W} {H}\n255\n".encode() + frame.tobytes())
    xml = Manifest.read(manifest_path).artifact_path
    out = subprocess.run([str(build / "edb_ov_restore"), "--model", str(xml), "--threads", str(threads),
                          "--repeat", str(repeat), str(src), str(dst)], check=True, capture_output=True,
                         text=True).stdout
    m = re.search(r"median of \d+: ([\d.]+) ms total, ([\d.]+) ms inference, ([\d.]+) ms library", out)
    got = np.frombuffer(dst.read_bytes()[-frame.nbytes:], np.uint8).reshape(frame.shape)
    runner = load(manifest_path, backend="openvino", threads=threads, max_pixels=0, tile=TILE, overlap=OVERLAP)
    py_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        want = runner.restore(frame)
        py_times.append(time.perf_counter() - t0)
    diff = np.abs(got.astype(np.int32) - want.astype(np.int32))
    return {"c_total_ms": float(m.group(1)), "c_inference_ms": float(m.group(2)), "c_library_ms": float(m.group(3)),
            "python_total_ms": statistics.median(py_times) * 1e3, "repeat": repeat, "threads": threads,
            "max_abs_diff_vs_python": int(diff.max()), "pixels_off_by_one": float((diff > 0).mean()),
            "model": Manifest.read(manifest_path).name, "output": out.strip()}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--artifact", type=Path, default=DEFAULT_ART, help="an OpenVINO artifact's manifest")
    p.add_argument("--runs", type=int, default=15, help="frames per configuration (median reported)")
    p.add_argument("--threads", type=int, default=2, help="OpenVINO threads for the real-engine run")
    p.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "firmware_overhead.json")
    args = p.parse_args()
    result: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                                "system": platform.platform(), "load_1min_start": os.getloadavg()[0]},
                    "frame": f"{W}x{H}", "tile": TILE, "overlap": OVERLAP}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _cmake(work / "build")
        _cmake(work / "build-su", "-DCMAKE_C_FLAGS=-fstack-usage", target="edgedeblur_fw")
        result["code_size"] = code_size(work / "build")
        result["stack"] = stack_usage(work / "build-su")
        result["c_null_engine"] = c_overhead(work / "build", args.runs)
        frame = frame_720p()
        if args.artifact.exists():
            result["python_identity_engine"] = python_overhead(args.artifact, frame, max(3, args.runs // 3))
            result["ratio_c_over_python_rgb_f32"] = (result["c_null_engine"][0]["median_ms"]
                                                     / result["python_identity_engine"]["median_ms"])
            result["openvino_example"] = real_engine(args.artifact, frame, work, 5, args.threads)
        else:
            print(f"note: {args.artifact} not found; skipping the Python baseline and the real-engine run "
                  "(make it with edge-export, see benchmarks/runtime_bench_report.py)", file=sys.stderr)
    result["machine"]["load_1min_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "stack"}, indent=2))
    print(f"stack: max frame {result['stack']['max_frame']} B, per-frame chain {result['stack']['per_frame_chain_bytes']} B")
    return 0


if __name__ == "__main__":
    sys.exit(main())
