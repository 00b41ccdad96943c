"""Run the README's first command on the shipped samples; measure it and draw docs/samples.png.

    .venv/bin/python benchmarks/samples_figure.py

It runs exactly ``edge-deblur samples/*.png -o OUT`` (the default method, no kernel given, so
the blur kernel is estimated from the photo), scores each output against ``samples/clean/``,
writes ``benchmarks/results/samples.json`` and a side-by-side picture (input | restored | clean,
PSNR in each caption) to ``docs/samples.png``, with the estimated kernel inset.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
FIGURE = REPO / "docs" / "samples.png"
RESULTS = REPO / "benchmarks" / "results" / "samples.json"


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    from PIL import Image, ImageDraw

    pad = 22
    canvas = Image.new("RGB", (img.shape[1], img.shape[0] + pad), "white")
    canvas.paste(Image.fromarray(img), (0, pad))
    ImageDraw.Draw(canvas).text((4, 5), text, fill="black")
    return np.asarray(canvas)


def main() -> int:
    from edgedeblur._eval_result import machine_description
    from edgedeblur.degrade import kernel_preview
    from edgedeblur.io import atomic_write, read_image, write_image
    from edgedeblur.metrics import psnr

    inputs = sorted(SAMPLES.glob("*.png"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        cmd = [str(Path(sys.executable).with_name("edge-deblur")), *map(str, inputs), "-o", str(out),
               "--save-kernel", "-q"]
        run = subprocess.run(cmd, capture_output=True, text=True, check=False)
        print(run.stderr.strip())
        if run.returncode:
            return run.returncode
        rows, results = [], {"command": "edge-deblur samples/*.png -o out/", "machine": machine_description(),
                             "samples": {}}
        for src in inputs:
            degraded, clean = read_image(src), read_image(SAMPLES / "clean" / src.name)
            restored = read_image(out / src.name)
            before, after = psnr(clean, degraded), psnr(clean, restored)
            results["samples"][src.name] = {"input_psnr": round(before, 2), "restored_psnr": round(after, 2),
                                            "gain_db": round(after - before, 2)}
            print(f"{src.name}: {before:.2f} -> {after:.2f} dB ({after - before:+.2f})")
            kfile = out / (src.stem + ".kernel.npy")
            shown = restored.copy()
            psf = np.load(kfile) if kfile.is_file() else None
            if psf is not None and psf.size > 1:  # the estimated PSF, inset top-left (none: sharp)
                k = kernel_preview(psf, min_size=48)[:64, :64]
                shown[: k.shape[0], : k.shape[1]] = k[..., None]
            rows.append(np.concatenate([
                _caption(degraded, f"{src.stem}: {before:.2f} dB"),
                _caption(shown, f"edge-deblur: {after:.2f} dB ({after - before:+.2f})"),
                _caption(clean, "clean"),
            ], axis=1))
    width = max(r.shape[1] for r in rows)  # samples differ in size: pad each row with white
    grid = np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
                           for r in rows], axis=0)
    write_image(FIGURE, grid)
    text = json.dumps(results, indent=2) + "\n"
    atomic_write(RESULTS, lambda t: t.write_text(text, encoding="utf-8"))
    print(f"wrote {FIGURE.relative_to(REPO)} and {RESULTS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
