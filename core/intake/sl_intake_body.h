/* sl_intake_body: the body of a POST of records as the checker takes it:
 * its format from Content-Type, inflated by its Content-Encoding. */
#ifndef SL_INTAKE_BODY_H
#define SL_INTAKE_BODY_H

#include <stddef.h>

#include "sl_buf.h"

struct evhttp_request;

/* Read req's body: *fmt (an sl_ingest_format), *data and *len. *data
 * points into req's input buffer, or into inflated (reset and refilled,
 * at most max_inflated bytes) for a gzip or deflate body; both stay valid
 * until the request is answered or inflated is changed. 0, or an HTTP
 * status with msg set: 415 a media type or encoding we do not take, 413
 * inflated past max_inflated, 400 not valid compressed data, 500 out of
 * memory. */
int sl_intake_body_read(struct evhttp_request *req, sl_buf *inflated,
                        size_t max_inflated, int *fmt, const char **data,
                        size_t *len, char *msg, size_t msglen);

#endif
