/*
 * libFuzzer harness for the pre/post-processing and tiling entry points. The fuzz input
 * chooses the contract (channels, dtypes, layouts, scale, zero point, tile, overlap, pad
 * multiple, max_pixels), the frame (format, size, stride slack, buffer-size deficits), the
 * YUV range, and supplies pixel bytes and the raw bytes the fake engine writes as model
 * output (so NaN, inf and huge floats are covered). Buffers are malloc'ed at their exact
 * size so AddressSanitizer sees any out-of-bounds access; UBSan catches overflow. Any return
 * code is fine; a crash or sanitizer report is a bug.
 *
 *   firmware/scripts/run_fuzz.sh 60
 */
#include "edgedeblur/edb.h"

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

typedef struct {
    reader *r;
    size_t out_bytes;
} engine;

static int fake_engine(void *user, const void *in, void *out)
{
    engine *e = (engine *)user;
    size_t k;
    (void)in;
    for (k = 0; k < e->out_bytes; k++)
        ((uint8_t *)out)[k] = e->r->size ? e->r->data[(e->r->pos + k) % e->r->size] : 0;
    e->r->pos = e->r->size ? (e->r->pos + 7) % e->r->size : 0;
    return take(e->r, 97) == 0; /* sometimes the engine fails */
}

static void fill_spec(reader *r, edb_tensor_spec *t)
{
    t->dtype = (edb_dtype)take(r, 5);   /* includes float16 and an invalid value */
    t->layout = (edb_layout)take(r, 3); /* includes an invalid value */
    t->scale = (float)take(r, 1000) / 50000.0f;
    t->zero_point = (int32_t)take(r, 400) - 150;
    t->range_lo = take(r, 20) == 0 ? 0.5f : 0.0f;
    t->range_hi = 1.0f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    reader r = {data, size, 0};
    edb_contract c;
    edb_plan plan;
    edb_image src, dst;
    engine e;
    edb_format fmt;
    int32_t w, h;
    size_t wb, ib, ob, p0, p1, slack, k;
    uint8_t *s0 = NULL, *s1 = NULL, *d0 = NULL, *d1 = NULL;
    void *work = NULL, *tin = NULL, *tout = NULL;

    { /* the hex comparison must stop at a short or non-hex string */
        char hex[81];
        uint8_t digest[32];
        size_t n = size < 80 ? size : 80;
        memcpy(hex, data, n);
        hex[n] = '\0';
        (void)edb_sha256(data, size, digest);
        (void)edb_sha256_matches(digest, hex);
    }
    memset(&c, 0, sizeof c);
    c.abi_version = take(&r, 50) ? EDB_ABI_VERSION : 7u;
    c.channels = take(&r, 8) ? (take(&r, 2) ? 3 : 1) : (int32_t)take(&r, 6);
    c.pad_multiple = 1 + (int32_t)take(&r, 8);
    c.tile_size = (int32_t)take(&r, 9) * c.pad_multiple;
    c.tile_overlap = c.tile_size ? (int32_t)take(&r, (uint32_t)c.tile_size / 2 + 2) : 0;
    c.model_h = c.model_w = take(&r, 2) ? c.tile_size : 0;
    c.max_pixels = (int32_t)take(&r, 3000);
    fill_spec(&r, &c.input);
    fill_spec(&r, &c.output);
    fmt = (edb_format)take(&r, 4);
    w = (int32_t)take(&r, 70) - 1;
    h = (int32_t)take(&r, 70) - 1;
    if (edb_plan_work_bytes(&c, fmt, w, h, &wb) != EDB_OK) return 0;
    if (wb > (64u << 20)) return 0;
    work = malloc(wb + 8);
    if (edb_plan_init(&plan, &c, fmt, (edb_yuv_range)take(&r, 3), w, h, work, wb - (take(&r, 30) == 0)) != EDB_OK)
        goto done;
    if (edb_plan_tensor_bytes(&plan, &ib, &ob) != EDB_OK || edb_image_bytes(fmt, w, h, &p0, &p1) != EDB_OK) goto done;
    slack = take(&r, 3); /* extra bytes per row: exercises strides */
    p0 += slack * (size_t)h;
    tin = malloc(ib);
    tout = malloc(ob);
    s0 = malloc(p0);
    d0 = malloc(p0);
    s1 = p1 ? malloc(p1) : NULL;
    d1 = p1 ? malloc(p1) : NULL;
    if (!tin || !tout || !s0 || !d0 || (p1 && (!s1 || !d1))) goto done;
    for (k = 0; k < p0; k++) s0[k] = size ? data[k % size] : 0;
    for (k = 0; k < p1; k++) s1[k] = size ? data[(k * 3) % size] : 0;
    memset(&src, 0, sizeof src);
    src.format = fmt; src.width = w; src.height = h;
    src.planes[0] = s0; src.planes[1] = s1;
    src.strides[0] = p0 / (size_t)h;
    src.strides[1] = (size_t)w;
    src.plane_bytes[0] = p0 - (take(&r, 25) == 0); /* sometimes one byte short */
    src.plane_bytes[1] = p1;
    dst = src;
    dst.planes[0] = d0; dst.planes[1] = d1;
    dst.plane_bytes[0] = p0;
    e.r = &r;
    e.out_bytes = ob;
    (void)edb_run(&plan, &src, &dst, tin, ib - (take(&r, 40) == 0), tout, ob, fake_engine, &e);
done:
    free(work); free(tin); free(tout); free(s0); free(d0); free(s1); free(d1);
    return 0;
}
