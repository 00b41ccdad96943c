/*
 * The frequency-domain data step of edgedeblur.runtime.deconv / _fft in float32, operation
 * for operation: the frame is extended by symmetric reflection to a 5-smooth size with at
 * least kernel + 4 px per side (pad_and_taper), the extension is tapered towards the channel
 * mean with raised-cosine ramps (or the circularly blurred extension, or not at all), and
 *   Wiener:  X = conj(K) F(y) / (|K|^2 + nsr |D|^2)
 *   HQS:     X = (conj(K) F(y) + rho F(z)) / (|K|^2 + rho)
 * are applied per channel. Complex divisions by a real are multiplications by its float
 * reciprocal, as numpy's complex64 division does. Channels are processed one at a time, so
 * the working memory holds one spectrum (plus conj(K) F(y) per channel for HQS).
 */
#include "edb_fft_internal.h"

#include <math.h>
#include <string.h>

struct edb_deconv {
    edb_pad_geom g;
    int32_t c, kh, kw, taper, hqs, wc;
    const float *y;
    edb_rfft2 *fft;
    edb_cpx *otf;   /* hp x wc */
    edb_cpx *kty;   /* c x hp x wc: conj(K) F(y) (HQS) */
    edb_cpx *spec;  /* hp x wc */
    float *pad;     /* hp x wp */
    float *ext;     /* c x hp x wp: tapered y (taper "blur" only) */
    float *wy, *wx; /* taper ramps */
    float *gfx;     /* wc: 2 - 2 cos(2 pi j / wp) */
    float *mean;    /* c: taper targets (taper "mean") */
};

edb_status edb_pad_geometry(int32_t h, int32_t w, int32_t kh, int32_t kw, edb_pad_geom *g)
{
    if (!g) return EDB_ERR_NULL;
    if (h < 1 || w < 1 || kh < 1 || kw < 1) return EDB_ERR_ARG;
    if (h > EDB_MAX_DIM || w > EDB_MAX_DIM || kh > 1023 || kw > 1023) return EDB_ERR_TOO_LARGE;
    g->h = h;
    g->w = w;
    g->hp = edb_fast_len(h + 2 * (kh + 4));
    g->wp = edb_fast_len(w + 2 * (kw + 4));
    g->top = (g->hp - h) / 2;
    g->left = (g->wp - w) / 2;
    return EDB_OK;
}

/* numpy.pad mode "symmetric" (edge repeated), any distance from the frame */
static int32_t sym_index(int32_t i, int32_t n)
{
    int32_t p = 2 * n, j = i % p;
    if (j < 0) j += p;
    return j < n ? j : p - 1 - j;
}

double edb_noise_sigma(const float *img, int32_t h, int32_t w, int32_t c)
{
    const double k = 1.2533141373155002512; /* sqrt(pi / 2) */
    double total = 0.0;
    int32_t ch, i, j, rows = 0;
    if (!img || h < 3 || w < 3 || c < 1) return 0.0;
    for (i = 0; i < h - 2; i += 4) rows++;
    for (ch = 0; ch < c; ch++) {
        const float *x = img + (size_t)ch * (size_t)h * (size_t)w;
        double sum = 0.0;
        for (i = 0; i < h - 2; i += 4) {
            const float *r0 = x + (size_t)i * (size_t)w, *r1 = r0 + w, *r2 = r1 + w;
            for (j = 0; j < w - 2; j++) {
                float d0 = (r0[j] - 2.0f * r0[j + 1]) + r0[j + 2];
                float d1 = (r1[j] - 2.0f * r1[j + 1]) + r1[j + 2];
                float d2 = (r2[j] - 2.0f * r2[j + 1]) + r2[j + 2];
                sum += (double)fabsf((d0 - 2.0f * d1) + d2);
            }
        }
        total += k / (6.0 * (double)rows * (double)(w - 2)) * sum;
    }
    return total / (double)c * 255.0;
}

double edb_wiener_nsr(const float *img, int32_t h, int32_t w, int32_t c, double sigma, double prior_scale)
{
    double s = sigma > 0.25 ? sigma : 0.25; /* MIN_SIGMA / 4 */
    double noise_var = (s / 255.0) * (s / 255.0), gy = 0.0, gx = 0.0, power;
    size_t ny = 0, nx = 0;
    int32_t ch, i, j;
    for (ch = 0; ch < c; ch++) {
        const float *x = img + (size_t)ch * (size_t)h * (size_t)w;
        for (i = 1; i < h; i += 4)
            for (j = 0; j < w; j++) {
                float d = x[(size_t)i * (size_t)w + (size_t)j] - x[(size_t)(i - 1) * (size_t)w + (size_t)j];
                gy += (double)(d * d);
                ny++;
            }
        for (i = 0; i < h; i++)
            for (j = 1; j < w; j += 4) {
                float d = x[(size_t)i * (size_t)w + (size_t)j] - x[(size_t)i * (size_t)w + (size_t)(j - 1)];
                gx += (double)(d * d);
                nx++;
            }
    }
    power = (ny ? gy / (double)ny : 0.0) + (nx ? gx / (double)nx : 0.0) - 4.0 * noise_var;
    if (!(power > 1e-4)) power = 1e-4;
    return noise_var / (prior_scale * power);
}

static float clip01(float v) { return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v); }

void edb_srgb_to_linear(const float *in, float *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float x = clip01(in[i]);
        out[i] = x <= 0.04045f ? x / 12.92f : powf((x + 0.055f) / 1.055f, 2.4f);
    }
}

void edb_linear_to_srgb(const float *in, float *out, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float x = clip01(in[i]);
        out[i] = x <= 0.0031308f ? x * 12.92f : 1.055f * powf(x, (float)(1.0 / 2.4)) - 0.055f;
    }
}

/* _fft._ramp: 1 over [start, start + length), raised cosine down to 0 outside */
static void ramp(float *r, int32_t total, int32_t start, int32_t length)
{
    const float pi = 3.14159265358979f;
    int32_t i, before = start, after = total - (start + length);
    for (i = 0; i < total; i++) r[i] = 1.0f;
    for (i = 0; i < before; i++) {
        float t = ((float)i + 0.5f) / (float)before;
        r[i] = 0.5f - 0.5f * cosf(pi * t);
    }
    for (i = 0; i < after; i++) {
        float t = ((float)i + 0.5f) / (float)after;
        r[start + length + i] = 0.5f + 0.5f * cosf(pi * t);
    }
}

static edb_status layout(edb_arena *a, edb_deconv **out, int32_t h, int32_t w, int32_t c, int32_t kh,
                         int32_t kw, int taper, int hqs)
{
    edb_deconv *d = (edb_deconv *)edb_arena_take(a, sizeof(edb_deconv));
    edb_pad_geom g;
    edb_status s;
    size_t bins, plane;
    if (c < 1 || c > 4 || taper < 0 || taper > 2) return EDB_ERR_ARG;
    if ((s = edb_pad_geometry(h, w, kh, kw, &g)) != EDB_OK) return s;
    bins = (size_t)g.hp * (size_t)(g.wp / 2 + 1);
    plane = (size_t)g.hp * (size_t)g.wp;
    {
        edb_rfft2 *fft = edb_rfft2_build(a, g.hp, g.wp);
        edb_cpx *otf = (edb_cpx *)edb_arena_take(a, bins * sizeof(edb_cpx));
        edb_cpx *kty = hqs ? (edb_cpx *)edb_arena_take(a, (size_t)c * bins * sizeof(edb_cpx)) : NULL;
        edb_cpx *spec = (edb_cpx *)edb_arena_take(a, bins * sizeof(edb_cpx));
        float *pad = (float *)edb_arena_take(a, plane * sizeof(float));
        float *ext = taper == EDB_TAPER_BLUR ? (float *)edb_arena_take(a, (size_t)c * plane * sizeof(float)) : NULL;
        float *wy = (float *)edb_arena_take(a, (size_t)g.hp * sizeof(float));
        float *wx = (float *)edb_arena_take(a, (size_t)g.wp * sizeof(float));
        float *mean = (float *)edb_arena_take(a, (size_t)c * sizeof(float));
        float *gfx = (float *)edb_arena_take(a, (size_t)(g.wp / 2 + 1) * sizeof(float));
        if (a->overflow) return a->base ? EDB_ERR_BUFFER_SMALL : EDB_ERR_TOO_LARGE;
        if (!a->base) return EDB_OK;
        memset(d, 0, sizeof *d);
        d->g = g;
        d->c = c; d->kh = kh; d->kw = kw; d->taper = taper; d->hqs = hqs; d->wc = g.wp / 2 + 1;
        d->fft = fft; d->otf = otf; d->kty = kty; d->spec = spec; d->pad = pad; d->ext = ext;
        d->wy = wy; d->wx = wx; d->mean = mean; d->gfx = gfx;
        *out = d;
    }
    return EDB_OK;
}

edb_status edb_deconv_bytes(int32_t h, int32_t w, int32_t c, int32_t kh, int32_t kw, int taper, int hqs,
                            size_t *bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    edb_status s;
    if (!bytes) return EDB_ERR_NULL;
    if ((s = layout(&a, NULL, h, w, c, kh, kw, taper, hqs ? 1 : 0)) != EDB_OK) return s;
    *bytes = a.used + 16;
    return EDB_OK;
}

/* The symmetric extension of channel plane `src` into d->pad */
static void reflect(const edb_deconv *d, const float *src, float *dst)
{
    const edb_pad_geom *g = &d->g;
    int32_t i, j;
    for (i = 0; i < g->hp; i++) {
        const float *row = src + (size_t)sym_index(i - g->top, g->h) * (size_t)g->w;
        float *o = dst + (size_t)i * (size_t)g->wp;
        for (j = 0; j < g->wp; j++) o[j] = row[sym_index(j - g->left, g->w)];
    }
}

/* _blend_extension: outside the frame, x -= (1 - wy wx) (x - target) */
static void blend(const edb_deconv *d, float *x, const float *target, float mean)
{
    const edb_pad_geom *g = &d->g;
    int32_t i, j;
    for (i = 0; i < g->hp; i++) {
        int inside = i >= g->top && i < g->top + g->h;
        float *row = x + (size_t)i * (size_t)g->wp;
        const float *trow = target ? target + (size_t)i * (size_t)g->wp : NULL;
        for (j = 0; j < g->wp; j++) {
            float wgt, goal;
            if (inside && j == g->left) { j = g->left + g->w - 1; continue; }
            wgt = d->wy[i] * d->wx[j];
            goal = trow ? trow[j] : mean;
            row[j] -= (1.0f - wgt) * (row[j] - goal);
        }
    }
}

static void spectrum_mul(edb_cpx *s, const edb_cpx *k, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        edb_cpx a = s[i], b = k[i];
        s[i].re = a.re * b.re - a.im * b.im;
        s[i].im = a.re * b.im + a.im * b.re;
    }
}

/* The tapered extension of channel ch of y into dst (hp x wp) */
static void extend_y(edb_deconv *d, int32_t ch, float *dst)
{
    const size_t plane = (size_t)d->g.hp * (size_t)d->g.wp, hw = (size_t)d->g.h * (size_t)d->g.w;
    if (d->ext) {
        memcpy(dst, d->ext + (size_t)ch * plane, plane * sizeof(float));
        return;
    }
    reflect(d, d->y + (size_t)ch * hw, dst);
    if (d->taper == EDB_TAPER_MEAN) blend(d, dst, NULL, d->mean[ch]);
}

edb_status edb_deconv_init(edb_deconv **ctx, const float *y, int32_t h, int32_t w, int32_t c,
                           const float *kernel, int32_t kh, int32_t kw, int taper, int hqs,
                           void *mem, size_t bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    edb_deconv *d = NULL;
    edb_status s;
    size_t need, bins, plane, hw, i;
    int32_t r, q, ch;
    if (!ctx || !y || !kernel || !mem) return EDB_ERR_NULL;
    if ((s = edb_deconv_bytes(h, w, c, kh, kw, taper, hqs, &need)) != EDB_OK) return s;
    if (bytes < need) return EDB_ERR_BUFFER_SMALL;
    if ((uintptr_t)mem % 16u) return EDB_ERR_ARG;
    a.base = (uint8_t *)mem;
    a.cap = bytes;
    if ((s = layout(&a, &d, h, w, c, kh, kw, taper, hqs ? 1 : 0)) != EDB_OK) return s;
    d->y = y;
    bins = (size_t)d->g.hp * (size_t)d->wc;
    plane = (size_t)d->g.hp * (size_t)d->g.wp;
    hw = (size_t)h * (size_t)w;
    ramp(d->wy, d->g.hp, d->g.top, h);
    ramp(d->wx, d->g.wp, d->g.left, w);
    for (q = 0; q < d->wc; q++) /* gradient_spectrum, float32 as numpy computes it */
        d->gfx[q] = 2.0f - 2.0f * cosf(2.0f * 3.14159265358979f * (float)q / (float)d->g.wp);
    /* psf2otf: the kernel zero-padded, its centre (kh / 2, kw / 2) rolled to (0, 0) */
    memset(d->pad, 0, plane * sizeof(float));
    for (r = 0; r < kh; r++)
        for (q = 0; q < kw; q++) {
            int32_t rr = ((r - kh / 2) % d->g.hp + d->g.hp) % d->g.hp;
            int32_t cc = ((q - kw / 2) % d->g.wp + d->g.wp) % d->g.wp;
            d->pad[(size_t)rr * (size_t)d->g.wp + (size_t)cc] = kernel[(size_t)r * (size_t)kw + (size_t)q];
        }
    edb_rfft2_forward(d->fft, d->pad, d->otf);
    for (ch = 0; ch < c; ch++) { /* taper "mean": every 4th pixel of every 4th row */
        const float *x = y + (size_t)ch * hw;
        double sum = 0.0;
        size_t count = 0;
        for (r = 0; r < h; r += 4)
            for (q = 0; q < w; q += 4) { sum += (double)x[(size_t)r * (size_t)w + (size_t)q]; count++; }
        d->mean[ch] = (float)(sum / (double)count);
    }
    if (taper == EDB_TAPER_BLUR) /* towards irfft2(rfft2(reflected) * otf) */
        for (ch = 0; ch < c; ch++) {
            float *e = d->ext + (size_t)ch * plane;
            reflect(d, y + (size_t)ch * hw, e);
            edb_rfft2_forward(d->fft, e, d->spec);
            spectrum_mul(d->spec, d->otf, bins);
            edb_rfft2_inverse(d->fft, d->spec, d->pad);
            blend(d, e, d->pad, 0.0f);
        }
    if (hqs)
        for (ch = 0; ch < c; ch++) {
            edb_cpx *k = d->kty + (size_t)ch * bins;
            extend_y(d, ch, d->pad);
            edb_rfft2_forward(d->fft, d->pad, k);
            for (i = 0; i < bins; i++) { /* conj(otf) * F(y) */
                edb_cpx o = d->otf[i], f = k[i];
                k[i].re = o.re * f.re + o.im * f.im;
                k[i].im = o.re * f.im - o.im * f.re;
            }
        }
    *ctx = d;
    return EDB_OK;
}

static void crop(const edb_deconv *d, const float *padded, float *out)
{
    int32_t i;
    for (i = 0; i < d->g.h; i++)
        memcpy(out + (size_t)i * (size_t)d->g.w,
               padded + (size_t)(i + d->g.top) * (size_t)d->g.wp + (size_t)d->g.left, (size_t)d->g.w * sizeof(float));
}

edb_status edb_deconv_wiener(edb_deconv *d, double nsr, float *out)
{
    const float pi = 3.14159265358979f, nsr32 = (float)nsr;
    const size_t hw = d ? (size_t)d->g.h * (size_t)d->g.w : 0;
    int32_t ch, i, j;
    if (!d || !out) return EDB_ERR_NULL;
    if (!(nsr > 0.0) || nsr > 1e30) return EDB_ERR_ARG;
    for (ch = 0; ch < d->c; ch++) {
        extend_y(d, ch, d->pad);
        edb_rfft2_forward(d->fft, d->pad, d->spec);
        for (i = 0; i < d->g.hp; i++) {
            /* gradient_spectrum: 2 - 2 cos(2 pi f), float32 as numpy computes it */
            float fy = 2.0f - 2.0f * cosf(2.0f * pi * (float)i / (float)d->g.hp);
            const float *gfx = d->gfx;
            edb_cpx *s = d->spec + (size_t)i * (size_t)d->wc;
            const edb_cpx *o = d->otf + (size_t)i * (size_t)d->wc;
            for (j = 0; j < d->wc; j++) {
                float den = o[j].re * o[j].re + o[j].im * o[j].im + nsr32 * (fy + gfx[j]);
                float scl = 1.0f / den, fr = o[j].re * scl, fi = -o[j].im * scl;
                edb_cpx a = s[j];
                s[j].re = a.re * fr - a.im * fi;
                s[j].im = a.re * fi + a.im * fr;
            }
        }
        edb_rfft2_inverse(d->fft, d->spec, d->pad);
        crop(d, d->pad, out + (size_t)ch * hw);
    }
    return EDB_OK;
}

edb_status edb_deconv_solve(edb_deconv *d, const float *z, double rho, float *out)
{
    const size_t hw = d ? (size_t)d->g.h * (size_t)d->g.w : 0;
    const float r32 = (float)rho;
    size_t i, bins;
    int32_t ch, r;
    if (!d || !z || !out) return EDB_ERR_NULL;
    if (!d->hqs) return EDB_ERR_STATE;
    if (!(rho > 0.0) || rho > 1e30) return EDB_ERR_ARG;
    bins = (size_t)d->g.hp * (size_t)d->wc;
    for (ch = 0; ch < d->c; ch++) {
        const edb_cpx *k = d->kty + (size_t)ch * bins;
        extend_y(d, ch, d->pad); /* z inside the frame, y's tapered extension outside */
        for (r = 0; r < d->g.h; r++)
            memcpy(d->pad + (size_t)(r + d->g.top) * (size_t)d->g.wp + (size_t)d->g.left,
                   z + (size_t)ch * hw + (size_t)r * (size_t)d->g.w, (size_t)d->g.w * sizeof(float));
        edb_rfft2_forward(d->fft, d->pad, d->spec);
        for (i = 0; i < bins; i++) {
            edb_cpx o = d->otf[i], s = d->spec[i];
            float scl = 1.0f / ((o.re * o.re + o.im * o.im) + r32);
            d->spec[i].re = (s.re * r32 + k[i].re) * scl;
            d->spec[i].im = (s.im * r32 + k[i].im) * scl;
        }
        edb_rfft2_inverse(d->fft, d->spec, d->pad);
        crop(d, d->pad, out + (size_t)ch * hw);
    }
    return EDB_OK;
}
