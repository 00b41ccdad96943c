"""Runner 720p vs the bare backend's best whole-frame cost, interleaved in one process (goal <= 1.10x).

For each artifact (one backend each), in one process and round by round (so a burst of another
job hits every variant alike):

* ``runner``: ``Runner.restore`` of a 1280 x 720 uint8 RGB frame (the plan it chooses: whole
  frame on a dynamic-shape model within its memory budget, tiles at the manifest's overlap on a
  fixed-shape one);
* ``runner_old``: the same with the previous fixed overlap (tile / 8 for fixed shapes, 32 for
  dynamic ones; only where it differs), to show what the receptive-field overlap changed;
* ``bare``: the backend's ``run`` alone on a prepared tensor: one whole-frame call where the
  shape is dynamic, frame area / tile area x one tile call where it is fixed (the ideal tiling).

Each variant: ``--warmup`` calls, then ``--runs`` rounds; medians in ms, ratio = median runner /
median bare (and the median of the per-round ratios), the 1-minute load average before and
after, and the MAC rate (``model.macs_720p``
of the manifest / runner time). Writes ``docs/bench/runner_vs_bare.json`` and the table
``docs/bench/runner_vs_bare.md`` (generated: do not edit by hand); ``runtime_bench_report.py``
runs it as its last step, so docs/bench is regenerated from one place.

Run: ``nice .venv/bin/python benchmarks/runtime_plan_bench.py build/bench-artifacts/*.manifest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "docs" / "bench" / "runner_vs_bare.json"
H, W = 720, 1280


def _frame(data: Path) -> np.ndarray:
    """A 720p frame made of a noisy CBSD68 photo (sigma 25, seed 0), or noise without the data."""
    from edgedeblur.io import read_image

    photos = sorted((data / "eval" / "cbsd68").glob("*.png"))
    rng = np.random.default_rng(0)
    if not photos:
        return rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    src = read_image(photos[0]).astype(np.float32)
    tile = np.tile(src, (-(-H // src.shape[0]), -(-W // src.shape[1]), 1))[:H, :W]
    return np.clip(tile + rng.normal(0, 25, tile.shape), 0, 255).astype(np.uint8)


def _variants(runner, frame: np.ndarray) -> tuple[dict[str, Callable[[], object]], dict]:  # noqa: ANN001
    """The callables to time and what they stand for."""
    from edgedeblur.io import to_float
    from edgedeblur.runtime.tiling import axis_starts

    m = runner.manifest
    calls: dict[str, Callable[[], object]] = {"runner": lambda: runner.restore(frame)}
    info: dict = {"backend": runner.info.name, "precision": m.precision, "dynamic_hw": m.dynamic_hw,
                  "tile": runner.tile, "overlap": runner.overlap, "max_pixels": runner.max_pixels}
    whole = m.dynamic_hw and H * W <= runner.max_pixels
    info["plan"] = "whole" if whole else "tiled"
    if whole:
        mult = m.pad_multiple
        ph, pw = -(-H // mult) * mult, -(-W // mult) * mult
        x = runner.to_model(np.pad(to_float(frame), ((0, ph - H), (0, pw - W), (0, 0)), mode="reflect")[None])
        calls["bare"] = lambda: runner.backend.run(x)
        info["bare"] = f"one {pw}x{ph} call"
    else:
        t = runner.tile
        x = runner.to_model(to_float(frame[:t, :t])[None])
        reps = H * W / (t * t)
        calls["bare"] = lambda: runner.backend.run(x)
        info["bare_scale"] = reps
        info["bare"] = f"{reps:.2f} x one {t}x{t} call"
        tiles = len(axis_starts(H, t, runner.overlap)) * len(axis_starts(W, t, runner.overlap))
        info["tiles"] = tiles
    old_overlap = (runner.tile // 8) if not m.dynamic_hw else 32
    if not whole and old_overlap != runner.overlap:
        def old() -> object:
            kept = runner.overlap
            runner.overlap = old_overlap
            try:
                return runner.restore(frame)
            finally:
                runner.overlap = kept
        calls["runner_old"] = old
        info["old_overlap"] = old_overlap
        info["old_tiles"] = len(axis_starts(H, runner.tile, old_overlap)) * len(axis_starts(W, runner.tile, old_overlap))
    return calls, info


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("manifests", nargs="+", type=Path)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("-o", "--output", type=Path, default=RESULTS)
    args = p.parse_args()
    sys.path.insert(0, str(REPO))
    from edgedeblur._machine import machine_summary
    from edgedeblur.io import atomic_write
    from edgedeblur.runtime import load

    frame = _frame(args.data)
    entries = []
    for manifest in args.manifests:
        runner = load(manifest, threads=args.threads)
        calls, info = _variants(runner, frame)
        entries.append({"artifact": manifest.name.removesuffix(".manifest.json"), "runner": runner,
                        "calls": calls, "info": info, "times": {k: [] for k in calls},
                        "macs_720p": runner.manifest.data["model"].get("macs_720p")})
    load_before = os.getloadavg()[0]
    for _ in range(args.warmup):
        for e in entries:
            for fn in e["calls"].values():
                fn()
    for i in range(args.runs):  # round-robin: every variant of every artifact in each round,
        for e in entries:       # in alternating order (what ran just before is the same for all)
            names = list(e["calls"]) if i % 2 == 0 else list(e["calls"])[::-1]
            for name in names:
                t0 = time.perf_counter()
                e["calls"][name]()
                e["times"][name].append((time.perf_counter() - t0) * 1000)
    load_after = os.getloadavg()[0]
    rows = []
    for e in entries:
        med = {k: statistics.median(v) for k, v in e["times"].items()}
        bare = med["bare"] * e["info"].get("bare_scale", 1.0)
        scale = e["info"].get("bare_scale", 1.0)
        per_round = [r / (b * scale) for r, b in zip(e["times"]["runner"], e["times"]["bare"], strict=True)]
        row = {"artifact": e["artifact"], **e["info"], "runner_ms": round(med["runner"], 1),
               "bare_ms": round(bare, 1), "ratio": round(med["runner"] / bare, 3),
               "ratio_per_round_median": round(statistics.median(per_round), 3),
               "runs": args.runs, "threads": args.threads}
        if "runner_old" in med:
            row["runner_old_ms"] = round(med["runner_old"], 1)
            row["ratio_old"] = round(med["runner_old"] / bare, 3)
        if e["macs_720p"]:
            row["gmac_per_s"] = round(e["macs_720p"] / 1e9 / (med["runner"] / 1000), 1)
        rows.append(row)
        e["runner"].close()
    result = {"machine": machine_summary(), "load_1min": [round(load_before, 2), round(load_after, 2)],
              "frame": f"{W}x{H} RGB uint8", "rows": rows}
    atomic_write(args.output, json.dumps(result, indent=1) + "\n")
    atomic_write(args.output.with_suffix(".md"), _table(result))
    for r in rows:
        print(f"{r['artifact']}: runner {r['runner_ms']} ms, bare {r['bare_ms']} ms, {r['ratio']}x"
              + (f" (old overlap: {r['ratio_old']}x)" if "ratio_old" in r else ""))
    return 0


def _table(result: dict) -> str:
    lines = [
        "# Runner vs bare backend at 720p",
        "",
        "Written by `benchmarks/runtime_plan_bench.py` (do not edit by hand). "
        f"Machine: {result['machine']}; 1-minute load average {result['load_1min'][0]:.1f} before, "
        f"{result['load_1min'][1]:.1f} after. Frame: {result['frame']}. All variants interleaved "
        "round by round in one process, in alternating order; medians. `bare` is the backend's `run` alone: one "
        "whole-frame call where the shape is dynamic, frame area / tile area x one tile call where "
        "it is fixed. Goal: ratio <= 1.10. `old`: the same runner with the overlap used before "
        "the receptive field was recorded (tile/8).",
        "",
        "| artifact | backend | prec. | plan | tile / overlap | tiles | bare | bare ms | runner ms | ratio "
        "| ratio, per-round median | old overlap: tiles, ms, ratio | GMAC/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        tile = f"{r['tile']} / {r['overlap']}" if r["plan"] == "tiled" else "-"
        old = f"{r['old_tiles']}, {r['runner_old_ms']:.0f}, {r['ratio_old']:.2f}x" if "ratio_old" in r else "-"
        lines.append(
            f"| {r['artifact']} | {r['backend']} | {r['precision']} | {r['plan']} | {tile} | "
            f"{r.get('tiles', 1)} | {r['bare']} | {r['bare_ms']:.1f} | {r['runner_ms']:.1f} | "
            f"{r['ratio']:.2f}x | {r['ratio_per_round_median']:.2f}x | {old} | {r.get('gmac_per_s', '-')} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
