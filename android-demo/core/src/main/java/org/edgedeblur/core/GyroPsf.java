package org.edgedeblur.core;

import java.util.Arrays;

/**
 * Gyro PSFs of edgedeblur.runtime.gyro (double precision, the runtime's operations in its
 * order): the camera only rotates during the exposure, so the image of the point p at the
 * reference time is at {@code K R(t)^T K^-1 p} at time t, R(t) the orientation relative to the
 * middle of the exposure of p's row (rolling shutter: readout_time * row / height after the
 * first). Orientations come from the gyro samples (trapezoidal rotation-vector steps composed as
 * quaternions; inside an interval the rate is interpolated linearly and integrated to second
 * order); the trajectory is sampled at the middles of equal sub-intervals until samples are at
 * most 0.2 px apart and splatted bilinearly into an odd kernel that sums to 1.
 *
 * <p>Times are seconds on the gyro clock. Android: {@link GyroLog.Recorder} takes
 * {@code SensorEvent.timestamp} (ns) and {@code values} (rad/s, device axes) of
 * {@code Sensor.TYPE_GYROSCOPE}; {@link Camera#fromCapture} the capture result's fields.
 */
public final class GyroPsf {
    public static final int MAX_PSF = 255;
    private static final int MAX_STEPS = 16384;
    private static final double MAX_STEP_PX = 0.2;

    /** Gyro (device) axes to camera axes, upright portrait image (runtime ANDROID_BACK_CAMERA). */
    public static final double[][] ANDROID_BACK_CAMERA = {{1, 0, 0}, {0, -1, 0}, {0, 0, -1}};
    /** The back camera's sensor image when SENSOR_ORIENTATION is 90 (ANDROID_BACK_CAMERA_SENSOR_90). */
    public static final double[][] ANDROID_BACK_CAMERA_SENSOR_90 = {{0, -1, 0}, {-1, 0, 0}, {0, 0, -1}};

    /**
     * gyro_to_camera of the back camera's sensor image (as read out, top-to-bottom) for its
     * SENSOR_ORIENTATION (the clockwise turn that makes it upright): 0 is ANDROID_BACK_CAMERA,
     * 90 ANDROID_BACK_CAMERA_SENSOR_90.
     */
    public static double[][] backCameraSensor(int sensorOrientation) {
        switch (Math.floorMod(sensorOrientation, 360)) {
            case 0: return ANDROID_BACK_CAMERA;
            case 90: return ANDROID_BACK_CAMERA_SENSOR_90;
            case 180: return new double[][] {{-1, 0, 0}, {0, 1, 0}, {0, 0, -1}};
            case 270: return new double[][] {{0, 1, 0}, {1, 0, 0}, {0, 0, -1}};
            default: throw new IllegalArgumentException("SENSOR_ORIENTATION must be 0, 90, 180 or 270, given "
                    + sensorOrientation);
        }
    }

    public static final int TOP_TO_BOTTOM = 0, BOTTOM_TO_TOP = 1, LEFT_TO_RIGHT = 2, RIGHT_TO_LEFT = 3;

    private GyroPsf() {
    }

    /** runtime._gyro_io.CameraModel: pixels x right, y down, centres at integers; seconds. */
    public static final class Camera {
        public double fx, fy, cx, cy;
        public int width, height;
        public double exposureStart, exposureTime, readoutTime, timeOffset;
        public int readoutDirection = TOP_TO_BOTTOM;
        public double[][] gyroToCamera = ANDROID_BACK_CAMERA;

        /**
         * From an Android capture: SENSOR_TIMESTAMP, SENSOR_EXPOSURE_TIME and
         * SENSOR_ROLLING_SHUTTER_SKEW (ns; timestamp source REALTIME, the gyro's clock) and
         * LENS_INTRINSIC_CALIBRATION {fx, fy, cx, cy, s} in pixels of the image processed
         * (scale them when the photo is resized). The readout sweeps the sensor's rows.
         */
        public static Camera fromCapture(long sensorTimestampNs, long exposureNs, long skewNs, float[] intrinsics,
                                         int width, int height, double[][] gyroToCamera) {
            Camera c = new Camera();
            c.fx = intrinsics[0];
            c.fy = intrinsics[1];
            c.cx = intrinsics[2];
            c.cy = intrinsics[3];
            c.width = width;
            c.height = height;
            c.exposureStart = sensorTimestampNs * 1e-9;
            c.exposureTime = exposureNs * 1e-9;
            c.readoutTime = skewNs * 1e-9;
            c.gyroToCamera = gyroToCamera;
            return c;
        }

        void check() {
            boolean ok = fx > 0 && fy > 0 && fx < 1e12 && fy < 1e12 && width >= 1 && height >= 1
                    && cx >= -0.5 && cx <= width - 0.5 && cy >= -0.5 && cy <= height - 0.5
                    && exposureTime > 0 && exposureTime <= 10.0 && readoutTime >= 0 && readoutTime <= 1.0
                    && Math.abs(exposureStart) < 1e15 && Math.abs(timeOffset) < 1e15
                    && readoutDirection >= 0 && readoutDirection <= 3 && gyroToCamera.length == 3;
            if (!ok) {
                throw new IllegalArgumentException("invalid camera model (focal lengths > 0, principal point inside, "
                        + "exposure 0-10 s, readout 0-1 s)");
            }
        }

        /** CameraModel.row_start: seconds after exposureStart when the row of (x, y) starts. */
        double rowStart(double x, double y) {
            if (readoutTime == 0.0) {
                return 0.0;
            }
            int n;
            double r;
            if (readoutDirection <= BOTTOM_TO_TOP) {
                n = height;
                r = readoutDirection == TOP_TO_BOTTOM ? y : (double) (n - 1) - y;
            } else {
                n = width;
                r = readoutDirection == LEFT_TO_RIGHT ? x : (double) (n - 1) - x;
            }
            r = r < 0 ? 0 : (r > n - 1 ? n - 1 : r);
            return readoutTime * r / n;
        }
    }

    /** Gyro samples: t (s, strictly increasing) and omega (3 per sample, rad/s, gyro axes). */
    public static final class GyroLog {
        public final double[] t;
        public final double[] omega;

        public GyroLog(double[] t, double[] omega) {
            if (t.length < 4 || omega.length != 3 * t.length) {
                throw new IllegalArgumentException("the gyro log needs at least 4 samples of t and 3 rates each");
            }
            for (int i = 0; i < t.length; i++) {
                if (!(Math.abs(t[i]) < 1e15) || (i > 0 && !(t[i] > t[i - 1]))) {
                    throw new IllegalArgumentException("gyro times must be finite and strictly increasing (sample " + i + ")");
                }
                for (int k = 0; k < 3; k++) {
                    if (!(Math.abs(omega[3 * i + k]) < 1e6)) {
                        throw new IllegalArgumentException("non-finite gyro rate at sample " + i);
                    }
                }
            }
            this.t = t;
            this.omega = omega;
        }

        /**
         * Collects {@code Sensor.TYPE_GYROSCOPE} events in a SensorEventListener: call
         * {@code add(event.timestamp, event.values)} from onSensorChanged (any thread, synchronised).
         * Repeated or out-of-order timestamps are dropped; times become seconds as read_gyro_csv's
         * t_ns column does ({@code ns * 1e-9}).
         */
        public static final class Recorder {
            private long[] ns = new long[1024];
            private float[] w = new float[3 * 1024];
            private int n;

            public synchronized void add(long timestampNs, float[] values) {
                if (n > 0 && timestampNs <= ns[n - 1]) {
                    return;
                }
                if (n == ns.length) {
                    ns = Arrays.copyOf(ns, 2 * n);
                    w = Arrays.copyOf(w, 6 * n);
                }
                ns[n] = timestampNs;
                w[3 * n] = values[0];
                w[3 * n + 1] = values[1];
                w[3 * n + 2] = values[2];
                n++;
            }

            public synchronized int size() {
                return n;
            }

            /** The last sample's timestamp (ns), or Long.MIN_VALUE before the first. */
            public synchronized long lastNs() {
                return n == 0 ? Long.MIN_VALUE : ns[n - 1];
            }

            /** Keep only samples from {@code fromNs} on (a ring of the last seconds while previewing). */
            public synchronized void dropBefore(long fromNs) {
                int i = 0;
                while (i < n && ns[i] < fromNs) {
                    i++;
                }
                System.arraycopy(ns, i, ns, 0, n - i);
                System.arraycopy(w, 3 * i, w, 0, 3 * (n - i));
                n -= i;
            }

            public synchronized GyroLog toLog() {
                double[] t = new double[n];
                double[] o = new double[3 * n];
                for (int i = 0; i < n; i++) {
                    t[i] = ns[i] * 1e-9;
                    o[3 * i] = w[3 * i];
                    o[3 * i + 1] = w[3 * i + 1];
                    o[3 * i + 2] = w[3 * i + 2];
                }
                return new GyroLog(t, o);
            }
        }
    }

    /** One PSF per tile of a rows x cols grid: kernels[i][j], each size x size, row-major. */
    public static final class Grid {
        public final int rows, cols, size;
        public final float[][][] kernels;

        Grid(int rows, int cols, int size, float[][][] kernels) {
            this.rows = rows;
            this.cols = cols;
            this.size = size;
            this.kernels = kernels;
        }
    }

    // --- quaternions (w, x, y, z) ----------------------------------------------------------------
    private static void quatExp(double[] th, double[] q) {
        double angle = Math.sqrt(th[0] * th[0] + th[1] * th[1] + th[2] * th[2]);
        double half = 0.5 * angle;
        double k = angle > 1e-8 ? Math.sin(half) / angle : 0.5 - angle * angle / 48.0;
        q[0] = Math.cos(half);
        q[1] = k * th[0];
        q[2] = k * th[1];
        q[3] = k * th[2];
    }

    private static void quatMul(double[] a, int ao, double[] b, double[] o) {
        double aw = a[ao], ax = a[ao + 1], ay = a[ao + 2], az = a[ao + 3];
        double r0 = aw * b[0] - ax * b[1] - ay * b[2] - az * b[3];
        double r1 = aw * b[1] + ax * b[0] + ay * b[3] - az * b[2];
        double r2 = aw * b[2] - ax * b[3] + ay * b[0] + az * b[1];
        double r3 = aw * b[3] + ax * b[2] - ay * b[1] + az * b[0];
        o[0] = r0;
        o[1] = r1;
        o[2] = r2;
        o[3] = r3;
    }

    private static void quatToMatrix(double[] qi, double[][] m) {
        double nrm = Math.sqrt(qi[0] * qi[0] + qi[1] * qi[1] + qi[2] * qi[2] + qi[3] * qi[3]);
        double w = qi[0] / nrm, x = qi[1] / nrm, y = qi[2] / nrm, z = qi[3] / nrm;
        m[0][0] = 1 - 2 * (y * y + z * z);
        m[0][1] = 2 * (x * y - w * z);
        m[0][2] = 2 * (x * z + w * y);
        m[1][0] = 2 * (x * y + w * z);
        m[1][1] = 1 - 2 * (x * x + z * z);
        m[1][2] = 2 * (y * z - w * x);
        m[2][0] = 2 * (x * z - w * y);
        m[2][1] = 2 * (y * z + w * x);
        m[2][2] = 1 - 2 * (x * x + y * y);
    }

    /** numpy.searchsorted: first index with t > v (right) or t >= v (left). */
    private static int search(double[] t, int from, int to, double v, boolean right) {
        int lo = from, hi = to;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (right ? t[mid] <= v : t[mid] < v) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** The windowed log (GyroLog.window) with its orientations relative to its first sample. */
    private static final class Track {
        final double[] t, w;
        final int i0, n;
        final double[] q;
        final double[] th = new double[3], e = new double[4], tmp = new double[4];

        Track(Camera c, GyroLog log) {
            t = log.t;
            w = log.omega;
            int total = t.length;
            double t0 = c.exposureStart + c.timeOffset, t1 = t0 + c.readoutTime + c.exposureTime;
            int a = 0, b = total;
            if (!(t0 < t[0] || t1 > t[total - 1])) {
                a = Math.max(search(t, 0, total, t0, true) - 2, 0);
                b = Math.min(Math.max(search(t, 0, total, t1, false) + 2, a + 4), total);
            }
            i0 = a;
            n = b - a;
            q = new double[4 * n];
            q[0] = 1.0;
            for (int i = 0; i + 1 < n; i++) {
                double dt = t[i0 + i + 1] - t[i0 + i];
                for (int k = 0; k < 3; k++) {
                    th[k] = 0.5 * (w[3 * (i0 + i) + k] + w[3 * (i0 + i + 1) + k]) * dt;
                }
                quatExp(th, e);
                quatMul(q, 4 * i, e, tmp);
                double nrm = Math.sqrt(tmp[0] * tmp[0] + tmp[1] * tmp[1] + tmp[2] * tmp[2] + tmp[3] * tmp[3]);
                for (int k = 0; k < 4; k++) {
                    q[4 * (i + 1) + k] = tmp[k] / nrm;
                }
            }
        }

        /** gyro.rotation_at for one time (caller checked the coverage). */
        void rotationAt(double time, double[][] m) {
            int i = search(t, i0, i0 + n, time, true) - 1 - i0;
            i = Math.max(0, Math.min(i, n - 2));
            int g = i0 + i;
            double dt = t[g + 1] - t[g];
            double tau = time - t[g];
            for (int k = 0; k < 3; k++) {
                th[k] = w[3 * g + k] * tau + (w[3 * (g + 1) + k] - w[3 * g + k]) * (tau * tau / (2.0 * dt));
            }
            quatExp(th, e);
            quatMul(q, 4 * i, e, tmp);
            quatToMatrix(tmp, m);
        }
    }

    /** psf_trajectory at (x, y): the number of samples written into dx, dy. */
    private static int trajectory(Camera c, Track g, double x, double y, double[] dx, double[] dy) {
        double[][] mm = c.gyroToCamera;
        double t0 = c.exposureStart + c.timeOffset + c.rowStart(x, y), t1 = t0 + c.exposureTime;
        if (t0 < g.t[g.i0] || t1 > g.t[g.i0 + g.n - 1]) {
            throw new IllegalArgumentException(String.format("the gyro log (%.6f to %.6f s) does not cover the "
                    + "exposure %.6f to %.6f s: log from before the exposure until after the last row",
                    g.t[g.i0], g.t[g.i0 + g.n - 1], t0, t1));
        }
        double[] ray = {(x - c.cx) / c.fx, (y - c.cy) / c.fy, 1.0};
        double[][] ref = new double[3][3], r = new double[3][3], rel = new double[3][3], tmp = new double[3][3];
        double[] v = new double[3];
        g.rotationAt(0.5 * (t0 + t1), ref);
        int n = 64;
        while (true) {
            double gap = 0.0;
            for (int s = 0; s < n; s++) {
                double time = t0 + (s + 0.5) * ((t1 - t0) / n);
                g.rotationAt(time, r);
                for (int i = 0; i < 3; i++) { // rel = ref^T r, then M rel M^T
                    for (int k = 0; k < 3; k++) {
                        rel[i][k] = ref[0][i] * r[0][k] + ref[1][i] * r[1][k] + ref[2][i] * r[2][k];
                    }
                }
                for (int i = 0; i < 3; i++) {
                    for (int k = 0; k < 3; k++) {
                        tmp[i][k] = mm[i][0] * rel[0][k] + mm[i][1] * rel[1][k] + mm[i][2] * rel[2][k];
                    }
                }
                for (int i = 0; i < 3; i++) {
                    for (int k = 0; k < 3; k++) {
                        rel[i][k] = tmp[i][0] * mm[k][0] + tmp[i][1] * mm[k][1] + tmp[i][2] * mm[k][2];
                    }
                }
                for (int j = 0; j < 3; j++) {
                    v[j] = rel[0][j] * ray[0] + rel[1][j] * ray[1] + rel[2][j] * ray[2];
                }
                if (v[2] <= 1e-6) {
                    throw new IllegalArgumentException("the gyro says the camera turned more than the field of view "
                            + "(check the gyro units: rad/s)");
                }
                dx[s] = (c.fx * v[0] + c.cx * v[2]) / v[2] - x;
                dy[s] = (c.fy * v[1] + c.cy * v[2]) / v[2] - y;
                if (s > 0) {
                    gap = Math.max(gap, Math.hypot(dx[s] - dx[s - 1], dy[s] - dy[s - 1]));
                }
            }
            if (n >= MAX_STEPS || gap <= MAX_STEP_PX) {
                return n;
            }
            n = Math.min(MAX_STEPS, (int) Math.ceil(n * gap / MAX_STEP_PX) + 1);
        }
    }

    private static double reach(double[] dx, double[] dy, int n) {
        double r = 0.0;
        for (int s = 0; s < n; s++) {
            r = Math.max(r, Math.max(Math.abs(dx[s]), Math.abs(dy[s])));
        }
        return r;
    }

    /** numpy's pairwise float64 sum (what kernel.sum() does), so the normalisation matches. */
    static double pairwiseSum(double[] a, int off, int n) {
        if (n < 8) {
            double res = 0.0;
            for (int i = 0; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        if (n <= 128) {
            double[] r = new double[8];
            System.arraycopy(a, off, r, 0, 8);
            int i;
            for (i = 8; i < n - (n % 8); i += 8) {
                for (int k = 0; k < 8; k++) {
                    r[k] += a[off + i + k];
                }
            }
            double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
            for (; i < n; i++) {
                res += a[off + i];
            }
            return res;
        }
        int n2 = n / 2;
        n2 -= n2 % 8;
        return pairwiseSum(a, off, n2) + pairwiseSum(a, off + n2, n - n2);
    }

    /** splat_psf: bilinear, equal weights, sum 1, displacement 0 at (size / 2, size / 2). */
    private static float[] splat(double[] dx, double[] dy, int n, int size) {
        int c = size / 2;
        double rch = reach(dx, dy, n);
        if (size > MAX_PSF || rch + 1.0 > c + 1e-9) {
            throw new IllegalArgumentException(String.format("the gyro trajectory (reach %.1f px) does not fit a "
                    + "%d px PSF (at most %d): check the gyro units, exposure time and focal length", rch, size, MAX_PSF));
        }
        double[] acc = new double[size * size];
        for (int corner = 0; corner < 4; corner++) { // np.add.at, corner by corner
            int oy = corner / 2, ox = corner % 2;
            for (int s = 0; s < n; s++) {
                double px = c + dx[s], py = c + dy[s];
                double x0 = Math.floor(px), y0 = Math.floor(py), fx = px - x0, fy = py - y0;
                double wgt = (ox == 1 ? fx : 1 - fx) * (oy == 1 ? fy : 1 - fy);
                acc[((int) y0 + oy) * size + (int) x0 + ox] += wgt;
            }
        }
        double sum = pairwiseSum(acc, 0, acc.length);
        float[] k = new float[size * size];
        for (int i = 0; i < k.length; i++) {
            k[i] = (float) (acc[i] / sum);
        }
        return k;
    }

    /** round(linspace(0, n, k + 1))[i], half to even as numpy. */
    static int edge(int n, int k, int i) {
        double v = i == k ? n : i * ((double) n / k);
        return (int) Math.rint(v);
    }

    /**
     * gyro.gyro_psf_grid(camera, log, (rows, cols), size=size): one PSF per tile at its centre;
     * size <= 0: the smallest odd size that holds every trajectory (+1 px).
     */
    public static Grid psfGrid(Camera cam, GyroLog log, int rows, int cols, int size) {
        cam.check();
        if (rows < 1 || cols < 1 || (rows > 1 && cam.height / rows < 8) || (cols > 1 && cam.width / cols < 8)) {
            throw new IllegalArgumentException("PSF grid must be rows x cols of tiles at least 8 px tall and wide, given "
                    + rows + " x " + cols);
        }
        if (size > MAX_PSF || (size > 0 && size % 2 == 0)) {
            throw new IllegalArgumentException("PSF size must be odd and at most " + MAX_PSF + ", given " + size);
        }
        Track g = new Track(cam, log);
        double[][] dx = new double[rows * cols][], dy = new double[rows * cols][];
        int[] steps = new int[rows * cols];
        double rch = 0.0;
        double[] bx = new double[MAX_STEPS], by = new double[MAX_STEPS];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                double y = 0.5 * (edge(cam.height, rows, i) + edge(cam.height, rows, i + 1)) - 0.5;
                double x = 0.5 * (edge(cam.width, cols, j) + edge(cam.width, cols, j + 1)) - 0.5;
                int n = trajectory(cam, g, x, y, bx, by);
                int t = i * cols + j;
                dx[t] = Arrays.copyOf(bx, n);
                dy[t] = Arrays.copyOf(by, n);
                steps[t] = n;
                rch = Math.max(rch, reach(bx, by, n));
            }
        }
        if (size <= 0) {
            double need = Math.ceil(rch + 1.0);
            if (need > MAX_PSF / 2) {
                throw new IllegalArgumentException(String.format("the gyro trajectory (reach %.1f px) needs a PSF "
                        + "larger than %d px: check the gyro units (rad/s)", rch, MAX_PSF));
            }
            size = 2 * (int) need + 1;
        }
        float[][][] kernels = new float[rows][cols][];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                int t = i * cols + j;
                kernels[i][j] = splat(dx[t], dy[t], steps[t], size);
            }
        }
        return new Grid(rows, cols, size, kernels);
    }
}
