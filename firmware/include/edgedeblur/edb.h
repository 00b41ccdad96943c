/*
 * edb.h - edgedeblur firmware library: everything the Python runtime does around a model,
 * in dependency-free C99 for camera firmware.
 *
 * What it does per frame: image (RGB24, GRAY8 or NV12) -> model input tiles (NCHW/NHWC,
 * float32/int8/uint8 with scale and zero point) -> your inference callback -> fixed-point
 * blending of overlapping tiles -> image in the same format. It matches
 * edgedeblur.runtime (tile grid, raised-cosine blending window, reflection padding,
 * quantization, round-half-up output) within 1 LSB on every pixel.
 *
 * Memory: the library never allocates. edb_plan_init() says how many bytes of working
 * memory a frame size needs (edb_plan_work_bytes) and binds a caller buffer; the input and
 * output tensors of one tile are caller buffers too (edb_plan_tensor_bytes). Nothing in the
 * per-frame path (edb_run) allocates, so it is safe in an ISR-free real-time task.
 *
 * Errors: every entry point returns an edb_status (0 = EDB_OK, negative = error); bad input
 * (null pointers, zero or huge sizes, short buffers, an unsupported contract, a model whose
 * sha256 differs from the header) is reported, never crashed on. edb_strerror() explains.
 */
#ifndef EDGEDEBLUR_EDB_H
#define EDGEDEBLUR_EDB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EDB_ABI_VERSION 1u

/* Largest accepted frame side; keeps every size computation far from size_t overflow. */
#define EDB_MAX_DIM 16384

typedef enum {
    EDB_OK = 0,
    EDB_ERR_NULL = -1,          /* a required pointer is NULL */
    EDB_ERR_ARG = -2,           /* a size or enum is zero, negative or out of range */
    EDB_ERR_TOO_LARGE = -3,     /* frame larger than EDB_MAX_DIM or sizes overflow */
    EDB_ERR_BUFFER_SMALL = -4,  /* a caller buffer is smaller than the plan needs */
    EDB_ERR_UNSUPPORTED = -5,   /* valid but not supported (e.g. float16, range != [0,1]) */
    EDB_ERR_CONTRACT = -6,      /* the model contract is inconsistent */
    EDB_ERR_SHA256 = -7,        /* model bytes differ from the contract's sha256 */
    EDB_ERR_INFER = -8,         /* the inference callback returned non-zero */
    EDB_ERR_ALIAS = -9,         /* destination overlaps the source */
    EDB_ERR_STATE = -10         /* plan not initialised (or initialised for another ABI) */
} edb_status;

typedef enum { EDB_DTYPE_FLOAT32 = 0, EDB_DTYPE_INT8 = 1, EDB_DTYPE_UINT8 = 2, EDB_DTYPE_FLOAT16 = 3 } edb_dtype;
typedef enum { EDB_LAYOUT_NCHW = 0, EDB_LAYOUT_NHWC = 1 } edb_layout;

/* Pixel formats. RGB24 runs an RGB model, or a grey model on each channel in turn; GRAY8 runs
 * a grey model, or an RGB model with the grey value in all three channels and the mean of the
 * three outputs (both as the runtime does).
 * NV12 with an RGB model converts per pixel (edb_yuv_range); with a grey model only luma is
 * restored and chroma is copied. NV12: a W x H luma plane, then an interleaved U,V plane of W/2 x H/2 pairs;
 * W and H must be even. */
typedef enum { EDB_FMT_RGB24 = 0, EDB_FMT_GRAY8 = 1, EDB_FMT_NV12 = 2 } edb_format;

/* YUV <-> RGB for NV12 with an RGB model: ITU-R BT.601, full range (JPEG/JFIF, Y and UV in
 * 0..255) or video range (Y 16..235, UV 16..240). Integer Q16 arithmetic, bit-exact with
 * the numpy reference in docs/firmware.md. */
typedef enum { EDB_YUV_BT601_FULL = 0, EDB_YUV_BT601_VIDEO = 1 } edb_yuv_range;

/* One model tensor: real = scale * (q - zero_point) for integer dtypes. */
typedef struct {
    edb_dtype dtype;
    edb_layout layout;
    float scale;        /* ignored for float32 */
    int32_t zero_point; /* ignored for float32 */
    float range_lo;     /* real range of the model's pixels; only [0, 1] is supported */
    float range_hi;
} edb_tensor_spec;

/* The model's I/O contract: what `edgedeblur-c-header` writes as EDB_MODEL_CONTRACT_INIT. */
typedef struct {
    uint32_t abi_version;      /* EDB_ABI_VERSION */
    int32_t channels;          /* 1 (grey) or 3 (RGB) */
    int32_t model_h, model_w;  /* fixed input H/W, or 0 for a dynamic-H/W model */
    int32_t tile_size;         /* tile side; 0 = whole (padded) frame as one tile (dynamic only) */
    int32_t max_pixels;        /* dynamic models: frames of <= this many pixels run whole, not
                                  tiled (the runtime's max_pixels, default 2000000; 0 = always tile) */
    int32_t tile_overlap;      /* overlap between neighbouring tiles, < tile_size / 2 */
    int32_t pad_multiple;      /* dynamic models: fed H/W must be multiples of it */
    edb_tensor_spec input, output;
    const char *model_sha256;  /* 64 lower-case hex chars, or NULL (no check possible) */
} edb_contract;

/* A frame. planes[0]: RGB24 / GRAY8 / NV12 luma; planes[1]: NV12 interleaved UV (else NULL).
 * strides: bytes per row (>= the packed row size). plane_bytes: the size of each buffer,
 * so the library can refuse a buffer that is too small. */
typedef struct {
    edb_format format;
    int32_t width, height;
    uint8_t *planes[2];
    size_t strides[2];
    size_t plane_bytes[2];
} edb_image;

/* Runs the model on one tile: `in` holds the input tensor (1 x tile_h x tile_w x C in the
 * contract's layout and dtype), the callback fills `out` (same shape, output spec).
 * Return 0 on success; anything else aborts the frame with EDB_ERR_INFER. */
typedef int (*edb_infer_fn)(void *user, const void *in, void *out);

/* A plan: everything that depends on the contract and the frame size, computed once.
 * Treat as opaque; the fields are public only so it can live on the stack. */
typedef struct {
    uint32_t magic;
    edb_contract c;
    edb_format format;
    edb_yuv_range yuv;
    int32_t width, height;      /* frame size */
    int32_t pad_h, pad_w;       /* padded size the tile grid covers */
    int32_t tile_h, tile_w, overlap;
    int32_t tiles_y, tiles_x;
    int32_t edge_pad;           /* 1-pixel-wide/tall frames pad by edge replication, else reflect */
    int32_t replicate;          /* GRAY8 frame, RGB model: grey fed to all three channels */
    int32_t passes, pass;       /* RGB24 frame, grey model: one pass per colour channel */
    size_t in_elems;            /* elements of one tile tensor (tile_h * tile_w * C) */
    size_t work_bytes;
    size_t band_rows;
    uint8_t *work;
    int32_t *band;              /* (tile_h + 1) x width x C accumulators, in work */
    uint16_t *wy, *wx;          /* normalised Q15 weights per tile start and offset, in work */
    uint8_t *rowbuf;            /* one tile row of source pixels (tile_w x 3), in work */
    float in_f32[256];          /* uint8 pixel -> model input */
    int16_t in_q[256];
    int32_t out_q[256];         /* output byte -> fixed-point pixel value (2^-6 LSB) */
} edb_plan;

/* --- sizes (call before allocating anything) --- */

/* Working memory edb_plan_init needs for this contract, frame size and format. Returns
 * EDB_OK and writes *bytes, or an error code (same checks as edb_plan_init). */
edb_status edb_plan_work_bytes(const edb_contract *c, edb_format format, int32_t width,
                               int32_t height, size_t *bytes);

/* Bytes of one tile's input and output tensor for an initialised plan. */
edb_status edb_plan_tensor_bytes(const edb_plan *plan, size_t *in_bytes, size_t *out_bytes);

/* The tile the callback gets (tile_h x tile_w; the whole padded frame for a dynamic model
 * below max_pixels) and how many tiles a frame takes. Any out pointer may be NULL. */
edb_status edb_plan_tile_shape(const edb_plan *plan, int32_t *tile_h, int32_t *tile_w, int32_t *tiles);

/* Bytes a frame of this format and size needs per plane with packed rows. */
edb_status edb_image_bytes(edb_format format, int32_t width, int32_t height, size_t *plane0,
                           size_t *plane1);

/* --- setup (may be called at boot; computes weights and lookup tables) --- */

edb_status edb_contract_check(const edb_contract *c);

edb_status edb_plan_init(edb_plan *plan, const edb_contract *c, edb_format format,
                         edb_yuv_range yuv, int32_t width, int32_t height, void *work,
                         size_t work_bytes);

/* Fill an edb_image describing packed buffers (plane 1 only for NV12). */
edb_status edb_image_wrap(edb_image *img, edb_format format, int32_t width, int32_t height,
                          uint8_t *plane0, size_t plane0_bytes, uint8_t *plane1,
                          size_t plane1_bytes);

/* --- per frame --- */

/* Restore `src` into `dst` (same format and size as the plan; must not overlap).
 * in_tensor/out_tensor: caller buffers of edb_plan_tensor_bytes; `infer` is called once per
 * tile with them. No allocation; the band in the plan's work memory is reset per frame. */
edb_status edb_run(edb_plan *plan, const edb_image *src, edb_image *dst, void *in_tensor,
                   size_t in_bytes, void *out_tensor, size_t out_bytes, edb_infer_fn infer,
                   void *user);

/* --- integrity --- */

typedef struct {
    uint32_t h[8];
    uint64_t bits;
    uint8_t block[64];
    size_t used;
} edb_sha256_ctx;

void edb_sha256_init(edb_sha256_ctx *ctx);
void edb_sha256_update(edb_sha256_ctx *ctx, const void *data, size_t len);
void edb_sha256_final(edb_sha256_ctx *ctx, uint8_t digest[32]);
edb_status edb_sha256(const void *data, size_t len, uint8_t digest[32]);

/* Compare a 32-byte digest with a 64-char hex string: EDB_OK or EDB_ERR_SHA256. */
edb_status edb_sha256_matches(const uint8_t digest[32], const char *hex);

/* Hash `model` and compare with c->model_sha256 (the header's constant). */
edb_status edb_verify_model(const edb_contract *c, const void *model, size_t model_bytes);

/* --- single-pixel conversions (exposed for tests and for ISP code) --- */

void edb_yuv_to_rgb(edb_yuv_range r, uint8_t y, uint8_t u, uint8_t v, uint8_t rgb[3]);
uint8_t edb_rgb_to_y(edb_yuv_range r, const uint8_t rgb[3]);
/* U and V of a 2x2 block from the sums of its four R, G and B values. */
void edb_rgb4_to_uv(edb_yuv_range r, int32_t rsum, int32_t gsum, int32_t bsum, uint8_t uv[2]);

const char *edb_strerror(edb_status s);
/* sizeof(edb_plan) etc. for foreign-function callers (Python ctypes, Rust, Kotlin/JNI). */
size_t edb_sizeof_plan(void);
size_t edb_sizeof_contract(void);
size_t edb_sizeof_image(void);
const char *edb_version(void);

#ifdef __cplusplus
}
#endif
#endif /* EDGEDEBLUR_EDB_H */
