"""Model cards: the writer (models._cards) reproduces the shipped cards and its reader accepts them."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

from edgedeblur._machine import machine_summary  # noqa: E402
from edgedeblur.models import (  # noqa: E402
    build_card,
    card_path,
    list_models,
    read_card_file,
    training_info,
    write_card,
)
from edgedeblur.runtime import sha256_file  # noqa: E402

SHIPPED = [n for n in list_models() if card_path(n).is_file()]


def _inputs(card: dict) -> tuple[dict, float]:
    """What an evaluation gave for this card: every benchmark's numbers, the latency in s."""
    metrics = {k: {**v, "input_psnr": 20.0, "images": 3, "s_per_mp": 0.5}
               for k, v in card["metrics"].items() if k != "latency_720p_torch"}
    return metrics, card["metrics"]["latency_720p_torch"]["ms"] / 1000


@pytest.mark.parametrize("name", SHIPPED)
def test_the_writer_reproduces_each_shipped_card(name: str) -> None:
    text = card_path(name).read_text(encoding="utf-8")
    card = json.loads(text)
    metrics, latency = _inputs(card)
    date = dt.date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", card["notes"]).group())
    made = build_card(name, metrics, latency, card["trained"], weights_sha256=card["weights_sha256"],
                      search=card.get("search"), date=date)
    assert json.dumps(made, indent=2) + "\n" == text


def test_write_card_from_a_fixed_result(tmp_path: Path) -> None:
    weights = tmp_path / "w.safetensors"
    weights.write_bytes(b"not really weights")
    train = {"steps": 10, "wall_minutes": 1.0, "cpu_minutes": 0.9, "machine": "a CPU, 2 cores, load 1.0; torch x"}
    metrics = {"cbsd68_sigma25": {"psnr": 29.5, "ssim": 0.83, "input_psnr": 20.2, "images": 68, "s_per_mp": 1.0}}
    path = write_card("nasunet_xeon_denoise", metrics, 0.5512, train, path=tmp_path / "card.json", weights=weights)
    card = read_card_file(path, "nasunet_xeon_denoise")
    assert card["metrics"] == {"cbsd68_sigma25": {"psnr": 29.5, "ssim": 0.83}, "latency_720p_torch": {"ms": 551.2}}
    assert card["weights_sha256"] == sha256_file(weights) and card["trained"] == train
    assert card["recipe"] == "edgedeblur/train/recipes/nasunet_xeon_denoise.yaml"
    assert card["search"]["key"]  # a NAS entry's card records the search from its genome file
    assert dt.date.today().isoformat() in card["notes"]


def _run(folder: Path, **extra: object) -> Path:
    folder.mkdir(parents=True)
    summary = {"steps": 6000, "seconds": 600.0, "cpu_seconds": 540.0, "stopped_by": "steps",
               "final_val_psnr": 30.1, "device": "cpu", "threads": 1, "torch": "2.0",
               "recipe": {"train": {"max_minutes": 0, "steps": 6000, "lr": 0.002, "init": None},
                          "data": {"crop": 64, "batch": 8}}, **extra}
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_training_info_takes_the_machine_the_run_measured(tmp_path: Path) -> None:
    run = _run(tmp_path / "mnv2unet_s_denoise", machine="Some CPU, 2 of 8 cores, load 6.5")
    info = training_info("mnv2unet_s_denoise", tmp_path, recipes={"mnv2unet_s_denoise"}, repo=tmp_path)
    assert info is not None and info["machine"] == "Some CPU, 2 of 8 cores, load 6.5; torch 2.0"
    assert info["steps"] == 6000 and info["wall_minutes"] == 10.0 and info["cpu_minutes"] == 9.0
    assert info["recipe"] == "edgedeblur/train/recipes/mnv2unet_s_denoise.yaml"
    older = _run(tmp_path / "older")  # a run from before summaries measured the machine
    got = training_info("mnv2unet_s_denoise", tmp_path, older, repo=tmp_path)
    assert got is not None and got["machine"].startswith(machine_summary().split(", load")[0])
    assert "recipe" not in got and run.is_dir()
