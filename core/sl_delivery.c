/* sl_delivery: batching, sending and retrying for one connector. A batch
 * owns its body bytes from the moment it is cut until the destination
 * answers 2xx; retries resend the same bytes. Outstanding batches (in
 * flight or waiting to retry) are limited by `concurrency`, so a dead
 * destination backs records up in the queue, where its limit applies. */
#include "sl_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <lauxlib.h>

#include "sl_clock.h"
#include "sl_header.h"
#include "sl_log.h"

typedef struct batch {
    struct batch *prev, *next; /* sl_delivery.batches */
    sl_delivery *d;
    sl_buf body;
    size_t nrecords;
    uint64_t id;
    unsigned attempt;          /* attempts made so far */
    long last_status;          /* status of the last attempt; 0 = transport
                                  or headers_fn failure */
    int in_flight;
    struct event *retry_ev;
    sl_luart_task *task;       /* headers_fn running for this attempt */
    struct curl_slist *dyn_headers; /* this attempt's headers, with
                                       headers_fn */
} batch;

struct sl_delivery {
    struct event_base *base;
    sl_http *http;
    sl_luart *rt;               /* runs headers_fn; NULL without one */
    char id_prefix[48];         /* batch ids: <prefix>-<seq> */
    const sl_connector_conf *conf;
    sl_queue *q;
    sl_stats *stats;
    struct curl_slist *headers; /* without headers_fn: every attempt's */
    struct event *delay_timer;
    batch *batches;
    size_t nbatches;            /* outstanding batches */
    size_t pending;             /* records in outstanding batches */
    size_t in_flight;
    uint64_t next_id;
    uint64_t rng;               /* xorshift64 state for jitter */
    int draining;
};

static void pump(sl_delivery *d);
static struct curl_slist *build_headers(const sl_connector_conf *c,
                                        lua_State *co, char *why,
                                        size_t whylen);

static uint64_t rng_next(sl_delivery *d)
{
    uint64_t x = d->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return x;
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

sl_delivery *sl_delivery_new(struct event_base *base, sl_http *http,
                             sl_luart *rt, const sl_connector_conf *conf,
                             sl_queue *q, sl_stats *stats, char *err,
                             size_t errlen)
{
    sl_delivery *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    d->base = base;
    d->http = http;
    d->conf = conf;
    if (conf->headers_fn_ref != LUA_NOREF && conf->headers_fn_ref != LUA_REFNIL &&
        conf->L)
        d->rt = rt;
    d->q = q;
    d->stats = stats;
    d->rng = ((uint64_t)sl_mono_ms() << 20) ^ (uint64_t)getpid() ^
             (uint64_t)(uintptr_t)d ^ 0x9e3779b97f4a7c15ull;
    d->next_id = 1;
    snprintf(d->id_prefix, sizeof d->id_prefix, "%llx%05x",
             (unsigned long long)time(NULL), (unsigned)getpid() & 0xfffff);
    char why[160];
    if (!(d->headers = build_headers(conf, NULL, why, sizeof why))) {
        snprintf(err, errlen, "%s: %s", conf->name, why);
        goto fail;
    }
    if (!(d->delay_timer = evtimer_new(base, on_delay, d))) {
        snprintf(err, errlen, "cannot create timer");
        goto fail;
    }
    return d;
fail:
    sl_delivery_free(d);
    return NULL;
}

static void batch_free(batch *b)
{
    sl_luart_cancel(b->task);
    curl_slist_free_all(b->dyn_headers);
    if (b->retry_ev)
        event_free(b->retry_ev);
    sl_buf_free(&b->body);
    free(b);
}

static void batch_unlink(sl_delivery *d, batch *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else
        d->batches = b->next;
    if (b->next)
        b->next->prev = b->prev;
    d->nbatches--;
    d->pending -= b->nrecords;
}

void sl_delivery_free(sl_delivery *d)
{
    if (!d)
        return;
    while (d->batches) {
        batch *b = d->batches;
        batch_unlink(d, b);
        batch_free(b);
    }
    if (d->delay_timer)
        event_free(d->delay_timer);
    curl_slist_free_all(d->headers);
    free(d);
}

/* sl_queue_emit_fn: append one record to the body in the connector's form,
 * unless it would make the body pass max_bytes (a first record always
 * goes, however large, so that nothing can get stuck). */
static int emit_record(void *ud, const char *rec, size_t len)
{
    batch *b = ud;
    const sl_connector_conf *c = b->d->conf;
    size_t extra = len + (c->body == SL_BODY_OBJECT ? 0 : 1) +
                   (c->body == SL_BODY_ARRAY && b->nrecords == 0 ? 1 : 0);
    if (b->nrecords > 0 && b->body.len + extra + 1 > c->batch_max_bytes)
        return 1;
    if (sl_buf_reserve(&b->body, extra + 1) != 0)
        return 1;
    char *w = b->body.data + b->body.len;
    if (c->body == SL_BODY_ARRAY)
        *w++ = b->nrecords == 0 ? '[' : ',';
    memcpy(w, rec, len);
    w += len;
    if (c->body == SL_BODY_NDJSON)
        *w++ = '\n';
    b->body.len = (size_t)(w - b->body.data);
    b->nrecords++;
    return 0;
}

static void on_response(void *ud, const sl_http_response *res);
static void schedule_retry(batch *b, const sl_http_response *res);

/* Put the request on the wire with `headers`. */
static void transmit(batch *b, const struct curl_slist *headers)
{
    sl_delivery *d = b->d;
    sl_http_request req = {
        .method = d->conf->method,
        .url = d->conf->url,
        .headers = headers,
        .body = b->body.data,
        .body_len = b->body.len,
        .timeout_ms = (long)d->conf->timeout_ms,
    };
    d->stats->requests++;
    if (b->attempt > 1)
        d->stats->retries++;
    b->in_flight = 1;
    d->in_flight++;
    if (sl_http_send(d->http, &req, on_response, b) != 0) {
        /* could not even start: treat like a transport failure */
        sl_http_response r = {.status = 0, .curl_code = CURLE_OUT_OF_MEMORY,
                              .error = "cannot start request", .body = ""};
        on_response(b, &r);
    }
}

static void batch_id(const batch *b, char *out, size_t n)
{
    snprintf(out, n, "%s-%s-%llu", b->d->conf->name, b->d->id_prefix,
             (unsigned long long)b->id);
}

/* sl_luart_args_fn: headers_fn's `req`. */
static void push_req(lua_State *co, void *ud)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    char id[128];
    batch_id(b, id, sizeof id);
    lua_createtable(co, 0, 8);                             /* req */
    lua_pushlstring(co, b->body.data, b->body.len);
    lua_setfield(co, -2, "body");
    lua_pushinteger(co, (lua_Integer)b->nrecords);
    lua_setfield(co, -2, "records");
    lua_pushinteger(co, (lua_Integer)b->attempt);
    lua_setfield(co, -2, "attempt");
    lua_pushstring(co, id);
    lua_setfield(co, -2, "batch_id");
    if (b->attempt > 1) {
        lua_pushinteger(co, b->last_status);
        lua_setfield(co, -2, "last_status");
    }
    lua_pushstring(co, d->conf->method);
    lua_setfield(co, -2, "method");
    lua_pushstring(co, d->conf->url);
    lua_setfield(co, -2, "url");
    lua_pushstring(co, d->conf->name);
    lua_setfield(co, -2, "connector");                     /* req */
}

/* Does headers_fn's table (at the top of co) set `name` (false included)? */
static int overridden(lua_State *co, const char *name)
{
    int found = 0;
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        if (lua_type(co, -2) == LUA_TSTRING &&
            strcasecmp(lua_tostring(co, -2), name) == 0)
            found = 1;
        lua_pop(co, 1);                                    /* t k */
    }
    return found;
}

static int append(struct curl_slist **list, const char *name,
                  const char *value)
{
    char line[8192];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    struct curl_slist *t = curl_slist_append(*list, line);
    if (!t)
        return -1;
    *list = t;
    return 0;
}

/* headers_fn's table (top of co) appended to *list: string or integer
 * values; false sends no header of that name (it also removes a static
 * one). Reads without allocating in Lua. */
static int append_dynamic(struct curl_slist **list, lua_State *co, char *why,
                          size_t whylen)
{
    why[0] = '\0';
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        int vt = lua_type(co, -1);
        const char *k = lua_type(co, -2) == LUA_TSTRING ? lua_tostring(co, -2)
                                                        : NULL;
        char num[32];
        const char *v = NULL;
        if (vt == LUA_TSTRING)
            v = lua_tostring(co, -1);
        else if (vt == LUA_TNUMBER && lua_isinteger(co, -1)) {
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(co, -1));
            v = num;
        }
        if (!k)
            snprintf(why, whylen, "headers_fn: header names must be strings");
        else if (vt == LUA_TBOOLEAN && !lua_toboolean(co, -1))
            ; /* left out */
        else if (!sl_header_name_ok(k) || sl_header_reserved(k))
            snprintf(why, whylen, "headers_fn: header \"%.64s\" %s", k,
                     sl_header_reserved(k) ? "is set by sluice"
                                           : "is not a valid name");
        else if (!v)
            snprintf(why, whylen, "headers_fn: header \"%.64s\" must be a "
                     "string, got %s", k, luaL_typename(co, -1));
        else if (!sl_header_value_ok(v, strlen(v)) ||
                 (vt == LUA_TSTRING && lua_rawlen(co, -1) != strlen(v)))
            snprintf(why, whylen, "headers_fn: header \"%.64s\" has a line "
                     "break or NUL in its value", k);
        else if (append(list, k, v) != 0)
            snprintf(why, whylen, "headers_fn: header \"%.64s\" is too long "
                     "or out of memory", k);
        if (why[0]) {
            lua_pop(co, 2);
            return -1;
        }
        lua_pop(co, 1);                                    /* t k */
    }
    return 0;
}

/* An attempt's headers: the Content-Type of the body form, "Expect:" (curl
 * would otherwise wait for 100-continue on larger bodies), the static
 * headers, and — with co — headers_fn's table at the top of co, which
 * overrides static headers of the same name. NULL with a reason in why. */
static struct curl_slist *build_headers(const sl_connector_conf *c,
                                        lua_State *co, char *why,
                                        size_t whylen)
{
    struct curl_slist *list = NULL, *t;
    why[0] = '\0';
    if (append(&list, "Content-Type", c->body == SL_BODY_NDJSON
                                          ? "application/x-ndjson"
                                          : "application/json") != 0 ||
        !(t = curl_slist_append(list, "Expect:")))
        goto nomem;
    list = t;
    for (size_t i = 0; i < c->nheaders; i++)
        if ((!co || !overridden(co, c->headers[i].name)) &&
            append(&list, c->headers[i].name, c->headers[i].value) != 0)
            goto nomem;
    if (co && append_dynamic(&list, co, why, whylen) != 0)
        goto fail;
    return list;
nomem:
    snprintf(why, whylen, "out of memory building headers");
fail:
    curl_slist_free_all(list);
    return NULL;
}

/* sl_luart_done_fn for headers_fn. */
static void on_headers(void *ud, lua_State *co, int nres, const char *err)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    char why[320];
    b->task = NULL;
    if (!err && (nres < 1 || !lua_istable(co, -nres))) {
        snprintf(why, sizeof why, "headers_fn must return a table of headers");
        err = why;
    }
    if (!err) {
        if (nres > 1)
            lua_pop(co, nres - 1);
        curl_slist_free_all(b->dyn_headers);
        b->dyn_headers = build_headers(d->conf, co, why, sizeof why);
        if (!b->dyn_headers)
            err = why;
    }
    if (err) {
        char id[128];
        batch_id(b, id, sizeof id);
        d->stats->failures++;
        sl_warn("delivery", "batch %s attempt %u: %s", id, b->attempt, err);
        b->last_status = 0;
        sl_http_response r = {.status = 0, .error = err, .body = ""};
        schedule_retry(b, &r);
        return;
    }
    transmit(b, b->dyn_headers);
}

static void send_batch(batch *b)
{
    sl_delivery *d = b->d;
    b->attempt++;
    if (d->rt) {
        b->task = sl_luart_start(d->rt, d->conf->headers_fn_ref, push_req, 1,
                                 on_headers, b);
        return;
    }
    transmit(b, d->headers);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    send_batch(arg);
}

/* Backoff before attempt n+1: full jitter over base * 2^(n-1), capped at
 * max_ms; a Retry-After in seconds raises the floor. */
static uint64_t backoff_ms(sl_delivery *d, const batch *b,
                           const sl_http_response *res)
{
    uint64_t base = d->conf->retry_base_ms, cap = d->conf->retry_max_ms;
    uint64_t ceil = base;
    for (unsigned i = 1; i < b->attempt && ceil < cap; i++)
        ceil *= 2;
    if (ceil > cap)
        ceil = cap;
    uint64_t wait = ceil ? rng_next(d) % (ceil + 1) : 0;
    if (res->retry_after) {
        char *end;
        unsigned long s = strtoul(res->retry_after, &end, 10);
        if (end != res->retry_after && *end == '\0' && s < 86400 &&
            s * 1000 > wait)
            wait = s * 1000;
    }
    if (d->draining && wait > 250)
        wait = 250;
    return wait;
}

static void schedule_retry(batch *b, const sl_http_response *res)
{
    sl_delivery *d = b->d;
    uint64_t wait = backoff_ms(d, b, res);
    if (!b->retry_ev)
        b->retry_ev = evtimer_new(d->base, on_retry, b);
    struct timeval tv = {(time_t)(wait / 1000), (suseconds_t)(wait % 1000) * 1000};
    if (!b->retry_ev || evtimer_add(b->retry_ev, &tv) != 0) {
        /* no timer: retry at once rather than lose the batch */
        sl_error("delivery", "%s: cannot arm retry timer; retrying now",
                 d->conf->name);
        send_batch(b);
    }
}

static void on_response(void *ud, const sl_http_response *res)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    curl_slist_free_all(b->dyn_headers);
    b->dyn_headers = NULL;
    b->in_flight = 0;
    d->in_flight--;
    b->last_status = res->status;
    char id[128];
    batch_id(b, id, sizeof id);
    if (res->status >= 200 && res->status < 300) {
        d->stats->delivered += b->nrecords;
        if (b->attempt > 1)
            sl_info("delivery", "batch %s (%zu records) delivered after %u "
                    "attempts", id, b->nrecords, b->attempt);
        batch_unlink(d, b);
        batch_free(b);
        pump(d);
        return;
    }
    d->stats->failures++;
    if (res->status)
        sl_warn("delivery", "batch %s (%zu records) attempt %u: HTTP %ld: %.*s",
                id, b->nrecords, b->attempt, res->status,
                (int)(res->body_len < 200 ? res->body_len : 200), res->body);
    else
        sl_warn("delivery", "batch %s (%zu records) attempt %u: %s", id,
                b->nrecords, b->attempt, res->error);
    schedule_retry(b, res);
}

/* Take the next batch from the queue and send it. */
static int cut_batch(sl_delivery *d)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->d = d;
    b->id = d->next_id++;
    const sl_connector_conf *c = d->conf;
    size_t max_records = c->body == SL_BODY_OBJECT ? 1 : c->batch_max_records;
    size_t est = sl_queue_bytes(d->q) + sl_queue_count(d->q) + 2;
    sl_buf_init(&b->body, 0);
    if (sl_buf_reserve(&b->body, est < c->batch_max_bytes ? est
                                                          : c->batch_max_bytes) != 0) {
        free(b);
        return -1;
    }
    sl_queue_take(d->q, max_records, emit_record, b);
    if (b->nrecords == 0) {
        sl_buf_free(&b->body);
        free(b);
        return -1;
    }
    if (c->body == SL_BODY_ARRAY)
        sl_buf_putc(&b->body, ']'); /* room was reserved by emit_record */
    b->next = d->batches;
    if (d->batches)
        d->batches->prev = b;
    d->batches = b;
    d->nbatches++;
    d->pending += b->nrecords;
    send_batch(b);
    return 0;
}

/* Is a batch due now? Fills *wait_ms with the time until one is when not. */
static int batch_due(sl_delivery *d, uint64_t now, uint64_t *wait_ms)
{
    const sl_connector_conf *c = d->conf;
    size_t count = sl_queue_count(d->q);
    if (count == 0)
        return 0;
    if (d->draining || c->body == SL_BODY_OBJECT ||
        count >= c->batch_max_records ||
        sl_queue_bytes(d->q) + count + 1 >= c->batch_max_bytes)
        return 1;
    uint64_t due = sl_queue_oldest_ms(d->q) + c->batch_max_delay_ms;
    if (now >= due)
        return 1;
    *wait_ms = due - now;
    return 0;
}

static void pump(sl_delivery *d)
{
    uint64_t now = sl_mono_ms(), wait = 0;
    while (d->nbatches < d->conf->concurrency) {
        wait = 0;
        if (!batch_due(d, now, &wait))
            break;
        if (cut_batch(d) != 0) {
            sl_error("delivery", "%s: out of memory cutting a batch",
                     d->conf->name);
            wait = 100;
            break;
        }
    }
    if (wait > 0 && d->nbatches < d->conf->concurrency) {
        struct timeval tv = {(time_t)(wait / 1000),
                             (suseconds_t)(wait % 1000) * 1000};
        evtimer_add(d->delay_timer, &tv);
    } else {
        evtimer_del(d->delay_timer);
    }
}

void sl_delivery_notify(sl_delivery *d)
{
    if (d->nbatches < d->conf->concurrency)
        pump(d);
}

void sl_delivery_drain(sl_delivery *d)
{
    d->draining = 1;
    /* waiting retries go again soon */
    for (batch *b = d->batches; b; b = b->next)
        if (!b->in_flight && b->retry_ev) {
            struct timeval tv = {0, 50 * 1000};
            evtimer_add(b->retry_ev, &tv);
        }
    pump(d);
}

size_t sl_delivery_pending(const sl_delivery *d) { return d->pending; }
size_t sl_delivery_in_flight(const sl_delivery *d) { return d->in_flight; }
