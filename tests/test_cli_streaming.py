"""edge-deblur streams an artifact's pixels through the runner: same bytes as the float path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from test_runtime_artifacts import build_onnx

from edgedeblur.cli import deblur
from edgedeblur.io import from_float, read_image, to_float, write_image
from edgedeblur.runtime import load

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def arts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("stream")
    return {"dyn": build_onnx(d, "dyn", tile=(32, 8)),
            "fixed": build_onnx(d, "fixed", layout="NHWC", size=32),
            "int8": build_onnx(d, "int8", qdtype="int8", scale=1 / 250, zero_point=-125),
            "uint8_fixed": build_onnx(d, "uint8_fixed", layout="NHWC", size=32, qdtype="uint8",
                                      scale=1 / 255, zero_point=0)}


def _float_path(manifest: Path, pixels: np.ndarray, **options: object) -> np.ndarray:
    """What edge-deblur wrote before streaming: a float32 copy in, from_float out."""
    with load(manifest, threads=1, **options) as runner:
        return from_float(runner.restore(to_float(pixels)), pixels.dtype)


@pytest.mark.parametrize("kind", ["dyn", "fixed", "int8", "uint8_fixed"])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("tiled", [False, True])
def test_cli_output_is_bit_identical_to_the_float_path(arts: dict, tmp_path: Path, kind: str,
                                                       dtype: type, tiled: bool) -> None:
    rng = np.random.default_rng(3)
    top = 255 if dtype == np.uint8 else 65535
    pixels = rng.integers(0, top + 1, (75, 101, 3)).astype(dtype)
    src = write_image(tmp_path / "in.png", pixels)
    options = ["-O", "max_pixels=1"] if tiled else []
    assert deblur.main([str(src), "-o", str(tmp_path / "out"), "-m", str(arts[kind]), "-q", *options]) == 0
    got = read_image(tmp_path / "out" / "in.png")
    want = _float_path(arts[kind], read_image(src), max_pixels=1 if tiled else 2_000_000)
    assert got.dtype == pixels.dtype
    np.testing.assert_array_equal(got, want)


def test_runner_gets_the_files_pixels_not_a_float_copy(arts: dict, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from edgedeblur.runtime.runner import Runner

    seen: list[np.dtype] = []
    restore = Runner.restore

    def spy(self: Runner, image: np.ndarray, **kw: object) -> np.ndarray:
        seen.append(image.dtype)
        return restore(self, image, **kw)

    monkeypatch.setattr(Runner, "restore", spy)
    src = write_image(tmp_path / "a.png", np.full((40, 50, 3), 120, np.uint8))
    assert deblur.main([str(src), "-o", str(tmp_path / "o"), "-m", str(arts["dyn"]), "-q"]) == 0
    assert seen == [np.uint8]


def test_float_methods_still_get_float(tmp_path: Path) -> None:
    from edgedeblur.methods import get_method

    assert not deblur.streams_pixels(get_method("wiener"))
    src = write_image(tmp_path / "a.png", np.full((40, 50, 3), 120, np.uint8))
    assert deblur.main([str(src), "-o", str(tmp_path / "o"), "-m", "nlm-opencv", "--sigma", "10", "-q"]) == 0
    assert read_image(tmp_path / "o" / "a.png").dtype == np.uint8


def test_help_says_which_methods_stream(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        deblur.main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "no float copy of the whole image" in text and "need the whole image as float32" in text


def test_png_bit_depth_skips_the_second_decode_only_for_8_bit(tmp_path: Path) -> None:
    from edgedeblur.io import _png_bit_depth

    rgb8 = write_image(tmp_path / "a.png", np.full((5, 6, 3), 7, np.uint8))
    rgb16 = write_image(tmp_path / "b.png", np.full((5, 6, 3), 40000, np.uint16))
    assert _png_bit_depth(rgb8) == 8 and _png_bit_depth(rgb16) == 16
    assert read_image(rgb16).dtype == np.uint16 and int(read_image(rgb16).max()) == 40000
    assert _png_bit_depth(write_image(tmp_path / "c.tif", np.zeros((4, 4, 3), np.uint8))) is None


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_large_images_are_read_in_strips_with_the_same_pixels(tmp_path: Path, mode: str) -> None:
    from PIL import Image

    rng = np.random.default_rng(5)
    shape = (2100, 2050, 3) if mode == "RGB" else (2100, 2050)
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "big.png", compress_level=0)
    got = read_image(tmp_path / "big.png")
    assert got.flags.writeable and got.flags.c_contiguous
    np.testing.assert_array_equal(got, pixels)


@pytest.mark.parametrize("kind", ["dyn", "fixed", "int8", "uint8_fixed"])
@pytest.mark.parametrize("shape", [(45, 70), (45, 70, 3), (9, 5, 3)])
def test_lookup_tables_give_the_float_paths_bytes(arts: dict, kind: str, shape: tuple) -> None:
    """uint8/uint16 in: one table lookup to the model tensor and one from an integer output,
    bit-identical to converting the image to float first."""
    rng = np.random.default_rng(4)
    for dtype, top in ((np.uint8, 255), (np.uint16, 65535)):
        pixels = rng.integers(0, top + 1, shape).astype(dtype)
        with load(arts[kind], threads=1, max_pixels=600) as runner:
            got = runner.restore(pixels)
            want = from_float(runner.restore(to_float(pixels)), dtype)
            assert runner.input_lut(dtype) is not None and runner.input_lut(np.float32) is None
        assert got.dtype == dtype and got.shape == pixels.shape
        np.testing.assert_array_equal(got, want)
