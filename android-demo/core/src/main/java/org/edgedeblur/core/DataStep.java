package org.edgedeblur.core;

import java.util.Arrays;

/**
 * The frequency-domain data step of edgedeblur.runtime.deconv / runtime._fft, float32 operation
 * for operation. The frame is extended by symmetric reflection to a 5-smooth size with at least
 * kernel + 4 px a side (pad_and_taper), the extension tapered with raised-cosine ramps towards
 * the channel mean ({@link #TAPER_MEAN}), the circularly blurred extension ({@link #TAPER_BLUR})
 * or not at all ({@link #TAPER_NONE}); then per channel
 * <pre>
 *   Wiener:  X = conj(K) F(y) / (|K|^2 + nsr |D|^2)        (wiener_deconvolve)
 *   HQS:     X = (conj(K) F(y) + rho F(z)) / (|K|^2 + rho) (DataStep.solve)
 * </pre>
 * Images are float planes in [0, 1]: channel c of an h x w image starts at c h w. Kernels are
 * kh x kw, row-major, summing to 1, centre (kh / 2, kw / 2) (runtime._fft.psf2otf).
 *
 * <p>Memory (floats): the OTF 2 hp wc, one spectrum 2 hp wc, one extended plane hp wp, for HQS
 * conj(K) F(y) per channel (c x 2 hp wc), for taper "blur" the c tapered extensions; channels
 * are processed one at a time. Not thread safe (one FFT plan and its buffers).
 */
public final class DataStep {
    public static final int TAPER_MEAN = 0;
    public static final int TAPER_NONE = 1;
    public static final int TAPER_BLUR = 2;
    /** deconv.MIN_SIGMA (0-255 scale). */
    public static final double MIN_SIGMA = 1.0;

    public final int h, w, c, hp, wp, top, left;
    private final int taper;
    private final float[] y;
    private final RealFft2 fft;
    private final float[] otf;
    private final float[] kty;   // c spectra (HQS), or null
    private final float[] spec;
    private final float[] pad;
    private final float[] ext;   // c tapered extensions (taper "blur"), or null
    private final float[] wy, wx, gfx, mean;

    /** Taper by name: "mean", "none" or "blur" (the manifest's pipeline.taper). */
    public static int taperOf(String name) {
        switch (name) {
            case "mean": return TAPER_MEAN;
            case "none": return TAPER_NONE;
            case "blur": return TAPER_BLUR;
            default: throw new IllegalArgumentException("unknown taper: given " + name + "; allowed mean, none, blur");
        }
    }

    /**
     * Binds the image {@code y} (c planes of h x w, kept by reference) and the kernel.
     * @param hqs keep conj(K) F(y) per channel for {@link #solve}
     */
    public DataStep(float[] y, int h, int w, int c, float[] kernel, int kh, int kw, int taper, boolean hqs) {
        if (h < 1 || w < 1 || c < 1 || kh < 1 || kw < 1 || y.length < c * h * w || kernel.length < kh * kw) {
            throw new IllegalArgumentException("data step: bad sizes (image " + h + "x" + w + "x" + c
                    + ", kernel " + kh + "x" + kw + ")");
        }
        if (taper < TAPER_MEAN || taper > TAPER_BLUR) {
            throw new IllegalArgumentException("unknown taper " + taper);
        }
        this.h = h;
        this.w = w;
        this.c = c;
        this.y = y;
        this.taper = taper;
        hp = Fft.nextFastLen(h + 2 * (kh + 4));
        wp = Fft.nextFastLen(w + 2 * (kw + 4));
        top = (hp - h) / 2;
        left = (wp - w) / 2;
        fft = new RealFft2(hp, wp);
        int bins = fft.spectrumLength();
        otf = new float[bins];
        spec = new float[bins];
        pad = new float[hp * wp];
        wy = ramp(hp, top, h);
        wx = ramp(wp, left, w);
        gfx = new float[fft.wc];
        for (int q = 0; q < fft.wc; q++) { // gradient_spectrum, float32 as numpy computes it
            gfx[q] = 2f - 2f * (float) Math.cos((float) (2.0 * Math.PI) * (float) q / (float) wp);
        }
        for (int r = 0; r < kh; r++) { // psf2otf: centre (kh / 2, kw / 2) rolled to (0, 0)
            for (int q = 0; q < kw; q++) {
                int rr = Math.floorMod(r - kh / 2, hp);
                int cc = Math.floorMod(q - kw / 2, wp);
                pad[rr * wp + cc] = kernel[r * kw + q];
            }
        }
        fft.forward(pad, 0, otf);
        mean = new float[c];
        int hw = h * w;
        for (int ch = 0; ch < c; ch++) { // taper "mean": every 4th pixel of every 4th row
            double sum = 0.0;
            int count = 0;
            for (int r = 0; r < h; r += 4) {
                for (int q = 0; q < w; q += 4) {
                    sum += y[ch * hw + r * w + q];
                    count++;
                }
            }
            mean[ch] = (float) (sum / count);
        }
        int plane = hp * wp;
        if (taper == TAPER_BLUR) { // towards irfft2(rfft2(reflected) * otf)
            ext = new float[c * plane];
            for (int ch = 0; ch < c; ch++) {
                reflect(y, ch * hw, ext, ch * plane);
                fft.forward(ext, ch * plane, spec);
                multiply(spec, otf);
                fft.inverse(spec, pad, 0);
                blend(ext, ch * plane, pad, 0f);
            }
        } else {
            ext = null;
        }
        if (hqs) {
            kty = new float[c * bins];
            for (int ch = 0; ch < c; ch++) {
                extendY(ch, pad);
                fft.forward(pad, 0, spec);
                for (int i = 0; i < bins; i += 2) { // conj(otf) * F(y)
                    float or = otf[i], oi = otf[i + 1], fr = spec[i], fi = spec[i + 1];
                    kty[ch * bins + i] = or * fr + oi * fi;
                    kty[ch * bins + i + 1] = or * fi - oi * fr;
                }
            }
        } else {
            kty = null;
        }
    }

    /** Floats this data step holds for an h x w x c image and a kh x kw kernel (see the class doc). */
    public static long floatsNeeded(int h, int w, int c, int kh, int kw, int taper, boolean hqs) {
        long hp = Fft.nextFastLen(h + 2 * (kh + 4));
        long wp = Fft.nextFastLen(w + 2 * (kw + 4));
        long bins = 2 * hp * (wp / 2 + 1);
        long n = 2 * bins + hp * wp + (hqs ? c * bins : 0) + (taper == TAPER_BLUR ? c * hp * wp : 0);
        return n + 2 * wp + 16 * hp + 4 * hp + wp; // FFT buffers, twiddles, ramps
    }

    /** _fft._ramp: 1 over [start, start + length), raised cosine down to 0 outside. */
    static float[] ramp(int total, int start, int length) {
        float[] r = new float[total];
        Arrays.fill(r, 1f);
        float pi = (float) Math.PI;
        int after = total - (start + length);
        for (int i = 0; i < start; i++) {
            float t = ((float) i + 0.5f) / (float) start;
            r[i] = 0.5f - 0.5f * (float) Math.cos(pi * t);
        }
        for (int i = 0; i < after; i++) {
            float t = ((float) i + 0.5f) / (float) after;
            r[start + length + i] = 0.5f + 0.5f * (float) Math.cos(pi * t);
        }
        return r;
    }

    /** numpy.pad mode "symmetric" (edge repeated), any distance from the frame. */
    static int symIndex(int i, int n) {
        int j = Math.floorMod(i, 2 * n);
        return j < n ? j : 2 * n - 1 - j;
    }

    private void reflect(float[] src, int srcOff, float[] dst, int dstOff) {
        int[] cols = new int[wp];
        for (int j = 0; j < wp; j++) {
            cols[j] = symIndex(j - left, w);
        }
        for (int i = 0; i < hp; i++) {
            int row = srcOff + symIndex(i - top, h) * w;
            int o = dstOff + i * wp;
            for (int j = 0; j < wp; j++) {
                dst[o + j] = src[row + cols[j]];
            }
        }
    }

    /** _blend_extension: outside the frame, x -= (1 - wy wx) (x - target). */
    private void blend(float[] x, int off, float[] target, float constant) {
        for (int i = 0; i < hp; i++) {
            boolean inside = i >= top && i < top + h;
            int o = off + i * wp;
            for (int j = 0; j < wp; j++) {
                if (inside && j == left) {
                    j = left + w - 1;
                    continue;
                }
                float weight = wy[i] * wx[j];
                float goal = target != null ? target[i * wp + j] : constant;
                x[o + j] -= (1f - weight) * (x[o + j] - goal);
            }
        }
    }

    private static void multiply(float[] s, float[] k) {
        for (int i = 0; i < s.length; i += 2) {
            float ar = s[i], ai = s[i + 1], br = k[i], bi = k[i + 1];
            s[i] = ar * br - ai * bi;
            s[i + 1] = ar * bi + ai * br;
        }
    }

    /** The tapered extension of channel ch of y into dst (hp x wp). */
    private void extendY(int ch, float[] dst) {
        int plane = hp * wp;
        if (ext != null) {
            System.arraycopy(ext, ch * plane, dst, 0, plane);
            return;
        }
        reflect(y, ch * h * w, dst, 0);
        if (taper == TAPER_MEAN) {
            blend(dst, 0, null, mean[ch]);
        }
    }

    private void crop(float[] padded, float[] out, int off) {
        for (int i = 0; i < h; i++) {
            System.arraycopy(padded, (i + top) * wp + left, out, off + i * w, w);
        }
    }

    /** deconv.wiener_deconvolve(y, kernel, nsr=nsr): c planes of h x w, not clipped. */
    public float[] wiener(double nsr, float[] out) {
        if (!(nsr > 0.0) || nsr > 1e30) {
            throw new IllegalArgumentException("nsr must be a positive number, given " + nsr);
        }
        float nsr32 = (float) nsr;
        float twoPi = (float) (2.0 * Math.PI);
        int wc = fft.wc;
        for (int ch = 0; ch < c; ch++) {
            extendY(ch, pad);
            fft.forward(pad, 0, spec);
            for (int i = 0; i < hp; i++) {
                float fy = 2f - 2f * (float) Math.cos(twoPi * (float) i / (float) hp);
                for (int j = 0; j < wc; j++) {
                    int k = 2 * (i * wc + j);
                    float or = otf[k], oi = otf[k + 1];
                    float den = or * or + oi * oi + nsr32 * (fy + gfx[j]);
                    float scl = 1f / den, fr = or * scl, fi = -oi * scl;
                    float ar = spec[k], ai = spec[k + 1];
                    spec[k] = ar * fr - ai * fi;
                    spec[k + 1] = ar * fi + ai * fr;
                }
            }
            fft.inverse(spec, pad, 0);
            crop(pad, out, ch * h * w);
        }
        return out;
    }

    /** DataStep.solve(z, rho): argmin ||k * x - y||^2 + rho ||x - z||^2 (needs hqs). out may be z. */
    public float[] solve(float[] z, double rho, float[] out) {
        if (kty == null) {
            throw new IllegalStateException("this data step was made without hqs");
        }
        if (!(rho > 0.0) || rho > 1e30) {
            throw new IllegalArgumentException("HQS rho must be a positive number, given " + rho);
        }
        float r32 = (float) rho;
        int bins = spec.length;
        int hw = h * w;
        for (int ch = 0; ch < c; ch++) {
            extendY(ch, pad); // z inside the frame, y's tapered extension outside
            for (int r = 0; r < h; r++) {
                System.arraycopy(z, ch * hw + r * w, pad, (r + top) * wp + left, w);
            }
            fft.forward(pad, 0, spec);
            for (int i = 0; i < bins; i += 2) {
                float or = otf[i], oi = otf[i + 1];
                float scl = 1f / ((or * or + oi * oi) + r32);
                spec[i] = (spec[i] * r32 + kty[ch * bins + i]) * scl;
                spec[i + 1] = (spec[i + 1] * r32 + kty[ch * bins + i + 1]) * scl;
            }
            fft.inverse(spec, pad, 0);
            crop(pad, out, ch * hw);
        }
        return out;
    }

    // --- statistics and tone curves (runtime.deconv) -------------------------------------------

    /** deconv.estimate_noise_sigma of a c-plane image (0-255 scale, mean over channels). */
    public static double noiseSigma(float[] img, int h, int w, int c) {
        if (h < 3 || w < 3) {
            return 0.0;
        }
        double k = Math.sqrt(Math.PI / 2.0);
        int rows = 0;
        for (int i = 0; i < h - 2; i += 4) {
            rows++;
        }
        double total = 0.0;
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            double sum = 0.0;
            for (int i = 0; i < h - 2; i += 4) {
                int r0 = base + i * w, r1 = r0 + w, r2 = r1 + w;
                for (int j = 0; j < w - 2; j++) {
                    float d0 = (img[r0 + j] - 2f * img[r0 + j + 1]) + img[r0 + j + 2];
                    float d1 = (img[r1 + j] - 2f * img[r1 + j + 1]) + img[r1 + j + 2];
                    float d2 = (img[r2 + j] - 2f * img[r2 + j + 1]) + img[r2 + j + 2];
                    sum += Math.abs((d0 - 2f * d1) + d2);
                }
            }
            total += k / (6.0 * rows * (w - 2)) * sum;
        }
        return total / c * 255.0;
    }

    /** deconv.wiener_nsr: sigma^2 / (prior_scale G), G the noise-corrected gradient power. */
    public static double wienerNsr(float[] img, int h, int w, int c, double sigma, double priorScale) {
        double s = Math.max(sigma, MIN_SIGMA / 4);
        double noiseVar = (s / 255.0) * (s / 255.0);
        double gy = 0.0, gx = 0.0;
        long ny = 0, nx = 0;
        for (int ch = 0; ch < c; ch++) {
            int base = ch * h * w;
            for (int i = 1; i < h; i += 4) {
                for (int j = 0; j < w; j++) {
                    float d = img[base + i * w + j] - img[base + (i - 1) * w + j];
                    gy += d * d;
                    ny++;
                }
            }
            for (int i = 0; i < h; i++) {
                for (int j = 1; j < w; j += 4) {
                    float d = img[base + i * w + j] - img[base + i * w + j - 1];
                    gx += d * d;
                    nx++;
                }
            }
        }
        double power = (ny > 0 ? gy / ny : 0.0) + (nx > 0 ? gx / nx : 0.0) - 4.0 * noiseVar;
        return noiseVar / (priorScale * Math.max(power, 1e-4));
    }

    /** The inverse sRGB curve (clips to [0, 1] first), float32; in == out allowed. */
    public static float[] srgbToLinear(float[] in, float[] out) {
        for (int i = 0; i < in.length; i++) {
            float x = clip01(in[i]);
            out[i] = x <= 0.04045f ? x / 12.92f : (float) Math.pow((x + 0.055f) / 1.055f, 2.4f);
        }
        return out;
    }

    /** The sRGB curve (clips to [0, 1] first), float32; in == out allowed. */
    public static float[] linearToSrgb(float[] in, float[] out) {
        float e = (float) (1.0 / 2.4);
        for (int i = 0; i < in.length; i++) {
            float x = clip01(in[i]);
            out[i] = x <= 0.0031308f ? x * 12.92f : 1.055f * (float) Math.pow(x, e) - 0.055f;
        }
        return out;
    }

    static float clip01(float v) {
        return v < 0f ? 0f : (v > 1f ? 1f : v);
    }
}
