"""Regenerate docs/bench/: export the default model to every target, edge-bench it, edge-report.

Steps (each one a real command a user runs):
1. ``edge-export MODEL -t all -o build/bench-artifacts`` (skipped with --reuse when present);
2. ``edge-bench build/bench-artifacts --threads 1 --threads 2 --float-ref <onnx-fp32>`` appending
   rows to ``docs/bench/<device>.jsonl`` (a fresh file unless --append);
3. ``edge-report docs/bench/*.jsonl -o docs/bench``.

Measured on whatever machine runs it; the device fingerprint and the 1-minute load average go
into every row. Run: ``nice .venv/bin/python benchmarks/runtime_bench_report.py``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _run(cmd: list[str]) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO).returncode


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="mnv2unet_s_denoise")
    p.add_argument("--artifacts", type=Path, default=REPO / "build" / "bench-artifacts")
    p.add_argument("--results", type=Path, default=REPO / "docs" / "bench" / "amd-epyc-2core.jsonl")
    p.add_argument("--reuse", action="store_true", help="keep existing artifacts")
    p.add_argument("--append", action="store_true", help="append to the results file")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--threads", type=int, action="append", default=None)
    args = p.parse_args()
    if not (args.reuse and any(args.artifacts.glob("*.manifest.json"))):
        args.artifacts.mkdir(parents=True, exist_ok=True)
        _run([str(BIN / "edge-export"), args.model, "-t", "all", "-o", str(args.artifacts), "--force"])
    manifests = sorted(args.artifacts.glob(f"{args.model}*.manifest.json"))
    if not manifests:
        print(f"no artifacts in {args.artifacts}", file=sys.stderr)
        return 1
    ref = next((m for m in manifests if "onnx-fp32" in m.name), None)
    if args.results.exists() and not args.append:
        args.results.unlink()
    threads = [f"--threads={t}" for t in (args.threads or [1, 2])]
    bench = [str(BIN / "edge-bench"), *map(str, manifests), *threads, "--runs", str(args.runs),
             "-o", str(args.results)] + (["--float-ref", str(ref)] if ref else [])
    _run(bench)  # failed rows are part of the report, so its exit code is not fatal
    # Every device's rows in this folder (a Pi's, an emulator's), but not the NAS comparisons'
    # (nas-*.jsonl): those have their own reports in docs/bench/nas*/.
    inputs = sorted(p for p in args.results.parent.glob("*.jsonl") if not p.name.startswith("nas-"))
    return _run([str(BIN / "edge-report"), *map(str, inputs), "-o", str(args.results.parent)])


if __name__ == "__main__":
    sys.exit(main())
