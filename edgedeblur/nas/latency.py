"""Latency profiles of a device: the measured model (op features -> INT8 ms per tile) and the
code that measures candidates for it.

Public face of two modules: the model and its JSON profile (:mod:`._profile`: ``LatencyModel``,
the features, the fit) and measuring (:mod:`._measure`: export each genome, time it with the
runtime, or join ``edge-bench`` rows from another device). ``_measure`` builds on ``_profile``;
both are imported here, so ``from edgedeblur.nas.latency import measure_candidates`` works.
See docs/nas.md.
"""

from __future__ import annotations

from ._measure import (
    CANDIDATES_SCHEMA,
    export_candidates,
    fit_from_bench,
    measure_candidates,
    split_heldout,
)
from ._profile import (
    DEFAULT_FEATURES,
    FEATURE_DOC,
    PROFILE_SCHEMA,
    STATS,
    LatencyModel,
    error_stats,
    genome_features,
    op_features,
    read_json_file,
)

__all__ = ["DEFAULT_FEATURES", "FEATURE_DOC", "PROFILE_SCHEMA", "STATS", "LatencyModel", "error_stats",
           "genome_features", "op_features", "read_json_file", "CANDIDATES_SCHEMA", "measure_candidates",
           "export_candidates", "fit_from_bench", "split_heldout"]
