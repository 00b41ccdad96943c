/*
 * SHA-256 (FIPS 180-4) so firmware can check that the model it loads is the one the header
 * was generated from: a header/model mismatch is the classic "it runs but the output is
 * garbage" bug after a partial OTA update.
 */
#include "edb_internal.h"

#include <string.h>

static const uint32_t K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

static uint32_t rotr(uint32_t x, unsigned n) { return (x >> n) | (x << (32u - n)); }

static void compress(uint32_t h[8], const uint8_t blk[64])
{
    uint32_t w[64], a, b, c, d, e, f, g, k, t1, t2;
    unsigned i;
    for (i = 0; i < 16; i++)
        w[i] = ((uint32_t)blk[4 * i] << 24) | ((uint32_t)blk[4 * i + 1] << 16) |
               ((uint32_t)blk[4 * i + 2] << 8) | (uint32_t)blk[4 * i + 3];
    for (i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; k = h[7];
    for (i = 0; i < 64; i++) {
        t1 = k + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

void edb_sha256_init(edb_sha256_ctx *ctx)
{
    static const uint32_t H0[8] = {0x6a09e667u, 0xbb67ae85u, 0x3c6ef372u, 0xa54ff53au,
                                   0x510e527fu, 0x9b05688cu, 0x1f83d9abu, 0x5be0cd19u};
    if (!ctx) return;
    memcpy(ctx->h, H0, sizeof H0);
    ctx->bits = 0;
    ctx->used = 0;
}

void edb_sha256_update(edb_sha256_ctx *ctx, const void *data, size_t len)
{
    const uint8_t *p = (const uint8_t *)data;
    if (!ctx || (!p && len)) return;
    ctx->bits += (uint64_t)len * 8u;
    while (len) {
        size_t n = 64 - ctx->used;
        if (n > len) n = len;
        memcpy(ctx->block + ctx->used, p, n);
        ctx->used += n;
        p += n;
        len -= n;
        if (ctx->used == 64) {
            compress(ctx->h, ctx->block);
            ctx->used = 0;
        }
    }
}

void edb_sha256_final(edb_sha256_ctx *ctx, uint8_t digest[32])
{
    uint64_t bits;
    unsigned i;
    if (!ctx || !digest) return;
    bits = ctx->bits;
    ctx->block[ctx->used++] = 0x80;
    if (ctx->used > 56) {
        memset(ctx->block + ctx->used, 0, 64 - ctx->used);
        compress(ctx->h, ctx->block);
        ctx->used = 0;
    }
    memset(ctx->block + ctx->used, 0, 56 - ctx->used);
    for (i = 0; i < 8; i++) ctx->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
    compress(ctx->h, ctx->block);
    for (i = 0; i < 32; i++) digest[i] = (uint8_t)(ctx->h[i / 4] >> (24 - 8 * (i % 4)));
}

edb_status edb_sha256(const void *data, size_t len, uint8_t digest[32])
{
    edb_sha256_ctx ctx;
    if ((!data && len) || !digest) return EDB_ERR_NULL;
    edb_sha256_init(&ctx);
    edb_sha256_update(&ctx, data, len);
    edb_sha256_final(&ctx, digest);
    return EDB_OK;
}

static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

edb_status edb_sha256_matches(const uint8_t digest[32], const char *hex)
{
    unsigned i, diff = 0;
    if (!digest || !hex) return EDB_ERR_NULL;
    for (i = 0; i < 64; i++)
        if (hexval(hex[i]) < 0) return EDB_ERR_ARG; /* also stops at a short string's NUL */
    if (hex[64] != '\0') return EDB_ERR_ARG;
    for (i = 0; i < 32; i++)
        diff |= (unsigned)(digest[i] ^ (uint8_t)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1])));
    return diff ? EDB_ERR_SHA256 : EDB_OK;
}

edb_status edb_verify_model(const edb_contract *c, const void *model, size_t model_bytes)
{
    uint8_t d[32];
    edb_status s;
    if (!c || !model) return EDB_ERR_NULL;
    if (!c->model_sha256) return EDB_ERR_CONTRACT;
    if (model_bytes == 0) return EDB_ERR_ARG;
    s = edb_sha256(model, model_bytes, d);
    return s != EDB_OK ? s : edb_sha256_matches(d, c->model_sha256);
}
