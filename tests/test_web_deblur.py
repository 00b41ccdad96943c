"""The browser demo's deblur pipeline (web-demo/deblur.js, fft.js) against the Python runtime.

1. Under Node (no browser): every stand-in case of tests/golden/deblur.json
   (benchmarks/make_deblur_golden.py) through deblur.js: prior sigmas and inputs per round, the
   uint8 output within 1 LSB, and fft.js against a naive DFT.
2. In headless Chromium (``web-demo/tests/deblur.html`` driven by ``tests/run_deblur.mjs``):
   the same golden check inside the browser, then a golden photo deblurred with a small
   noise-map prior (4 channels in, 3 out, random conv net exported by ``torch.onnx``, fixed
   16 x 16 tiles with overlap 4) through onnxruntime-web, compared with
   ``DeblurPipeline(edgedeblur.runtime.load(...))`` on the same ONNX artifact.

Needs ``node``; the browser part also Debian's ``chromium`` and ``npm ci && npm run vendor`` in
web-demo/ (skips with the command otherwise), like tests/test_web_demo.py.
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

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web-demo"
GOLDEN = ROOT / "tests" / "golden"
CHROMIUM = Path("/usr/bin/chromium")
STAND_IN = ["linear_hqs_estimated_sigma", "srgb_hqs_given_sigma", "linear_wiener", "gyro_psf_linear", "denoise_only",
            "gyro_psf_srgb_two_passes"]
TILE, OVERLAP = 16, 4


def _check_report(report: dict) -> None:
    assert report["failures"] == [], report
    rows = {c["name"]: c for c in report["cases"]}
    for name in STAND_IN:
        row = rows[name]
        assert row["outputMaxLsb"] <= 1, row
        assert row["priorInputMaxDiff"] < 1e-4, row
    assert rows["real_prior_linear_hqs"]["priorInputMaxDiff"] < 1e-4  # its first round (the Wiener step)
    assert report["fft"]["fftRelErr"] < 1e-5


def test_deblur_js_matches_python_golden_vectors_in_node() -> None:
    if shutil.which("node") is None:
        pytest.skip("node not found: apt-get install -y nodejs")
    proc = subprocess.run(["node", str(WEB / "tests" / "deblur_golden_check.mjs"), str(GOLDEN)],
                          cwd=WEB, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads(proc.stdout)
    _check_report(report)
    for c in report["cases"]:
        print(c)


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


def _tiny_prior():
    import torch

    torch.manual_seed(3)

    class TinyPrior(torch.nn.Module):
        """RGB + noise map in, RGB out: a residual conv net whose strength follows the map."""

        def __init__(self) -> None:
            super().__init__()
            self.a = torch.nn.Conv2d(4, 8, 3, padding=1)
            self.b = torch.nn.Conv2d(8, 3, 3, padding=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.b(torch.relu(self.a(x)))
            return torch.clamp(x[:, :3] + 0.1 * x[:, 3:4] * y, 0.0, 1.0)

    return TinyPrior().eval()


@pytest.fixture(scope="module")
def prior_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    why = _requirements()
    if why:
        pytest.skip(why)
    import torch

    from edgedeblur.runtime import sha256_file, write_manifest
    from edgedeblur.runtime.pipeline import NOISE_MAP_SCALE, PipelineConfig

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("webprior")
    onnx = out / "tiny_prior.onnx-fp32.onnx"
    torch.onnx.export(_tiny_prior(), torch.rand(1, 4, TILE, TILE), str(onnx), input_names=["input"],
                      output_names=["output"], opset_version=17, dynamo=False)

    def spec(c: int, name: str) -> dict:
        return {"name": name, "shape": [1, c, TILE, TILE], "dtype": "float32", "layout": "NCHW", "range": [0.0, 1.0],
                "colour": "RGB", "scale": None, "zero_point": None}

    manifest = {
        "schema_version": 1,
        "artifact": {"file": onnx.name, "sha256": sha256_file(onnx), "bytes": onnx.stat().st_size, "format": "onnx",
                     "precision": "fp32", "target": "onnx-fp32", "backend": "onnxruntime"},
        "model": {"name": "tiny_prior_webtest", "task": "deblur", "weights": "random"},
        "io": {"input": spec(4, "input"), "output": spec(3, "output"), "dynamic_hw": False, "pad_multiple": 8,
               "tile": {"size": TILE, "overlap": OVERLAP},
               "conditioning": {"noise_map": {"channel": 3, "scale": NOISE_MAP_SCALE}}},
        "pipeline": {**PipelineConfig().to_dict(), "linear": True},
    }
    write_manifest(out / "tiny_prior.onnx-fp32.manifest.json", manifest)
    return out


@pytest.fixture(scope="module")
def server(prior_dir: Path):
    """web-demo/ at /, tests/golden at /golden/, the prior at /model/, on a free localhost port."""

    class Handler(SimpleHTTPRequestHandler):
        def translate_path(self, path: str) -> str:
            clean = path.split("?", 1)[0]
            if clean.startswith("/golden/"):
                return str(GOLDEN / Path(clean).name)
            if clean.startswith("/model/"):
                return str(prior_dir / Path(clean).name)
            if clean.startswith("/real/") and os.environ.get("EDGEDEBLUR_WEB_PRIOR_MANIFEST"):
                return str(Path(os.environ["EDGEDEBLUR_WEB_PRIOR_MANIFEST"]).parent / Path(clean).name)
            return super().translate_path(path)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(WEB)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _run_page(url: str, out: Path) -> dict:
    proc = subprocess.run(["node", str(WEB / "tests" / "run_deblur.mjs"), url, str(out), str(CHROMIUM)],
                          cwd=WEB, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"browser run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return json.loads(out.read_text())


def test_browser_deblur_matches_python(server: str, prior_dir: Path, tmp_path: Path) -> None:
    from edgedeblur.io import from_float, to_float
    from edgedeblur.runtime import load
    from edgedeblur.runtime.pipeline import DeblurPipeline, PipelineConfig

    case = "linear_hqs_estimated_sigma"
    manifest = prior_dir / "tiny_prior.onnx-fp32.manifest.json"
    result = _run_page(f"{server}/tests/deblur.html?manifest=/model/{manifest.name}&case={case}",
                       tmp_path / "result.json")
    _check_report(result["golden"])  # the stand-in golden runs, inside Chromium
    for c in result["golden"]["cases"]:
        print("chromium", c)

    cs = next(c for c in json.loads((GOLDEN / "deblur.json").read_text())["cases"] if c["name"] == case)
    h, w = cs["height"], cs["width"]
    image = np.asarray(cs["image"], np.uint8).reshape(h, w, 3)
    kernel = np.asarray(cs["kernel"], np.float32).reshape(cs["kernel_shape"])
    with load(manifest, backend="onnxruntime", threads=1) as runner:
        pipe = DeblurPipeline(runner, PipelineConfig(linear=True))
        expected = from_float(pipe.restore(to_float(image), kernel=kernel), np.uint8)
    got = np.asarray(result["onnx"]["rgb"], np.uint8).reshape(h, w, 3)
    diff = np.abs(got.astype(int) - expected.astype(int))
    blurred_diff = np.abs(image.astype(int) - expected.astype(int)).max()
    print(f"onnx prior in chromium: max {diff.max()} LSB, {(diff > 0).sum()} of {diff.size} values off; "
          f"{result['onnx']['priorCalls']} prior calls, {result['onnx']['totalMs']:.0f} ms; {result['userAgent']}")
    assert result["onnx"]["priorCalls"] == 3
    assert blurred_diff > 10, "comparison too weak: the pipeline barely changes the photo"
    assert diff.max() <= 1, f"browser pipeline differs from the Python runtime by {diff.max()} LSB"


def test_demo_page_deblurs_with_a_psf_file(server: str, prior_dir: Path, tmp_path: Path) -> None:
    """The page itself (index.html + app.js): a noise-map prior manifest shows the PSF input; a photo
    and a PSF image go in through the file inputs, the page runs deblur.js, and its bytes match
    DeblurPipeline(runtime.load(...)) with the same kernel (the PNG's grey levels, normalised)."""
    from PIL import Image

    from edgedeblur.io import from_float, to_float
    from edgedeblur.runtime import load
    from edgedeblur.runtime.pipeline import DeblurPipeline, PipelineConfig

    cs = next(c for c in json.loads((GOLDEN / "deblur.json").read_text())["cases"] if c["name"] == "srgb_hqs_given_sigma")
    h, w = cs["height"], cs["width"]
    image = np.asarray(cs["image"], np.uint8).reshape(h, w, 3)
    k = np.asarray(cs["kernel"], np.float32).reshape(cs["kernel_shape"])
    grey = np.round(k / k.max() * 255).astype(np.uint8)
    Image.fromarray(image).save(tmp_path / "photo.png")
    Image.fromarray(grey).save(tmp_path / "psf.png")
    kernel = grey.astype(np.float32) / 255
    kernel /= kernel.sum()
    manifest = prior_dir / "tiny_prior.onnx-fp32.manifest.json"
    proc = subprocess.run(["node", str(WEB / "tests" / "run_demo.mjs"), f"{server}/index.html?manifest=model/{manifest.name}",
                           str(tmp_path / "photo.png"), str(tmp_path), str(CHROMIUM), str(tmp_path / "psf.png")],
                          cwd=WEB, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"page run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    info = json.loads((tmp_path / "result.json").read_text())
    rgba = np.frombuffer((tmp_path / "rgba.bin").read_bytes(), np.uint8).reshape(h, w, 4)
    with load(manifest, backend="onnxruntime", threads=1) as runner:
        expected = from_float(DeblurPipeline(runner, PipelineConfig(linear=True)).restore(to_float(image), kernel=kernel),
                              np.uint8)
    diff = np.abs(rgba[..., :3].astype(int) - expected.astype(int))
    print(f"page: {info['status']}; max {diff.max()} LSB vs Python")
    assert "Deblurred" in info["status"] and "PSF 9 × 9" in info["status"], info["status"]
    assert diff.max() <= 1


@pytest.mark.slow
def test_shipped_prior_in_browser_matches_golden(server: str, tmp_path: Path) -> None:
    """The golden ``real_prior_linear_hqs`` case (the shipped mnv2unet_m_prior in PyTorch) with the
    prior exported to ONNX (EDGEDEBLUR_WEB_PRIOR_MANIFEST=.../mnv2unet_m_prior.onnx-fp32.manifest.json,
    from ``edge-export deblur -t onnx-fp32``) through onnxruntime-web in Chromium."""
    manifest = os.environ.get("EDGEDEBLUR_WEB_PRIOR_MANIFEST")
    if not manifest:
        pytest.skip("set EDGEDEBLUR_WEB_PRIOR_MANIFEST to an edge-export deblur *.onnx-*.manifest.json")
    case = "real_prior_linear_hqs"
    result = _run_page(f"{server}/tests/deblur.html?manifest=/real/{Path(manifest).name}&case={case}",
                       tmp_path / "result.json")
    cs = next(c for c in json.loads((GOLDEN / "deblur.json").read_text())["cases"] if c["name"] == case)
    got = np.asarray(result["onnx"]["rgb"], int)
    diff = np.abs(got - np.asarray(cs["output"], int))
    print(f"shipped prior (ONNX) in chromium vs golden (PyTorch): max {diff.max()} LSB, "
          f"{(diff > 0).sum()} of {diff.size} values off, {result['onnx']['totalMs']:.0f} ms")
    assert diff.max() <= 1
