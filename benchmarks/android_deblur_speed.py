"""The Android core's Java data step (android-demo/core DataStep) against the numpy one
(runtime.deconv) on this machine, medians.

For each frame size: an RGB float32 frame and the 31 x 31 kernel of
benchmarks/firmware_deblur_speed.py; timed per call after JIT warm-up:

- ``setup``: ``new DataStep(...)`` / ``DataStep(y, k)`` (extension, taper, OTF, conj(K) F(y));
- ``wiener``: ``DataStep.wiener`` (setup excluded: the pipeline shares it with the HQS rounds) /
  ``wiener_deconvolve(y, k, nsr=...)`` (its own extension and OTF included);
- ``hqs_solve``: one ``solve(z, rho)`` (what each HQS round costs).

Java runs in its own JVM (``DeblurBench``, test sources), numpy in this process, alternating
Java / numpy rounds so load changes hit both. numpy uses ``scipy.fft`` with
``EDGEDEBLUR_FFT_WORKERS`` threads (1 for a single-thread comparison; the Java code is
single-threaded). Also recorded: the load average before and after, the data step's and the
pipeline's memory (the Java formulas) and the heap measured around one Java DataStep.

Run: ``OMP_NUM_THREADS=1 EDGEDEBLUR_FFT_WORKERS=1 .venv/bin/python benchmarks/android_deblur_speed.py``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from edgedeblur.runtime._fft import fft_workers  # noqa: E402
from edgedeblur.runtime.deconv import DataStep, wiener_deconvolve  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "android-demo" / "core"
RESULTS = Path(__file__).resolve().parent / "results" / "android_deblur_speed.json"


def _kernel(size: int) -> np.ndarray:
    k = np.zeros((size, size), np.float32)
    for i in range(size):
        k[size // 2 + int(round(4 * np.sin(i / 5))), i] = 1.0
    return k / k.sum()


def _ms(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1e3


def numpy_round(h: int, w: int, runs: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(0)
    y = np.clip(rng.random((h, w, 3), dtype=np.float32) * 0.2 + np.linspace(0.2, 0.7, w, dtype=np.float32)[None, :, None],
                0, 1).astype(np.float32)
    z = np.clip(y + 0.01, 0, 1).astype(np.float32)
    k = _kernel(31)
    step = DataStep(y, k)
    step.solve(z, 0.01), wiener_deconvolve(y, k, nsr=1e-3)  # warm up
    out: dict[str, list[float]] = {"setup": [], "wiener": [], "hqs_solve": []}
    for _ in range(runs):
        out["setup"].append(_ms(lambda: DataStep(y, k)))
        out["wiener"].append(_ms(lambda: wiener_deconvolve(y, k, nsr=1e-3)))
        out["hqs_solve"].append(_ms(lambda: step.solve(z, 0.01)))
    return out


def compile_core(out: Path) -> None:
    jars = "/usr/share/java/junit4.jar:/usr/share/java/hamcrest-core.jar"
    sources = [str(p) for p in CORE.rglob("*.java")]
    subprocess.run(["javac", "--release", "17", "-d", str(out), "-cp", jars, *sources], check=True)


def java_round(classes: Path, h: int, w: int, runs: int) -> dict:
    proc = subprocess.run(["java", "-Xmx2g", "-cp", str(classes), "org.edgedeblur.core.DeblurBench", str(h), str(w), str(runs)],
                          capture_output=True, text=True, check=True, timeout=900)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7, help="timed calls per round")
    ap.add_argument("--rounds", type=int, default=2, help="alternating Java / numpy rounds")
    ap.add_argument("--sizes", default="512x512,1280x720")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    if shutil.which("javac") is None:
        sys.exit("javac not found: apt-get install -y default-jdk-headless")
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        classes = Path(tmp)
        compile_core(classes)
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            java: dict[str, list[float]] = {"setup": [], "wiener": [], "hqs_solve": []}
            npy: dict[str, list[float]] = {"setup": [], "wiener": [], "hqs_solve": []}
            info: dict = {}
            for _ in range(args.rounds):
                info = java_round(classes, h, w, args.runs)
                for name in java:
                    java[name].append(info[f"{name}_ms"])  # each already a median of --runs calls
                for name, values in numpy_round(h, w, args.runs).items():
                    npy[name].append(statistics.median(values))
            times = {name: {"java_ms": round(statistics.median(java[name]), 2),
                            "numpy_ms": round(statistics.median(npy[name]), 2)} for name in java}
            for t in times.values():
                t["java_over_numpy"] = round(t["java_ms"] / t["numpy_ms"], 2)
            row = {"frame": info["frame"], "kernel": "31x31", "padded": info["padded"], "times": times,
                   "java_data_step_bytes": info["data_step_bytes"], "java_data_step_heap_bytes": info["data_step_heap_bytes"],
                   "java_pipeline_bytes": info["pipeline_bytes"]}
            rows.append(row)
            print(json.dumps(row))
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "java": info.get("java"), "numpy": np.__version__, "scipy_fft_workers": fft_workers(),
                    "omp_threads": os.environ.get("OMP_NUM_THREADS"),
                    "load_before": [round(v, 2) for v in load_before],
                    "load_after": [round(v, 2) for v in os.getloadavg()]},
        "runs": args.runs, "rounds": args.rounds, "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
