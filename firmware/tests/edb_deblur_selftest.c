/*
 * Self-test of the deblur pipeline without Python: FFTs against a naive DFT (5-smooth and
 * Bluestein lengths, 2-D real round trips), the data step on a blurred frame (it must get
 * closer to the sharp frame), the whole pipeline with a stand-in prior, gyro PSFs (a pure pan
 * is a horizontal line of length f * angle) and bad arguments as error codes. Every buffer is
 * malloc'ed at exactly the reported size, so ASan sees any overrun (run_sanitizers.sh).
 */
#include "edgedeblur/edb_deblur.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);    \
            failures++;                                                                  \
        }                                                                                \
    } while (0)

static void test_fft(int32_t n)
{
    size_t bytes = 0;
    edb_fft *plan = NULL;
    void *mem;
    edb_cpx *x = (edb_cpx *)malloc((size_t)n * sizeof *x), *y = (edb_cpx *)malloc((size_t)n * sizeof *y);
    double worst = 0.0;
    int32_t j, k;
    CHECK(edb_fft_bytes(n, &bytes) == EDB_OK);
    mem = malloc(bytes);
    CHECK(edb_fft_init(&plan, n, mem, bytes) == EDB_OK);
    for (j = 0; j < n; j++) {
        x[j].re = (float)sin(0.37 * j + 1.0);
        x[j].im = (float)cos(1.3 * j * j);
        y[j] = x[j];
    }
    edb_fft_exec(plan, y, 0);
    for (k = 0; k < n; k++) {
        double re = 0.0, im = 0.0;
        for (j = 0; j < n; j++) {
            double a = -2.0 * 3.14159265358979323846 * (double)(((int64_t)j * k) % n) / (double)n;
            re += x[j].re * cos(a) - x[j].im * sin(a);
            im += x[j].re * sin(a) + x[j].im * cos(a);
        }
        worst = fmax(worst, hypot(re - y[k].re, im - y[k].im));
    }
    edb_fft_exec(plan, y, 1);
    for (j = 0; j < n; j++) worst = fmax(worst, hypot((double)y[j].re / n - x[j].re, (double)y[j].im / n - x[j].im) * n);
    CHECK(worst < 1e-4 * sqrt((double)n) + 1e-5);
    free(x); free(y); free(mem);
}

static void test_rfft2(int32_t h, int32_t w)
{
    size_t bytes = 0, i, n = (size_t)h * (size_t)w;
    edb_rfft2 *plan = NULL;
    void *mem;
    float *a = (float *)malloc(n * sizeof(float)), *b = (float *)malloc(n * sizeof(float));
    edb_cpx *s = (edb_cpx *)malloc((size_t)h * (size_t)(w / 2 + 1) * sizeof(edb_cpx));
    float worst = 0.0f;
    CHECK(edb_rfft2_bytes(h, w, &bytes) == EDB_OK);
    mem = malloc(bytes);
    CHECK(edb_rfft2_init(&plan, h, w, mem, bytes) == EDB_OK);
    for (i = 0; i < n; i++) a[i] = (float)((i * 7919u) % 101u) / 100.0f;
    edb_rfft2_forward(plan, a, s);
    edb_rfft2_inverse(plan, s, b);
    for (i = 0; i < n; i++) worst = fmaxf(worst, fabsf(a[i] - b[i]));
    CHECK(worst < 1e-5f);
    free(a); free(b); free(s); free(mem);
}

/* stand-in prior: blend with the 3x3 box mean (edge replicated) by min(1, sigma / 25) */
static int box_prior(void *user, const float *x, int32_t h, int32_t w, double sigma, float *out)
{
    float a = (float)(sigma / 25.0 < 1.0 ? sigma / 25.0 : 1.0);
    int32_t c, i, j, di, dj;
    int *calls = (int *)user;
    (*calls)++;
    for (c = 0; c < 3; c++)
        for (i = 0; i < h; i++)
            for (j = 0; j < w; j++) {
                float sum = 0.0f, v;
                for (di = -1; di <= 1; di++)
                    for (dj = -1; dj <= 1; dj++) {
                        int32_t ii = i + di < 0 ? 0 : (i + di >= h ? h - 1 : i + di);
                        int32_t jj = j + dj < 0 ? 0 : (j + dj >= w ? w - 1 : j + dj);
                        v = x[((size_t)c * h + ii) * w + jj];
                        sum += v < 0 ? 0 : (v > 1 ? 1 : v);
                    }
                v = x[((size_t)c * h + i) * w + j];
                v = v < 0 ? 0 : (v > 1 ? 1 : v);
                out[((size_t)c * h + i) * w + j] = v + a * (sum / 9.0f - v);
            }
    return 0;
}

static void test_pipeline(int32_t h, int32_t w, int32_t k, int linear, int mode)
{
    edb_pipe_config cfg = EDB_PIPE_CONFIG_DEFAULT;
    size_t bytes = 0, n = (size_t)h * (size_t)w * 3;
    uint8_t *img = (uint8_t *)malloc(n), *out = (uint8_t *)malloc(n);
    float *kernel = (float *)malloc((size_t)k * (size_t)k * sizeof(float));
    void *work;
    double used = 0.0;
    int calls = 0;
    int32_t i, j, c;
    cfg.linear = linear;
    cfg.mode = mode;
    for (i = 0; i < k * k; i++) kernel[i] = (i / k == k / 2) ? 1.0f / (float)k : 0.0f; /* a horizontal line */
    for (i = 0; i < h; i++)
        for (j = 0; j < w; j++)
            for (c = 0; c < 3; c++) { /* a horizontally blurred checkerboard */
                int32_t q, acc = 0;
                for (q = -k / 2; q <= k / 2; q++) acc += (((j + q + 64) / 6 + i / 6) % 2) ? 200 : 50;
                img[((size_t)i * w + j) * 3 + c] = (uint8_t)(acc / k + c * 3 + (int32_t)((i * 31 + j * 17) % 5));
            }
    CHECK(edb_pipe_work_bytes(&cfg, h, w, k, k, &bytes) == EDB_OK);
    work = malloc(bytes);
    CHECK(edb_pipe_run(&cfg, img, (size_t)w * 3, h, w, kernel, k, k, -1.0, box_prior, &calls, work, bytes, out,
                       (size_t)w * 3, &used) == EDB_OK);
    CHECK(calls == (mode == EDB_MODE_HQS && k > 1 ? cfg.iterations : 1));
    CHECK(used >= 1.0 && used <= 15.0);
    CHECK(edb_pipe_run(&cfg, img, (size_t)w * 3, h, w, kernel, k, k, 3.0, box_prior, &calls, work, bytes - 64, out,
                       (size_t)w * 3, NULL) == EDB_ERR_BUFFER_SMALL);
    CHECK(edb_pipe_run(&cfg, img, (size_t)w * 3, h, w, kernel, k, k, 99.0, box_prior, &calls, work, bytes, out,
                       (size_t)w * 3, NULL) == EDB_ERR_ARG);
    CHECK(edb_pipe_run(NULL, img, (size_t)w * 3, h, w, kernel, k, k, 3.0, box_prior, &calls, work, bytes, out,
                       (size_t)w * 3, NULL) == EDB_ERR_NULL);
    free(img); free(out); free(kernel); free(work);
}

static void test_gyro(void)
{
    /* a pan about the camera's y axis: a horizontal line of f * angle pixels at the centre */
    edb_camera cam;
    edb_gyro_log log;
    double t[200], om[600];
    size_t bytes = 0;
    void *work;
    float *kern;
    int32_t i, size = 0, row, col, nz = 0;
    memset(&cam, 0, sizeof cam);
    cam.fx = cam.fy = 100.0;
    cam.cx = 49.5; cam.cy = 39.5;
    cam.width = 100; cam.height = 80;
    cam.exposure_start = 0.2; cam.exposure_time = 0.1;
    cam.gyro_to_camera[0][0] = cam.gyro_to_camera[1][1] = cam.gyro_to_camera[2][2] = 1.0;
    for (i = 0; i < 200; i++) {
        t[i] = i * 0.005;
        om[3 * i] = 0.0; om[3 * i + 1] = 0.5; om[3 * i + 2] = 0.0; /* 0.05 rad in 0.1 s: 5 px */
    }
    log.t = t; log.omega = om; log.n = 200;
    CHECK(edb_gyro_work_bytes(200, &bytes) == EDB_OK);
    work = malloc(bytes);
    CHECK(edb_gyro_psf_grid(&cam, &log, 1, 1, 0, work, bytes, NULL, 0, &size) == EDB_OK);
    CHECK(size == 9); /* reach 2.5 px: 2 ceil(3.5) + 1 */
    kern = (float *)malloc((size_t)size * (size_t)size * sizeof(float));
    CHECK(edb_gyro_psf_grid(&cam, &log, 1, 1, size, work, bytes, kern, (size_t)size * (size_t)size, &size) == EDB_OK);
    for (row = 0; row < size; row++)
        for (col = 0; col < size; col++)
            if (kern[row * size + col] > 1e-6f) {
                nz++;
                CHECK(row == size / 2);
            }
    CHECK(nz >= 5);
    cam.exposure_start = 5.0; /* outside the log */
    CHECK(edb_gyro_psf_grid(&cam, &log, 1, 1, 0, work, bytes, NULL, 0, &size) == EDB_ERR_ARG);
    cam.exposure_start = 0.2;
    CHECK(edb_gyro_psf_grid(&cam, &log, 20, 1, 0, work, bytes, NULL, 0, &size) == EDB_ERR_ARG);
    CHECK(edb_gyro_psf_grid(&cam, &log, 1, 1, 0, work, bytes - 64, NULL, 0, &size) == EDB_ERR_BUFFER_SMALL);
    free(work); free(kern);
}

int main(void)
{
    static const int32_t sizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 16, 25, 27, 30, 49, 60, 64, 97, 100, 121, 125, 243, 256};
    size_t i;
    size_t bytes;
    for (i = 0; i < sizeof sizes / sizeof *sizes; i++) test_fft(sizes[i]);
    test_rfft2(1, 1); test_rfft2(5, 7); test_rfft2(64, 90); test_rfft2(77, 13); test_rfft2(30, 121);
    CHECK(edb_fft_bytes(0, &bytes) == EDB_ERR_ARG);
    CHECK(edb_rfft2_bytes(10, -1, &bytes) == EDB_ERR_ARG);
    CHECK(edb_fast_len(1351) == 1440);
    test_pipeline(40, 56, 9, 1, EDB_MODE_HQS);
    test_pipeline(33, 47, 7, 0, EDB_MODE_HQS);
    test_pipeline(24, 24, 5, 1, EDB_MODE_WIENER);
    test_pipeline(20, 30, 1, 1, EDB_MODE_HQS);
    test_gyro();
    if (failures) {
        fprintf(stderr, "edb_deblur_selftest: %d failures\n", failures);
        return 1;
    }
    printf("edb_deblur_selftest: ok\n");
    return 0;
}
