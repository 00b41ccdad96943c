/*
 * Self-test of the firmware library without any inference engine: an identity "model"
 * must give back the input exactly (RGB, grey; float32 and int8 I/O; sizes that are not
 * multiples of the tile), NV12 must round-trip within the colour conversion's error, and
 * every bad argument must come back as an error code. Built with ASan/UBSan by
 * firmware/scripts/run_sanitizers.sh.
 */
#include "edgedeblur/edb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                      \
        }                                                                    \
    } while (0)

typedef struct { size_t bytes; int calls; int fail_at; } ident;

static int identity(void *user, const void *in, void *out)
{
    ident *id = (ident *)user;
    id->calls++;
    if (id->fail_at && id->calls == id->fail_at) return 1;
    memcpy(out, in, id->bytes);
    return 0;
}

static edb_contract contract(int channels, edb_dtype dt, edb_layout lay, int tile, int overlap)
{
    edb_contract c;
    memset(&c, 0, sizeof c);
    c.abi_version = EDB_ABI_VERSION;
    c.channels = channels;
    c.model_h = c.model_w = tile;
    c.tile_size = tile;
    c.tile_overlap = overlap;
    c.pad_multiple = 8;
    c.max_pixels = 2000000;
    c.input.dtype = c.output.dtype = dt;
    c.input.layout = c.output.layout = lay;
    c.input.scale = c.output.scale = 1.0f / 255.0f;
    c.input.zero_point = c.output.zero_point = dt == EDB_DTYPE_INT8 ? -128 : 0;
    c.input.range_hi = c.output.range_hi = 1.0f;
    return c;
}

/* Run one frame through the identity model; returns the max abs difference to the input. */
static int roundtrip(const edb_contract *c, edb_format fmt, int w, int h, int *max_diff)
{
    size_t wb, p0, p1, ib, ob, k;
    edb_plan plan;
    edb_image src, dst;
    uint8_t *s0, *s1, *d0, *d1;
    void *work, *in, *out;
    ident id = {0, 0, 0};
    edb_status st;
    if (edb_plan_work_bytes(c, fmt, w, h, &wb) != EDB_OK) return -1;
    if (edb_image_bytes(fmt, w, h, &p0, &p1) != EDB_OK) return -2;
    work = malloc(wb);
    if (edb_plan_init(&plan, c, fmt, EDB_YUV_BT601_FULL, w, h, work, wb) != EDB_OK) return -3;
    edb_plan_tensor_bytes(&plan, &ib, &ob);
    in = malloc(ib); out = malloc(ob);
    id.bytes = ib;
    s0 = malloc(p0); d0 = malloc(p0);
    s1 = p1 ? malloc(p1) : NULL; d1 = p1 ? malloc(p1) : NULL;
    for (k = 0; k < p0; k++) s0[k] = (uint8_t)((k * 7u + k / 13u) & 0xff);
    for (k = 0; k < p1; k++) s1[k] = 128; /* neutral chroma: YUV -> RGB -> YUV is lossless */
    edb_image_wrap(&src, fmt, w, h, s0, p0, s1, p1);
    edb_image_wrap(&dst, fmt, w, h, d0, p0, d1, p1);
    st = edb_run(&plan, &src, &dst, in, ib, out, ob, identity, &id);
    *max_diff = 0;
    for (k = 0; k < p0; k++) {
        int d = abs((int)s0[k] - (int)d0[k]);
        if (d > *max_diff) *max_diff = d;
    }
    CHECK(id.calls == plan.tiles_x * plan.tiles_y * plan.passes);
    free(s0); free(d0); free(s1); free(d1); free(in); free(out); free(work);
    return st;
}

static void test_identity(void)
{
    static const int sizes[][2] = {{64, 64}, {100, 70}, {33, 17}, {241, 130}, {1, 1}, {65, 9}, {1, 40}, {40, 1}};
    size_t i;
    int diff;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        edb_contract c3 = contract(3, EDB_DTYPE_FLOAT32, EDB_LAYOUT_NCHW, 32, 8);
        edb_contract c1 = contract(1, EDB_DTYPE_INT8, EDB_LAYOUT_NHWC, 32, 6);
        edb_contract cu = contract(3, EDB_DTYPE_UINT8, EDB_LAYOUT_NHWC, 16, 7);
        CHECK(roundtrip(&c3, EDB_FMT_RGB24, sizes[i][0], sizes[i][1], &diff) == EDB_OK && diff == 0);
        CHECK(roundtrip(&c1, EDB_FMT_GRAY8, sizes[i][0], sizes[i][1], &diff) == EDB_OK && diff == 0);
        CHECK(roundtrip(&cu, EDB_FMT_RGB24, sizes[i][0], sizes[i][1], &diff) == EDB_OK && diff == 0);
        CHECK(roundtrip(&c3, EDB_FMT_GRAY8, sizes[i][0], sizes[i][1], &diff) == EDB_OK && diff == 0);
        CHECK(roundtrip(&c1, EDB_FMT_RGB24, sizes[i][0], sizes[i][1], &diff) == EDB_OK && diff == 0);
    }
    {
        edb_contract c3 = contract(3, EDB_DTYPE_FLOAT32, EDB_LAYOUT_NHWC, 32, 8);
        edb_contract c1 = contract(1, EDB_DTYPE_UINT8, EDB_LAYOUT_NCHW, 32, 8);
        edb_contract dyn = contract(3, EDB_DTYPE_FLOAT32, EDB_LAYOUT_NCHW, 0, 0);
        dyn.model_h = dyn.model_w = 0;
        CHECK(roundtrip(&c3, EDB_FMT_NV12, 98, 50, &diff) == EDB_OK && diff <= 1);
        CHECK(roundtrip(&c1, EDB_FMT_NV12, 98, 50, &diff) == EDB_OK && diff == 0);
        CHECK(roundtrip(&dyn, EDB_FMT_RGB24, 50, 27, &diff) == EDB_OK && diff == 0);
        dyn.tile_size = 16; dyn.tile_overlap = 4; dyn.max_pixels = 100; /* dynamic, tiled above 100 px */
        CHECK(roundtrip(&dyn, EDB_FMT_RGB24, 50, 27, &diff) == EDB_OK && diff == 0);
    }
}

static void test_bad_input(void)
{
    edb_contract c = contract(3, EDB_DTYPE_FLOAT32, EDB_LAYOUT_NCHW, 32, 8), bad;
    size_t wb = 0, ib, ob;
    edb_plan plan;
    edb_image src, dst;
    static uint8_t img[40 * 40 * 3], img2[40 * 40 * 3];
    static double work[40000], tin[4000], tout[4000];
    ident id = {0, 0, 2};
    CHECK(edb_plan_work_bytes(NULL, EDB_FMT_RGB24, 10, 10, &wb) == EDB_ERR_NULL);
    CHECK(edb_plan_work_bytes(&c, EDB_FMT_RGB24, 0, 10, &wb) == EDB_ERR_ARG);
    CHECK(edb_plan_work_bytes(&c, EDB_FMT_RGB24, 10, -5, &wb) == EDB_ERR_ARG);
    CHECK(edb_plan_work_bytes(&c, EDB_FMT_RGB24, 1 << 30, 10, &wb) == EDB_ERR_TOO_LARGE);
    { edb_contract g = c; g.input.range_lo = 0.5f; CHECK(edb_plan_work_bytes(&g, EDB_FMT_RGB24, 10, 10, &wb) == EDB_ERR_UNSUPPORTED); }
    CHECK(edb_plan_work_bytes(&c, (edb_format)7, 10, 10, &wb) == EDB_ERR_ARG);
    CHECK(edb_plan_work_bytes(&c, EDB_FMT_NV12, 11, 10, &wb) == EDB_ERR_ARG);
    bad = c; bad.tile_overlap = 16; CHECK(edb_contract_check(&bad) == EDB_ERR_CONTRACT);
    bad = c; bad.channels = 4; CHECK(edb_contract_check(&bad) == EDB_ERR_CONTRACT);
    bad = c; bad.abi_version = 99; CHECK(edb_contract_check(&bad) == EDB_ERR_STATE);
    bad = c; bad.input.dtype = EDB_DTYPE_FLOAT16; CHECK(edb_contract_check(&bad) == EDB_ERR_UNSUPPORTED);
    bad = c; bad.input.dtype = EDB_DTYPE_INT8; bad.input.scale = 0.0f; CHECK(edb_contract_check(&bad) == EDB_ERR_CONTRACT);
    bad = c; bad.model_h = 64; CHECK(edb_contract_check(&bad) == EDB_ERR_CONTRACT);
    CHECK(edb_plan_work_bytes(&c, EDB_FMT_RGB24, 40, 40, &wb) == EDB_OK && wb <= sizeof work);
    CHECK(edb_plan_init(&plan, &c, EDB_FMT_RGB24, EDB_YUV_BT601_FULL, 40, 40, work, wb - 1) == EDB_ERR_BUFFER_SMALL);
    CHECK(edb_plan_init(&plan, &c, EDB_FMT_RGB24, EDB_YUV_BT601_FULL, 40, 40, (char *)work + 1, wb) == EDB_ERR_ARG);
    CHECK(edb_plan_init(&plan, &c, EDB_FMT_RGB24, (edb_yuv_range)5, 40, 40, work, wb) == EDB_ERR_ARG);
    CHECK(edb_plan_tensor_bytes(&plan, &ib, &ob) == EDB_ERR_STATE);
    CHECK(edb_plan_init(&plan, &c, EDB_FMT_RGB24, EDB_YUV_BT601_FULL, 40, 40, work, wb) == EDB_OK);
    CHECK(edb_plan_tensor_bytes(&plan, &ib, &ob) == EDB_OK && ib == 32 * 32 * 3 * 4 && ib <= sizeof tin);
    id.bytes = ib;
    CHECK(edb_image_wrap(&src, EDB_FMT_RGB24, 40, 40, img, sizeof img - 1, NULL, 0) == EDB_ERR_BUFFER_SMALL);
    CHECK(edb_image_wrap(&src, EDB_FMT_RGB24, 40, 40, img, sizeof img, NULL, 0) == EDB_OK);
    CHECK(edb_image_wrap(&dst, EDB_FMT_RGB24, 40, 40, img2, sizeof img2, NULL, 0) == EDB_OK);
    CHECK(edb_run(&plan, &src, &src, tin, ib, tout, ob, identity, &id) == EDB_ERR_ALIAS);
    CHECK(edb_run(&plan, &src, &dst, tin, ib, tin, ob, identity, &id) == EDB_ERR_ALIAS);
    CHECK(edb_run(&plan, &src, &dst, tin, ib - 1, tout, ob, identity, &id) == EDB_ERR_BUFFER_SMALL);
    CHECK(edb_run(&plan, &src, &dst, tin, ib, tout, ob, NULL, &id) == EDB_ERR_NULL);
    CHECK(edb_run(&plan, NULL, &dst, tin, ib, tout, ob, identity, &id) == EDB_ERR_NULL);
    CHECK(edb_run(&plan, &src, &dst, (char *)tin + 2, ib, tout, ob, identity, &id) == EDB_ERR_ARG);
    CHECK(edb_run(&plan, &src, &dst, tin, ib, tout, ob, identity, &id) == EDB_ERR_INFER);
    src.strides[0] = 10; CHECK(edb_run(&plan, &src, &dst, tin, ib, tout, ob, identity, &id) == EDB_ERR_BUFFER_SMALL);
    src.strides[0] = 120; src.width = 39; CHECK(edb_run(&plan, &src, &dst, tin, ib, tout, ob, identity, &id) == EDB_ERR_ARG);
    src.width = 40; id.fail_at = 0;
    CHECK(edb_run(&plan, &src, &dst, tin, ib, tout, ob, identity, &id) == EDB_OK);
    CHECK(memcmp(img, img2, sizeof img) == 0);
    CHECK(edb_strerror((edb_status)-99) != NULL && edb_strerror(EDB_ERR_SHA256)[0] != '\0');
}

static void test_sha256(void)
{
    uint8_t d[32];
    edb_contract c = contract(1, EDB_DTYPE_FLOAT32, EDB_LAYOUT_NCHW, 32, 8);
    c.model_sha256 = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; /* "abc" */
    CHECK(edb_sha256("abc", 3, d) == EDB_OK);
    CHECK(edb_sha256_matches(d, c.model_sha256) == EDB_OK);
    CHECK(edb_verify_model(&c, "abc", 3) == EDB_OK);
    CHECK(edb_verify_model(&c, "abd", 3) == EDB_ERR_SHA256);
    CHECK(edb_verify_model(&c, "abc", 0) == EDB_ERR_ARG);
    CHECK(edb_sha256_matches(d, "ba78") == EDB_ERR_ARG);
    CHECK(edb_sha256_matches(d, NULL) == EDB_ERR_NULL);
    c.model_sha256 = NULL;
    CHECK(edb_verify_model(&c, "abc", 3) == EDB_ERR_CONTRACT);
}

int main(void)
{
    test_identity();
    test_bad_input();
    test_sha256();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("edb_selftest: all checks passed (%s)\n", edb_version());
    return 0;
}
