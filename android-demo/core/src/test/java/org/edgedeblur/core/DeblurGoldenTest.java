package org.edgedeblur.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * The Java deblur pipeline against tests/golden/deblur.json (benchmarks/make_deblur_golden.py,
 * from edgedeblur.runtime): gyro PSF grids, every prior input of every stand-in run and the
 * final uint8 image within 1 LSB. Prints one "deblur-golden ..." line per check for the report.
 */
public class DeblurGoldenTest {
    static Map<String, Object> deblur() throws IOException {
        return GoldenVectorsTest.golden("deblur.json");
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> obj(Object o) {
        return (Map<String, Object>) o;
    }

    static double[] doubles(Object o) {
        List<?> l = (List<?>) o;
        double[] a = new double[l.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (Double) l.get(i);
        }
        return a;
    }

    /** The golden stand-in prior: x + min(1, sigma / 25) (box3(x) - x), x clipped, edge replicated. */
    static final class StandIn implements DeblurPrior {
        final List<float[]> inputs = new ArrayList<>();
        final List<Double> sigmas = new ArrayList<>();

        @Override
        public float[] restore(float[] rgb, int h, int w, double sigma) {
            int hw = h * w;
            float[] x = new float[3 * hw];
            for (int i = 0; i < x.length; i++) {
                x[i] = DataStep.clip01(rgb[i]);
            }
            inputs.add(x.clone());
            sigmas.add(sigma);
            float a = (float) Math.min(1.0, sigma / 25.0);
            float[] out = new float[3 * hw];
            for (int c = 0; c < 3; c++) {
                for (int r = 0; r < h; r++) {
                    for (int q = 0; q < w; q++) {
                        float box = 0f;
                        for (int i = -1; i <= 1; i++) { // the Python sum's order: rows outer, columns inner
                            for (int j = -1; j <= 1; j++) {
                                int rr = Math.max(0, Math.min(h - 1, r + i));
                                int qq = Math.max(0, Math.min(w - 1, q + j));
                                box += x[c * hw + rr * w + qq];
                            }
                        }
                        box /= 9f;
                        float v = x[c * hw + r * w + q];
                        out[c * hw + r * w + q] = v + a * (box - v);
                    }
                }
            }
            return out;
        }
    }

    static DeblurPipeline.Config config(Map<String, Object> cs) {
        DeblurPipeline.Config cfg = DeblurPipeline.Config.fromMap(obj(cs.get("config")));
        cfg.psfGrid = (Boolean) cs.get("psf_grid");
        return cfg;
    }

    /** HWC floats of the golden file -> planes. */
    static float[] planes(float[] hwc, int h, int w) {
        float[] p = new float[hwc.length];
        for (int i = 0; i < h * w; i++) {
            for (int c = 0; c < 3; c++) {
                p[c * h * w + i] = hwc[3 * i + c];
            }
        }
        return p;
    }

    @Test
    public void standInRunsMatchPythonWithinOneLsb() throws IOException {
        int runs = 0;
        for (Map<String, Object> cs : GoldenVectorsTest.objs(deblur().get("cases"))) {
            String name = (String) cs.get("name");
            boolean standIn = "stand-in".equals(cs.get("prior"));
            int h = GoldenVectorsTest.num(cs, "height"), w = GoldenVectorsTest.num(cs, "width");
            int[] ks = GoldenVectorsTest.ints(cs.get("kernel_shape"));
            int[] image = GoldenVectorsTest.ints(cs.get("image"));
            byte[] rgb = new byte[image.length];
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = (byte) image[i];
            }
            double sigma = cs.get("sigma") == null ? -1.0 : (Double) cs.get("sigma");
            StandIn prior = new StandIn();
            DeblurPipeline pipe = new DeblurPipeline(prior, config(cs));
            byte[] out = pipe.restore(rgb, h, w, GoldenVectorsTest.floats(cs.get("kernel")), ks[0], ks[1], sigma);
            double[] sigmas = doubles(cs.get("prior_sigmas"));
            // the real prior's later inputs depend on its outputs: only its first (the Wiener step) is comparable
            int compared = standIn ? sigmas.length : 1;
            assertTrue(name + " prior calls", prior.sigmas.size() >= compared);
            for (int k = 0; k < compared; k++) {
                assertEquals(name + " sigma " + k, sigmas[k], prior.sigmas.get(k), 1e-9 * sigmas[k]);
            }
            double worstInput = 0.0;
            if (cs.containsKey("prior_inputs")) {
                List<?> inputs = (List<?>) cs.get("prior_inputs");
                for (int k = 0; k < compared; k++) {
                    float[] want = planes(GoldenVectorsTest.floats(inputs.get(k)), h, w);
                    float[] got = prior.inputs.get(k);
                    for (int i = 0; i < want.length; i++) {
                        worstInput = Math.max(worstInput, Math.abs(want[i] - got[i]));
                    }
                }
                assertTrue(name + ": prior inputs differ by " + worstInput, worstInput < 1e-4);
            }
            if (!standIn) {
                System.out.printf("deblur-golden %s: first prior input max diff %.2g (later rounds need the model)%n",
                        name, worstInput);
                continue;
            }
            int[] want = GoldenVectorsTest.ints(cs.get("output"));
            int worst = 0, off = 0;
            for (int i = 0; i < want.length; i++) {
                int d = Math.abs((out[i] & 0xFF) - want[i]);
                worst = Math.max(worst, d);
                off += d > 0 ? 1 : 0;
            }
            System.out.printf("deblur-golden %s: prior inputs max diff %.2g, output max %d LSB (%d of %d values off)%n",
                    name, worstInput, worst, off, want.length);
            assertTrue(name + ": output differs by " + worst + " LSB", worst <= 1);
            runs++;
        }
        assertEquals(6, runs);
    }

    static GyroPsf.Camera camera(Map<String, Object> c) {
        GyroPsf.Camera cam = new GyroPsf.Camera();
        cam.fx = (Double) c.get("fx");
        cam.fy = (Double) c.get("fy");
        cam.cx = (Double) c.get("cx");
        cam.cy = (Double) c.get("cy");
        cam.width = GoldenVectorsTest.num(c, "width");
        cam.height = GoldenVectorsTest.num(c, "height");
        cam.exposureStart = (Double) c.get("exposure_start");
        cam.exposureTime = (Double) c.get("exposure_time");
        cam.readoutTime = (Double) c.get("readout_time");
        cam.timeOffset = (Double) c.get("time_offset");
        cam.readoutDirection = GoldenVectorsTest.num(c, "readout_direction_index");
        List<?> rows = (List<?>) c.get("gyro_to_camera");
        cam.gyroToCamera = new double[][] {doubles(rows.get(0)), doubles(rows.get(1)), doubles(rows.get(2))};
        return cam;
    }

    static double gridDiff(GyroPsf.Grid grid, Map<String, Object> want) {
        int[] shape = GoldenVectorsTest.ints(want.get("shape"));
        assertArrayEquals(shape, new int[] {grid.rows, grid.cols, grid.size, grid.size});
        float[] k = GoldenVectorsTest.floats(want.get("kernels"));
        double worst = 0.0;
        int n = grid.size * grid.size;
        for (int i = 0; i < grid.rows; i++) {
            for (int j = 0; j < grid.cols; j++) {
                for (int e = 0; e < n; e++) {
                    worst = Math.max(worst, Math.abs(k[(i * grid.cols + j) * n + e] - grid.kernels[i][j][e]));
                }
            }
        }
        return worst;
    }

    @Test
    public void gyroKernelsMatchPython() throws IOException {
        Map<String, Object> gyro = obj(deblur().get("gyro"));
        GyroPsf.Camera cam = camera(obj(gyro.get("camera")));
        double[] t = doubles(gyro.get("t"));
        GyroPsf.GyroLog log = new GyroPsf.GyroLog(t, doubles(gyro.get("omega")));
        Map<String, Object> grids = obj(gyro.get("grids"));
        // the same trace as Android delivers it: SensorEvent timestamps (ns) and float values (rad/s)
        GyroPsf.GyroLog.Recorder rec = new GyroPsf.GyroLog.Recorder();
        for (int i = 0; i < t.length; i++) {
            rec.add(Math.round(t[i] * 1e9), new float[] {(float) log.omega[3 * i], (float) log.omega[3 * i + 1],
                (float) log.omega[3 * i + 2]});
        }
        rec.add(Math.round(t[5] * 1e9), new float[] {9f, 9f, 9f}); // out of order: dropped
        for (String key : new String[] {"1x1", "2x3"}) {
            int rows = key.charAt(0) - '0', cols = key.charAt(2) - '0';
            double exact = gridDiff(GyroPsf.psfGrid(cam, log, rows, cols, 0), obj(grids.get(key)));
            double sensor = gridDiff(GyroPsf.psfGrid(cam, rec.toLog(), rows, cols, 0), obj(grids.get(key)));
            System.out.printf("deblur-golden gyro %s: kernels max diff %.2g (seconds), %.2g (SensorEvent ns + float)%n",
                    key, exact, sensor);
            assertTrue(key + " kernels differ by " + exact, exact < 1e-6);
            assertTrue(key + " SensorEvent kernels differ by " + sensor, sensor < 1e-3);
        }
    }

    @Test
    public void sensorOrientationsGiveRotations() {
        assertArrayEquals(GyroPsf.ANDROID_BACK_CAMERA[1], GyroPsf.backCameraSensor(0)[1], 0.0);
        assertArrayEquals(new double[] {0, -1, 0}, GyroPsf.backCameraSensor(90)[0], 0.0);
        for (int deg : new int[] {0, 90, 180, 270}) { // proper rotations: orthonormal, determinant +1
            double[][] m = GyroPsf.backCameraSensor(deg);
            double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                    + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
            assertEquals("det at " + deg, 1.0, det, 0.0);
        }
    }
}
