"""The Optuna study of one search folder: its journal file and how a genome becomes trial params.

Shared by the search driver (:mod:`.search`), its warm starts and enqueued genomes
(:mod:`._warm_start`) and its output files (:mod:`._outputs`); optuna is imported on use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import require

__all__ = ["STUDY_FILE", "journal", "genome_params"]

#: the study journal inside a search's ``--out`` folder
STUDY_FILE = "study.log"


def journal(path: Path, what: str) -> tuple[Any, Any]:
    """``(optuna, storage)`` for the study journal file ``path`` (``what`` names the use if
    optuna is missing)."""
    optuna = require("optuna", "nas", what)
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return optuna, JournalStorage(JournalFileBackend(str(path)))


def genome_params(genome: dict[str, Any]) -> dict[str, Any]:
    """Optuna parameters that make ``space.suggest_genome`` return ``genome``.

    Names follow ``suggest_genome``'s docstring; genes it does not ask for are ignored by
    Optuna, so every level's block/kernel/expand can be given.
    """
    params: dict[str, Any] = {"levels": len(genome["levels"]),
                              **{k: genome[k] for k in ("skip", "up", "decoder_block")}}
    for i, lv in enumerate(genome["levels"]):
        params.update({f"l{i}_{k}": lv[k] for k in ("width", "depth", "block", "kernel", "expand")})
    return params
