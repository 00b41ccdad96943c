/*
 * The per-frame path: tiles are packed from the source frame (reflection padding at the
 * bottom/right, NV12 converted on the fly), run through the caller's callback, and blended
 * into an int32 band only tile_h + 1 rows tall (each band row holds its channels as planes,
 * [row][channel][x], so the blend loop is contiguous); rows that no later tile touches are
 * finished (round half up, clamp) straight into the destination frame. Mirrors
 * edgedeblur.runtime.tiling.run_tiled, with Q15 weights and fixed-point (2^-6 LSB) pixels instead of float32.
 */
#include "edb_internal.h"

#include <string.h>

static size_t row_bytes(edb_format f, int32_t w) { return (size_t)w * (f == EDB_FMT_RGB24 ? 3u : 1u); }

/* The last byte a plane must hold: stride * (rows - 1) + packed row. */
static int plane_ok(const uint8_t *ptr, size_t stride, size_t bytes, size_t row, int32_t rows)
{
    if (!ptr) return 0;
    if (stride < row) return 0;
    if ((size_t)(rows - 1) > ((size_t)-1 - row) / stride) return 0;
    return bytes >= stride * (size_t)(rows - 1) + row;
}

static edb_status check_image(const edb_plan *p, const edb_image *im)
{
    if (!im) return EDB_ERR_NULL;
    if (im->format != p->format || im->width != p->width || im->height != p->height) return EDB_ERR_ARG;
    if (!im->planes[0] || (im->format == EDB_FMT_NV12 && !im->planes[1])) return EDB_ERR_NULL;
    if (!plane_ok(im->planes[0], im->strides[0], im->plane_bytes[0], row_bytes(im->format, im->width), im->height))
        return EDB_ERR_BUFFER_SMALL;
    if (im->format == EDB_FMT_NV12 &&
        !plane_ok(im->planes[1], im->strides[1], im->plane_bytes[1], (size_t)im->width, im->height / 2))
        return EDB_ERR_BUFFER_SMALL;
    return EDB_OK;
}

static int overlaps(const void *a, size_t na, const void *b, size_t nb)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    if (!a || !b || !na || !nb) return 0;
    return pa < pb + nb && pb < pa + na;
}

static int image_overlaps(const edb_image *s, const edb_image *d)
{
    int i, j;
    for (i = 0; i < 2; i++)
        for (j = 0; j < 2; j++)
            if (overlaps(s->planes[i], s->plane_bytes[i], d->planes[j], d->plane_bytes[j])) return 1;
    return 0;
}

/* One source pixel (already reflected into the frame) as model channels. */
static void fetch(const edb_plan *p, const edb_image *im, int32_t y, int32_t x, uint8_t px[3])
{
    const uint8_t *row = im->planes[0] + (size_t)y * im->strides[0];
    if (p->format == EDB_FMT_RGB24 && p->c.channels == 1) {
        px[0] = px[1] = px[2] = row[3 * x + p->pass];
    } else if (p->format == EDB_FMT_RGB24) {
        px[0] = row[3 * x]; px[1] = row[3 * x + 1]; px[2] = row[3 * x + 2];
    } else if (p->format == EDB_FMT_GRAY8 || p->c.channels == 1) {
        px[0] = px[1] = px[2] = row[x];
    } else {
        const uint8_t *uv = im->planes[1] + (size_t)(y / 2) * im->strides[1] + (size_t)(x / 2) * 2u;
        edb_yuv_to_rgb(p->yuv, row[x], uv[0], uv[1], px);
    }
}

/* Element strides of a tile tensor: index = pixel * ps + channel * cs. */
static void tensor_strides(const edb_plan *p, edb_layout layout, size_t *ps, size_t *cs)
{
    const size_t plane = (size_t)p->tile_h * (size_t)p->tile_w;
    *ps = layout == EDB_LAYOUT_NCHW ? 1u : (size_t)p->c.channels;
    *cs = layout == EDB_LAYOUT_NCHW ? plane : 1u;
}

/* One tile row of source pixels as model channels into px (tile_w x 3); columns past the
 * frame are padded. RGB24 rows inside the frame are used in place (returned pointer). */
static const uint8_t *fetch_row(const edb_plan *p, const edb_image *im, int32_t sy, int32_t x0, uint8_t *px)
{
    const uint8_t *row = im->planes[0] + (size_t)sy * im->strides[0];
    int32_t i, tw = p->tile_w;
    if (p->format == EDB_FMT_RGB24 && p->c.channels == 3 && x0 + tw <= p->width) return row + 3 * (size_t)x0;
    if (p->format == EDB_FMT_NV12 && p->c.channels == 3) {
        edb_nv12_row_to_rgb(p->yuv, row, im->planes[1] + (size_t)(sy / 2) * im->strides[1], x0, tw,
                            p->width, p->edge_pad, px);
        return px;
    }
    for (i = 0; i < tw; i++) {
        int32_t x = x0 + i < p->width ? x0 + i : edb_pad_index(x0 + i, p->width, p->edge_pad);
        fetch(p, im, sy, x, px + 3 * (size_t)i);
    }
    return px;
}

/* Pack one tile: the dtype is hoisted out of the pixel loop (one loop per element type). */
#define EDB_PACK_LOOP(T, LUT)                                                         \
    for (i = 0; i < tw; i++) {                                                        \
        const uint8_t *q = rowpx + (size_t)i * step;                                  \
        T *o = (T *)in + ((size_t)j * (size_t)tw + (size_t)i) * ps;                   \
        for (c = 0; c < C; c++) o[(size_t)c * cs] = (T)LUT[q[c]];                     \
    }

static void pack_tile(const edb_plan *p, const edb_image *src, int32_t y0, int32_t x0, void *in,
                      uint8_t *rowbuf)
{
    const int32_t C = p->c.channels, tw = p->tile_w;
    const edb_dtype dt = p->c.input.dtype;
    size_t ps, cs;
    int32_t j, i, c;
    tensor_strides(p, p->c.input.layout, &ps, &cs);
    for (j = 0; j < p->tile_h; j++) {
        int32_t sy = edb_pad_index(y0 + j, p->height, p->edge_pad);
        const uint8_t *rowpx = fetch_row(p, src, sy, x0, rowbuf);
        const size_t step = 3; /* fetch_row always yields 3 bytes per pixel */
        if (dt == EDB_DTYPE_FLOAT32) {
            EDB_PACK_LOOP(float, p->in_f32)
        } else if (dt == EDB_DTYPE_INT8) {
            EDB_PACK_LOOP(int8_t, p->in_q)
        } else {
            EDB_PACK_LOOP(uint8_t, p->in_q)
        }
    }
}

/* float model output -> QV, clamped to [-3, 4] (NaN -> -3) before the int conversion.
 * Written as the select patterns of maxss/minss so the blend loop vectorizes. */
static inline int32_t qv_float(float x)
{
    x = x > -3.0f ? x : -3.0f; /* false for NaN */
    x = x < 4.0f ? x : 4.0f;
    return (int32_t)(x * (float)EDB_V_ONE + (float)(-EDB_V_MIN) + 0.5f) + EDB_V_MIN;
}

static void accumulate(edb_plan *p, const void *out, int32_t y0, int32_t x0, int32_t ty, int32_t tx,
                       int32_t band_top)
{
    const int32_t C = p->c.channels, tw = p->tile_w;
    const size_t W = (size_t)p->width;
    const int f32 = p->c.output.dtype == EDB_DTYPE_FLOAT32;
    const uint16_t *wy = p->wy + (size_t)ty * (size_t)p->tile_h, *wx = p->wx + (size_t)tx * (size_t)tw;
    int32_t rows = p->height - y0 < p->tile_h ? p->height - y0 : p->tile_h;
    int32_t cols = p->width - x0 < tw ? p->width - x0 : tw;
    size_t ps, cs;
    int32_t j, i, c;
    tensor_strides(p, p->c.output.layout, &ps, &cs);
    for (j = 0; j < rows; j++) {
        const uint32_t wyj = wy[j];
        for (c = 0; c < C; c++) {
            int32_t *b = p->band + ((size_t)(y0 - band_top + j) * (size_t)C + (size_t)c) * W + (size_t)x0;
            const size_t base = (size_t)j * (size_t)tw * ps + (size_t)c * cs;
            if (f32 && ps == 1) { /* NCHW float: contiguous, vectorizes */
                const float *o = (const float *)out + base;
                for (i = 0; i < cols; i++)
                    b[i] += (int32_t)((wyj * wx[i] + (EDB_W_ONE / 2)) >> 15) * qv_float(o[i]);
            } else if (f32) {
                const float *o = (const float *)out + base;
                for (i = 0; i < cols; i++)
                    b[i] += (int32_t)((wyj * wx[i] + (EDB_W_ONE / 2)) >> 15) * qv_float(o[(size_t)i * ps]);
            } else {
                const uint8_t *o = (const uint8_t *)out + base;
                for (i = 0; i < cols; i++)
                    b[i] += (int32_t)((wyj * wx[i] + (EDB_W_ONE / 2)) >> 15) * p->out_q[o[(size_t)i * ps]];
            }
        }
    }
}

/* Mean of three accumulators (channel planes W apart) -> uint8 (Runner's grey-on-RGB-model
 * path: mean, then round). */
static uint8_t mean3_to_u8(const int32_t *a, size_t W)
{
    int64_t s = (int64_t)a[0] + a[W] + a[2 * W];
    if (s <= 0) return 0;
    s = (s + 3 * ((int64_t)1 << (EDB_ACC_SHIFT - 1))) / (3 * ((int64_t)1 << EDB_ACC_SHIFT));
    return (uint8_t)(s > 255 ? 255 : s);
}

static void finish_nv12_rgb(const edb_plan *p, const int32_t *b0, const int32_t *b1, int32_t y, edb_image *dst)
{
    uint8_t *yr0 = dst->planes[0] + (size_t)y * dst->strides[0];
    edb_acc_rows_to_nv12(p->yuv, b0, b1, p->width, yr0, yr0 + dst->strides[0],
                         dst->planes[1] + (size_t)(y / 2) * dst->strides[1]);
}

/* Write finished band rows [0, n) (image rows band_top..band_top+n) into dst. */
static void finish_rows(const edb_plan *p, int32_t band_top, int32_t n, const edb_image *src, edb_image *dst)
{
    const size_t rowlen = (size_t)p->width * (size_t)p->c.channels;
    int32_t r;
    size_t x;
    if (p->format == EDB_FMT_NV12 && p->c.channels == 3) {
        for (r = 0; r < n; r += 2)
            finish_nv12_rgb(p, p->band + (size_t)r * rowlen, p->band + (size_t)(r + 1) * rowlen, band_top + r, dst);
        return;
    }
    for (r = 0; r < n; r++) {
        int32_t y = band_top + r;
        const int32_t *b = p->band + (size_t)r * rowlen;
        uint8_t *o = dst->planes[0] + (size_t)y * dst->strides[0];
        const size_t W = (size_t)p->width;
        if (p->replicate)
            for (x = 0; x < W; x++) o[x] = mean3_to_u8(b + x, W);
        else if (p->passes == 3) /* grey model, colour frame: this pass's channel */
            for (x = 0; x < W; x++) o[3 * x + (size_t)p->pass] = edb_acc_to_u8(b[x]);
        else if (p->c.channels == 3)
            for (x = 0; x < W; x++) {
                o[3 * x] = edb_acc_to_u8(b[x]);
                o[3 * x + 1] = edb_acc_to_u8(b[W + x]);
                o[3 * x + 2] = edb_acc_to_u8(b[2 * W + x]);
            }
        else
            for (x = 0; x < W; x++) o[x] = edb_acc_to_u8(b[x]);
        if (p->format == EDB_FMT_NV12 && (y & 1) == 0) /* grey model on NV12: chroma passes through */
            memcpy(dst->planes[1] + (size_t)(y / 2) * dst->strides[1],
                   src->planes[1] + (size_t)(y / 2) * src->strides[1], (size_t)p->width);
    }
}

static edb_status check_run(const edb_plan *p, const edb_image *src, const edb_image *dst, const void *in,
                            size_t in_bytes, const void *out, size_t out_bytes, edb_infer_fn infer)
{
    size_t need_in, need_out;
    edb_status s;
    if (!p || !src || !dst || !in || !out || !infer) return EDB_ERR_NULL;
    if (p->magic != EDB_PLAN_MAGIC) return EDB_ERR_STATE;
    if ((s = check_image(p, src)) != EDB_OK || (s = check_image(p, dst)) != EDB_OK) return s;
    if ((s = edb_plan_tensor_bytes(p, &need_in, &need_out)) != EDB_OK) return s;
    if (in_bytes < need_in || out_bytes < need_out) return EDB_ERR_BUFFER_SMALL;
    if (((uintptr_t)in & 3u) || ((uintptr_t)out & 3u)) return EDB_ERR_ARG;
    if (image_overlaps(src, dst) || overlaps(in, need_in, out, need_out)) return EDB_ERR_ALIAS;
    return EDB_OK;
}

/* One pass over the frame: every tile row, blended into the band, finished rows written. */
static edb_status run_pass(edb_plan *p, const edb_image *src, edb_image *dst, void *in, void *out,
                           edb_infer_fn infer, void *user, size_t rowlen)
{
    int32_t ty, tx, band_top = 0;
    memset(p->band, 0, p->band_rows * rowlen * sizeof(int32_t));
    for (ty = 0; ty < p->tiles_y; ty++) {
        int32_t y0 = edb_axis_start(ty, p->tiles_y, p->pad_h, p->tile_h, p->overlap), done;
        for (tx = 0; tx < p->tiles_x; tx++) {
            int32_t x0 = edb_axis_start(tx, p->tiles_x, p->pad_w, p->tile_w, p->overlap);
            pack_tile(p, src, y0, x0, in, p->rowbuf);
            if (infer(user, in, out) != 0) return EDB_ERR_INFER;
            accumulate(p, out, y0, x0, ty, tx, band_top);
        }
        done = ty + 1 < p->tiles_y ? edb_axis_start(ty + 1, p->tiles_y, p->pad_h, p->tile_h, p->overlap) : p->pad_h;
        if (done > p->height) done = p->height;
        if (p->format == EDB_FMT_NV12 && done < p->height) done &= ~1; /* chroma needs row pairs */
        if (done <= band_top) continue;
        finish_rows(p, band_top, done - band_top, src, dst);
        {
            size_t keep = p->band_rows - (size_t)(done - band_top);
            memmove(p->band, p->band + (size_t)(done - band_top) * rowlen, keep * rowlen * sizeof(int32_t));
            memset(p->band + keep * rowlen, 0, (size_t)(done - band_top) * rowlen * sizeof(int32_t));
        }
        band_top = done;
    }
    return EDB_OK;
}

edb_status edb_run(edb_plan *p, const edb_image *src, edb_image *dst, void *in, size_t in_bytes,
                   void *out, size_t out_bytes, edb_infer_fn infer, void *user)
{
    const size_t rowlen = p ? (size_t)p->width * (size_t)p->c.channels : 0;
    edb_status s = check_run(p, src, dst, in, in_bytes, out, out_bytes, infer);
    if (s != EDB_OK) return s;
    for (p->pass = 0; p->pass < p->passes; p->pass++)
        if ((s = run_pass(p, src, dst, in, out, infer, user, rowlen)) != EDB_OK) return s;
    return EDB_OK;
}
