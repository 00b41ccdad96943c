"""Regenerate docs/bench/: export the default model to every target, edge-bench it, edge-report.

Steps (each one a real command a user runs):
1. ``edge-export MODEL -t all -o build/bench-artifacts`` (skipped with --reuse when present);
2. ``edge-bench build/bench-artifacts --threads 1 --threads 2 --float-ref <onnx-fp32>`` appending
   rows to ``docs/bench/<device>.jsonl`` (a fresh file unless --append);
3. ``edge-report docs/bench/*.jsonl -o docs/bench``;
4. ``benchmarks/runtime_plan_bench.py`` on the same artifacts: runner 720p vs the bare backend,
   interleaved in one process (``docs/bench/runner_vs_bare.md``), then
   ``benchmarks/runtime_mac_rate.py`` (dense-convolution MAC rate per backend and each
   artifact's fraction of it, ``docs/bench/mac_rate.md``); ``--plan-only`` runs this step
   alone (``--cli-memory`` also runs ``benchmarks/runtime_cli_memory.py``: peak RSS of
   ``edge-deblur`` on a 50 MP photo, ``docs/bench/cli_memory.md``; it takes minutes per artifact).

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
    p.add_argument("--plan-only", action="store_true", help="only step 4 (runner vs bare backend)")
    p.add_argument("--cli-memory", action="store_true", help="also the 50 MP edge-deblur RSS benchmark")
    args = p.parse_args()
    if args.plan_only:
        return _plan(args)
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
    code = _run([str(BIN / "edge-report"), *map(str, inputs), "-o", str(args.results.parent)])
    return code or _plan(args)


def _plan(args: argparse.Namespace) -> int:
    """Step 4 (and the CLI memory benchmark with --cli-memory) on the artifacts' manifests,
    skipping ``.failed`` exports."""
    manifests = [str(m) for m in sorted(args.artifacts.glob(f"{args.model}*.manifest.json"))
                 if ".failed." not in m.name]
    here = Path(__file__).parent
    code = _run([sys.executable, str(here / "runtime_plan_bench.py"), *manifests])
    code = code or _run([sys.executable, str(here / "runtime_mac_rate.py")])  # reads its rows
    if args.cli_memory:
        code = code or _run([sys.executable, str(here / "runtime_cli_memory.py"), *manifests])
    return code


if __name__ == "__main__":
    sys.exit(main())
