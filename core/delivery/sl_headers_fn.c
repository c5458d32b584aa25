/* sl_headers_fn: the task, its req, and the returned table checked. */
#include "sl_headers_fn.h"

#include <stdio.h>
#include <stdlib.h>

#include "sl_attempt_headers.h"
#include "sl_target.h"

struct sl_headers_fn {
    sl_luaruntime_task *task;
    const sl_connector_conf *c;
    const sl_batch *recs;
    const sl_lua_req *req;   /* during sl_headers_fn_start only */
    sl_headers_fn_done_fn done;
    void *ud;
};

/* sl_luaruntime_args_fn: req. */
static void push_req(lua_State *co, void *ud)
{
    sl_lua_req_push(co, ((sl_headers_fn *)ud)->req);
}

/* sl_luaruntime_done_fn. */
static void on_done(void *ud, lua_State *co, int nres, const char *err)
{
    sl_headers_fn *h = ud;
    char why[320];
    struct curl_slist *list = NULL;
    if (!err && (nres < 1 || !lua_istable(co, -nres))) {
        snprintf(why, sizeof why, "headers_fn must return a table of headers");
        err = why;
    }
    if (!err) {
        if (nres > 1)
            lua_pop(co, nres - 1);
        size_t rlen = 0;
        const char *rec = sl_target_record(h->c, h->recs, &rlen);
        list = sl_attempt_headers_new(h->c, sl_batch_key(h->recs), rec, rlen,
                                      co, why, sizeof why);
        if (!list)
            err = why;
    }
    h->task = NULL;
    h->done(h->ud, list, err);
    free(h);
}

sl_headers_fn *sl_headers_fn_start(sl_luaruntime *rt,
                                   const sl_connector_conf *c,
                                   const sl_lua_req *r, const sl_batch *recs,
                                   sl_headers_fn_done_fn done, void *ud)
{
    sl_headers_fn *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    *h = (sl_headers_fn){.c = c, .recs = recs, .req = r, .done = done,
                         .ud = ud};
    h->task = sl_luaruntime_start(rt, c->headers_fn_ref, push_req, 1,
                                  on_done, h);
    h->req = NULL;
    if (!h->task) {
        free(h);
        return NULL;
    }
    return h;
}

void sl_headers_fn_cancel(sl_headers_fn *h)
{
    if (!h)
        return;
    sl_luaruntime_cancel(h->task);
    free(h);
}
