"""Tile grid, blending window and a streaming tiled executor (the spec in ``docs/runtime.md``).

Why streaming: a 50-megapixel photo in float32 with a weight image would need about 1 GB;
instead tiles are run one row of tiles at a time, accumulated in a float32 band only ``tile``
rows tall, and finished rows are written straight into the output array in its final dtype.
The blending weight of a tile is the outer product of two 1-D windows, and the tile grid is a
Cartesian product, so the per-pixel weight sum is separable (``wy[y] * wx[x]``) and no weight
image is stored. Kotlin/JS/C ports match :func:`tile_grid` and :func:`blend_window` exactly
(golden vectors in ``tests/test_runtime_tiling.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import numpy as np

from ..errors import InvalidInputError

_FINISH_ROWS = 64

__all__ = ["axis_starts", "tile_grid", "blend_ramp", "blend_window", "run_tiled"]


def axis_starts(n: int, tile: int, overlap: int) -> list[int]:
    """Tile start offsets along one axis of length ``n``.

    ``stride = tile - overlap``; ``k = 1`` when ``n <= tile`` else ``ceil((n - tile) / stride) + 1``;
    starts are ``0, stride, ..., (k - 2) * stride`` and the last one is ``n - tile`` so the last
    tile ends exactly at the border (its overlap with the previous tile is >= ``overlap``).
    """
    _check_tile(tile, overlap)
    if n < 1:
        raise InvalidInputError("image dimension must be at least 1 pixel", given=n)
    if n <= tile:
        return [0]
    stride = tile - overlap
    k = math.ceil((n - tile) / stride) + 1
    return [i * stride for i in range(k - 1)] + [n - tile]


def tile_grid(h: int, w: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """All tile origins ``(y0, x0)``, row-major (y outer, x inner); see :func:`axis_starts`."""
    return [(y, x) for y in axis_starts(h, tile, overlap) for x in axis_starts(w, tile, overlap)]


def blend_ramp(tile: int, overlap: int) -> np.ndarray:
    """1-D window: raised-cosine ramps of ``overlap`` samples at both ends, 1 inside.

    ``r[i] = 0.5 - 0.5 * cos(pi * (i + 0.5) / overlap)`` for ``i < overlap``, mirrored at the end,
    so it rises from just above 0 to just below 1 and never reaches zero (every pixel has weight).
    """
    _check_tile(tile, overlap)
    ramp = np.ones(tile, dtype=np.float64)
    if overlap:
        i = np.arange(overlap, dtype=np.float64)
        up = 0.5 - 0.5 * np.cos(np.pi * (i + 0.5) / overlap)
        ramp[:overlap] = up
        ramp[tile - overlap:] = up[::-1]
    return ramp.astype(np.float32)


def blend_window(tile: int, overlap: int) -> np.ndarray:
    """2-D float32 ``tile x tile`` weight: ``outer(blend_ramp, blend_ramp)``."""
    r = blend_ramp(tile, overlap)
    return np.outer(r, r).astype(np.float32)


def _check_tile(tile: int, overlap: int) -> None:
    if tile < 1 or overlap < 0 or 2 * overlap >= tile:
        raise InvalidInputError(
            "invalid tile/overlap", given=f"tile={tile}, overlap={overlap}",
            allowed="tile >= 1 and 0 <= overlap < tile / 2",
        )


def _axis_weight_sum(n: int, starts: list[int], ramp: np.ndarray) -> np.ndarray:
    total = np.zeros(n, dtype=np.float32)
    for s in starts:
        total[s:s + len(ramp)] += ramp[: n - s]
    return total


def run_tiled(
    image: np.ndarray,
    infer: Callable[[np.ndarray], np.ndarray],
    out: np.ndarray,
    tile: int,
    overlap: int,
    *,
    batch: int = 1,
    prepare: Callable[[np.ndarray], np.ndarray],
    finish: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Restore ``image`` (H x W x C, H and W >= ``tile``) tile by tile into ``out``.

    ``prepare`` turns an H' x W' x C crop of ``image`` into float32 model-range pixels,
    ``infer`` maps a float32 B x tile x tile x C batch to the same shape, and ``finish``
    converts finished float32 rows to ``out``'s dtype. Only a ``tile``-row float32 band
    is held at a time.
    """
    h, w = image.shape[:2]
    if h < tile or w < tile:
        raise InvalidInputError("image smaller than the tile; pad it first", given=(h, w), allowed=f">= {tile}")
    ys, xs = axis_starts(h, tile, overlap), axis_starts(w, tile, overlap)
    ramp = blend_ramp(tile, overlap)
    win = np.outer(ramp, ramp)[..., None]
    wy, wx = _axis_weight_sum(h, ys, ramp), _axis_weight_sum(w, xs, ramp)
    band: np.ndarray | None = None  # tile x W x C_out, made when the first result arrives
    band_top = 0  # image row of band[0]
    for row, y0 in enumerate(ys):
        shift = y0 - band_top
        if shift and band is not None:
            _shift_up(band, shift)
        band_top = y0
        for xb, tiles in _batches(image, y0, xs, tile, batch, prepare):
            result = infer(tiles)
            if band is None:
                band = np.zeros((tile, w, result.shape[-1]), dtype=np.float32)
            for x0, res in zip(xb, result, strict=True):
                band[:, x0:x0 + tile] += res * win
        done_to = ys[row + 1] if row + 1 < len(ys) else h
        for r0 in range(band_top, done_to, _FINISH_ROWS):  # small chunks: no band-sized temporaries
            r1 = min(r0 + _FINISH_ROWS, done_to)
            rows = band[r0 - band_top:r1 - band_top]
            out[r0:r1] = finish(rows / (wy[r0:r1, None, None] * wx[None, :, None]))
    return out


def _shift_up(band: np.ndarray, shift: int) -> None:
    """Move band rows up by ``shift`` and zero the freed rows, copying in non-overlapping chunks
    (a single overlapping assignment would make numpy allocate a band-sized temporary)."""
    tile = band.shape[0]
    for d0 in range(0, tile - shift, shift):
        d1 = min(d0 + shift, tile - shift)
        band[d0:d1] = band[d0 + shift:d1 + shift]
    band[tile - shift:] = 0.0


def _batches(
    image: np.ndarray, y0: int, xs: list[int], tile: int, batch: int,
    prepare: Callable[[np.ndarray], np.ndarray],
) -> Iterator[tuple[list[int], np.ndarray]]:
    for i in range(0, len(xs), batch):
        chunk = xs[i:i + batch]
        tiles = np.stack([prepare(image[y0:y0 + tile, x0:x0 + tile]) for x0 in chunk])
        yield chunk, tiles
