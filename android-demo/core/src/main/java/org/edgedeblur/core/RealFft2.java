package org.edgedeblur.core;

/**
 * 2-D FFT of a real h x w image (row-major floats), spectrum in the layout of numpy.fft.rfft2:
 * h x (w / 2 + 1) complex values, interleaved (re, im), row-major. The inverse is normalised
 * (numpy.fft.irfft2) and, like it, ignores the imaginary parts of the DC and (even w) Nyquist
 * bins of each row.
 *
 * <p>Rows go two at a time through one complex FFT of w points ({@code a + i b}; the two real
 * spectra are separated by conjugate symmetry); columns in blocks of 8 so each image row is
 * read once per block. A plan owns its buffers: one plan per thread.
 */
public final class RealFft2 {
    private static final int BLOCK = 8;
    public final int h;
    public final int w;
    /** Spectrum columns: w / 2 + 1. */
    public final int wc;
    private final Fft rows;
    private final Fft cols;
    private final float[] row;  // 2w: two rows as one complex sequence
    private final float[] col;  // BLOCK x 2h: a block of columns

    public RealFft2(int h, int w) {
        if (h < 1 || w < 1) {
            throw new IllegalArgumentException("FFT size must be at least 1 x 1, given " + h + " x " + w);
        }
        this.h = h;
        this.w = w;
        this.wc = w / 2 + 1;
        this.rows = new Fft(w);
        this.cols = new Fft(h);
        this.row = new float[2 * w];
        this.col = new float[BLOCK * 2 * h];
    }

    /** Floats a spectrum needs: 2 h wc. */
    public int spectrumLength() {
        return 2 * h * wc;
    }

    /** rfft2 of {@code in[off .. off + h w)} into {@code spec} (2 h wc floats). */
    public void forward(float[] in, int off, float[] spec) {
        for (int r = 0; r < h; r += 2) {
            boolean pair = r + 1 < h;
            int a = off + r * w;
            for (int j = 0; j < w; j++) {
                row[2 * j] = in[a + j];
                row[2 * j + 1] = pair ? in[a + w + j] : 0f;
            }
            rows.forward(row, 0);
            int oa = 2 * r * wc;
            int ob = oa + 2 * wc;
            for (int k = 0; k < wc; k++) {
                int kk = k == 0 ? 0 : w - k;
                float zr = row[2 * k], zi = row[2 * k + 1];
                float cr = row[2 * kk], ci = -row[2 * kk + 1]; // conj(Z[w - k])
                spec[oa + 2 * k] = 0.5f * (zr + cr);        // A = (Z + conj Z') / 2
                spec[oa + 2 * k + 1] = 0.5f * (zi + ci);
                if (pair) {                                   // B = (Z - conj Z') / 2i
                    spec[ob + 2 * k] = 0.5f * (zi - ci);
                    spec[ob + 2 * k + 1] = -0.5f * (zr - cr);
                }
            }
        }
        columns(spec, false);
    }

    /** irfft2 of {@code spec} (destroyed: used as work) into {@code out[off .. off + h w)}. */
    public void inverse(float[] spec, float[] out, int off) {
        columns(spec, true);
        float scale = 1f / ((float) h * (float) w);
        boolean nyquist = w % 2 == 0;
        for (int r = 0; r < h; r += 2) {
            boolean pair = r + 1 < h;
            int oa = 2 * r * wc;
            int ob = oa + 2 * wc;
            spec[oa + 1] = 0f;
            if (nyquist) {
                spec[oa + 2 * (wc - 1) + 1] = 0f;
            }
            if (pair) {
                spec[ob + 1] = 0f;
                if (nyquist) {
                    spec[ob + 2 * (wc - 1) + 1] = 0f;
                }
            }
            for (int k = 0; k < w; k++) { // Z = A + i B over the full, Hermitian-completed row
                int src = k < wc ? k : w - k;
                float sign = k < wc ? 1f : -1f;
                float ar = spec[oa + 2 * src], ai = sign * spec[oa + 2 * src + 1];
                float br = pair ? spec[ob + 2 * src] : 0f;
                float bi = pair ? sign * spec[ob + 2 * src + 1] : 0f;
                row[2 * k] = ar - bi;
                row[2 * k + 1] = ai + br;
            }
            rows.inverse(row, 0);
            int a = off + r * w;
            for (int j = 0; j < w; j++) {
                out[a + j] = row[2 * j] * scale;
                if (pair) {
                    out[a + w + j] = row[2 * j + 1] * scale;
                }
            }
        }
    }

    private void columns(float[] spec, boolean inverse) {
        for (int k0 = 0; k0 < wc; k0 += BLOCK) {
            int nb = Math.min(BLOCK, wc - k0);
            for (int r = 0; r < h; r++) {
                int base = 2 * (r * wc + k0);
                for (int b = 0; b < nb; b++) {
                    col[b * 2 * h + 2 * r] = spec[base + 2 * b];
                    col[b * 2 * h + 2 * r + 1] = spec[base + 2 * b + 1];
                }
            }
            for (int b = 0; b < nb; b++) {
                if (inverse) {
                    cols.inverse(col, b * 2 * h);
                } else {
                    cols.forward(col, b * 2 * h);
                }
            }
            for (int r = 0; r < h; r++) {
                int base = 2 * (r * wc + k0);
                for (int b = 0; b < nb; b++) {
                    spec[base + 2 * b] = col[b * 2 * h + 2 * r];
                    spec[base + 2 * b + 1] = col[b * 2 * h + 2 * r + 1];
                }
            }
        }
    }
}
