/*
 * Gyro PSFs of edgedeblur.runtime.gyro in C99 (double precision, as the runtime):
 * the camera only rotates during the exposure, so the image of the point p at the reference
 * time is at K R(t)^T K^-1 p at time t, R(t) being the orientation relative to the middle of
 * the exposure window of p's row (rolling shutter: readout_time * row / height after the
 * first). Orientations come from the gyro samples: trapezoidal rotation-vector steps between
 * samples composed as quaternions, and inside an interval the angular velocity interpolated
 * linearly and integrated to second order (rotation_at). The trajectory is sampled at the
 * middles of equal sub-intervals, refined until samples are at most 0.2 px apart
 * (psf_trajectory), and splatted bilinearly into an odd kernel summing to 1 (splat_psf).
 *
 * Work memory: the windowed log's quaternions (4 doubles a sample), one trajectory
 * (2 x 16384 doubles) and one float64 accumulation kernel (255 x 255).
 */
#include "edb_fft_internal.h"

#include <math.h>
#include <string.h>

#define MAX_STEPS 16384
#define MAX_PSF 255
#define MAX_STEP_PX 0.2

typedef struct {
    const double *t, *w; /* the windowed log */
    int32_t n;
    double *q;           /* n x 4 */
    double *dx, *dy;     /* MAX_STEPS */
    double *acc;         /* MAX_PSF^2 */
} gyro_ctx;

edb_status edb_gyro_work_bytes(int32_t n, size_t *bytes)
{
    if (!bytes) return EDB_ERR_NULL;
    if (n < 4 || n > 100000000) return EDB_ERR_ARG;
    *bytes = (size_t)n * 4 * sizeof(double) + 2 * MAX_STEPS * sizeof(double) + MAX_PSF * MAX_PSF * sizeof(double) + 64;
    return EDB_OK;
}

static void quat_exp(const double th[3], double q[4])
{
    double angle = sqrt(th[0] * th[0] + th[1] * th[1] + th[2] * th[2]), half = 0.5 * angle;
    double k = angle > 1e-8 ? sin(half) / angle : 0.5 - angle * angle / 48.0;
    q[0] = cos(half);
    q[1] = k * th[0];
    q[2] = k * th[1];
    q[3] = k * th[2];
}

static void quat_mul(const double a[4], const double b[4], double o[4])
{
    double r[4];
    r[0] = a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3];
    r[1] = a[0] * b[1] + a[1] * b[0] + a[2] * b[3] - a[3] * b[2];
    r[2] = a[0] * b[2] - a[1] * b[3] + a[2] * b[0] + a[3] * b[1];
    r[3] = a[0] * b[3] + a[1] * b[2] - a[2] * b[1] + a[3] * b[0];
    memcpy(o, r, sizeof r);
}

static void quat_to_matrix(const double qin[4], double m[3][3])
{
    double nrm = sqrt(qin[0] * qin[0] + qin[1] * qin[1] + qin[2] * qin[2] + qin[3] * qin[3]);
    double w = qin[0] / nrm, x = qin[1] / nrm, y = qin[2] / nrm, z = qin[3] / nrm;
    m[0][0] = 1 - 2 * (y * y + z * z); m[0][1] = 2 * (x * y - w * z); m[0][2] = 2 * (x * z + w * y);
    m[1][0] = 2 * (x * y + w * z); m[1][1] = 1 - 2 * (x * x + z * z); m[1][2] = 2 * (y * z - w * x);
    m[2][0] = 2 * (x * z - w * y); m[2][1] = 2 * (y * z + w * x); m[2][2] = 1 - 2 * (x * x + y * y);
}

/* first index whose t is > v (side "right") or >= v (side "left") */
static int32_t search(const double *t, int32_t n, double v, int right)
{
    int32_t lo = 0, hi = n;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (right ? t[mid] <= v : t[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static void rotation_at(const gyro_ctx *g, double time, double m[3][3])
{
    int32_t i = search(g->t, g->n, time, 1) - 1, k;
    double dt, tau, th[3], e[4], q[4];
    if (i < 0) i = 0;
    if (i > g->n - 2) i = g->n - 2;
    dt = g->t[i + 1] - g->t[i];
    tau = time - g->t[i];
    for (k = 0; k < 3; k++)
        th[k] = g->w[3 * i + k] * tau + (g->w[3 * (i + 1) + k] - g->w[3 * i + k]) * (tau * tau / (2.0 * dt));
    quat_exp(th, e);
    quat_mul(g->q + 4 * i, e, q);
    quat_to_matrix(q, m);
}

static double row_start(const edb_camera *c, double x, double y)
{
    double r;
    int32_t n;
    if (c->readout_time == 0.0) return 0.0;
    if (c->readout_direction <= EDB_READOUT_BOTTOM_TO_TOP) {
        n = c->height;
        r = c->readout_direction == EDB_READOUT_TOP_TO_BOTTOM ? y : (double)(n - 1) - y;
    } else {
        n = c->width;
        r = c->readout_direction == EDB_READOUT_LEFT_TO_RIGHT ? x : (double)(n - 1) - x;
    }
    r = r < 0 ? 0 : (r > (double)(n - 1) ? (double)(n - 1) : r);
    return c->readout_time * r / (double)n;
}

/* psf_trajectory at point (x, y): *steps samples into g->dx, g->dy */
static edb_status trajectory(const edb_camera *c, const gyro_ctx *g, double x, double y, int32_t *steps)
{
    const double (*M)[3] = c->gyro_to_camera;
    double t0 = c->exposure_start + c->time_offset + row_start(c, x, y), t1 = t0 + c->exposure_time;
    double ray[3], ref[3][3];
    int32_t n = 64, s, i, j, k;
    ray[0] = (x - c->cx) / c->fx;
    ray[1] = (y - c->cy) / c->fy;
    ray[2] = 1.0;
    if (t0 < g->t[0] || t1 > g->t[g->n - 1]) return EDB_ERR_ARG; /* the log does not cover it */
    rotation_at(g, 0.5 * (t0 + t1), ref);
    for (;;) {
        double gap = 0.0;
        for (s = 0; s < n; s++) {
            double time = t0 + ((double)s + 0.5) * ((t1 - t0) / (double)n), r[3][3], rel[3][3], tmp[3][3], v[3];
            rotation_at(g, time, r);
            for (i = 0; i < 3; i++) /* rel = ref^T r, then M rel M^T */
                for (k = 0; k < 3; k++) rel[i][k] = ref[0][i] * r[0][k] + ref[1][i] * r[1][k] + ref[2][i] * r[2][k];
            for (i = 0; i < 3; i++)
                for (k = 0; k < 3; k++) tmp[i][k] = M[i][0] * rel[0][k] + M[i][1] * rel[1][k] + M[i][2] * rel[2][k];
            for (i = 0; i < 3; i++)
                for (k = 0; k < 3; k++) rel[i][k] = tmp[i][0] * M[k][0] + tmp[i][1] * M[k][1] + tmp[i][2] * M[k][2];
            for (j = 0; j < 3; j++) v[j] = rel[0][j] * ray[0] + rel[1][j] * ray[1] + rel[2][j] * ray[2];
            if (v[2] <= 1e-6) return EDB_ERR_ARG; /* turned more than the field of view */
            g->dx[s] = (c->fx * v[0] + c->cx * v[2]) / v[2] - x;
            g->dy[s] = (c->fy * v[1] + c->cy * v[2]) / v[2] - y;
            if (s) {
                double d = hypot(g->dx[s] - g->dx[s - 1], g->dy[s] - g->dy[s - 1]);
                if (d > gap) gap = d;
            }
        }
        if (n >= MAX_STEPS || gap <= MAX_STEP_PX) break;
        n = (int32_t)ceil((double)n * gap / MAX_STEP_PX) + 1;
        if (n > MAX_STEPS) n = MAX_STEPS;
    }
    *steps = n;
    return EDB_OK;
}

static double reach_of(const gyro_ctx *g, int32_t n)
{
    double r = 0.0;
    int32_t s;
    for (s = 0; s < n; s++) {
        if (fabs(g->dx[s]) > r) r = fabs(g->dx[s]);
        if (fabs(g->dy[s]) > r) r = fabs(g->dy[s]);
    }
    return r;
}

static edb_status splat(const gyro_ctx *g, int32_t n, int32_t size, float *kernel)
{
    const int32_t c = size / 2;
    double reach = reach_of(g, n), sum = 0.0;
    int32_t s, corner, i;
    if (size > MAX_PSF || reach + 1.0 > (double)c + 1e-9) return EDB_ERR_TOO_LARGE;
    memset(g->acc, 0, (size_t)size * (size_t)size * sizeof(double));
    for (corner = 0; corner < 4; corner++) { /* np.add.at, corner by corner */
        int32_t oy = corner / 2, ox = corner % 2;
        for (s = 0; s < n; s++) {
            double px = (double)c + g->dx[s], py = (double)c + g->dy[s];
            double x0 = floor(px), y0 = floor(py), fx = px - x0, fy = py - y0;
            double wgt = (ox ? fx : 1 - fx) * (oy ? fy : 1 - fy);
            g->acc[((int32_t)y0 + oy) * size + (int32_t)x0 + ox] += wgt;
        }
    }
    for (i = 0; i < size * size; i++) sum += g->acc[i];
    for (i = 0; i < size * size; i++) kernel[i] = (float)(g->acc[i] / sum);
    return EDB_OK;
}

static edb_status check_inputs(const edb_camera *c, const edb_gyro_log *log)
{
    int32_t i, k;
    if (!(c->fx > 0 && c->fy > 0 && c->fx < 1e12 && c->fy < 1e12) || c->width < 1 || c->height < 1 ||
        c->width > EDB_MAX_DIM || c->height > EDB_MAX_DIM)
        return EDB_ERR_ARG;
    if (!(c->cx >= -0.5 && c->cx <= c->width - 0.5 && c->cy >= -0.5 && c->cy <= c->height - 0.5)) return EDB_ERR_ARG;
    if (!(c->exposure_time > 0 && c->exposure_time <= 10.0) || !(c->readout_time >= 0 && c->readout_time <= 1.0))
        return EDB_ERR_ARG;
    if (!(fabs(c->exposure_start) < 1e15 && fabs(c->time_offset) < 1e15)) return EDB_ERR_ARG;
    if (c->readout_direction < 0 || c->readout_direction > 3) return EDB_ERR_ARG;
    for (i = 0; i < 9; i++)
        if (!(fabs(c->gyro_to_camera[i / 3][i % 3]) <= 1.0 + 1e-6)) return EDB_ERR_ARG;
    if (log->n < 4) return EDB_ERR_ARG;
    for (i = 0; i < log->n; i++) {
        if (!(fabs(log->t[i]) < 1e15) || (i && !(log->t[i] > log->t[i - 1]))) return EDB_ERR_ARG;
        for (k = 0; k < 3; k++)
            if (!(fabs(log->omega[3 * i + k]) < 1e6)) return EDB_ERR_ARG;
    }
    return EDB_OK;
}

/* GyroLog.window and its quaternions (relative to the window's first sample) */
static void setup(gyro_ctx *g, const edb_camera *c, const edb_gyro_log *log)
{
    double t0 = c->exposure_start + c->time_offset, t1 = t0 + c->readout_time + c->exposure_time;
    int32_t i0 = 0, i1 = log->n, i, k;
    if (!(t0 < log->t[0] || t1 > log->t[log->n - 1])) {
        i0 = search(log->t, log->n, t0, 1) - 2;
        if (i0 < 0) i0 = 0;
        i1 = search(log->t, log->n, t1, 0) + 2;
        if (i1 < i0 + 4) i1 = i0 + 4;
        if (i1 > log->n) i1 = log->n;
    }
    g->t = log->t + i0;
    g->w = log->omega + 3 * i0;
    g->n = i1 - i0;
    g->q[0] = 1.0; g->q[1] = g->q[2] = g->q[3] = 0.0;
    for (i = 0; i + 1 < g->n; i++) {
        double th[3], e[4], *q = g->q + 4 * (i + 1), nrm;
        double dt = g->t[i + 1] - g->t[i];
        for (k = 0; k < 3; k++) th[k] = 0.5 * (g->w[3 * i + k] + g->w[3 * (i + 1) + k]) * dt;
        quat_exp(th, e);
        quat_mul(g->q + 4 * i, e, q);
        nrm = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
        for (k = 0; k < 4; k++) q[k] /= nrm;
    }
}

/* round(linspace(0, n, k + 1))[i] (half to even, as numpy) */
static int32_t edge_at(int32_t n, int32_t k, int32_t i)
{
    double v = i == k ? (double)n : (double)i * ((double)n / (double)k);
    double r = floor(v + 0.5);
    if (r - v == 0.5 && fmod(r, 2.0) != 0.0) r -= 1.0;
    return (int32_t)r;
}

edb_status edb_gyro_psf_grid(const edb_camera *cam, const edb_gyro_log *log, int32_t rows, int32_t cols,
                             int32_t size, void *work, size_t work_bytes, float *kernels, size_t kernels_len,
                             int32_t *size_out)
{
    gyro_ctx g;
    size_t need;
    edb_status s;
    int32_t pass, i, j, steps = 0;
    double reach = 0.0;
    if (!cam || !log || !log->t || !log->omega || !work) return EDB_ERR_NULL;
    if ((s = edb_gyro_work_bytes(log->n, &need)) != EDB_OK) return s;
    if (work_bytes < need) return EDB_ERR_BUFFER_SMALL;
    if ((s = check_inputs(cam, log)) != EDB_OK) return s;
    if (rows < 1 || cols < 1 || (rows > 1 && cam->height / rows < 8) || (cols > 1 && cam->width / cols < 8))
        return EDB_ERR_ARG;
    if (size > MAX_PSF || (size > 0 && size % 2 == 0)) return EDB_ERR_ARG;
    {
        uint8_t *p = (uint8_t *)work + ((16u - (uintptr_t)work % 16u) % 16u);
        g.q = (double *)p;
        g.dx = g.q + 4 * (size_t)log->n;
        g.dy = g.dx + MAX_STEPS;
        g.acc = g.dy + MAX_STEPS;
    }
    setup(&g, cam, log);
    for (pass = size > 0; pass < 2; pass++) { /* pass 0: the size; pass 1: the kernels */
        if (pass == 1) {
            if (size <= 0) {
                double need_r = ceil(reach + 1.0);
                if (need_r > (double)(MAX_PSF / 2)) return EDB_ERR_TOO_LARGE;
                size = 2 * (int32_t)need_r + 1;
            }
            if (size_out) *size_out = size;
            if (!kernels) return EDB_OK;
            if (kernels_len < (size_t)rows * (size_t)cols * (size_t)size * (size_t)size) return EDB_ERR_BUFFER_SMALL;
        }
        for (i = 0; i < rows; i++)
            for (j = 0; j < cols; j++) {
                double y = 0.5 * (double)(edge_at(cam->height, rows, i) + edge_at(cam->height, rows, i + 1)) - 0.5;
                double x = 0.5 * (double)(edge_at(cam->width, cols, j) + edge_at(cam->width, cols, j + 1)) - 0.5;
                if ((s = trajectory(cam, &g, x, y, &steps)) != EDB_OK) return s;
                if (pass == 0) {
                    double r = reach_of(&g, steps);
                    if (r > reach) reach = r;
                } else {
                    s = splat(&g, steps, size, kernels + ((size_t)i * (size_t)cols + (size_t)j) * (size_t)size * (size_t)size);
                    if (s != EDB_OK) return s;
                }
            }
    }
    return EDB_OK;
}
