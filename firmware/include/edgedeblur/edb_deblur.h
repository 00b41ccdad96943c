/*
 * edb_deblur.h - the PSF-aware deblur pipeline of edgedeblur.runtime.pipeline in C99:
 * a real FFT of any size, the runtime's border extension and taper, the Wiener and HQS data
 * steps, the prior rounds around a caller's prior callback, and gyro PSFs (rotation-only
 * homography per row, rolling shutter) from IMU samples. No allocation: every function that
 * needs memory takes a caller buffer and a function reports its size first.
 *
 * Images are float planes in [0, 1]: channel c of an H x W image starts at c * H * W
 * (RGB: 3 planes). Kernels are kh x kw float32, row-major, summing to 1 (a convolution PSF,
 * centre element (kh / 2, kw / 2), as runtime._fft.psf2otf).
 */
#ifndef EDGEDEBLUR_EDB_DEBLUR_H
#define EDGEDEBLUR_EDB_DEBLUR_H

#include "edgedeblur/edb.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { float re, im; } edb_cpx;

/* --- FFT (edb_fft.c) ---------------------------------------------------------------------
 * Complex FFT of any length n >= 1: mixed radix 4/2/3/5 (Stockham, self-sorting) when n is
 * 5-smooth, Bluestein (chirp-z through a power-of-two FFT) otherwise. Forward is
 * X[k] = sum x[j] exp(-2 pi i jk / n); the inverse is unnormalised (times n), as numpy's
 * ifft * n. A plan holds its twiddles and scratch, so one plan serves one thread. */
typedef struct edb_fft edb_fft;

/* Bytes edb_fft_init needs for length n (plan, twiddles, scratch for one sequence). */
edb_status edb_fft_bytes(int32_t n, size_t *bytes);
/* Builds the plan in `mem` (8-byte aligned); *plan points into mem. */
edb_status edb_fft_init(edb_fft **plan, int32_t n, void *mem, size_t bytes);
/* In place on x[0..n-1]; inverse != 0: exp(+2 pi i jk / n), not scaled. */
void edb_fft_exec(const edb_fft *plan, edb_cpx *x, int inverse);

/* 2-D real FFT of an h x w float image (row-major): spectrum h x (w / 2 + 1), the layout of
 * numpy.fft.rfft2; the inverse is normalised (numpy.fft.irfft2). */
typedef struct edb_rfft2 edb_rfft2;
edb_status edb_rfft2_bytes(int32_t h, int32_t w, size_t *bytes);
edb_status edb_rfft2_init(edb_rfft2 **plan, int32_t h, int32_t w, void *mem, size_t bytes);
void edb_rfft2_forward(const edb_rfft2 *plan, const float *in, edb_cpx *out);
/* `spec` is destroyed (used as work). */
void edb_rfft2_inverse(const edb_rfft2 *plan, edb_cpx *spec, float *out);
/* scipy.fft.next_fast_len(n, real=True): the next 2^a 3^b 5^c >= n (0 above EDB_MAX_DIM * 4). */
int32_t edb_fast_len(int32_t n);

/* --- the data step (edb_deconv.c) -------------------------------------------------------- */
#define EDB_TAPER_MEAN 0 /* runtime._fft taper "mean" (default) */
#define EDB_TAPER_NONE 1 /* "none": reflection only */
#define EDB_TAPER_BLUR 2 /* "blur": towards the circularly blurred extension */

/* Extended frame of pad_and_taper for an h x w image and a kh x kw kernel. */
typedef struct {
    int32_t h, w, hp, wp, top, left;
} edb_pad_geom;
edb_status edb_pad_geometry(int32_t h, int32_t w, int32_t kh, int32_t kw, edb_pad_geom *g);

/* deconv.estimate_noise_sigma of a c-plane image (0-255 scale, mean over channels). */
double edb_noise_sigma(const float *img, int32_t h, int32_t w, int32_t c);
/* deconv.wiener_nsr: sigma^2 / (prior_scale * G) with the noise-corrected gradient power. */
double edb_wiener_nsr(const float *img, int32_t h, int32_t w, int32_t c, double sigma, double prior_scale);
void edb_srgb_to_linear(const float *in, float *out, size_t n); /* in == out allowed */
void edb_linear_to_srgb(const float *in, float *out, size_t n); /* clips to [0, 1] first */

/* A data-step context: the FFT plan, the kernel's OTF and (for HQS) conj(K) F(y) per channel
 * of one image, in caller memory. */
typedef struct edb_deconv edb_deconv;
edb_status edb_deconv_bytes(int32_t h, int32_t w, int32_t c, int32_t kh, int32_t kw, int taper, int hqs,
                            size_t *bytes);
/* Binds the image `y` (kept by pointer, must stay valid) and the kernel (copied into the OTF). */
edb_status edb_deconv_init(edb_deconv **ctx, const float *y, int32_t h, int32_t w, int32_t c,
                           const float *kernel, int32_t kh, int32_t kw, int taper, int hqs,
                           void *mem, size_t bytes);
/* deconv.wiener_deconvolve(y, kernel, nsr=nsr): out (c planes of h x w, not clipped). */
edb_status edb_deconv_wiener(edb_deconv *ctx, double nsr, float *out);
/* deconv.DataStep.solve(z, rho): argmin ||k * x - y||^2 + rho ||x - z||^2 (needs hqs = 1). */
edb_status edb_deconv_solve(edb_deconv *ctx, const float *z, double rho, float *out);

/* --- the pipeline (edb_pipeline.c) -------------------------------------------------------- */
#define EDB_MODE_WIENER 0
#define EDB_MODE_HQS 1

/* PipelineConfig fields the data step and the rounds use (the manifest's `pipeline`).
 * linear: 1 = data steps in linear light (camera photos, gyro), 0 = sRGB. The runtime's
 * "auto" is decided in Python (domain_evidence) and not ported: pass 1 for a camera photo. */
typedef struct {
    int32_t mode;             /* EDB_MODE_HQS (default) or EDB_MODE_WIENER */
    int32_t iterations;       /* prior passes, 1..16 (3) */
    double prior_scale;       /* 30 */
    double hqs_sigma_start;   /* 10 */
    double hqs_lambda;        /* 0.05 */
    int32_t taper;            /* EDB_TAPER_MEAN */
    double sigma_max;         /* 15: largest noise level with blur */
    double denoise_sigma_max; /* 50: without blur (a 1 x 1 kernel) */
    int32_t kernel_max;      /* 75 */
    int32_t linear;           /* 1 */
    /* 1: DeblurPipeline._restore_grid's loop (the gyro path, here with one PSF for the frame):
     * a Wiener step regularised by grid_prior_scale, then grid_iterations prior passes (hqs;
     * wiener: one) of falling strength without a data step; prior_scale and iterations unused */
    int32_t psf_grid;         /* 0 */
    double grid_prior_scale;  /* 10 (the stand-alone Wiener's) */
    int32_t grid_iterations;  /* prior passes on the grid path, 1..16 (1) */
} edb_pipe_config;

#define EDB_PIPE_CONFIG_DEFAULT {EDB_MODE_HQS, 3, 30.0, 10.0, 0.05, EDB_TAPER_MEAN, 15.0, 50.0, 75, 1, 0, 10.0, 1}

/* The learned prior: restore a 3-plane h x w float image in [0, 1] at noise level `sigma`
 * (0-255 scale) into `out` (3 planes). This is where the engine runs (feed RGB + the constant
 * noise map sigma * 0.02 as the 4th input channel, the manifest's io.conditioning).
 * Return 0 on success; anything else aborts with EDB_ERR_INFER. */
typedef int (*edb_prior_fn)(void *user, const float *rgb, int32_t h, int32_t w, double sigma, float *out);

/* Bytes edb_pipe_run needs for an h x w RGB frame and a kh x kw PSF. */
edb_status edb_pipe_work_bytes(const edb_pipe_config *cfg, int32_t h, int32_t w, int32_t kh,
                               int32_t kw, size_t *bytes);

/* DeblurPipeline.restore(image, kernel=..., sigma=...) for a given PSF: rgb24 in (packed,
 * `stride` bytes per row), rgb24 out. sigma < 0: estimated as the runtime does. A 1 x 1
 * kernel only denoises (one prior pass). *sigma_used (may be NULL) gets the level used. */
edb_status edb_pipe_run(const edb_pipe_config *cfg, const uint8_t *rgb, size_t stride, int32_t h,
                        int32_t w, const float *kernel, int32_t kh, int32_t kw, double sigma,
                        edb_prior_fn prior, void *user, void *work, size_t work_bytes,
                        uint8_t *out, size_t out_stride, double *sigma_used);

/* --- gyro PSFs (edb_gyro.c) ---------------------------------------------------------------- */
/* runtime._gyro_io.CameraModel: pixels x right, y down, centres at integers; times in s. */
#define EDB_READOUT_TOP_TO_BOTTOM 0
#define EDB_READOUT_BOTTOM_TO_TOP 1
#define EDB_READOUT_LEFT_TO_RIGHT 2
#define EDB_READOUT_RIGHT_TO_LEFT 3
typedef struct {
    double fx, fy, cx, cy;
    int32_t width, height;
    double exposure_start, exposure_time, readout_time;
    int32_t readout_direction;
    double time_offset;
    double gyro_to_camera[3][3]; /* rows: camera x, y, z axes in gyro coordinates */
} edb_camera;

/* Gyro samples: t[n] seconds (strictly increasing), omega[3 n] rad/s about the gyro axes. */
typedef struct {
    const double *t;
    const double *omega;
    int32_t n;
} edb_gyro_log;

/* Bytes edb_gyro_psf_grid needs for `n` samples (quaternions and trajectory buffers). */
edb_status edb_gyro_work_bytes(int32_t n, size_t *bytes);

/* gyro.gyro_psf_grid(camera, log, (rows, cols), size=size): one PSF per tile at its centre.
 * size <= 0: the smallest odd size holding every trajectory (written to *size_out); the call
 * with kernels == NULL only computes that size. kernels: rows * cols * size * size floats. */
edb_status edb_gyro_psf_grid(const edb_camera *cam, const edb_gyro_log *log, int32_t rows,
                             int32_t cols, int32_t size, void *work, size_t work_bytes,
                             float *kernels, size_t kernels_len, int32_t *size_out);

#ifdef __cplusplus
}
#endif
#endif /* EDGEDEBLUR_EDB_DEBLUR_H */
