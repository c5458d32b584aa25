/* sl_preview_batch: batches cut from records in memory, each request
 * built as delivery builds a first attempt, reported instead of sent. */
#include "sl_preview_batch.h"

#include <stdio.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "sl_attempt_headers.h"
#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_err.h"
#include "sl_headers_fn.h"
#include "sl_lua_req.h"
#include "sl_target.h"

/* What headers_fn reported for one request. */
typedef struct wait_headers {
    int done;
    struct curl_slist *list;  /* owned once done, or NULL with err */
    char err[512];
} wait_headers;

/* sl_headers_fn_done_fn. */
static void on_headers(void *ud, struct curl_slist *headers, const char *err)
{
    wait_headers *w = ud;
    w->list = headers;
    if (err)
        snprintf(w->err, sizeof w->err, "headers_fn: %s", err);
    w->done = 1;
}

/* The headers of b's current piece from headers_fn, run on base until it
 * is done. NULL with the reason in why. */
static struct curl_slist *lua_headers(const sl_connector_conf *c,
                                      const sl_batch *b, const char *url,
                                      struct event_base *base,
                                      sl_luaruntime *rt, char *why,
                                      size_t whylen)
{
    wait_headers w = {0};
    sl_lua_req r = sl_lua_req_make(c, b, 1, 0, url);
    r.preview = 1;
    if (!sl_headers_fn_start(rt, c, &r, b, on_headers, &w)) {
        sl_err_set(why, whylen, "out of memory starting headers_fn");
        return NULL;
    }
    while (!w.done)
        if (event_base_loop(base, EVLOOP_ONCE) < 0)
            break;
    if (!w.done) { /* the loop failed: cannot happen with a pending task */
        sl_err_set(why, whylen, "the event loop stopped");
        return NULL;
    }
    if (!w.list)
        snprintf(why, whylen, "%s", w.err);
    return w.list;
}

/* Report the current piece of b (built), records [first, ...) of the
 * run. 0, or -1 out of memory. */
static int report(const sl_connector_conf *c, sl_batch *b, size_t first,
                  size_t k, size_t m, struct event_base *base,
                  sl_luaruntime *rt, sl_preview_batch_fn fn, void *ud)
{
    char why[512] = "";
    sl_buf url_buf;
    const char *url = c->url;
    struct curl_slist *list = NULL;
    sl_preview_batch_req r = {.k = k, .m = m, .first = first,
                              .n = sl_batch_count(b),
                              .method = c->method, .key = sl_batch_key(b)};
    r.body = sl_batch_body(b, &r.body_len);
    sl_batch_wire_body(b, &r.wire_len);
    sl_buf_init(&url_buf, 0);
    sl_target_rc rc = SL_TARGET_OK;
    if (c->record_tpls)
        rc = sl_target_url(c, b, &url_buf, &url, why, sizeof why);
    if (rc == SL_TARGET_NOMEM)
        goto nomem;
    if (rc == SL_TARGET_OK && rt && c->headers_fn_ref > 0) {
        list = lua_headers(c, b, url, base, rt, why, sizeof why);
    } else if (rc == SL_TARGET_OK) {
        size_t rlen = 0;
        const char *rec = sl_target_record(c, b, &rlen);
        list = sl_attempt_headers_new(c, sl_batch_key(b), rec, rlen, NULL,
                                      why, sizeof why);
    }
    r.url = rc == SL_TARGET_OK ? url : NULL;
    r.headers = list;
    r.err = list ? NULL : why;
    fn(ud, &r);
    sl_attempt_headers_free(list);
    sl_buf_free(&url_buf);
    return 0;
nomem:
    sl_buf_free(&url_buf);
    return -1;
}

/* Cut the batches of recs[0..n); with fn, build and report each (of m),
 * else only count them into *m. 0, or -1 out of memory. */
static int cut_all(const sl_connector_conf *c, const char *const *recs,
                   const size_t *lens, size_t n, struct event_base *base,
                   sl_luaruntime *rt, sl_preview_batch_fn fn, void *ud,
                   size_t *m)
{
    size_t at = 0, k = 0;
    while (at < n) {
        sl_batch *b = sl_batch_new(c);
        int rc = -1;
        if (b && sl_batch_take_records(b, recs + at, lens + at, n - at) == 1)
            rc = !fn ? 0
                 : sl_batch_build(b) == 0
                     ? report(c, b, at, k + 1, *m, base, rt, fn, ud)
                     : -1;
        size_t taken = b ? sl_batch_count(b) : 0;
        sl_batch_free(b);
        if (rc != 0 || taken == 0)
            return -1;
        at += taken;
        k++;
    }
    if (!fn)
        *m = k;
    return 0;
}

int sl_preview_batch_run(const sl_connector_conf *c, const char *const *recs,
                         const size_t *lens, size_t n, struct event_base *base,
                         sl_luaruntime *rt, sl_preview_batch_fn fn, void *ud,
                         char *why, size_t whylen)
{
    size_t m = 0;
    if (cut_all(c, recs, lens, n, base, rt, NULL, NULL, &m) != 0 ||
        cut_all(c, recs, lens, n, base, rt, fn, ud, &m) != 0)
        return sl_err_fail(why, whylen, "out of memory");
    return 0;
}
