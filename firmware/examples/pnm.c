/* See pnm.h. Plain C99 stdio; the header parser skips comments as the netpbm spec allows. */
#include "pnm.h"

#include <stdio.h>
#include <stdlib.h>

static int next_int(FILE *f, int *out)
{
    int ch, v = 0, digits = 0;
    do {
        ch = fgetc(f);
        if (ch == '#')
            while (ch != '\n' && ch != EOF) ch = fgetc(f);
    } while (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r');
    while (ch >= '0' && ch <= '9') {
        if (v > 100000000) return -1;
        v = v * 10 + (ch - '0');
        digits++;
        ch = fgetc(f);
    }
    *out = v;
    return digits ? 0 : -1;
}

int pnm_read(const char *path, uint8_t **pixels, int *width, int *height, int *channels, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    int kind, maxval;
    size_t n;
    if (!f) { snprintf(err, errlen, "cannot open %s", path); return -1; }
    if (fgetc(f) != 'P' || ((kind = fgetc(f)) != '5' && kind != '6')) {
        snprintf(err, errlen, "%s: not a binary PGM/PPM (P5/P6)", path);
        fclose(f);
        return -1;
    }
    if (next_int(f, width) || next_int(f, height) || next_int(f, &maxval) || maxval != 255 ||
        *width < 1 || *height < 1 || *width > 65535 || *height > 65535) {
        snprintf(err, errlen, "%s: bad header (need 8-bit, maxval 255)", path);
        fclose(f);
        return -1;
    }
    *channels = kind == '6' ? 3 : 1;
    n = (size_t)*width * (size_t)*height * (size_t)*channels;
    *pixels = (uint8_t *)malloc(n);
    if (!*pixels || fread(*pixels, 1, n, f) != n) {
        snprintf(err, errlen, "%s: truncated pixel data", path);
        free(*pixels);
        *pixels = NULL;
        fclose(f);
        return -1;
    }
    fclose(f);
    return 0;
}

int pnm_write(const char *path, const uint8_t *pixels, int width, int height, int channels)
{
    FILE *f = fopen(path, "wb");
    size_t n = (size_t)width * (size_t)height * (size_t)channels;
    int ok;
    if (!f) return -1;
    fprintf(f, "P%c\n%d %d\n255\n", channels == 3 ? '6' : '5', width, height);
    ok = fwrite(pixels, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int file_read(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    long len;
    if (!f) return -1;
    if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) { fclose(f); return -1; }
    *size = (size_t)len;
    *data = (uint8_t *)malloc(*size ? *size : 1);
    if (!*data || fread(*data, 1, *size, f) != *size) { free(*data); *data = NULL; fclose(f); return -1; }
    fclose(f);
    return 0;
}

int file_write(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return -1;
    ok = fwrite(data, 1, size, f) == size;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
