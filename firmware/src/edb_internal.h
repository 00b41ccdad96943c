/* Internal helpers shared by the library's translation units (not installed). */
#ifndef EDGEDEBLUR_EDB_INTERNAL_H
#define EDGEDEBLUR_EDB_INTERNAL_H

#include "edgedeblur/edb.h"

#define EDB_PLAN_MAGIC 0x45444231u /* "EDB1" */

/* Fixed point: a model output value v (1.0 = pixel 255) is held as QV = v * 255 * 2^6,
 * clamped to [-3, 4] (|QV| <= 65280); blending weights are Q15 and sum to ~1; accumulators
 * are int32 holding sum(w * QV) (a pixel value * 2^21, < 2^31 even with rounding). */
#define EDB_V_BITS 6
#define EDB_V_ONE (255 << EDB_V_BITS)
#define EDB_V_MIN (-3 * EDB_V_ONE)
#define EDB_V_MAX (4 * EDB_V_ONE)
#define EDB_ACC_SHIFT (15 + EDB_V_BITS)
#define EDB_W_ONE 32768

/* Tile start along an axis of n pixels: 0, stride, ..., and n - tile for the last one
 * (edgedeblur.runtime.tiling.axis_starts). */
static inline int32_t edb_axis_start(int32_t idx, int32_t count, int32_t n, int32_t tile,
                                     int32_t overlap)
{
    if (count <= 1) return 0;
    return idx < count - 1 ? idx * (tile - overlap) : n - tile;
}

int32_t edb_axis_count(int32_t n, int32_t tile, int32_t overlap);

/* numpy.pad index mapping for i >= 0 along an axis of n pixels: mode "reflect", or "edge"
 * (the runtime uses edge when the frame is 1 pixel wide or tall). */
static inline int32_t edb_pad_index(int32_t i, int32_t n, int32_t edge)
{
    int32_t period;
    if (i < n) return i;
    if (n == 1 || edge) return n - 1;
    period = 2 * (n - 1);
    i %= period;
    return i < n ? i : period - i;
}

size_t edb_dtype_size(edb_dtype d);

/* accumulator (pixel * 2^21) -> uint8 with io.from_float's rule: clip to [0, 1], then
 * floor(x * 255 + 0.5). */
static inline uint8_t edb_acc_to_u8(int32_t acc)
{
    if (acc <= 0) return 0;
    acc = (int32_t)(((uint32_t)acc + (1u << (EDB_ACC_SHIFT - 1))) >> EDB_ACC_SHIFT);
    return (uint8_t)(acc > 255 ? 255 : acc);
}

/* Row kernels in edb_color.c (one call per row so the conversions inline). */
void edb_nv12_row_to_rgb(edb_yuv_range r, const uint8_t *yrow, const uint8_t *uvrow, int32_t x0,
                         int32_t n, int32_t width, int32_t edge, uint8_t *rgb);
void edb_acc_rows_to_nv12(edb_yuv_range r, const int32_t *b0, const int32_t *b1, int32_t width,
                          uint8_t *y0, uint8_t *y1, uint8_t *uv);

#endif
