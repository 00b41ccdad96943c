package org.edgedeblur.core;

import java.util.Arrays;

/**
 * Times the Java data step (not a JUnit test; benchmarks/android_deblur_speed.py runs it):
 * {@code java -cp ... org.edgedeblur.core.DeblurBench H W RUNS} prints one JSON line with the
 * medians (ms) of setup (DataStep: extension, OTF, conj(K) F(y)), Wiener and one HQS solve on an
 * RGB frame with a 31 x 31 kernel, after warm-up runs for the JIT, and the memory the data step
 * and the whole pipeline hold (formula, and the heap measured around one DataStep).
 */
public final class DeblurBench {
    private DeblurBench() {
    }

    static float[] kernel(int size) { // the firmware benchmark's kernel: a sine-shaped stroke
        float[] k = new float[size * size];
        for (int i = 0; i < size; i++) {
            k[(size / 2 + (int) Math.rint(4 * Math.sin(i / 5.0))) * size + i] = 1f / size;
        }
        return k;
    }

    static double median(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return s[s.length / 2] / 1e6;
    }

    static long heapUsed() {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    public static void main(String[] args) {
        int h = Integer.parseInt(args[0]), w = Integer.parseInt(args[1]), runs = Integer.parseInt(args[2]);
        int hw = h * w;
        float[] y = new float[3 * hw];
        java.util.Random rng = new java.util.Random(0);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    y[c * hw + i * w + j] = Math.min(1f, rng.nextFloat() * 0.2f + 0.2f + 0.5f * j / w);
                }
            }
        }
        float[] z = y.clone();
        for (int i = 0; i < z.length; i++) {
            z[i] = Math.min(1f, z[i] + 0.01f);
        }
        float[] k = kernel(31);
        float[] out = new float[3 * hw];
        long before = heapUsed();
        DataStep step = new DataStep(y, h, w, 3, k, 31, 31, DataStep.TAPER_MEAN, true);
        long held = heapUsed() - before;
        int warm = 3;
        long[] setup = new long[runs], wiener = new long[runs], solve = new long[runs];
        for (int r = -warm; r < runs; r++) {
            long t0 = System.nanoTime();
            step = new DataStep(y, h, w, 3, k, 31, 31, DataStep.TAPER_MEAN, true);
            long t1 = System.nanoTime();
            step.wiener(1e-3, out);
            long t2 = System.nanoTime();
            step.solve(z, 0.01, out);
            long t3 = System.nanoTime();
            if (r >= 0) {
                setup[r] = t1 - t0;
                wiener[r] = t2 - t1;
                solve[r] = t3 - t2;
            }
        }
        DeblurPipeline.Config cfg = new DeblurPipeline.Config();
        System.out.printf(java.util.Locale.ROOT, "{\"frame\":\"%dx%d RGB\",\"kernel\":\"31x31\",\"padded\":\"%dx%d\","
                + "\"setup_ms\":%.2f,\"wiener_ms\":%.2f,\"hqs_solve_ms\":%.2f,\"data_step_bytes\":%d,"
                + "\"data_step_heap_bytes\":%d,\"pipeline_bytes\":%d,\"java\":\"%s\"}%n",
                w, h, step.wp, step.hp, median(setup), median(wiener), median(solve),
                4 * DataStep.floatsNeeded(h, w, 3, 31, 31, DataStep.TAPER_MEAN, true), held,
                4 * DeblurPipeline.floatsNeeded(cfg, h, w, 31, 31), System.getProperty("java.version"));
    }
}
