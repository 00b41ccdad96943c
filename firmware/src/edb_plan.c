/*
 * Plans: validate a contract, size the working memory, and precompute everything that depends
 * only on the contract and the frame size (tile grid, normalised blending weights, lookup
 * tables), so edb_run does integer work only and never allocates.
 */
#include "edb_internal.h"

#include <math.h>
#include <string.h>

#define ALIGN8(n) (((n) + 7u) & ~(size_t)7u)

size_t edb_dtype_size(edb_dtype d)
{
    switch (d) {
    case EDB_DTYPE_FLOAT32: return 4;
    case EDB_DTYPE_INT8:
    case EDB_DTYPE_UINT8: return 1;
    case EDB_DTYPE_FLOAT16: return 2;
    }
    return 0;
}

int32_t edb_axis_count(int32_t n, int32_t tile, int32_t overlap)
{
    int32_t stride = tile - overlap;
    if (n <= tile) return 1;
    return (n - tile + stride - 1) / stride + 1;
}

static edb_status check_tensor(const edb_tensor_spec *t)
{
    if (t->layout != EDB_LAYOUT_NCHW && t->layout != EDB_LAYOUT_NHWC) return EDB_ERR_ARG;
    switch (t->dtype) {
    case EDB_DTYPE_FLOAT32: break;
    case EDB_DTYPE_FLOAT16: return EDB_ERR_UNSUPPORTED;
    case EDB_DTYPE_INT8:
        if (t->zero_point < -128 || t->zero_point > 127) return EDB_ERR_CONTRACT;
        break;
    case EDB_DTYPE_UINT8:
        if (t->zero_point < 0 || t->zero_point > 255) return EDB_ERR_CONTRACT;
        break;
    default: return EDB_ERR_ARG;
    }
    if (t->dtype != EDB_DTYPE_FLOAT32 && !(t->scale > 0.0f && t->scale < 1e30f))
        return EDB_ERR_CONTRACT; /* also rejects NaN */
    if (t->range_lo != 0.0f || t->range_hi != 1.0f) return EDB_ERR_UNSUPPORTED;
    return EDB_OK;
}

edb_status edb_contract_check(const edb_contract *c)
{
    edb_status s;
    if (!c) return EDB_ERR_NULL;
    if (c->abi_version != EDB_ABI_VERSION) return EDB_ERR_STATE;
    if (c->channels != 1 && c->channels != 3) return EDB_ERR_CONTRACT;
    if ((s = check_tensor(&c->input)) != EDB_OK) return s;
    if ((s = check_tensor(&c->output)) != EDB_OK) return s;
    if (c->pad_multiple < 1 || c->pad_multiple > EDB_MAX_DIM) return EDB_ERR_CONTRACT;
    if (c->tile_size < 0 || c->tile_size > EDB_MAX_DIM || c->tile_overlap < 0) return EDB_ERR_CONTRACT;
    if (c->tile_size > 0 && (2 * c->tile_overlap >= c->tile_size || c->tile_size % c->pad_multiple))
        return EDB_ERR_CONTRACT;
    if (c->tile_size == 0 && c->tile_overlap != 0) return EDB_ERR_CONTRACT;
    if (c->max_pixels < 0) return EDB_ERR_CONTRACT;
    if (c->model_h < 0 || c->model_w < 0 || (c->model_h == 0) != (c->model_w == 0)) return EDB_ERR_CONTRACT;
    if (c->model_h > 0 && (c->model_h != c->model_w || c->model_h != c->tile_size)) return EDB_ERR_CONTRACT;
    return EDB_OK;
}

/* Every format runs every model (grey models run each RGB channel, RGB models replicate grey). */
static int format_ok(edb_format f)
{
    return f == EDB_FMT_RGB24 || f == EDB_FMT_GRAY8 || f == EDB_FMT_NV12;
}

static int32_t round_up(int32_t n, int32_t m) { return (n + m - 1) / m * m; }

/* Tile geometry (Runner._restore_hwc's rule) for a checked contract and frame size: fixed
 * models always tile; dynamic ones tile only above max_pixels, else run the whole frame. */
static void geometry(const edb_contract *c, int32_t w, int32_t h, int32_t g[5])
{
    int tiled = c->tile_size > 0 && (c->model_h > 0 || (int64_t)w * h > (int64_t)c->max_pixels);
    if (tiled) { /* tiled: pad (reflect) only up to one tile */
        g[0] = h > c->tile_size ? h : c->tile_size;
        g[1] = w > c->tile_size ? w : c->tile_size;
        g[2] = g[3] = c->tile_size;
        g[4] = c->tile_overlap;
    } else { /* whole frame, padded to the multiple the model needs */
        g[0] = g[2] = round_up(h, c->pad_multiple);
        g[1] = g[3] = round_up(w, c->pad_multiple);
        g[4] = 0;
    }
}

/* Checked a * b; returns 0 on overflow of size_t. */
static int mul_ok(size_t a, size_t b, size_t *out)
{
    if (a && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

static edb_status layout_bytes(const edb_contract *c, int32_t w, const int32_t g[5], size_t parts[4])
{
    size_t band, ny, nx, t;
    int32_t ty = edb_axis_count(g[0], g[2], g[4]), tx = edb_axis_count(g[1], g[3], g[4]);
    if (!mul_ok((size_t)g[2] + 1, (size_t)w, &t) || !mul_ok(t, (size_t)c->channels * 4u, &band))
        return EDB_ERR_TOO_LARGE;
    if (!mul_ok((size_t)ty, (size_t)g[2] * 2u, &ny) || !mul_ok((size_t)tx, (size_t)g[3] * 2u, &nx))
        return EDB_ERR_TOO_LARGE;
    parts[0] = ALIGN8(band);
    parts[1] = ALIGN8(ny);
    parts[2] = ALIGN8(nx);
    parts[3] = ALIGN8((size_t)g[3] * 3u);
    if (parts[0] < band || parts[0] + parts[1] < parts[0] || parts[0] + parts[1] + parts[2] < parts[2] ||
        parts[0] + parts[1] + parts[2] + parts[3] < parts[3])
        return EDB_ERR_TOO_LARGE;
    return EDB_OK;
}

static edb_status check_frame(const edb_contract *c, edb_format format, int32_t w, int32_t h)
{
    edb_status s = edb_contract_check(c);
    if (s != EDB_OK) return s;
    if (w < 1 || h < 1) return EDB_ERR_ARG;
    if (w > EDB_MAX_DIM || h > EDB_MAX_DIM) return EDB_ERR_TOO_LARGE;
    if (!format_ok(format)) return EDB_ERR_ARG;
    if (format == EDB_FMT_NV12 && ((w | h) & 1)) return EDB_ERR_ARG;
    return EDB_OK;
}

edb_status edb_plan_work_bytes(const edb_contract *c, edb_format format, int32_t width,
                               int32_t height, size_t *bytes)
{
    int32_t g[5];
    size_t parts[4];
    edb_status s;
    if (!c || !bytes) return EDB_ERR_NULL;
    if ((s = check_frame(c, format, width, height)) != EDB_OK) return s;
    geometry(c, width, height, g);
    if ((s = layout_bytes(c, width, g, parts)) != EDB_OK) return s;
    *bytes = parts[0] + parts[1] + parts[2] + parts[3];
    return EDB_OK;
}

/* The runtime's 1-D window (tiling.blend_ramp): raised-cosine ramps, float32. */
static float ramp_at(int32_t j, int32_t tile, int32_t overlap)
{
    const double pi = 3.14159265358979323846;
    int32_t i;
    if (overlap == 0) return 1.0f;
    i = j < overlap ? j : (j >= tile - overlap ? tile - 1 - j : -1);
    if (i < 0) return 1.0f;
    return (float)(0.5 - 0.5 * cos(pi * (i + 0.5) / overlap));
}

/* Q15 weight of each tile at each offset, normalised by the sum over all tiles covering the
 * pixel: the fixed-point form of `band / (wy * wx)` in run_tiled, which is separable. */
static void axis_weights(uint16_t *dst, int32_t n, int32_t tile, int32_t overlap, int32_t count)
{
    int32_t t, j, u;
    for (t = 0; t < count; t++) {
        int32_t s = edb_axis_start(t, count, n, tile, overlap);
        for (j = 0; j < tile; j++) {
            int32_t pos = s + j;
            float sum = 0.0f;
            for (u = t - 3 < 0 ? 0 : t - 3; u < count && u <= t + 3; u++) {
                int32_t su = edb_axis_start(u, count, n, tile, overlap);
                if (pos >= su && pos < su + tile) sum += ramp_at(pos - su, tile, overlap);
            }
            dst[(size_t)t * (size_t)tile + (size_t)j] =
                (uint16_t)floor((double)ramp_at(j, tile, overlap) / (double)sum * EDB_W_ONE + 0.5);
        }
    }
}

static int32_t qv_of(double real)
{
    double v = real * EDB_V_ONE;
    if (!(v >= EDB_V_MIN)) v = EDB_V_MIN;
    if (v > EDB_V_MAX) v = EDB_V_MAX;
    return (int32_t)floor(v + 0.5);
}

/* Lookup tables: uint8 pixel -> model input (the runtime's to_float then quantize, float32
 * arithmetic, round half to even); output byte (an int8 code's two's complement or a uint8
 * code) -> QV pixel value. */
static void build_luts(edb_plan *p)
{
    const edb_tensor_spec *in = &p->c.input, *out = &p->c.output;
    int32_t lo = in->dtype == EDB_DTYPE_INT8 ? -128 : 0, hi = in->dtype == EDB_DTYPE_INT8 ? 127 : 255;
    int v;
    for (v = 0; v < 256; v++) {
        float x = (float)v / 255.0f;
        p->in_f32[v] = x;
        if (in->dtype == EDB_DTYPE_INT8 || in->dtype == EDB_DTYPE_UINT8) {
            float q = nearbyintf(x / in->scale) + (float)in->zero_point;
            p->in_q[v] = (int16_t)(q < (float)lo ? lo : (q > (float)hi ? hi : (int32_t)q));
        } else {
            p->in_q[v] = 0;
        }
        if (out->dtype == EDB_DTYPE_INT8)
            p->out_q[v] = qv_of((double)out->scale * (double)((v < 128 ? v : v - 256) - out->zero_point));
        else if (out->dtype == EDB_DTYPE_UINT8)
            p->out_q[v] = qv_of((double)out->scale * (double)(v - out->zero_point));
        else
            p->out_q[v] = 0;
    }
}

edb_status edb_plan_init(edb_plan *plan, const edb_contract *c, edb_format format,
                         edb_yuv_range yuv, int32_t width, int32_t height, void *work,
                         size_t work_bytes)
{
    int32_t g[5];
    size_t parts[4];
    edb_status s;
    if (!plan || !c || !work) return EDB_ERR_NULL;
    memset(plan, 0, sizeof *plan);
    if (yuv != EDB_YUV_BT601_FULL && yuv != EDB_YUV_BT601_VIDEO) return EDB_ERR_ARG;
    if ((s = check_frame(c, format, width, height)) != EDB_OK) return s;
    geometry(c, width, height, g);
    if ((s = layout_bytes(c, width, g, parts)) != EDB_OK) return s;
    if (work_bytes < parts[0] + parts[1] + parts[2] + parts[3]) return EDB_ERR_BUFFER_SMALL;
    if ((uintptr_t)work & 7u) return EDB_ERR_ARG; /* int32 band needs alignment */
    plan->c = *c;
    plan->format = format;
    plan->yuv = yuv;
    plan->width = width;
    plan->height = height;
    plan->pad_h = g[0];
    plan->pad_w = g[1];
    plan->tile_h = g[2];
    plan->tile_w = g[3];
    plan->overlap = g[4];
    plan->tiles_y = edb_axis_count(g[0], g[2], g[4]);
    plan->tiles_x = edb_axis_count(g[1], g[3], g[4]);
    plan->edge_pad = width == 1 || height == 1;
    plan->replicate = format == EDB_FMT_GRAY8 && c->channels == 3;
    plan->passes = format == EDB_FMT_RGB24 && c->channels == 1 ? 3 : 1;
    plan->in_elems = (size_t)g[2] * (size_t)g[3] * (size_t)c->channels;
    plan->band_rows = (size_t)g[2] + 1;
    plan->work = (uint8_t *)work;
    plan->work_bytes = parts[0] + parts[1] + parts[2] + parts[3];
    plan->band = (int32_t *)work;
    plan->wy = (uint16_t *)(void *)(plan->work + parts[0]);
    plan->wx = (uint16_t *)(void *)(plan->work + parts[0] + parts[1]);
    plan->rowbuf = plan->work + parts[0] + parts[1] + parts[2];
    axis_weights(plan->wy, g[0], g[2], g[4], plan->tiles_y);
    axis_weights(plan->wx, g[1], g[3], g[4], plan->tiles_x);
    build_luts(plan);
    plan->magic = EDB_PLAN_MAGIC;
    return EDB_OK;
}

edb_status edb_plan_tensor_bytes(const edb_plan *plan, size_t *in_bytes, size_t *out_bytes)
{
    if (!plan || !in_bytes || !out_bytes) return EDB_ERR_NULL;
    if (plan->magic != EDB_PLAN_MAGIC) return EDB_ERR_STATE;
    *in_bytes = plan->in_elems * edb_dtype_size(plan->c.input.dtype);
    *out_bytes = plan->in_elems * edb_dtype_size(plan->c.output.dtype);
    return EDB_OK;
}

edb_status edb_plan_tile_shape(const edb_plan *plan, int32_t *tile_h, int32_t *tile_w, int32_t *tiles)
{
    if (!plan) return EDB_ERR_NULL;
    if (plan->magic != EDB_PLAN_MAGIC) return EDB_ERR_STATE;
    if (tile_h) *tile_h = plan->tile_h;
    if (tile_w) *tile_w = plan->tile_w;
    if (tiles) *tiles = plan->tiles_x * plan->tiles_y;
    return EDB_OK;
}

edb_status edb_image_bytes(edb_format format, int32_t width, int32_t height, size_t *plane0,
                           size_t *plane1)
{
    if (!plane0 || !plane1) return EDB_ERR_NULL;
    if (width < 1 || height < 1) return EDB_ERR_ARG;
    if (width > EDB_MAX_DIM || height > EDB_MAX_DIM) return EDB_ERR_TOO_LARGE;
    switch (format) {
    case EDB_FMT_RGB24: *plane0 = (size_t)width * (size_t)height * 3u; *plane1 = 0; return EDB_OK;
    case EDB_FMT_GRAY8: *plane0 = (size_t)width * (size_t)height; *plane1 = 0; return EDB_OK;
    case EDB_FMT_NV12:
        if ((width | height) & 1) return EDB_ERR_ARG;
        *plane0 = (size_t)width * (size_t)height;
        *plane1 = *plane0 / 2u;
        return EDB_OK;
    }
    return EDB_ERR_ARG;
}

edb_status edb_image_wrap(edb_image *img, edb_format format, int32_t width, int32_t height,
                          uint8_t *plane0, size_t plane0_bytes, uint8_t *plane1,
                          size_t plane1_bytes)
{
    size_t need0, need1;
    edb_status s;
    if (!img || !plane0 || (format == EDB_FMT_NV12 && !plane1)) return EDB_ERR_NULL;
    if ((s = edb_image_bytes(format, width, height, &need0, &need1)) != EDB_OK) return s;
    if (plane0_bytes < need0 || (format == EDB_FMT_NV12 && plane1_bytes < need1)) return EDB_ERR_BUFFER_SMALL;
    memset(img, 0, sizeof *img);
    img->format = format;
    img->width = width;
    img->height = height;
    img->planes[0] = plane0;
    img->plane_bytes[0] = plane0_bytes;
    img->strides[0] = need0 / (size_t)height;
    if (format == EDB_FMT_NV12) {
        img->planes[1] = plane1;
        img->plane_bytes[1] = plane1_bytes;
        img->strides[1] = (size_t)width;
    }
    return EDB_OK;
}

const char *edb_strerror(edb_status s)
{
    switch (s) {
    case EDB_OK: return "ok";
    case EDB_ERR_NULL: return "a required pointer is NULL";
    case EDB_ERR_ARG: return "invalid argument (size, enum, alignment or odd NV12 size)";
    case EDB_ERR_TOO_LARGE: return "frame too large (max EDB_MAX_DIM per side) or size overflow";
    case EDB_ERR_BUFFER_SMALL: return "a buffer is smaller than the plan needs (see edb_plan_work_bytes, edb_plan_tensor_bytes, edb_image_bytes)";
    case EDB_ERR_UNSUPPORTED: return "unsupported (float16 tensors or a range other than [0,1])";
    case EDB_ERR_CONTRACT: return "inconsistent model contract (regenerate the header with edgedeblur-c-header)";
    case EDB_ERR_SHA256: return "model bytes differ from the header's sha256 (header and model out of step)";
    case EDB_ERR_INFER: return "the inference callback failed";
    case EDB_ERR_ALIAS: return "destination overlaps the source";
    case EDB_ERR_STATE: return "plan not initialised or ABI version mismatch";
    }
    return "unknown edb_status";
}

size_t edb_sizeof_plan(void) { return sizeof(edb_plan); }
size_t edb_sizeof_contract(void) { return sizeof(edb_contract); }
size_t edb_sizeof_image(void) { return sizeof(edb_image); }

const char *edb_version(void) { return "edgedeblur-firmware 0.1.0"; }
