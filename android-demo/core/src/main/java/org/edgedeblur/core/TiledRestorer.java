package org.edgedeblur.core;

/**
 * Restores a whole image with a model, the same way edgedeblur.runtime.Runner._restore_hwc does:
 * reflect-pad to the tile (fixed-shape models) or to pad_multiple (dynamic ones), run tiles on
 * the grid of {@link Tiling#axisStarts}, blend them with the raised-cosine window, normalise by
 * the separable weight sum and round to uint8 like edgedeblur.io.from_float. Only one row of
 * tiles is held in float (a band {@code tile} rows tall), so a 12 MP photo fits in a phone's heap.
 */
public final class TiledRestorer {
    /** Called after each model call, with its wall time, for the on-screen latency. */
    public interface Progress {
        void onTile(int done, int total, long nanos);
    }

    /** Dynamic models above this many pixels are tiled (Runner's DEFAULT_MAX_PIXELS). */
    public static final int DEFAULT_MAX_PIXELS = 2_000_000;
    private static final int DYNAMIC_TILE = 512;
    private static final int DYNAMIC_OVERLAP = 32;

    private final ModelManifest manifest;
    private final int tile;
    private final int overlap;
    private final int maxPixels;

    public TiledRestorer(ModelManifest manifest) {
        this(manifest, DEFAULT_MAX_PIXELS);
    }

    public TiledRestorer(ModelManifest manifest, int maxPixels) {
        this.manifest = manifest;
        this.tile = manifest.tileSize > 0 ? manifest.tileSize : DYNAMIC_TILE;
        this.overlap = manifest.tileSize > 0 ? manifest.tileOverlap : DYNAMIC_OVERLAP;
        this.maxPixels = maxPixels;
    }

    /** How many model calls {@link #restore} will make for an h x w image. */
    public int tileCount(int h, int w) {
        if (!useTiles(h, w)) {
            return 1;
        }
        return Tiling.tileGrid(Math.max(tile, h), Math.max(tile, w), tile, overlap).size();
    }

    private boolean useTiles(int h, int w) {
        return !manifest.dynamicHw || (long) h * w > maxPixels;
    }

    /** Restore {@code src}; returns uint8 values (0..255) as bytes, HWC, same size as the source. */
    public byte[] restore(PixelSource src, TileModel model, Progress progress) {
        int h = src.height();
        int w = src.width();
        int c = src.channels();
        if (c != manifest.input.channels) {
            throw new IllegalArgumentException("image has " + c + " channels, the model takes "
                    + manifest.input.channels + " (run a grey model once per colour channel)");
        }
        boolean tiles = useTiles(h, w);
        int m = manifest.padMultiple;
        int ph = tiles ? Math.max(tile, h) : ceilTo(h, m);
        int pw = tiles ? Math.max(tile, w) : ceilTo(w, m);
        boolean edge = Math.min(h, w) <= 1;
        byte[] out = new byte[h * w * c];
        if (!tiles || (ph == tile && pw == tile)) {
            long t0 = System.nanoTime();
            float[] res = model.infer(crop(src, 0, 0, ph, pw, edge), ph, pw, c);
            report(progress, 1, 1, t0);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    for (int k = 0; k < c; k++) {
                        out[(y * w + x) * c + k] = (byte) Pixels.toUint8(res[(y * pw + x) * c + k]);
                    }
                }
            }
            return out;
        }
        runTiled(src, model, progress, out, ph, pw, edge);
        return out;
    }

    private void runTiled(PixelSource src, TileModel model, Progress progress, byte[] out,
                          int ph, int pw, boolean edge) {
        int h = src.height();
        int w = src.width();
        int c = src.channels();
        int[] ys = Tiling.axisStarts(ph, tile, overlap);
        int[] xs = Tiling.axisStarts(pw, tile, overlap);
        float[] ramp = Tiling.blendRamp(tile, overlap);
        float[] wy = Tiling.axisWeightSum(ph, ys, ramp);
        float[] wx = Tiling.axisWeightSum(pw, xs, ramp);
        float[] band = new float[tile * pw * c];
        int bandTop = 0;
        int total = ys.length * xs.length;
        int done = 0;
        for (int row = 0; row < ys.length; row++) {
            int y0 = ys[row];
            shiftUp(band, y0 - bandTop, pw * c);
            bandTop = y0;
            for (int x0 : xs) {
                long t0 = System.nanoTime();
                float[] res = model.infer(crop(src, y0, x0, tile, tile, edge), tile, tile, c);
                report(progress, ++done, total, t0);
                for (int i = 0; i < tile; i++) {
                    for (int j = 0; j < tile; j++) {
                        float win = ramp[i] * ramp[j];
                        int b = (i * pw + x0 + j) * c;
                        int r = (i * tile + j) * c;
                        for (int k = 0; k < c; k++) {
                            band[b + k] += res[r + k] * win;
                        }
                    }
                }
            }
            int doneTo = row + 1 < ys.length ? ys[row + 1] : ph;
            for (int y = bandTop; y < Math.min(doneTo, h); y++) {
                for (int x = 0; x < w; x++) {
                    float norm = wy[y] * wx[x];
                    int b = ((y - bandTop) * pw + x) * c;
                    for (int k = 0; k < c; k++) {
                        out[(y * w + x) * c + k] = (byte) Pixels.toUint8(band[b + k] / norm);
                    }
                }
            }
        }
    }

    /** Move band rows up by {@code shift} and zero the freed rows. */
    private void shiftUp(float[] band, int shift, int rowLen) {
        if (shift <= 0) {
            return;
        }
        int keep = Math.max(0, tile - shift) * rowLen;
        System.arraycopy(band, shift * rowLen, band, 0, keep);
        java.util.Arrays.fill(band, keep, band.length, 0f);
    }

    /** A th x tw crop at (y0, x0) of the source reflect-padded bottom/right (numpy 'reflect'). */
    private static float[] crop(PixelSource src, int y0, int x0, int th, int tw, boolean edge) {
        int c = src.channels();
        float[] t = new float[th * tw * c];
        for (int i = 0; i < th; i++) {
            int sy = reflect(y0 + i, src.height(), edge);
            for (int j = 0; j < tw; j++) {
                int sx = reflect(x0 + j, src.width(), edge);
                for (int k = 0; k < c; k++) {
                    t[(i * tw + j) * c + k] = src.get(sy, sx, k);
                }
            }
        }
        return t;
    }

    /** Index into [0, n) for a padded index >= 0: mirror without repeating the edge, period 2(n-1). */
    static int reflect(int i, int n, boolean edge) {
        if (i < n) {
            return i;
        }
        if (edge || n == 1) {
            return n - 1;
        }
        int period = 2 * (n - 1);
        int r = i % period;
        return r < n ? r : period - r;
    }

    private static int ceilTo(int v, int m) {
        return (v + m - 1) / m * m;
    }

    private static void report(Progress progress, int done, int total, long t0) {
        if (progress != null) {
            progress.onTile(done, total, System.nanoTime() - t0);
        }
    }
}
