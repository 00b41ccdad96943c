"""Warm start: reuse the trained candidates of earlier searches that ran the same proxy protocol.

Why: a proxy run depends only on the genome and the protocol (task, recipe, steps, crop, batch,
seed, score; :mod:`._proxy`), not on the latency budget. Two searches of one task at different
budgets (say "as fast as the reference" and "20% faster") therefore share every result, and a
new budget can start from everything already measured instead of from the zoo reference alone.
Imported records join the study as trials of status ``imported``: they can be parents and sit
on the front, their latency is predicted again with this search's profile and budget, and they
do not count towards ``--trials`` (they cost nothing here).

Designs a person already believes in (a hand-made variant of the best net, a colleague's
genome) can be enqueued too (``--enqueue FILE``): they are trained first, before the evolution
proposes anything, and count as ordinary trials. Why: a CPU-sized search trains about ten nets an
hour, and spending a few of those on informed guesses is cheaper than waiting for a mutation.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ._study import STUDY_FILE, genome_params, journal

__all__ = ["IMPORTED", "warm_start_records", "enqueue_imported", "read_genome_files", "enqueue_genomes",
           "enqueue_into_search"]

#: status of a record taken from another search
IMPORTED = "imported"
# the settings that must match for a proxy result to mean the same thing here
_SAME = ("task", "profile_sha256", "proxy")


def _load_study(folder: Path) -> Any:
    """The Optuna study of the search in ``folder``; a clear error when there is none."""
    path = folder / STUDY_FILE
    if not path.is_file():
        raise ConfigError("--warm-start folder holds no edge-nas search", given=str(folder),
                          path=path, hint="give the --out folder of an earlier edge-nas run")
    optuna, storage = journal(path, "reading an edge-nas study")
    summaries = optuna.study.get_all_study_summaries(storage)
    if not summaries:
        raise ConfigError("--warm-start search has no study yet", given=str(folder), path=path)
    return optuna.load_study(study_name=summaries[0].study_name, storage=storage)


def _study_settings(folder: Path) -> dict[str, Any]:
    """The settings stored with the search in ``folder`` (what ``run_search`` wrote)."""
    return dict(_load_study(folder).user_attrs)


def warm_start_records(folders: Sequence[str | Path], settings: dict[str, Any]) -> list[Any]:
    """Scored, proxy-trained records of the searches in ``folders`` (one per genome, first wins).

    Each folder's search must have the same task, device profile and proxy protocol as
    ``settings`` (this search's); otherwise a :class:`ConfigError` names the difference.
    """
    from .search import load_search

    records: dict[str, Any] = {}
    for folder in map(Path, folders):
        theirs = _study_settings(folder)
        for key in _SAME:
            if theirs.get(key) != settings[key]:
                raise ConfigError(f"--warm-start search ran with another {key}: its results do not transfer",
                                  given=f"{folder}: {theirs.get(key)}", allowed=settings[key],
                                  hint="warm-start only from searches of the same task, profile and "
                                       "--proxy-steps/--proxy-crop/--proxy-batch/--proxy-score/--seed")
        for record in load_search(folder):
            if record.scored and record.status in ("complete", IMPORTED) and record.key not in records:
                records[record.key] = record
    return list(records.values())


def _enqueue(study: Any, genomes: Sequence[dict[str, Any]], done: Sequence[Any], tag: str) -> int:
    """Enqueue each genome as a waiting trial marked ``{tag: key}`` unless a trial of it is done
    or already waiting with that mark (so a resume enqueues nothing twice); return how many."""
    from optuna.trial import TrialState

    from .space import genome_key

    have = {r.key for r in done}
    have |= {t.user_attrs.get(tag) for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))}
    added = 0
    for genome in genomes:
        key = genome_key(genome)
        if key not in have:
            study.enqueue_trial(genome_params(genome), user_attrs={tag: key})
            have.add(key)
            added += 1
    return added


def enqueue_imported(study: Any, ctx: Any, imported: list[Any], done: list[Any]) -> None:
    """Warm-start records as waiting trials (once per genome, also across resumes)."""
    for record in imported:
        ctx.done.setdefault(record.key, record)  # evaluate_candidate then returns its result
    _enqueue(study, [r.genome for r in imported], done, "imported")


def read_genome_files(paths: Sequence[str | Path]) -> list[dict[str, Any]]:
    """Validated genomes from JSON files: a zoo genome file (``{"name", "task", "genome", ...}``),
    a bare genome (``{"levels": [...], ...}``) or a list of either. Errors name the file."""
    import json

    from .space import validate_genome

    genomes: list[dict[str, Any]] = []
    for path in map(Path, paths):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read --enqueue genome file ({exc})", given=str(path), path=path,
                              hint="give a JSON genome: a zoo genome file or a genome object") from exc
        for i, item in enumerate(data if isinstance(data, list) else [data]):
            genome = item.get("genome", item) if isinstance(item, dict) else item
            if not isinstance(genome, dict) or "levels" not in genome:
                raise ConfigError(f"--enqueue entry {i} is not a genome", given=str(path), path=path,
                                  allowed='{"levels": [...], "skip", "up", "decoder_block"} or a zoo genome file',
                                  hint="see edgedeblur/models/genomes/*.json")
            try:
                genomes.append(validate_genome(genome))
            except ConfigError as exc:
                raise ConfigError(f"--enqueue entry {i}: {exc}", given=str(path), path=path) from exc
    return genomes


def enqueue_genomes(study: Any, genomes: Sequence[dict[str, Any]], done: Sequence[Any]) -> int:
    """Enqueue ``genomes`` as waiting trials unless already trained or waiting; return how many.

    Safe on the journal of a search that is running (the journal is locked per write): the
    running search trains waiting trials before it proposes its next child.
    """
    return _enqueue(study, genomes, done, "enqueued")


def enqueue_into_search(out_dir: str | Path, genomes: Sequence[dict[str, Any]]) -> int:
    """Enqueue ``genomes`` into the search in ``out_dir``, running or not; return how many were new.

    A running ``edge-nas`` trains them after its current trial; a stopped one when resumed.
    """
    from .search import load_search

    folder = Path(out_dir)
    return enqueue_genomes(_load_study(folder), genomes, load_search(folder))
