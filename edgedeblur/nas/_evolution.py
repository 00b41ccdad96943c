"""Regularised (aging) evolution under a latency budget, independent of the search driver.

Why beside NSGA-II: a random first generation of this space is mostly far over a tight budget
(measured here: 33 of 45 NSGA-II trials at an 11 ms budget were rejected on latency, and none
of the trained ones beat the zoo's mnv2unet_s). Mutating the best recent feasible nets, zoo
references first, spends every proxy training near the budget, where the front is decided.

A child is one or two genes away from a parent picked by tournament among the ``population``
most recent feasible, scored candidates (Real et al.'s regularised evolution: old parents age
out, so one lucky proxy score cannot dominate the search), and is redrawn until its predicted
latency fits the budget and it has not been evaluated before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .space import genome_from_mnv2unet, genome_key, mutate_genome

__all__ = ["select_parent", "propose_child"]


def select_parent(records: Sequence[Any], budget_ms: float, rng: Any, *, population: int = 8,
                  tournament: int = 3) -> dict[str, Any]:
    """The genome of the best of ``tournament`` random picks among the recent feasible records.

    ``records`` are search records (``genome``, ``psnr``, ``latency_ms``, ``scored``) in trial
    order; with no feasible record yet the zoo's mnv2unet_s is the parent.
    """
    feasible = [r for r in records if r.scored and r.latency_ms <= budget_ms]
    recent = feasible[-population:]
    if not recent:
        return genome_from_mnv2unet("s")
    picks = [recent[int(i)] for i in rng.choice(len(recent), size=min(tournament, len(recent)), replace=False)]
    return max(picks, key=lambda r: (r.psnr, -r.latency_ms)).genome


def propose_child(parent: dict[str, Any], predict_ms: Callable[[dict[str, Any]], float], budget_ms: float,
                  seen: set[str], rng: Any, *, tries: int = 60) -> dict[str, Any]:
    """A new genome one or two mutations from ``parent`` predicted within ``budget_ms``.

    After ``tries`` redraws without one, the last unseen child is returned anyway (the driver
    then rejects it on latency, which costs no training).
    """
    child = parent
    for _ in range(tries):
        child = mutate_genome(parent, rng)
        if rng.random() < 0.5:
            child = mutate_genome(child, rng)
        if genome_key(child) in seen:
            continue
        if predict_ms(child) <= budget_ms:
            return child
    return child
