package org.edgedeblur.core;

import static org.junit.Assert.assertEquals;

import org.junit.Test;

/** TiledPrior: the 4th channel carries sigma / 50, and blending an identity model gives the input back. */
public class TiledPriorTest {
    @Test
    public void identityModelGivesTheInputBackAcrossTiles() {
        int h = 37, w = 53;
        float[] rgb = new float[3 * h * w];
        for (int i = 0; i < rgb.length; i++) {
            rgb[i] = (float) ((Math.sin(i * 0.37) + 1) / 2);
        }
        float[] seen = {Float.NaN};
        TileModel identity = (tile, th, tw, c) -> {
            assertEquals(4, c);
            seen[0] = tile[3];
            float[] out = new float[th * tw * 3];
            for (int i = 0; i < th * tw; i++) {
                System.arraycopy(tile, 4 * i, out, 3 * i, 3);
            }
            return out;
        };
        TiledPrior prior = new TiledPrior(identity, 16, 4);
        float[] out = prior.restore(rgb, h, w, 12.5);
        assertEquals(0.25f, seen[0], 0f);
        assertEquals(Tiling.tileGrid(h, w, 16, 4).size(), prior.lastCalls);
        for (int i = 0; i < rgb.length; i++) {
            assertEquals(rgb[i], out[i], 1e-6f);
        }
        TiledPrior whole = new TiledPrior(identity, 64, 8); // one padded tile
        float[] one = whole.restore(rgb, h, w, 5.0);
        assertEquals(1, whole.lastCalls);
        for (int i = 0; i < rgb.length; i++) {
            assertEquals(rgb[i], one[i], 0f);
        }
    }
}
