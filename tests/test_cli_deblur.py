"""``edge-deblur`` end to end, in-process, on tiny images in tmp_path: good and bad paths."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgedeblur.cli.deblur import DEFAULT_METHODS, default_method, main
from edgedeblur.io import read_image


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("EDGEDEBLUR_FFT_WORKERS", "1")


def photo(h: int = 40, w: int = 48, channels: int = 3, seed: int = 0) -> np.ndarray:
    """A smooth test picture with edges (gradients + a square), uint8."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 0.3 + 0.4 * (xx / w) * (yy / h)
    base[h // 4 : h // 2, w // 4 : w // 2] += 0.3
    rng = np.random.default_rng(seed)
    planes = [np.clip(base + 0.02 * c + rng.normal(0, 0.02, base.shape), 0, 1) for c in range(channels)]
    img = np.stack(planes, -1) if channels == 3 else planes[0]
    return (img * 255).astype(np.uint8)


def save(path: Path, pixels: np.ndarray, **kwargs: object) -> Path:
    Image.fromarray(pixels).save(path, **kwargs)
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def kernel_file(tmp_path: Path) -> Path:
    k = np.zeros((5, 5), np.float32)
    k[2, :] = 1.0 / 5  # horizontal motion blur
    path = tmp_path / "psf.npy"
    np.save(path, k)
    return path


def test_colour_with_kernel_defaults_to_the_deblur_pipeline(tmp_path, kernel_file, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo())
    before = digest(src)
    code = main([str(src), "-o", str(tmp_path / "out"), "--kernel", str(kernel_file), "--sigma", "2.55"])
    assert code == 0
    out = read_image(tmp_path / "out" / "a.png")
    assert out.dtype == np.uint8 and out.shape == (40, 48, 3)
    assert digest(src) == before
    err = capsys.readouterr().err
    assert "deblur" in err and "s/MP" in err and "1/1 images done" in err
    assert "a.png: PSF given; data step in " in err  # linear=auto says which domain it chose
    assert default_method(True) == DEFAULT_METHODS["with_kernel"] == "deblur"
    assert default_method(False) == DEFAULT_METHODS["without_kernel"] == "deblur"


def test_grey_denoise_with_nlm(tmp_path) -> None:  # noqa: ANN001
    clean = photo(channels=1)
    rng = np.random.default_rng(1)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    src = save(tmp_path / "g.png", noisy)
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", "nlm-opencv", "--sigma", "25", "-q"]) == 0
    out = read_image(tmp_path / "out" / "g.png")
    assert out.shape == clean.shape and out.dtype == np.uint8
    err_in = np.abs(noisy.astype(float) - clean).mean()
    err_out = np.abs(out.astype(float) - clean).mean()
    assert err_out < 0.7 * err_in


def test_bm3d_estimates_sigma_when_not_given(tmp_path, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "n.png", photo(32, 32, channels=1))
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", "bm3d"]) == 0
    assert (tmp_path / "out" / "n.png").exists()
    err = capsys.readouterr().err
    assert "bm3d" in err and "estimates the noise level" in err


def test_default_without_kernel_denoises_a_sharp_noisy_photo(tmp_path, capsys, shared_data) -> None:  # noqa: ANN001
    pytest.importorskip("torch")
    clean = read_image(shared_data / "eval" / "cbsd68" / sorted(
        p.name for p in (shared_data / "eval" / "cbsd68").iterdir())[0])[:96, :128]
    rng = np.random.default_rng(3)
    noisy = np.clip(clean + rng.normal(0, 25, clean.shape), 0, 255).astype(np.uint8)
    src = save(tmp_path / "n.png", noisy)
    assert main([str(src), "-o", str(tmp_path / "out")]) == 0
    out = read_image(tmp_path / "out" / "n.png")

    def psnr(a: np.ndarray) -> float:
        return float(10 * np.log10(255.0**2 / np.mean((a.astype(float) - clean) ** 2)))

    err = capsys.readouterr().err
    assert "deblur" in err and "n.png: PSF" in err  # the summary says where the PSF came from
    assert psnr(out) > psnr(noisy) + 4.0  # the shipped weights really denoise


def test_save_kernel_writes_the_psf_used(tmp_path, kernel_file, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo(64, 64))
    out = tmp_path / "out"
    assert main([str(src), "-o", str(out), "--kernel", str(kernel_file), "--save-kernel", "-q"]) == 0
    saved = np.load(out / "a.kernel.npy")
    np.testing.assert_allclose(saved, np.load(kernel_file), atol=1e-7)
    assert read_image(out / "a.kernel.png").ndim == 2
    # a method without a PSF: a usage error before anything is written
    assert main([str(src), "-o", str(tmp_path / "o2"), "-m", "wiener", "-k", str(kernel_file),
                 "--save-kernel"]) == 2
    assert "--save-kernel needs a PSF-aware method" in capsys.readouterr().err
    assert not (tmp_path / "o2" / "a.png").exists()


def test_deblur_refuses_noise_outside_the_prior_range(tmp_path, kernel_file, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo(64, 64))
    assert main([str(src), "-o", str(tmp_path / "out"), "-k", str(kernel_file), "--sigma", "40"]) == 1
    err = capsys.readouterr().err
    assert "a.png" in err and "trained for" in err and "0-15" in err
    assert not (tmp_path / "out" / "a.png").exists()


@pytest.mark.parametrize("channels", [1, 3])
def test_16_bit_stays_16_bit(tmp_path, kernel_file, channels: int) -> None:  # noqa: ANN001
    cv2 = pytest.importorskip("cv2")
    pixels = photo(channels=channels).astype(np.uint16) * 257 + 3
    src = tmp_path / "deep.png"
    cv2.imwrite(str(src), pixels if channels == 1 else pixels[..., ::-1])
    assert main([str(src), "-o", str(tmp_path / "out"), "-k", str(kernel_file), "-q"]) == 0
    out = read_image(tmp_path / "out" / "deep.png")
    assert out.dtype == np.uint16 and out.shape == pixels.shape
    assert len(np.unique(out)) > 256  # really 16-bit values, not 8-bit ones scaled up


def test_exif_rotated_photo_is_written_upright(tmp_path) -> None:  # noqa: ANN001
    pixels = photo(30, 50)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    src = tmp_path / "rot.jpg"
    Image.fromarray(pixels).save(src, exif=exif, quality=95)
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", "identity", "-q"]) == 0
    out = read_image(tmp_path / "out" / "rot.png")
    assert out.shape == (50, 30, 3)  # upright: width and height swapped
    np.testing.assert_array_equal(out, read_image(src))


def test_palette_and_rgba_images_work(tmp_path) -> None:  # noqa: ANN001
    rgb = photo()
    rgb[..., 0] = np.clip(rgb[..., 0].astype(int) + 80, 0, 255)  # clearly coloured
    pal = tmp_path / "pal.png"
    Image.fromarray(rgb).quantize(64).save(pal)
    rgba_pixels = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    rgba = save(tmp_path / "rgba.png", rgba_pixels)
    code = main([str(pal), str(rgba), "-o", str(tmp_path / "out"), "-m", "nlm-opencv", "-s", "10", "-q"])
    assert code == 0
    assert read_image(tmp_path / "out" / "pal.png").shape == (40, 48, 3)
    assert read_image(tmp_path / "out" / "rgba.png").shape == (40, 48, 3)


def test_folder_is_mirrored_with_suffix_and_format(tmp_path) -> None:  # noqa: ANN001
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    save(root / "top.png", photo())
    save(root / "sub" / "deep.jpg", photo(seed=2))
    (root / "notes.txt").write_text("not an image, skipped inside folders")
    code = main([str(root), "-o", str(tmp_path / "out"), "-m", "identity", "--suffix", "_r",
                 "--format", "tif", "-q"])
    assert code == 0
    assert (tmp_path / "out" / "top_r.tif").exists()
    assert (tmp_path / "out" / "sub" / "deep_r.tif").exists()


def test_output_folder_inside_the_input_folder_is_not_reprocessed(tmp_path) -> None:  # noqa: ANN001
    root = tmp_path / "in"
    root.mkdir()
    save(root / "a.png", photo())
    for _ in range(2):  # the second run must not pick up in/out/a.png as an input
        assert main([str(root), "-o", str(root / "out"), "-m", "identity", "-q"]) == 0
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.png")) == ["a.png", "out/a.png"]


def test_bad_files_are_reported_and_the_batch_goes_on(tmp_path, capsys) -> None:  # noqa: ANN001
    good = save(tmp_path / "good.png", photo())
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    full = (tmp_path / "good.png").read_bytes()
    truncated = tmp_path / "truncated.png"
    truncated.write_bytes(full[: len(full) // 2])
    text = tmp_path / "readme.txt"
    text.write_text("hello")
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 4)
    missing = tmp_path / "missing.png"
    inputs = [good, empty, truncated, text, garbage, missing]
    hashes = {p: digest(p) for p in inputs if p.exists()}
    code = main([*map(str, inputs), "-o", str(tmp_path / "out"), "-m", "identity", "-q"])
    assert code == 1
    assert (tmp_path / "out" / "good.png").exists()
    err = capsys.readouterr().err
    assert "1/6 images done" in err
    for bad in (empty, truncated, text, garbage, missing):
        assert f"FAILED {bad}" in err
    assert "empty" in err and "not an image" in err and "does not exist" in err
    assert {p: digest(p) for p in hashes} == hashes


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        (np.array([[0.2, np.nan, 0.3]], np.float32), "NaN"),
        (np.array([[-1.0, 0.0, 0.2]], np.float32), "negative"),
        (np.zeros((0, 0), np.float32), "empty|zero size"),
        (np.full((3, 3), 1 / 9 + 0.5j, np.complex64), "complex-valued"),
        (np.ones((3, 3), bool), "not numeric"),
        (np.ones((3, 3, 2), np.float32), "2-D"),
        (np.zeros((3, 3), np.float32), "sums to zero"),
        (np.full((3, 3), np.inf, np.float64), "NaN or inf"),
    ],
)
@pytest.mark.parametrize("method", ["wiener", "deblur"])
def test_bad_kernel_is_refused_naming_the_file(tmp_path, capsys, kernel, message: str, method: str) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo())
    bad = tmp_path / "bad_psf.npy"
    np.save(bad, kernel)
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", method, "--kernel", str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err
    assert any(m in err for m in message.split("|"))
    assert len(err.strip().splitlines()) == 1  # one line: file, what, what is allowed
    assert not (tmp_path / "out").exists()  # nothing written, not even the folder


@pytest.mark.parametrize("method", ["wiener", "richardson-lucy", "deblur"])
def test_kernel_larger_than_the_image_is_refused_naming_both_files(tmp_path, capsys, method: str) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo(40, 48))
    big = tmp_path / "big_psf.npy"
    np.save(big, np.full((41, 9), 1 / 369, np.float32))  # taller than the photo
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", method, "--kernel", str(big), "--sigma", "2"]) == 1
    failed = [line for line in capsys.readouterr().err.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and str(src) in failed[0] and str(big) in failed[0]
    assert "kernel is larger than the image" in failed[0] and "41 x 9 kernel for a 40 x 48 image" in failed[0]
    assert not list((tmp_path / "out").iterdir())
    fits = tmp_path / "fits.npy"
    np.save(fits, np.full((39, 9), 1 / 351, np.float32))  # nearly as tall as the photo: accepted
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", "wiener", "-k", str(fits), "-s", "2", "-q"]) == 0


def test_missing_kernel_file_and_missing_kernel(tmp_path, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo())
    assert main([str(src), "-o", str(tmp_path / "o"), "-k", str(tmp_path / "nope.npy")]) == 2
    assert "nope.npy" in capsys.readouterr().err
    assert main([str(src), "-o", str(tmp_path / "o"), "-m", "richardson-lucy"]) == 2
    assert "needs the blur kernel" in capsys.readouterr().err


def test_output_folder_rules(tmp_path, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo())
    deep = tmp_path / "no" / "such" / "out"
    assert main([str(src), "-o", str(deep), "-m", "identity"]) == 2
    err = capsys.readouterr().err
    assert "mkdir -p" in err and str(deep) in err
    assert not deep.parent.exists()
    assert main([str(src), "-o", str(src), "-m", "identity"]) == 2  # a file, not a folder
    assert "not a folder" in capsys.readouterr().err
    assert main([str(src), "-m", "identity"]) == 2
    assert "-o OUT" in capsys.readouterr().err
    created = tmp_path / "new"
    assert main([str(src), "-o", str(created), "-m", "identity", "-q"]) == 0
    assert (created / "a.png").exists()


def test_output_equal_to_input_is_refused(tmp_path, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "a.png", photo())
    before = digest(src)
    assert main([str(src), "-o", str(tmp_path), "-m", "identity", "-q"]) == 1
    err = capsys.readouterr().err
    assert "never overwrites inputs" in err and str(src) in err
    assert digest(src) == before
    # with a suffix the same folder is fine
    assert main([str(src), "-o", str(tmp_path), "-m", "identity", "--suffix", "_r", "-q"]) == 0
    assert (tmp_path / "a_r.png").exists() and digest(src) == before


def test_colliding_outputs_are_refused(tmp_path, capsys) -> None:  # noqa: ANN001
    a = save(tmp_path / "x.png", photo())
    b = save(tmp_path / "x.jpg", photo(seed=3))
    assert main([str(a), str(b), "-o", str(tmp_path / "out"), "-m", "identity", "-q"]) == 1
    assert "would overwrite the output of" in capsys.readouterr().err


def test_16_bit_to_jpeg_is_a_clear_error(tmp_path, capsys) -> None:  # noqa: ANN001
    src = tmp_path / "deep.png"
    Image.fromarray(photo(channels=1).astype(np.uint16) * 257).save(src)
    assert main([str(src), "-o", str(tmp_path / "out"), "-m", "identity", "--format", "jpg", "-q"]) == 1
    assert "16-bit" in capsys.readouterr().err


def test_usage_errors(tmp_path, capsys, monkeypatch) -> None:  # noqa: ANN001
    # listing zoo names for the suggestion imports torch (seconds); the classical names suffice
    monkeypatch.setattr("edgedeblur.methods._zoo_names", lambda: [])
    src = save(tmp_path / "a.png", photo())
    assert main([str(src), "-o", str(tmp_path / "o"), "-m", "weiner"]) == 2
    assert "did you mean 'wiener'" in capsys.readouterr().err
    assert main([str(src), "-o", str(tmp_path / "o"), "-m", "bm3d", "-O", "profile"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err
    assert main([str(src), "-o", str(tmp_path / "o"), "-m", "bm3d", "--sigma", "-3"]) == 2
    assert "sigma" in capsys.readouterr().err
    assert main(["-o", str(tmp_path / "o")]) == 2


def test_help_and_list_methods(capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--kernel" in out and "0-255" in out
    assert main(["--list-methods"]) == 0
    listed = capsys.readouterr().out.split()
    assert "wiener" in listed and "bm3d" in listed


def _write_video(path: Path, frames: int = 5, size: tuple[int, int] = (48, 32)) -> None:
    cv2 = pytest.importorskip("cv2")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    rng = np.random.default_rng(0)
    for _ in range(frames):
        writer.write(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    writer.release()


def test_video_file_is_restored_frame_by_frame(tmp_path, capsys) -> None:  # noqa: ANN001
    cv2 = pytest.importorskip("cv2")
    src = tmp_path / "clip.avi"
    _write_video(src)
    before = digest(src)
    code = main([str(src), "-o", str(tmp_path / "out"), "-m", "nlm-opencv", "--sigma", "10", "-q"])
    assert code == 0, capsys.readouterr().err
    cap = cv2.VideoCapture(str(tmp_path / "out" / "clip.mp4"))
    count = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (32, 48, 3)
        count += 1
    assert count == 5 and digest(src) == before


def test_missing_camera_and_broken_video_are_reported(tmp_path, capsys) -> None:  # noqa: ANN001
    pytest.importorskip("cv2")
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    good = save(tmp_path / "a.png", photo(24, 24))
    code = main([str(good), str(broken), "97", "-o", str(tmp_path / "out"), "-m", "identity", "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert (tmp_path / "out" / "a.png").exists()  # the batch went on
    assert "broken.mp4" in err and "97" in err and "2 failed" in err


def _gyro_files(tmp_path: Path, h: int, w: int) -> tuple[Path, Path]:
    from edgedeblur.runtime.gyro import CameraModel, GyroLog, write_camera_json, write_gyro_csv

    t = np.arange(0.0, 1.0, 1 / 200)
    omega = np.tile([0.0, 0.15, 0.0], (t.size, 1))  # a slow pan: a short horizontal smear
    gyro, cam = tmp_path / "shot.gyro.csv", tmp_path / "shot.camera.json"
    write_gyro_csv(GyroLog(t, omega), gyro)
    write_camera_json(CameraModel(fx=300.0, fy=300.0, cx=w / 2, cy=h / 2, width=w, height=h,
                                  exposure_start=0.4, exposure_time=0.05, readout_time=0.01), cam)
    return gyro, cam


def test_gyro_log_gives_the_psf_per_region(tmp_path, capsys) -> None:  # noqa: ANN001
    pytest.importorskip("torch")
    src = save(tmp_path / "shot.png", photo(64, 96))
    gyro, cam = _gyro_files(tmp_path, 64, 96)
    out = tmp_path / "out"
    assert main([str(src), "-o", str(out), "--gyro", str(gyro), "--camera", str(cam), "--save-kernel"]) == 0
    assert read_image(out / "shot.png").shape == (64, 96, 3)
    k = np.load(out / "shot.kernel.npy")
    assert k.shape[1] > 1 and abs(float(k.sum()) - 1) < 1e-5
    assert "PSF from the gyroscope" in capsys.readouterr().err


def test_gyro_usage_errors(tmp_path, capsys) -> None:  # noqa: ANN001
    src = save(tmp_path / "shot.png", photo(64, 96))
    gyro, cam = _gyro_files(tmp_path, 64, 96)
    assert main([str(src), "-o", str(tmp_path / "o"), "--gyro", str(gyro)]) == 2
    assert "--gyro and --camera go together" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    lines = gyro.read_text().splitlines()
    bad.write_text("\n".join([lines[0], lines[3], lines[2], *lines[4:]]) + "\n")
    assert main([str(src), "-o", str(tmp_path / "o"), "--gyro", str(bad), "--camera", str(cam)]) == 2
    err = capsys.readouterr().err
    assert "bad.csv" in err
    assert not (tmp_path / "o" / "shot.png").exists()
