package org.edgedeblur.core;

/**
 * Complex FFT of any length n >= 1 on interleaved float data (re, im, re, im, ...).
 *
 * <p>5-smooth lengths (2^a 3^b 5^c, what the deblur data step uses) run a self-sorting Stockham
 * transform of radix 4, 2, 3 and 5: stage by stage, sub-sequences of length {@code L = r m} at
 * stride {@code s} are split into {@code r} interleaved parts, an r-point DFT is taken and the
 * results are multiplied by {@code exp(-2 pi i j p / L)}; the output lands in natural order, no
 * bit reversal. Other lengths use Bluestein's chirp-z: {@code X[k] = c[k] sum_j (x[j] c[j])
 * conj(c[k - j])} with {@code c[j] = exp(-pi i j^2 / n)}, a circular convolution done by a
 * power-of-two FFT of at least {@code 2n - 1} points.
 *
 * <p>Forward is {@code X[k] = sum x[j] exp(-2 pi i jk / n)} (numpy.fft.fft); the inverse is
 * unnormalised (numpy's ifft times n). A plan owns its scratch: one plan per thread.
 */
public final class Fft {
    private static final double TWO_PI = 2.0 * Math.PI;
    private static final float S60 = (float) Math.sin(Math.PI / 3.0);
    private static final float C72 = (float) Math.cos(TWO_PI / 5.0);
    private static final float C144 = (float) Math.cos(2.0 * TWO_PI / 5.0);
    private static final float S72 = (float) Math.sin(TWO_PI / 5.0);
    private static final float S144 = (float) Math.sin(2.0 * TWO_PI / 5.0);

    /** The transform length. */
    public final int n;
    private final int[] radix;      // per stage
    private final float[][] twiddle; // per stage: (m x (r - 1)) complex, p-major
    private final float[] scratch;   // 2n floats, the Stockham ping-pong buffer
    // Bluestein (n not 5-smooth): chirp, the kernel's spectrum / m, the inner plan and its buffer
    private final Fft inner;
    private final float[] chirp;
    private final float[] kernelSpec;
    private final float[] conv;

    public Fft(int n) {
        if (n < 1) {
            throw new IllegalArgumentException("FFT length must be at least 1, given " + n);
        }
        this.n = n;
        int[] factors = smoothFactors(n);
        if (factors != null) {
            radix = factors;
            twiddle = new float[factors.length][];
            int len = n;
            for (int st = 0; st < factors.length; st++) {
                int r = factors[st];
                int m = len / r;
                float[] t = new float[2 * m * (r - 1)];
                for (int p = 0; p < m; p++) {
                    for (int j = 1; j < r; j++) {
                        double a = -TWO_PI * ((long) j * p % len) / len;
                        t[2 * (p * (r - 1) + j - 1)] = (float) Math.cos(a);
                        t[2 * (p * (r - 1) + j - 1) + 1] = (float) Math.sin(a);
                    }
                }
                twiddle[st] = t;
                len = m;
            }
            scratch = new float[2 * n];
            inner = null;
            chirp = kernelSpec = conv = null;
            return;
        }
        radix = null;
        twiddle = null;
        scratch = null;
        int m = 1;
        while (m < 2 * n - 1) {
            m <<= 1;
        }
        inner = new Fft(m);
        chirp = new float[2 * n];
        for (int j = 0; j < n; j++) {
            long q = (long) j * j % (2L * n); // exact phase: j^2 mod 2n
            double a = -Math.PI * q / n;
            chirp[2 * j] = (float) Math.cos(a);
            chirp[2 * j + 1] = (float) Math.sin(a);
        }
        kernelSpec = new float[2 * m];
        for (int j = 0; j < n; j++) { // conj(chirp), wrapped: indices j and m - j
            float re = chirp[2 * j] / m;
            float im = -chirp[2 * j + 1] / m;
            kernelSpec[2 * j] = re;
            kernelSpec[2 * j + 1] = im;
            if (j > 0) {
                kernelSpec[2 * (m - j)] = re;
                kernelSpec[2 * (m - j) + 1] = im;
            }
        }
        inner.forward(kernelSpec, 0);
        conv = new float[2 * m];
    }

    /** Radices 4, 2, 3, 5 whose product is n, or null when n has another prime factor. */
    static int[] smoothFactors(int n) {
        int[] out = new int[32];
        int k = 0;
        int rest = n;
        while (rest % 4 == 0) {
            out[k++] = 4;
            rest /= 4;
        }
        for (int p : new int[] {2, 3, 5}) {
            while (rest % p == 0) {
                out[k++] = p;
                rest /= p;
            }
        }
        return rest == 1 ? java.util.Arrays.copyOf(out, k) : null;
    }

    /** True when n is 2^a 3^b 5^c (the fast path, no Bluestein). */
    public static boolean isSmooth(int n) {
        return n >= 1 && smoothFactors(n) != null;
    }

    /** The smallest 2^a 3^b 5^c >= n (scipy.fft.next_fast_len(n, real=True)). */
    public static int nextFastLen(int n) {
        int m = Math.max(1, n);
        while (!isSmooth(m)) {
            m++;
        }
        return m;
    }

    /** In place forward transform of x[off .. off + 2n). */
    public void forward(float[] x, int off) {
        if (inner != null) {
            bluestein(x, off);
        } else {
            stockham(x, off);
        }
    }

    /** In place unnormalised inverse: conj(forward(conj(x))). */
    public void inverse(float[] x, int off) {
        for (int i = 0; i < n; i++) {
            x[off + 2 * i + 1] = -x[off + 2 * i + 1];
        }
        forward(x, off);
        for (int i = 0; i < n; i++) {
            x[off + 2 * i + 1] = -x[off + 2 * i + 1];
        }
    }

    private void bluestein(float[] x, int off) {
        int m = inner.n;
        float[] a = conv;
        for (int j = 0; j < n; j++) {
            float xr = x[off + 2 * j];
            float xi = x[off + 2 * j + 1];
            float cr = chirp[2 * j];
            float ci = chirp[2 * j + 1];
            a[2 * j] = xr * cr - xi * ci;
            a[2 * j + 1] = xr * ci + xi * cr;
        }
        java.util.Arrays.fill(a, 2 * n, 2 * m, 0f);
        inner.forward(a, 0);
        for (int k = 0; k < m; k++) {
            float ar = a[2 * k];
            float ai = a[2 * k + 1];
            float br = kernelSpec[2 * k];
            float bi = kernelSpec[2 * k + 1];
            a[2 * k] = ar * br - ai * bi;
            a[2 * k + 1] = ar * bi + ai * br;
        }
        inner.inverse(a, 0);
        for (int k = 0; k < n; k++) {
            float ar = a[2 * k];
            float ai = a[2 * k + 1];
            float cr = chirp[2 * k];
            float ci = chirp[2 * k + 1];
            x[off + 2 * k] = ar * cr - ai * ci;
            x[off + 2 * k + 1] = ar * ci + ai * cr;
        }
    }

    private void stockham(float[] x, int off) {
        float[] src = x;
        int srcOff = off;
        float[] dst = scratch;
        int dstOff = 0;
        int len = n;
        int s = 1;
        for (int st = 0; st < radix.length; st++) {
            int r = radix[st];
            int m = len / r;
            switch (r) {
                case 4: pass4(src, srcOff, dst, dstOff, m, s, twiddle[st]); break;
                case 2: pass2(src, srcOff, dst, dstOff, m, s, twiddle[st]); break;
                case 3: pass3(src, srcOff, dst, dstOff, m, s, twiddle[st]); break;
                default: pass5(src, srcOff, dst, dstOff, m, s, twiddle[st]); break;
            }
            float[] t = src;
            int to = srcOff;
            src = dst;
            srcOff = dstOff;
            dst = t;
            dstOff = to;
            len = m;
            s *= r;
        }
        if (src != x) {
            System.arraycopy(src, srcOff, x, off, 2 * n);
        }
    }

    // In every pass: input element (q, p + k m) at 2 (q + s (p + k m)), output (q, r p + j) at
    // 2 (q + s (r p + j)), output j multiplied by twiddle (p, j).

    private static void pass2(float[] a, int ao, float[] b, int bo, int m, int s, float[] tw) {
        for (int p = 0; p < m; p++) {
            float wr = tw[2 * p];
            float wi = tw[2 * p + 1];
            for (int q = 0; q < s; q++) {
                int i0 = ao + 2 * (q + s * p);
                int i1 = i0 + 2 * s * m;
                float x0r = a[i0], x0i = a[i0 + 1], x1r = a[i1], x1i = a[i1 + 1];
                int o = bo + 2 * (q + s * 2 * p);
                b[o] = x0r + x1r;
                b[o + 1] = x0i + x1i;
                float dr = x0r - x1r, di = x0i - x1i;
                b[o + 2 * s] = dr * wr - di * wi;
                b[o + 2 * s + 1] = dr * wi + di * wr;
            }
        }
    }

    private static void pass4(float[] a, int ao, float[] b, int bo, int m, int s, float[] tw) {
        int step = 2 * s * m;
        for (int p = 0; p < m; p++) {
            int t = 6 * p;
            float w1r = tw[t], w1i = tw[t + 1], w2r = tw[t + 2], w2i = tw[t + 3], w3r = tw[t + 4], w3i = tw[t + 5];
            for (int q = 0; q < s; q++) {
                int i0 = ao + 2 * (q + s * p);
                float x0r = a[i0], x0i = a[i0 + 1];
                float x1r = a[i0 + step], x1i = a[i0 + step + 1];
                float x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1];
                float x3r = a[i0 + 3 * step], x3i = a[i0 + 3 * step + 1];
                float s02r = x0r + x2r, s02i = x0i + x2i, d02r = x0r - x2r, d02i = x0i - x2i;
                float s13r = x1r + x3r, s13i = x1i + x3i, d13r = x1r - x3r, d13i = x1i - x3i;
                int o = bo + 2 * (q + s * 4 * p);
                b[o] = s02r + s13r;
                b[o + 1] = s02i + s13i;
                // y1 = d02 - i d13, y2 = s02 - s13, y3 = d02 + i d13
                float y1r = d02r + d13i, y1i = d02i - d13r;
                float y2r = s02r - s13r, y2i = s02i - s13i;
                float y3r = d02r - d13i, y3i = d02i + d13r;
                b[o + 2 * s] = y1r * w1r - y1i * w1i;
                b[o + 2 * s + 1] = y1r * w1i + y1i * w1r;
                b[o + 4 * s] = y2r * w2r - y2i * w2i;
                b[o + 4 * s + 1] = y2r * w2i + y2i * w2r;
                b[o + 6 * s] = y3r * w3r - y3i * w3i;
                b[o + 6 * s + 1] = y3r * w3i + y3i * w3r;
            }
        }
    }

    private static void pass3(float[] a, int ao, float[] b, int bo, int m, int s, float[] tw) {
        int step = 2 * s * m;
        for (int p = 0; p < m; p++) {
            float w1r = tw[4 * p], w1i = tw[4 * p + 1], w2r = tw[4 * p + 2], w2i = tw[4 * p + 3];
            for (int q = 0; q < s; q++) {
                int i0 = ao + 2 * (q + s * p);
                float x0r = a[i0], x0i = a[i0 + 1];
                float x1r = a[i0 + step], x1i = a[i0 + step + 1];
                float x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1];
                float tr = x1r + x2r, ti = x1i + x2i;
                float mr = x0r - 0.5f * tr, mi = x0i - 0.5f * ti;
                float dr = S60 * (x1r - x2r), di = S60 * (x1i - x2i); // y1 = m - i d, y2 = m + i d
                int o = bo + 2 * (q + s * 3 * p);
                b[o] = x0r + tr;
                b[o + 1] = x0i + ti;
                float y1r = mr + di, y1i = mi - dr, y2r = mr - di, y2i = mi + dr;
                b[o + 2 * s] = y1r * w1r - y1i * w1i;
                b[o + 2 * s + 1] = y1r * w1i + y1i * w1r;
                b[o + 4 * s] = y2r * w2r - y2i * w2i;
                b[o + 4 * s + 1] = y2r * w2i + y2i * w2r;
            }
        }
    }

    private static void pass5(float[] a, int ao, float[] b, int bo, int m, int s, float[] tw) {
        int step = 2 * s * m;
        for (int p = 0; p < m; p++) {
            int t = 8 * p;
            for (int q = 0; q < s; q++) {
                int i0 = ao + 2 * (q + s * p);
                float x0r = a[i0], x0i = a[i0 + 1];
                float x1r = a[i0 + step], x1i = a[i0 + step + 1];
                float x2r = a[i0 + 2 * step], x2i = a[i0 + 2 * step + 1];
                float x3r = a[i0 + 3 * step], x3i = a[i0 + 3 * step + 1];
                float x4r = a[i0 + 4 * step], x4i = a[i0 + 4 * step + 1];
                float s14r = x1r + x4r, s14i = x1i + x4i, d14r = x1r - x4r, d14i = x1i - x4i;
                float s23r = x2r + x3r, s23i = x2i + x3i, d23r = x2r - x3r, d23i = x2i - x3i;
                // y1, y4 = a + c72 s14 + c144 s23 -/+ i (s72 d14 + s144 d23)
                // y2, y3 = a + c144 s14 + c72 s23 -/+ i (s144 d14 - s72 d23)
                float ar = x0r + C72 * s14r + C144 * s23r, ai = x0i + C72 * s14i + C144 * s23i;
                float br = S72 * d14r + S144 * d23r, bi = S72 * d14i + S144 * d23i;
                float cr = x0r + C144 * s14r + C72 * s23r, ci = x0i + C144 * s14i + C72 * s23i;
                float dr = S144 * d14r - S72 * d23r, di = S144 * d14i - S72 * d23i;
                int o = bo + 2 * (q + s * 5 * p);
                b[o] = x0r + s14r + s23r;
                b[o + 1] = x0i + s14i + s23i;
                twiddled(b, o + 2 * s, ar + bi, ai - br, tw, t);
                twiddled(b, o + 4 * s, cr + di, ci - dr, tw, t + 2);
                twiddled(b, o + 6 * s, cr - di, ci + dr, tw, t + 4);
                twiddled(b, o + 8 * s, ar - bi, ai + br, tw, t + 6);
            }
        }
    }

    private static void twiddled(float[] b, int o, float yr, float yi, float[] tw, int t) {
        float wr = tw[t];
        float wi = tw[t + 1];
        b[o] = yr * wr - yi * wi;
        b[o + 1] = yr * wi + yi * wr;
    }
}
