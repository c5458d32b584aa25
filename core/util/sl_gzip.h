/* sl_gzip: a body compressed as one gzip member (RFC 1952), for the
 * `compression = "gzip"` of a connector's requests. (The intake's
 * inflating of gzip bodies is sl_intake_http's own.) */
#ifndef SL_GZIP_H
#define SL_GZIP_H

#include <stddef.h>

#include "sl_buf.h"

#define SL_GZIP_LEVEL_MIN 1
#define SL_GZIP_LEVEL_MAX 9
#define SL_GZIP_LEVEL_DEFAULT 6 /* zlib's own default */

/* Replace out's contents by the `len` bytes at src (src may be NULL when
 * len is 0) compressed as one gzip member: deflate at `level`
 * (SL_GZIP_LEVEL_MIN..MAX) with a window of up to 32 KiB (the smallest
 * that spans the input, so a small body sets up less), zlib's default
 * memory level and strategy, the gzip header with no name and no time (so
 * the same bytes always give the same member), CRC-32 and length trailer;
 * what gunzip and an HTTP server's `Content-Encoding: gzip` take. zlib's
 * working memory (up to about 256 KiB) is malloc'd and freed within the
 * call. Returns 0, or -1 when out of memory, when the member
 * would pass out's cap, or for a level out of range; then out is empty
 * (its allocation is kept). */
int sl_gzip_compress(sl_buf *out, const void *src, size_t len, int level);

#endif
