"""Tile grid and blend window: golden vectors (the Kotlin/JS/C ports match these) and exactness."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest

from edgedeblur.errors import InvalidInputError
from edgedeblur.runtime import blend_ramp, blend_window, tile_grid
from edgedeblur.runtime.tiling import axis_starts, run_tiled

# Golden vectors, also printed in docs/runtime.md.
GOLDEN_GRID_100x70_T32_O8 = [(0, 0), (0, 24), (0, 38), (24, 0), (24, 24), (24, 38),
                             (48, 0), (48, 24), (48, 38), (68, 0), (68, 24), (68, 38)]
GOLDEN_RAMP_T8_O2 = [0.14644661, 0.85355339, 1, 1, 1, 1, 0.85355339, 0.14644661]
GOLDEN_RAMP_T16_O4_HEAD = [0.03806023, 0.30865828, 0.69134172, 0.96193977]


def test_golden_tile_grid() -> None:
    assert tile_grid(100, 70, 32, 8) == GOLDEN_GRID_100x70_T32_O8
    assert axis_starts(32, 32, 8) == [0]
    assert axis_starts(5, 32, 8) == [0]
    assert axis_starts(33, 32, 8) == [0, 1]
    assert axis_starts(1080, 256, 32) == [0, 224, 448, 672, 824]


def test_golden_blend_window() -> None:
    np.testing.assert_allclose(blend_ramp(8, 2), GOLDEN_RAMP_T8_O2, atol=1e-7)
    np.testing.assert_allclose(blend_ramp(16, 4)[:4], GOLDEN_RAMP_T16_O4_HEAD, atol=1e-7)
    win = blend_window(16, 4)
    assert win.dtype == np.float32 and win.shape == (16, 16)
    np.testing.assert_allclose(win, np.outer(blend_ramp(16, 4), blend_ramp(16, 4)))
    assert win.min() > 0 and np.allclose(win, win[::-1, ::-1])
    assert (blend_window(8, 0) == 1).all()


@pytest.mark.parametrize("h,w,tile,overlap", [(100, 70, 32, 8), (257, 300, 64, 16), (64, 64, 64, 8),
                                              (1000, 33, 32, 15)])
def test_grid_covers_image_with_at_least_overlap(h: int, w: int, tile: int, overlap: int) -> None:
    for n in (h, w):
        starts = axis_starts(n, tile, overlap)
        assert starts[0] == 0 and starts[-1] + tile == max(n, tile)
        assert all(b - a <= tile - overlap for a, b in zip(starts, starts[1:], strict=False))
        assert len(starts) == (1 if n <= tile else math.ceil((n - tile) / (tile - overlap)) + 1)


@pytest.mark.parametrize("tile,overlap", [(0, 0), (8, 4), (8, -1)])
def test_bad_tile_parameters(tile: int, overlap: int) -> None:
    with pytest.raises(InvalidInputError, match="tile"):
        tile_grid(100, 100, tile, overlap)


def _identity_run(image: np.ndarray, tile: int, overlap: int, batch: int = 1) -> np.ndarray:
    out = np.empty(image.shape, np.float32)
    return run_tiled(image, lambda t: t, out, tile, overlap, batch=batch,
                     prepare=lambda c: c.astype(np.float32), finish=lambda r: r)


@pytest.mark.parametrize("batch", [1, 3])
def test_identity_model_is_reconstructed_exactly(batch: int) -> None:
    """Weights are normalised by their sum, so an identity 'model' gives the input back."""
    img = np.random.default_rng(0).random((131, 97, 3), dtype=np.float32)
    np.testing.assert_allclose(_identity_run(img, 32, 8, batch), img, atol=1e-6)


def test_output_channels_may_differ_from_input() -> None:
    img = np.random.default_rng(1).random((50, 40, 1), dtype=np.float32)
    out = np.empty((50, 40, 1), np.float32)
    run_tiled(img, lambda t: np.repeat(t, 3, axis=3), out, 16, 4,
              prepare=lambda c: c, finish=lambda r: r.mean(axis=2, keepdims=True))
    np.testing.assert_allclose(out, img, atol=1e-6)


class _RowRecorder:
    """An output that checks rows arrive once, in order, with the right width; stores nothing."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w, self.next_row, self.max_err = h, w, 0, 0.0

    def __setitem__(self, rows: slice, value: np.ndarray) -> None:
        assert rows.start == self.next_row and value.shape[1] == self.w
        self.next_row = rows.stop
        self.max_err = max(self.max_err, float(np.abs(value - 0.5).max()))


@pytest.mark.slow
def test_20000x20000_streams_in_bounded_memory() -> None:
    """A 400-megapixel image (zero-stride view, so no 400 MB input) is tiled with < 64 MB of
    Python-visible allocations than 1.5 float32 bands (a whole-image accumulator would be 1.6 GB)."""
    h = w = 20000
    image = np.broadcast_to(np.float32(0.5), (h, w, 1))
    out = _RowRecorder(h, w)
    tracemalloc.start()
    tile = 512
    run_tiled(image, lambda t: t, out, tile, 16, prepare=lambda c: c.astype(np.float32), finish=lambda r: r)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.next_row == h and out.max_err < 1e-6
    band = tile * w * 4
    assert peak < 1.5 * band + 16 * 2**20, f"peak {peak / 2**20:.0f} MiB, band {band / 2**20:.0f} MiB"


def test_tall_20000_row_strip_never_holds_more_than_a_band() -> None:
    """Fast version of the check above: 20000 x 600 (a whole-image float32 accumulator would be
    46 MiB; the band is 1.2 MiB)."""
    image = np.broadcast_to(np.float32(0.5), (20000, 600, 1))
    out = _RowRecorder(20000, 600)
    tracemalloc.start()
    run_tiled(image, lambda t: t, out, 512, 32, prepare=lambda c: c.astype(np.float32), finish=lambda r: r)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert out.next_row == 20000 and out.max_err < 1e-6
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"
