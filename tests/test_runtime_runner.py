"""The Runner on real ONNX/OpenVINO/OpenCV/LiteRT artifacts: numbers, dtypes, shapes, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_runtime_artifacts import build_onnx, build_openvino_ir, build_tflite, reference_forward

from edgedeblur.errors import ArtifactError, ConfigError, InvalidInputError, UnknownNameError
from edgedeblur.runtime import FallbackWarning, load

REPO = Path(__file__).resolve().parents[1]


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 10 * np.log10(1.0 / max(mse, 1e-20))


def _expected(img: np.ndarray) -> np.ndarray:
    """The reference net on a float HxWx3 image (whole image, zero padding at the border)."""
    return reference_forward(img.transpose(2, 0, 1)[None].astype(np.float64))[0].transpose(1, 2, 0)


@pytest.fixture(scope="module")
def arts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("arts")
    return {
        "dyn": build_onnx(d, "dyn", tile=(32, 8)),
        "fixed_nhwc": build_onnx(d, "fixed_nhwc", layout="NHWC", size=32),
        "int8": build_onnx(d, "int8", qdtype="int8", scale=1 / 250, zero_point=-125),
        "uint8_fixed": build_onnx(d, "uint8_fixed", layout="NHWC", size=32, qdtype="uint8",
                                  scale=1 / 255, zero_point=0),
    }


@pytest.fixture(scope="module")
def photo(shared_data: Path) -> np.ndarray:
    from edgedeblur.io import read_image

    return read_image(shared_data / "eval" / "set3c" / sorted(p.name for p in (shared_data / "eval" / "set3c").iterdir())[0])


@pytest.mark.parametrize("backend", ["onnxruntime", "openvino", "opencv"])
def test_whole_image_matches_reference_on_every_backend(arts: dict, backend: str) -> None:
    img = np.random.default_rng(1).random((37, 53, 3), dtype=np.float32)
    with load(arts["dyn"], backend=backend, threads=1, max_pixels=10**9) as runner:
        out = runner.restore(img)
    assert out.dtype == np.float32 and out.shape == img.shape
    np.testing.assert_allclose(out, np.clip(_expected(img), 0, 1), atol=2e-5)


def test_tiled_matches_whole_image_on_a_photo(arts: dict, photo: np.ndarray) -> None:
    """Seam error of the raised-cosine blend: tiled vs whole-image output of a float model."""
    with load(arts["dyn"], threads=1, max_pixels=10**9) as runner:
        whole = runner.restore(photo.astype(np.float32) / 255)
        runner.max_pixels = 1  # forces 32-pixel tiles with 8-pixel overlap
        tiled = runner.restore(photo.astype(np.float32) / 255)
    assert _psnr(whole, tiled) > 50.0  # measured about 60 dB on set3c
    # away from tile borders the blend is exact
    np.testing.assert_allclose(whole[:20, :20], tiled[:20, :20], atol=1e-6)


def test_fixed_shape_nhwc_model_is_tiled_at_its_size(arts: dict) -> None:
    img = (np.random.default_rng(2).random((70, 45, 3)) * 65535).astype(np.uint16)
    with load(arts["fixed_nhwc"], threads=1) as runner:
        assert runner.tile == 32 and runner.overlap == 4
        out = runner.restore(img)
    assert out.dtype == np.uint16 and out.shape == img.shape
    ref = np.clip(_expected(img / 65535.0), 0, 1)
    assert _psnr(out / 65535.0, ref) > 30.0


@pytest.mark.parametrize("shape", [(1, 1), (1, 1, 3), (1, 7, 3), (5, 1)])
def test_tiny_images_keep_dtype_and_shape(arts: dict, shape: tuple) -> None:
    img = np.full(shape, 100, np.uint8)
    for key in ("dyn", "fixed_nhwc"):
        with load(arts[key], threads=1) as runner:
            out = runner.restore(img)
        assert out.shape == img.shape and out.dtype == np.uint8


def test_grey_image_on_rgb_model_returns_channel_mean(arts: dict) -> None:
    grey = (0.3 + 0.4 * np.random.default_rng(3).random((40, 40))).astype(np.float32)  # no clipping
    with load(arts["dyn"], threads=1) as runner:
        out = runner.restore(grey)
        rgb = runner.restore(np.repeat(grey[..., None], 3, axis=2))
    assert out.shape == grey.shape
    inside = ((rgb > 0) & (rgb < 1)).all(axis=2)  # per-channel clipping differs from mean-then-clip
    assert inside.mean() > 0.9
    np.testing.assert_allclose(out[inside], rgb.mean(axis=2)[inside], atol=1e-6)


def test_int8_io_quantizes_with_manifest_scale_and_zero_point(arts: dict) -> None:
    img = np.random.default_rng(4).random((24, 24, 3), dtype=np.float32)
    with load(arts["int8"], threads=1) as runner:
        assert runner.input.dtype == "int8"
        out = runner.restore(img)
    s, z = 1 / 250, -125
    q = np.clip(np.rint(img / s) + z, -128, 127)
    ref = (np.clip(np.rint(_expected((q - z) * s) / s) + z, -128, 127) - z) * s
    np.testing.assert_allclose(out, np.clip(ref, 0, 1), atol=1e-6)


def test_uint8_fixed_shape_int8_style_model_tiles_and_dequantizes(arts: dict) -> None:
    img = (np.random.default_rng(5).random((50, 66, 3)) * 255).astype(np.uint8)
    with load(arts["uint8_fixed"], threads=1) as runner:
        out = runner.restore(img)
    assert _psnr(out / 255.0, np.clip(_expected(img / 255.0), 0, 1)) > 35.0


def test_openvino_ir_with_weights_file(arts: dict, tmp_path: Path) -> None:
    manifest = build_openvino_ir(tmp_path, arts["dyn"])
    img = np.random.default_rng(6).random((16, 24, 3), dtype=np.float32)
    with load(manifest, threads=1) as runner:
        assert runner.info.name == "openvino"
        np.testing.assert_allclose(runner.restore(img), np.clip(_expected(img), 0, 1), atol=2e-5)
    manifest.with_name("dyn_ov.bin").write_bytes(b"\0" * 10)
    with pytest.raises(ArtifactError, match="sha256"):
        load(manifest)


def test_litert_fixed_nhwc_matches_reference(tmp_path: Path) -> None:
    path = build_tflite(tmp_path)
    img = np.random.default_rng(7).random((40, 50, 3), dtype=np.float32)
    with load(path, threads=1) as runner:
        assert runner.info.name == "litert" and runner.info.delegate == "xnnpack"
        out = runner.restore(img)
        with pytest.warns(FallbackWarning, match="delegate"):
            fb = load(path, delegate=str(tmp_path / "libnot_a_delegate.so"))
        assert fb.fallback and fb.info.delegate == "xnnpack"
        with pytest.raises(ConfigError, match="delegate"):
            load(path, delegate=str(tmp_path / "libnot_a_delegate.so"), strict=True)
        with load(path, delegate="none") as builtin:  # LiteRT's own kernels, no XNNPACK
            assert builtin.info.delegate == "none"
            np.testing.assert_allclose(builtin.restore(img), out, atol=1e-5)
        with pytest.raises(UnknownNameError, match="did you mean 'hexagon'"):
            load(path, delegate="hexagn")
    assert _psnr(out, np.clip(_expected(img), 0, 1)) > 40.0


# --- bad input -------------------------------------------------------------------------------------

def test_tampered_artifact_is_refused(arts: dict, tmp_path: Path) -> None:
    path = build_onnx(tmp_path, "t")
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ArtifactError, match="sha256"):
        load(path)
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ArtifactError, match="truncated"):
        load(path)


def test_truncated_model_with_matching_manifest_is_a_load_error(tmp_path: Path) -> None:
    from test_runtime_artifacts import write_artifact_manifest

    path = build_onnx(tmp_path, "cut")
    path.write_bytes(path.read_bytes()[:300])
    write_artifact_manifest(path, "onnx", layout="NCHW", shape=[1, 3, -1, -1], dtype="float32")
    with pytest.raises(ArtifactError, match="could not load"):
        load(path)


def test_manifest_that_does_not_match_the_model(tmp_path: Path) -> None:
    from test_runtime_artifacts import write_artifact_manifest

    path = build_onnx(tmp_path, "m", size=32, layout="NHWC")
    write_artifact_manifest(path, "onnx", layout="NHWC", shape=[1, 64, 64, 3], dtype="float32",
                            dynamic=False, tile=(64, 8))
    with pytest.raises(ArtifactError, match="shape"):
        load(path)
    write_artifact_manifest(path, "onnx", layout="NHWC", shape=[1, 32, 32, 3], dtype="uint8",
                            scale=0.004, zero_point=0, dynamic=False, tile=(32, 4))
    with pytest.raises(ArtifactError, match="dtype"):
        load(path)


def test_unknown_backend_and_device_suggest(arts: dict) -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'openvino'"):
        load(arts["dyn"], backend="openvin")
    with pytest.raises(UnknownNameError, match="tensorrt"):
        load(arts["dyn"], device="tensorrtt")
    with pytest.raises(ConfigError, match="cannot run"):
        load(arts["dyn"], backend="litert")


def test_missing_provider_falls_back_with_warning_or_fails_when_strict(arts: dict) -> None:
    with pytest.warns(FallbackWarning, match="CUDAExecutionProvider"):
        runner = load(arts["dyn"], device="cuda")
    assert runner.fallback and runner.info.device == "cpu" and runner.info.requested_device == "cuda"
    with pytest.raises(ConfigError, match="not available"):
        load(arts["dyn"], device="cuda", strict=True)
    with pytest.warns(FallbackWarning, match="NPU"):
        assert load(arts["dyn"], backend="openvino", device="npu").info.device == "cpu"


def test_bad_images(arts: dict) -> None:
    with load(arts["dyn"], threads=1) as runner:
        for bad in (np.zeros((4, 4, 2), np.uint8), np.zeros((0, 4), np.uint8),
                    np.zeros((4, 4), np.int32), np.full((4, 4), np.nan, np.float32), [[1, 2]]):
            with pytest.raises(InvalidInputError):
                runner.restore(bad)  # type: ignore[arg-type]


def test_runner_is_a_method(arts: dict) -> None:
    from edgedeblur.methods import get_method

    method = get_method(str(arts["dyn"]))
    assert method.needs_kernel is False and method.needs_sigma is False
    img = np.random.default_rng(8).random((16, 16, 3), dtype=np.float32)
    assert method.restore(img, sigma=25.0).shape == img.shape


def test_runtime_works_without_torch_and_tensorflow(arts: dict) -> None:
    code = f"""
import sys
sys.modules['torch'] = None
sys.modules['tensorflow'] = None
import numpy as np
import edgedeblur.runtime as rt
r = rt.load({str(arts['dyn'])!r}, threads=1)
out = r.restore(np.full((20, 30, 3), 128, np.uint8))
bad = [m for m in sys.modules if m.startswith(('edgedeblur.models', 'edgedeblur.export'))]
print(out.shape, bad)
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "(20, 30, 3) []"


def test_missing_backend_names_the_extra(arts: dict) -> None:
    code = f"""
import sys
sys.modules['onnxruntime'] = None
from edgedeblur.errors import MissingDependencyError
import edgedeblur.runtime as rt
try:
    rt.load({str(arts['dyn'])!r})
except MissingDependencyError as e:
    print(str(e))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert "pip install 'edgedeblur[onnxruntime]'" in res.stdout, res.stdout + res.stderr


def test_no_warning_on_plain_cpu_load(arts: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", FallbackWarning)
        runner = load(arts["dyn"])
    assert runner.fallback is None
    json.dumps(runner.info.__dict__)  # reportable as JSON
