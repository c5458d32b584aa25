/* sl_test_gunzip: test helper that inflates what sl_gzip made with
 * zlib's own inflate, independently of sluice. */
#ifndef SL_TEST_GUNZIP_H
#define SL_TEST_GUNZIP_H

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* Inflate a gzip member (exactly one, nothing after it) into a new
 * malloc'd buffer of *outlen bytes; NULL when it is not valid gzip. */
static inline unsigned char *sl_test_gunzip(const char *src, size_t len,
                                            size_t *outlen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, MAX_WBITS + 16) != Z_OK)
        return NULL;
    size_t cap = len * 4 + 64, n = 0;
    unsigned char *out = malloc(cap);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    int rc = Z_OK;
    while (out && rc == Z_OK) {
        if (n == cap) {
            unsigned char *g = realloc(out, cap *= 2);
            if (!g) {
                free(out);
                out = NULL;
                break;
            }
            out = g;
        }
        z.next_out = out + n;
        z.avail_out = (uInt)(cap - n);
        rc = inflate(&z, Z_NO_FLUSH);
        n = cap - z.avail_out;
    }
    if (rc != Z_STREAM_END || z.avail_in != 0) {
        free(out);
        out = NULL;
    }
    inflateEnd(&z);
    *outlen = n;
    return out;
}

#endif
