/* sl_verdict: response_fn's answer read with raw accesses in a protected
 * call (a memory error is caught, a metamethod never runs), each shape it
 * must not have refused with its path ("failed[3].index: ..."), and
 * applied to the piece through sl_graves and sl_batch_pick. */
#include "sl_verdict.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "sl_log.h"
#include "sl_retry.h"

typedef struct read_ctx {
    sl_verdict *v;
    size_t n;                /* records in the piece */
    unsigned char *seen;     /* n bytes: a position already listed */
    char *err;
    size_t errlen;
    int bad;                 /* err says why */
} read_ctx;

/* Refuse the answer: the reason into x->err. Returns 0, for `return`. */
static int refuse(read_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int refuse(read_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    x->bad = 1;
    return 0;
}

/* A copy of the string at idx, cut at SL_VERDICT_REASON_MAX bytes and at
 * a NUL; raises on out of memory. [-0, +0, m] */
static char *copy_text(lua_State *L, int idx)
{
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    const char *nul = memchr(s, '\0', len);
    if (nul)
        len = (size_t)(nul - s);
    if (len > SL_VERDICT_REASON_MAX)
        len = SL_VERDICT_REASON_MAX;
    char *r = malloc(len + 1);
    if (!r)
        luaL_error(L, "out of memory");
    memcpy(r, s, len);
    r[len] = '\0';
    return r;
}

/* Every key of the table at idx is a string in `names` (NULL-ended);
 * else refused, naming `where`. Stops at the first stranger. */
static int keys_known(lua_State *L, read_ctx *x, int idx, const char *where,
                      const char *const *names, const char *list)
{
    lua_pushnil(L);                                  /* k */
    while (lua_next(L, idx)) {                       /* k v */
        lua_pop(L, 1);                               /* k */
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            return refuse(x, "%s: keys must be strings (%s)", where, list),
                   -1;
        }
        const char *k = lua_tostring(L, -1);
        size_t i = 0;
        while (names[i] && strcmp(names[i], k) != 0)
            i++;
        if (!names[i]) {
            refuse(x, "%s: unknown key \"%.40s\" (%s)", where, k, list);
            lua_pop(L, 1);
            return -1;
        }
    }
    return 0;
}

/* Push t[name] without metamethods (t an absolute index); its type.
 * [-0, +1, m] */
static int raw_field(lua_State *L, int t, const char *name)
{
    lua_pushstring(L, name);
    return lua_rawget(L, t);
}

static const char *const top_keys[] = {"outcome", "failed", "retry_after_s",
                                       "reason", NULL};
static const char *const item_keys[] = {"index", "reason", "retry", NULL};

/* failed[i] (1-based) at the top of L into v->failed[k]. */
static int read_item(lua_State *L, read_ctx *x, lua_Integer i)
{
    int t = lua_gettop(L);
    char where[40];
    snprintf(where, sizeof where, "failed[%lld]", (long long)i);
    if (!lua_istable(L, t))
        return refuse(x, "%s: expected a table { index = n, reason = ... }, "
                      "got %s", where, luaL_typename(L, t)), -1;
    if (keys_known(L, x, t, where, item_keys, "index, reason, retry") != 0)
        return -1;
    int isint = 0;
    lua_Integer index = 0;
    if (raw_field(L, t, "index") == LUA_TNUMBER)  /* item index */
        index = lua_tointegerx(L, -1, &isint);
    int ty = lua_type(L, -1);
    lua_pop(L, 1);
    if (!isint)
        return refuse(x, "%s.index: expected an integer, got %s", where,
                      ty == LUA_TNUMBER ? "a fraction" : lua_typename(L, ty)),
               -1;
    if (index < 1 || (lua_Unsigned)index > x->n)
        return refuse(x, "%s.index: %lld is out of range (the piece has %zu "
                      "record%s)", where, (long long)index, x->n,
                      x->n == 1 ? "" : "s"), -1;
    size_t pos = (size_t)index - 1;
    if (x->seen[pos])
        return refuse(x, "%s.index: %lld is listed twice", where,
                      (long long)index), -1;
    x->seen[pos] = 1;
    sl_verdict_item *it = &x->v->failed[x->v->nfailed];
    it->pos = pos;
    ty = raw_field(L, t, "retry");             /* item retry */
    it->retry = lua_toboolean(L, -1);
    lua_pop(L, 1);
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        return refuse(x, "%s.retry: expected true or false, got %s", where,
                      lua_typename(L, ty)), -1;
    ty = raw_field(L, t, "reason");            /* item reason */
    if (ty != LUA_TNIL && ty != LUA_TSTRING && ty != LUA_TNUMBER) {
        lua_pop(L, 1);
        return refuse(x, "%s.reason: expected a string, got %s", where,
                      lua_typename(L, ty)), -1;
    }
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        lua_pushliteral(L, "refused by the destination");
    }
    it->reason = copy_text(L, -1);
    x->v->nfailed++;
    lua_pop(L, 2);                                   /* */
    return 0;
}

/* `failed` at idx: a list of at most n items. */
static int read_failed(lua_State *L, read_ctx *x, int idx)
{
    if (!lua_istable(L, idx))
        return refuse(x, "failed: expected a list of { index = n, reason = "
                      "... }, got %s", luaL_typename(L, idx)), -1;
    lua_Unsigned len = lua_rawlen(L, idx);
    if (len > x->n)
        return refuse(x, "failed: %llu items, more than the piece's %zu "
                      "record%s", (unsigned long long)len, x->n,
                      x->n == 1 ? "" : "s"), -1;
    /* a list: keys 1..len and nothing else (counted up to one more) */
    lua_Unsigned keys = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (++keys > len) {
            lua_pop(L, 1);
            return refuse(x, "failed: expected a list (keys 1 to n only)"),
                   -1;
        }
    }
    if (len == 0)
        return 0;
    x->v->failed = calloc((size_t)len, sizeof *x->v->failed);
    x->seen = calloc(x->n, 1);
    if (!x->v->failed || !x->seen)
        return luaL_error(L, "out of memory");
    for (lua_Integer i = 1; i <= (lua_Integer)len; i++) {
        lua_rawgeti(L, idx, i);                      /* item */
        if (read_item(L, x, i) != 0)
            return -1;
    }
    return 0;
}

static int by_pos(const void *a, const void *b)
{
    size_t x = ((const sl_verdict_item *)a)->pos;
    size_t y = ((const sl_verdict_item *)b)->pos;
    return x < y ? -1 : x > y;
}

/* Protected: read_ctx at 1, the returned value at 2. A refusal returns
 * normally with x->bad set; a memory error raises. */
static int read_value(lua_State *L)
{
    read_ctx *x = lua_touserdata(L, 1);
    sl_verdict *v = x->v;
    if (lua_isnil(L, 2))
        return 0;
    if (!lua_istable(L, 2))
        return refuse(x, "expected nil or a table { outcome = ..., failed = "
                      "... }, got %s", luaL_typename(L, 2));
    if (keys_known(L, x, 2, "the answer", top_keys,
                   "outcome, failed, retry_after_s, reason") != 0)
        return 0;
    int ty = raw_field(L, 2, "outcome");       /* outcome */
    const char *o = ty == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    if (o && strcmp(o, "success") == 0)
        v->outcome = SL_VERDICT_SUCCESS;
    else if (o && strcmp(o, "retry") == 0)
        v->outcome = SL_VERDICT_RETRY;
    else if (o && strcmp(o, "permanent") == 0)
        v->outcome = SL_VERDICT_PERMANENT;
    else if (ty != LUA_TNIL)
        return refuse(x, "outcome: expected \"success\", \"retry\" or "
                      "\"permanent\", got %s%.40s%s",
                      o ? "\"" : lua_typename(L, ty), o ? o : "",
                      o ? "\"" : "");
    lua_pop(L, 1);
    ty = raw_field(L, 2, "reason");            /* reason */
    if (ty == LUA_TSTRING || ty == LUA_TNUMBER)
        v->reason = copy_text(L, -1);
    else if (ty != LUA_TNIL)
        return refuse(x, "reason: expected a string, got %s",
                      lua_typename(L, ty));
    lua_pop(L, 1);
    ty = raw_field(L, 2, "retry_after_s");     /* ra */
    if (ty == LUA_TNUMBER) {
        double s = lua_tonumber(L, -1);
        if (!(s >= 0) || isinf(s))
            return refuse(x, "retry_after_s: expected a number of seconds "
                          "0 or more, got %g", s);
        v->retry_after_s = s > 86400 ? 86400 : s;
    } else if (ty != LUA_TNIL) {
        return refuse(x, "retry_after_s: expected a number of seconds, got "
                      "%s", lua_typename(L, ty));
    }
    lua_pop(L, 1);
    if (raw_field(L, 2, "failed") != LUA_TNIL && /* failed */
        read_failed(L, x, 3) != 0)
        return 0;
    if (v->nfailed > 1)
        qsort(v->failed, v->nfailed, sizeof *v->failed, by_pos);
    return 0;
}

int sl_verdict_read(lua_State *co, int nres, size_t nrecords, sl_verdict *v,
                    char *err, size_t errlen)
{
    memset(v, 0, sizeof *v);
    v->retry_after_s = -1;
    read_ctx x = {.v = v, .n = nrecords, .err = err, .errlen = errlen};
    int top = lua_gettop(co);
    if (!lua_checkstack(co, 8)) {
        snprintf(err, errlen, "out of memory reading what it returned");
        return -1;
    }
    lua_pushcfunction(co, read_value);               /* f */
    lua_pushlightuserdata(co, &x);                   /* f x */
    if (nres > 0)
        lua_pushvalue(co, top - nres + 1);           /* f x result */
    else
        lua_pushnil(co);                             /* f x nil */
    int rc = lua_pcall(co, 2, 0, 0);
    if (rc != LUA_OK) {
        const char *m = lua_tostring(co, -1);
        snprintf(err, errlen, "reading what it returned: %s",
                 m ? m : "error");
        x.bad = 1;
    }
    lua_settop(co, top);
    free(x.seen);
    if (x.bad) {
        sl_verdict_free(v);
        return -1;
    }
    return 0;
}

void sl_verdict_free(sl_verdict *v)
{
    for (size_t i = 0; i < v->nfailed; i++)
        free(v->failed[i].reason);
    free(v->failed);
    free(v->reason);
    memset(v, 0, sizeof *v);
    v->retry_after_s = -1;
}

/* ---- applying --------------------------------------------------------- */

/* The refused records to x's graves, the retried ones picked; counts and
 * logs. */
static sl_verdict_act partial(const sl_verdict *v, const sl_verdict_ctx *x)
{
    sl_batch_piece cur = sl_batch_current(x->recs);
    const char *key = x->grave->key;
    size_t mark = sl_graves_pieces(*x->graves), dead = 0, again = 0;
    size_t *pos = NULL;
    const sl_verdict_item *first = NULL;
    char reason[SL_VERDICT_REASON_MAX + 256];
    for (size_t i = 0; i < v->nfailed; i++) {
        const sl_verdict_item *it = &v->failed[i];
        if (it->retry) {
            again++;
            continue;
        }
        sl_graves_piece g = *x->grave;
        g.from = sl_batch_piece_record(x->recs, cur, it->pos);
        g.n = 1;
        g.picked = 0;
        snprintf(reason, sizeof reason, "item %zu of batch %s: %s",
                 it->pos + 1, key, it->reason);
        g.reason = reason;
        if (sl_graves_add(x->graves, &g) != 0)
            goto oom;
        if (!first)
            first = it;
        dead++;
    }
    if (again) {
        if (!(pos = malloc(again * sizeof *pos)))
            goto oom;
        for (size_t i = 0, k = 0; i < v->nfailed; i++)
            if (v->failed[i].retry)
                pos[k++] = v->failed[i].pos;
        if (sl_batch_pick(x->recs, pos, again) != 0)
            goto oom;
        free(pos);
    }
    x->stats->delivered += cur.n - dead - again;
    x->stats->dead_lettered += dead;
    x->stats->records_retried += again;
    if (dead)
        sl_log_error("delivery", "batch %s (%zu records) to %s: the "
                     "destination refused %zu (response_fn); to the dead "
                     "letters; first: item %zu: %.200s", key, cur.n,
                     x->grave->url ? x->grave->url : "", dead,
                     first->pos + 1, first->reason);
    if (again)
        sl_log_warn("delivery", "batch %s (%zu records): %zu to send again "
                    "on their own (response_fn)", key, cur.n, again);
    return again ? SL_VERDICT_ACT_RETRY : SL_VERDICT_ACT_DONE;
oom:
    free(pos);
    sl_graves_drop_after(*x->graves, mark);
    return SL_VERDICT_ACT_FAILED;
}

sl_verdict_act sl_verdict_apply(const sl_verdict *v, const sl_verdict_ctx *x,
                                char *why, size_t whylen, char *retry_after,
                                size_t ralen)
{
    *why = '\0';
    *retry_after = '\0';
    if (v->retry_after_s >= 0)
        snprintf(retry_after, ralen, "%.0f", ceil(v->retry_after_s));
    sl_verdict_outcome o = v->outcome;
    if (o == SL_VERDICT_DEFAULT) {
        if (sl_retry_classify_with(x->status, x->grave->status, NULL) !=
            SL_RETRY_DELIVERED)
            return SL_VERDICT_ACT_DEFAULT;
        o = SL_VERDICT_SUCCESS;
    }
    if (o == SL_VERDICT_SUCCESS)
        return partial(v, x);
    x->stats->failures++;
    if (o == SL_VERDICT_PERMANENT) {
        snprintf(why, whylen, "%s", v->reason ? v->reason
                                              : "response_fn: permanent");
        return SL_VERDICT_ACT_BURY;
    }
    snprintf(why, whylen, "%s", v->reason ? v->reason : "response_fn: retry");
    sl_log_warn("delivery", "batch %s (%zu records) attempt %u to %s: HTTP "
                "%ld: %s", x->grave->key, sl_batch_current(x->recs).n,
                x->grave->attempts, x->grave->url ? x->grave->url : "",
                x->grave->status, why);
    return SL_VERDICT_ACT_RETRY;
}

void sl_verdict_settle(const sl_verdict *v, const char *err,
                       const sl_http_client_response *res,
                       const sl_verdict_ctx *x, sl_verdict_next *out)
{
    char why[sizeof out->why - 32];
    out->res = *res;
    out->act = err ? SL_VERDICT_ACT_FAILED
                   : sl_verdict_apply(v, x, out->why, sizeof out->why,
                                      out->retry_after,
                                      sizeof out->retry_after);
    if (out->act != SL_VERDICT_ACT_FAILED) {
        if (out->retry_after[0])
            out->res.retry_after = out->retry_after;
        if (out->act == SL_VERDICT_ACT_RETRY && v->outcome == SL_VERDICT_RETRY)
            out->res.error = out->why; /* named if retries run out */
        return;
    }
    x->stats->failures++;
    x->stats->response_fn_errors++;
    snprintf(why, sizeof why, "%s", err ? err : "out of memory");
    snprintf(out->why, sizeof out->why, "response_fn: %s", why);
    sl_log_warn("delivery", "batch %s (%zu records) attempt %u to %s: HTTP "
                "%ld: %s; retrying", x->grave->key,
                sl_batch_current(x->recs).n, x->grave->attempts,
                x->grave->url ? x->grave->url : "", res->status, out->why);
    out->act = SL_VERDICT_ACT_RETRY;
    out->res.status = 0; /* no answer it could read */
    out->res.error = out->why;
    out->res.retry_after = NULL;
}
