"""Calibration source: seeded real patches, held-out split, clear errors, quantizer adapters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgedeblur.calibration import (
    CalibrationSource,
    check_method,
    default_calibration_dir,
    default_degrader,
    litert_dataset,
    nncf_dataset,
    ort_reader,
)
from edgedeblur.errors import ConfigError, ImageReadError, InvalidInputError, UnknownNameError


def _photos(folder: Path, n: int, size: int = 80, seed: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        Image.fromarray(rng.integers(0, 256, (size, size + 10, 3), dtype=np.uint8)).save(folder / f"p{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> Path:
    return _photos(tmp_path_factory.mktemp("calib"), 14)


def test_patches_are_seeded_shaped_and_held_out_images_are_disjoint(photos):
    a = CalibrationSource(photos, images=10, heldout=4, patch=64, seed=3)
    b = CalibrationSource(photos, images=10, heldout=4, patch=64, seed=3)
    c = CalibrationSource(photos, images=10, heldout=4, patch=64, seed=4)
    assert len(a.calib) == 10 and len(a.heldout_patches) == 4
    x = a.calib_batches()
    assert x[0].shape == (1, 3, 64, 64) and x[0].dtype == np.float32
    assert a.calib_batches("NHWC")[0].shape == (1, 64, 64, 3)
    assert all(np.array_equal(p, q) for p, q in zip(x, b.calib_batches(), strict=True))
    assert not np.array_equal(x[0], c.calib_batches()[0])
    assert not {p.source for p in a.calib} & {p.source for p in a.heldout_patches}
    for p in a.calib:
        assert 0.0 <= p.degraded.min() and p.degraded.max() <= 1.0
        assert np.abs(p.degraded - p.clean).mean() > 0.005  # degraded, not a copy


def test_default_denoise_degradation_noise_level():
    rng = np.random.default_rng(0)
    clean = np.full((64, 64, 3), 0.5, np.float32)
    sigmas = [float(np.std(default_degrader("denoise")(clean, rng) - clean)) * 255 for _ in range(20)]
    assert 4 < min(sigmas) and max(sigmas) < 51


def test_too_few_images_names_the_folder(photos):
    with pytest.raises(InvalidInputError, match="too few calibration images") as e:
        CalibrationSource(photos, images=12, heldout=8, patch=64).calib  # noqa: B018
    assert str(photos) in str(e.value) and "--calib-images" in str(e.value)
    with pytest.raises(InvalidInputError, match="at least|>= 8"):
        CalibrationSource(photos, images=2)


def test_unreadable_and_small_images_are_reported(tmp_path):
    folder = _photos(tmp_path / "mixed", 9)
    for i in range(3):
        (folder / f"bad{i}.png").write_bytes(b"not a png")
    _photos(tmp_path / "mixed" / "small", 2, size=20, seed=1)
    with pytest.raises(ImageReadError, match="too few usable") as e:
        CalibrationSource(folder, images=8, heldout=4, patch=64).calib  # noqa: B018
    assert "skipped" in str(e.value)


def test_missing_folder_and_no_default(tmp_path, monkeypatch):
    with pytest.raises(ConfigError, match="does not exist"):
        CalibrationSource(tmp_path / "nope")
    monkeypatch.delenv("EDGEDEBLUR_CALIB_DIR", raising=False)
    monkeypatch.delenv("EDGEDEBLUR_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    assert default_calibration_dir() is None
    with pytest.raises(ConfigError, match="--calib-dir"):
        CalibrationSource(None)
    monkeypatch.setenv("EDGEDEBLUR_CALIB_DIR", str(tmp_path))
    assert default_calibration_dir() == tmp_path


def test_check_method():
    assert check_method("percentile", ("minmax", "percentile"), "t") == "percentile"
    with pytest.raises(ConfigError, match="--calib-method minmax"):
        check_method("entropy", ("minmax",), "tflite-int8")
    with pytest.raises(UnknownNameError, match="minmax"):
        check_method("minmx", ("minmax",), "t")


def test_adapters_yield_the_same_patches(photos):
    src = CalibrationSource(photos, images=8, heldout=2, patch=32)
    reader = ort_reader(src, "input")
    first = [reader.get_next() for _ in range(9)]
    assert first[-1] is None and all(d["input"].shape == (1, 3, 32, 32) for d in first[:-1])
    reader.rewind()
    assert np.array_equal(reader.get_next()["input"], first[0]["input"])
    lite = litert_dataset(src, "args_0")
    assert len(lite["serving_default"]) == 8
    np.testing.assert_array_equal(lite["serving_default"][0]["args_0"], first[0]["input"].transpose(0, 2, 3, 1))
    assert len(list(nncf_dataset(src).get_inference_data())) == 8


def test_recipe_degradation_is_used_for_zoo_models(shared_data):
    src = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=64, task="denoise",
                            recipe="mnv2unet_s_denoise")
    assert src.describe()["degradation"].startswith("recipe mnv2unet_s_denoise")
    fallback = CalibrationSource(shared_data / "train", images=8, heldout=2, patch=64, task="deblur",
                                 recipe="no_such_model")
    assert fallback.describe()["degradation"].startswith("default for deblur")
