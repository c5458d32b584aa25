/* sl_preview_batch: the requests delivery would make for a run of
 * accepted records (`sluice preview`), made by the code that makes the
 * real ones: cut into batches by sl_batch (batch_max_records,
 * batch_max_bytes, one record per request in the object form), each
 * body built and compressed by it, the URL by sl_target, the headers by
 * sl_attempt_headers or, with headers_fn, by sl_headers_fn on a real
 * loop with req.preview = true. Nothing is sent and no spool is read. */
#ifndef SL_PREVIEW_BATCH_H
#define SL_PREVIEW_BATCH_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_luaruntime.h"

struct curl_slist;
struct event_base;

/* One request as the preview shows it. Every pointer is borrowed for the
 * callback only. */
typedef struct sl_preview_batch_req {
    size_t k, m;            /* request k (from 1) of m */
    size_t first, n;        /* records [first, first + n) of those given */
    const char *method;     /* c->method */
    const char *url;        /* placeholders filled; NULL when err says why
                               the record cannot make a URL */
    const struct curl_slist *headers; /* the attempt's list, in the order
                                         sent ("Expect:" included); NULL
                                         with err */
    const char *body;       /* before compression */
    size_t body_len;
    const char *key;        /* the batch's idempotency key ($batch_id) */
    size_t wire_len;        /* bytes on the wire (compressed, or body_len) */
    const char *err;        /* NULL, or why this request cannot be made
                               (headers_fn raised or returned a bad table,
                               a record's value cannot fill the URL or a
                               header) */
} sl_preview_batch_req;

/* Called once per request, in order. */
typedef void (*sl_preview_batch_fn)(void *ud, const sl_preview_batch_req *r);

/* Cut the n encoded records recs[i] (lens[i] bytes each, as the intake
 * encodes them; borrowed) into the batches connector c cuts, one after
 * the other as from a new spool, and call fn for each request they make.
 * With c's headers_fn and rt (c's Lua state's runtime on `base`; NULL:
 * no Lua), headers_fn runs for each request as for a first attempt, with
 * req.preview = true, and base's loop is run until it is done. Returns
 * 0; -1 when out of memory (with why; the requests before were
 * reported). */
int sl_preview_batch_run(const sl_connector_conf *c, const char *const *recs,
                         const size_t *lens, size_t n, struct event_base *base,
                         sl_luaruntime *rt, sl_preview_batch_fn fn, void *ud,
                         char *why, size_t whylen);

#endif
