"""The small evaluation set shipped inside the package (made by benchmarks/runtime_make_evalset.py).

Six 112x112 images (four CBSD68 centre crops, two dead-leaves images), each degraded two ways:
``denoise`` (Gaussian noise sigma 25) and ``deblur`` (a real Levin et al. shake kernel + noise
sigma 2.55). Small enough to ship (under 500 KB), so edge-bench measures accuracy on a device
without any data download.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import UnknownNameError
from ..io import read_image

__all__ = ["EVALSET_DIR", "EVAL_TASKS", "load_evalset", "evalset_entries"]

EVALSET_DIR = Path(__file__).with_name("evalset")
EVAL_TASKS = ("denoise", "deblur")


@lru_cache(maxsize=1)
def evalset_entries() -> tuple[dict, ...]:
    """The pairs listed in ``evalset.json`` (source, degradation, seed of each)."""
    return tuple(json.loads((EVALSET_DIR / "evalset.json").read_text(encoding="utf-8"))["pairs"])


def load_evalset(task: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``[(name, degraded uint8 HxWx3, clean uint8 HxWx3), ...]`` for ``task``."""
    if task not in EVAL_TASKS:
        raise UnknownNameError("evaluation task", task, EVAL_TASKS)
    return [(e["name"], read_image(EVALSET_DIR / e["degraded"]), read_image(EVALSET_DIR / e["clean"]))
            for e in evalset_entries() if e["task"] == task]
