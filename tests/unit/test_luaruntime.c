/* Unit tests for sl_luaruntime on a real event loop: a task that ends at
 * once reports from the loop, never inside sl_luaruntime_start (and a
 * cancelled one never); sluice.sleep suspends one task while others run;
 * the instruction budget and Lua errors (file:line) end a task;
 * sluice.http.request against an evhttp server in this process, and a
 * refused connection; a task cancelled while its request is pending is
 * freed when the transfer completes; with no network, a request raises
 * and nothing reaches the server. Run under ASan for the frees. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_http_client.h"
#include "sl_luahost.h"
#include "sl_luaruntime.h"
#include "sl_luastd.h"
#include "sl_test.h"

#define FILE_NAME "conf/connectors/runtime_test.lua"

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the world: a loop, a client, a state and its runtime ------------- */

typedef struct world {
    struct event_base *base;
    sl_http_client *http;
    lua_State *L;
    sl_luaruntime *rt;
} world;

static int world_open(world *w, unsigned long max_instructions)
{
    char err[256];
    memset(w, 0, sizeof *w);
    w->base = event_base_new();
    w->http = w->base ? sl_http_client_new(w->base, err, sizeof err) : NULL;
    w->L = sl_luastd_new(0, err, sizeof err);
    CHECK(w->base && w->http && w->L);
    if (!w->base || !w->http || !w->L)
        return -1;
    CHECK(sl_luahost_set_file(w->L, FILE_NAME) == 0);
    w->rt = sl_luaruntime_new(w->L, w->base, w->http, max_instructions, err,
                              sizeof err);
    CHECK(w->rt != NULL);
    if (!w->rt)
        return -1;
    /* as the connector does once its runtime runs */
    CHECK(sl_luastd_open_loop(w->L, err, sizeof err) == 0);
    return 0;
}

/* In the order the gateway keeps: the client first, so that no transfer
 * completes into a freed task. */
static void world_close(world *w)
{
    sl_http_client_free(w->http);
    sl_luaruntime_free(w->rt);
    sl_luahost_free(w->L);
    if (w->base)
        event_base_free(w->base);
}

/* The function that `code` (a chunk loaded as the file) returns, as a
 * registry ref. */
static int function_ref(world *w, const char *code)
{
    char err[256];
    int st = luaL_loadbufferx(w->L, code, strlen(code), SL_LUAHOST_CHUNK,
                              "t");                              /* chunk */
    CHECK(st == LUA_OK);
    if (st != LUA_OK) {
        fprintf(stderr, "%s\n", lua_tostring(w->L, -1));
        lua_pop(w->L, 1);
        return LUA_NOREF;
    }
    CHECK(sl_luahost_pcall(w->L, 0, 1, 0, err, sizeof err) == LUA_OK); /* fn */
    CHECK(lua_isfunction(w->L, -1));
    return luaL_ref(w->L, LUA_REGISTRYINDEX);                     /* */
}

/* Run the loop until *flag is non-zero or `ms` have passed; a tick keeps
 * EVLOOP_ONCE from waiting for nothing. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

static void run_until(world *w, const int *flag, unsigned ms)
{
    struct event *tick = event_new(w->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    uint64_t end = now_ms() + ms;
    while (!*flag && now_ms() < end)
        event_base_loop(w->base, EVLOOP_ONCE);
    event_free(tick);
}

/* ---- what a task reported --------------------------------------------- */

typedef struct outcome {
    int calls;             /* times `done` ran */
    int nres;
    int stack_ok;          /* the results were on top of co's stack */
    char err[512];         /* "" on success */
    char results[512];     /* each result as text, joined by "|" */
    uint64_t at_ms;        /* when `done` ran */
    int id;                /* for the completion order */
    const char *arg;       /* url_arg pushes it */
} outcome;

static int completed[8], ncompleted;

static void on_done(void *ud, lua_State *co, int nres, const char *err)
{
    outcome *o = ud;
    o->calls++;
    o->nres = nres;
    o->at_ms = now_ms();
    snprintf(o->err, sizeof o->err, "%s", err ? err : "");
    o->stack_ok = co && lua_gettop(co) >= nres;
    o->results[0] = '\0';
    for (int i = nres; co && i >= 1; i--) {
        size_t n = strlen(o->results);
        const char *s = lua_type(co, -i) == LUA_TNIL ? "nil"
                        : lua_type(co, -i) == LUA_TBOOLEAN
                            ? (lua_toboolean(co, -i) ? "true" : "false")
                            : NULL;
        if (!s) {
            lua_pushvalue(co, -i);               /* v */
            s = lua_tostring(co, -1);
            snprintf(o->results + n, sizeof o->results - n, "%s%s",
                     n ? "|" : "", s ? s : "?");
            lua_pop(co, 1);                      /* */
        } else {
            snprintf(o->results + n, sizeof o->results - n, "%s%s",
                     n ? "|" : "", s);
        }
    }
    if (ncompleted < 8)
        completed[ncompleted++] = o->id;
}

static void no_args(lua_State *co, void *ud)
{
    (void)co;
    (void)ud;
}

/* The task's ud is its outcome, for the arguments too. */
static void url_arg(lua_State *co, void *ud)
{
    lua_pushstring(co, ((outcome *)ud)->arg);    /* url */
}

/* ---- tasks that end at once ------------------------------------------- */

static void test_settles_on_the_loop(void)
{
    world w;
    if (world_open(&w, 0) != 0)
        goto out;
    int fn = function_ref(&w, "return function() return 'a', 42, nil end");
    outcome o = {0};
    sl_luaruntime_task *t = sl_luaruntime_start(w.rt, fn, no_args, 0, on_done,
                                                &o);
    CHECK(t != NULL);
    CHECK(o.calls == 0);                 /* never inside start */
    event_base_loop(w.base, EVLOOP_NONBLOCK);
    CHECK(o.calls == 1);                 /* one loop turn later */
    CHECK(o.nres == 3 && o.stack_ok);
    CHECK_STR(o.results, "a|42|nil");
    CHECK_STR(o.err, "");
    event_base_loop(w.base, EVLOOP_NONBLOCK);
    CHECK(o.calls == 1);

    /* an error at once is reported the same way, with the file's name */
    int bad = function_ref(&w, "return function()\n  error('boom')\nend");
    outcome e = {0};
    CHECK(sl_luaruntime_start(w.rt, bad, no_args, 0, on_done, &e) != NULL);
    CHECK(e.calls == 0);
    event_base_loop(w.base, EVLOOP_NONBLOCK);
    CHECK(e.calls == 1 && e.nres == 0);
    CHECK_STR(e.err, FILE_NAME ":2: boom");
out:
    world_close(&w);
}

static void test_cancel_before_the_report(void)
{
    world w;
    if (world_open(&w, 0) != 0)
        goto out;
    int fn = function_ref(&w, "return function() return {1, 2, 3} end");
    outcome o = {0};
    sl_luaruntime_task *t = sl_luaruntime_start(w.rt, fn, no_args, 0, on_done,
                                                &o);
    CHECK(t != NULL);
    sl_luaruntime_cancel(t);
    event_base_loop(w.base, EVLOOP_NONBLOCK);
    CHECK(o.calls == 0);                 /* a cancelled task never reports */

    /* and leaves nothing behind: many of them cost no memory */
    lua_gc(w.L, LUA_GCCOLLECT);
    size_t before = sl_luahost_mem_used(w.L);
    for (int i = 0; i < 2000; i++) {
        t = sl_luaruntime_start(w.rt, fn, no_args, 0, on_done, &o);
        CHECK(t != NULL);
        sl_luaruntime_cancel(t);
    }
    event_base_loop(w.base, EVLOOP_NONBLOCK);
    lua_gc(w.L, LUA_GCCOLLECT);
    CHECK(o.calls == 0);
    CHECK(sl_luahost_mem_used(w.L) < before + 16384);
out:
    world_close(&w);
}

/* ---- sleep, budget, errors -------------------------------------------- */

static void test_sleep_lets_others_run(void)
{
    world w;
    if (world_open(&w, 0) != 0)
        goto out;
    int slow = function_ref(&w, "return function() sluice.sleep(80) "
                                "return 'slow' end");
    int quick = function_ref(&w, "return function() sluice.sleep(10) "
                                 "sluice.sleep(0) return 'quick' end");
    int now = function_ref(&w, "return function() return 'now' end");
    outcome a = {.id = 1}, b = {.id = 2}, c = {.id = 3};
    ncompleted = 0;
    uint64_t t0 = now_ms();
    CHECK(sl_luaruntime_start(w.rt, slow, no_args, 0, on_done, &a) != NULL);
    CHECK(sl_luaruntime_start(w.rt, quick, no_args, 0, on_done, &b) != NULL);
    CHECK(sl_luaruntime_start(w.rt, now, no_args, 0, on_done, &c) != NULL);
    CHECK(a.calls + b.calls + c.calls == 0);
    run_until(&w, &a.calls, 3000);
    CHECK(a.calls == 1 && b.calls == 1 && c.calls == 1);
    CHECK(ncompleted == 3 && completed[0] == 3 && completed[1] == 2 &&
          completed[2] == 1);
    CHECK_STR(a.results, "slow");
    CHECK_STR(b.results, "quick");
    CHECK(a.at_ms - t0 >= 75 && a.at_ms - t0 < 1500);
    CHECK(b.at_ms - t0 >= 8 && b.at_ms < a.at_ms);

    /* a sleeping task cancelled: its timer goes with it */
    outcome d = {0};
    sl_luaruntime_task *t = sl_luaruntime_start(w.rt, slow, no_args, 0,
                                                on_done, &d);
    CHECK(t != NULL);
    sl_luaruntime_cancel(t);
    int never = 0;
    run_until(&w, &never, 120);
    CHECK(d.calls == 0);
out:
    world_close(&w);
}

static void test_budget_and_errors(void)
{
    world w;
    if (world_open(&w, 20000) != 0)
        goto out;
    int spin = function_ref(&w, "return function() while true do end end");
    int swallow = function_ref(&w, "return function() while true do "
                                   "pcall(function() while true do end end) "
                                   "end end");
    int late = function_ref(&w, "return function()\n"
                                "  sluice.sleep(20)\n"
                                "  local n = 0\n"
                                "  while true do n = n + 1 end\n"
                                "end");
    int boom = function_ref(&w, "return function()\n"
                                "  sluice.sleep(1)\n"
                                "  local t = nil\n"
                                "  return t.x\n"
                                "end");
    outcome a = {0}, b = {0}, c = {0}, d = {0};
    CHECK(sl_luaruntime_start(w.rt, spin, no_args, 0, on_done, &a) != NULL);
    CHECK(sl_luaruntime_start(w.rt, swallow, no_args, 0, on_done, &b) != NULL);
    CHECK(sl_luaruntime_start(w.rt, late, no_args, 0, on_done, &c) != NULL);
    CHECK(sl_luaruntime_start(w.rt, boom, no_args, 0, on_done, &d) != NULL);
    run_until(&w, &c.calls, 3000);
    run_until(&w, &d.calls, 3000);
    CHECK(a.calls == 1 && b.calls == 1 && c.calls == 1 && d.calls == 1);
    CHECK_CONTAINS(a.err, "instruction limit exceeded");
    CHECK_CONTAINS(b.err, "instruction limit exceeded");
    CHECK_CONTAINS(c.err, "instruction limit exceeded"); /* after a resume */
    CHECK_STR(d.err, FILE_NAME ":4: attempt to index a nil value (local 't')");
    /* each function's tally: its calls, errors and overruns */
    sl_luaruntime_tally y = sl_luaruntime_tally_of(w.rt, spin);
    CHECK(y.calls == 1 && y.errors == 1 && y.overruns == 1);
    y = sl_luaruntime_tally_of(w.rt, late);
    CHECK(y.calls == 1 && y.errors == 1 && y.overruns == 1);
    /* it slept 20 ms first: its time is the wall time of the call. Only
     * half is asked for: libevent's timers run on its cached (and on
     * Linux, coarse) clock, which can be a few ms behind a fresh read */
    CHECK(y.time_us >= 10000);
    y = sl_luaruntime_tally_of(w.rt, boom);
    CHECK(y.calls == 1 && y.errors == 1 && y.overruns == 0);

    /* the state is still good for the next task */
    int ok = function_ref(&w, "return function() return 'fine' end");
    outcome e = {0};
    CHECK(sl_luaruntime_tally_of(w.rt, ok).calls == 0);
    CHECK(sl_luaruntime_start(w.rt, ok, no_args, 0, on_done, &e) != NULL);
    run_until(&w, &e.calls, 1000);
    CHECK_STR(e.results, "fine");
    y = sl_luaruntime_tally_of(w.rt, ok);
    CHECK(y.calls == 1 && y.errors == 0 && y.overruns == 0);
    CHECK(sl_luaruntime_tally_of(NULL, ok).calls == 0);
out:
    world_close(&w);
}

/* Where no task runs (a transform, a file loading) the loop's functions
 * raise, with the caller's file:line, as before issue 10. */
static void test_outside_a_task(void)
{
    world w;
    char err[512];
    if (world_open(&w, 0) != 0)
        goto out;
    const char *code = "\nsluice.sleep(5)";
    luaL_loadbufferx(w.L, code, strlen(code), SL_LUAHOST_CHUNK, "t");
    CHECK(sl_luahost_pcall(w.L, 0, 0, 0, err, sizeof err) == LUA_ERRRUN);
    CHECK_STR(err, FILE_NAME ":2: sluice.sleep is only available in "
                   "headers_fn or response_fn while sluice runs");
    code = "return sluice.http.request{url = 'http://127.0.0.1:1/'}";
    luaL_loadbufferx(w.L, code, strlen(code), SL_LUAHOST_CHUNK, "t");
    CHECK(sl_luahost_pcall(w.L, 0, 0, 0, err, sizeof err) == LUA_ERRRUN);
    CHECK_STR(err, FILE_NAME ":1: sluice.http.request is only available in "
                   "headers_fn or response_fn while sluice runs");
    /* inside a task but where it cannot yield (a sort comparator) */
    int fn = function_ref(&w, "return function() table.sort({2, 1}, "
                              "function(x, y) sluice.sleep(1) return x < y "
                              "end) end");
    outcome o = {0};
    CHECK(sl_luaruntime_start(w.rt, fn, no_args, 0, on_done, &o) != NULL);
    run_until(&w, &o.calls, 1000);
    CHECK_STR(o.err, FILE_NAME ":1: sluice.sleep is only available in "
                     "headers_fn or response_fn while sluice runs");
out:
    world_close(&w);
}

/* ---- sluice.http.request ---------------------------------------------- */

/* A destination in this process: "/slow" is answered `slow_ms` later,
 * anything else at once with 201, X-Test: yes and "hello <body>". */
typedef struct server {
    struct evhttp *http;
    int port;
    int requests;
    char method[16], body[256], x_req[64], uri[128];
    struct evhttp_request *held; /* /slow, not answered yet */
    int holding;                 /* held != NULL, for run_until */
    struct event *later;
    unsigned slow_ms;
} server;

static void answer(struct evhttp_request *req, int status, const char *body)
{
    struct evbuffer *out = evbuffer_new();
    evhttp_add_header(evhttp_request_get_output_headers(req), "X-Test", "yes");
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain");
    evbuffer_add(out, body, strlen(body));
    evhttp_send_reply(req, status, "Whatever", out);
    evbuffer_free(out);
}

static void on_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    server *s = arg;
    if (s->held)
        answer(s->held, 200, "late");
    s->held = NULL;
    s->holding = 0;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    server *s = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t n = evbuffer_get_length(in);
    const char *x = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "X-Req");
    s->requests++;
    snprintf(s->uri, sizeof s->uri, "%s", evhttp_request_get_uri(req));
    snprintf(s->method, sizeof s->method, "%s",
             evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST"
             : evhttp_request_get_command(req) == EVHTTP_REQ_GET ? "GET"
                                                                 : "OTHER");
    if (n >= sizeof s->body)
        n = sizeof s->body - 1;
    evbuffer_copyout(in, s->body, n);
    s->body[n] = '\0';
    snprintf(s->x_req, sizeof s->x_req, "%s", x ? x : "");
    if (strcmp(s->uri, "/slow") == 0) {
        struct timeval tv = {0, (suseconds_t)s->slow_ms * 1000};
        s->held = req;
        s->holding = 1;
        evtimer_add(s->later, &tv);
        return;
    }
    char text[300];
    snprintf(text, sizeof text, "hello %s", s->body);
    answer(req, 201, text);
}

static int server_open(server *s, struct event_base *base)
{
    memset(s, 0, sizeof *s);
    s->slow_ms = 150;
    s->http = evhttp_new(base);
    s->later = evtimer_new(base, on_later, s);
    struct evhttp_bound_socket *bs =
        s->http ? evhttp_bind_socket_with_handle(s->http, "127.0.0.1", 0)
                : NULL;
    CHECK(bs != NULL && s->later != NULL);
    if (!bs || !s->later)
        return -1;
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    CHECK(getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sa,
                      &len) == 0);
    s->port = ntohs(sa.sin_port);
    evhttp_set_gencb(s->http, on_request, s);
    return 0;
}

static void server_close(server *s)
{
    if (s->http)
        evhttp_free(s->http);
    if (s->later)
        event_free(s->later);
}

/* A port nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static const char *const REQUEST_FN =
    "return function(url)\n"
    "  local r, err = sluice.http.request{method = 'post', url = url,\n"
    "    headers = {['X-Req'] = 'one'}, body = 'ping', timeout_ms = 5000}\n"
    "  if not r then return nil, err end\n"
    "  return r.status, r.body, r.headers['x-test'],\n"
    "    r.headers['content-type']\n"
    "end";

static void test_http_request(void)
{
    world w;
    server s = {0};
    char url[128];
    if (world_open(&w, 0) != 0 || server_open(&s, w.base) != 0)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hello", s.port);
    int fn = function_ref(&w, REQUEST_FN);
    outcome o = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &o) != NULL);
    run_until(&w, &o.calls, 5000);
    CHECK(o.calls == 1);
    CHECK_STR(o.err, "");
    CHECK(o.nres == 4 && o.stack_ok);
    CHECK_STR(o.results, "201|hello ping|yes|text/plain");
    CHECK(s.requests == 1);
    CHECK_STR(s.method, "POST");
    CHECK_STR(s.uri, "/hello");
    CHECK_STR(s.body, "ping");
    CHECK_STR(s.x_req, "one");

    /* one request after the other in a task: the second starts while the
     * client's completion callback of the first is still on the stack
     * (and reuses its pooled handle) */
    int twice = function_ref(&w,
        "return function(url)\n"
        "  local a = sluice.http.request{url = url .. '?n=1'}\n"
        "  local b = sluice.http.request{url = url .. '?n=2', method = 'GET'}\n"
        "  return a.status, a.body, b.status, b.body\n"
        "end");
    outcome t = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, twice, url_arg, 1, on_done, &t) != NULL);
    run_until(&w, &t.calls, 5000);
    CHECK_STR(t.err, "");
    CHECK_STR(t.results, "201|hello |201|hello ");
    CHECK(s.requests == 3);
    CHECK_STR(s.method, "GET");
    CHECK_STR(s.uri, "/hello?n=2");
    CHECK(sl_http_client_running(w.http) == 0);
out:
    server_close(&s);
    world_close(&w);
}

static void test_http_refused(void)
{
    world w;
    char url[128];
    if (world_open(&w, 0) != 0)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
    int fn = function_ref(&w, REQUEST_FN);
    outcome o = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &o) != NULL);
    run_until(&w, &o.calls, 5000);
    CHECK(o.calls == 1);
    CHECK_STR(o.err, "");                /* not a Lua error: nil, why */
    CHECK(o.nres == 2);
    CHECK(strncmp(o.results, "nil|", 4) == 0 && strlen(o.results) > 4);
    CHECK_CONTAINS(o.results, "onnect");  /* "Couldn't connect ..." */
    /* a request that could not even be made is a Lua error in the task */
    int bad = function_ref(&w, "return function() "
                               "return sluice.http.request{} end");
    outcome b = {0};
    CHECK(sl_luaruntime_start(w.rt, bad, no_args, 0, on_done, &b) != NULL);
    run_until(&w, &b.calls, 1000);
    CHECK_STR(b.err, FILE_NAME ":1: sluice.http.request: 'url' is required");
out:
    world_close(&w);
}

/* --no-network: sluice.http.request raises (a Lua error with the URL,
 * which a pcall in the script may catch like any other) and the server
 * sees nothing; turned off again, requests are made. */
static void test_no_network(void)
{
    world w;
    server s = {0};
    char url[128];
    if (world_open(&w, 0) != 0 || server_open(&s, w.base) != 0)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/token", s.port);
    int fn = function_ref(&w, REQUEST_FN);
    sl_luaruntime_set_no_network(w.rt, 1);
    outcome o = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &o) != NULL);
    run_until(&w, &o.calls, 5000);
    CHECK(o.calls == 1);
    CHECK(o.nres == 0);
    char want[256];
    snprintf(want, sizeof want, "sluice.http.request to %s was not made: "
             "--no-network", url);
    CHECK_CONTAINS(o.err, want);
    CHECK_CONTAINS(o.err, FILE_NAME ":");
    int caught = function_ref(&w,
        "return function(url)\n"
        "  local ok, e = pcall(sluice.http.request, {url = url})\n"
        "  return ok, e\n"
        "end");
    outcome c = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, caught, url_arg, 1, on_done, &c) != NULL);
    run_until(&w, &c.calls, 5000);
    CHECK_STR(c.err, "");
    CHECK(strncmp(c.results, "false|", 6) == 0);
    CHECK_CONTAINS(c.results, "--no-network");
    CHECK(s.requests == 0);
    CHECK(sl_http_client_running(w.http) == 0);
    sl_luaruntime_set_no_network(w.rt, 0);
    outcome a = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &a) != NULL);
    run_until(&w, &a.calls, 5000);
    CHECK_STR(a.err, "");
    CHECK_STR(a.results, "201|hello ping|yes|text/plain");
    CHECK(s.requests == 1);
out:
    server_close(&s);
    world_close(&w);
}

/* The batch that ran headers_fn is gone (cancel) while its token request
 * is on the wire: nothing reports, and the task is freed when the
 * transfer completes, not before (the client still points at it). */
static void test_cancel_pending_request(void)
{
    world w;
    server s = {0};
    char url[128];
    if (world_open(&w, 0) != 0 || server_open(&s, w.base) != 0)
        goto out;
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", s.port);
    int fn = function_ref(&w, REQUEST_FN);
    outcome o = {.arg = url};
    sl_luaruntime_task *t = sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done,
                                                &o);
    CHECK(t != NULL);
    run_until(&w, &s.requests, 5000);    /* on the wire, answer pending */
    CHECK(s.requests == 1 && s.held != NULL);
    CHECK(sl_http_client_running(w.http) == 1);
    sl_luaruntime_cancel(t);
    int never = 0;
    uint64_t end = now_ms() + 5000;
    while (sl_http_client_running(w.http) > 0 && now_ms() < end)
        run_until(&w, &never, 20);
    CHECK(sl_http_client_running(w.http) == 0);
    CHECK(s.held == NULL);               /* answered; the task went then */
    CHECK(o.calls == 0);

    /* the runtime goes on */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/again", s.port);
    outcome a = {.arg = url};
    CHECK(sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &a) != NULL);
    run_until(&w, &a.calls, 5000);
    CHECK_STR(a.results, "201|hello ping|yes|text/plain");

    /* cancelled while pending and never completed: the runtime frees it
     * (after the client, which drops the transfer without a callback) */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/slow", s.port);
    s.slow_ms = 60000;
    outcome p = {.arg = url};
    t = sl_luaruntime_start(w.rt, fn, url_arg, 1, on_done, &p);
    run_until(&w, &s.holding, 5000);
    CHECK(s.held != NULL);
    sl_luaruntime_cancel(t);
    CHECK(p.calls == 0);
out:
    server_close(&s);
    world_close(&w);                     /* client, runtime, state, loop */
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"settles_on_the_loop", test_settles_on_the_loop},
        {"cancel_before_the_report", test_cancel_before_the_report},
        {"sleep_lets_others_run", test_sleep_lets_others_run},
        {"budget_and_errors", test_budget_and_errors},
        {"outside_a_task", test_outside_a_task},
        {"http_request", test_http_request},
        {"http_refused", test_http_refused},
        {"no_network", test_no_network},
        {"cancel_pending_request", test_cancel_pending_request},
        {NULL, NULL}};
    return sl_test_run(cases);
}
