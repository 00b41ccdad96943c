/*
 * BT.601 YUV <-> RGB in integer Q16 arithmetic. Integer (not float) so that the numpy
 * reference (tests/test_firmware.py, docs/firmware.md) is bit-exact on any CPU, FPU or not.
 * Rounding: add half, floor (arithmetic on non-negative values only), clamp to 0..255.
 */
#include "edb_internal.h"

/* Q16 coefficients. Full range (JFIF): Y, U, V all 0..255. Video range: Y 16..235, UV 16..240. */
typedef struct {
    int32_t ky, y_off;           /* luma scale and offset for YUV -> RGB */
    int32_t rv, gu, gv, bu;      /* YUV -> RGB chroma terms */
    int32_t yr, yg, yb, y_add;   /* RGB -> Y, y_add = Y offset in Q16 */
    int32_t ur, ug, ub, vr, vg, vb;
} coeffs;

static const coeffs FULL = {65536, 0, 91881, 22554, 46802, 116130,
                            19595, 38470, 7471, 0,
                            -11058, -21710, 32768, 32768, -27439, -5329};
static const coeffs VIDEO = {76309, 16, 104597, 25675, 53279, 132201,
                             16829, 33039, 6416, 16 << 16,
                             -9714, -19070, 28784, 28784, -24103, -4681};

static const coeffs *pick(edb_yuv_range r) { return r == EDB_YUV_BT601_VIDEO ? &VIDEO : &FULL; }

/* round(v / 65536) clamped to 0..255, for v in Q16 (selects, no branches). */
static inline uint8_t q16_to_u8(int32_t v)
{
    v = v < 0 ? 0 : v;
    v = (v + 32768) >> 16;
    return (uint8_t)(v > 255 ? 255 : v);
}

static inline void yuv_to_rgb(const coeffs *k, uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3])
{
    int32_t yy = k->ky * ((int32_t)y - k->y_off);
    int32_t uu = (int32_t)u - 128, vv = (int32_t)v - 128;
    rgb[0] = q16_to_u8(yy + k->rv * vv);
    rgb[1] = q16_to_u8(yy - k->gu * uu - k->gv * vv);
    rgb[2] = q16_to_u8(yy + k->bu * uu);
}

static inline uint8_t rgb_to_y(const coeffs *k, const uint8_t rgb[3])
{
    return q16_to_u8(k->yr * rgb[0] + k->yg * rgb[1] + k->yb * rgb[2] + k->y_add);
}

static inline void rgb4_to_uv(const coeffs *k, int32_t rs, int32_t gs, int32_t bs, uint8_t uv[2])
{
    /* sums of four pixels: Q18 after the multiply; +128 offset, round, clamp. */
    int32_t u = k->ur * rs + k->ug * gs + k->ub * bs + (128 << 18);
    int32_t v = k->vr * rs + k->vg * gs + k->vb * bs + (128 << 18);
    u = u < 0 ? 0 : (u + (1 << 17)) >> 18;
    v = v < 0 ? 0 : (v + (1 << 17)) >> 18;
    uv[0] = (uint8_t)(u > 255 ? 255 : u);
    uv[1] = (uint8_t)(v > 255 ? 255 : v);
}

void edb_yuv_to_rgb(edb_yuv_range r, uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3])
{
    yuv_to_rgb(pick(r), y, u, v, rgb);
}

uint8_t edb_rgb_to_y(edb_yuv_range r, const uint8_t rgb[3]) { return rgb_to_y(pick(r), rgb); }

void edb_rgb4_to_uv(edb_yuv_range r, int32_t rs, int32_t gs, int32_t bs, uint8_t uv[2])
{
    rgb4_to_uv(pick(r), rs, gs, bs, uv);
}

/* n pixels of an NV12 row from column x0 (padded past the frame) -> packed RGB. */
void edb_nv12_row_to_rgb(edb_yuv_range r, const uint8_t *yrow, const uint8_t *uvrow, int32_t x0,
                         int32_t n, int32_t width, int32_t edge, uint8_t *rgb)
{
    const coeffs *k = pick(r);
    int32_t i = 0;
    if ((x0 & 1) == 0) { /* pixel pairs inside the frame share one chroma sample */
        for (; i + 1 < n && x0 + i + 1 < width; i += 2) {
            const uint8_t *uv = uvrow + (size_t)(x0 + i);
            int32_t uu = (int32_t)uv[0] - 128, vv = (int32_t)uv[1] - 128;
            int32_t cr = k->rv * vv, cg = -k->gu * uu - k->gv * vv, cb = k->bu * uu;
            int32_t ya = k->ky * ((int32_t)yrow[x0 + i] - k->y_off);
            int32_t yb = k->ky * ((int32_t)yrow[x0 + i + 1] - k->y_off);
            uint8_t *o = rgb + 3 * (size_t)i;
            o[0] = q16_to_u8(ya + cr); o[1] = q16_to_u8(ya + cg); o[2] = q16_to_u8(ya + cb);
            o[3] = q16_to_u8(yb + cr); o[4] = q16_to_u8(yb + cg); o[5] = q16_to_u8(yb + cb);
        }
    }
    for (; i < n; i++) {
        int32_t x = x0 + i < width ? x0 + i : edb_pad_index(x0 + i, width, edge);
        const uint8_t *uv = uvrow + (size_t)(x / 2) * 2u;
        yuv_to_rgb(k, yrow[x], uv[0], uv[1], rgb + 3 * (size_t)i);
    }
}

/* Two finished accumulator rows (R, G, B planes of `width` each) -> two luma rows and one
 * interleaved chroma row. */
void edb_acc_rows_to_nv12(edb_yuv_range r, const int32_t *b0, const int32_t *b1, int32_t width,
                          uint8_t *y0, uint8_t *y1, uint8_t *uv)
{
    const coeffs *k = pick(r);
    int32_t x, c;
    for (x = 0; x < width; x += 2) {
        uint8_t px[4][3];
        int32_t sum[3];
        for (c = 0; c < 3; c++) {
            const size_t at = (size_t)c * (size_t)width + (size_t)x;
            px[0][c] = edb_acc_to_u8(b0[at]);
            px[1][c] = edb_acc_to_u8(b0[at + 1]);
            px[2][c] = edb_acc_to_u8(b1[at]);
            px[3][c] = edb_acc_to_u8(b1[at + 1]);
            sum[c] = px[0][c] + px[1][c] + px[2][c] + px[3][c];
        }
        y0[x] = rgb_to_y(k, px[0]);
        y0[x + 1] = rgb_to_y(k, px[1]);
        y1[x] = rgb_to_y(k, px[2]);
        y1[x + 1] = rgb_to_y(k, px[3]);
        rgb4_to_uv(k, sum[0], sum[1], sum[2], uv + x);
    }
}
