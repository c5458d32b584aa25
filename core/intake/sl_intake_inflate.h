/* sl_intake_inflate: a request body sent with Content-Encoding gzip or
 * deflate, inflated with a cap (a gzip bomb stops there). */
#ifndef SL_INTAKE_INFLATE_H
#define SL_INTAKE_INFLATE_H

#include <stddef.h>

#include "sl_buf.h"

/* Inflate src (len bytes; gzip 1: gzip, 0: zlib "deflate") into out
 * (reset first), at most max bytes. 0, or an HTTP status with msg set:
 * 413 past max, 400 not valid, 500 out of memory. Concatenated gzip
 * members are all inflated, as gunzip does. */
int sl_intake_inflate(sl_buf *out, size_t max, const char *src, size_t len,
                      int gzip, char *msg, size_t msglen);

#endif
