"""The search space of ``edge-nas``: the zoo's ``nasunet`` genomes.

The space is part of the zoo (:mod:`edgedeblur.models.nasunet_space`, next to the family that
builds a genome); the search is its client and re-exports it here under its usual name.
"""

from __future__ import annotations

from ..models.nasunet_space import (
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
    "SEARCH_SPACE",
    "validate_genome",
    "genome_key",
    "sample_genome",
    "suggest_genome",
    "genome_from_mnv2unet",
    "mutate_genome",
    "describe_genome",
    "space_size",
]
