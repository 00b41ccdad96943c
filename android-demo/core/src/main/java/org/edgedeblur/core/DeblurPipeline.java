package org.edgedeblur.core;

import java.util.Map;

/**
 * The PSF-aware deblur pipeline of edgedeblur.runtime.pipeline.DeblurPipeline for a given PSF
 * (a kernel file, or the gyro's {@link GyroPsf}): the Wiener data step, then the prior rounds
 * <pre>
 *   z = prior(x, sigma_k),  x = data step(z, rho_k),  rho_k = lambda sigma^2 / sigma_k^2
 * </pre>
 * with sigma_k = geomspace(max(hqs_sigma_start, sigma), sigma, iterations), in linear light
 * (data steps on the inverse sRGB curve, the prior in sRGB) or in sRGB. {@code psfGrid} is the
 * runtime's gyro loop (_restore_grid with a 1 x 1 grid): the Wiener step at {@code gridPriorScale},
 * then {@code gridIterations} prior passes (hqs; wiener: one) with no data step between them.
 * Not ported: blind kernel estimation and the runtime's {@code linear: "auto"} arbitration
 * (domain_evidence): pass linear = true for a camera photo.
 */
public final class DeblurPipeline {
    /** PipelineConfig fields the data step and the rounds use (the manifest's "pipeline"). */
    public static final class Config {
        public boolean hqs = true;            // mode "hqs" (default) or "wiener"
        public int iterations = 3;
        public double priorScale = 30.0;
        public double hqsSigmaStart = 10.0;
        public double hqsLambda = 0.05;
        public int taper = DataStep.TAPER_MEAN;
        public double sigmaMax = 15.0;
        public double denoiseSigmaMax = 50.0;
        public int kernelMax = 75;
        public boolean linear = true;
        public boolean psfGrid = false;
        public double gridPriorScale = 10.0;  // the grid path's Wiener regularisation (prior_scale's role)
        public int gridIterations = 1;        // the grid path's prior passes (iterations' role)

        /** The manifest's pipeline section (PipelineConfig.to_dict()); "auto" reads as linear light. */
        public static Config fromMap(Map<String, Object> m) {
            Config c = new Config();
            Object mode = m.get("mode");
            if (mode != null) {
                if (!"hqs".equals(mode) && !"wiener".equals(mode)) {
                    throw new IllegalArgumentException("unknown pipeline mode: given " + mode + "; allowed hqs, wiener");
                }
                c.hqs = "hqs".equals(mode);
            }
            c.iterations = (int) num(m, "iterations", c.iterations);
            c.priorScale = num(m, "prior_scale", c.priorScale);
            c.hqsSigmaStart = num(m, "hqs_sigma_start", c.hqsSigmaStart);
            c.hqsLambda = num(m, "hqs_lambda", c.hqsLambda);
            c.sigmaMax = num(m, "sigma_max", c.sigmaMax);
            c.denoiseSigmaMax = num(m, "denoise_sigma_max", c.denoiseSigmaMax);
            c.kernelMax = (int) num(m, "kernel_max", c.kernelMax);
            c.gridPriorScale = num(m, "grid_prior_scale", c.gridPriorScale);
            c.gridIterations = (int) num(m, "grid_iterations", c.gridIterations);
            if (m.get("taper") != null) {
                c.taper = DataStep.taperOf((String) m.get("taper"));
            }
            Object lin = m.get("linear");
            c.linear = !(lin instanceof Boolean) || (Boolean) lin; // true or "auto"
            c.check();
            return c;
        }

        private static double num(Map<String, Object> m, String k, double dflt) {
            Object v = m.get(k);
            return v instanceof Number ? ((Number) v).doubleValue() : dflt;
        }

        void check() {
            if (iterations < 1 || iterations > 16 || !(priorScale > 0) || !(hqsSigmaStart > 0) || !(hqsLambda > 0)
                    || !(sigmaMax > 0) || !(denoiseSigmaMax > 0) || kernelMax < 1
                    || gridIterations < 1 || gridIterations > 16 || !(gridPriorScale > 0)) {
                throw new IllegalArgumentException(
                        "invalid pipeline settings (iterations and grid_iterations 1..16, positive scales)");
            }
        }
    }

    private final DeblurPrior prior;
    private final Config cfg;
    /** The noise level (0-255) the last {@link #restore} ran the prior at. */
    public double lastSigma = Double.NaN;
    /** Nanoseconds the last restore spent in data steps (Wiener + HQS) and in the prior. */
    public long lastDataNanos, lastPriorNanos;

    public DeblurPipeline(DeblurPrior prior, Config cfg) {
        cfg.check();
        this.prior = prior;
        this.cfg = cfg;
    }

    /** The pipeline's working floats for an h x w RGB frame and a kh x kw PSF (3 frame planes + data step). */
    public static long floatsNeeded(Config cfg, int h, int w, int kh, int kw) {
        long frame = 3L * h * w;
        if ((long) kh * kw == 1) {
            return 2 * frame;
        }
        boolean hqs = cfg.hqs && cfg.iterations > 1 && !cfg.psfGrid; // the grid loop has no HQS solve
        return 3 * frame + DataStep.floatsNeeded(h, w, 3, kh, kw, cfg.taper, hqs);
    }

    /**
     * DeblurPipeline.restore(image, kernel=..., sigma=...): packed RGB bytes (h x w x 3) in and
     * out. {@code sigma < 0}: estimated as the runtime does. A 1 x 1 kernel only denoises.
     */
    public byte[] restore(byte[] rgb, int h, int w, float[] kernel, int kh, int kw, double sigma) {
        if (h < 8 || w < 8 || rgb.length < 3 * h * w) {
            throw new IllegalArgumentException("image to deblur must be at least 8 x 8 RGB, given " + h + " x " + w);
        }
        if (kh < 1 || kw < 1 || kernel.length != kh * kw || kh > cfg.kernelMax || kw > cfg.kernelMax || kh > h || kw > w) {
            throw new IllegalArgumentException("PSF of " + kh + " x " + kw + " refused: at most " + cfg.kernelMax
                    + " px and not larger than the image");
        }
        for (float v : kernel) {
            if (!(Math.abs(v) < Float.MAX_VALUE)) {
                throw new IllegalArgumentException("the PSF has a non-finite value");
            }
        }
        int hw = h * w;
        float[] img = new float[3 * hw];
        for (int i = 0; i < hw; i++) { // io.to_float: v / 255 in float32, planar
            for (int c = 0; c < 3; c++) {
                img[c * hw + i] = (float) (rgb[3 * i + c] & 0xFF) / 255f;
            }
        }
        boolean blurred = kh * kw > 1;
        double s = pickSigma(img, h, w, sigma, blurred ? cfg.sigmaMax : cfg.denoiseSigmaMax);
        lastSigma = s;
        lastDataNanos = 0;
        lastPriorNanos = 0;
        float[] z = blurred ? deblur(img, h, w, kernel, kh, kw, s) : callPrior(img, h, w, s);
        byte[] out = new byte[3 * hw];
        for (int i = 0; i < hw; i++) { // io.from_float: clip, then floor(v * 255 + 0.5)
            for (int c = 0; c < 3; c++) {
                out[3 * i + c] = (byte) Pixels.toUint8(z[c * hw + i]);
            }
        }
        return out;
    }

    private float[] callPrior(float[] x, int h, int w, double sigma) {
        long t0 = System.nanoTime();
        float[] z = prior.restore(x, h, w, sigma);
        lastPriorNanos += System.nanoTime() - t0;
        if (z == null || z.length < 3 * h * w) {
            throw new IllegalStateException("the prior returned " + (z == null ? "nothing" : z.length + " values"));
        }
        return z;
    }

    /** _sigma: the level the prior runs at (given or estimated), refused outside its range. */
    static double pickSigma(float[] img, int h, int w, double sigma, double limit) {
        if (sigma < 0) {
            double s = Math.max(DataStep.noiseSigma(img, h, w, 3), DataStep.MIN_SIGMA);
            if (limit < s && s <= 1.2 * limit) {
                return limit; // the estimate reads texture as noise too: the range's end
            }
            if (s > limit) {
                throw new IllegalArgumentException(String.format("estimated noise level %.1f is above what the deblur "
                        + "prior was trained for (<= %.0f); denoise first", s, limit));
            }
            return s;
        }
        if (!(sigma <= limit)) {
            throw new IllegalArgumentException("noise level " + sigma + " outside 0-" + limit + " (0-255 scale)");
        }
        return Math.max(sigma, DataStep.MIN_SIGMA / 2);
    }

    /** numpy.geomspace(a, b, n)[k]. */
    static double geom(double a, double b, int k, int n) {
        if (k == 0) {
            return a;
        }
        if (k == n - 1) {
            return b;
        }
        double la = Math.log10(a);
        double step = (Math.log10(b) - la) / (n - 1);
        return Math.pow(10.0, k * step + la);
    }

    private float[] deblur(float[] img, int h, int w, float[] kernel, int kh, int kw, double s) {
        int n3 = 3 * h * w;
        int rounds = cfg.hqs ? (cfg.psfGrid ? cfg.gridIterations : cfg.iterations) : 1;
        double priorScale = cfg.psfGrid ? cfg.gridPriorScale : cfg.priorScale;
        double s0 = rounds > 1 ? Math.max(cfg.hqsSigmaStart, s) : s;
        boolean linear = cfg.linear;
        long t0 = System.nanoTime();
        double nsr;
        if (linear) { // in_linear_light: the sRGB frame is not needed again
            DataStep.srgbToLinear(img, img);
            double sl = Math.max(DataStep.noiseSigma(img, h, w, 3), DataStep.MIN_SIGMA / 2);
            nsr = DataStep.wienerNsr(img, h, w, 3, sl, priorScale);
        } else {
            nsr = DataStep.wienerNsr(img, h, w, 3, s, priorScale);
        }
        DataStep step = new DataStep(img, h, w, 3, kernel, kh, kw, cfg.taper, rounds > 1 && !cfg.psfGrid);
        float[] x = step.wiener(nsr, new float[n3]);
        toPrior(x, linear);
        lastDataNanos += System.nanoTime() - t0;
        float[] z = callPrior(x, h, w, s0);
        for (int k = 1; k < rounds; k++) {
            double sk = geom(s0, s, k, rounds);
            double rho = cfg.hqsLambda * s * s / (sk * sk);
            if (cfg.psfGrid) { // the gyro loop: prior passes of falling strength
                z = callPrior(z, h, w, sk);
                continue;
            }
            long t1 = System.nanoTime();
            if (linear) {
                step.solve(DataStep.srgbToLinear(z, x), rho, x);
            } else {
                step.solve(z, rho, x);
            }
            toPrior(x, linear);
            lastDataNanos += System.nanoTime() - t1;
            z = callPrior(x, h, w, sk);
        }
        return z;
    }

    private static void toPrior(float[] x, boolean linear) {
        if (linear) {
            DataStep.linearToSrgb(x, x); // clips first
        } else {
            for (int i = 0; i < x.length; i++) {
                x[i] = DataStep.clip01(x[i]);
            }
        }
    }
}
