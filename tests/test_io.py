"""Image I/O: every awkward file a user has, read once, correctly; writes atomic and safe."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from edgedeblur.errors import (
    EdgeDeblurError,
    ImageReadError,
    InvalidInputError,
    MissingDependencyError,
    OutputPathError,
    UnknownNameError,
)
from edgedeblur.io import from_float, list_images, read_image, to_float, write_image


@pytest.fixture()
def rgb() -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)


def test_rgb_png_round_trip(tmp_path, rgb):
    path = write_image(tmp_path / "a.png", rgb)
    back = read_image(path)
    assert back.dtype == np.uint8 and back.shape == (20, 30, 3)
    np.testing.assert_array_equal(back, rgb)


def test_grey_stays_grey(tmp_path, rgb):
    grey = rgb[..., 0]
    back = read_image(write_image(tmp_path / "g.png", grey))
    assert back.shape == (20, 30)
    np.testing.assert_array_equal(back, grey)


def test_16bit_grey_and_colour_keep_16_bits(tmp_path):
    rng = np.random.default_rng(1)
    grey16 = rng.integers(0, 65536, size=(12, 9), dtype=np.uint16)
    col16 = rng.integers(0, 65536, size=(12, 9, 3), dtype=np.uint16)
    g = read_image(write_image(tmp_path / "g16.png", grey16))
    c = read_image(write_image(tmp_path / "c16.png", col16))
    assert g.dtype == np.uint16 and c.dtype == np.uint16
    np.testing.assert_array_equal(g, grey16)
    np.testing.assert_array_equal(c, col16)  # channel order preserved through OpenCV


def test_palette_and_rgba_are_expanded(tmp_path, rgb):
    Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE).save(tmp_path / "p.png")
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    p = read_image(tmp_path / "p.png")
    a = read_image(tmp_path / "a.png")
    assert p.shape == (20, 30, 3) and a.shape == (20, 30, 3)
    np.testing.assert_array_equal(a, rgb)  # alpha dropped, colour untouched


def test_exif_rotation_is_applied(tmp_path, rgb):
    im = Image.fromarray(rgb)
    exif = im.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    im.save(tmp_path / "r.jpg", exif=exif, quality=100)
    back = read_image(tmp_path / "r.jpg")
    assert back.shape == (30, 20, 3)
    # top-left of the upright image is the bottom-left of the stored one
    np.testing.assert_allclose(back[0, 0].astype(int), rgb[-1, 0].astype(int), atol=40)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"this is not an image at all", "not an image"),
    ],
)
def test_bad_files_are_named(tmp_path, content, message):
    path = tmp_path / "bad.png"
    path.write_bytes(content)
    with pytest.raises(ImageReadError) as err:
        read_image(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_truncated_jpeg(tmp_path, rgb):
    big = np.repeat(np.repeat(rgb, 8, 0), 8, 1)
    write_image(tmp_path / "t.jpg", big)
    data = (tmp_path / "t.jpg").read_bytes()
    (tmp_path / "t.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "t.jpg")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageReadError, match="does not exist"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(ImageReadError, match="folder"):
        read_image(tmp_path)


def test_write_refuses_inputs_and_missing_folders(tmp_path, rgb):
    src = write_image(tmp_path / "in.png", rgb)
    before = src.read_bytes()
    with pytest.raises(OutputPathError, match="same as an input"):
        write_image(src, rgb[::-1], inputs=[src])
    assert src.read_bytes() == before
    with pytest.raises(OutputPathError, match="mkdir -p"):
        write_image(tmp_path / "missing" / "out.png", rgb)


def test_write_is_atomic_on_failure(tmp_path, rgb):
    target = write_image(tmp_path / "keep.png", rgb)
    before = target.read_bytes()
    with pytest.raises(InvalidInputError):
        write_image(target, np.zeros((4, 4, 5), np.uint8))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]  # no temp file left behind


def test_float_conversions():
    x = np.array([0, 128, 255], np.uint8)
    f = to_float(x)
    assert f.dtype == np.float32 and f[2] == 1.0
    np.testing.assert_array_equal(from_float(f, np.uint8), x)
    assert from_float(np.array([-0.5, 1.5], np.float32), np.uint16).tolist() == [0, 65535]
    with pytest.raises(InvalidInputError):
        to_float(np.zeros(3, np.int64))


def test_list_images_recursive_and_explicit(tmp_path, rgb):
    (tmp_path / "sub").mkdir()
    write_image(tmp_path / "sub" / "b.jpg", rgb)
    write_image(tmp_path / "a.png", rgb)
    (tmp_path / "notes.txt").write_text("x")
    found = list_images([tmp_path])
    assert [p.name for p in found] == ["a.png", "b.jpg"]
    assert list_images([tmp_path / "notes.txt"]) == [tmp_path / "notes.txt"]


def test_error_messages_say_what_to_do():
    err = UnknownNameError("method", "wienr", ["wiener", "bm3d"])
    assert "did you mean 'wiener'" in str(err) and "wienr" in str(err)
    dep = MissingDependencyError("openvino", "openvino", "the OpenVINO backend")
    assert "pip install 'edgedeblur[openvino]'" in str(dep)
    assert isinstance(dep, ImportError) and isinstance(dep, EdgeDeblurError)


def test_atomic_write_takes_bytes_text_a_callback_or_a_folder(tmp_path) -> None:  # noqa: ANN001
    from edgedeblur.io import atomic_write

    assert atomic_write(tmp_path / "a.bin", b"\x00\x01").read_bytes() == b"\x00\x01"
    assert atomic_write(tmp_path / "a.txt", "héllo\n").read_text(encoding="utf-8") == "héllo\n"

    def fails(tmp) -> None:  # noqa: ANN001 - writes half, then breaks
        (tmp / "z" if tmp.is_dir() else tmp).write_text("half")
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):  # the old file stays, the temporary goes
        atomic_write(tmp_path / "a.txt", fails)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "héllo\n"
    folder = tmp_path / "ckpt"
    atomic_write(folder, lambda tmp: (tmp / "x").write_text("1"), folder=True)
    atomic_write(folder, lambda tmp: (tmp / "y").write_text("2"), folder=True)  # replaces the folder
    assert sorted(p.name for p in folder.iterdir()) == ["y"]
    with pytest.raises(RuntimeError):
        atomic_write(folder, fails, folder=True)
    assert sorted(p.name for p in folder.iterdir()) == ["y"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.bin", "a.txt", "ckpt"]
