/* sl_gzip: one body deflated into a gzip member in a single pass, into a
 * buffer sized by deflateBound. */
#include "sl_gzip.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

/* zlib's allocations through malloc and free (by default zlib calls them
 * from inside libz, where the torture tests' wrappers cannot see them). */
static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    if (size && items > SIZE_MAX / size)
        return NULL;
    return malloc((size_t)items * size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    free(p);
}

int sl_gzip_compress(sl_buf *out, const void *src, size_t len, int level)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    z.zalloc = z_alloc;
    z.zfree = z_free;
    sl_buf_reset(out);
    /* The smallest window that still reaches back over the whole input
     * (deflate's matches reach 262 bytes less than the window): the same
     * member as with 32 KiB, with less of zlib's memory to set up for a
     * small body. */
    int wbits = 9;
    while (wbits < MAX_WBITS && ((size_t)1 << wbits) - 262 < len)
        wbits++;
    if (level < SL_GZIP_LEVEL_MIN || level > SL_GZIP_LEVEL_MAX ||
        deflateInit2(&z, level, Z_DEFLATED, wbits + 16, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return -1;
    int rc = -1;
    /* Given the whole input, an output of deflateBound bytes and
     * Z_FINISH, deflate finishes in one call; the loop is only for inputs
     * past what one call's uInt counts can hold. */
    uLong bound = deflateBound(&z, (uLong)len);
    if (bound < len || sl_buf_reserve(out, (size_t)bound) != 0)
        goto done;
    const unsigned char *in = src;
    size_t in_left = len, out_left = (size_t)bound;
    z.next_out = (Bytef *)out->data;
    for (;;) {
        uInt take = in_left > UINT_MAX ? UINT_MAX : (uInt)in_left;
        uInt room = out_left > UINT_MAX ? UINT_MAX : (uInt)out_left;
        z.next_in = (Bytef *)(uintptr_t)in;
        z.avail_in = take;
        z.avail_out = room;
        int zr = deflate(&z, take == in_left ? Z_FINISH : Z_NO_FLUSH);
        in += take - z.avail_in;
        in_left -= take - z.avail_in;
        out_left -= room - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (zr != Z_OK || out_left == 0)
            goto done; /* not within deflateBound: cannot happen */
    }
    out->len = (size_t)bound - out_left;
    rc = 0;
done:
    deflateEnd(&z);
    return rc;
}
