"""Writing the measured model cards (``cards/<name>.json``), next to their reader.

:func:`~edgedeblur.models.read_card_file` (in ``_registry``) reads and checks a card;
:func:`write_card` writes one from an evaluation's numbers (``benchmarks/zoo_eval.py`` measures
them) and the record of the training run that made the shipped weights
(:func:`training_info`, read from the run folders ``edge-train`` writes).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

from .._machine import machine_summary
from ..io import atomic_write
from ..runtime.manifest import sha256_file
from ._registry import card_path, weights_path
from .nasunet import GENOMES_DIR

__all__ = ["build_card", "write_card", "training_info"]

#: The source checkout (recipes name earlier training stages relative to it).
REPO = Path(__file__).resolve().parents[2]
_MAX_STAGES = 8


def build_card(name: str, metrics: dict[str, dict[str, Any]], latency_s: float, train: dict | None, *,
               weights_sha256: str, search: dict | None = None, date: dt.date | None = None) -> dict[str, Any]:
    """The card of ``name`` as a JSON object.

    ``metrics``: benchmark name -> the evaluation's numbers (``psnr`` and ``ssim`` are kept);
    ``latency_s``: the PyTorch deploy model on one 1280x720 frame; ``train``: the training
    record (:func:`training_info`); ``search``: how edge-nas found a NAS entry.
    """
    flat: dict[str, dict[str, float]] = {k: {"psnr": v["psnr"], "ssim": v["ssim"]} for k, v in metrics.items()}
    flat["latency_720p_torch"] = {"ms": round(latency_s * 1000, 1)}
    card: dict[str, Any] = {
        "name": name,
        "metrics": flat,
        "recipe": (train or {}).get("recipe") or f"edgedeblur/train/recipes/{name}.yaml",
        "weights_sha256": weights_sha256,
        "trained": train or {},
        "notes": ("Measured by benchmarks/zoo_eval.py on " + (date or dt.date.today()).isoformat() +
                  "; CPU-budget training, see docs/zoo_results.md for the protocol."),
    }
    if search is not None:
        card["search"] = search
    return card


def write_card(name: str, metrics: dict[str, dict[str, Any]], latency_s: float, train: dict | None, *,
               path: str | Path | None = None, weights: str | Path | None = None) -> Path:
    """Write the card of ``name`` (default ``card_path(name)``) for its weights (default the
    shipped ``weights_path(name)``); a NAS-found entry's card records the search from its
    genome file. Atomic; returns the path."""
    genome_file = GENOMES_DIR / f"{name}.json"
    search = json.loads(genome_file.read_text(encoding="utf-8"))["search"] if genome_file.is_file() else None
    card = build_card(name, metrics, latency_s, train, search=search,
                      weights_sha256=sha256_file(weights if weights is not None else weights_path(name)))
    path = Path(path) if path is not None else card_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(card, indent=2) + "\n")


def training_info(name: str, runs_dir: Path, run: Path | None = None, *, recipes: Collection[str] = (),
                  repo: Path = REPO) -> dict | None:
    """The budget and outcome of the run that made the shipped weights (``run``, default
    runs/<name>), with every earlier stage it was fine-tuned from (its ``train.init``).

    ``recipes``: the recipe names (``train.list_recipes()``), so a run folder named after one
    records its recipe file. Without that run folder (trained in an earlier session), the
    card's existing ``trained`` record is kept, so re-rendering never loses it."""
    run = run or runs_dir / name
    if not (run / "summary.json").is_file():
        old = card_path(name)
        return json.loads(old.read_text()).get("trained") or None if old.is_file() else None
    stages: list[dict] = []
    init: Path | None = None
    while run is not None and (run / "summary.json").is_file() and len(stages) < _MAX_STAGES:
        stage, init = _stage_info(run, recipes, repo)
        stages.insert(0, stage)
        run = init.parent if init is not None else None
    if init is not None and run is not None and init.is_file():
        stages[:0] = _carded_stages(name, init)
    if len(stages) == 1:
        return stages[0]
    last = stages[-1]
    total = {k: round(sum(st[k] or 0 for st in stages), 1) for k in ("wall_minutes", "cpu_minutes")}
    return {**last, "steps": sum(st["steps"] for st in stages), **total, "stages": stages}


def _carded_stages(name: str, init: Path) -> list[dict]:
    """The first stage(s) of a chain whose run folder is gone (trained in an earlier session),
    from the current card: its whole record when the weights it describes are the ``init`` file,
    or, once the card already lists stages, the stages up to the one that made ``init``."""
    card = json.loads(card_path(name).read_text()) if card_path(name).is_file() else {}
    trained = card.get("trained")
    if not trained:
        return []
    sha = sha256_file(init)
    if card.get("weights_sha256") == sha:
        return [{**st, "weights_sha256": st.get("weights_sha256", sha)} for st in trained.get("stages") or [trained]]
    stages = trained.get("stages") or []
    made = [i for i, st in enumerate(stages) if st.get("weights_sha256") == sha]
    return stages[:made[0] + 1] if made else []


def _stage_info(run: Path, recipes: Collection[str], repo: Path) -> tuple[dict, Path | None]:
    """One run folder's record, and the weights file it was initialised from (if any).

    The machine is the one the run's ``summary.json`` measured as it ended (cores, load); runs
    from before it did are described by the machine writing the card."""
    s = json.loads((run / "summary.json").read_text())
    train = s["recipe"]["train"]
    init = Path(train["init"]) if train.get("init") else None
    if init is not None and not init.is_absolute():
        init = repo / init  # recipes name the earlier stage relative to the repository
    info = {"steps": s["steps"], "wall_minutes": round(s["seconds"] / 60, 1),
            "cpu_minutes": round(s.get("cpu_seconds", 0) / 60, 1) or None,
            "budget_minutes": train["max_minutes"], "budget_steps": train["steps"],
            "stopped_by": s["stopped_by"],
            "val_psnr": s["final_val_psnr"], "device": s["device"], "threads": s["threads"],
            "patch": s["recipe"]["data"]["crop"], "batch": s["recipe"]["data"]["batch"],
            "lr": train["lr"],
            "machine": f"{s.get('machine') or machine_summary()}; torch {s['torch']}"}
    if (run / "weights.safetensors").is_file():
        info["weights_sha256"] = sha256_file(run / "weights.safetensors")
    if run.name in recipes:  # edge-train's default run folder is runs/<recipe name>
        info["recipe"] = f"edgedeblur/train/recipes/{run.name}.yaml"
    if init is not None:
        info["init"] = str(init.relative_to(repo)) if init.is_relative_to(repo) else str(init)
    return info, init
