/*
 * FFTs for the deblur data step, written for this library (no FFT library code).
 *
 * Complex: Stockham self-sorting decimation in frequency. A stage of radix p on sequences of
 * length len = p * m with stride s (len * s = n) maps
 *     y[s (p j + u) + q] = W_len^(j u) * sum_r x[s (j + r m) + q] W_p^(r u)
 * for j < m, q < s, u < p, and the next stage continues on length m with stride s * p; after
 * the last stage the output is in natural order (no bit reversal). Radix 4, 2, 3 and 5
 * butterflies are written out; a length with another prime factor goes through Bluestein's
 * chirp-z identity jk = (j^2 + k^2 - (k - j)^2) / 2 as a circular convolution of power-of-two
 * length m >= 2n - 1. Batched sequences (element t of sequence b at t * batch + b) share the
 * inner loop, which is how the 2-D transform does its columns (a block of columns at a time).
 *
 * Real: an even length w is one complex FFT of w / 2 points (even samples real, odd samples
 * imaginary) and a split step; an odd length is a complex FFT with zero imaginary parts.
 * Twiddles are computed in double and stored as float; data are float.
 */
#include "edb_fft_internal.h"

#include <math.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

int32_t edb_fast_len(int32_t n)
{
    int32_t m;
    if (n <= 1) return 1;
    for (m = n; m <= 4 * EDB_MAX_DIM; m++) {
        int32_t r = m;
        while (r % 2 == 0) r /= 2;
        while (r % 3 == 0) r /= 3;
        while (r % 5 == 0) r /= 5;
        if (r == 1) return m;
    }
    return 0;
}

static edb_cpx cmul(edb_cpx a, edb_cpx b)
{
    edb_cpx r;
    r.re = a.re * b.re - a.im * b.im;
    r.im = a.re * b.im + a.im * b.re;
    return r;
}

static edb_cpx conjc(edb_cpx a)
{
    a.im = -a.im;
    return a;
}

static void twiddles(edb_cpx *tw, int32_t n)
{
    int32_t k;
    for (k = 0; k < n; k++) {
        double a = 2.0 * PI * (double)k / (double)n;
        tw[k].re = (float)cos(a);
        tw[k].im = (float)-sin(a);
    }
}

static void stage(int32_t p, int32_t len, int32_t s, int32_t lanes, const edb_cpx *tw, const edb_cpx *x,
                  edb_cpx *y, int inverse)
{
    const int32_t m = len / p, L = s * lanes;
    const float sg = inverse ? 1.0f : -1.0f;
    const float s3 = 0.866025403784438647f * sg;                 /* sin(2 pi / 3) */
    const float c51 = 0.309016994374947424f, c52 = -0.809016994374947424f;
    const float s51 = 0.951056516295153572f * sg, s52 = 0.587785252292473129f * sg;
    int32_t j, k, u;
    for (j = 0; j < m; j++) {
        edb_cpx w[5];
        for (u = 1; u < p; u++) {
            w[u] = tw[(size_t)j * (size_t)u * (size_t)s];
            if (inverse) w[u].im = -w[u].im;
        }
        for (k = 0; k < L; k++) {
            const edb_cpx *a = x + (size_t)L * (size_t)j + (size_t)k;
            edb_cpx *o = y + (size_t)L * (size_t)p * (size_t)j + (size_t)k;
            const size_t step = (size_t)L * (size_t)m, ostep = (size_t)L;
            edb_cpx b[5];
            if (p == 2) {
                edb_cpx a0 = a[0], a1 = a[step];
                b[0].re = a0.re + a1.re; b[0].im = a0.im + a1.im;
                b[1].re = a0.re - a1.re; b[1].im = a0.im - a1.im;
            } else if (p == 4) {
                edb_cpx a0 = a[0], a1 = a[step], a2 = a[2 * step], a3 = a[3 * step];
                float t0r = a0.re + a2.re, t0i = a0.im + a2.im, t1r = a0.re - a2.re, t1i = a0.im - a2.im;
                float t2r = a1.re + a3.re, t2i = a1.im + a3.im, t3r = a1.re - a3.re, t3i = a1.im - a3.im;
                /* (sg i) * t3 */
                float r3r = -sg * t3i, r3i = sg * t3r;
                b[0].re = t0r + t2r; b[0].im = t0i + t2i;
                b[1].re = t1r + r3r; b[1].im = t1i + r3i;
                b[2].re = t0r - t2r; b[2].im = t0i - t2i;
                b[3].re = t1r - r3r; b[3].im = t1i - r3i;
            } else if (p == 3) {
                edb_cpx a0 = a[0], a1 = a[step], a2 = a[2 * step];
                float tr = a1.re + a2.re, ti = a1.im + a2.im, dr = a1.re - a2.re, di = a1.im - a2.im;
                float mr = a0.re - 0.5f * tr, mi = a0.im - 0.5f * ti;
                b[0].re = a0.re + tr; b[0].im = a0.im + ti;
                b[1].re = mr - s3 * di; b[1].im = mi + s3 * dr;
                b[2].re = mr + s3 * di; b[2].im = mi - s3 * dr;
            } else { /* p == 5 */
                edb_cpx a0 = a[0], a1 = a[step], a2 = a[2 * step], a3 = a[3 * step], a4 = a[4 * step];
                float t1r = a1.re + a4.re, t1i = a1.im + a4.im, t2r = a2.re + a3.re, t2i = a2.im + a3.im;
                float t3r = a1.re - a4.re, t3i = a1.im - a4.im, t4r = a2.re - a3.re, t4i = a2.im - a3.im;
                float b1r = a0.re + c51 * t1r + c52 * t2r, b1i = a0.im + c51 * t1i + c52 * t2i;
                float b2r = a0.re + c52 * t1r + c51 * t2r, b2i = a0.im + c52 * t1i + c51 * t2i;
                float e1r = s51 * t3r + s52 * t4r, e1i = s51 * t3i + s52 * t4i; /* times i */
                float e2r = s52 * t3r - s51 * t4r, e2i = s52 * t3i - s51 * t4i;
                b[0].re = a0.re + t1r + t2r; b[0].im = a0.im + t1i + t2i;
                b[1].re = b1r - e1i; b[1].im = b1i + e1r;
                b[4].re = b1r + e1i; b[4].im = b1i - e1r;
                b[2].re = b2r - e2i; b[2].im = b2i + e2r;
                b[3].re = b2r + e2i; b[3].im = b2i - e2r;
            }
            o[0] = b[0];
            for (u = 1; u < p; u++) o[(size_t)u * ostep] = j ? cmul(b[u], w[u]) : b[u];
        }
    }
}

static void stockham(const edb_fft *p, edb_cpx *x, edb_cpx *scratch, int32_t batch, int inverse)
{
    edb_cpx *src = x, *dst = scratch, *t;
    int32_t len = p->n, s = 1, f;
    for (f = 0; f < p->nfac; f++) {
        stage(p->fac[f], len, s, batch, p->tw, src, dst, inverse);
        len /= p->fac[f];
        s *= p->fac[f];
        t = src; src = dst; dst = t;
    }
    if (src != x) memcpy(x, src, (size_t)p->n * (size_t)batch * sizeof *x);
}

static void bluestein(const edb_fft *p, edb_cpx *x, int32_t batch, int inverse)
{
    const int32_t n = p->n, m = p->m;
    const float inv_m = 1.0f / (float)m;
    edb_cpx *buf = p->buf;
    int32_t b, j;
    for (b = 0; b < batch; b++) {
        for (j = 0; j < n; j++) {
            edb_cpx c = inverse ? conjc(p->chirp[j]) : p->chirp[j];
            buf[j] = cmul(x[(size_t)j * (size_t)batch + (size_t)b], c);
        }
        memset(buf + n, 0, (size_t)(m - n) * sizeof *buf);
        stockham(p->sub, buf, p->sub->scratch, 1, 0);
        for (j = 0; j < m; j++)
            buf[j] = cmul(buf[j], inverse ? conjc(p->bspec[(m - j) % m]) : p->bspec[j]);
        stockham(p->sub, buf, p->sub->scratch, 1, 1);
        for (j = 0; j < n; j++) {
            edb_cpx c = inverse ? conjc(p->chirp[j]) : p->chirp[j];
            edb_cpx v = cmul(buf[j], c);
            v.re *= inv_m;
            v.im *= inv_m;
            x[(size_t)j * (size_t)batch + (size_t)b] = v;
        }
    }
}

void edb_fft_batch(const edb_fft *p, edb_cpx *x, edb_cpx *scratch, int32_t batch, int inverse)
{
    if (p->n <= 1) return;
    if (p->m) bluestein(p, x, batch, inverse);
    else stockham(p, x, scratch, batch, inverse);
}

void edb_fft_exec(const edb_fft *plan, edb_cpx *x, int inverse)
{
    if (plan && x) edb_fft_batch(plan, x, plan->scratch, 1, inverse);
}

edb_fft *edb_fft_build(edb_arena *a, int32_t n)
{
    edb_fft *p = (edb_fft *)edb_arena_take(a, sizeof(edb_fft));
    int32_t fac[EDB_FFT_MAX_FACTORS], nfac = 0, r = n, m = 0, j;
    edb_cpx *tw, *scratch, *chirp = NULL, *bspec = NULL, *buf = NULL;
    edb_fft *sub = NULL;
    while (r % 4 == 0) { fac[nfac++] = 4; r /= 4; }
    while (r % 2 == 0) { fac[nfac++] = 2; r /= 2; }
    while (r % 3 == 0) { fac[nfac++] = 3; r /= 3; }
    while (r % 5 == 0) { fac[nfac++] = 5; r /= 5; }
    if (r > 1) {
        m = 1;
        while (m < 2 * n - 1) m *= 2;
        nfac = 0;
    }
    tw = (edb_cpx *)edb_arena_take(a, (size_t)n * sizeof(edb_cpx));
    scratch = (edb_cpx *)edb_arena_take(a, (size_t)n * sizeof(edb_cpx));
    if (m) {
        chirp = (edb_cpx *)edb_arena_take(a, (size_t)n * sizeof(edb_cpx));
        bspec = (edb_cpx *)edb_arena_take(a, (size_t)m * sizeof(edb_cpx));
        buf = (edb_cpx *)edb_arena_take(a, (size_t)m * sizeof(edb_cpx));
        sub = edb_fft_build(a, m);
    }
    if (!p || !tw || !scratch || (m && (!chirp || !bspec || !buf || !sub))) return NULL;
    memset(p, 0, sizeof *p);
    p->n = n;
    p->nfac = nfac;
    for (j = 0; j < nfac; j++) p->fac[j] = fac[j];
    p->tw = tw;
    p->scratch = scratch;
    twiddles(tw, n);
    if (m) {
        p->m = m;
        p->chirp = chirp;
        p->bspec = bspec;
        p->buf = buf;
        p->sub = sub;
        for (j = 0; j < n; j++) { /* exp(-i pi j^2 / n), j^2 reduced mod 2n first */
            int64_t q = ((int64_t)j * (int64_t)j) % (2 * (int64_t)n);
            double ang = PI * (double)q / (double)n;
            chirp[j].re = (float)cos(ang);
            chirp[j].im = (float)-sin(ang);
        }
        memset(bspec, 0, (size_t)m * sizeof *bspec);
        for (j = 0; j < n; j++) {
            bspec[j] = conjc(chirp[j]);
            if (j) bspec[m - j] = conjc(chirp[j]);
        }
        stockham(sub, bspec, sub->scratch, 1, 0);
    }
    return p;
}

edb_status edb_fft_bytes(int32_t n, size_t *bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    if (!bytes) return EDB_ERR_NULL;
    if (n < 1) return EDB_ERR_ARG;
    if (n > 4 * EDB_MAX_DIM) return EDB_ERR_TOO_LARGE;
    (void)edb_fft_build(&a, n);
    *bytes = a.used + 16;
    return EDB_OK;
}

static uint8_t *align16(void *mem, size_t *bytes)
{
    uintptr_t u = (uintptr_t)mem, v = (u + 15u) & ~(uintptr_t)15u;
    if (*bytes < (size_t)(v - u)) return NULL;
    *bytes -= (size_t)(v - u);
    return (uint8_t *)v;
}

edb_status edb_fft_init(edb_fft **plan, int32_t n, void *mem, size_t bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    size_t need;
    edb_status s;
    if (!plan || !mem) return EDB_ERR_NULL;
    if ((s = edb_fft_bytes(n, &need)) != EDB_OK) return s;
    if (bytes < need) return EDB_ERR_BUFFER_SMALL;
    a.base = align16(mem, &bytes);
    a.cap = bytes;
    *plan = edb_fft_build(&a, n);
    return *plan ? EDB_OK : EDB_ERR_BUFFER_SMALL;
}

/* --- 2-D real ------------------------------------------------------------------------------ */
edb_rfft2 *edb_rfft2_build(edb_arena *a, int32_t h, int32_t w)
{
    edb_rfft2 *p = (edb_rfft2 *)edb_arena_take(a, sizeof(edb_rfft2));
    int even = w % 2 == 0;
    edb_fft *row = edb_fft_build(a, even ? w / 2 : w);
    edb_fft *col = edb_fft_build(a, h);
    edb_cpx *rtw = even ? (edb_cpx *)edb_arena_take(a, (size_t)(w / 2 + 1) * sizeof(edb_cpx)) : NULL;
    edb_cpx *rowbuf = even ? NULL : (edb_cpx *)edb_arena_take(a, (size_t)w * sizeof(edb_cpx));
    edb_cpx *colbuf = (edb_cpx *)edb_arena_take(a, (size_t)h * EDB_COL_BLOCK * sizeof(edb_cpx));
    edb_cpx *colscr = (edb_cpx *)edb_arena_take(a, (size_t)h * EDB_COL_BLOCK * sizeof(edb_cpx));
    int32_t k;
    if (!p || !row || !col || !colbuf || !colscr || (even ? !rtw : !rowbuf)) return NULL;
    p->h = h;
    p->w = w;
    p->wc = w / 2 + 1;
    p->row = row;
    p->col = col;
    p->rtw = rtw;
    p->rowbuf = rowbuf;
    p->colbuf = colbuf;
    p->colscr = colscr;
    if (even)
        for (k = 0; k <= w / 2; k++) {
            double ang = 2.0 * PI * (double)k / (double)w;
            rtw[k].re = (float)cos(ang);
            rtw[k].im = (float)-sin(ang);
        }
    return p;
}

edb_status edb_rfft2_bytes(int32_t h, int32_t w, size_t *bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    if (!bytes) return EDB_ERR_NULL;
    if (h < 1 || w < 1) return EDB_ERR_ARG;
    if (h > 4 * EDB_MAX_DIM || w > 4 * EDB_MAX_DIM) return EDB_ERR_TOO_LARGE;
    (void)edb_rfft2_build(&a, h, w);
    *bytes = a.used + 16;
    return EDB_OK;
}

edb_status edb_rfft2_init(edb_rfft2 **plan, int32_t h, int32_t w, void *mem, size_t bytes)
{
    edb_arena a = {NULL, 0, 0, 0};
    size_t need;
    edb_status s;
    if (!plan || !mem) return EDB_ERR_NULL;
    if ((s = edb_rfft2_bytes(h, w, &need)) != EDB_OK) return s;
    if (bytes < need) return EDB_ERR_BUFFER_SMALL;
    a.base = align16(mem, &bytes);
    a.cap = bytes;
    *plan = edb_rfft2_build(&a, h, w);
    return *plan ? EDB_OK : EDB_ERR_BUFFER_SMALL;
}

static void row_forward(const edb_rfft2 *p, const float *in, edb_cpx *out)
{
    int32_t k, w = p->w;
    if (w % 2) {
        for (k = 0; k < w; k++) { p->rowbuf[k].re = in[k]; p->rowbuf[k].im = 0.0f; }
        edb_fft_batch(p->row, p->rowbuf, p->row->scratch, 1, 0);
        memcpy(out, p->rowbuf, (size_t)p->wc * sizeof *out);
        return;
    }
    {
        const int32_t hh = w / 2;
        edb_cpx z0;
        for (k = 0; k < hh; k++) { out[k].re = in[2 * k]; out[k].im = in[2 * k + 1]; }
        edb_fft_batch(p->row, out, p->row->scratch, 1, 0);
        z0 = out[0];
        for (k = 1; 2 * k <= hh; k++) {
            /* X[k] = E + W^k O, X[hh-k] = conj(E) + W^(hh-k) conj(O),
               E = (a + conj b) / 2, O = -i (a - conj b) / 2 */
            edb_cpx a = out[k], b = out[hh - k], e, o, xk, xm;
            e.re = 0.5f * (a.re + b.re); e.im = 0.5f * (a.im - b.im);
            o.re = 0.5f * (a.im + b.im); o.im = -0.5f * (a.re - b.re);
            xk = cmul(p->rtw[k], o);
            xk.re += e.re; xk.im += e.im;
            xm = cmul(p->rtw[hh - k], conjc(o));
            xm.re += e.re; xm.im -= e.im;
            out[k] = xk;
            out[hh - k] = xm;
        }
        out[0].re = z0.re + z0.im; out[0].im = 0.0f;
        out[hh].re = z0.re - z0.im; out[hh].im = 0.0f;
    }
}

static void row_inverse(const edb_rfft2 *p, edb_cpx *x, float *out, float scale)
{
    int32_t k, w = p->w;
    if (w % 2) {
        for (k = 0; k < p->wc; k++) p->rowbuf[k] = x[k];
        for (k = p->wc; k < w; k++) p->rowbuf[k] = conjc(x[w - k]);
        edb_fft_batch(p->row, p->rowbuf, p->row->scratch, 1, 1);
        for (k = 0; k < w; k++) out[k] = p->rowbuf[k].re * scale;
        return;
    }
    {
        const int32_t hh = w / 2;
        float x0 = x[0].re, xh = x[hh].re; /* imaginary parts of DC and Nyquist are ignored */
        for (k = 1; 2 * k <= hh; k++) {
            /* Z[k] = E2 + i O2, E2 = a + conj b, O2 = (a - conj b) conj(W^k); Z[hh-k] = conj(E2) + i conj(O2) */
            edb_cpx a = x[k], b = x[hh - k], e, d, o, zk, zm;
            e.re = a.re + b.re; e.im = a.im - b.im;
            d.re = a.re - b.re; d.im = a.im + b.im;
            o = cmul(d, conjc(p->rtw[k]));
            zk.re = e.re - o.im; zk.im = e.im + o.re;
            zm.re = e.re + o.im; zm.im = -e.im + o.re;
            x[k] = zk;
            x[hh - k] = zm;
        }
        x[0].re = x0 + xh;
        x[0].im = x0 - xh;
        edb_fft_batch(p->row, x, p->row->scratch, 1, 1);
        for (k = 0; k < hh; k++) { out[2 * k] = x[k].re * scale; out[2 * k + 1] = x[k].im * scale; }
    }
}

static void columns(const edb_rfft2 *p, edb_cpx *spec, int inverse)
{
    const int32_t h = p->h, wc = p->wc;
    int32_t c0, t, b;
    if (h <= 1) return;
    for (c0 = 0; c0 < wc; c0 += EDB_COL_BLOCK) {
        int32_t nb = wc - c0 < EDB_COL_BLOCK ? wc - c0 : EDB_COL_BLOCK;
        for (t = 0; t < h; t++)
            for (b = 0; b < nb; b++) p->colbuf[t * nb + b] = spec[(size_t)t * (size_t)wc + (size_t)(c0 + b)];
        edb_fft_batch(p->col, p->colbuf, p->colscr, nb, inverse);
        for (t = 0; t < h; t++)
            for (b = 0; b < nb; b++) spec[(size_t)t * (size_t)wc + (size_t)(c0 + b)] = p->colbuf[t * nb + b];
    }
}

void edb_rfft2_forward(const edb_rfft2 *p, const float *in, edb_cpx *out)
{
    int32_t r;
    for (r = 0; r < p->h; r++) row_forward(p, in + (size_t)r * (size_t)p->w, out + (size_t)r * (size_t)p->wc);
    columns(p, out, 0);
}

void edb_rfft2_inverse(const edb_rfft2 *p, edb_cpx *spec, float *out)
{
    const float scale = (float)(1.0 / ((double)p->h * (double)p->w));
    int32_t r;
    columns(p, spec, 1);
    for (r = 0; r < p->h; r++)
        row_inverse(p, spec + (size_t)r * (size_t)p->wc, out + (size_t)r * (size_t)p->w, scale);
}
