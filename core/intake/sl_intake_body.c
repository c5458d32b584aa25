/* sl_intake_body: a POST of records' body: format and encoding. */
#include "sl_intake_body.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "sl_ingest.h"
#include "sl_intake_inflate.h"

/* Media type → format; -1 for one we do not take. */
static int body_format(struct evhttp_request *req)
{
    const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req),
                                        "Content-Type");
    if (!ct)
        return SL_INGEST_JSON;
    while (*ct == ' ')
        ct++;
    size_t n = strcspn(ct, "; \t");
    static const struct {
        const char *type;
        int fmt;
    } types[] = {
        {"application/json", SL_INGEST_JSON},
        {"application/x-ndjson", SL_INGEST_NDJSON},
        {"application/ndjson", SL_INGEST_NDJSON},
        {"application/jsonl", SL_INGEST_NDJSON},
        {"application/x-jsonlines", SL_INGEST_NDJSON},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (strlen(types[i].type) == n && strncasecmp(ct, types[i].type, n) == 0)
            return types[i].fmt;
    return -1;
}

int sl_intake_body_read(struct evhttp_request *req, sl_buf *inflated,
                        size_t max_inflated, int *fmt, const char **data,
                        size_t *len, char *msg, size_t msglen)
{
    if ((*fmt = body_format(req)) < 0) {
        snprintf(msg, msglen, "unsupported Content-Type; send "
                 "application/json (an object or an array of objects) or "
                 "application/x-ndjson");
        return 415;
    }
    struct evbuffer *body = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(body);
    const char *p = n ? (const char *)evbuffer_pullup(body, -1) : "";
    if (!p) {
        snprintf(msg, msglen, "out of memory reading the body");
        return 500;
    }
    const char *ce = evhttp_find_header(evhttp_request_get_input_headers(req),
                                        "Content-Encoding");
    if (ce && *ce && strcasecmp(ce, "identity") != 0) {
        int gzip = strcasecmp(ce, "gzip") == 0 || strcasecmp(ce, "x-gzip") == 0;
        if (!gzip && strcasecmp(ce, "deflate") != 0) {
            snprintf(msg, msglen, "unsupported Content-Encoding \"%.40s\"; "
                     "send gzip, deflate or none", ce);
            return 415;
        }
        int st = sl_intake_inflate(inflated, max_inflated, p, n, gzip, msg,
                                   msglen);
        if (st)
            return st;
        p = inflated->len ? inflated->data : "";
        n = inflated->len;
    }
    *data = p;
    *len = n;
    return 0;
}
