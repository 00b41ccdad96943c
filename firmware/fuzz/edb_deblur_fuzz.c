/*
 * libFuzzer harness for the deblur pipeline: the input chooses the frame size, the kernel
 * (size and raw float bits: NaN, inf, negative and huge values included), the pipeline settings
 * (some invalid), sigma, a short work buffer, and a camera and gyro log for edb_gyro_psf_grid
 * (unsorted times, huge rates, principal points outside the frame). The fake prior returns
 * bytes of the input as floats. Buffers are malloc'ed at their exact size so ASan sees any
 * overrun. Any return code is fine; a crash or sanitizer report is a bug.
 *
 *   firmware/scripts/run_fuzz.sh 60
 */
#include "edgedeblur/edb_deblur.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size, pos;
} reader;

static uint32_t take(reader *r, uint32_t mod)
{
    uint32_t v = 0;
    int i;
    for (i = 0; i < 4; i++) v = (v << 8) | (r->pos < r->size ? r->data[r->pos++] : 0u);
    return mod ? v % mod : v;
}

static float take_float(reader *r)
{
    uint32_t bits = take(r, 0);
    float f;
    if (take(r, 4) != 0) return (float)(bits % 1000u) / 1000.0f; /* mostly sane values */
    memcpy(&f, &bits, sizeof f);
    return f;
}

static int fake_prior(void *user, const float *x, int32_t h, int32_t w, double sigma, float *out)
{
    reader *r = (reader *)user;
    size_t i, n = (size_t)3 * (size_t)h * (size_t)w;
    (void)sigma;
    for (i = 0; i < n; i++) out[i] = (i % 97u) ? x[i] : take_float(r);
    return take(r, 53) == 0;
}

static void fuzz_pipeline(reader *r)
{
    edb_pipe_config cfg = EDB_PIPE_CONFIG_DEFAULT;
    int32_t h = (int32_t)take(r, 70), w = (int32_t)take(r, 70), kh = (int32_t)take(r, 24), kw = (int32_t)take(r, 24);
    size_t bytes = 0, n, i;
    uint8_t *img, *out;
    float *kernel;
    void *work;
    double sigma = take(r, 3) ? -1.0 : (double)take_float(r);
    cfg.mode = (int32_t)take(r, 3);
    cfg.iterations = (int32_t)take(r, 18);
    cfg.taper = (int32_t)take(r, 4);
    cfg.linear = (int32_t)take(r, 3);
    cfg.psf_grid = (int32_t)take(r, 2);
    cfg.grid_iterations = (int32_t)take(r, 18);
    if (take(r, 8) == 0) cfg.hqs_lambda = (double)take_float(r);
    if (edb_pipe_work_bytes(&cfg, h, w, kh, kw, &bytes) != EDB_OK || bytes > (64u << 20)) return;
    n = (size_t)h * (size_t)w * 3;
    img = (uint8_t *)malloc(n);
    out = (uint8_t *)malloc(n);
    kernel = (float *)malloc((size_t)kh * (size_t)kw * sizeof(float));
    bytes -= take(r, 8) == 0 ? take(r, 256) : 0;
    work = malloc(bytes ? bytes : 1);
    for (i = 0; i < n; i++) img[i] = (uint8_t)take(r, 256);
    for (i = 0; i < (size_t)kh * (size_t)kw; i++) kernel[i] = take_float(r);
    (void)edb_pipe_run(&cfg, img, (size_t)w * 3, h, w, kernel, kh, kw, sigma, fake_prior, r, work, bytes, out,
                       (size_t)w * 3, NULL);
    free(img); free(out); free(kernel); free(work);
}

static void fuzz_gyro(reader *r)
{
    edb_camera cam;
    edb_gyro_log log;
    int32_t n = 4 + (int32_t)take(r, 60), i, size = 0;
    double *t = (double *)malloc((size_t)n * sizeof(double)), *om = (double *)malloc((size_t)n * 3 * sizeof(double));
    size_t bytes = 0, klen;
    void *work;
    float *kern;
    memset(&cam, 0, sizeof cam);
    cam.width = 8 + (int32_t)take(r, 200);
    cam.height = 8 + (int32_t)take(r, 200);
    cam.fx = 5.0 + take(r, 500);
    cam.fy = cam.fx * (0.5 + take(r, 100) / 100.0);
    cam.cx = (double)take(r, (uint32_t)cam.width + 4) - 1.0;
    cam.cy = (double)take(r, (uint32_t)cam.height + 4) - 1.0;
    cam.exposure_start = take(r, 100) / 100.0;
    cam.exposure_time = take(r, 1000) / 2000.0;
    cam.readout_time = take(r, 100) / 1000.0;
    cam.readout_direction = (int32_t)take(r, 5);
    cam.time_offset = ((double)take(r, 100) - 50.0) / 1000.0;
    for (i = 0; i < 9; i++) cam.gyro_to_camera[i / 3][i % 3] = i % 4 == 0 ? 1.0 : 0.0;
    for (i = 0; i < n; i++) {
        t[i] = (double)i * (0.01 + take(r, 100) / 1000.0) + (take(r, 50) == 0 ? -1.0 : 0.0);
        om[3 * i] = ((double)take(r, 2000) - 1000.0) / 100.0;
        om[3 * i + 1] = ((double)take(r, 2000) - 1000.0) / 100.0;
        om[3 * i + 2] = ((double)take(r, 2000) - 1000.0) / 100.0;
    }
    log.t = t; log.omega = om; log.n = n;
    if (edb_gyro_work_bytes(n, &bytes) == EDB_OK) {
        int32_t rows = 1 + (int32_t)take(r, 4), cols = 1 + (int32_t)take(r, 4);
        work = malloc(bytes);
        if (edb_gyro_psf_grid(&cam, &log, rows, cols, 0, work, bytes, NULL, 0, &size) == EDB_OK) {
            klen = (size_t)rows * (size_t)cols * (size_t)size * (size_t)size - (take(r, 8) == 0);
            kern = (float *)malloc(klen ? klen * sizeof(float) : 1);
            (void)edb_gyro_psf_grid(&cam, &log, rows, cols, size, work, bytes, kern, klen, &size);
            free(kern);
        }
        free(work);
    }
    free(t); free(om);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    if (take(&r, 2)) fuzz_pipeline(&r);
    else fuzz_gyro(&r);
    return 0;
}
