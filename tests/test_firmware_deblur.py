"""The firmware's deblur pipeline (firmware/src/edb_fft.c, edb_deconv.c, edb_pipeline.c,
edb_gyro.c) against numpy and the Python runtime, through ctypes (benchmarks/fw_deblur.py).

FFTs of every length class (radix 2/3/4/5, Bluestein primes and mixed sizes, 2-D real even and
odd), the data steps of runtime.deconv on random images and kernels (all three tapers), and the
golden vectors of benchmarks/make_deblur_golden.py (tests/golden/deblur.json): kernel, gyro
PSFs, the data-step outputs each prior round sees, and the final uint8 image within 1 LSB.
Skipped with a reason when cmake or a C compiler is missing.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from edgedeblur.runtime.deconv import DataStep, estimate_noise_sigma, wiener_deconvolve, wiener_nsr

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden" / "deblur.json"


def _module(name: str):  # noqa: ANN202 - a module
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(name, module)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


@pytest.fixture(scope="module")
def fw(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    binding = _module("fw_deblur")
    try:
        return binding.build(tmp_path_factory.mktemp("fwdeblur"))
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


FFT_SIZES = list(range(1, 33)) + [45, 64, 97, 100, 125, 243, 360, 625, 1000, 1021, 1350, 2 * 1021, 7 * 11 * 13]


def test_complex_fft_matches_numpy_every_length_class(fw) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    for n in FFT_SIZES:
        x = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(np.complex64)
        scale = np.sqrt(n) * 1e-5
        assert np.abs(fw.fft(x) - np.fft.fft(x)).max() < scale, n
        assert np.abs(fw.fft(x, inverse=True) - np.fft.ifft(x) * n).max() < scale, n


@pytest.mark.parametrize("shape", [(1, 1), (1, 2), (2, 1), (3, 5), (8, 8), (7, 9), (120, 150), (45, 75),
                                   (97, 31), (64, 1021), (33, 2), (250, 243)])
def test_real_2d_fft_matches_numpy_and_inverts(fw, shape: tuple[int, int]) -> None:  # noqa: ANN001
    x = np.random.default_rng(1).random(shape, dtype=np.float32)
    spec, back = fw.rfft2(x)
    assert spec.shape == (shape[0], shape[1] // 2 + 1)
    assert np.abs(spec - np.fft.rfft2(x)).max() < 1e-5 * np.sqrt(x.size)
    assert np.abs(back - x).max() < 2e-6


def test_fast_len_is_scipys(fw) -> None:  # noqa: ANN001
    scipy_fft = pytest.importorskip("scipy.fft")
    for n in (1, 2, 7, 11, 13, 49, 77, 121, 790, 1351, 4097):
        assert fw.lib.edb_fast_len(n) == scipy_fft.next_fast_len(n, real=True), n


def _scene(h: int, w: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.stack([((xx // 7 + yy // 9) % 2) * 0.6 + 0.2, 0.5 + 0.3 * np.sin(xx / 5), 0.3 + 0.4 * (yy > h / 2)], 2)
    return np.clip(base + rng.normal(0, 0.01, base.shape), 0, 1).astype(np.float32)


@pytest.mark.parametrize("taper", ["mean", "none", "blur"])
@pytest.mark.parametrize(("h", "w", "k"), [(40, 48, 9), (37, 53, 15), (16, 12, 7), (64, 64, 31), (9, 30, 1)])
def test_data_steps_match_the_runtime(fw, taper: str, h: int, w: int, k: int) -> None:  # noqa: ANN001
    rng = np.random.default_rng(h * w + k)
    y = _scene(h, w, k)
    kernel = rng.random((k, k)).astype(np.float32)
    kernel /= kernel.sum()
    sigma = estimate_noise_sigma(y)
    assert fw.noise_sigma(y) == pytest.approx(sigma, rel=1e-6, abs=1e-9)
    nsr = wiener_nsr(y, sigma, 30.0)
    assert fw.wiener_nsr(y, sigma, 30.0) == pytest.approx(nsr, rel=1e-6)
    step_c = fw.deconv(y, kernel, taper)
    ref = wiener_deconvolve(y, kernel, nsr=nsr, taper=taper)
    assert np.abs(step_c.wiener(nsr) - ref).max() < 2e-5
    step = DataStep(y, kernel, taper=taper)
    z = np.clip(ref, 0, 1) + 0.01
    for rho in (0.003, 0.1, 2.0):
        assert np.abs(step_c.solve(z, rho) - step.solve(z, rho)).max() < 2e-5
    grey = y[..., 0]
    assert np.abs(fw.deconv(grey, kernel, taper).wiener(nsr) - wiener_deconvolve(grey, kernel, nsr=nsr,
                                                                                 taper=taper)).max() < 2e-5


# --- golden vectors (benchmarks/make_deblur_golden.py) -------------------------------------------
@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def _camera_and_log(g: dict):  # noqa: ANN202 - (CameraModel, GyroLog)
    from edgedeblur.runtime.gyro import CameraModel, GyroLog

    cam = {k: v for k, v in g["camera"].items() if k not in ("format", "readout_direction_index")}
    return CameraModel(**cam), GyroLog(np.asarray(g["t"]), np.asarray(g["omega"]).reshape(-1, 3))


def test_gyro_psf_grids_match_the_golden_kernels(fw, golden: dict) -> None:  # noqa: ANN001
    cam, log = _camera_and_log(golden["gyro"])
    for name, grid in golden["gyro"]["grids"].items():
        rows, cols = (int(v) for v in name.split("x"))
        want = np.asarray(grid["kernels"], np.float32).reshape(grid["shape"])
        got = fw.gyro_psf_grid(cam, log, (rows, cols))
        assert got.shape == want.shape
        assert np.abs(got - want).max() < 1e-6


def _prior(name: str):  # noqa: ANN202 - callable(x, sigma) -> x
    if name == "stand-in":
        return _module("make_deblur_golden").StandInPrior().restore
    try:
        real = _module("make_deblur_golden").load_real_prior()
    except Exception as exc:  # noqa: BLE001 - torch or the weights missing
        pytest.skip(f"the learned prior cannot be loaded here: {exc}")
    return real.restore


@pytest.mark.parametrize("index", range(7))
def test_pipeline_matches_the_golden_vectors(fw, golden: dict, index: int) -> None:  # noqa: ANN001
    """The C pipeline restores each golden photo within 1 LSB of the Python runtime; the
    inputs its prior gets (the data-step outputs) and their noise levels match too."""
    from edgedeblur.runtime.pipeline import PipelineConfig

    case = golden["cases"][index]
    h, w = case["height"], case["width"]
    img = np.asarray(case["image"], np.uint8).reshape(h, w, 3)
    kernel = np.asarray(case["kernel"], np.float32).reshape(case["kernel_shape"])
    if case["psf_grid"]:  # the PSF comes from the gyro trace, computed by the C library
        cam, log = _camera_and_log(golden["gyro"])
        c_kernel = fw.gyro_psf_grid(cam, log, (1, 1))[0, 0]
        assert np.abs(c_kernel - kernel).max() < 1e-6
        kernel = c_kernel
    settings = {k: v for k, v in case["config"].items() if k not in ("kind", "noise_map_scale")}
    cfg = PipelineConfig.from_dict(settings)
    fw_cfg = _module("fw_deblur").PipeConfig.from_pipeline(cfg, settings["linear"], case["psf_grid"])
    prior, seen = _prior(case["prior"]), []

    def recording(x: np.ndarray, sigma: float) -> np.ndarray:
        seen.append((sigma, np.clip(x, 0, 1)))
        return prior(x, sigma=sigma)

    out, sigma_used = fw.pipe_run(fw_cfg, img, kernel, case["sigma"], recording)
    assert [s for s, _ in seen] == pytest.approx(case["prior_sigmas"], rel=1e-6)
    tol = 1e-4 if case["prior"] == "stand-in" else 2e-3
    for (_, x), want in zip(seen, case.get("prior_inputs", []), strict=False):
        assert np.abs(x - np.asarray(want, np.float32).reshape(h, w, 3)).max() < tol
    diff = np.abs(out.astype(int) - np.asarray(case["output"]).reshape(h, w, 3))
    assert diff.max() <= 1, f"{case['name']}: {int((diff > 1).sum())} values off by more than 1 LSB"


def test_golden_file_is_what_the_runtime_writes_now(golden: dict) -> None:
    """The golden stand-in cases and gyro kernels are reproduced by the current Python runtime."""
    maker = _module("make_deblur_golden")
    cam, log = maker.gyro_setup()
    from edgedeblur.runtime.gyro import gyro_psf_grid

    want = np.asarray(golden["gyro"]["grids"]["2x3"]["kernels"], np.float32)
    assert np.abs(gyro_psf_grid(cam, log, (2, 3)).kernels.ravel() - want).max() < 1e-6
    case = golden["cases"][0]
    k = np.asarray(case["kernel"], np.float32).reshape(case["kernel_shape"])
    again = maker.run_case(case["name"], "stand-in", np.asarray(case["image"], np.uint8).reshape(
        case["height"], case["width"], 3), k, linear=True, sigma=None)
    assert np.abs(np.asarray(again["output"]) - np.asarray(case["output"])).max() <= 1
