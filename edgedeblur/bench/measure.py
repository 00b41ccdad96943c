"""One benchmark row: an artifact on a backend with N threads, measured with the runtime alone.

Latency (warm-up, then median/p90/mean/std) at the model's tile size and for whole 720p/1080p
frames through the runner (tiled when the model needs it), load time, peak RSS, accuracy on the
shipped evaluation set, and the runner's overhead over a bare backend call. Each row runs in
its own subprocess (``python -m edgedeblur.bench.measure``) so peak RSS is per row and a crash
in a delegate becomes a failed row instead of losing the other rows.
"""

from __future__ import annotations

import json
import math
import resource
import subprocess
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import EdgeDeblurError
from .evalset import load_evalset

__all__ = ["BenchConfig", "FRAME_SIZES", "bench_one", "bench_isolated", "latency_stats", "ROW_SCHEMA"]

ROW_SCHEMA = "edgedeblur-bench/1"
FRAME_SIZES = {"720p": (720, 1280), "1080p": (1080, 1920), "4k": (2160, 3840)}


@dataclass
class BenchConfig:
    """What to measure for one row (all JSON-able, so it crosses the subprocess boundary)."""

    artifact: str
    backend: str | None = None
    threads: int | None = None
    device: str | None = None
    delegate: str | None = None
    strict: bool = False
    runs: int = 20
    warmup: int = 3
    frames: list[str] = field(default_factory=lambda: ["720p", "1080p"])
    frame_runs: int = 3
    accuracy: bool = True
    float_ref: str | None = None


def latency_stats(seconds: list[float]) -> dict:
    """Milliseconds: median, p90, mean, std, min over the timed runs."""
    ms = np.asarray(seconds, dtype=np.float64) * 1000.0
    return {"median": round(float(np.median(ms)), 3), "p90": round(float(np.percentile(ms, 90)), 3),
            "mean": round(float(ms.mean()), 3), "std": round(float(ms.std()), 3),
            "min": round(float(ms.min()), 3), "runs": len(ms)}


def _time(fn, runs: int, warmup: int) -> list[float]:  # noqa: ANN001
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def _overhead(runner, runs: int, warmup: int) -> dict:  # noqa: ANN001
    """Runner.restore of one tile-sized uint8 image vs the backend call inside it.

    The backend's ``run`` is timed within each restore call, so the overhead (normalise,
    quantize, layout, pad/crop, convert back) is measured call by call and machine load that
    varies between calls does not leak into it. A bare backend call on a prepared tensor is
    also timed, interleaved, for reference.
    """
    tile = runner.tile
    img = (np.random.default_rng(0).random((tile, tile, 3)) * 255).astype(np.uint8)
    rgb = img.astype(np.float32) / 255.0
    if getattr(runner, "conditioned", False):  # a deblur prior takes RGB + a noise map (what restore adds)
        from ..runtime.pipeline import noise_map_input

        rgb = noise_map_input(rgb, 10.0)
    x = runner.to_model(rgb[None])
    backend_run = runner.backend.run
    inside: list[float] = []

    def timed_run(t: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        y = backend_run(t)
        inside.append(time.perf_counter() - t0)
        return y

    for _ in range(warmup):
        backend_run(x)
        runner.restore(img)
    bare, full, ratio = [], [], []
    runner.backend.run = timed_run
    try:
        for _ in range(runs):
            t0 = time.perf_counter()
            backend_run(x)
            t1 = time.perf_counter()
            inside.clear()
            runner.restore(img)
            t2 = time.perf_counter()
            bare.append(t1 - t0)
            full.append(t2 - t1)
            ratio.append((t2 - t1 - sum(inside)) / sum(inside))
    finally:
        del runner.backend.run  # back to the class method
    return {"latency_tile": latency_stats(full), "latency_bare_tile": latency_stats(bare),
            "overhead_pct": round(100.0 * float(np.median(ratio)), 2),
            "overhead_ms": round(1000.0 * float(np.median(np.asarray(full) - np.asarray(full) / (1 + np.asarray(ratio)))), 3)}


def _accuracy(runner, task: str) -> dict:  # noqa: ANN001
    from ..metrics import psnr

    try:
        import scipy  # noqa: F401  (ssim needs it; devices may not have it)

        from ..metrics import ssim
    except ImportError:
        ssim = None
    pairs = load_evalset(task)
    p_out, p_in, s_out = [], [], []
    for _, degraded, clean in pairs:
        out = runner.restore(degraded)
        p_out.append(psnr(clean, out))
        p_in.append(psnr(clean, degraded))
        if ssim is not None:
            s_out.append(ssim(clean, out))
    return {"evalset_task": task, "evalset_images": len(pairs),
            "psnr_db": round(float(np.mean(p_out)), 3), "psnr_input_db": round(float(np.mean(p_in)), 3),
            "ssim": round(float(np.mean(s_out)), 4) if s_out else None}


def _evalset_task(task: str) -> str:
    return "denoise" if task == "denoise" else "deblur"


def bench_one(cfg: BenchConfig) -> dict:
    """Measure one row in this process (peak RSS is this process's peak)."""
    from ..runtime import Manifest, load

    row: dict = {"artifact": Path(cfg.artifact).name, "backend": cfg.backend, "threads": cfg.threads,
                 "delegate": cfg.delegate, "requested_device": cfg.device}
    manifest = Manifest.read(cfg.artifact)
    row.update(model=manifest.name, task=manifest.data["model"]["task"], format=manifest.format,
               precision=manifest.precision, artifact_sha256=manifest.data["artifact"]["sha256"],
               target=manifest.data["artifact"].get("target"))
    runner = load(cfg.artifact, backend=cfg.backend, device=cfg.device, threads=cfg.threads,
                  delegate=cfg.delegate, strict=cfg.strict)
    info = runner.info
    row.update(backend=info.name, backend_version=info.version, device_used=info.device,
               delegate=info.delegate, fallback=info.fallback, load_s=round(runner.load_seconds, 4),
               tile={"size": runner.tile, "overlap": runner.overlap}, dynamic_hw=manifest.dynamic_hw)
    row.update(_overhead(runner, cfg.runs, cfg.warmup))
    for name in cfg.frames:
        h, w = FRAME_SIZES[name]
        frame = (np.random.default_rng(1).random((h, w, 3)) * 255).astype(np.uint8)
        times = _time(lambda f=frame: runner.restore(f), cfg.frame_runs, 1)
        row[f"latency_{name}"] = latency_stats(times)
        row[f"mode_{name}"] = "tiled" if (not manifest.dynamic_hw or h * w > runner.max_pixels) else "whole"
    if cfg.accuracy:
        row.update(_accuracy(runner, _evalset_task(row["task"])))
        if cfg.float_ref:
            ref = load(cfg.float_ref, threads=cfg.threads)
            ref_acc = _accuracy(ref, _evalset_task(row["task"]))
            row["float_ref"] = Path(cfg.float_ref).name
            row["psnr_float_db"] = ref_acc["psnr_db"]
            row["drop_db"] = round(ref_acc["psnr_db"] - row["psnr_db"], 3)
    parity = manifest.data.get("parity") or {}
    if "drop_db" not in row and parity.get("drop_db") is not None:
        row["drop_db_manifest"] = parity.get("drop_db")
    row["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)
    row["status"] = "ok"
    row["reason"] = None
    runner.close()
    return row


def failed_row(cfg: BenchConfig, reason: str, status: str = "failed") -> dict:
    """A row that records why a measurement did not happen (never a lost batch)."""
    return {"artifact": Path(cfg.artifact).name, "backend": cfg.backend, "threads": cfg.threads,
            "delegate": cfg.delegate, "requested_device": cfg.device, "status": status,
            "reason": reason}


def bench_isolated(cfg: BenchConfig, timeout: float = 900.0) -> dict:
    """Run :func:`bench_one` in a fresh Python process; a crash or timeout is a failed row."""
    cmd = [sys.executable, "-m", "edgedeblur.bench.measure", json.dumps(asdict(cfg))]
    try:
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return failed_row(cfg, f"timed out after {timeout:.0f} s", "timeout")
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("{")]
    if res.returncode == 0 and lines:
        return json.loads(lines[-1])
    tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
    return failed_row(cfg, f"worker exited {res.returncode}: " + " | ".join(tail))


def _worker(argv: list[str]) -> int:
    import warnings

    cfg = BenchConfig(**json.loads(argv[0]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fallbacks are recorded in the row
        try:
            row = bench_one(cfg)
        except EdgeDeblurError as exc:
            row = failed_row(cfg, str(exc))
        except Exception as exc:  # a backend bug must still give a row
            row = failed_row(cfg, f"{type(exc).__name__}: {exc}")
            traceback.print_exc()
    print(json.dumps(row, default=_json_default))
    return 0


def _json_default(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    sys.exit(_worker(sys.argv[1:]))
