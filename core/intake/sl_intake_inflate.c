/* sl_intake_inflate: see sl_intake_inflate.h. */
#include "sl_intake_inflate.h"

#include <stdio.h>
#include <string.h>

#include <zlib.h>

int sl_intake_inflate(sl_buf *out, size_t max, const char *src, size_t len,
                      int gzip, char *msg, size_t msglen)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, gzip ? 16 + MAX_WBITS : MAX_WBITS) != Z_OK) {
        snprintf(msg, msglen, "out of memory inflating the body");
        return 500;
    }
    sl_buf_reset(out);
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)len;
    int rc = Z_OK, status = 0;
    while (rc != Z_STREAM_END || z.avail_in > 0) {
        if (rc == Z_STREAM_END) {
            /* another member follows */
            if (!gzip || inflateReset(&z) != Z_OK)
                break;
        }
        size_t room = 64 * 1024;
        if (out->len + room > max + 1)
            room = max + 1 - out->len;
        if (room == 0 || sl_buf_reserve(out, room) != 0) {
            if (room == 0 || out->len >= max) {
                snprintf(msg, msglen, "the body inflates to more than "
                         "max_decompressed_bytes (%zu bytes)", max);
                status = 413;
            } else {
                snprintf(msg, msglen, "out of memory inflating the body");
                status = 500;
            }
            break;
        }
        z.next_out = (Bytef *)out->data + out->len;
        z.avail_out = (uInt)room;
        rc = inflate(&z, Z_NO_FLUSH);
        out->len += room - z.avail_out;
        if (out->len > max) {
            snprintf(msg, msglen, "the body inflates to more than "
                     "max_decompressed_bytes (%zu bytes)", max);
            status = 413;
            break;
        }
        if (rc == Z_STREAM_END)
            continue;
        if (rc != Z_OK) {
            snprintf(msg, msglen, "the body is not valid %s: %s",
                     gzip ? "gzip" : "deflate", z.msg ? z.msg : "corrupt data");
            status = 400;
            break;
        }
        if (z.avail_in == 0 && z.avail_out > 0) {
            snprintf(msg, msglen, "the body is not valid %s: it ends early",
                     gzip ? "gzip" : "deflate");
            status = 400;
            break;
        }
    }
    inflateEnd(&z);
    return status;
}

