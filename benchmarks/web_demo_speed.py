"""Time the browser demo (web-demo/) in headless Chromium and compare it with the Python runtime.

For each given edge-export ONNX manifest: serve web-demo/ and the manifest's folder on localhost,
restore PHOTO in the page RUNS times (web-demo/tests/run_demo.mjs, Playwright + /usr/bin/chromium,
one wasm thread), and report the median per-tile and per-image latency, the model load time and
the PSNR between the page's output and edgedeblur.runtime (onnxruntime backend) on the same file.
Numbers go to docs/web-demo.md; say the machine and its load when quoting them.

  .venv/bin/python benchmarks/web_demo_speed.py /tmp/export/*.onnx-*.manifest.json \\
      --photo ../shared/data/eval/mcmaster/1.tif --runs 3
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import tempfile
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
from PIL import Image

from edgedeblur.io import read_image
from edgedeblur.metrics import psnr
from edgedeblur.runtime import load

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web-demo"


def serve(model_dir: Path) -> ThreadingHTTPServer:
    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            clean = path.split("?", 1)[0]
            if clean.startswith("/model/"):
                return str(model_dir / Path(clean).name)
            return super().translate_path(path)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(WEB)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def run_once(url: str, photo: Path, out: Path) -> tuple[np.ndarray, dict]:
    subprocess.run(["node", str(WEB / "tests" / "run_demo.mjs"), url, str(photo), str(out)],
                   cwd=WEB, check=True, capture_output=True, text=True, timeout=600)
    info = json.loads((out / "result.json").read_text())
    rgba = np.frombuffer((out / "rgba.bin").read_bytes(), dtype=np.uint8).reshape(info["height"], info["width"], 4)
    return rgba[..., :3], info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifests", nargs="+", type=Path)
    parser.add_argument("--photo", type=Path, default=ROOT / "samples" / "noisy_sigma25.png")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        png = Path(tmp) / "photo.png"
        Image.fromarray(read_image(args.photo)).save(png)
        photo = read_image(png)
        for manifest in args.manifests:
            httpd = serve(manifest.parent)
            url = f"http://127.0.0.1:{httpd.server_address[1]}/index.html?manifest=model/{manifest.name}"
            tiles, images, loads = [], [], []
            for _ in range(args.runs):
                out, info = run_once(url, png, Path(tmp))
                tiles.append(statistics.median(info["tileMs"]))
                images.append(info["totalMs"])
                loads.append(info["loadMs"])
            httpd.shutdown()
            with load(manifest, backend="onnxruntime", threads=1) as runner:
                agree = psnr(out, runner.restore(photo))
            rows.append({"manifest": manifest.name, "photo": f"{args.photo.name} {photo.shape[1]}x{photo.shape[0]}",
                         "tiles": info["tiles"], "median_ms_per_tile": round(statistics.median(tiles), 1),
                         "median_ms_per_image": round(statistics.median(images)),
                         "median_load_ms": round(statistics.median(loads)),
                         "psnr_browser_vs_python_db": None if np.isinf(agree) else round(float(agree), 2),
                         "runs": args.runs, "load_average": os.getloadavg()[0]})
            print(json.dumps(rows[-1]))


if __name__ == "__main__":
    main()
