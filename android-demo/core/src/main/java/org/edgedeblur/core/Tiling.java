package org.edgedeblur.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Tile grid and blending window, a port of edgedeblur/runtime/tiling.py (axis_starts, tile_grid,
 * blend_ramp). They must agree exactly with Python: tests/golden/tiling.json holds the vectors.
 */
public final class Tiling {
    private Tiling() {
    }

    static void checkTile(int tile, int overlap) {
        if (tile < 1 || overlap < 0 || 2 * overlap >= tile) {
            throw new IllegalArgumentException("invalid tile/overlap: given tile=" + tile + ", overlap=" + overlap
                    + "; allowed tile >= 1 and 0 <= overlap < tile / 2");
        }
    }

    /**
     * Tile start offsets along an axis of length n: stride = tile - overlap, k = 1 when n <= tile
     * else ceil((n - tile) / stride) + 1; starts 0, stride, ..., (k-2)*stride and the last n - tile,
     * so the last tile ends exactly at the border.
     */
    public static int[] axisStarts(int n, int tile, int overlap) {
        checkTile(tile, overlap);
        if (n < 1) {
            throw new IllegalArgumentException("image dimension must be at least 1 pixel, given " + n);
        }
        if (n <= tile) {
            return new int[] {0};
        }
        int stride = tile - overlap;
        int k = (n - tile + stride - 1) / stride + 1;
        int[] starts = new int[k];
        for (int i = 0; i < k - 1; i++) {
            starts[i] = i * stride;
        }
        starts[k - 1] = n - tile;
        return starts;
    }

    /** All tile origins {y0, x0}, row-major (y outer, x inner). */
    public static List<int[]> tileGrid(int h, int w, int tile, int overlap) {
        List<int[]> grid = new ArrayList<>();
        for (int y : axisStarts(h, tile, overlap)) {
            for (int x : axisStarts(w, tile, overlap)) {
                grid.add(new int[] {y, x});
            }
        }
        return grid;
    }

    /**
     * 1-D window: raised-cosine ramps of {@code overlap} samples at both ends, 1 inside;
     * r[i] = 0.5 - 0.5 cos(pi (i + 0.5) / overlap), computed in double and rounded to float
     * like numpy. It never reaches zero, so every pixel has weight.
     */
    public static float[] blendRamp(int tile, int overlap) {
        checkTile(tile, overlap);
        float[] ramp = new float[tile];
        java.util.Arrays.fill(ramp, 1f);
        for (int i = 0; i < overlap; i++) {
            float up = (float) (0.5 - 0.5 * Math.cos(Math.PI * (i + 0.5) / overlap));
            ramp[i] = up;
            ramp[tile - 1 - i] = up;
        }
        return ramp;
    }

    /** Per-pixel sum of ramp weights along one axis (the blend normaliser is wy[y] * wx[x]). */
    static float[] axisWeightSum(int n, int[] starts, float[] ramp) {
        float[] total = new float[n];
        for (int s : starts) {
            for (int i = 0; i < ramp.length && s + i < n; i++) {
                total[s + i] += ramp[i];
            }
        }
        return total;
    }
}
