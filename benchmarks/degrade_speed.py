"""How many 128x128 training patches per second ``edgedeblur.degrade`` makes on one core.

Why: the trainer degrades every patch on the fly on a 2-core machine, so the degradation must
not be the bottleneck. This measures ``degrade()`` per spec, the whole ``PatchSampler`` (read
from cache, crop, degrade), and the blur backend against SciPy baselines measured in the same
run (OpenCV ``filter2D`` on the flipped kernel vs ``scipy.signal.fftconvolve`` and
``scipy.ndimage.convolve``). Medians over several repeats, one OpenCV thread.

    nice -n 10 .venv/bin/python benchmarks/degrade_speed.py     # ~1-2 min; writes results/degrade_speed.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from edgedeblur._machine import cpu_model

REPO = Path(__file__).resolve().parents[1]

CASES = {
    "paper AWGN sigma 25 (no gamma/clip/8 bit)": ("paper", None, "gaussian:sigma=25"),
    "camera: noise only, sigma 0-50": ("camera", None, "gaussian:sigma=0-50"),
    "camera: motion 5-25 px + noise": ("camera", "motion:length=5-25,angle=0-180", "gaussian:sigma=0-5"),
    "camera: defocus r 1-4 + noise": ("camera", "defocus:radius=1-4", "gaussian:sigma=0-5"),
    "camera: shake 31 + noise": ("camera", "shake:size=31", "gaussian:sigma=0-5"),
    "camera: levin real kernels + noise": ("camera", "levin", "gaussian:sigma=0-5"),
    "camera: shake|defocus mix + noise (trainer deblur default)": (
        "camera", "shake:size=31|defocus:radius=1-4", "gaussian:sigma=0-5"),
    "camera: shake + poisson-gaussian + JPEG 70-95": (
        "camera", "shake:size=31", "poisson-gaussian:gain=0.002-0.02,read=0.001-0.01"),
}


def _median_rate(fn, n: int, repeats: int) -> tuple[float, list[float], float]:  # noqa: ANN001
    """Median calls/second of wall time, the per-repeat rates, and the median calls per CPU second.

    On a shared machine the wall rate depends on everyone else's load; the CPU-time rate (our
    process's own CPU seconds, single-threaded here) is what one free core would deliver.
    """
    rates, cpu_rates = [], []
    fn(0)  # warm-up (imports, caches)
    for r in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        for i in range(n):
            fn(r * n + i)
        rates.append(n / (time.perf_counter() - start))
        cpu_rates.append(n / max(time.process_time() - cpu, 1e-9))
    return statistics.median(rates), rates, statistics.median(cpu_rates)


def _blur_baselines(repeats: int) -> dict[str, object]:
    import scipy.ndimage
    import scipy.signal

    from edgedeblur.degrade import blur_image, camera_shake_kernel

    rng = np.random.default_rng(0)
    img = rng.uniform(size=(128, 128, 3)).astype(np.float32)
    k = camera_shake_kernel(31, 1)
    r = k.shape[0] // 2

    def ours(_: int) -> None:
        blur_image(img, k)

    def fft(_: int) -> None:
        pad = np.pad(img, ((r, r), (r, r), (0, 0)), mode="reflect")
        np.stack([scipy.signal.fftconvolve(pad[..., c], k, mode="valid") for c in range(3)], axis=2)

    def ndimage(_: int) -> None:
        np.stack([scipy.ndimage.convolve(img[..., c], k, mode="mirror") for c in range(3)], axis=2)

    # all three compute the same thing (checked here, so the comparison is fair)
    pad = np.pad(img, ((r, r), (r, r), (0, 0)), mode="reflect")
    ref = np.stack([scipy.signal.fftconvolve(pad[..., c], k, mode="valid") for c in range(3)], axis=2)
    assert np.allclose(blur_image(img, k), ref, atol=1e-5)
    out = {}
    for name, fn, n in (("opencv filter2D (ours)", ours, 200), ("scipy fftconvolve", fft, 100),
                        ("scipy ndimage.convolve", ndimage, 10)):
        rate, _, cpu_rate = _median_rate(fn, n, repeats)
        out[name] = {"per_second": round(rate, 1), "ms": round(1000 / rate, 3),
                     "per_cpu_second": round(cpu_rate, 1), "cpu_ms": round(1000 / cpu_rate, 3)}
    base, base_cpu = out["scipy fftconvolve"]["per_second"], out["scipy fftconvolve"]["per_cpu_second"]
    for v in out.values():
        v["speedup_vs_fftconvolve"] = round(v["per_second"] / base, 2)
        v["cpu_speedup_vs_fftconvolve"] = round(v["per_cpu_second"] / base_cpu, 2)
    return out


def _entry(rate: float, rates: list[float], cpu_rate: float) -> dict[str, object]:
    return {"patches_per_second": round(rate, 1), "ms_per_patch": round(1000 / rate, 3),
            "repeats": [round(x, 1) for x in rates], "patches_per_cpu_second": round(cpu_rate, 1),
            "cpu_ms_per_patch": round(1000 / cpu_rate, 3)}


def main(argv: list[str] | None = None) -> int:
    import cv2

    from edgedeblur.degrade import PatchSampler, degrade, paper_awgn, parse_degradation

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--n", type=int, default=100, help="patches per repeat")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks" / "results" / "degrade_speed.json")
    args = parser.parse_args(argv)
    os.environ.setdefault("EDGEDEBLUR_DATA", str(args.data))
    cv2.setNumThreads(1)

    load_before = os.getloadavg()
    photos = args.data / "train" / "bsds500_train"
    rng = np.random.default_rng(0)
    patches = []
    from edgedeblur.degrade import FolderSource, random_crop

    src = FolderSource(photos)
    for i in range(32):
        patches.append(random_crop(src.read_raw(i), 128, rng))

    results: dict[str, object] = {}
    for name, (protocol, blur, noise) in CASES.items():
        spec = paper_awgn(25) if protocol == "paper" else parse_degradation(blur, noise, "70-95" if "JPEG" in name else None)
        rate, rates, cpu_rate = _median_rate(lambda i, s=spec: degrade(patches[i % 32], s, i), args.n, args.repeats)
        results[name] = _entry(rate, rates, cpu_rate)
        print(f"{name:62s} {rate:7.1f} patches/s wall, {cpu_rate:7.1f} per CPU-s ({1000 / cpu_rate:.2f} ms)", flush=True)

    spec = parse_degradation("shake:size=31|defocus:radius=1-4", "gaussian:sigma=0-5")
    sampler = PatchSampler(FolderSource(photos, cache=True), spec, 128, seed=0, kernel_size=31)
    for i in range(len(sampler.sources[0])):  # fill the cache first: steady state of training
        sampler.sources[0].read_raw(i)
    rate, rates, cpu_rate = _median_rate(lambda i: sampler[i], args.n, args.repeats)
    results["PatchSampler: cached BSDS crop + shake|defocus mix + noise"] = _entry(rate, rates, cpu_rate)
    print(f"{'PatchSampler (cached photos, crop, mix + noise)':62s} {rate:7.1f} patches/s wall, "
          f"{cpu_rate:7.1f} per CPU-s ({1000 / cpu_rate:.2f} ms)", flush=True)

    base = results["paper AWGN sigma 25 (no gamma/clip/8 bit)"]["cpu_ms_per_patch"]
    for v in results.values():  # a ratio within one run is steadier than absolute times on a shared box
        v["cpu_time_vs_paper_awgn"] = round(v["cpu_ms_per_patch"] / base, 2)
    blur = _blur_baselines(args.repeats)
    for name, v in blur.items():
        print(f"blur 128x128x3 with 31x31 kernel, {name:26s} {v['cpu_ms']:.3f} CPU-ms "
              f"({v['cpu_speedup_vs_fftconvolve']}x fftconvolve; wall {v['speedup_vs_fftconvolve']}x)")

    report = {
        "what": "edgedeblur.degrade throughput on 128x128x3 float32 patches (median of repeats), one OpenCV "
                "thread, one process; wall rates depend on the machine's load, per-CPU-second rates are "
                "what one free core delivers",
        "machine": f"{cpu_model()}, {os.cpu_count()} cores, {platform.platform()}",
        "input": f"32 random 128x128 crops of {photos} (scale 0.5-1)",
        "load_average_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "numpy": np.__version__, "opencv": cv2.__version__,
        "degrade": results, "blur_backend": blur,
        "command": "nice -n 10 .venv/bin/python benchmarks/degrade_speed.py",
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.json} (load average before/after: {report['load_average_before_after']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
