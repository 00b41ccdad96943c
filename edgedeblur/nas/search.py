"""Hardware-aware search: proxy PSNR against predicted on-device latency, under a budget.

The search logic lives in plain functions that know nothing about Optuna (the files a search
writes are :mod:`._outputs`'s): :func:`evaluate_candidate` turns a genome into a
:class:`TrialRecord` (predicted latency from the device profile, cheap reject far above the
budget, otherwise proxy training), and :func:`pareto_front` / :func:`best_genome` read records. Optuna is confined to
:func:`_optuna_search`: a multi-objective NSGA-II study (maximise PSNR, minimise latency) with
the budget as a constraint (``trial.set_constraint``, Optuna 5's replacement of the
deprecated ``constraints_func``), a journal file in ``out_dir/study.log`` so rerunning the
same command continues where it stopped, and the zoo's hand-designed ``mnv2unet`` variants
enqueued first, so the front is compared with them on equal terms.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from .._progress import progress_bar
from ..errors import ConfigError
from ..runtime import sha256_file
from ._outputs import (
    check_genome_path,
    genome_document,
    plot_pareto,
    write_genome_file,
    write_outputs,
)
from ._proxy import TASKS, ProxyConfig, base_recipe_name, proxy_recipe, run_proxy
from ._study import STUDY_FILE as _STUDY_FILE
from ._study import genome_params as _genome_params
from ._study import journal as _journal
from ._warm_start import IMPORTED

__all__ = ["TrialRecord", "SearchResult", "SearchContext", "run_search", "evaluate_candidate",
           "pareto_front", "best_genome", "best_record", "load_search", "write_outputs",
           "genome_document", "write_genome_file", "check_genome_path",
           "plot_pareto", "ZOO_SIZES", "STRATEGIES", "TASKS", "ProxyConfig"]

#: Hand-designed reference points enqueued first (cheapest first, so short searches get them).
ZOO_SIZES = ("xs", "s", "m")
STRATEGIES = ("evolution", "nsga2")


@dataclass
class TrialRecord:
    """One evaluated candidate (what trials.csv and pareto.json hold)."""

    number: int
    key: str
    description: str
    genome: dict[str, Any]
    latency_ms: float  # predicted by the device profile
    feasible: bool  # latency_ms <= budget
    status: str  # complete | cached (same genome trained before) | rejected (too slow) | diverged | imported
    psnr: float | None = None  # proxy validation PSNR, dB
    params: int | None = None
    macs_720p: int | None = None
    cpu_seconds: float | None = None  # proxy training CPU time (0 for cached/rejected)
    zoo: str | None = None  # "mnv2unet_s" for the hand-designed references
    run_dir: str | None = None

    @property
    def scored(self) -> bool:
        return self.psnr is not None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SearchResult:
    """Everything a finished (or resumed) search knows; also written to disk."""

    task: str
    budget_ms: float
    trials: int
    out_dir: str
    profile: dict[str, Any]
    proxy: dict[str, Any]
    records: list[TrialRecord]
    front: list[TrialRecord]
    new_trials: int
    paths: dict[str, str] = field(default_factory=dict)


@dataclass
class SearchContext:
    """What :func:`evaluate_candidate` needs; independent of the search driver."""

    task: str
    predict_ms: Callable[[dict[str, Any]], float]
    budget_ms: float
    proxy: ProxyConfig
    out_dir: Path
    reject_factor: float = 1.5
    data_root: str | None = None
    done: dict[str, TrialRecord] = field(default_factory=dict)  # genome key -> scored record


def _cost(genome: dict[str, Any], task: str) -> tuple[int, int]:
    from ..models import count_macs, count_params, create_model

    net = create_model(f"nasunet_{task}", pretrained=False, genome=genome)
    return count_params(net), count_macs(net, 720, 1280)


def evaluate_candidate(genome: dict[str, Any], ctx: SearchContext, *, number: int,
                       zoo: str | None = None) -> TrialRecord:
    """Predict latency, reject or proxy-train, and return the candidate's record."""
    from .space import describe_genome, genome_key, validate_genome

    genome = validate_genome(genome)
    key = genome_key(genome)
    ms = float(ctx.predict_ms(genome))
    base = {"number": number, "key": key, "description": describe_genome(genome), "genome": genome,
            "latency_ms": round(ms, 4), "feasible": ms <= ctx.budget_ms, "zoo": zoo}
    if key in ctx.done:  # the same network with the same proxy protocol: the same result
        old = ctx.done[key]
        return TrialRecord(**base, status="cached", psnr=old.psnr, params=old.params,
                           macs_720p=old.macs_720p, cpu_seconds=0.0, run_dir=old.run_dir)
    if ms > ctx.reject_factor * ctx.budget_ms and zoo is None:
        # far over budget: not worth minutes of training (the zoo references always are: they
        # are what the front is compared with); params/MACs still cost nothing
        params, macs = _cost(genome, ctx.task)
        return TrialRecord(**base, status="rejected", params=params, macs_720p=macs, cpu_seconds=0.0)
    run_dir = ctx.out_dir / "proxy" / f"t{number:04d}_{key}"
    got = run_proxy(genome, ctx.task, ctx.proxy, out_dir=run_dir, data_root=ctx.data_root)
    record = TrialRecord(**base, status="diverged" if got["diverged"] else "complete",
                         psnr=None if got["val_psnr"] is None else round(float(got["val_psnr"]), 4),
                         params=got["params"], macs_720p=got["macs_720p"], cpu_seconds=got["cpu_seconds"],
                         run_dir=got["run_dir"])
    if record.scored:
        ctx.done[key] = record
    return record


def pareto_front(records: Sequence[TrialRecord], budget_ms: float | None = None) -> list[TrialRecord]:
    """Scored records not dominated in (higher PSNR, lower latency), one per genome, by latency.

    With ``budget_ms`` only records within it are considered (the constrained front).
    """
    pool: dict[str, TrialRecord] = {}
    for r in records:
        if r.scored and (budget_ms is None or r.latency_ms <= budget_ms) and r.key not in pool:
            pool[r.key] = r
    cands = sorted(pool.values(), key=lambda r: (r.latency_ms, -float(r.psnr or 0.0)))
    front: list[TrialRecord] = []
    best = -math.inf
    for r in cands:  # by latency: a point is on the front iff it beats every faster point's PSNR
        if float(r.psnr) > best:  # type: ignore[arg-type]
            front.append(r)
            best = float(r.psnr)  # type: ignore[arg-type]
    return front


def best_record(result: SearchResult | Sequence[TrialRecord], budget_ms: float | None = None) -> TrialRecord | None:
    """The highest-PSNR scored record within the budget (``None`` if none is feasible)."""
    records = result.records if isinstance(result, SearchResult) else list(result)
    if budget_ms is None:
        if not isinstance(result, SearchResult):
            raise ConfigError("best_record needs a budget for a plain list of records",
                              hint="pass budget_ms=...")
        budget_ms = result.budget_ms
    feasible = [r for r in records if r.scored and r.latency_ms <= budget_ms]
    return max(feasible, key=lambda r: (r.psnr, -r.latency_ms), default=None)


def best_genome(result: SearchResult, budget_ms: float | None = None) -> dict[str, Any] | None:
    """The genome of :func:`best_record` (default budget: the search's)."""
    rec = best_record(result, budget_ms)
    return None if rec is None else rec.genome


# ----------------------------------------------------------------------------------- the driver

def _device_label(device: Any) -> str:
    """A short name for a profile's device (its fingerprint dict, or a plain string)."""
    if isinstance(device, dict):
        return str(device.get("board") or device.get("cpu_model") or device.get("hostname") or "unknown device")
    return str(device or "unknown device")


def _load_profile(profile_path: str | Path) -> tuple[Any, dict[str, Any]]:
    """The device's latency model and the profile's identity (what the results are valid for)."""
    from ._profile import LatencyModel

    path = Path(profile_path)
    model = LatencyModel.load(path)  # a missing or foreign file raises ArtifactError naming it
    info = {"device": _device_label(model.device), "target": model.target, "backend": model.backend,
            "threads": model.threads, "tile": model.tile, "heldout_error": model.heldout, "path": str(path),
            "sha256": sha256_file(path)}
    return model, info


def _check_args(task: str, latency_budget_ms: float, trials: int) -> None:
    base_recipe_name(task)  # raises for an unknown task
    if not isinstance(latency_budget_ms, (int, float)) or not math.isfinite(latency_budget_ms) \
            or latency_budget_ms <= 0:
        raise ConfigError("latency budget must be a positive number of milliseconds",
                          given=latency_budget_ms, hint="e.g. --latency-budget 150")
    if not isinstance(trials, int) or isinstance(trials, bool) or trials < 1:
        raise ConfigError("trials must be a positive integer", given=trials, hint="e.g. --trials 40")


def run_search(task: str, profile_path: str | Path, latency_budget_ms: float, trials: int,
               out_dir: str | Path, *, proxy_steps: int = 300, seed: int = 0, include_zoo: bool = True,
               progress: bool = True, proxy: ProxyConfig | None = None, reject_factor: float = 1.5,
               data_root: str | None = None, attempts_per_trial: int = 25, strategy: str = "evolution",
               on_trial: Callable[[TrialRecord], None] | None = None,
               warm_start: Sequence[str | Path] = (),
               enqueue: Sequence[dict[str, Any]] = ()) -> SearchResult:
    """Search genomes for ``task`` on the profiled device; resumable up to ``trials`` in total.

    ``strategy``: ``evolution`` (regularised evolution from the zoo references, children kept
    within the budget by the latency model; see ``_evolution``) or ``nsga2`` (Optuna's NSGA-II
    over the whole space, the budget as a constraint).
    ``trials`` counts evaluated candidates (proxy-trained, cached or diverged). Candidates
    rejected on predicted latency cost a fraction of a second and do not count, up to
    ``attempts_per_trial`` x ``trials`` attempts in all: most of the space is far slower than a
    tight budget, and counting rejections made a 18-trial search train only its 3 references.

    ``proxy`` sets crop/batch/validation of the proxy protocol (steps and seed always come
    from ``proxy_steps`` and ``seed``). Writes ``out_dir/{study.log, trials.csv, pareto.json,
    pareto.png}`` and one ``proxy/`` run folder per trained candidate.

    ``warm_start``: folders of earlier searches with the same task, profile and proxy protocol;
    their trained candidates join this one first, free (``_warm_start``).
    ``enqueue``: genomes to train first, before the evolution's own children (counted as trials).
    """
    _check_args(task, latency_budget_ms, trials)
    if strategy not in STRATEGIES:
        raise ConfigError("unknown search strategy", given=strategy, allowed=", ".join(STRATEGIES),
                          hint="--strategy evolution")
    if not reject_factor >= 1.0:
        raise ConfigError("reject_factor must be >= 1 (train everything up to the budget)",
                          given=reject_factor, hint="1.5 rejects candidates 50% over the budget")
    proxy = replace(proxy or ProxyConfig(), steps=int(proxy_steps), seed=int(seed))
    proxy_recipe(task, proxy, data_root=data_root)  # fail on a bad recipe/data before any trial
    latency_model, profile = _load_profile(profile_path)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = SearchContext(task=task, predict_ms=latency_model.predict, budget_ms=float(latency_budget_ms),
                        proxy=proxy, out_dir=out, reject_factor=float(reject_factor), data_root=data_root)
    settings = {"task": task, "budget_ms": float(latency_budget_ms), "profile_sha256": profile["sha256"],
                "proxy": proxy.as_dict(), "reject_factor": float(reject_factor), "seed": int(seed),
                "strategy": strategy}
    imported = []
    if warm_start:
        from ._warm_start import warm_start_records

        imported = warm_start_records(warm_start, settings)
    records, new = _optuna_search(ctx, settings, trials, include_zoo=include_zoo, progress=progress,
                                  on_trial=on_trial, max_attempts=max(1, int(attempts_per_trial)) * trials,
                                  imported=imported, enqueue=enqueue)
    result = SearchResult(task=task, budget_ms=ctx.budget_ms, trials=trials, out_dir=str(out),
                          profile=profile, proxy={**proxy.as_dict(), "recipe": base_recipe_name(task)},
                          records=records, front=pareto_front(records, ctx.budget_ms), new_trials=new)
    result.paths = write_outputs(result)
    return result


def _open_study(ctx: SearchContext, settings: dict[str, Any], trials: int) -> tuple[Any, int]:
    """Create or resume the study; return it and how many trials it has finished."""
    optuna, storage = _journal(ctx.out_dir / _STUDY_FILE, "the edge-nas search driver")
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar and summary say enough
    name = f"edge-nas-{ctx.task}"
    # a small population gives several NSGA-II generations within a CPU-sized trial budget
    population = int(min(20, max(4, round(trials / 5))))
    n_done = 0
    previous = {s.study_name: s for s in optuna.study.get_all_study_summaries(storage)}
    if name in previous:
        stored = previous[name].user_attrs
        for key, value in settings.items():
            if stored.get(key) != value:
                raise ConfigError(f"{ctx.out_dir} holds a search with another {key}",
                                  given=value, allowed=stored.get(key), path=ctx.out_dir / _STUDY_FILE,
                                  hint="rerun with the original settings to resume, or choose another --out")
        population = int(stored.get("population", population))
        n_done = len(_finished(optuna.load_study(study_name=name, storage=storage)))
    # seeded by the trials done, so a resumed run does not replay the first run's random draws
    sampler = optuna.samplers.NSGAIISampler(population_size=population, seed=settings["seed"] + n_done)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler,
                                directions=["maximize", "minimize"], load_if_exists=True)
    if name not in previous:
        for key, value in {**settings, "population": population}.items():
            study.set_user_attr(key, value)
    return study, n_done


def _finished(study: Any) -> list[Any]:
    from optuna.trial import TrialState

    return [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if "record" in t.user_attrs]


def _fail_stale(study: Any) -> None:
    """Trials left RUNNING by a killed process are failed, so they neither count nor breed."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)


def _enqueue_zoo(study: Any, done: list[TrialRecord]) -> None:
    from optuna.trial import TrialState

    from .space import genome_from_mnv2unet

    have = {r.zoo for r in done if r.zoo}
    have |= {t.user_attrs.get("zoo") for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))}
    for size in ZOO_SIZES:
        if f"mnv2unet_{size}" not in have:
            study.enqueue_trial(_genome_params(genome_from_mnv2unet(size)),
                                user_attrs={"zoo": f"mnv2unet_{size}"})


def _objective(ctx: SearchContext) -> Callable[[Any], tuple[float, float]]:
    from .space import genome_from_mnv2unet, suggest_genome

    def objective(trial: Any) -> tuple[float, float]:
        genome = suggest_genome(trial)
        zoo = trial.user_attrs.get("zoo")
        if zoo:  # evaluate the reference itself, whatever the parameters decode to
            genome = genome_from_mnv2unet(zoo.rsplit("_", 1)[1])
        record = evaluate_candidate(genome, ctx, number=trial.number, zoo=zoo)
        if trial.user_attrs.get("imported"):
            record = replace(record, status=IMPORTED, cpu_seconds=0.0)
        trial.set_user_attr("record", record.as_json())
        trial.set_constraint("latency_ms_over_budget", record.latency_ms - ctx.budget_ms)
        # Unscored trials (rejected, diverged) still complete: NSGA-II breeds only from complete
        # trials and ranks infeasible ones by how far over budget they are, which steers a
        # tight-budget search towards the budget instead of sampling blindly. -inf PSNR ranks a
        # diverged feasible net last; the record keeps psnr=None (nothing was measured).
        psnr = float(record.psnr) if record.scored else -math.inf  # type: ignore[arg-type]
        return psnr, record.latency_ms

    return objective


def _records(study: Any) -> list[TrialRecord]:
    return [TrialRecord(**t.user_attrs["record"]) for t in sorted(_finished(study), key=lambda t: t.number)]


def _counts(record: TrialRecord) -> bool:
    """Whether a trial counts towards ``--trials``: all but latency rejections and imports."""
    return record.status not in ("rejected", IMPORTED)


def _counted(records: list[TrialRecord]) -> int:
    return sum(map(_counts, records))


def _optuna_search(ctx: SearchContext, settings: dict[str, Any], trials: int, *, include_zoo: bool,
                   progress: bool, on_trial: Callable[[TrialRecord], None] | None,
                   max_attempts: int, imported: list[TrialRecord] = (),
                   enqueue: Sequence[dict[str, Any]] = ()) -> tuple[list[TrialRecord], int]:
    """The Optuna adapter: open/resume the study, run the missing trials, return all records."""
    study, _ = _open_study(ctx, settings, trials)
    _fail_stale(study)
    done = _records(study)
    for r in done:
        if r.scored:
            ctx.done.setdefault(r.key, r)
    if include_zoo:
        _enqueue_zoo(study, done)
    if imported:
        from ._warm_start import enqueue_imported

        enqueue_imported(study, ctx, list(imported), done)
    if enqueue:
        from ._warm_start import enqueue_genomes

        enqueue_genomes(study, enqueue, done)
    counted = _counted(done)
    remaining = max(0, trials - counted)
    attempts_left = max(0, max_attempts - len(done))
    bar = _progress_bar(trials, counted, progress, ctx.task)
    best = best_record(done, ctx.budget_ms)
    new = 0

    def callback(study_: Any, frozen: Any) -> None:
        nonlocal best, counted, new
        if "record" not in frozen.user_attrs:
            return
        record = TrialRecord(**frozen.user_attrs["record"])
        best = best_record([r for r in (best, record) if r is not None], ctx.budget_ms)
        if _counts(record):
            counted += 1
            new += 1
            if bar is not None:
                bar.update(1)
        if bar is not None:
            bar.set_postfix(best=f"{best.psnr:.2f}dB@{best.latency_ms:.0f}ms" if best else "-",
                            last=f"{record.status} {record.latency_ms:.0f}ms")
        if on_trial is not None:
            on_trial(record)
        if counted >= trials:
            study_.stop()

    try:
        if remaining and attempts_left and settings["strategy"] == "nsga2":
            study.optimize(_objective(ctx), n_trials=attempts_left, callbacks=[callback])
        elif remaining and attempts_left:
            _evolve(study, ctx, settings["seed"], lambda: counted < trials, attempts_left, callback)
    finally:
        if bar is not None:
            bar.close()
    return _records(study), new


def _evolve(study: Any, ctx: SearchContext, seed: int, more: Callable[[], bool], attempts: int,
            callback: Callable[[Any, Any], None]) -> None:
    """Regularised evolution through the same study: each child is enqueued, then run as a trial."""
    import numpy as np
    from optuna.trial import TrialState

    from ._evolution import propose_child, select_parent
    from .space import genome_key

    objective = _objective(ctx)
    for _ in range(attempts):
        if not more():
            return
        if not study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):  # zoo references first
            records = _records(study)
            rng = np.random.default_rng([seed, len(study.trials)])  # a resumed run draws on, not again
            parent = select_parent(records, ctx.budget_ms, rng, slack=ctx.reject_factor)
            child = propose_child(parent, ctx.predict_ms, ctx.budget_ms, {r.key for r in records}, rng)
            study.enqueue_trial(_genome_params(child), user_attrs={"parent": genome_key(parent)})
        study.optimize(objective, n_trials=1, callbacks=[callback])


def _progress_bar(total: int, start: int, show: bool, task: str) -> Any:
    return progress_bar(total, initial=start, desc=f"edge-nas {task}", unit="trial", show=show)


def load_search(out_dir: str | Path) -> list[TrialRecord]:
    """The records of the search in ``out_dir`` (read from its study journal)."""
    path = Path(out_dir) / _STUDY_FILE
    if not path.is_file():
        raise ConfigError("no edge-nas study here", given=str(path), hint="run edge-nas with --out this folder")
    optuna, storage = _journal(path, "reading an edge-nas study")
    names = [s.study_name for s in optuna.study.get_all_study_summaries(storage)]
    return [r for name in names for r in _records(optuna.load_study(study_name=name, storage=storage))]
