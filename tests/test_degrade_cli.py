"""edge-degrade: good batches, a corrupt file in the batch, bad specs, reproducibility."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from edgedeblur.cli.degrade import main
from edgedeblur.degrade import reproduce
from edgedeblur.io import read_image

cv2 = pytest.importorskip("cv2")
cv2.setNumThreads(1)


@pytest.fixture()
def clean_folder(tmp_path, shared_data):
    src = tmp_path / "clean"
    (src / "grey").mkdir(parents=True)
    for path in sorted((shared_data / "eval" / "set3c").glob("*.png"))[:2]:
        shutil.copy(path, src / path.name)
    shutil.copy(shared_data / "eval" / "set12" / "01.png", src / "grey" / "01.png")
    (src / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    return src


def test_batch_writes_images_kernels_sidecars_and_reports_the_bad_file(clean_folder, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    code = main([str(clean_folder), str(out), "--blur", "shake:size=21", "--noise", "gaussian:sigma=2",
                 "--seed", "5"])
    err = capsys.readouterr().err
    assert code == 1
    assert "3/4 images done" in err and "corrupt.jpg" in err
    for rel in ("butterfly", "leaves", "grey/01"):
        image = read_image(out / f"{rel}.png")
        source = read_image(clean_folder / f"{rel}.png")
        assert image.shape == source.shape and image.dtype == np.uint8
        kernel = np.load(out / f"{rel}.kernel.npy")
        assert kernel.shape == (21, 21) and abs(float(kernel.sum()) - 1) < 1e-5
        assert (out / f"{rel}.kernel.png").is_file()
        side = json.loads((out / f"{rel}.json").read_text())
        assert side["seed"] == 5 and side["spec"]["blur"] == "shake:size=21"
        again = reproduce(out / f"{rel}.json")
        assert np.array_equal((again.degraded * 255 + 0.5).astype(np.uint8), image)
        assert np.array_equal(again.kernel, kernel)
        assert np.abs(image.astype(int) - source.astype(int)).mean() > 1  # it really was degraded
    assert not (out / "corrupt.png").exists()
    assert not list(out.rglob(".*"))  # no temporary files left behind


def test_same_seed_same_files_and_per_file_seeds(clean_folder, tmp_path) -> None:
    args = ["--blur", "motion:length=5-15,angle=0-180", "--noise", "poisson-gaussian", "--jpeg", "90"]
    main([str(clean_folder / "leaves.png"), str(tmp_path / "one"), *args])
    main([str(clean_folder), str(tmp_path / "two"), *args])
    main([str(clean_folder), str(tmp_path / "three"), *args, "--seed", "1"])
    a = (tmp_path / "one" / "leaves.png").read_bytes()
    assert a == (tmp_path / "two" / "leaves.png").read_bytes()  # batch membership does not matter
    assert a != (tmp_path / "three" / "leaves.png").read_bytes()


def test_paper_protocol_saves_unclipped_float(clean_folder, tmp_path) -> None:
    out = tmp_path / "paper"
    assert main([str(clean_folder / "grey"), str(out), "--noise", "gaussian:sigma=25", "--protocol", "paper"]) == 0
    noisy = np.load(out / "01.npy")
    clean = read_image(clean_folder / "grey" / "01.png").astype(np.float32) / 255
    assert (noisy - clean).std() * 255 == pytest.approx(25, rel=0.03)
    assert noisy.min() < 0 or noisy.max() > 1
    assert np.array_equal(np.load(out / "01.kernel.npy"), np.ones((1, 1), np.float32))


def test_srgb_protocol_noise_has_sigma_in_the_file(clean_folder, tmp_path) -> None:
    out = tmp_path / "srgb"
    assert main([str(clean_folder / "grey"), str(out), "--noise", "gaussian:sigma=10", "--protocol", "srgb"]) == 0
    noisy = read_image(out / "01.png").astype(np.float64)
    clean = read_image(clean_folder / "grey" / "01.png").astype(np.float64)
    inside = (clean > 40) & (clean < 215)  # away from clipping
    assert (noisy - clean)[inside].std() == pytest.approx(np.sqrt(10**2 + 1 / 12), rel=0.04)
    assert json.loads((out / "01.json").read_text())["drawn"]["domain"] == "srgb"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--blur", "shakey"], "unknown blur kind"),
        (["--noise", "gaussian:sigma=x"], "number or a range"),
        (["--jpeg", "500"], "JPEG quality out of range"),
        ([], "nothing to do"),
        (["--noise", "gaussian:sigma=5", "--jpeg", "90", "--protocol", "paper"], "cannot be used"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(clean_folder, tmp_path, capsys, extra, message: str) -> None:
    assert main([str(clean_folder), str(tmp_path / "out"), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_bad_folders_exit_2(clean_folder, tmp_path, capsys) -> None:
    assert main([str(clean_folder), str(clean_folder / "out"), "--blur", "defocus"]) == 2
    assert "source folder" in capsys.readouterr().err
    assert main([str(tmp_path / "missing"), str(tmp_path / "out"), "--blur", "defocus"]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([str(empty), str(tmp_path / "out"), "--blur", "defocus"]) == 2
    assert "no images" in capsys.readouterr().err


def test_help_explains_spec_forms(capsys) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    assert "blur specs" in text and "poisson-gaussian" in text and "--protocol" in text
