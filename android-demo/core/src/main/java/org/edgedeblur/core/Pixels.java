package org.edgedeblur.core;

/** Colour conversion between ARGB_8888 ints and uint8 planes, matching edgedeblur.io.from_float. */
public final class Pixels {
    private Pixels() {
    }

    /** Channel 0 = R, 1 = G, 2 = B of an ARGB int, 0..255. */
    public static int channel(int argb, int c) {
        return (argb >> (16 - 8 * c)) & 0xFF;
    }

    /** float in [0, 1] -> uint8 exactly like from_float: clip, *255 + 0.5 in float32, truncate. */
    public static int toUint8(float v) {
        float clipped = v < 0f ? 0f : (v > 1f ? 1f : v);
        return (int) (clipped * 255f + 0.5f);
    }

    /** Interleaved uint8 RGB (or grey) HWC -> opaque ARGB ints for a Bitmap. */
    public static int[] toArgb(byte[] hwc, int width, int height, int channels) {
        int[] argb = new int[width * height];
        for (int i = 0; i < argb.length; i++) {
            int r = hwc[i * channels] & 0xFF;
            int g = channels == 3 ? hwc[i * 3 + 1] & 0xFF : r;
            int b = channels == 3 ? hwc[i * 3 + 2] & 0xFF : r;
            argb[i] = 0xFF000000 | (r << 16) | (g << 8) | b;
        }
        return argb;
    }

    /** Merge three single-channel uint8 planes (grey model run per channel) into ARGB. */
    public static int[] planesToArgb(byte[] r, byte[] g, byte[] b) {
        int[] argb = new int[r.length];
        for (int i = 0; i < argb.length; i++) {
            argb[i] = 0xFF000000 | ((r[i] & 0xFF) << 16) | ((g[i] & 0xFF) << 8) | (b[i] & 0xFF);
        }
        return argb;
    }
}
