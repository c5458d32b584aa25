/* sl_intake_reply: an evhttp request answered with a body — the status's
 * reason phrase, Content-Type, and JSON answers ending in a newline — for
 * the HTTP intake's routes. */
#ifndef SL_INTAKE_REPLY_H
#define SL_INTAKE_REPLY_H

#include <stddef.h>

#include "sl_buf.h"

struct evhttp_request;

/* Send `code` with body[0..len) as `ctype`; req is evhttp's from here on. */
void sl_intake_reply(struct evhttp_request *req, int code, const char *ctype,
                     const char *body, size_t len);

/* Send `code` with the JSON in b and a newline (appended to b). */
void sl_intake_reply_json(struct evhttp_request *req, int code, sl_buf *b);

/* Send `code` with {"error":msg}, written in scratch (reset first). */
void sl_intake_reply_error(struct evhttp_request *req, int code,
                           const char *msg, sl_buf *scratch);

#endif
