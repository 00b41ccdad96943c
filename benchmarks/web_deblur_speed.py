"""The browser demo's JS data step (web-demo/deblur.js) in headless Chromium, and under Node,
against the numpy one (runtime.deconv), medians.

Same frames, kernel and steps as benchmarks/android_deblur_speed.py (setup, Wiener, one HQS
solve; RGB, 31 x 31 PSF): ``web-demo/tests/deblur.html?bench=...`` times them in the page
(``benchDataStep`` of web-demo/tests/deblur_cases.mjs, one thread, after warm-up calls), Node
runs the same function, numpy runs in this process; rounds alternate browser / Node / numpy.
Records the browser's user agent and the load average before and after.

Run: ``OMP_NUM_THREADS=1 EDGEDEBLUR_FFT_WORKERS=1 .venv/bin/python benchmarks/web_deblur_speed.py``
(needs chromium, node and ``npm ci && npm run vendor`` in web-demo/).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from android_deblur_speed import numpy_round  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web-demo"
RESULTS = Path(__file__).resolve().parent / "results" / "web_deblur_speed.json"
STEPS = ("setup", "wiener", "hqs_solve")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def browser_round(url: str, sizes: str, runs: int, chromium: str) -> tuple[list[dict], str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench.json"
        subprocess.run(["node", str(WEB / "tests" / "run_deblur.mjs"), f"{url}/tests/deblur.html?bench={sizes}&runs={runs}",
                        str(out), chromium], cwd=WEB, check=True, capture_output=True, text=True, timeout=900)
        r = json.loads(out.read_text())
    return r["bench"], r["userAgent"]


def node_round(sizes: str, runs: int) -> list[dict]:
    code = ("import('./tests/deblur_cases.mjs').then((m) => console.log(JSON.stringify("
            f"'{sizes}'.split(',').map((s) => s.split('x').map(Number)).map(([w, h]) => m.benchDataStep(h, w, {runs})))))")
    proc = subprocess.run(["node", "--no-warnings", "-e", code], cwd=WEB, check=True, capture_output=True, text=True,
                          timeout=900)
    return json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed calls per round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sizes", default="512x512,1280x720")
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    load_before = os.getloadavg()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(WEB)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}"
    sizes = args.sizes.split(",")
    samples = {s: {who: {k: [] for k in STEPS} for who in ("chromium", "node", "numpy")} for s in sizes}
    info: dict[str, dict] = {}
    agent = ""
    try:
        for _ in range(args.rounds):
            rows, agent = browser_round(url, args.sizes, args.runs, args.chromium)
            for size, row in zip(sizes, rows, strict=True):
                info[size] = row
                for k in STEPS:
                    samples[size]["chromium"][k].append(row[f"{k}_ms"])
            for size, row in zip(sizes, node_round(args.sizes, args.runs), strict=True):
                for k in STEPS:
                    samples[size]["node"][k].append(row[f"{k}_ms"])
            for size in sizes:
                w, h = (int(v) for v in size.split("x"))
                for k, values in numpy_round(h, w, args.runs).items():
                    samples[size]["numpy"][k].append(statistics.median(values))
    finally:
        httpd.shutdown()
        httpd.server_close()
    out_rows = []
    for size in sizes:
        times = {k: {f"{who}_ms": round(statistics.median(samples[size][who][k]), 2) for who in ("chromium", "node", "numpy")}
                 for k in STEPS}
        for t in times.values():
            t["chromium_over_numpy"] = round(t["chromium_ms"] / t["numpy_ms"], 2)
        row = {"frame": info[size]["frame"], "kernel": "31x31", "padded": info[size]["padded"], "times": times,
               "js_data_step_bytes": info[size]["data_step_bytes"]}
        out_rows.append(row)
        print(json.dumps(row))
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "browser": agent, "node": node_version, "numpy": np.__version__,
                          "omp_threads": os.environ.get("OMP_NUM_THREADS"),
                          "fft_workers": os.environ.get("EDGEDEBLUR_FFT_WORKERS"),
                          "load_before": [round(v, 2) for v in load_before],
                          "load_after": [round(v, 2) for v in os.getloadavg()]},
              "runs": args.runs, "rounds": args.rounds, "rows": out_rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
