/* Internal: the FFT plans' layout and the bump allocator the deblur code carves caller
 * memory with (not installed). */
#ifndef EDGEDEBLUR_EDB_FFT_INTERNAL_H
#define EDGEDEBLUR_EDB_FFT_INTERNAL_H

#include "edgedeblur/edb_deblur.h"

/* Bump allocator over a caller buffer; with base == NULL it only counts (a size query). */
typedef struct {
    uint8_t *base;
    size_t used, cap;
    int overflow;
} edb_arena;

static inline void *edb_arena_take(edb_arena *a, size_t bytes)
{
    size_t start = (a->used + 15u) & ~(size_t)15u;
    if (bytes > (size_t)-1 / 2 || start > (size_t)-1 / 2 - bytes) {
        a->overflow = 1;
        return NULL;
    }
    a->used = start + bytes;
    if (!a->base) return NULL;
    if (a->used > a->cap) {
        a->overflow = 1;
        return NULL;
    }
    return a->base + start;
}

#define EDB_FFT_MAX_FACTORS 40

struct edb_fft {
    int32_t n;
    int32_t nfac;
    int32_t fac[EDB_FFT_MAX_FACTORS];
    edb_cpx *tw;      /* n: exp(-2 pi i k / n) */
    edb_cpx *scratch; /* n (Stockham ping-pong) */
    /* Bluestein, when n has a prime factor above 5 */
    int32_t m;        /* power of two >= 2n - 1, else 0 */
    edb_cpx *chirp;   /* n: exp(-i pi k^2 / n) */
    edb_cpx *bspec;   /* m: FFT of the conjugate chirp, wrapped */
    edb_cpx *buf;     /* m */
    struct edb_fft *sub;
};

#define EDB_COL_BLOCK 16

struct edb_rfft2 {
    int32_t h, w, wc;
    edb_fft *row;     /* length w / 2 (even w) or w (odd w) */
    edb_fft *col;     /* length h */
    edb_cpx *rtw;     /* even w: w / 2 + 1 twiddles exp(-2 pi i k / w) */
    edb_cpx *rowbuf;  /* odd w: w */
    edb_cpx *colbuf;  /* h * EDB_COL_BLOCK */
    edb_cpx *colscr;  /* h * EDB_COL_BLOCK */
};

/* Builds (or with a counting arena, sizes) a plan; NULL when counting or out of memory. */
edb_fft *edb_fft_build(edb_arena *a, int32_t n);
edb_rfft2 *edb_rfft2_build(edb_arena *a, int32_t h, int32_t w);
/* `batch` interleaved sequences: element t of sequence b at x[t * batch + b]; scratch holds
 * n * batch values (unused for Bluestein plans, which use their own buffer). */
void edb_fft_batch(const edb_fft *p, edb_cpx *x, edb_cpx *scratch, int32_t batch, int inverse);

#endif
