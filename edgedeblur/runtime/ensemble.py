"""Geometric self-ensemble: restore flipped/rotated copies of an image and average them.

Why: the zoo nets are trained on crops in all 8 orientations, yet the errors they make on one
orientation differ from those on another. Averaging the restorations of several orientations
(after undoing each) cancels part of that error, for N times the compute and no retraining.
Measured here: +0.23 dB for ``mnv2unet_m_denoise`` on CBSD68 sigma 25 with 8 passes
(``benchmarks/zoo_eval.py``, docs/zoo_results.md). Offline photo processing can afford it; a
video pipeline usually cannot.

``passes`` is 1, 2, 4 or 8. With 2 and 4 only flips and the 180 degree rotation are used, which
keep height and width: a fixed-shape artifact then sees the same tile layout as in one pass.
8 adds the four transposing orientations. numpy only, so the runtime can use it on a device.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConfigError

__all__ = ["ENSEMBLE_PASSES", "check_passes", "self_ensemble"]

#: the allowed numbers of passes
ENSEMBLE_PASSES = (1, 2, 4, 8)
# (quarter turns, mirror left-right) in the order passes take them: the first four keep H x W
_ORIENTATIONS = ((0, False), (0, True), (2, False), (2, True), (1, False), (1, True), (3, False), (3, True))


def check_passes(passes: object) -> int:
    """``passes`` as an int, or a :class:`ConfigError` saying what is allowed."""
    if isinstance(passes, bool) or not isinstance(passes, (int, np.integer)) or int(passes) not in ENSEMBLE_PASSES:
        raise ConfigError("self_ensemble must be a number of passes", given=passes,
                          allowed=", ".join(map(str, ENSEMBLE_PASSES)),
                          hint="-O self_ensemble=8 (8 orientations), or 1 for a single pass")
    return int(passes)


def self_ensemble(restore: Callable[[np.ndarray], np.ndarray], image: np.ndarray, passes: int) -> np.ndarray:
    """The mean of ``restore`` over ``passes`` orientations of ``image``, each one undone.

    ``image`` is H x W or H x W x C float; ``restore`` maps such an array (of either
    orientation, so H and W may be swapped) to one of the same shape. Returns float32.
    """
    passes = check_passes(passes)
    if passes == 1:
        return np.asarray(restore(image), dtype=np.float32)
    total = np.zeros(image.shape, dtype=np.float32)
    for turns, mirror in _ORIENTATIONS[:passes]:
        view = np.rot90(image, turns)
        if mirror:
            view = view[:, ::-1]
        out = np.asarray(restore(np.ascontiguousarray(view)), dtype=np.float32)
        if mirror:
            out = out[:, ::-1]
        total += np.rot90(out, -turns)
    total /= passes
    return total
