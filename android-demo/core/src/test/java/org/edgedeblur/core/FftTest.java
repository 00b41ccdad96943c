package org.edgedeblur.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Random;
import org.junit.Test;

/** The FFT against a naive DFT in double (every length class) and the 2-D real FFT round trip. */
public class FftTest {
    static double[] naive(float[] x, int n, int sign) {
        double[] out = new double[2 * n];
        for (int k = 0; k < n; k++) {
            double re = 0, im = 0;
            for (int j = 0; j < n; j++) {
                double a = sign * 2.0 * Math.PI * ((long) j * k % n) / n;
                re += x[2 * j] * Math.cos(a) - x[2 * j + 1] * Math.sin(a);
                im += x[2 * j] * Math.sin(a) + x[2 * j + 1] * Math.cos(a);
            }
            out[2 * k] = re;
            out[2 * k + 1] = im;
        }
        return out;
    }

    @Test
    public void complexFftMatchesNaiveDft() {
        Random rng = new Random(1);
        int[] sizes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 15, 16, 17, 25, 27, 30, 49, 60, 64, 97, 100, 125, 128,
            243, 250, 256, 360, 1000};
        for (int n : sizes) {
            float[] x = new float[2 * n];
            for (int i = 0; i < x.length; i++) {
                x[i] = rng.nextFloat() - 0.5f;
            }
            Fft fft = new Fft(n);
            for (int sign : new int[] {-1, 1}) {
                double[] want = naive(x, n, sign);
                float[] got = x.clone();
                if (sign < 0) {
                    fft.forward(got, 0);
                } else {
                    fft.inverse(got, 0);
                }
                double err = 0, ref = 0;
                for (int i = 0; i < got.length; i++) {
                    err = Math.max(err, Math.abs(got[i] - want[i]));
                    ref = Math.max(ref, Math.abs(want[i]));
                }
                assertTrue("n=" + n + " sign " + sign + ": relative error " + err / ref, err / ref < 2e-6 * Math.log(n + 2));
            }
        }
    }

    @Test
    public void nextFastLenIsFiveSmooth() {
        assertEquals(1, Fft.nextFastLen(1));
        assertEquals(7 + 1, Fft.nextFastLen(7));
        assertEquals(1350, Fft.nextFastLen(1326));
        assertEquals(800, Fft.nextFastLen(790));
        assertEquals(12, Fft.nextFastLen(11));
    }

    @Test
    public void realFft2MatchesComplexAndRoundTrips() {
        Random rng = new Random(2);
        int[][] shapes = {{1, 1}, {3, 5}, {8, 8}, {7, 12}, {24, 32}, {13, 17}, {45, 50}};
        for (int[] s : shapes) {
            int h = s[0], w = s[1];
            float[] img = new float[h * w];
            for (int i = 0; i < img.length; i++) {
                img[i] = rng.nextFloat();
            }
            RealFft2 fft = new RealFft2(h, w);
            float[] spec = new float[fft.spectrumLength()];
            fft.forward(img, 0, spec);
            // reference: naive 2-D DFT of the bins kept
            double worst = 0;
            for (int u = 0; u < h; u++) {
                for (int v = 0; v < fft.wc; v++) {
                    double re = 0, im = 0;
                    for (int i = 0; i < h; i++) {
                        for (int j = 0; j < w; j++) {
                            double a = -2 * Math.PI * (((long) u * i % h) / (double) h + ((long) v * j % w) / (double) w);
                            re += img[i * w + j] * Math.cos(a);
                            im += img[i * w + j] * Math.sin(a);
                        }
                    }
                    int k = 2 * (u * fft.wc + v);
                    worst = Math.max(worst, Math.max(Math.abs(spec[k] - re), Math.abs(spec[k + 1] - im)));
                }
            }
            assertTrue(h + "x" + w + " spectrum error " + worst, worst < 1e-5 * h * w);
            float[] back = new float[h * w];
            fft.inverse(spec, back, 0);
            for (int i = 0; i < img.length; i++) {
                assertEquals(h + "x" + w + " round trip", img[i], back[i], 2e-6);
            }
        }
    }
}
