/* sl_response: the answer kept for response_fn, its res and req tables,
 * req.record behind a userdata that is cut off from the batch when the
 * call ends (a function kept past the call then fails, never reads freed
 * records), and the result read by sl_verdict. */
#include "sl_response.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "sl_json.h"
#include "sl_log.h"
#include "sl_luajson.h"

/* The upvalue of req.record: the piece's records while the call runs. */
typedef struct rec_access {
    const sl_batch *recs;    /* NULL once the call ended */
    sl_batch_piece piece;
} rec_access;

struct sl_response {
    sl_luaruntime_task *task;
    lua_State *L;            /* the connector's state (its registry) */
    rec_access *acc;         /* anchored by acc_ref while the call runs */
    int acc_ref;
    const sl_batch *recs;
    sl_batch_piece piece;
    const sl_lua_req *req;   /* during sl_response_start only */
    sl_http_client_response res; /* the copy: its strings below */
    char *body, *headers;
    char retry_after[128];
    sl_response_done_fn done;
    void *ud;
};

/* req.record(i): the i-th record of the piece, from 1; cached in upvalue
 * 2 for the call. */
static int req_record(lua_State *co)
{
    const rec_access *a = lua_touserdata(co, lua_upvalueindex(1));
    lua_Integer i = luaL_checkinteger(co, 1);
    if (!a->recs)
        return luaL_error(co, "req.record: the response_fn call it came "
                          "with is over");
    if (i < 1 || (lua_Unsigned)i > a->piece.n)
        return luaL_error(co, "req.record(%I): out of range: the piece "
                          "has %I record%s", i, (lua_Integer)a->piece.n,
                          a->piece.n == 1 ? "" : "s");
    if (lua_rawgeti(co, lua_upvalueindex(2), i) != LUA_TNIL) /* cached */
        return 1;
    lua_pop(co, 1);
    size_t len;
    const char *rec = sl_batch_record(
        a->recs, sl_batch_piece_record(a->recs, a->piece, (size_t)i - 1),
        &len);
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, rec, len, 0);
    if (sl_json_next(&js, &t) == SL_JSON_ERROR ||
        sl_luajson_push(co, &js, &t) != 0)             /* rec */
        return luaL_error(co, "req.record(%I): the record is not JSON", i);
    lua_pushvalue(co, -1);                             /* rec rec */
    lua_rawseti(co, lua_upvalueindex(2), i);           /* rec; cache[i] = */
    return 1;
}

/* res.headers from "Name: value\r\n" lines: names in lower case, a
 * repeated header's values joined with ", ". [-0, +1, m] */
static void push_headers(lua_State *co, const char *p, size_t len)
{
    lua_newtable(co);                                  /* hdrs */
    const char *end = p + len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon && colon > p) {
            luaL_Buffer b;
            luaL_buffinit(co, &b);
            for (const char *q = p; q < colon; q++)
                luaL_addchar(&b, (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q));
            luaL_pushresult(&b);                       /* hdrs name */
            const char *v = colon + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
                              ve[-1] == '\t'))
                ve--;
            lua_pushvalue(co, -1);                     /* hdrs name name */
            if (lua_rawget(co, -3) == LUA_TSTRING) {   /* hdrs name old */
                lua_pushliteral(co, ", ");
                lua_pushlstring(co, v, (size_t)(ve - v));
                lua_concat(co, 3);                     /* hdrs name joined */
            } else {
                lua_pop(co, 1);
                lua_pushlstring(co, v, (size_t)(ve - v)); /* hdrs name v */
            }
            lua_rawset(co, -3);                        /* hdrs[name] = */
        }
        p = eol ? eol + 1 : end;
    }
}

/* sl_luaruntime_args_fn: res, req. */
static void push_args(lua_State *co, void *ud)
{
    sl_response *c = ud;
    const sl_http_client_response *r = &c->res;
    lua_createtable(co, 0, 4);                         /* res */
    lua_pushinteger(co, r->status);
    lua_setfield(co, -2, "status");
    push_headers(co, r->headers, r->headers_len);      /* res hdrs */
    lua_setfield(co, -2, "headers");
    lua_pushlstring(co, r->body, r->body_len);
    lua_setfield(co, -2, "body");
    lua_pushboolean(co, r->truncated);
    lua_setfield(co, -2, "truncated");                 /* res */
    sl_lua_req_push(co, c->req);                       /* res req */
    rec_access *a = lua_newuserdatauv(co, sizeof *a, 0); /* res req a */
    a->recs = NULL;
    lua_pushvalue(co, -1);                             /* res req a a */
    c->acc_ref = luaL_ref(co, LUA_REGISTRYINDEX);      /* res req a */
    c->acc = a;
    a->recs = c->recs;
    a->piece = c->piece;
    lua_newtable(co);                                  /* res req a cache */
    lua_pushcclosure(co, req_record, 2);               /* res req record */
    lua_setfield(co, -2, "record");                    /* res req */
}

static void call_free(sl_response *c)
{
    if (c->acc)
        c->acc->recs = NULL; /* a kept req.record fails from now on */
    if (c->acc_ref != LUA_NOREF)
        luaL_unref(c->L, LUA_REGISTRYINDEX, c->acc_ref);
    free(c->body);
    free(c->headers);
    free(c);
}

/* sl_luaruntime_done_fn. */
static void on_done(void *ud, lua_State *co, int nres, const char *err)
{
    sl_response *c = ud;
    c->task = NULL;
    if (c->acc)
        c->acc->recs = NULL;
    char why[512];
    sl_verdict v;
    if (!err && sl_verdict_read(co, nres, c->piece.n, &v, why,
                                sizeof why) != 0)
        err = why;
    c->done(c->ud, &c->res, err ? NULL : &v, err);
    if (!err)
        sl_verdict_free(&v);
    call_free(c);
}

/* c->res: a copy of r. 0, or -1 when out of memory. */
static int keep_answer(sl_response *c, const sl_http_client_response *r)
{
    c->res = *r;
    c->body = malloc(r->body_len + 1);
    c->headers = malloc(r->headers_len + 1);
    if (!c->body || !c->headers)
        return -1;
    memcpy(c->body, r->body, r->body_len);
    c->body[r->body_len] = '\0';
    if (r->headers_len)
        memcpy(c->headers, r->headers, r->headers_len);
    c->headers[r->headers_len] = '\0';
    c->res.body = c->body;
    c->res.headers = c->headers;
    c->res.error = "";
    if (r->retry_after) {
        snprintf(c->retry_after, sizeof c->retry_after, "%s", r->retry_after);
        c->res.retry_after = c->retry_after;
    }
    return 0;
}

sl_response *sl_response_start(sl_luaruntime *rt, const sl_connector_conf *cf,
                               const sl_http_client_response *res,
                               const sl_lua_req *r, const sl_batch *recs,
                               int *cut_said, sl_response_done_fn done,
                               void *ud)
{
    if (res->truncated && !*cut_said) {
        *cut_said = 1;
        sl_log_warn("delivery", "batch %s: HTTP %ld's body cut at "
                    "max_response_bytes = %zu for response_fn", r->batch_id,
                    res->status, cf->max_response_bytes);
    }
    sl_response *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->L = cf->L;
    c->acc_ref = LUA_NOREF;
    c->recs = recs;
    c->piece = sl_batch_current(recs);
    c->done = done;
    c->ud = ud;
    if (keep_answer(c, res) != 0)
        goto fail;
    c->req = r;
    c->task = sl_luaruntime_start(rt, cf->response_fn_ref, push_args, 2,
                                  on_done, c);
    c->req = NULL;
    if (!c->task)
        goto fail;
    return c;
fail:
    call_free(c);
    return NULL;
}

void sl_response_cancel(sl_response *c)
{
    if (!c)
        return;
    sl_luaruntime_cancel(c->task);
    call_free(c);
}
