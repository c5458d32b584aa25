/* Unit tests for sl_delivery, driven on a real event loop against a
 * destination in the same loop (libevent's evhttp on 127.0.0.1), with an
 * in-memory spool, a real dead-letter store and a fake clock: batch
 * cutting (max_records, max_bytes, max_delay_ms, whichever comes first),
 * every class of answer as the destination and the dead letters see it,
 * and the regressions of callbacks that freed a batch under its caller. */
#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <lauxlib.h>

#include "sl_delivery.h"
#include "sl_dlq.h"
#include "sl_log.h"
#include "sl_luahost.h"
#include "sl_luastd.h"
#include "sl_test.h"
#include "sl_time.h"

#define NOW_MS 1795687200000 /* 2026-11-26T10:00:00Z */
#define MAX_SEEN 64

/* ---- a fake clock ------------------------------------------------------ */

typedef struct fake_clock {
    uint64_t mono;  /* what the next read returns, less `step` */
    int64_t wall;
    uint64_t step;  /* added before each monotonic read */
} fake_clock;

static uint64_t fake_mono(void *ud)
{
    fake_clock *f = ud;
    f->mono += f->step;
    return f->mono;
}

static int64_t fake_wall(void *ud) { return ((fake_clock *)ud)->wall; }

/* ---- the destination --------------------------------------------------- */

typedef struct seen {
    char body[512];
    size_t records;      /* NDJSON lines */
    char key[160];       /* Idempotency-Key */
    char attempt[16];    /* X-Attempt, set by the tests' headers_fn */
    uint64_t at_ms;      /* real monotonic time it arrived */
} seen;

typedef struct dest {
    struct evhttp *http;
    int port;
    seen req[MAX_SEEN];
    size_t n;
    int script[16];      /* answers in order, then the rules below */
    size_t nscript, next;
    const char *retry_after; /* with the scripted answers */
    const char *reject;  /* 400 for a body that contains this */
    size_t too_large;    /* 413 for a body of more records than this */
} dest;

static void on_request(struct evhttp_request *req, void *arg)
{
    dest *t = arg;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    seen *s = &t->req[t->n < MAX_SEEN ? t->n : MAX_SEEN - 1];
    size_t len = evbuffer_get_length(in);
    if (len >= sizeof s->body)
        len = sizeof s->body - 1;
    evbuffer_remove(in, s->body, len);
    s->body[len] = '\0';
    s->records = 0;
    for (const char *p = s->body; (p = strchr(p, '\n')); p++)
        s->records++;
    struct evkeyvalq *h = evhttp_request_get_input_headers(req);
    const char *k = evhttp_find_header(h, "Idempotency-Key");
    const char *a = evhttp_find_header(h, "X-Attempt");
    snprintf(s->key, sizeof s->key, "%s", k ? k : "");
    snprintf(s->attempt, sizeof s->attempt, "%s", a ? a : "");
    s->at_ms = sl_time_mono_ms();
    t->n++;
    int status = 200;
    struct evbuffer *out = evbuffer_new();
    if (t->next < t->nscript) {
        status = t->script[t->next++];
        if (t->retry_after)
            evhttp_add_header(evhttp_request_get_output_headers(req),
                              "Retry-After", t->retry_after);
    } else if (t->reject && strstr(s->body, t->reject)) {
        status = 400;
    } else if (t->too_large && s->records > t->too_large) {
        status = 413;
    }
    evbuffer_add_printf(out, status == 200 ? "ok" : "bad record");
    evhttp_send_reply(req, status, "X", out);
    evbuffer_free(out);
}

static void script(dest *t, const int *statuses, size_t n)
{
    memcpy(t->script, statuses, n * sizeof *statuses);
    t->nscript = n;
    t->next = 0;
}

/* ---- the rig: delivery with everything it needs ---------------------------- */

typedef struct rig {
    struct event_base *base;
    dest dest;
    sl_http_client *http;
    lua_State *L;
    sl_luaruntime *rt;
    sl_connector_conf conf;
    char url[64];
    sl_spool *spool;
    char dir[64];
    sl_dlq *dlq;
    sl_stats stats;
    fake_clock clock;
    sl_time_clock tc;
    sl_delivery *d;
} rig;

/* Set up the loop, the destination and a connector conf with short
 * retries; the test adjusts conf, then calls rig_start. */
static int rig_init(rig *r)
{
    memset(r, 0, sizeof *r);
    r->base = event_base_new();
    r->dest.http = evhttp_new(r->base);
    struct evhttp_bound_socket *sock =
        evhttp_bind_socket_with_handle(r->dest.http, "127.0.0.1", 0);
    if (!sock)
        return -1;
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(sock), (struct sockaddr *)&sin,
                &slen);
    r->dest.port = ntohs(sin.sin_port);
    evhttp_set_gencb(r->dest.http, on_request, &r->dest);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%d/in", r->dest.port);
    r->conf = (sl_connector_conf){
        .name = "crm", .url = r->url, .method = "POST",
        .body = SL_BODY_NDJSON, .batch_max_records = 100,
        .batch_max_bytes = 1 << 20, .batch_max_delay_ms = 10,
        .timeout_ms = 5000, .concurrency = 1, .retry_base_ms = 1,
        .retry_max_ms = 2, .retry_max_elapsed_s = 3600,
        .on_permanent = SL_ON_PERMANENT_BISECT,
        .idempotency_header = "Idempotency-Key",
        .durability = SL_DURABILITY_MEMORY,
        .transform_ref = LUA_NOREF, .headers_fn_ref = LUA_NOREF,
        .lua_max_instructions = 1000000,
    };
    r->clock = (fake_clock){.mono = 1000000, .wall = NOW_MS};
    r->tc = (sl_time_clock){fake_mono, fake_wall, &r->clock};
    snprintf(r->dir, sizeof r->dir, "/tmp/sl_test_delivery.XXXXXX");
    return mkdtemp(r->dir) ? 0 : -1;
}

/* Open the sender; headers_fn is Lua source that returns the function, or
 * NULL for none. */
static int rig_start(rig *r, const char *headers_fn)
{
    char err[256] = "";
    if (!(r->http = sl_http_client_new(r->base, err, sizeof err)))
        goto fail;
    if (headers_fn) {
        /* the connector's state, as sl_connector makes it run */
        if (!(r->L = sl_luastd_new(0, err, sizeof err)))
            goto fail;
        if (luaL_loadstring(r->L, headers_fn) != LUA_OK ||
            sl_luahost_pcall(r->L, 0, 1, 0, err, sizeof err) != LUA_OK)
            goto fail;
        r->conf.headers_fn_ref = luaL_ref(r->L, LUA_REGISTRYINDEX);
        r->conf.L = r->L;
        if (!(r->rt = sl_luaruntime_new(r->L, r->base, r->http, 1000000, err,
                                        sizeof err)) ||
            sl_luastd_open_loop(r->L, err, sizeof err) != 0)
            goto fail;
    }
    sl_spool_opts so = {.name = "crm", .durability = SL_DURABILITY_MEMORY,
                        .max_bytes = 1 << 20};
    if (!(r->spool = sl_spool_open(r->base, &so, err, sizeof err)) ||
        !(r->dlq = sl_dlq_open(r->dir, err, sizeof err)) ||
        !(r->d = sl_delivery_new(r->base, r->http, r->rt, &r->conf, r->spool,
                                 r->dlq, &r->stats, &r->tc, err,
                                 sizeof err)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "rig_start: %s\n", err);
    return -1;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rig_free(rig *r)
{
    sl_http_client_free(r->http); /* no transfer completes after this */
    sl_delivery_free(r->d);
    sl_luaruntime_free(r->rt);
    sl_luahost_free(r->L);
    sl_spool_close(r->spool);
    sl_dlq_close(r->dlq);
    if (r->dest.http)
        evhttp_free(r->dest.http);
    event_base_free(r->base);
    if (r->dir[0])
        nftw(r->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Append the records {"i":first} .. {"i":first+n-1} (10 bytes each for
 * first in 1000..9999) in one block, stamped with the fake clock's time,
 * and tell the sender. */
static void append(rig *r, int first, size_t n)
{
    sl_buf blk;
    sl_buf_init(&blk, 0);
    for (size_t i = 0; i < n; i++) {
        char rec[32];
        uint32_t len = (uint32_t)snprintf(rec, sizeof rec, "{\"i\":%d}",
                                          first + (int)i);
        sl_buf_append(&blk, (const char *)&len, 4);
        sl_buf_append(&blk, rec, len);
    }
    uint64_t ticket;
    CHECK(sl_spool_append(r->spool, &blk, n, r->clock.mono, &ticket) ==
          SL_SPOOL_OK);
    sl_buf_free(&blk);
    sl_delivery_notify(r->d);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Run the loop until cond(r) holds or `ms` of real time pass; cond(r). */
static int run_until(rig *r, int (*cond)(const rig *), unsigned ms)
{
    struct event *tick = event_new(r->base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, 2000};
    event_add(tick, &tv);
    uint64_t end = sl_time_mono_ms() + ms;
    while (!(cond && cond(r)) && sl_time_mono_ms() < end)
        event_base_loop(r->base, EVLOOP_ONCE);
    event_free(tick);
    return cond ? cond(r) : 1;
}

static void run_for(rig *r, unsigned ms) { run_until(r, NULL, ms); }

static int idle(const rig *r)
{
    return sl_delivery_pending(r->d) == 0 && sl_delivery_in_flight(r->d) == 0;
}

static size_t want_requests;
static int got_requests(const rig *r) { return r->dest.n >= want_requests; }

static int requests(rig *r, size_t n, unsigned ms)
{
    want_requests = n;
    return run_until(r, got_requests, ms);
}

/* ---- the dead letters as stored ---------------------------------------- */

typedef struct dead_seen {
    size_t n;
    char reason[8][512];
    char record[8][64];
    char first_attempt[8][40];
    char response[8][64];
    long status[8], attempts[8];
} dead_seen;

static void text(char *out, size_t cap, sl_dlq_text t)
{
    snprintf(out, cap, "%.*s", t.p ? (int)t.len : 0, t.p ? t.p : "");
}

static int collect(void *ud, const sl_dlq_stored *e, const char *line,
                   size_t n)
{
    (void)line;
    (void)n;
    dead_seen *s = ud;
    if (s->n == 8)
        return 1;
    text(s->reason[s->n], sizeof s->reason[0], e->reason);
    text(s->first_attempt[s->n], sizeof s->first_attempt[0],
         e->first_attempt);
    text(s->response[s->n], sizeof s->response[0], e->response);
    snprintf(s->record[s->n], sizeof s->record[0], "%.*s",
             (int)e->record_len, e->record);
    s->status[s->n] = e->status;
    s->attempts[s->n] = e->attempts;
    s->n++;
    return 0;
}

static dead_seen dead_letters(const rig *r)
{
    dead_seen s;
    memset(&s, 0, sizeof s);
    size_t bad = 0;
    char err[256];
    CHECK(sl_dlq_each(r->dir, -1, NULL, 0, collect, &s, &bad, err,
                      sizeof err) == 0);
    CHECK(bad == 0);
    return s;
}

/* ---- batch cutting --------------------------------------------------------- */

static void test_cut_max_records(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.batch_max_records = 3;
    if (rig_start(&r, NULL) != 0)
        goto out;
    append(&r, 1000, 7);
    CHECK(requests(&r, 2, 3000));
    CHECK_STR(r.dest.req[0].body, "{\"i\":1000}\n{\"i\":1001}\n{\"i\":1002}\n");
    CHECK_STR(r.dest.req[1].body, "{\"i\":1003}\n{\"i\":1004}\n{\"i\":1005}\n");
    /* the seventh waits for max_delay_ms, by the sender's clock: the real
     * delay timer fires, but the fake clock has not moved */
    run_for(&r, 60);
    CHECK(r.dest.n == 2);
    r.clock.mono += 10;
    CHECK(requests(&r, 3, 3000));
    CHECK_STR(r.dest.req[2].body, "{\"i\":1006}\n");
    CHECK(run_until(&r, idle, 3000));
    CHECK(r.stats.delivered == 7 && r.stats.requests == 3);
out:
    rig_free(&r);
}

/* NDJSON records of 11 bytes: 3 fit in 44 (33, plus one byte kept for a
 * closing bracket), a fourth would not. */
static void test_cut_max_bytes(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.batch_max_bytes = 44;
    r.conf.batch_max_records = 4; /* bytes come first */
    if (rig_start(&r, NULL) != 0)
        goto out;
    append(&r, 1000, 7);
    CHECK(requests(&r, 2, 3000));
    CHECK(r.dest.req[0].records == 3 && r.dest.req[1].records == 3);
    CHECK(strlen(r.dest.req[0].body) == 33);
    run_for(&r, 60);
    CHECK(r.dest.n == 2);
    r.clock.mono += 10;
    CHECK(requests(&r, 3, 3000));
    CHECK_STR(r.dest.req[2].body, "{\"i\":1006}\n");
out:
    rig_free(&r);
}

static void test_cut_max_delay(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.batch_max_delay_ms = 30;
    if (rig_start(&r, NULL) != 0)
        goto out;
    append(&r, 1000, 2);
    r.clock.mono += 29;
    run_for(&r, 80);
    CHECK(r.dest.n == 0);
    r.clock.mono += 1;
    CHECK(requests(&r, 1, 3000));
    CHECK(r.dest.req[0].records == 2);
    /* a full batch does not wait */
    r.conf.batch_max_records = 3;
    append(&r, 2000, 3);
    CHECK(requests(&r, 2, 3000));
    CHECK(r.dest.req[1].records == 3);
out:
    rig_free(&r);
}

/* ---- answers ------------------------------------------------------------------ */

/* 408, 429, 5xx: again, same key, until delivered. */
static void test_retried(void)
{
    rig r;
    if (rig_init(&r) != 0 || rig_start(&r, NULL) != 0)
        goto out;
    static const int s[] = {500, 408, 429, 503, 599};
    script(&r.dest, s, 5);
    append(&r, 1000, 2);
    r.clock.mono += 10;
    CHECK(requests(&r, 6, 3000));
    CHECK(run_until(&r, idle, 3000));
    for (size_t i = 1; i < 6; i++)
        CHECK_STR(r.dest.req[i].key, r.dest.req[0].key);
    CHECK(strncmp(r.dest.req[0].key, "crm-", 4) == 0);
    CHECK(r.stats.delivered == 2 && r.stats.failures == 5 &&
          r.stats.retries == 5 && r.stats.dead_lettered == 0);
    CHECK(dead_letters(&r).n == 0);
out:
    rig_free(&r);
}

static size_t want_failures;
static int got_failures(const rig *r)
{
    return r->stats.failures >= want_failures;
}

/* A transport failure is retried until max_elapsed_s (by the sender's
 * clock) has run out; then the records are dead letters. */
static void test_transport(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    /* a port nothing listens on: the destination's, closed */
    evhttp_free(r.dest.http);
    r.dest.http = NULL;
    r.conf.retry_max_elapsed_s = 1;
    if (rig_start(&r, NULL) != 0)
        goto out;
    append(&r, 1000, 1);
    r.clock.mono += 10;
    want_failures = 3;
    CHECK(run_until(&r, got_failures, 3000));
    CHECK(dead_letters(&r).n == 0); /* no time has passed */
    r.clock.mono += 1000;
    CHECK(run_until(&r, idle, 3000));
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 1);
    CHECK_STR(dl.record[0], "{\"i\":1000}");
    CHECK(dl.status[0] == 0 && dl.attempts[0] >= 4);
    CHECK_CONTAINS(dl.reason[0], "retry time (max_elapsed_s = 1) ran out; "
                                 "last: ");
    CHECK_STR(dl.first_attempt[0], "2026-11-26T10:00:00.000Z");
    CHECK(r.stats.dead_lettered == 1 && r.stats.delivered == 0);
out:
    rig_free(&r);
}

#define ATTEMPT_HEADERS                                                     \
    "return function(req) return {['X-Attempt'] = tostring(req.attempt)} " \
    "end"

/* 401/403: once more at once (no backoff: base_ms is a minute) with
 * headers made afresh; twice in a row is permanent. */
static void test_auth(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.retry_base_ms = r.conf.retry_max_ms = 60000;
    if (rig_start(&r, ATTEMPT_HEADERS) != 0)
        goto out;
    static const int once[] = {401};
    script(&r.dest, once, 1);
    append(&r, 1000, 1);
    r.clock.mono += 10;
    CHECK(requests(&r, 2, 2000));
    CHECK_STR(r.dest.req[0].attempt, "1");
    CHECK_STR(r.dest.req[1].attempt, "2");
    CHECK(run_until(&r, idle, 3000));
    CHECK(r.stats.delivered == 1);

    static const int twice[] = {403, 403};
    script(&r.dest, twice, 2);
    append(&r, 2000, 1);
    r.clock.mono += 10;
    CHECK(requests(&r, 4, 2000));
    CHECK(run_until(&r, idle, 3000));
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 1);
    CHECK_STR(dl.reason[0], "HTTP 403 twice in a row (permanent)");
    CHECK(dl.status[0] == 403 && dl.attempts[0] == 2);
    CHECK_STR(dl.record[0], "{\"i\":2000}");
    CHECK_STR(dl.response[0], "bad record");
    CHECK(r.dest.n == 4);
out:
    rig_free(&r);
}

/* 413 halves until the pieces fit; a single record too large is dead. */
static void test_too_large(void)
{
    rig r;
    if (rig_init(&r) != 0 || rig_start(&r, NULL) != 0)
        goto out;
    r.dest.too_large = 1;
    append(&r, 1000, 4);
    r.clock.mono += 10;
    CHECK(requests(&r, 7, 3000));
    CHECK(run_until(&r, idle, 3000));
    static const size_t want[] = {4, 2, 1, 1, 2, 1, 1};
    for (size_t i = 0; i < 7; i++)
        CHECK(r.dest.req[i].records == want[i]);
    CHECK_STR(r.dest.req[2].body, "{\"i\":1000}\n");
    CHECK_STR(r.dest.req[6].body, "{\"i\":1003}\n");
    CHECK(r.stats.delivered == 4 && r.stats.splits == 3);
    CHECK(dead_letters(&r).n == 0);

    static const int s[] = {413};
    script(&r.dest, s, 1);
    append(&r, 2000, 1);
    r.clock.mono += 10;
    CHECK(requests(&r, 8, 3000));
    CHECK(run_until(&r, idle, 3000));
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 1 && dl.status[0] == 413);
    CHECK_STR(dl.reason[0], "HTTP 413: a single record is too large for the "
                            "destination");
    CHECK(r.dest.n == 8);
out:
    rig_free(&r);
}

/* Other 4xx: bisected down to the failing record, the rest delivered. */
static void test_permanent_bisect(void)
{
    rig r;
    if (rig_init(&r) != 0 || rig_start(&r, NULL) != 0)
        goto out;
    r.dest.reject = "1002";
    append(&r, 1000, 4);
    r.clock.mono += 10;
    CHECK(requests(&r, 5, 3000));
    CHECK(run_until(&r, idle, 3000));
    static const size_t want[] = {4, 2, 2, 1, 1};
    for (size_t i = 0; i < 5; i++)
        CHECK(r.dest.req[i].records == want[i]);
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 1);
    CHECK_STR(dl.record[0], "{\"i\":1002}");
    CHECK_STR(dl.reason[0], "HTTP 400 (permanent)");
    CHECK(dl.status[0] == 400 && dl.attempts[0] == 1);
    CHECK(r.stats.delivered == 3 && r.stats.dead_lettered == 1);
    CHECK(r.dest.n == 5);
out:
    rig_free(&r);
}

/* With on_permanent = "dead_letter": the whole batch at once. */
static void test_permanent_dead_letter(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.on_permanent = SL_ON_PERMANENT_DEAD_LETTER;
    if (rig_start(&r, NULL) != 0)
        goto out;
    r.dest.reject = "1001";
    append(&r, 1000, 3);
    r.clock.mono += 10;
    CHECK(requests(&r, 1, 3000));
    CHECK(run_until(&r, idle, 3000));
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 3 && r.dest.n == 1);
    CHECK_STR(dl.record[0], "{\"i\":1000}");
    CHECK_STR(dl.record[2], "{\"i\":1002}");
    CHECK_STR(dl.reason[1], "HTTP 400 (permanent)");
out:
    rig_free(&r);
}

/* A Retry-After longer than max_ms (2 ms here) holds the retry back. */
static void test_retry_after(void)
{
    rig r;
    if (rig_init(&r) != 0 || rig_start(&r, NULL) != 0)
        goto out;
    static const int s[] = {503};
    script(&r.dest, s, 1);
    r.dest.retry_after = "1";
    append(&r, 1000, 1);
    r.clock.mono += 10;
    CHECK(requests(&r, 2, 3000));
    CHECK(r.dest.req[1].at_ms - r.dest.req[0].at_ms >= 950);
    CHECK(run_until(&r, idle, 3000));
out:
    rig_free(&r);
}

/* ---- regressions -------------------------------------------------------------- */

/* Commit 661f4bb: a headers_fn that fails at once, with the retry time
 * already run out, made done -> on_headers -> retry_or_bury -> finish free
 * the batch inside sl_luaruntime_start, and send_piece then wrote into it
 * (ASan: heap-use-after-free). The fake clock moves 10 s at every read, so
 * max_elapsed_s (1) has run out by the first failure: dead at once. */
static void test_headers_fn_fails_at_once(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    r.conf.retry_max_elapsed_s = 1;
    r.conf.batch_max_records = 1;
    r.clock.step = 10000;
    if (rig_start(&r, "return function(req) error('boom') end") != 0)
        goto out;
    append(&r, 1000, 1);
    CHECK(run_until(&r, idle, 3000));
    dead_seen dl = dead_letters(&r);
    CHECK(dl.n == 1);
    CHECK_STR(dl.record[0], "{\"i\":1000}");
    CHECK_CONTAINS(dl.reason[0], "retry time (max_elapsed_s = 1) ran out; "
                                 "last: ");
    CHECK_CONTAINS(dl.reason[0], "boom");
    CHECK(dl.status[0] == 0 && dl.attempts[0] == 1);
    CHECK_STR(dl.first_attempt[0], "2026-11-26T10:00:00.000Z");
    CHECK(r.dest.n == 0 && r.stats.dead_lettered == 1 &&
          r.stats.failures == 1);
out:
    rig_free(&r);
}

static int delivered_one(const rig *r) { return r->stats.delivered >= 1; }

/* sl_delivery_drain re-armed the retry timer of every batch not in
 * flight, also of one whose headers_fn was still running (here: asleep):
 * that started a second headers_fn for the same batch, which sent the
 * batch twice and reported into it after it was freed. */
static void test_drain_while_headers_fn_runs(void)
{
    rig r;
    if (rig_init(&r) != 0)
        goto out;
    if (rig_start(&r, "return function(req)\n"
                      "  if req.attempt > 1 then sluice.sleep(200) end\n"
                      "  return {['X-Attempt'] = tostring(req.attempt)}\n"
                      "end") != 0)
        goto out;
    static const int s[] = {500};
    script(&r.dest, s, 1);
    append(&r, 1000, 1);
    r.clock.mono += 10;
    CHECK(requests(&r, 1, 3000));
    run_for(&r, 50); /* attempt 2's headers_fn sleeps */
    CHECK(r.dest.n == 1);
    sl_delivery_drain(r.d);
    CHECK(run_until(&r, delivered_one, 3000));
    run_for(&r, 400); /* time for a second headers_fn to end */
    CHECK(r.dest.n == 2);
    CHECK_STR(r.dest.req[1].attempt, "2");
    CHECK(r.stats.requests == 2 && r.stats.delivered == 1);
    CHECK(idle(&r));
out:
    rig_free(&r);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
        {"cut_max_records", test_cut_max_records},
        {"cut_max_bytes", test_cut_max_bytes},
        {"cut_max_delay", test_cut_max_delay},
        {"retried", test_retried},
        {"transport", test_transport},
        {"auth", test_auth},
        {"too_large", test_too_large},
        {"permanent_bisect", test_permanent_bisect},
        {"permanent_dead_letter", test_permanent_dead_letter},
        {"retry_after", test_retry_after},
        {"headers_fn_fails_at_once", test_headers_fn_fails_at_once},
        {"drain_while_headers_fn_runs", test_drain_while_headers_fn_runs},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
