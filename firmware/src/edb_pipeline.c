/*
 * The deblur pipeline loop of edgedeblur.runtime.pipeline.DeblurPipeline for a given PSF
 * (_sigma, _deblur, _rounds): the Wiener data step, then `iterations` rounds of
 *   z = prior(x, sigma_k),  x = data step(z, rho_k),  rho_k = lambda sigma^2 / sigma_k^2
 * with sigma_k geometric from max(hqs_sigma_start, sigma) down to sigma (numpy.geomspace),
 * in linear light (data steps on the inverse sRGB curve, prior rounds in sRGB) or in sRGB.
 * psf_grid = 1 (_restore_grid): the Wiener step at grid_prior_scale, then grid_iterations
 * prior passes with the same sigma_k and no data step between them.
 *
 * Working memory (edb_pipe_work_bytes), all in the caller's buffer:
 *   3 float planes of 3 x h x w (image, turned linear in place; data-step output; prior output)
 *   + edb_deconv_bytes(h, w, 3, kh, kw, hqs && !psf_grid): one spectrum, the OTF, conj(K) F(y) per channel
 *     (HQS only), one real extended plane, the FFT plan.
 */
#include "edb_fft_internal.h"

#include <math.h>
#include <string.h>

#define MIN_SIGMA 1.0

static edb_status check_config(const edb_pipe_config *c)
{
    if (!c) return EDB_ERR_NULL;
    if (c->mode != EDB_MODE_WIENER && c->mode != EDB_MODE_HQS) return EDB_ERR_ARG;
    if (c->iterations < 1 || c->iterations > 16) return EDB_ERR_ARG;
    if (c->grid_iterations < 1 || c->grid_iterations > 16) return EDB_ERR_ARG;
    if (c->taper < EDB_TAPER_MEAN || c->taper > EDB_TAPER_BLUR) return EDB_ERR_ARG;
    if ((c->linear != 0 && c->linear != 1) || (c->psf_grid != 0 && c->psf_grid != 1)) return EDB_ERR_ARG;
    if (c->kernel_max < 1 || c->kernel_max > 1023) return EDB_ERR_ARG;
    if (!(c->prior_scale > 0 && c->prior_scale < 1e30) || !(c->hqs_sigma_start > 0 && c->hqs_sigma_start < 1e30) ||
        !(c->hqs_lambda > 0 && c->hqs_lambda < 1e30) || !(c->sigma_max > 0 && c->sigma_max < 1e30) ||
        !(c->denoise_sigma_max > 0 && c->denoise_sigma_max < 1e30) ||
        !(c->grid_prior_scale > 0 && c->grid_prior_scale < 1e30))
        return EDB_ERR_ARG;
    return EDB_OK;
}

static int rounds_of(const edb_pipe_config *c)
{
    if (c->mode != EDB_MODE_HQS) return 1;
    return c->psf_grid ? c->grid_iterations : c->iterations;
}

static edb_status sizes(const edb_pipe_config *cfg, int32_t h, int32_t w, int32_t kh, int32_t kw,
                        size_t *plane_bytes, int *nplanes, size_t *deconv)
{
    edb_status s;
    if ((s = check_config(cfg)) != EDB_OK) return s;
    if (h < 8 || w < 8 || kh < 1 || kw < 1) return EDB_ERR_ARG;
    if (h > EDB_MAX_DIM || w > EDB_MAX_DIM) return EDB_ERR_TOO_LARGE;
    if (kh > cfg->kernel_max || kw > cfg->kernel_max || kh > h || kw > w) return EDB_ERR_ARG;
    *plane_bytes = (size_t)3 * (size_t)h * (size_t)w * sizeof(float);
    *deconv = 0;
    if ((int64_t)kh * kw == 1) {
        *nplanes = 2; /* no blur: image and prior output */
        return EDB_OK;
    }
    *nplanes = 3; /* image (made linear in place), data-step output, prior output */
    return edb_deconv_bytes(h, w, 3, kh, kw, cfg->taper, rounds_of(cfg) > 1 && !cfg->psf_grid, deconv);
}

edb_status edb_pipe_work_bytes(const edb_pipe_config *cfg, int32_t h, int32_t w, int32_t kh, int32_t kw,
                               size_t *bytes)
{
    size_t plane, deconv;
    int n;
    edb_status s;
    if (!bytes) return EDB_ERR_NULL;
    if ((s = sizes(cfg, h, w, kh, kw, &plane, &n, &deconv)) != EDB_OK) return s;
    *bytes = (size_t)n * ((plane + 15u) & ~(size_t)15u) + deconv + 16u;
    return EDB_OK;
}

/* _sigma: the noise level the prior is run at (given or estimated), or an error */
static edb_status pick_sigma(const float *img, int32_t h, int32_t w, double sigma, double limit, double *out)
{
    if (sigma < 0.0) {
        double s = edb_noise_sigma(img, h, w, 3);
        if (s < MIN_SIGMA) s = MIN_SIGMA;
        if (limit < s && s <= 1.2 * limit) s = limit; /* read as the prior's range */
        else if (s > limit) return EDB_ERR_ARG;       /* above what the prior was trained for */
        *out = s;
        return EDB_OK;
    }
    if (!(sigma <= limit)) return EDB_ERR_ARG; /* also NaN */
    *out = sigma > MIN_SIGMA / 2 ? sigma : MIN_SIGMA / 2;
    return EDB_OK;
}

static void clip_planes(float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : (x[i] > 1.0f ? 1.0f : x[i]);
}

/* numpy.geomspace(a, b, n)[k] */
static double geom(double a, double b, int k, int n)
{
    double la, lb, step;
    if (k == 0) return a;
    if (k == n - 1) return b;
    la = log10(a);
    lb = log10(b);
    step = (lb - la) / (double)(n - 1);
    return pow(10.0, (double)k * step + la);
}

edb_status edb_pipe_run(const edb_pipe_config *cfg, const uint8_t *rgb, size_t stride, int32_t h, int32_t w,
                        const float *kernel, int32_t kh, int32_t kw, double sigma, edb_prior_fn prior,
                        void *user, void *work, size_t work_bytes, uint8_t *out, size_t out_stride,
                        double *sigma_used)
{
    edb_arena a = {NULL, 0, 0, 0};
    size_t plane = 0, deconv = 0, need, hw, n3, i;
    int nplanes = 0, rounds, k, blurred, linear;
    float *img, *z, *x = NULL, *lin = NULL;
    double s, s0, prior_scale;
    edb_deconv *dc = NULL;
    edb_status st;
    int32_t r, q, c;
    if (!cfg || !rgb || !kernel || !prior || !work || !out) return EDB_ERR_NULL;
    if ((st = edb_pipe_work_bytes(cfg, h, w, kh, kw, &need)) != EDB_OK) return st;
    (void)sizes(cfg, h, w, kh, kw, &plane, &nplanes, &deconv);
    if (work_bytes < need) return EDB_ERR_BUFFER_SMALL;
    if (stride < (size_t)w * 3 || out_stride < (size_t)w * 3) return EDB_ERR_ARG;
    for (i = 0; i < (size_t)kh * (size_t)kw; i++)
        if (!(kernel[i] > -1e30f && kernel[i] < 1e30f)) return EDB_ERR_ARG; /* check_kernel: finite */
    {
        uintptr_t u = (uintptr_t)work, v = (u + 15u) & ~(uintptr_t)15u;
        a.base = (uint8_t *)v;
        a.cap = work_bytes - (size_t)(v - u);
    }
    hw = (size_t)h * (size_t)w;
    n3 = 3 * hw;
    img = (float *)edb_arena_take(&a, plane);
    z = (float *)edb_arena_take(&a, plane);
    blurred = (int64_t)kh * kw > 1;
    linear = cfg->linear;
    if (blurred) x = (float *)edb_arena_take(&a, plane);
    if (a.overflow) return EDB_ERR_BUFFER_SMALL;
    for (r = 0; r < h; r++) /* io.to_float: v / 255 in float32, planar */
        for (q = 0; q < w; q++)
            for (c = 0; c < 3; c++)
                img[(size_t)c * hw + (size_t)r * (size_t)w + (size_t)q] =
                    (float)rgb[(size_t)r * stride + (size_t)q * 3 + (size_t)c] / 255.0f;
    st = pick_sigma(img, h, w, sigma, blurred ? cfg->sigma_max : cfg->denoise_sigma_max, &s);
    if (st != EDB_OK) return st;
    if (sigma_used) *sigma_used = s;
    if (!blurred) { /* no blur: the prior is a denoiser */
        if (prior(user, img, h, w, s, z)) return EDB_ERR_INFER;
    } else {
        rounds = rounds_of(cfg);
        prior_scale = cfg->psf_grid ? cfg->grid_prior_scale : cfg->prior_scale;
        s0 = rounds > 1 ? (cfg->hqs_sigma_start > s ? cfg->hqs_sigma_start : s) : s;
        {
            void *mem = edb_arena_take(&a, deconv);
            const float *data = img;
            double nsr;
            if (!mem) return EDB_ERR_BUFFER_SMALL;
            if (linear) {
                double sl;
                lin = img; /* the sRGB frame is not needed again */
                edb_srgb_to_linear(img, lin, n3);
                sl = edb_noise_sigma(lin, h, w, 3);
                if (sl < MIN_SIGMA / 2) sl = MIN_SIGMA / 2;
                nsr = edb_wiener_nsr(lin, h, w, 3, sl, prior_scale);
                data = lin;
            } else {
                nsr = edb_wiener_nsr(img, h, w, 3, s, prior_scale);
            }
            st = edb_deconv_init(&dc, data, h, w, 3, kernel, kh, kw, cfg->taper, rounds > 1 && !cfg->psf_grid,
                                 mem, deconv);
            if (st != EDB_OK) return st;
            if ((st = edb_deconv_wiener(dc, nsr, x)) != EDB_OK) return st;
        }
        if (linear) edb_linear_to_srgb(x, x, n3); /* clips first */
        else clip_planes(x, n3);
        if (prior(user, x, h, w, s0, z)) return EDB_ERR_INFER;
        for (k = 1; k < rounds; k++) {
            double sk = geom(s0, s, k, rounds), rho = cfg->hqs_lambda * s * s / (sk * sk);
            if (cfg->psf_grid) { /* prior passes only */
                memcpy(x, z, n3 * sizeof(float));
                if (prior(user, x, h, w, sk, z)) return EDB_ERR_INFER;
                continue;
            }
            if (linear) {
                edb_srgb_to_linear(z, x, n3);
                st = edb_deconv_solve(dc, x, rho, x);
            } else {
                st = edb_deconv_solve(dc, z, rho, x);
            }
            if (st != EDB_OK) return st;
            if (linear) edb_linear_to_srgb(x, x, n3);
            else clip_planes(x, n3);
            if (prior(user, x, h, w, sk, z)) return EDB_ERR_INFER;
        }
    }
    for (r = 0; r < h; r++) /* io.from_float: clip, then floor(v * 255 + 0.5) */
        for (q = 0; q < w; q++)
            for (c = 0; c < 3; c++) {
                float v = z[(size_t)c * hw + (size_t)r * (size_t)w + (size_t)q];
                v = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
                if (v != v) v = 0.0f;
                out[(size_t)r * out_stride + (size_t)q * 3 + (size_t)c] = (uint8_t)(v * 255.0f + 0.5f);
            }
    return EDB_OK;
}
