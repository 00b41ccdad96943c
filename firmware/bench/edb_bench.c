/*
 * edb_bench: the library's own per-frame cost (everything around the inference callback:
 * packing/quantizing tiles, NV12 conversion, fixed-point blending, output) with a callback
 * that does nothing, so the number is what the library adds to any engine's inference time.
 *
 *   edb_bench WIDTH HEIGHT FORMAT(rgb|gray|nv12) DTYPE(f32|i8) LAYOUT(nchw|nhwc) TILE OVERLAP RUNS
 *
 * Prints one JSON line: median/min wall-clock ms and median CPU ms (CLOCK_PROCESS_CPUTIME_ID:
 * the library is single-threaded, so CPU time is its cost even on a shared, loaded machine)
 * over RUNS frames, tiles, work and tensor bytes.
 */
#define _POSIX_C_SOURCE 200809L
#include "edgedeblur/edb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int calls;

static int null_infer(void *user, const void *in, void *out)
{
    (void)user; (void)in; (void)out;
    calls++;
    return 0;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    edb_contract c;
    edb_format fmt;
    edb_plan plan;
    edb_image src, dst;
    size_t wb, p0, p1, ib, ob, k;
    uint8_t *s0, *s1, *d0, *d1, *work;
    float *tin, *tout;
    double *t, *cpu;
    int w, h, tile, overlap, runs, r, f32;
    if (argc != 9) {
        fprintf(stderr, "usage: %s W H rgb|gray|nv12 f32|i8 nchw|nhwc TILE OVERLAP RUNS\n", argv[0]);
        return 2;
    }
    w = atoi(argv[1]); h = atoi(argv[2]); tile = atoi(argv[6]); overlap = atoi(argv[7]); runs = atoi(argv[8]);
    fmt = !strcmp(argv[3], "rgb") ? EDB_FMT_RGB24 : !strcmp(argv[3], "gray") ? EDB_FMT_GRAY8 : EDB_FMT_NV12;
    f32 = !strcmp(argv[4], "f32");
    if (runs < 1 || runs > 10000) return 2;
    memset(&c, 0, sizeof c);
    c.abi_version = EDB_ABI_VERSION;
    c.channels = fmt == EDB_FMT_GRAY8 ? 1 : 3;
    c.model_h = c.model_w = c.tile_size = tile;
    c.tile_overlap = overlap;
    c.pad_multiple = 8;
    c.max_pixels = 2000000;
    c.input.dtype = c.output.dtype = f32 ? EDB_DTYPE_FLOAT32 : EDB_DTYPE_INT8;
    c.input.layout = c.output.layout = !strcmp(argv[5], "nchw") ? EDB_LAYOUT_NCHW : EDB_LAYOUT_NHWC;
    c.input.scale = c.output.scale = 1.0f / 255.0f;
    c.input.zero_point = c.output.zero_point = f32 ? 0 : -128;
    c.input.range_hi = c.output.range_hi = 1.0f;
    if (edb_plan_work_bytes(&c, fmt, w, h, &wb) != EDB_OK || edb_image_bytes(fmt, w, h, &p0, &p1) != EDB_OK) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    work = malloc(wb);
    if (!work || edb_plan_init(&plan, &c, fmt, EDB_YUV_BT601_FULL, w, h, work, wb) != EDB_OK) return 2;
    edb_plan_tensor_bytes(&plan, &ib, &ob);
    tin = malloc(ib); tout = malloc(ob);
    s0 = malloc(p0); d0 = malloc(p0); s1 = malloc(p1 + 1); d1 = malloc(p1 + 1);
    t = malloc(sizeof(double) * (size_t)runs);
    cpu = malloc(sizeof(double) * (size_t)runs);
    if (!tin || !tout || !s0 || !d0 || !s1 || !d1 || !t || !cpu) return 2;
    for (k = 0; k < p0; k++) s0[k] = (uint8_t)(k * 2654435761u >> 24);
    for (k = 0; k < p1; k++) s1[k] = (uint8_t)(128 + (k % 31));
    for (k = 0; k < ob / (f32 ? 4 : 1); k++) {
        if (f32) tout[k] = (float)(k % 255) / 255.0f;
        else ((int8_t *)tout)[k] = (int8_t)((int)(k % 255) - 128);
    }
    edb_image_wrap(&src, fmt, w, h, s0, p0, fmt == EDB_FMT_NV12 ? s1 : NULL, p1);
    edb_image_wrap(&dst, fmt, w, h, d0, p0, fmt == EDB_FMT_NV12 ? d1 : NULL, p1);
    for (r = 0; r < runs; r++) {
        double t0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        if (edb_run(&plan, &src, &dst, tin, ib, tout, ob, null_infer, NULL) != EDB_OK) return 1;
        t[r] = clock_s(CLOCK_MONOTONIC) - t0;
        cpu[r] = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    qsort(t, (size_t)runs, sizeof(double), cmp_double);
    qsort(cpu, (size_t)runs, sizeof(double), cmp_double);
    printf("{\"width\": %d, \"height\": %d, \"format\": \"%s\", \"dtype\": \"%s\", \"layout\": \"%s\", "
           "\"tile\": %d, \"overlap\": %d, \"tiles\": %d, \"runs\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, \"cpu_median_ms\": %.3f, "
           "\"work_bytes\": %zu, \"in_tensor_bytes\": %zu, \"out_tensor_bytes\": %zu, \"plan_bytes\": %zu}\n",
           w, h, argv[3], argv[4], argv[5], tile, overlap, plan.tiles_x * plan.tiles_y, runs,
           t[runs / 2] * 1e3, t[0] * 1e3, cpu[runs / 2] * 1e3, wb, ib, ob, edb_sizeof_plan());
    free(work); free(tin); free(tout); free(s0); free(d0); free(s1); free(d1); free(t); free(cpu);
    return calls > 0 ? 0 : 1;
}
