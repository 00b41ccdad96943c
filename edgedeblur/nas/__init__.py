"""edgedeblur.nas: hardware-aware architecture search over the zoo's building blocks.

    >>> from edgedeblur.nas import sample_genome, LatencyModel, run_search
    >>> profile = LatencyModel.load("benchmarks/nas/profile_xeon_tflite_int8.json")
    >>> result = run_search("deblur", "benchmarks/nas/profile_xeon_tflite_int8.json", 30.0, 20, "runs/nas")

The search is a client of the zoo: the search space (``space``) is the ``nasunet`` family's
(:mod:`edgedeblur.models.nasunet_space`), and this package imports only ``models``, ``train``,
``export`` and ``bench`` below it. Importing it imports numpy and the zoo (torch); optuna,
the exporters and the trainer load inside the functions that use them. See docs/nas.md.
"""

from __future__ import annotations

from ._measure import export_candidates, fit_from_bench, measure_candidates
from ._profile import LatencyModel, genome_features, op_features
from ._proxy import ProxyConfig, proxy_train
from ._warm_start import enqueue_into_search, read_genome_files
from .search import (
    SearchResult,
    TrialRecord,
    best_genome,
    best_record,
    load_search,
    pareto_front,
    run_search,
    write_genome_file,
)
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

__all__ = [
    "SEARCH_SPACE", "describe_genome", "genome_from_mnv2unet", "genome_key", "mutate_genome",
    "sample_genome", "space_size", "suggest_genome", "validate_genome",
    "LatencyModel", "genome_features", "op_features",
    "measure_candidates", "export_candidates", "fit_from_bench",
    "run_search", "SearchResult", "TrialRecord", "load_search", "pareto_front", "best_genome", "best_record",
    "write_genome_file", "ProxyConfig", "proxy_train",
    "read_genome_files", "enqueue_into_search",
]
