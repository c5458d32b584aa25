/* sl_luaruntime: coroutines driven by the event loop. A task is one coroutine
 * (anchored in the registry); a C function that must wait (http.request,
 * sleep) starts the operation, records it in the task and yields; the
 * operation's callback resumes the coroutine with the result. Results are
 * built on the main thread in protected mode and moved over, so a memory
 * cap hit can never panic outside a pcall. The runtime is found from any
 * coroutine of its state through the registry (RUNTIME_KEY), never a
 * global. */
#include "sl_luaruntime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <lauxlib.h>

#include "sl_header.h"
#include "sl_http_client.h"
#include "sl_luahost.h"
#include "sl_time.h"

struct sl_luaruntime {
    lua_State *L;
    struct event_base *base;
    sl_http_client *http;
    sl_transport transport;  /* of every request; strings borrowed */
    unsigned long max_instructions;
    int no_network;          /* sluice.http.request raises instead */
    sl_luaruntime_task *tasks;    /* running (and cancelled-but-waiting) tasks */
    sl_luaruntime_task *current;  /* the task being resumed right now */
    struct event *settle_ev; /* reports tasks that ended inside start */
    struct {
        int ref; /* 0: free */
        sl_luaruntime_tally t;
    } tallies[SL_LUARUNTIME_TALLIES]; /* per function called */
};

struct sl_luaruntime_task {
    sl_luaruntime_task *prev, *next;
    sl_luaruntime *rt;
    lua_State *co;
    int co_ref;
    int fn_ref;              /* the function called (its tally) */
    uint64_t t0_us;          /* when it started */
    int overran;             /* the budget ran out */
    unsigned long steps;     /* hook calls left */
    sl_luaruntime_done_fn done;
    void *ud;
    int cancelled;           /* freed when its pending transfer completes */
    int starting;            /* inside sl_luaruntime_start: done must wait */
    int settled;             /* ended inside start; reported by settle_ev */
    int nres;                /* settled: results on co's stack */
    int failed;              /* settled: with the reason in err */
    char err[512];
    int http_pending;        /* a transfer runs for the task */
    struct event *timer;     /* sluice.sleep */
    /* the pending HTTP request's storage */
    char *url, *method, *body;
    size_t body_len;
    struct curl_slist *headers;
};

/* Its address is the registry key of the state's runtime (light userdata). */
static const char RUNTIME_KEY = 'r';

/* The runtime of co's state, or NULL when none is running. [-0, +0, -] */
static sl_luaruntime *runtime_of(lua_State *co)
{
    lua_rawgetp(co, LUA_REGISTRYINDEX, &RUNTIME_KEY);  /* rt|nil */
    sl_luaruntime *rt = lua_touserdata(co, -1);
    lua_pop(co, 1);                                    /* */
    return rt;
}

/* Free the pending request's storage. */
static void request_clear(sl_luaruntime_task *t)
{
    free(t->url);
    free(t->method);
    free(t->body);
    curl_slist_free_all(t->headers);
    t->url = t->method = t->body = NULL;
    t->headers = NULL;
    t->http_pending = 0;
}

static void task_free(sl_luaruntime_task *t)
{
    sl_luaruntime *rt = t->rt;
    if (t->prev)
        t->prev->next = t->next;
    else
        rt->tasks = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (t->timer)
        event_free(t->timer);
    request_clear(t);
    luaL_unref(rt->L, LUA_REGISTRYINDEX, t->co_ref);
    free(t);
}

/* Count hook on every task coroutine: the budget of the current task. */
static void count_hook(lua_State *co, lua_Debug *ar)
{
    (void)ar;
    sl_luaruntime *rt = runtime_of(co);
    sl_luaruntime_task *t = rt ? rt->current : NULL;
    if (!t || t->co != co)
        return;
    if (t->steps > 0)
        t->steps--;
    if (t->steps == 0) {
        /* keep failing at every instruction, so that a pcall in the
         * script cannot swallow the limit and run on */
        lua_sethook(co, count_hook, LUA_MASKCOUNT, 1);
        t->overran = 1;
        luaL_error(co, "instruction limit exceeded");
    }
}

/* The task ended (err NULL: nres results on co's stack). Inside
 * sl_luaruntime_start the outcome is kept and reported from the loop, so that
 * `done` never runs while the caller of start still uses what `done` may
 * free (a delivery batch); otherwise `done` runs now. Returns 1 when t is
 * finished and freed, 0 when it waits to be reported. */
/* Count the ended call t in its function's tally. */
static void tally(sl_luaruntime_task *t, int failed)
{
    sl_luaruntime *rt = t->rt;
    for (size_t i = 0; i < SL_LUARUNTIME_TALLIES; i++) {
        if (rt->tallies[i].ref != t->fn_ref && rt->tallies[i].ref != 0)
            continue;
        rt->tallies[i].ref = t->fn_ref;
        sl_luaruntime_tally *y = &rt->tallies[i].t;
        y->calls++;
        y->errors += failed != 0;
        y->overruns += t->overran;
        y->time_us += sl_time_mono_us() - t->t0_us;
        return;
    }
}

sl_luaruntime_tally sl_luaruntime_tally_of(const sl_luaruntime *rt,
                                           int fn_ref)
{
    for (size_t i = 0; rt && fn_ref > 0 && i < SL_LUARUNTIME_TALLIES; i++)
        if (rt->tallies[i].ref == fn_ref)
            return rt->tallies[i].t;
    return (sl_luaruntime_tally){0};
}

static int end_task(sl_luaruntime_task *t, lua_State *co, int nres,
                    const char *err)
{
    tally(t, err != NULL);
    if (t->starting) {
        t->settled = 1;
        t->nres = nres;
        t->failed = err != NULL;
        if (err)
            snprintf(t->err, sizeof t->err, "%s", err);
        event_active(t->rt->settle_ev, EV_TIMEOUT, 0);
        return 0;
    }
    t->done(t->ud, co, nres, err);
    task_free(t);
    return 1;
}

/* Resume t's coroutine with nargs values on its stack; finish it unless
 * it yielded on a pending operation. Returns 1 when t finished (and is
 * freed), 0 while it waits (or waits to be reported). */
static int resume(sl_luaruntime_task *t, int nargs)
{
    sl_luaruntime *rt = t->rt;
    int nres = 0;
    rt->current = t;
    int st = lua_resume(t->co, rt->L, nargs, &nres);
    rt->current = NULL;
    if (st == LUA_YIELD) {
        if (t->http_pending || t->timer)
            return 0;
        lua_pop(t->co, nres);
        return end_task(t, t->co, 0, "yielded without a pending operation");
    }
    if (st == LUA_OK)
        return end_task(t, t->co, nres, NULL);
    const char *msg = lua_tostring(t->co, -1);
    char buf[512];
    sl_luahost_message(t->co, msg ? msg : "error object is not a string",
                       buf, sizeof buf);
    return end_task(t, t->co, 0, buf);
}

/* settle_ev: report the tasks that ended inside sl_luaruntime_start. */
static void on_settle(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_luaruntime *rt = arg;
    sl_luaruntime_task *t = rt->tasks;
    while (t) {
        sl_luaruntime_task *next = t->next;
        if (t->settled) {
            /* done may cancel or start other tasks: start over after it */
            t->settled = 0;
            t->done(t->ud, t->co, t->nres, t->failed ? t->err : NULL);
            task_free(t);
            next = rt->tasks;
        }
        t = next;
    }
}

typedef struct setup_ctx {
    sl_luaruntime_task *t;
    int fn_ref;
    sl_luaruntime_args_fn args;
    void *ud;
} setup_ctx;

/* Protected: create and anchor the coroutine, push function and args. */
static int setup_task(lua_State *L)
{
    setup_ctx *s = lua_touserdata(L, 1);
    lua_State *co = lua_newthread(L);                 /* ctx co */
    s->t->co = co;
    s->t->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);     /* ctx */
    lua_rawgeti(co, LUA_REGISTRYINDEX, s->fn_ref);    /* co: fn */
    s->args(co, s->ud);                               /* co: fn args... */
    return 0;
}

sl_luaruntime_task *sl_luaruntime_start(sl_luaruntime *rt, int fn_ref,
                                        sl_luaruntime_args_fn args, int nargs,
                                        sl_luaruntime_done_fn done, void *ud)
{
    sl_luaruntime_task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->rt = rt;
    t->co_ref = LUA_NOREF;
    t->done = done;
    t->ud = ud;
    t->fn_ref = fn_ref;
    t->t0_us = sl_time_mono_us();
    t->starting = 1;
    t->steps = rt->max_instructions / SL_LUAHOST_HOOK_STEP + 1;
    t->next = rt->tasks;
    if (rt->tasks)
        rt->tasks->prev = t;
    rt->tasks = t;
    setup_ctx s = {.t = t, .fn_ref = fn_ref, .args = args, .ud = ud};
    lua_pushcfunction(rt->L, setup_task);             /* f */
    lua_pushlightuserdata(rt->L, &s);                 /* f ctx */
    if (lua_pcall(rt->L, 1, 0, 0) != LUA_OK) {        /* err */
        const char *msg = lua_tostring(rt->L, -1);
        (void)end_task(t, NULL, 0, msg ? msg : "cannot start the Lua call");
        lua_pop(rt->L, 1);
    } else {
        lua_sethook(t->co, count_hook, LUA_MASKCOUNT, SL_LUAHOST_HOOK_STEP);
        (void)resume(t, nargs);
    }
    t->starting = 0;
    return t;
}

void sl_luaruntime_cancel(sl_luaruntime_task *t)
{
    if (!t)
        return;
    if (t->http_pending) {
        t->cancelled = 1; /* freed when the transfer completes */
        return;
    }
    task_free(t); /* a settled task is never reported */
}

/* ---- sluice.sleep(ms) -------------------------------------------------- */

/* The task that runs co, or a Lua error naming `what` when co is not a
 * task of a running runtime (a file loading, a transform, sluice check). */
static sl_luaruntime_task *task_of(lua_State *co, const char *what)
{
    sl_luaruntime *rt = runtime_of(co);
    sl_luaruntime_task *t = rt ? rt->current : NULL;
    if (!t || t->co != co || !lua_isyieldable(co))
        luaL_error(co, "%s is only available in headers_fn or response_fn "
                   "while sluice runs", what);
    return t;
}

static void on_sleep_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_luaruntime_task *t = arg;
    event_free(t->timer);
    t->timer = NULL;
    (void)resume(t, 0);
}

int sl_luaruntime_sleep(lua_State *co)
{
    lua_Integer ms = luaL_checkinteger(co, 1);
    sl_luaruntime_task *t = task_of(co, "sluice.sleep");
    if (ms < 0)
        ms = 0;
    t->timer = evtimer_new(t->rt->base, on_sleep_done, t);
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    if (!t->timer || evtimer_add(t->timer, &tv) != 0)
        return luaL_error(co, "sluice.sleep: cannot arm a timer");
    return lua_yield(co, 0);
}

/* ---- sluice.http.request{...} ------------------------------------------ */

typedef struct response_ctx {
    const sl_http_client_response *res;
} response_ctx;

/* Protected, on the main thread: the values http.request returns. */
static int build_response(lua_State *L)
{
    const sl_http_client_response *r =
        ((response_ctx *)lua_touserdata(L, 1))->res;
    lua_settop(L, 0);
    if (r->status == 0) {
        lua_pushnil(L);                                  /* nil */
        lua_pushstring(L, r->error);                     /* nil err */
        return 2;
    }
    lua_createtable(L, 0, 3);                            /* resp */
    lua_pushinteger(L, r->status);
    lua_setfield(L, -2, "status");                       /* resp.status = */
    lua_pushlstring(L, r->body, r->body_len);
    lua_setfield(L, -2, "body");                         /* resp.body = */
    lua_newtable(L);                                     /* resp hdrs */
    const char *p = r->headers, *end = r->headers + r->headers_len;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *le = eol ? eol : end;
        const char *colon = memchr(p, ':', (size_t)(le - p));
        if (colon) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (const char *q = p; q < colon; q++)
                luaL_addchar(&b, (char)(*q >= 'A' && *q <= 'Z' ? *q + 32 : *q));
            luaL_pushresult(&b);                         /* resp hdrs name */
            const char *v = colon + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' '))
                ve--;
            lua_pushlstring(L, v, (size_t)(ve - v));     /* resp hdrs name v */
            lua_rawset(L, -3);                           /* hdrs[name] = v */
        }
        p = eol ? eol + 1 : end;
    }
    lua_setfield(L, -2, "headers");                      /* resp */
    return 1;
}

static void on_http_done(void *ud, const sl_http_client_response *res)
{
    sl_luaruntime_task *t = ud;
    sl_luaruntime *rt = t->rt;
    request_clear(t);
    if (t->cancelled) {
        task_free(t);
        return;
    }
    response_ctx c = {.res = res};
    int base = lua_gettop(rt->L);
    lua_pushcfunction(rt->L, build_response);
    lua_pushlightuserdata(rt->L, &c);
    int nvals;
    if (lua_pcall(rt->L, 1, LUA_MULTRET, 0) != LUA_OK) {
        /* out of memory building the answer: report it as a failure */
        lua_settop(rt->L, base);
        lua_pushnil(rt->L);
        lua_pushliteral(rt->L, "out of memory");
    }
    nvals = lua_gettop(rt->L) - base;
    if (!lua_checkstack(t->co, nvals)) {
        lua_settop(rt->L, base);
        nvals = 0;
    } else {
        lua_xmove(rt->L, t->co, nvals);
    }
    (void)resume(t, nvals);
}

static char *dup_field(lua_State *co, int idx, const char *name, int required)
{
    lua_getfield(co, idx, name);                         /* v */
    const char *v = lua_tostring(co, -1);
    if (!v && required)
        luaL_error(co, "sluice.http.request: '%s' is required", name);
    char *r = v ? strdup(v) : NULL;
    lua_pop(co, 1);
    return r;
}

int sl_luaruntime_http_request(lua_State *co)
{
    luaL_checktype(co, 1, LUA_TTABLE);
    sl_luaruntime_task *t = task_of(co, "sluice.http.request");
    request_clear(t);
    if (t->rt->no_network) {
        lua_getfield(co, 1, "url");                      /* url */
        const char *u = lua_tostring(co, -1);
        return luaL_error(co, "sluice.http.request to %s was not made: "
                          "--no-network", u ? u : "(no url)");
    }
    t->url = dup_field(co, 1, "url", 1);
    t->method = dup_field(co, 1, "method", 0);
    if (!t->method)
        t->method = strdup("GET");
    for (char *m = t->method; m && *m; m++)
        if (*m >= 'a' && *m <= 'z')
            *m = (char)(*m - 32);
    lua_getfield(co, 1, "body");                         /* body */
    size_t blen = 0;
    const char *b = lua_tolstring(co, -1, &blen);
    if (b) {
        t->body = malloc(blen ? blen : 1);
        if (t->body)
            memcpy(t->body, b, blen);
        t->body_len = blen;
    }
    lua_pop(co, 1);
    lua_getfield(co, 1, "headers");                      /* hdrs */
    if (lua_istable(co, -1)) {
        lua_pushnil(co);
        while (lua_next(co, -2)) {                       /* hdrs k v */
            if (lua_type(co, -2) != LUA_TSTRING ||
                lua_type(co, -1) != LUA_TSTRING)
                return luaL_error(co, "sluice.http.request: header names and "
                                  "values must be strings");
            size_t vlen;
            const char *k = lua_tostring(co, -2);
            const char *v = lua_tolstring(co, -1, &vlen);
            char line[8192];
            int len = snprintf(line, sizeof line, "%s: %s", k, v);
            if (!sl_header_name_ok(k) || !sl_header_value_ok(v, vlen) ||
                len < 0 || (size_t)len >= sizeof line)
                return luaL_error(co, "sluice.http.request: invalid header "
                                  "\"%s\"", k);
            struct curl_slist *n = curl_slist_append(t->headers, line);
            if (!n)
                return luaL_error(co, "sluice.http.request: out of memory");
            t->headers = n;
            lua_pop(co, 1);                              /* hdrs k */
        }
    }
    lua_pop(co, 1);
    lua_getfield(co, 1, "timeout_ms");
    long timeout = (long)luaL_optinteger(co, -1, 10000);
    lua_pop(co, 1);
    if (!t->url || !t->method || (b && !t->body))
        return luaL_error(co, "sluice.http.request: out of memory");
    struct curl_slist *n = curl_slist_append(t->headers, "Expect:");
    if (n)
        t->headers = n;
    sl_http_client_request req = {
        .method = t->method, .url = t->url, .headers = t->headers,
        .body = t->body, .body_len = t->body_len, .timeout_ms = timeout,
        .want_headers = 1, .transport = &t->rt->transport,
    };
    if (sl_http_client_send(t->rt->http, &req, on_http_done, t) != 0) {
        request_clear(t);
        lua_pushnil(co);
        lua_pushliteral(co, "cannot start the request");
        return 2;
    }
    t->http_pending = 1;
    return lua_yield(co, 0);
}

/* ---- setup --------------------------------------------------------------- */

/* Protected (the registry may grow past the memory cap): registry[key] =
 * the runtime at index 1, or nil. */
static int set_runtime(lua_State *L)
{
    lua_settop(L, 1);                                  /* rt|nil */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &RUNTIME_KEY);   /* registry[key] = */
    return 0;
}

sl_luaruntime *sl_luaruntime_new(lua_State *L, struct event_base *base,
                                 sl_http_client *http,
                                 unsigned long max_instructions, char *err,
                                 size_t errlen)
{
    sl_luaruntime *rt = calloc(1, sizeof *rt);
    if (!rt)
        goto fail;
    rt->L = L;
    rt->base = base;
    rt->http = http;
    sl_transport_init(&rt->transport);
    rt->max_instructions = max_instructions ? max_instructions : 1000000;
    rt->settle_ev = event_new(base, -1, 0, on_settle, rt);
    if (!rt->settle_ev || !lua_checkstack(L, 2))
        goto fail;
    lua_pushcfunction(L, set_runtime);                 /* f */
    lua_pushlightuserdata(L, rt);                      /* f rt */
    if (lua_pcall(L, 1, 0, 0) != LUA_OK) {             /* msg */
        lua_pop(L, 1);                                 /* */
        goto fail;
    }
    return rt;
fail:
    snprintf(err, errlen, "out of memory");
    if (rt && rt->settle_ev)
        event_free(rt->settle_ev);
    free(rt);
    return NULL;
}

void sl_luaruntime_set_transport(sl_luaruntime *rt, const sl_transport *t)
{
    if (t)
        rt->transport = *t;
    else
        sl_transport_init(&rt->transport);
    rt->transport.tls.server_name = NULL;
}

void sl_luaruntime_set_no_network(sl_luaruntime *rt, int off)
{
    rt->no_network = off != 0;
}

void sl_luaruntime_free(sl_luaruntime *rt)
{
    if (!rt)
        return;
    while (rt->tasks)
        task_free(rt->tasks);
    if (rt->settle_ev)
        event_free(rt->settle_ev);
    /* an existing key is set to nil: that never allocates */
    lua_pushnil(rt->L);                                /* nil */
    lua_rawsetp(rt->L, LUA_REGISTRYINDEX, &RUNTIME_KEY); /* registry[key] = */
    free(rt);
}
