"""The measured latency model of one device: op features -> INT8 milliseconds per tile.

A :class:`LatencyModel` is a non-negative linear model over the op features of
:mod:`edgedeblur.nas._features`, fitted on candidates that were really exported and timed on the
device (:func:`edgedeblur.nas._measure.measure_candidates` here, or ``edge-bench`` output from
another device via :func:`edgedeblur.nas._measure.fit_from_bench`). Each coefficient reads as a
unit cost ("0.21 ns per depthwise MAC", "9 us per op"), so a profile can be checked by eye, and
non-negativity keeps it from extrapolating to negative times on nets unlike the measured ones.

The fit minimises *relative* squared error (each row weighted by 1 / measured ms) because the
search cares about percentages: 1 ms off a 5 ms net matters, 1 ms off a 200 ms net does not.

Saved as a JSON device profile (schema ``edgedeblur-latency/1``) holding the measured rows too,
so a profile can be refitted with other features without measuring again.

This module is the model; :mod:`._measure` produces its rows and imports it, and
:mod:`edgedeblur.nas.latency` is the public face of both.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ArtifactError, ConfigError, InvalidInputError
from ._features import FEATURE_DOC, module_features

__all__ = ["DEFAULT_FEATURES", "FEATURE_DOC", "PROFILE_SCHEMA", "STATS", "LatencyModel", "error_stats",
           "genome_features", "op_features", "read_json_file"]

PROFILE_SCHEMA = "edgedeblur-latency/1"

# Chosen on the measured profile of this project's CI machine (benchmarks/nas/README.md):
# compute per conv kind counted in whole 16-channel SIMD tiles (unpadded MACs: 10.3% held-out
# error, padded: 8.5%), memory traffic of convs and of the elementwise / resize / concat /
# split ops, and a fixed cost per op.
DEFAULT_FEATURES: tuple[str, ...] = ("macs_dense_c16", "macs_dw_c16", "macs_pw_c16", "conv_io", "elementwise",
                                     "resize", "concat", "slice", "n_ops")

_FEATURE_CACHE: dict[tuple[str, int], dict[str, float]] = {}


def genome_features(genome: dict, tile: int) -> dict[str, float]:
    """Op features of the NASUNet built from ``genome`` (deploy form) on one ``tile`` x ``tile`` tile.

    Deblur and denoise nets of one genome are the same graph, so the deblur entry is used.
    Cached per (genome key, tile): the search asks for the same genome more than once.
    """
    from ..models import create_model
    from .space import genome_key, validate_genome

    validate_genome(genome)
    key = (genome_key(genome), int(tile))
    if key not in _FEATURE_CACHE:
        net = create_model("nasunet_deblur", pretrained=False, genome=genome).eval()
        deploy = net.to_deploy() if hasattr(net, "to_deploy") else net
        _FEATURE_CACHE[key] = module_features(deploy, tile)
    return dict(_FEATURE_CACHE[key])


def op_features(genome_or_module: Any, tile: int) -> dict[str, float]:
    """Op features (see ``FEATURE_DOC``) of a genome dict or a torch module for one input tile.

    A module is measured as given after ``to_deploy()`` when it has one (BN folded, re-param
    branches merged): the graph the converter sees.
    """
    if tile < 8:
        raise InvalidInputError("tile must be at least 8 pixels", given=tile, hint="use --tile 256")
    if isinstance(genome_or_module, dict):
        return genome_features(genome_or_module, tile)
    module = genome_or_module
    if hasattr(module, "to_deploy"):
        import copy

        module = copy.deepcopy(module).eval().to_deploy()
    return module_features(module, tile)


def _matrix(rows: Sequence[dict], names: Sequence[str]) -> np.ndarray:
    missing = sorted({n for r in rows for n in names if n not in r["features"]})
    if missing:
        raise ConfigError("measured rows lack features", given=", ".join(missing), allowed=", ".join(FEATURE_DOC),
                          hint="refit from the profile's rows with features it has, or measure again")
    return np.array([[float(r["features"][n]) for n in names] for r in rows], dtype=np.float64)


def _nnls_relative(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative ``coef, intercept`` minimising sum(((a @ coef + intercept) - y) / y)**2."""
    from scipy.optimize import nnls

    design = np.hstack([a, np.ones((len(a), 1))]) / y[:, None]
    # scale columns to unit max so NNLS's tolerance treats MACs (1e9) and op counts (1e2) alike
    scale = np.abs(design).max(axis=0)
    scale[scale == 0] = 1.0
    sol, _ = nnls(design / scale, np.ones(len(y)), maxiter=50 * design.shape[1])
    sol = sol / scale
    return sol[:-1], float(sol[-1])


def error_stats(predicted: Iterable[float], measured: Iterable[float]) -> dict[str, float | int]:
    """Mean absolute percentage error, mean absolute error (ms), worst percentage, count."""
    p = np.asarray(list(predicted), dtype=np.float64)
    m = np.asarray(list(measured), dtype=np.float64)
    if len(m) == 0:
        return {"mape_pct": math.nan, "mae_ms": math.nan, "max_ape_pct": math.nan, "n": 0}
    ape = np.abs(p - m) / m * 100.0
    return {"mape_pct": round(float(ape.mean()), 3), "mae_ms": round(float(np.abs(p - m).mean()), 4),
            "max_ape_pct": round(float(ape.max()), 3), "n": int(len(m))}


# which timing of a row a model is fitted to: the median over the timed runs (edge-bench's
# number), or the fastest run, which estimates the unloaded device when other processes share
# the CPU (the median then measures the load as much as the net)
STATS = {"median": "ms", "min": "min"}


def _ok_rows(rows: Iterable[dict], stat: str = "median") -> list[dict]:
    return [r for r in rows if r.get(STATS[stat]) is not None and r.get("features")]


def _times(rows: Iterable[dict], stat: str) -> list[float]:
    return [float(r[STATS[stat]]) for r in rows]


@dataclass
class LatencyModel:
    """``ms = intercept + sum(coef[i] * features[i])`` for one device, target, thread count and tile."""

    feature_names: list[str]
    coef: list[float]  # ms per unit of each feature
    intercept: float  # ms
    tile: int
    target: str = "tflite-int8"
    backend: str | None = None
    threads: int | None = None
    device: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)  # every measured row; "split" says fit / heldout
    heldout: dict | None = None  # error_stats on rows not used in fitting
    stat: str = "median"  # the row timing fitted (see STATS)
    created: str | None = None

    # ---------------------------------------------------------------- fitting
    @classmethod
    def fit(cls, rows: Sequence[dict], *, tile: int, feature_names: Sequence[str] = DEFAULT_FEATURES,
            heldout_rows: Sequence[dict] = (), stat: str = "median", **meta: Any) -> LatencyModel:
        """Fit on ``rows`` (dicts with ``features`` and ``ms``); score on ``heldout_rows`` if any.

        ``meta`` fills target / backend / threads / device. Rows without a measurement (failed
        exports or benchmarks) are kept in the profile but not fitted. ``stat`` picks the row
        timing fitted: ``"median"`` (``ms``) or ``"min"`` (fastest timed run).
        """
        if stat not in STATS:
            raise ConfigError("unknown latency statistic", given=stat, allowed=", ".join(STATS),
                              hint="use median (quiet device) or min (shared, loaded machine)")
        names = list(feature_names)
        unknown = [n for n in names if n not in FEATURE_DOC]
        if unknown:
            raise ConfigError("unknown latency features", given=", ".join(unknown), allowed=", ".join(FEATURE_DOC),
                              hint="pick feature names from FEATURE_DOC")
        fit_rows = _ok_rows(rows, stat)
        if len(fit_rows) < 2:
            raise InvalidInputError("need at least 2 measured candidates to fit a latency model",
                                    given=len(fit_rows), hint="measure more candidates (--candidates)")
        y = np.array(_times(fit_rows, stat))
        coef, intercept = _nnls_relative(_matrix(fit_rows, names), y)
        all_rows = [{**r, "split": "fit"} for r in rows] + [{**r, "split": "heldout"} for r in heldout_rows]
        model = cls(names, [float(c) for c in coef], intercept, int(tile), rows=all_rows,
                    created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), stat=stat, **meta)
        if _ok_rows(heldout_rows, stat):
            model.heldout = model.evaluate(heldout_rows)
        return model

    def refit(self, feature_names: Sequence[str]) -> LatencyModel:
        """The same rows and split fitted with other features (to compare feature sets)."""
        fit = [r for r in self.rows if r.get("split") != "heldout"]
        held = [r for r in self.rows if r.get("split") == "heldout"]
        return LatencyModel.fit(fit, tile=self.tile, feature_names=feature_names, heldout_rows=held, stat=self.stat,
                                target=self.target, backend=self.backend, threads=self.threads, device=self.device)

    # ------------------------------------------------------------- predicting
    def predict_features(self, features: dict[str, float]) -> float:
        """Milliseconds for a feature dict (as :func:`op_features` returns)."""
        missing = [n for n in self.feature_names if n not in features]
        if missing:
            raise InvalidInputError("features lack what the profile uses", given=", ".join(missing),
                                    hint="compute them with edgedeblur.nas.latency.op_features")
        return float(self.intercept + sum(c * float(features[n]) for c, n in zip(self.coef, self.feature_names, strict=True)))

    def predict(self, genome_or_features: dict) -> float:
        """Milliseconds per ``tile`` x ``tile`` INT8 tile for a genome (or its feature dict)."""
        if "levels" in genome_or_features:
            return self.predict_features(genome_features(genome_or_features, self.tile))
        return self.predict_features(genome_or_features)

    # ---------------------------------------------------------------- scoring
    def evaluate(self, rows: Sequence[dict]) -> dict[str, float | int]:
        """Error of this model on measured ``rows`` (meaningful only for rows it was not fitted on)."""
        ok = _ok_rows(rows, self.stat)
        return error_stats([self.predict_features(r["features"]) for r in ok], _times(ok, self.stat))

    def cross_validated_error(self, k: int = 5, seed: int = 0) -> dict[str, float | int]:
        """k-fold error over all measured rows: each row is predicted by a model fitted without it."""
        ok = _ok_rows(self.rows, self.stat)
        if len(ok) < 3:
            raise InvalidInputError("cross-validation needs at least 3 measured rows", given=len(ok))
        k = max(2, min(k, len(ok)))
        order = np.random.default_rng(seed).permutation(len(ok))
        predicted, measured = [], []
        for fold in range(k):
            held = set(order[fold::k].tolist())
            test = [ok[i] for i in sorted(held)]
            train = [r for i, r in enumerate(ok) if i not in held]
            m = LatencyModel.fit(train, tile=self.tile, feature_names=self.feature_names, stat=self.stat)
            predicted += [m.predict_features(r["features"]) for r in test]
            measured += _times(test, self.stat)
        return {**error_stats(predicted, measured), "k": k}

    def explain(self) -> list[dict[str, Any]]:
        """Per feature: coefficient, what it is per, and its mean share of the fitted rows' time."""
        ok = [r for r in _ok_rows(self.rows, self.stat) if r.get("split") != "heldout"]
        mean_ms = float(np.mean(_times(ok, self.stat))) if ok else math.nan
        out = []
        for c, n in zip(self.coef, self.feature_names, strict=True):
            share = float(np.mean([c * r["features"][n] for r in ok])) / mean_ms * 100 if ok else math.nan
            out.append({"feature": n, "coef_ms": c, "per": FEATURE_DOC[n], "share_pct": round(share, 1)})
        out.append({"feature": "intercept", "coef_ms": self.intercept, "per": "tile (fixed cost)",
                    "share_pct": round(self.intercept / mean_ms * 100, 1) if ok else math.nan})
        return out

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        return {"schema": PROFILE_SCHEMA, "device": self.device, "target": self.target, "backend": self.backend,
                "threads": self.threads, "tile": self.tile, "feature_names": list(self.feature_names),
                "coef": list(self.coef), "intercept": self.intercept, "heldout": self.heldout,
                "stat": self.stat, "rows": self.rows, "created": self.created}

    def save(self, path: str | Path) -> Path:
        """Write the JSON device profile atomically; returns the path."""
        from ..io import atomic_write

        text = json.dumps(self.to_dict(), indent=1, allow_nan=False, default=_json_default)
        return atomic_write(path, lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"), suffix=".json")

    @classmethod
    def load(cls, path: str | Path) -> LatencyModel:
        """Read a profile written by :meth:`save`; anything else raises ArtifactError naming the file."""
        path = Path(path)
        data = read_json_file(path, "latency profile", "make one with: edge-nas-profile measure -o profile.json")
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, path: str | Path | None = None) -> LatencyModel:
        if not isinstance(data, dict) or data.get("schema") != PROFILE_SCHEMA:
            given = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ArtifactError("not an edgedeblur latency profile", given=given, allowed=PROFILE_SCHEMA, path=path,
                                hint="give a file written by edge-nas-profile")
        problems = _profile_problems(data)
        if problems:
            raise ArtifactError("latency profile is malformed: " + "; ".join(problems), path=path,
                                hint="re-create it with edge-nas-profile measure or fit")
        return cls(list(data["feature_names"]), [float(c) for c in data["coef"]], float(data["intercept"]),
                   int(data["tile"]), data.get("target") or "tflite-int8", data.get("backend"), data.get("threads"),
                   data.get("device") or {}, list(data.get("rows") or []), data.get("heldout"),
                   data.get("stat") or "median", data.get("created"))


def read_json_file(path: Path, what: str, hint: str) -> Any:
    """``path`` parsed as JSON; a missing or non-JSON file raises ArtifactError naming it and ``what``."""
    if not path.is_file():
        raise ArtifactError(f"{what} not found", path=path, hint=hint)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{what} is not JSON ({exc})", path=path) from exc


def _profile_problems(data: dict) -> list[str]:
    problems = []
    names, coef = data.get("feature_names"), data.get("coef")
    if not isinstance(names, list) or not all(isinstance(n, str) and n in FEATURE_DOC for n in names):
        problems.append("feature_names must be a list of known feature names")
    if not isinstance(coef, list) or not all(isinstance(c, (int, float)) for c in coef):
        problems.append("coef must be a list of numbers")
    elif isinstance(names, list) and len(coef) != len(names):
        problems.append(f"{len(coef)} coefficients for {len(names)} features")
    if not isinstance(data.get("intercept"), (int, float)):
        problems.append("intercept must be a number")
    if not isinstance(data.get("tile"), int) or data["tile"] < 8:
        problems.append("tile must be an integer >= 8")
    if data.get("stat", "median") not in STATS:
        problems.append(f"stat must be one of {', '.join(STATS)}")
    if not isinstance(data.get("rows", []), list):
        problems.append("rows must be a list")
    return problems


def _json_default(value: object) -> object:
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    raise TypeError(f"not JSON-able: {type(value).__name__}")
