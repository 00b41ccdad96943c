"""Regularised (aging) evolution under a latency budget, independent of the search driver.

Why beside NSGA-II: a random first generation of this space is mostly far over a tight budget
(measured here: 33 of 45 NSGA-II trials at an 11 ms budget were rejected on latency, and none
of the trained ones beat the zoo's mnv2unet_s). Mutating the best recent feasible nets, zoo
references first, spends every proxy training near the budget, where the front is decided.

A child is one or two genes away from a parent picked by tournament among the ``population``
most recent feasible, scored candidates (Real et al.'s regularised evolution: old parents age
out, so one lucky proxy score cannot dominate the search), and is redrawn until its predicted
latency fits the budget and it has not been evaluated before.

A budget well below the zoo reference (the 2026-11-30 "20% faster" denoise search: 8.6 ms where
mnv2unet_s takes 10.8) needs several steps to reach. Two rules make the walk:

- parents may be over the budget by up to ``slack`` (the search's reject factor, 1.5): a good net
  just over it is the best material for a child that fits, which the child must (redrawn until
  it does). In that search the population otherwise collapsed onto the first feasible nets, all
  one level shallower and 0.2-0.3 dB worse than the net they came from;
- a child that cannot fit is the fastest of its redraws, and with nothing scored near the budget
  yet the parent is the fastest scored net, so each trial gets closer instead of training another
  net as slow as the reference.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .space import genome_from_mnv2unet, genome_key, mutate_genome

__all__ = ["select_parent", "propose_child"]


def select_parent(records: Sequence[Any], budget_ms: float, rng: Any, *, population: int = 8,
                  tournament: int = 3, slack: float = 1.0) -> dict[str, Any]:
    """The genome of the best of ``tournament`` random picks among the ``population`` most
    recent scored records within ``slack`` x the budget.

    ``records`` are search records (``genome``, ``psnr``, ``latency_ms``, ``scored``) in trial
    order. With none near the budget yet the parent is the fastest scored record, or the zoo's
    mnv2unet_s before anything is scored.
    """
    scored = [r for r in records if r.scored]
    near = [r for r in scored if r.latency_ms <= slack * budget_ms]
    recent = near[-population:]
    if not recent:
        return min(scored, key=lambda r: r.latency_ms).genome if scored else genome_from_mnv2unet("s")
    picks = [recent[int(i)] for i in rng.choice(len(recent), size=min(tournament, len(recent)), replace=False)]
    return max(picks, key=lambda r: (r.psnr, -r.latency_ms)).genome


def propose_child(parent: dict[str, Any], predict_ms: Callable[[dict[str, Any]], float], budget_ms: float,
                  seen: set[str], rng: Any, *, tries: int = 60) -> dict[str, Any]:
    """A new genome one or two mutations from ``parent`` predicted within ``budget_ms``.

    After ``tries`` redraws without one, the fastest unseen child is returned (closer to the
    budget than its parent when any redraw was; the driver rejects it without training when it
    is far over).
    """
    fastest, fastest_ms = parent, float("inf")
    for _ in range(tries):
        child = mutate_genome(parent, rng)
        if rng.random() < 0.5:
            child = mutate_genome(child, rng)
        if genome_key(child) in seen:
            continue
        ms = predict_ms(child)
        if ms <= budget_ms:
            return child
        if ms < fastest_ms:
            fastest, fastest_ms = child, ms
    return fastest
