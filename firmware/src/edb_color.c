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

/* round(v / 65536) clamped to 0..255, for v in Q16. */
static uint8_t q16_to_u8(int32_t v)
{
    if (v < 0) return 0;
    v = (v + 32768) >> 16;
    return (uint8_t)(v > 255 ? 255 : v);
}

void edb_yuv_to_rgb(edb_yuv_range r, uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3])
{
    const coeffs *k = pick(r);
    int32_t yy = k->ky * ((int32_t)y - k->y_off);
    int32_t uu = (int32_t)u - 128, vv = (int32_t)v - 128;
    rgb[0] = q16_to_u8(yy + k->rv * vv);
    rgb[1] = q16_to_u8(yy - k->gu * uu - k->gv * vv);
    rgb[2] = q16_to_u8(yy + k->bu * uu);
}

uint8_t edb_rgb_to_y(edb_yuv_range r, const uint8_t rgb[3])
{
    const coeffs *k = pick(r);
    return q16_to_u8(k->yr * rgb[0] + k->yg * rgb[1] + k->yb * rgb[2] + k->y_add);
}

void edb_rgb4_to_uv(edb_yuv_range r, int32_t rs, int32_t gs, int32_t bs, uint8_t uv[2])
{
    /* sums of four pixels: Q18 after the multiply; +128 offset, round, clamp. */
    const coeffs *k = pick(r);
    int32_t u = k->ur * rs + k->ug * gs + k->ub * bs + (128 << 18);
    int32_t v = k->vr * rs + k->vg * gs + k->vb * bs + (128 << 18);
    u = u < 0 ? 0 : (u + (1 << 17)) >> 18;
    v = v < 0 ? 0 : (v + (1 << 17)) >> 18;
    uv[0] = (uint8_t)(u > 255 ? 255 : u);
    uv[1] = (uint8_t)(v > 255 ? 255 : v);
}
