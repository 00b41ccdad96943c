package org.edgedeblur.core;

/**
 * Read access to an image without copying it to floats as a whole (a 12 MP photo in float32
 * would be 144 MB on a phone). Values are in [0, 1].
 */
public interface PixelSource {
    int height();

    int width();

    int channels();

    float get(int y, int x, int c);

    /** ARGB_8888 pixels (Android Bitmap.getPixels order) seen as RGB, or one channel of it. */
    static PixelSource ofArgb(int[] argb, int width, int height, int channel) {
        if (argb.length != width * height) {
            throw new IllegalArgumentException("argb has " + argb.length + " pixels, expected " + width * height);
        }
        return new PixelSource() {
            @Override
            public int height() {
                return height;
            }

            @Override
            public int width() {
                return width;
            }

            @Override
            public int channels() {
                return channel < 0 ? 3 : 1;
            }

            @Override
            public float get(int y, int x, int c) {
                int ch = channel < 0 ? c : channel;
                return Pixels.channel(argb[y * width + x], ch) / 255f;
            }
        };
    }

    /** Interleaved uint8 HWC bytes (c = 1 or 3), as the golden vectors store them. */
    static PixelSource ofUint8(int[] hwc, int width, int height, int channels) {
        if (hwc.length != width * height * channels) {
            throw new IllegalArgumentException("image has " + hwc.length + " values, expected "
                    + width * height * channels);
        }
        return new PixelSource() {
            @Override
            public int height() {
                return height;
            }

            @Override
            public int width() {
                return width;
            }

            @Override
            public int channels() {
                return channels;
            }

            @Override
            public float get(int y, int x, int c) {
                return hwc[(y * width + x) * channels + c] / 255f;
            }
        };
    }
}
