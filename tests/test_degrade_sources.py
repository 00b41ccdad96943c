"""Image sources: photo folders, random crops, dead leaves and the seeded patch sampler."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from PIL import Image

from edgedeblur.degrade import (
    FolderSource,
    PatchSampler,
    dead_leaves,
    paper_awgn,
    parse_degradation,
    random_crop,
)
from edgedeblur.errors import ConfigError, InvalidInputError

cv2 = pytest.importorskip("cv2")
cv2.setNumThreads(1)


@pytest.fixture()
def photo_folder(tmp_path, shared_data):
    """Three real training photos (one as grey PNG in a sub-folder) and one corrupt file."""
    files = sorted((shared_data / "train" / "bsds500_train").glob("*.jpg"))[:3]
    shutil.copy(files[0], tmp_path / "a.jpg")
    shutil.copy(files[1], tmp_path / "b.jpg")
    (tmp_path / "sub").mkdir()
    Image.open(files[2]).convert("L").save(tmp_path / "sub" / "c.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    return tmp_path


def test_folder_source_reads_recursively(photo_folder) -> None:
    src = FolderSource(photo_folder)
    assert len(src) == 4
    names = [p.name for p in src.paths]
    assert names == ["a.jpg", "b.jpg", "broken.png", "c.png"]
    a = src[0]
    assert a.dtype == np.float32 and a.ndim == 3 and 0 <= a.min() and a.max() <= 1
    assert src[3].ndim == 2  # grey stays grey


def test_folder_source_bad_folders(tmp_path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        FolderSource(tmp_path / "nope")
    with pytest.raises(InvalidInputError, match="no images"):
        FolderSource(tmp_path)


def test_random_crop_at_full_scale_is_a_window_of_the_image() -> None:
    h, w = 60, 80
    image = (np.arange(h * w, dtype=np.float64).reshape(h, w) / (h * w)).astype(np.float32)
    crop = random_crop(image, 16, 3, scales=(1.0, 1.0), flips=False, rotations=False)
    y, x = np.argwhere(image == crop[0, 0])[0]
    assert np.array_equal(crop, image[y: y + 16, x: x + 16])
    crops = {random_crop(image, 16, s, scales=(1.0, 1.0)).tobytes() for s in range(20)}
    assert len(crops) == 20


def test_random_crop_shapes_scales_and_too_small() -> None:
    image = np.random.default_rng(0).uniform(size=(100, 150, 3)).astype(np.float32)
    for seed in range(10):
        crop = random_crop(image, (32, 48), seed, scales=(0.3, 1.0))
        assert crop.shape == (32, 48, 3) and crop.dtype == np.float32
    u8 = (image * 255).astype(np.uint8)
    assert random_crop(u8, 20, 0).dtype == np.float32
    with pytest.raises(InvalidInputError, match="smaller than the crop"):
        random_crop(image, 128, 0)
    with pytest.raises(ConfigError):
        random_crop(image, 16, 0, scales=(0.0, 1.0))


def test_dead_leaves_statistics() -> None:
    a = dead_leaves(128, 5)
    assert a.shape == (128, 128, 3) and a.dtype == np.float32
    assert np.array_equal(a, dead_leaves(128, 5))
    assert not np.array_equal(a, dead_leaves(128, 6))
    colours = np.unique((a * 255).round().astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 50
    grad = np.abs(np.diff(a, axis=1)).max(axis=2)
    assert 0.02 < (grad > 0.2).mean() < 0.5  # many sharp edges, but mostly flat leaves
    assert dead_leaves((40, 60), 0).shape == (40, 60, 3)


def test_patch_sampler_is_a_function_of_seed_and_index(photo_folder) -> None:
    spec = parse_degradation("shake:size=15|defocus:radius=1-3", "gaussian:sigma=0-5")
    one = PatchSampler(photo_folder, spec, 64, seed=7, kernel_size=15, length=12)
    two = PatchSampler(FolderSource(photo_folder), spec, 64, seed=7, kernel_size=15, length=12)
    patches = list(one)
    assert len(patches) == 12
    for i in (0, 5, 11):
        assert patches[i].degraded.tobytes() == two[i].degraded.tobytes()
        assert patches[i].clean.tobytes() == two[i].clean.tobytes()
    assert patches[0].degraded.tobytes() != patches[1].degraded.tobytes()
    for p in patches:
        assert p.clean.shape == p.degraded.shape == (64, 64, 3)
        assert p.kernel.shape == (15, 15) and abs(float(p.kernel.sum()) - 1) < 1e-5
    assert list(one.bad_files) == [photo_folder / "broken.png"]
    assert "broken.png" in next(iter(one.bad_files.values()))


def test_patch_sampler_grey_dead_leaves_and_bad_setup(photo_folder) -> None:
    grey = PatchSampler(photo_folder, paper_awgn(25), 48, channels=1, dead_leaves=0.5, seed=1)
    for i in range(6):
        p = grey[i]
        assert p.clean.shape == (48, 48) and p.degraded.shape == (48, 48)
    only_leaves = PatchSampler(None, parse_degradation("gaussian:sigma=1"), 32, dead_leaves=1.0)
    assert only_leaves[0].clean.shape == (32, 32, 3)
    with pytest.raises(ConfigError, match="no image sources"):
        PatchSampler(None, paper_awgn(25), 32)
    with pytest.raises(ConfigError, match="larger than kernel_size"):
        PatchSampler(photo_folder, parse_degradation("shake:size=31"), 64, kernel_size=15)[0]
    with pytest.raises(InvalidInputError, match="20 tries"):
        PatchSampler(photo_folder, paper_awgn(5), 2000)[0]
