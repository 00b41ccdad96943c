package org.edgedeblur.core;

/**
 * Pixel <-> tensor value conversion for one tensor, matching edgedeblur.runtime.Runner.to_model /
 * from_model bit for bit: real = scale * (q - zero_point); quantize rounds half to even
 * ({@link Math#rint}, like numpy.rint) in float32 and clips to the dtype's range.
 */
public final class Quantizer {
    private final boolean quantized;
    private final float scale;
    private final int zeroPoint;
    private final int qmin;
    private final int qmax;
    private final float lo;
    private final float hi;

    public Quantizer(String dtype, double scale, int zeroPoint, float rangeLo, float rangeHi) {
        this.quantized = dtype.equals("int8") || dtype.equals("uint8");
        this.scale = (float) scale;
        this.zeroPoint = zeroPoint;
        this.qmin = dtype.equals("int8") ? -128 : 0;
        this.qmax = dtype.equals("int8") ? 127 : 255;
        this.lo = rangeLo;
        this.hi = rangeHi;
    }

    public boolean isQuantized() {
        return quantized;
    }

    /** Pixel in [0, 1] -> model real range (identity for the zoo's [0, 1]). */
    private float toRange(float v) {
        return (lo == 0f && hi == 1f) ? v : v * (hi - lo) + lo;
    }

    /** Pixel value in [0, 1] -> integer tensor value (int8 as -128..127, uint8 as 0..255). */
    public int quantize(float pixel) {
        double q = Math.rint(toRange(pixel) / scale) + zeroPoint;
        return (int) Math.max(qmin, Math.min(qmax, q));
    }

    /** Integer tensor value -> real value mapped back to [0, 1] (not clipped). */
    public float dequantize(int q) {
        float y = (float) (q - zeroPoint) * scale;
        return (lo == 0f && hi == 1f) ? y : (y - lo) / (hi - lo);
    }

    /** Float tensor value -> [0, 1] pixel scale (for float32 models). */
    public float fromReal(float y) {
        return (lo == 0f && hi == 1f) ? y : (y - lo) / (hi - lo);
    }

    /** Pixel in [0, 1] -> float tensor value (for float32 models). */
    public float toReal(float pixel) {
        return toRange(pixel);
    }
}
