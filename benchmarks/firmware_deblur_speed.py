"""The C data step (firmware/src/edb_deconv.c) against the numpy one (runtime.deconv), same input,
same run, medians.

For each frame size: an RGB float32 frame and a 31 x 31 motion kernel; timed per call, runs
interleaved (C, numpy, C, numpy, ...) so load changes hit both alike:

- ``setup``: ``DataStep(y, k)`` (extension, taper, OTF, conj(K) F(y)) vs ``edb_deconv_init``;
- ``wiener``: ``wiener_deconvolve(y, k, nsr=...)`` vs ``edb_deconv_wiener`` (the C number
  excludes the setup, which the pipeline shares with the HQS steps; ``wiener_total`` adds it);
- ``hqs_solve``: one ``DataStep.solve(z, rho)`` vs ``edb_deconv_solve`` (what each HQS round costs).

numpy uses ``scipy.fft`` with ``EDGEDEBLUR_FFT_WORKERS`` threads (set it to 1 for a
single-thread comparison; the C library is single-threaded). The C library is built with CMake
Release (gcc -O3). Also recorded: the machine, the load average before and after, and the C
working memory per frame (``edb_deconv_bytes``) next to the numpy arrays' sizes.

Run: ``OMP_NUM_THREADS=1 EDGEDEBLUR_FFT_WORKERS=1 .venv/bin/python benchmarks/firmware_deblur_speed.py``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fw_deblur import build  # noqa: E402

from edgedeblur.runtime._fft import fft_workers  # noqa: E402
from edgedeblur.runtime.deconv import DataStep, wiener_deconvolve  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "firmware_deblur_speed.json"


def _kernel(size: int) -> np.ndarray:
    k = np.zeros((size, size), np.float32)
    for i in range(size):
        k[size // 2 + int(round(4 * np.sin(i / 5))), i] = 1.0
    return k / k.sum()


def _median_ms(fn, runs: int) -> float:  # noqa: ANN001
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def bench(fw, h: int, w: int, runs: int) -> dict:  # noqa: ANN001
    rng = np.random.default_rng(0)
    y = np.clip(rng.random((h, w, 3), dtype=np.float32) * 0.2 + np.linspace(0.2, 0.7, w, dtype=np.float32)[None, :, None],
                0, 1).astype(np.float32)
    k = _kernel(31)
    z = np.clip(y + 0.01, 0, 1).astype(np.float32)
    nsr, rho = 1e-3, 0.01
    step = DataStep(y, k)
    c = fw.deconv(y, k)
    out: dict[str, dict[str, float]] = {}
    pairs = {
        "setup": (lambda: fw.deconv(y, k), lambda: DataStep(y, k)),
        "wiener": (lambda: c.wiener(nsr), lambda: wiener_deconvolve(y, k, nsr=nsr)),
        "hqs_solve": (lambda: c.solve(z, rho), lambda: step.solve(z, rho)),
    }
    for name, (fc, fn) in pairs.items():
        fc(), fn()  # warm up
        cs, ns = [], []
        for _ in range(runs):  # interleaved
            cs.append(_median_ms(fc, 1))
            ns.append(_median_ms(fn, 1))
        out[name] = {"c_ms": round(statistics.median(cs), 2), "numpy_ms": round(statistics.median(ns), 2)}
        out[name]["c_over_numpy"] = round(out[name]["c_ms"] / out[name]["numpy_ms"], 3)
    out["wiener_total"] = {"c_ms": round(out["setup"]["c_ms"] + out["wiener"]["c_ms"], 2),
                           "numpy_ms": out["wiener"]["numpy_ms"]}
    agree = {"wiener_max_abs": float(np.abs(c.wiener(nsr) - wiener_deconvolve(y, k, nsr=nsr)).max()),
             "solve_max_abs": float(np.abs(c.solve(z, rho) - step.solve(z, rho)).max())}
    hp, wp = step._padded.data.shape[:2]
    numpy_bytes = step._kty.nbytes + step._otf_power.nbytes + step._padded.data.nbytes + step._padded.otf.nbytes
    return {"frame": f"{w}x{h} RGB", "kernel": "31x31", "padded": f"{wp}x{hp}", "times": out, "agreement": agree,
            "c_work_bytes": c.bytes, "numpy_state_bytes": int(numpy_bytes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--sizes", default="512x512,1280x720")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        fw = build(Path(tmp) / "fw")
        rows = []
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            rows.append(bench(fw, h, w, args.runs))
            print(json.dumps(rows[-1]))
    result = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "python": platform.python_version(), "numpy": np.__version__,
                    "scipy_fft_workers": fft_workers(), "omp_threads": os.environ.get("OMP_NUM_THREADS"),
                    "load_before": [round(v, 2) for v in load_before],
                    "load_after": [round(v, 2) for v in os.getloadavg()]},
        "runs": args.runs, "rows": rows,
    }
    try:
        import scipy

        result["machine"]["scipy"] = scipy.__version__
    except ImportError:
        result["machine"]["scipy"] = None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
