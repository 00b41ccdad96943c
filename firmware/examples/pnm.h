/* Minimal binary PPM (P6) / PGM (P5) and raw NV12 file I/O for the examples (8-bit only). */
#ifndef EDB_EXAMPLE_PNM_H
#define EDB_EXAMPLE_PNM_H
#include <stddef.h>
#include <stdint.h>

/* Reads P5/P6 with maxval 255. On success *pixels is malloc'ed (caller frees), *channels is
 * 1 or 3. Returns 0, or -1 with a message in err. */
int pnm_read(const char *path, uint8_t **pixels, int *width, int *height, int *channels, char *err, size_t errlen);
int pnm_write(const char *path, const uint8_t *pixels, int width, int height, int channels);
/* Whole file into a malloc'ed buffer. */
int file_read(const char *path, uint8_t **data, size_t *size);
int file_write(const char *path, const uint8_t *data, size_t size);
#endif
