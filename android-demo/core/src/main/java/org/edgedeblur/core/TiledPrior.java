package org.edgedeblur.core;

/**
 * The learned prior on a fixed-shape model (the app's LiteRT interpreter): the image is
 * reflect-padded to at least one tile, cut on the runtime's tile grid ({@link Tiling}), each
 * tile gets R, G, B and the constant noise map {@code sigma * NOISE_MAP_SCALE} (the manifest's
 * io.conditioning, runtime.pipeline.noise_map_input) as 4 HWC channels, and the 3-channel
 * outputs are blended in float with the raised-cosine window, as Runner.restore(x, sigma=...)
 * does. The pipeline's intermediate rounds stay float (no uint8 rounding between rounds).
 */
public final class TiledPrior implements DeblurPrior {
    /** runtime.pipeline.NOISE_MAP_SCALE: sigma 50 maps to 1.0. */
    public static final float NOISE_MAP_SCALE = 1f / 50f;
    private final TileModel model;
    private final int tile;
    private final int overlap;
    /** Model calls of the last {@link #restore}, and their total nanoseconds. */
    public int lastCalls;
    public long lastNanos;

    /** @param model takes h x w x 4 floats (RGB + noise map), returns h x w x 3 */
    public TiledPrior(TileModel model, int tile, int overlap) {
        Tiling.checkTile(tile, overlap);
        this.model = model;
        this.tile = tile;
        this.overlap = overlap;
    }

    @Override
    public float[] restore(float[] rgb, int h, int w, double sigma) {
        int ph = Math.max(tile, h), pw = Math.max(tile, w), hw = h * w;
        int[] ys = Tiling.axisStarts(ph, tile, overlap), xs = Tiling.axisStarts(pw, tile, overlap);
        float[] ramp = Tiling.blendRamp(tile, overlap);
        boolean single = ys.length == 1 && xs.length == 1;
        float[] wy = Tiling.axisWeightSum(ph, ys, ramp), wx = Tiling.axisWeightSum(pw, xs, ramp);
        float noise = (float) (sigma * NOISE_MAP_SCALE);
        float[] acc = new float[3 * hw];
        float[] in = new float[tile * tile * 4];
        lastCalls = 0;
        lastNanos = 0;
        for (int y0 : ys) {
            for (int x0 : xs) {
                for (int i = 0; i < tile; i++) {
                    int sy = TiledRestorer.reflect(y0 + i, h, false);
                    for (int j = 0; j < tile; j++) {
                        int sx = TiledRestorer.reflect(x0 + j, w, false);
                        int o = 4 * (i * tile + j);
                        for (int c = 0; c < 3; c++) {
                            in[o + c] = DataStep.clip01(rgb[c * hw + sy * w + sx]);
                        }
                        in[o + 3] = noise;
                    }
                }
                long t0 = System.nanoTime();
                float[] res = model.infer(in, tile, tile, 4);
                lastNanos += System.nanoTime() - t0;
                lastCalls++;
                for (int i = 0; i < tile && y0 + i < h; i++) {
                    for (int j = 0; j < tile && x0 + j < w; j++) {
                        float win = single ? 1f : ramp[i] * ramp[j];
                        int p = (y0 + i) * w + x0 + j;
                        for (int c = 0; c < 3; c++) {
                            acc[c * hw + p] += res[3 * (i * tile + j) + c] * win;
                        }
                    }
                }
            }
        }
        if (!single) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    float norm = wy[y] * wx[x];
                    for (int c = 0; c < 3; c++) {
                        acc[c * hw + y * w + x] /= norm;
                    }
                }
            }
        }
        return acc;
    }
}
