"""Measuring candidates for a latency profile: export each genome, time it with the runtime.

Two routes to the same rows (``{key, genome, features, ms, ...}``):

* here: :func:`measure_candidates` exports each genome with ``edge-export``'s library API and
  times it with ``edge-bench``'s row code, each row in its own subprocess as ``edge-bench`` does;
* on another device (a Pi, a phone): :func:`export_candidates` writes the artifacts and a
  ``candidates.json``; the user runs ``edge-bench`` there and :func:`fit_from_bench` joins its
  rows to the genomes by the artifact's sha256 (every candidate's file has the same name).

Weights are random: an INT8 graph's speed on XNNPACK / ORT / OpenVINO does not depend on the
weight values, only on shapes and ops, so an untrained candidate times like a trained one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._progress import progress
from ..errors import ArtifactError, EdgeDeblurError, InvalidInputError
from ._profile import DEFAULT_FEATURES, LatencyModel, genome_features, read_json_file

__all__ = ["CANDIDATES_SCHEMA", "export_candidates", "fit_from_bench", "measure_candidates", "split_heldout"]

CANDIDATES_SCHEMA = "edgedeblur-nas-candidates/1"
_MEASURED = "measured.jsonl"  # rows of measure_candidates, one per line, appended as measured


def _progress(items: Sequence, show: bool, desc: str) -> Any:
    if not show:
        return items
    return progress(items, desc=desc, unit="net")


def export_genome(genome: dict, folder: Path, *, task: str, target: str, tile: int, seed: int = 0) -> Path:
    """Export one genome (random init) into ``folder``; returns its manifest. Reused if present."""
    from ..export import export_model
    from ..export.targets import get_target
    from ..runtime import manifest_path_for

    name = f"nasunet_{task}"
    existing = manifest_path_for(folder / (name + get_target(target).suffix))
    if existing.is_file():  # a previous run exported it and stopped before timing it
        return existing
    # parity is not the point here (weights are random) and XNNPACK speed ignores the values;
    # the bound only guards against a broken graph, so it is wide
    results = export_model(name, target, folder, random_init=True, model_kwargs={"genome": genome}, tile=tile,
                           calib_images=8, heldout=2, max_drop_db=100.0, force=True, seed=seed)
    res = results[0]
    if isinstance(res, EdgeDeblurError):
        raise res
    if not res.passed:
        raise ArtifactError(f"export of the candidate failed parity (drop {res.parity.drop_db:.2f} dB)",
                            path=res.artifact)
    return res.manifest


def _time_artifact(manifest: Path, *, threads: int, runs: int, warmup: int) -> dict:
    from ..bench.measure import BenchConfig, bench_isolated

    return bench_isolated(BenchConfig(artifact=str(manifest), threads=threads, runs=runs, warmup=warmup,
                                      frames=[], accuracy=False))


def _row_from_bench(bench: dict) -> dict:
    """The latency fields of an edge-bench row (``latency_tile`` = runner.restore of one tile)."""
    if bench.get("status") != "ok":
        return {"ms": None, "status": bench.get("status", "failed"), "reason": bench.get("reason")}
    tile = bench["latency_tile"]
    bare = bench.get("latency_bare_tile") or {}
    return {"ms": float(tile["median"]), "p90": tile.get("p90"), "min": tile.get("min"),
            "bare_ms": bare.get("median"), "backend": bench.get("backend"), "status": "ok", "reason": None,
            "artifact_sha256": bench.get("artifact_sha256")}


def _read_measured(path: Path) -> dict[str, dict]:
    rows: dict[str, dict] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:  # a line cut by a crash: measure that genome again
                continue
            if isinstance(row, dict) and row.get("status") == "ok" and "key" in row:
                rows[row["key"]] = row
    return rows


def measure_candidates(genomes: Sequence[dict], out_dir: str | Path, *, task: str = "deblur",
                       target: str = "tflite-int8", tile: int = 256, threads: int = 1, runs: int = 15,
                       warmup: int = 3, rounds: int = 1, progress: bool = True, seed: int = 0,
                       on_row: Callable[[dict], None] | None = None) -> list[dict]:
    """Export and time each genome here; one row per genome, in order.

    ``rounds`` > 1 times every candidate again in later passes over the whole list and keeps,
    per candidate, the round least disturbed by other processes (lowest median; ``min`` is the
    fastest run of all rounds): on a shared machine a burst of load can cover all runs of one
    round, which no statistic within the round can undo.

    Resumable: rows go to ``out_dir/measured.jsonl`` as they are measured, and a genome already
    measured there with the same target, tile and threads is not measured again (only the
    missing rounds are). A failed export or benchmark gives a row with ``ms: None`` and the
    reason, never a lost batch. ``on_row`` is called with each first-round row.
    """
    if rounds < 1 or runs < 1 or warmup < 0:
        raise InvalidInputError("rounds and runs must be >= 1, warmup >= 0", given=f"{rounds}, {runs}, {warmup}")
    from ..bench.results import append_row
    from .space import genome_key, validate_genome

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    log = out / _MEASURED
    done = _read_measured(log)
    rows = []
    for genome in _progress(list(genomes), progress, "measuring"):
        g = validate_genome(genome)
        key = genome_key(g)
        prev = done.get(key)
        if prev and (prev.get("target"), prev.get("tile"), prev.get("threads")) == (target, tile, threads):
            # features are recomputed: they depend on this code's op counting, not on the device
            rows.append({**prev, "features": genome_features(g, tile)})
        else:
            rows.append(_measure_one(g, key, out, task=task, target=target, tile=tile, threads=threads,
                                     runs=runs, warmup=warmup, seed=seed))
            append_row(log, rows[-1])
        if on_row is not None:
            on_row(rows[-1])
    for rnd in range(2, rounds + 1):
        for i in _progress(range(len(rows)), progress, f"re-timing {rnd}/{rounds}"):
            if rows[i].get("status") != "ok" or rows[i].get("rounds", 1) >= rnd:
                continue
            again = _row_from_bench(_time_artifact(out / rows[i]["artifact"], threads=threads, runs=runs,
                                                   warmup=warmup))
            rows[i] = _merge_round(rows[i], again, rnd)
            append_row(log, rows[i])
    return rows


def _merge_round(row: dict, again: dict, rnd: int) -> dict:
    """Keep the round with the lower median; ``min`` over all rounds; every round's median listed."""
    medians = [*row.get("ms_rounds", [row["ms"]]), again.get("ms")]
    merged = {**row, "rounds": rnd, "ms_rounds": medians}
    if again.get("status") == "ok":
        if again["ms"] < row["ms"]:
            merged.update({k: again[k] for k in ("ms", "p90", "bare_ms")})
        merged["min"] = min(row["min"], again["min"])
    return merged


def _measure_one(genome: dict, key: str, out: Path, *, task: str, target: str, tile: int, threads: int,
                 runs: int, warmup: int, seed: int) -> dict:
    row: dict[str, Any] = {"key": key, "genome": genome, "features": genome_features(genome, tile),
                           "target": target, "tile": tile, "threads": threads}
    try:
        manifest = export_genome(genome, out / key, task=task, target=target, tile=tile, seed=seed)
    except EdgeDeblurError as exc:
        return {**row, "ms": None, "status": "export-failed", "reason": str(exc)}
    row["artifact"] = str(manifest.relative_to(out))
    return {**row, **_row_from_bench(_time_artifact(manifest, threads=threads, runs=runs, warmup=warmup))}


def split_heldout(rows: Sequence[dict], heldout: int, seed: int = 0,
                  eligible: Callable[[dict], bool] | None = None) -> tuple[list[dict], list[dict]]:
    """``heldout`` rows drawn at random (among ``eligible`` ones) for scoring; the rest to fit on."""
    pool = [i for i, r in enumerate(rows) if eligible is None or eligible(r)]
    if heldout < 0 or heldout > len(pool):
        raise InvalidInputError("cannot hold out that many candidates", given=heldout, allowed=f"0..{len(pool)}",
                                hint="lower --heldout or raise --candidates")
    picked = set(np.random.default_rng(seed).permutation(pool)[:heldout].tolist())
    return [r for i, r in enumerate(rows) if i not in picked], [r for i, r in enumerate(rows) if i in picked]


# ------------------------------------------------------------------ the other-device route
def export_candidates(genomes: Sequence[dict], out_dir: str | Path, *, task: str = "deblur",
                      target: str = "tflite-int8", tile: int = 256, seed: int = 0, progress: bool = True) -> Path:
    """Export each genome under ``out_dir/<key>/`` and write ``out_dir/candidates.json``.

    Copy the folder to the device, run ``edge-bench <folder> --threads 1 --frames none
    --no-accuracy -o bench.jsonl`` there, copy ``bench.jsonl`` back and call :func:`fit_from_bench`.
    Features are computed here (torch is needed for them, not on the device).
    """
    from ..io import atomic_write
    from ..runtime import Manifest
    from .space import genome_key, validate_genome

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    entries = []
    for genome in _progress(list(genomes), progress, "exporting"):
        g = validate_genome(genome)
        key = genome_key(g)
        try:
            manifest = export_genome(g, out / key, task=task, target=target, tile=tile, seed=seed)
        except EdgeDeblurError as exc:
            entries.append({"key": key, "genome": g, "artifact": None, "sha256": None, "error": str(exc)})
            continue
        sha = Manifest.read(manifest).data["artifact"]["sha256"]
        entries.append({"key": key, "genome": g, "artifact": str(manifest.relative_to(out)), "sha256": sha,
                        "features": genome_features(g, tile)})
    doc = {"schema": CANDIDATES_SCHEMA, "task": task, "target": target, "tile": tile, "candidates": entries}
    text = json.dumps(doc, indent=1)
    return atomic_write(out / "candidates.json", lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"),
                        suffix=".json")


def _read_candidates(path: Path) -> dict:
    doc = read_json_file(path, "candidates file",
                         "make it with: edge-nas-profile export -o DIR (it writes DIR/candidates.json)")
    if not isinstance(doc, dict) or doc.get("schema") != CANDIDATES_SCHEMA or not isinstance(doc.get("candidates"), list):
        raise ArtifactError("not an edge-nas-profile candidates file", allowed=CANDIDATES_SCHEMA, path=path,
                            hint="give the candidates.json written by edge-nas-profile export")
    return doc


def _bench_rows(paths: Sequence[Path], threads: int | None) -> tuple[list[dict], int]:
    """OK edge-bench rows (at one thread count); raises when several counts are mixed."""
    from ..bench.results import read_rows

    rows, _ = read_rows(paths)
    ok = [r for r in rows if r.get("status") == "ok" and r.get("latency_tile")]
    counts = sorted({r.get("threads") for r in ok}, key=str)
    if threads is None:
        if len(counts) > 1:
            raise InvalidInputError("the benchmark rows mix thread counts", given=counts,
                                    hint="pass threads=N (--threads N) to pick one")
        threads = counts[0] if counts else None
    return [r for r in ok if r.get("threads") == threads], threads


def fit_from_bench(candidates_json: str | Path, bench_jsonl: str | Path | Sequence[str | Path], *,
                   heldout: int = 0, seed: int = 0, threads: int | None = None,
                   feature_names: Sequence[str] = DEFAULT_FEATURES, stat: str = "median") -> LatencyModel:
    """Fit a profile from ``edge-bench`` rows measured on another device.

    Rows join candidates by ``artifact_sha256`` (all candidate files share one name). The
    device fingerprint is the one edge-bench recorded there. ``heldout`` candidates are scored,
    not fitted. ``stat``: fit the median (``ms``) or the fastest run (``min``) of each row.
    """
    cpath = Path(candidates_json)
    doc = _read_candidates(cpath)
    paths = [Path(bench_jsonl)] if isinstance(bench_jsonl, (str, Path)) else [Path(p) for p in bench_jsonl]
    bench, threads = _bench_rows(paths, threads)
    by_sha = {c["sha256"]: c for c in doc["candidates"] if c.get("sha256")}
    rows, device, backend = [], {}, None
    for b in bench:
        cand = by_sha.get(b.get("artifact_sha256"))
        if cand is None:
            continue
        features = cand.get("features") or genome_features(cand["genome"], int(doc["tile"]))
        rows.append({"key": cand["key"], "genome": cand["genome"], "features": features, "artifact": cand["artifact"],
                     "target": doc["target"], "tile": doc["tile"], "threads": threads, **_row_from_bench(b)})
        device, backend = b.get("device") or device, b.get("backend") or backend
    if len(rows) < 2 + heldout:
        raise ArtifactError(f"only {len(rows)} benchmark rows match the candidates", path=paths[0],
                            hint=f"run edge-bench on the folder holding {cpath.name} and give its output")
    fit, held = split_heldout(rows, heldout, seed)
    return LatencyModel.fit(fit, tile=int(doc["tile"]), feature_names=feature_names, heldout_rows=held, stat=stat,
                            target=doc["target"], backend=backend, threads=threads, device=device)
