"""The browser demo (web-demo/) in a real headless Chromium against the Python runtime.

A small conv net is exported with torch.onnx (fp32) and quantized to a QDQ int8 ONNX model with
onnxruntime's static quantizer; both get manifests from the runtime's writer. The page is
served on localhost, restores ``samples/noisy_sigma25.png`` with onnxruntime-web (WebAssembly)
using its own tiling (web-demo/core.js), and the bytes it produced are compared with
``edgedeblur.runtime.load(...).restore`` on the same artifact.

Needs Debian's ``chromium`` and ``npm ci && npm run vendor`` in web-demo/ (skips with the exact
command otherwise). Set EDGEDEBLUR_UPDATE_SCREENSHOT=1 to refresh docs/web-demo.png.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from edgedeblur.io import read_image
from edgedeblur.metrics import psnr
from edgedeblur.runtime import load, sha256_file, write_manifest

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web-demo"
CHROMIUM = Path("/usr/bin/chromium")
PHOTO = ROOT / "samples" / "noisy_sigma25.png"  # 256x192: 20 tiles at 64 / 8
TILE, OVERLAP = 64, 8
#: the browser and Python must agree this well on the same artifact (uint8 output)
MIN_PSNR_DB = {"fp32": 40.0, "int8": 35.0}


def _requirements() -> str | None:
    if shutil.which("node") is None:
        return "node not found: apt-get install -y nodejs npm"
    if not CHROMIUM.is_file():
        return "chromium not found: apt-get install -y chromium"
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        return "web-demo npm packages missing: cd web-demo && npm ci && npm run vendor"
    if not (WEB / "vendor" / "ort.wasm.min.mjs").is_file():
        proc = subprocess.run(["node", "scripts/vendor.mjs"], cwd=WEB, capture_output=True, text=True)
        if proc.returncode:
            return f"could not vendor onnxruntime-web: {proc.stderr.strip()}"
    return None


def _tiny_net():
    import torch

    torch.manual_seed(0)

    class Tiny(torch.nn.Module):
        """Residual 3-layer conv net: enough spatial support that tile seams would show."""

        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Conv2d(3, 8, 3, padding=1)
            self.b = torch.nn.Conv2d(8, 8, 3, padding=1)
            self.c = torch.nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.c(torch.relu(self.b(torch.relu(self.a(x)))))
            return torch.clamp(x + 0.2 * y, 0.0, 1.0)

    return Tiny().eval()


def _manifest(path: Path, precision: str) -> dict:
    spec = {"shape": [1, 3, TILE, TILE], "dtype": "float32", "layout": "NCHW", "range": [0.0, 1.0],
            "colour": "RGB", "scale": None, "zero_point": None}
    return {
        "schema_version": 1,
        "artifact": {"file": path.name, "sha256": sha256_file(path), "bytes": path.stat().st_size,
                     "format": "onnx", "precision": precision, "target": f"onnx-{precision}",
                     "backend": "onnxruntime"},
        "model": {"name": "tiny_webtest", "task": "deblur", "weights": "random"},
        "io": {"input": {"name": "input", **spec}, "output": {"name": "output", **spec},
               "dynamic_hw": False, "pad_multiple": 8, "tile": {"size": TILE, "overlap": OVERLAP}},
    }


def test_core_js_matches_python_golden_vectors() -> None:
    """web-demo/core.js (no browser needed) reproduces tests/golden exactly: grids, ramps, quantization
    and whole-image restores of the RGB cases."""
    if shutil.which("node") is None:
        pytest.skip("node not found: apt-get install -y nodejs")
    proc = subprocess.run(["node", str(WEB / "tests" / "golden_check.mjs"), str(ROOT / "tests" / "golden")],
                          cwd=WEB, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    assert report["counts"] == {"grids": 10, "ramps": 7, "quant": 3, "restore": 3}
    assert report["worstRestore"] == 0


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    why = _requirements()
    if why:
        pytest.skip(why)
    import torch
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("webmodel")
    fp32 = out / "tiny.onnx-fp32.onnx"
    torch.onnx.export(_tiny_net(), torch.rand(1, 3, TILE, TILE), str(fp32), input_names=["input"],
                      output_names=["output"], opset_version=17, dynamo=False)
    write_manifest(out / "tiny.onnx-fp32.manifest.json", _manifest(fp32, "fp32"))

    photo = read_image(PHOTO).astype(np.float32) / 255.0
    patches = [photo[y:y + TILE, x:x + TILE].transpose(2, 0, 1)[None].copy()
               for y in (0, 64, 128) for x in (0, 96, 192)]

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter({"input": p} for p in patches)

        def get_next(self) -> dict | None:
            return next(self.items, None)

    int8 = out / "tiny.onnx-int8.onnx"
    quantize_static(str(fp32), str(int8), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
    write_manifest(out / "tiny.onnx-int8.manifest.json", _manifest(int8, "int8"))
    return out


@pytest.fixture(scope="module")
def server(artifacts: Path):
    """Serve web-demo/ at / and the artifacts folder at /model/ on a free localhost port."""

    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            clean = path.split("?", 1)[0]
            if clean.startswith("/model/"):
                return str(artifacts / Path(clean).name)
            if clean.startswith("/real/") and os.environ.get("EDGEDEBLUR_WEB_MANIFEST"):
                return str(Path(os.environ["EDGEDEBLUR_WEB_MANIFEST"]).parent / Path(clean).name)
            return super().translate_path(path)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(WEB)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run_page(url: str, out: Path, photo: Path = PHOTO) -> tuple[np.ndarray, dict]:
    proc = subprocess.run(["node", str(WEB / "tests" / "run_demo.mjs"), url, str(photo), str(out), str(CHROMIUM)],
                          cwd=WEB, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"browser run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    info = json.loads((out / "result.json").read_text())
    rgba = np.frombuffer((out / "rgba.bin").read_bytes(), dtype=np.uint8)
    return rgba.reshape(info["height"], info["width"], 4), info


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_browser_matches_python_runtime(server: str, artifacts: Path, tmp_path: Path, precision: str) -> None:
    manifest = artifacts / f"tiny.onnx-{precision}.manifest.json"
    rgba, info = _run_page(f"{server}/index.html?manifest=model/{manifest.name}", tmp_path)
    assert np.all(rgba[..., 3] == 255)
    browser = rgba[..., :3]
    photo = read_image(PHOTO)
    assert browser.shape == photo.shape
    with load(manifest, backend="onnxruntime", threads=1) as runner:
        expected = runner.restore(photo)
    agree = psnr(browser, expected)
    changed = psnr(photo, expected)
    print(f"{precision}: browser vs python {agree:.2f} dB; model output vs input {changed:.2f} dB; "
          f"{info['tiles']} tiles, median {sorted(info['tileMs'])[len(info['tileMs']) // 2]:.1f} ms/tile, "
          f"{info['totalMs']:.0f} ms/image")
    assert info["tiles"] == 20  # 192 x 256 at tile 64 / overlap 8: 4 rows x 5 columns
    assert agree > MIN_PSNR_DB[precision], f"browser output differs from the Python runtime: {agree:.2f} dB"
    assert agree > changed + 10, "comparison too weak: the model barely changes the photo"
    if precision == "int8" and os.environ.get("EDGEDEBLUR_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "screenshot.png", ROOT / "docs" / "web-demo.png")


def test_page_reports_a_bad_manifest(server: str, artifacts: Path, tmp_path: Path) -> None:
    bad = json.loads((artifacts / "tiny.onnx-fp32.manifest.json").read_text())
    bad["artifact"]["bytes"] += 1
    (artifacts / "bad.manifest.json").write_text(json.dumps(bad))
    proc = subprocess.run(["node", str(WEB / "tests" / "run_demo.mjs"), f"{server}/index.html?manifest=model/bad.manifest.json",
                           str(PHOTO), str(tmp_path), str(CHROMIUM)], cwd=WEB, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "manifest says" in proc.stderr and "truncated" in proc.stderr, proc.stderr[-2000:]


@pytest.mark.slow
def test_real_exported_artifact_in_browser(server: str, tmp_path: Path, shared_data: Path) -> None:
    """An edge-export ONNX artifact (EDGEDEBLUR_WEB_MANIFEST=path/to/x.onnx-int8.manifest.json) on a
    500 x 500 McMaster photo: the browser must match the Python runtime like the small nets do."""
    manifest = os.environ.get("EDGEDEBLUR_WEB_MANIFEST")
    if not manifest:
        pytest.skip("set EDGEDEBLUR_WEB_MANIFEST to an edge-export *.onnx-*.manifest.json")
    manifest = Path(manifest)
    photo_path = shared_data / "eval" / "mcmaster" / "1.tif"
    png = tmp_path / "photo.png"
    from PIL import Image

    Image.fromarray(read_image(photo_path)).save(png)
    rgba, info = _run_page(f"{server}/index.html?manifest=real/{manifest.name}", tmp_path, png)
    photo = read_image(png)
    with load(manifest, backend="onnxruntime", threads=1) as runner:
        expected = runner.restore(photo)
    agree = psnr(rgba[..., :3], expected)
    precision = json.loads(manifest.read_text())["artifact"]["precision"]
    print(f"{manifest.name}: browser vs python {agree:.2f} dB; {info['tiles']} tiles, "
          f"median {sorted(info['tileMs'])[len(info['tileMs']) // 2]:.1f} ms/tile, {info['totalMs']:.0f} ms/image, "
          f"load {info['loadMs']:.0f} ms")
    assert agree > MIN_PSNR_DB.get(precision, 35.0)
    if os.environ.get("EDGEDEBLUR_UPDATE_SCREENSHOT"):
        shutil.copyfile(tmp_path / "screenshot.png", ROOT / "docs" / "web-demo.png")
