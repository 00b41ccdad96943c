"""The MNN and ncnn rows beside every other target: export, benchmark in one run, tabulate.

Steps (each a command a user runs):
1. ``edge-export denoise -t all`` and ``edge-export deblur -t all`` into ``--artifacts``
   (skipped with ``--reuse``); a target that fails parity is kept as ``.failed.`` and measured too;
2. ``edge-bench`` on every artifact of both models in one run (each row in its own process,
   ``--threads``), rows into ``docs/bench/engines/<device>.jsonl`` (a fresh file);
3. ``edge-report`` of that file into ``docs/bench/engines/``;
4. the table (size, parity drop vs the PyTorch float model on held-out patches, pass/fail,
   float compute ops left, latency per 256 px tile and per 720p frame) into
   ``docs/bench/engines/rows.md`` and between the ``engine-rows`` markers of docs/export.md.

    nice .venv/bin/python benchmarks/engine_rows.py            # everything (about 40 min here)
    nice .venv/bin/python benchmarks/engine_rows.py --reuse    # re-measure existing artifacts
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
OUT = REPO / "docs" / "bench" / "engines"
DOC = REPO / "docs" / "export.md"
MODELS = ("denoise", "deblur")
START, END = "<!-- engine-rows:start -->", "<!-- engine-rows:end -->"


def _run(cmd: list[str]) -> int:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO, env={**os.environ, "OMP_NUM_THREADS": "1"}).returncode


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def _ms(row: dict | None, key: str) -> str:
    v = ((row or {}).get(key) or {}).get("median")
    return "-" if v is None else f"{v:.1f}"


def table(artifacts: Path, rows_file: Path) -> str:
    """Markdown: one line per manifest, latency from the bench rows of the same file."""
    from edgedeblur.export import TARGETS

    bench = [json.loads(ln) for ln in rows_file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    by_file = {r["artifact"]: r for r in bench}
    ok = [r for r in bench if r.get("status") == "ok"]
    dev = ok[0]["device"] if ok else {}
    load = sorted({r["device"].get("load_avg_1m") for r in ok if r.get("device")})
    head = (f"Measured {datetime.now(timezone.utc):%Y-%m-%d} on {dev.get('device_id', '?')} "
            f"(SIMD: {', '.join(dev.get('cpu_simd') or []) or '?'}), 1-min load {load[0] if load else '?'}-"
            f"{load[-1] if load else '?'} during the bench (a shared machine: compare rows of one run, not runs), "
            f"{ok[0]['threads'] if ok else '?'} threads, by `benchmarks/engine_rows.py`. Drop: PSNR vs the clean "
            "patches, PyTorch float minus artifact, 8 held-out 256 px patches through the runtime runner "
            "(the export's parity check); tile and 720p: edge-bench medians.\n\n")
    lines = ["| model | target | size | drop (dB) | parity | float ops | tile ms | 720p ms | x onnx-fp32 (720p) |",
             "|---|---|---|---|---|---|---|---|---|"]
    order = list(TARGETS)
    manifests = sorted(artifacts.glob("*.manifest.json"))
    loaded = [(m.name, json.loads(m.read_text(encoding="utf-8"))) for m in manifests]
    for model in sorted({d["model"]["name"] for _, d in loaded}):
        mine = sorted(((n, d) for n, d in loaded if d["model"]["name"] == model),
                      key=lambda nd: (order.index(nd[1]["artifact"]["target"]), nd[0]))
        base = next((by_file.get(n) for n, d in mine if d["artifact"]["target"] == "onnx-fp32"), None)
        base_ms = ((base or {}).get("latency_720p") or {}).get("median")
        for name, d in mine:
            a, p = d["artifact"], d["parity"] or {}
            row = by_file.get(name)  # edge-bench names a row by the manifest it was given
            size = a["bytes"] + (sum(f.stat().st_size for f in [artifacts / a["weights_file"]] if f.exists())
                                 if a.get("weights_file") else 0)
            t = ((row or {}).get("latency_720p") or {}).get("median")
            ratio = f"{base_ms / t:.2f}x" if base_ms and t else "-"
            status = "pass" if p.get("passed") else f"**FAIL** (> {p.get('max_drop_db')})"
            lines.append(f"| {model} | {a['target']} | {_size(size)} | {p.get('drop_db', float('nan')):+.3f} | {status} "
                         f"| {len(p.get('float_ops', []))} | {_ms(row, 'latency_tile')} | {_ms(row, 'latency_720p')} "
                         f"| {ratio} |")
    return head + "\n".join(lines) + "\n"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--artifacts", type=Path, default=REPO / "build" / "engine-artifacts")
    p.add_argument("--reuse", action="store_true", help="keep existing artifacts")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--no-bench", action="store_true", help="only re-make the table from existing rows")
    args = p.parse_args()
    if not args.reuse:
        args.artifacts.mkdir(parents=True, exist_ok=True)
        for model in MODELS:
            _run([str(BIN / "edge-export"), model, "-t", "all", "-o", str(args.artifacts), "--force",
                  "--threads", "1"])
    OUT.mkdir(parents=True, exist_ok=True)
    results = OUT / "engines.jsonl"
    if not args.no_bench:
        results.unlink(missing_ok=True)
        manifests = sorted(args.artifacts.glob("*.manifest.json"))
        _run([str(BIN / "edge-bench"), *map(str, manifests), f"--threads={args.threads}", "--runs", str(args.runs),
              "--frames", "720p", "--frame-runs", "3", "--no-accuracy", "-o", str(results)])
        _run([str(BIN / "edge-report"), str(results), "-o", str(OUT)])
    text = table(args.artifacts, results)
    (OUT / "rows.md").write_text("# MNN and ncnn beside the other targets\n\n" + text, encoding="utf-8")
    doc = DOC.read_text(encoding="utf-8")
    if START in doc:
        doc = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: f"{START}\n{text}{END}", doc, flags=re.S)
        DOC.write_text(doc, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
