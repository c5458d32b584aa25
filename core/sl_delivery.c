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
    struct curl_slist *headers; /* Content-Type, static headers, Expect: */
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

static uint64_t rng_next(sl_delivery *d)
{
    uint64_t x = d->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    d->rng = x;
    return x;
}

static struct curl_slist *build_headers(const sl_connector_conf *c)
{
    struct curl_slist *list = NULL, *t;
    char line[8192];
    const char *ct = c->body == SL_BODY_NDJSON ? "application/x-ndjson"
                                               : "application/json";
    snprintf(line, sizeof line, "Content-Type: %s", ct);
    if (!(list = curl_slist_append(list, line)))
        return NULL;
    /* curl would otherwise wait for 100-continue on larger bodies */
    if (!(t = curl_slist_append(list, "Expect:")))
        goto fail;
    list = t;
    for (size_t i = 0; i < c->nheaders; i++) {
        int n = snprintf(line, sizeof line, "%s: %s", c->headers[i].name,
                         c->headers[i].value);
        if (n < 0 || (size_t)n >= sizeof line)
            goto fail;
        if (!(t = curl_slist_append(list, line)))
            goto fail;
        list = t;
    }
    return list;
fail:
    curl_slist_free_all(list);
    return NULL;
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
    if (!(d->headers = build_headers(conf))) {
        snprintf(err, errlen, "%s: cannot build request headers", conf->name);
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

static int is_token(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s <= 32 || *s >= 127 || strchr("()<>@,;:\\\"/[]?={}", *s))
            return 0;
    return 1;
}

static int reserved(const char *name)
{
    static const char *const names[] = {"content-type", "content-length",
                                        "host", "transfer-encoding"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i]) == 0)
            return 1;
    return 0;
}

/* Does headers_fn's table (at top of co) set `name`? */
static int overridden(lua_State *co, const char *name)
{
    int found = 0;
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        if (lua_type(co, -2) == LUA_TSTRING &&
            strcasecmp(lua_tostring(co, -2), name) == 0 && !lua_isnil(co, -1))
            found = 1;
        lua_pop(co, 1);                                    /* t k */
    }
    return found;
}

/* The attempt's header list: Content-Type, Expect:, the static headers
 * headers_fn does not override, then headers_fn's. Reads the table at the
 * top of co without allocating in Lua. NULL with a reason on error. */
static struct curl_slist *merge_headers(sl_delivery *d, lua_State *co,
                                        char *why, size_t whylen)
{
    struct curl_slist *list = NULL, *n;
    char line[8192];
    const sl_connector_conf *c = d->conf;
    for (const struct curl_slist *s = d->headers; s; s = s->next) {
        /* d->headers: Content-Type, Expect:, then the static ones */
        char name[256];
        size_t nl = strcspn(s->data, ":");
        snprintf(name, sizeof name, "%.*s", (int)(nl < 255 ? nl : 255), s->data);
        if (!reserved(name) && strcasecmp(name, "Expect") != 0 &&
            overridden(co, name))
            continue;
        if (!(n = curl_slist_append(list, s->data)))
            goto nomem;
        list = n;
    }
    (void)c;
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        int kt = lua_type(co, -2), vt = lua_type(co, -1);
        if (kt != LUA_TSTRING) {
            lua_pop(co, 2);
            snprintf(why, whylen, "headers_fn: header names must be strings");
            goto fail;
        }
        const char *k = lua_tostring(co, -2);
        if (vt == LUA_TNIL || vt == LUA_TBOOLEAN) { /* false: leave out */
            lua_pop(co, 1);
            continue;
        }
        if (!is_token(k) || reserved(k)) {
            snprintf(why, whylen, "headers_fn: header \"%.64s\" %s", k,
                     reserved(k) ? "is set by sluice" : "is not a valid name");
            lua_pop(co, 2);
            goto fail;
        }
        int len;
        if (vt == LUA_TSTRING) {
            const char *v = lua_tostring(co, -1);
            if (strpbrk(v, "\r\n")) {
                snprintf(why, whylen, "headers_fn: header \"%.64s\" has a "
                         "line break in its value", k);
                lua_pop(co, 2);
                goto fail;
            }
            len = snprintf(line, sizeof line, "%s: %s", k, v);
        } else if (vt == LUA_TNUMBER && lua_isinteger(co, -1)) {
            len = snprintf(line, sizeof line, "%s: %lld", k,
                           (long long)lua_tointeger(co, -1));
        } else {
            snprintf(why, whylen, "headers_fn: header \"%.64s\" must be a "
                     "string, got %s", k, luaL_typename(co, -1));
            lua_pop(co, 2);
            goto fail;
        }
        lua_pop(co, 1);                                    /* t k */
        if (len < 0 || (size_t)len >= sizeof line) {
            snprintf(why, whylen, "headers_fn: header \"%.64s\" is too long", k);
            lua_pop(co, 1);
            goto fail;
        }
        if (!(n = curl_slist_append(list, line))) {
            lua_pop(co, 1);
            goto nomem;
        }
        list = n;
    }
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
        b->dyn_headers = merge_headers(d, co, why, sizeof why);
        if (!b->dyn_headers)
            err = why;
    }
    if (err) {
        d->stats->failures++;
        sl_warn("delivery", "%s: batch %llu attempt %u: %s", d->conf->name,
                (unsigned long long)b->id, b->attempt, err);
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
    if (res->status >= 200 && res->status < 300) {
        d->stats->delivered += b->nrecords;
        if (b->attempt > 1)
            sl_info("delivery", "%s: batch %llu (%zu records) delivered after "
                    "%u attempts", d->conf->name, (unsigned long long)b->id,
                    b->nrecords, b->attempt);
        batch_unlink(d, b);
        batch_free(b);
        pump(d);
        return;
    }
    d->stats->failures++;
    if (res->status)
        sl_warn("delivery", "%s: batch %llu (%zu records) attempt %u: HTTP %ld:"
                " %.*s", d->conf->name, (unsigned long long)b->id,
                b->nrecords, b->attempt, res->status,
                (int)(res->body_len < 200 ? res->body_len : 200), res->body);
    else
        sl_warn("delivery", "%s: batch %llu (%zu records) attempt %u: %s",
                d->conf->name, (unsigned long long)b->id, b->nrecords,
                b->attempt, res->error);
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
