"""edgedeblur.nas: hardware-aware architecture search over the zoo's building blocks.

    >>> from edgedeblur.nas import sample_genome, LatencyModel, run_search
    >>> profile = LatencyModel.load("benchmarks/nas/profile_epyc_tflite_int8.json")
    >>> result = run_search("deblur", "benchmarks/nas/profile_epyc_tflite_int8.json", 30.0, 20, "runs/nas")

``space`` (the genome and its choices) is plain Python and imported here; the latency model
and the search import numpy/torch/optuna and load on first use, because ``edgedeblur.models``
imports ``space`` (the ``nasunet`` family) and an eager import here would be circular. See
docs/nas.md.
"""

from __future__ import annotations

import importlib
from typing import Any

from .space import (
    SEARCH_SPACE,
    describe_genome,
    genome_from_mnv2unet,
    genome_key,
    mutate_genome,
    sample_genome,
    space_size,
    suggest_genome,
    validate_genome,
)

_LAZY = {
    "LatencyModel": "latency", "genome_features": "latency", "op_features": "latency",
    "measure_candidates": "_measure", "export_candidates": "_measure", "fit_from_bench": "_measure",
    "run_search": "search", "SearchResult": "search", "TrialRecord": "search", "load_search": "search",
    "pareto_front": "search", "best_genome": "search", "best_record": "search",
    "write_genome_file": "search", "ProxyConfig": "_proxy", "proxy_train": "_proxy",
    "read_genome_files": "_warm_start", "enqueue_into_search": "_warm_start",
}

__all__ = [
    "SEARCH_SPACE", "describe_genome", "genome_from_mnv2unet", "genome_key", "mutate_genome",
    "sample_genome", "space_size", "suggest_genome", "validate_genome", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'edgedeblur.nas' has no attribute {name!r}")
