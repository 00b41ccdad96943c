"""Seconds per 1280x720 colour frame (and per megapixel) of every classical method.

Input: the first photo of ../shared/data/train/bsds500_train, upscaled (bicubic) to cover
1280x720 and centre-cropped. Deconvolvers get it blurred by Levin kernel 4 (27x27, true
convolution) plus noise sigma 2.55 and the true kernel; denoisers get it with noise sigma 25.
Each method runs ``--runs`` times (BM3D ``--runs-bm3d``) after one warm-up call (none for
BM3D); wall and process-CPU medians are reported, with the ratio to Wiener measured in the
same run, and PSNR against the clean frame as a sanity check.

    nice -n 10 .venv/bin/python benchmarks/classical_speed.py            # all, writes docs
    .venv/bin/python benchmarks/classical_speed.py --methods wiener --runs 15 --no-docs

Writes benchmarks/results/classical_speed.json and the table between the markers in
docs/classical.md. The machine is shared: the load average at start and end is recorded; CPU
time (summed over threads) and the best wall time are the steadier numbers when the load is
high. ``--merge`` keeps the other methods' rows from the previous JSON, so a quiet moment can
be used to re-time just the fast methods.
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
from edgedeblur.metrics import psnr

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EDGEDEBLUR_DATA", REPO.parent / "shared" / "data"))
RESULTS = REPO / "benchmarks" / "results" / "classical_speed.json"
DOC = REPO / "docs" / "classical.md"
BEGIN, END = "<!-- classical_speed:begin -->", "<!-- classical_speed:end -->"
WIDTH, HEIGHT = 1280, 720
METHODS = ["wiener", "richardson-lucy", "nlm-opencv", "nlm-skimage", "bm3d"]


def frame() -> tuple[np.ndarray, str]:
    """A real photo resized to cover 1280x720 and centre-cropped, float32 [0, 1]."""
    import cv2

    from edgedeblur.io import read_image, to_float

    path = sorted((DATA / "train" / "bsds500_train").iterdir())[0]
    img = read_image(path)
    scale = max(WIDTH / img.shape[1], HEIGHT / img.shape[0])
    size = (int(np.ceil(img.shape[1] * scale)), int(np.ceil(img.shape[0] * scale)))
    big = cv2.resize(img, size, interpolation=cv2.INTER_CUBIC)
    top, left = (big.shape[0] - HEIGHT) // 2, (big.shape[1] - WIDTH) // 2
    return to_float(big[top : top + HEIGHT, left : left + WIDTH]), path.name


def degraded_inputs(clean: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray | None, float]]:
    """(observed, kernel, sigma) for deconvolvers and for denoisers, fixed seeds."""
    from scipy.signal import fftconvolve

    kernel = np.load(DATA / "kernels" / "levin09" / "levin09_k4.npy")
    p = max(kernel.shape)
    padded = np.pad(clean, [(p, p), (p, p), (0, 0)], mode="reflect")
    blurred = fftconvolve(padded, kernel[..., None], mode="same", axes=(0, 1))[p:-p, p:-p]
    rng = np.random.default_rng(0)
    deblur = (blurred + rng.normal(0, 2.55 / 255, clean.shape)).astype(np.float32)
    denoise = (clean + rng.normal(0, 25 / 255, clean.shape)).astype(np.float32)
    return {"deblur": (deblur, kernel, 2.55), "denoise": (denoise, None, 25.0)}


def time_method(name: str, observed: np.ndarray, kernel, sigma: float, runs: int, warmup: bool) -> dict:  # noqa: ANN001
    from edgedeblur.methods import get_method

    method = get_method(name)
    if warmup:
        method.restore(observed, kernel=kernel, sigma=sigma)
    walls, cpus, out = [], [], None
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        out = method.restore(observed, kernel=kernel, sigma=sigma)
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return {"runs": runs, "wall_s": walls, "cpu_s": cpus,
            "median_wall_s": statistics.median(walls), "median_cpu_s": statistics.median(cpus),
            "min_wall_s": min(walls),
            "output": out}


def render_table(result: dict) -> str:
    mp = WIDTH * HEIGHT / 1e6
    lines = [
        f"Measured {result['date']} on {result['machine']} ({result['cores']} cores, shared; "
        f"load average {result['load_start']:.1f} at start, {result['load_end']:.1f} at end), "
        f"input: `{result['input']}` upscaled/cropped to {WIDTH}x{HEIGHT} colour. "
        "Reproduce: `nice -n 10 .venv/bin/python benchmarks/classical_speed.py`.",
        "",
        "| method | input | runs | s / frame (median wall) | s / MP | best wall s | CPU s / frame | x Wiener (wall) | PSNR in -> out (dB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["methods"].items():
        ratio = f"{r['x_wiener']:.1f}" if r.get("x_wiener") else "-"
        lines.append(
            f"| {name}{' (timed ' + r['measured'] + ')' if 'measured' in r else ''} | {r['task']} | {r['runs']} | {r['median_wall_s']:.3f} | "
            f"{r['median_wall_s'] / mp:.3f} | {r['min_wall_s']:.3f} | {r['median_cpu_s']:.3f} | {ratio} | "
            f"{r['psnr_in']:.2f} -> {r['psnr_out']:.2f} |"
        )
    return "\n".join(lines)


def update_doc(table: str) -> None:
    text = DOC.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN} ... {END}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{BEGIN}\n{table}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--methods", nargs="+", default=METHODS, choices=METHODS)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per method (default 7)")
    parser.add_argument("--runs-rl", type=int, default=3, help="timed Richardson-Lucy runs (3)")
    parser.add_argument("--runs-bm3d", type=int, default=1, help="timed BM3D runs (1)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/classical.md")
    parser.add_argument("--merge", action="store_true",
                        help="keep rows of methods not re-timed from the previous JSON")
    args = parser.parse_args(argv)

    clean, name = frame()
    inputs = degraded_inputs(clean)
    result = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": cpu_model(), "cores": os.cpu_count(), "python": platform.python_version(),
        "input": f"train/bsds500_train/{name}", "size": [HEIGHT, WIDTH, 3],
        "load_start": os.getloadavg()[0], "methods": {},
    }
    for method in args.methods:
        task = "deblur" if method in ("wiener", "richardson-lucy") else "denoise"
        observed, kernel, sigma = inputs[task]
        runs = {"bm3d": args.runs_bm3d, "richardson-lucy": args.runs_rl}.get(method, args.runs)
        r = time_method(method, observed, kernel, sigma, runs, warmup=method != "bm3d")
        out = r.pop("output")
        r.update(task=f"{task} (sigma {sigma:g}{', Levin k4' if kernel is not None else ''})",
                 psnr_in=psnr(clean, observed, quantize=False), psnr_out=psnr(clean, out, quantize=False))
        result["methods"][method] = r
        print(f"{method:16s} {r['median_wall_s']:.3f} s/frame wall, {r['median_cpu_s']:.3f} s CPU, "
              f"PSNR {r['psnr_in']:.2f} -> {r['psnr_out']:.2f}", file=sys.stderr)
    result["load_end"] = os.getloadavg()[0]
    base = result["methods"].get("wiener", {}).get("median_wall_s")
    for r in result["methods"].values():  # ratios only against Wiener timed in the same run
        r["x_wiener"] = r["median_wall_s"] / base if base else None
    if args.merge and RESULTS.exists():
        previous = json.loads(RESULTS.read_text())
        for method, row in previous.get("methods", {}).items():
            if method not in result["methods"]:
                row.setdefault("min_wall_s", min(row["wall_s"]))
                old_base = previous["methods"].get("wiener", {}).get("median_wall_s")
                row.setdefault("x_wiener", row["median_wall_s"] / old_base if old_base else None)
                row["measured"] = previous["date"] + f" (load {previous['load_start']:.1f})"
                result["methods"][method] = row
        result["methods"] = {m: result["methods"][m] for m in METHODS if m in result["methods"]}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    table = render_table(result)
    print(table)
    if not args.no_docs:
        update_doc(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
