"""Seam error of tiled restoration: tiled vs whole-image output of a float, fully-convolutional model.

For each CBSD68 photo (full 481x321, noise sigma 25 added with a fixed seed) the artifact restores
the whole image in one call and again in tiles with the raised-cosine blend; reported: PSNR of
each vs the clean photo, their difference (goal: under 0.05 dB), PSNR of tiled vs whole, and the
mean |tiled - whole| on tile-border pixels vs elsewhere (a visible seam shows up as a ratio well
above 1). ``overlap 0`` (hard cuts) is included to show what the blend buys.

Run: ``nice .venv/bin/python benchmarks/runtime_seam.py [ARTIFACT] [--images 12]``; the default
artifact is the onnx-fp32 export made by benchmarks/runtime_bench_report.py.
"""

from __future__ import annotations

import argparse
import json
import platform
from pathlib import Path

import numpy as np

from edgedeblur.degrade import degrade, paper_awgn
from edgedeblur.io import read_image, to_float
from edgedeblur.metrics import psnr
from edgedeblur.runtime import load
from edgedeblur.runtime.tiling import axis_starts

REPO = Path(__file__).resolve().parents[1]
DEFAULT = REPO / "build" / "bench-artifacts" / "mnv2unet_s_denoise.onnx-fp32.manifest.json"
CONFIGS = [(64, 8), (128, 16), (256, 32), (128, 0)]


def _border_mask(h: int, w: int, tile: int, overlap: int) -> np.ndarray:
    """Pixels within 2 px of any tile edge (inside the image)."""
    mask = np.zeros((h, w), bool)
    for s in axis_starts(h, tile, overlap):
        for e in (s, s + tile):
            if 0 < e < h:
                mask[max(e - 2, 0):e + 2] = True
    for s in axis_starts(w, tile, overlap):
        for e in (s, s + tile):
            if 0 < e < w:
                mask[:, max(e - 2, 0):e + 2] = True
    return mask


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("artifact", nargs="?", type=Path, default=DEFAULT)
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    p.add_argument("--images", type=int, default=12)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = p.parse_args()
    runner = load(args.artifact, threads=args.threads, max_pixels=10**9)
    files = sorted((args.data / "eval" / "cbsd68").glob("*.png"))[: args.images]
    stats: dict[str, list] = {f"{t}/{o}": [] for t, o in CONFIGS}
    for i, f in enumerate(files):
        clean = read_image(f)
        noisy = degrade(to_float(clean), paper_awgn(25), np.random.RandomState(i)).degraded.astype(np.float32)
        runner.max_pixels = 10**9
        whole = runner.restore(noisy)
        p_whole = psnr(clean, whole)
        for tile, overlap in CONFIGS:
            runner.tile, runner.overlap, runner.max_pixels = tile, overlap, 1
            tiled = runner.restore(noisy)
            diff = np.abs(tiled - whole).mean(axis=2)
            mask = _border_mask(*diff.shape, tile, overlap)
            stats[f"{tile}/{overlap}"].append({
                "image": f.name, "psnr_whole": p_whole, "psnr_tiled": psnr(clean, tiled),
                "psnr_tiled_vs_whole": psnr(whole, tiled, quantize=False),
                "border_mad": float(diff[mask].mean()) * 255, "inner_mad": float(diff[~mask].mean()) * 255,
            })
    print(f"artifact {args.artifact.name}, {len(files)} CBSD68 images 481x321, sigma 25, "
          f"{platform.processor() or platform.machine()}, {args.threads} threads")
    print(f"{'tile/overlap':>12} {'PSNR whole':>10} {'PSNR tiled':>10} {'|delta| dB max':>14} "
          f"{'tiled vs whole dB':>17} {'border MAD':>10} {'inner MAD':>9}  (MAD in 0-255 levels)")
    summary = {}
    for key, rows in stats.items():
        pw = np.mean([r["psnr_whole"] for r in rows])
        pt = np.mean([r["psnr_tiled"] for r in rows])
        dmax = max(abs(r["psnr_tiled"] - r["psnr_whole"]) for r in rows)
        tvw = np.mean([min(r["psnr_tiled_vs_whole"], 99.0) for r in rows])
        bm = np.mean([r["border_mad"] for r in rows])
        im = np.mean([r["inner_mad"] for r in rows])
        summary[key] = {"psnr_whole": pw, "psnr_tiled": pt, "max_abs_delta_db": dmax,
                        "tiled_vs_whole_db": tvw, "border_mad": bm, "inner_mad": im}
        print(f"{key:>12} {pw:10.3f} {pt:10.3f} {dmax:14.4f} {tvw:17.2f} {bm:10.4f} {im:9.4f}")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
