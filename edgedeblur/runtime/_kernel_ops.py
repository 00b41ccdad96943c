"""Small kernel operations shared by the blind estimator and its refinement, numpy only.

Cleaning (threshold, connected components), centring, support cropping and the
conjugate-gradient solve of :mod:`edgedeblur.runtime.kernel_estimate` and
:mod:`edgedeblur.runtime._kernel_refine`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import numpy as np

_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # BT.601, as edgedeblur.metrics
_CG_ITERS = 25  # conjugate-gradient steps per kernel update
_THRESHOLD = 1.0 / 20.0  # kernel values below max * this are noise
_MIN_COMPONENT = 0.1  # components holding less than this share of the mass are dropped


def _is_int(v: object) -> bool:
    return isinstance(v, (int, np.integer)) and not isinstance(v, bool)


def _is_real(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(float(v))


def _components(mask: np.ndarray) -> list[list[int]]:
    """8-connected components of a small boolean mask (flood fill), as lists of flat indices."""
    h, w = mask.shape
    todo = set(np.flatnonzero(mask).tolist())
    out = []
    while todo:
        stack = [todo.pop()]
        members = []
        while stack:
            p = stack.pop()
            members.append(p)
            r, c = divmod(p, w)
            for q in ((r + dr) * w + c + dc for dr in (-1, 0, 1) for dc in (-1, 0, 1)
                      if 0 <= r + dr < h and 0 <= c + dc < w):
                if q in todo:
                    todo.remove(q)
                    stack.append(q)
        out.append(members)
    return out


def _clean(k: np.ndarray) -> tuple[np.ndarray, float]:
    """Non-negative, threshold, drop small components, normalise; also the kept mass share."""
    k = np.maximum(k, 0.0)
    total = float(k.sum())
    if total <= 0 or not np.isfinite(total):
        return _delta(k.shape[0]), 0.0
    k = np.where(k >= _THRESHOLD * float(k.max()), k, 0.0)
    comps = _components(k > 0)
    masses = [float(k.flat[c].sum()) for c in comps]
    kept = np.zeros_like(k)
    for c, mass in zip(comps, masses, strict=True):
        if mass >= _MIN_COMPONENT * sum(masses) or mass == max(masses):
            kept.flat[c] = k.flat[c]
    share = float(kept.sum()) / total
    return (kept / kept.sum()).astype(np.float32), share


def _centre(k: np.ndarray) -> np.ndarray:
    """Shift by whole pixels so the centroid is on the middle; mass pushed out is dropped."""
    n = k.shape[0]
    idx = np.arange(n)
    s = float(k.sum())
    dy = int(round(float(k.sum(axis=1) @ idx) / s - (n - 1) / 2))
    dx = int(round(float(k.sum(axis=0) @ idx) / s - (n - 1) / 2))
    if dy == 0 and dx == 0:
        return k
    out = np.roll(k, (-dy, -dx), axis=(0, 1))
    # what wrapped around is mass that the shift pushed out of the support
    out[slice(n - dy, n) if dy > 0 else slice(0, -dy)] = 0.0
    out[:, slice(n - dx, n) if dx > 0 else slice(0, -dx)] = 0.0
    return out / out.sum() if out.sum() > 0 else k


def _offset(k: np.ndarray) -> tuple[float, float]:
    """The kernel's centroid minus its middle, (rows, columns), in pixels."""
    idx = np.arange(k.shape[0]) - (k.shape[0] - 1) / 2
    s = float(k.sum())
    return float(k.sum(axis=1) @ idx) / s, float(k.sum(axis=0) @ idx) / s


def _centre_subpixel(k: np.ndarray) -> np.ndarray:
    """``_centre``, then the fraction of a pixel left: a linear-interpolation shift that puts the
    centroid on the middle exactly. A kernel only whole-pixel centred restores the photo up to
    half a pixel off where it was; on the validation blurs that cost 0.5 dB mean (Wiener with
    the estimate, benchmarks/kernel_estimate_eval.py). The support grows by one pixel a side."""
    k = np.pad(_centre(k.astype(np.float32)), 1)
    if float(k.sum()) <= 0:
        return k
    # a shift along one axis leaves the other axis's marginal, so both offsets are read first
    for axis, offset in enumerate(_offset(k)):
        t = -offset  # move content by t, |t| <= 0.5
        if abs(t) < 1e-6:
            continue
        step = 1 if t > 0 else -1
        moved = np.roll(k, step, axis=axis)  # the padding makes the roll lose nothing
        k = (1.0 - abs(t)) * k + abs(t) * moved
    return (k / k.sum()).astype(np.float32)


def _delta(n: int) -> np.ndarray:
    return np.pad(np.ones((1, 1), np.float32), n // 2)


def _crop_support(k: np.ndarray) -> np.ndarray:
    """Smallest odd square, centred on the middle, that holds every non-zero value."""
    n = k.shape[0]
    c = n // 2
    rows, cols = np.nonzero(k)
    r = int(max(np.abs(rows - c).max(), np.abs(cols - c).max())) if rows.size else 0
    return np.ascontiguousarray(k[c - r : c + r + 1, c - r : c + r + 1], dtype=np.float32)


def _cg(apply: Callable[[np.ndarray], np.ndarray], b: np.ndarray, k: np.ndarray, *,
        iters: int = _CG_ITERS, stop: float | None = None) -> np.ndarray:
    """Conjugate gradients for the symmetric positive definite system apply(k) = b, from k.

    Stops after ``iters`` steps or when the squared residual is <= ``stop`` (default
    1e-12 of ``|b|^2``)."""
    r = b - apply(k)
    p = r.copy()
    rs = float((r * r).sum())
    stop = 1e-12 * float((b * b).sum()) if stop is None else stop
    for _ in range(iters):
        if rs <= stop:
            break
        ap = apply(p)
        a = rs / float((p * ap).sum())
        k = k + a * p
        r -= a * ap
        rs_new = float((r * r).sum())
        p = r + (rs_new / rs) * p
        rs = rs_new
    return k
