"""Receptive field probed at export -> io.receptive_field -> the runner's overlap; the seam guarantee."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from test_runtime_artifacts import build_onnx

from edgedeblur.errors import ConfigError
from edgedeblur.runtime import load
from edgedeblur.runtime.manifest import Manifest, write_manifest
from edgedeblur.runtime.runner import DEFAULT_MAX_PIXELS, WHOLE_FRAME_BYTES_PER_PIXEL

torch = pytest.importorskip("torch")


def _stack(k: int) -> torch.nn.Module:
    layers = []
    for _ in range(k):
        conv = torch.nn.Conv2d(3, 3, 3, padding=1)
        torch.nn.init.constant_(conv.weight, 1 / 27)
        layers.append(conv)
    return torch.nn.Sequential(*layers).eval()


@pytest.mark.parametrize("k", [1, 4, 9])
def test_probe_finds_the_field_of_stacked_3x3_convs(k: int) -> None:
    from edgedeblur.export._receptive import probe_receptive_field

    field = probe_receptive_field(_stack(k), 3, 256, probe=64)
    assert field["radius"] == k and field["method"] == "gradient" and not field["truncated"]
    assert field["radius_50"] <= field["radius_90"] <= field["radius_99"] <= k
    assert field["overlap"] == 8


def test_overlap_rounds_up_to_8_and_stays_below_half_the_tile() -> None:
    from edgedeblur.export._receptive import overlap_from_field

    assert [overlap_from_field(r, 256) for r in (0, 8, 9, 17, 200)] == [8, 8, 16, 24, 127]
    assert overlap_from_field(40, 32) == 15


def _with_field(src: Path, overlap: int | None, tile: tuple[int, int] | None = None) -> Path:
    data = json.loads(Manifest.read(src).path.read_text())
    data["io"]["receptive_field"] = None if overlap is None else \
        {"method": "gradient", "radius": 40, "radius_50": overlap, "overlap": overlap}
    if tile is not None:
        data["io"]["tile"] = {"size": tile[0], "overlap": tile[1]}
    path = src.with_name(f"f{overlap}.manifest.json")
    data["artifact"]["file"] = src.name
    write_manifest(path, data)
    return path


def test_runner_takes_the_recorded_overlap_and_old_manifests_keep_32(tmp_path: Path) -> None:
    onnx = build_onnx(tmp_path, "dyn")
    with load(_with_field(onnx, 16)) as r:
        assert (r.tile, r.overlap) == (512, 16)
    with load(_with_field(onnx, None)) as r:  # a manifest from before the field was recorded
        assert (r.tile, r.overlap) == (512, 32)
    with load(_with_field(onnx, 40), tile=64) as r:  # kept below half the tile
        assert (r.tile, r.overlap) == (64, 31)


def test_memory_budget_sets_the_whole_frame_limit(tmp_path: Path) -> None:
    onnx = build_onnx(tmp_path, "dyn")
    with load(onnx) as r:
        assert r.max_pixels == DEFAULT_MAX_PIXELS >= 1920 * 1080  # a 1080p frame runs whole
    with load(onnx, memory_budget_mb=64) as r:
        assert r.max_pixels == 64 * 2**20 // WHOLE_FRAME_BYTES_PER_PIXEL
        assert r.batch == 1  # one 512-px tile already takes the budget
        img = np.random.default_rng(0).integers(0, 256, (600, 700, 3), dtype=np.uint8)
        tiled = r.restore(img)
    with load(onnx, max_pixels=10**9) as r:
        whole = r.restore(img)
    assert np.abs(tiled.astype(int) - whole.astype(int)).max() <= 1
    with pytest.raises(ConfigError):
        load(onnx, memory_budget_mb=0)


@pytest.fixture(scope="module")
def denoiser() -> torch.nn.Module:
    models = pytest.importorskip("edgedeblur.models")
    net = models.create_model("mnv2unet_m_denoise", pretrained=True).eval()
    return net.to_deploy() if hasattr(net, "to_deploy") else net


def test_seam_guarantee_at_the_probed_overlap(denoiser: torch.nn.Module, shared_data: Path) -> None:
    """Tiled (256-px tiles, the overlap probed from the field) vs whole: within 0.05 dB."""
    from edgedeblur.export._receptive import probe_receptive_field
    from edgedeblur.io import read_image
    from edgedeblur.metrics import psnr
    from edgedeblur.runtime.tiling import run_tiled

    torch.set_num_threads(1)
    overlap = probe_receptive_field(denoiser, 3, 256)["overlap"]
    assert 8 <= overlap <= 32

    def infer(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return denoiser(torch.from_numpy(batch).permute(0, 3, 1, 2)).permute(0, 2, 3, 1).numpy()

    rng = np.random.default_rng(0)
    for path in sorted((shared_data / "eval" / "cbsd68").glob("*.png"))[:2]:
        clean = read_image(path).astype(np.float32) / 255
        clean = clean[:clean.shape[0] // 16 * 16, :clean.shape[1] // 16 * 16]  # the net's multiple
        noisy = np.clip(clean + rng.normal(0, 25 / 255, clean.shape), 0, 1).astype(np.float32)
        whole = np.clip(infer(noisy[None])[0], 0, 1)
        tiled = np.empty_like(noisy)
        run_tiled(noisy, infer, tiled, 256, overlap, prepare=lambda t: t, finish=lambda r: np.clip(r, 0, 1))
        assert abs(psnr(clean, whole) - psnr(clean, tiled)) <= 0.05
