"""Regenerate docs/export.md's tables: every export target per model, and the INT8 study.

Why: the export doc quotes sizes, INT8 drops, float ops left and latency; every one of them
comes from this script, measured through the same code a user runs (``export_model`` ->
``edgedeblur.runtime.load``), on the machine it runs on.

    nice -n 10 .venv/bin/python benchmarks/export_table.py                 # table, all targets
    nice -n 10 .venv/bin/python benchmarks/export_table.py --study         # + INT8 variants
    ... --write-docs    # replace the generated sections of docs/export.md

Models: trained zoo weights when ``edgedeblur/models/weights/<name>.safetensors`` exists,
otherwise random-init (labelled in the table). Parity: ``--heldout`` held-out patches of
``--tile`` px from ../shared/data/train (disjoint from the calibration images), degraded with the
model's training recipe. Latency: ``runner.restore`` of one tile-sized RGB float image, 2 threads,
median of ``--runs`` after 2 warm-ups, every target in this one process; the ratio is against
onnx-fp32 measured in the same run.
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
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "export.md"
RESULTS = REPO / "benchmarks" / "results" / "export_table.json"


def _latency_ms(artifact: Path, tile: int, runs: int) -> float:
    from edgedeblur.runtime import load

    runner = load(artifact, threads=2)
    img = np.random.default_rng(0).random((tile, tile, 3), dtype=np.float32)
    for _ in range(2):
        runner.restore(img)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        runner.restore(img)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def _weights(name: str) -> bool:
    from edgedeblur.models import weights_path

    return weights_path(name).is_file()


def _row(r, model: str, weights: str, tile: int, runs: int, extra: str = "") -> dict:  # noqa: ANN001
    from edgedeblur.errors import EdgeDeblurError

    if isinstance(r, EdgeDeblurError):
        return {"model": model, "weights": weights, "target": extra, "error": str(r)[:200]}
    p = r.parity
    return {"model": model, "weights": weights, "target": r.target.name + extra, "bytes": r.bytes,
            "psnr_vs_float_db": p.psnr_vs_float_db, "psnr_vs_gt_db": p.psnr_vs_gt_db,
            "psnr_float_vs_gt_db": p.psnr_float_vs_gt_db, "drop_db": p.drop_db, "passed": p.passed,
            "float_ops": len(r.float_ops), "ops": r.ops_by_precision, "export_s": r.seconds,
            "latency_ms": _latency_ms(r.artifact, tile, runs)}


def run_table(models: list[str], args: argparse.Namespace, out: Path) -> list[dict]:
    from edgedeblur.export import export_model

    rows = []
    for model in models:
        weights = "trained" if _weights(model) else "random-init"
        t0 = time.perf_counter()
        results = export_model(model, "all", out / model, random_init=weights == "random-init", tile=args.tile,
                               calib_images=args.calib_images, heldout=args.heldout, calib_dir=args.calib_dir,
                               max_drop_db=99.0, allow_float_ops=True, force=True)
        total = time.perf_counter() - t0
        for r in results:
            rows.append(_row(r, model, weights, args.tile, args.runs))
            print(json.dumps(rows[-1]), flush=True)
        rows.append({"model": model, "weights": weights, "target": "(all targets)", "export_s": total})
    return rows


STUDY = [  # (target, calib_method, options, label)
    ("onnx-int8", "minmax", {"ort_scheme": "u8s8"}, "u8s8 per-channel (ORT default types)"),
    ("onnx-int8", "minmax", {"ort_scheme": "u8s8-rr"}, "u8s8 reduce_range (default)"),
    ("onnx-int8", "minmax", {"ort_scheme": "u8s8-pt"}, "u8s8 per-tensor weights"),
    ("onnx-int8", "minmax", {"ort_scheme": "s8s8"}, "s8s8 per-channel"),
    ("onnx-int8", "percentile", {"ort_scheme": "u8s8-rr"}, "u8s8 reduce_range, percentile 99.999"),
    ("onnx-int8", "entropy", {"ort_scheme": "u8s8-rr"}, "u8s8 reduce_range, entropy"),
    ("openvino-int8", "minmax", {"nncf_preset": "performance"}, "NNCF PERFORMANCE preset"),
    ("openvino-int8", "minmax", {"nncf_preset": "mixed"}, "NNCF MIXED preset (default)"),
    ("openvino-int8", "minmax", {"nncf_preset": "mixed", "nncf_fast_bias_correction": False},
     "NNCF MIXED, no bias correction"),
    ("openvino-int8", "percentile", {"nncf_preset": "mixed"}, "NNCF MIXED, mean-quantile ranges"),
    ("tflite-int8", "minmax", {}, "ai-edge-quantizer static w8a8, clamp folded (default)"),
]


def run_study(model: str, args: argparse.Namespace, out: Path) -> list[dict]:
    from edgedeblur.calibration import CalibrationSource
    from edgedeblur.export import export_target, get_target, resolve_model

    weights = "trained" if _weights(model) else "random-init"
    resolved = resolve_model(model, random_init=weights == "random-init")
    calib = CalibrationSource(args.calib_dir, images=args.calib_images, heldout=args.heldout, patch=args.tile,
                              task=resolved.task, recipe=resolved.name)
    cache: dict = {}
    rows = []
    for i, (target, method, opts, label) in enumerate(STUDY):
        folder = out / f"study{i}"
        folder.mkdir(parents=True, exist_ok=True)
        r = export_target(get_target(target), resolved, folder, calib, tile=args.tile, calib_method=method,
                          max_drop_db=99.0, allow_float_ops=True, force=True, cache=cache, extra_export={},
                          options=opts)
        row = _row(r, model, weights, args.tile, args.runs, f" / {label}")
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _size(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def markdown(rows: list[dict], study: bool) -> str:
    base = {r["model"]: r["latency_ms"] for r in rows if r.get("target") == "onnx-fp32" and "latency_ms" in r}
    head = ("| model | weights | target | size | vs float (dB) | INT8/fp drop (dB) | float ops left | "
            "latency (ms) | x onnx-fp32 |\n|---|---|---|---|---|---|---|---|---|")
    lines = [head]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['weights']} | {r['target']} | error: {r['error']} | | | | | |")
        elif "latency_ms" not in r:
            lines.append(f"| {r['model']} | {r['weights']} | {r['target']} | export of all targets took "
                         f"{r['export_s']:.0f} s | | | | | |")
        else:
            ratio = f"{base[r['model']] / r['latency_ms']:.2f}x" if r["model"] in base and not study else ""
            lines.append(f"| {r['model']} | {r['weights']} | {r['target']} | {_size(r['bytes'])} | "
                         f"{r['psnr_vs_float_db']:.2f} | {r['drop_db']:+.3f} | {r['float_ops']} | "
                         f"{r['latency_ms']:.1f} | {ratio} |")
    return "\n".join(lines)


def _replace(text: str, key: str, body: str) -> str:
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    if start not in text:
        return text + f"\n{start}\n{body}\n{end}\n"
    a, b = text.index(start) + len(start), text.index(end)
    return text[:a] + "\n" + body + "\n" + text[b:]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["mnv2unet_s_denoise", "mnv2unet_s_deblur"])
    p.add_argument("--tile", type=int, default=256)
    p.add_argument("--calib-images", type=int, default=64)
    p.add_argument("--heldout", type=int, default=8)
    p.add_argument("--calib-dir", default=str(REPO.parent / "shared" / "data" / "train"))
    p.add_argument("--runs", type=int, default=7)
    p.add_argument("--study", action="store_true", help="also run the INT8 variants on the first model")
    p.add_argument("--no-table", action="store_true", help="only the study")
    p.add_argument("--write-docs", action="store_true")
    args = p.parse_args()
    import torch

    torch.set_num_threads(2)
    machine = (f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, load "
               f"{os.getloadavg()[0]:.1f} at start, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory(prefix="export-table-") as tmp:
        if not args.no_table:
            rows = run_table(args.models, args, Path(tmp))
            results["table"] = {"machine": machine, "args": vars(args), "rows": rows}
        if args.study:
            rows = run_study(args.models[0], args, Path(tmp))
            results["study"] = {"machine": machine, "args": vars(args), "rows": rows}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    text = DOC.read_text() if DOC.exists() else "# Export\n"
    for key in ("table", "study"):
        if key in results:
            r = results[key]
            body = (f"Measured {r['machine']}; tile {r['args']['tile']}, {r['args']['calib_images']} calibration "
                    f"patches, {r['args']['heldout']} held-out patches.\n\n" + markdown(r["rows"], key == "study"))
            print(body)
            text = _replace(text, f"export-{key}", body)
    if args.write_docs:
        DOC.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
