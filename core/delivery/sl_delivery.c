/* sl_delivery: batching, sending and retrying for one connector.
 * A batch is a cut of the spool (sl_batch: its records in the connector's
 * form, worked through as pieces): the whole batch first; a 413 or a
 * permanent failure under bisect replaces the current piece by its two
 * halves. sl_retry says what an answer means and how long to wait. A piece
 * that cannot be halved further and fails permanently, or runs out of
 * retry time, is dead-lettered; when no piece is left the dead letters are
 * written (one fdatasync) and the cut is done in the spool. Outstanding
 * batches are limited by `concurrency` (1 with `ordered`), so a dead
 * destination backs records up in the spool; an adaptive one limits
 * attempts in flight (batches: twice that). Answers feed sl_health. */
#include "sl_delivery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>

#include "sl_adaptive.h"
#include "sl_attempt_headers.h"
#include "sl_attempt_log.h"
#include "sl_attempt_stats.h"
#include "sl_batch.h"
#include "sl_graves.h"
#include "sl_headers_fn.h"
#include "sl_health.h"
#include "sl_log.h"
#include "sl_lua_req.h"
#include "sl_pace.h"
#include "sl_quota.h"
#include "sl_response.h"
#include "sl_retry.h"
#include "sl_target.h"
#include "sl_time.h"
#include "sl_tls_report.h"

typedef struct batch {
    struct batch *prev, *next;  /* sl_delivery.batches */
    sl_delivery *d;
    sl_batch *recs;             /* its records and pieces */
    unsigned attempt;           /* attempts of the current piece */
    unsigned auth_retried;      /* the last answer was 401/403, retried */
    long last_status;           /* 0 = transport or headers_fn failure */
    uint64_t first_mono;        /* first attempt of the batch */
    uint64_t not_before;        /* the server's Retry-After ends (mono) */
    int64_t first_wall, last_wall;
    sl_graves *graves;          /* its dead-lettered pieces, or NULL */
    int in_flight;
    sl_quota_ticket quota;      /* the current attempt's */
    int finishing;              /* all pieces done; writing dead letters */
    struct event *retry_ev;     /* made with the batch: on_retry (which
                                   finishes again while finishing) */
    sl_headers_fn *task;        /* headers_fn running for this attempt */
    sl_response *respond;       /* response_fn reading its answer */
    int cut_said;               /* an answer cut for response_fn, logged */
    struct curl_slist *dyn_headers;
    const char *url;            /* the current piece's: conf->url, or
                                   rendered into url_buf (sl_target) */
    sl_buf url_buf;
    int sent;                   /* a request of the current piece was made */
    int refused;                /* its record cannot make a request */
    uint64_t held_since;        /* mono + 1 since rate_limit holds the
                                   attempt (in the spool, then here); 0 */
} batch;

struct sl_delivery {
    struct event_base *base;
    sl_http_client *http;
    sl_luaruntime *rt;          /* runs headers_fn and response_fn; NULL
                                   without either */
    const sl_connector_conf *conf;
    sl_spool *spool;
    sl_dlq *dlq;
    sl_stats *stats;
    sl_tls_report *tls;         /* TLS failures, logged by cause */
    sl_health *health;          /* borrowed (the connector's); NULL none */
    sl_quota *quota;            /* the destination's rate-limit headers */
    const sl_time_clock *clock;
    sl_retry_policy retry;      /* its random source is d->rng */
    struct curl_slist *headers; /* without headers_fn: every attempt's */
    struct event *delay_timer;
    sl_pace *pace;              /* rate_limit; NULL without one */
    uint64_t held_since;        /* mono + 1 since it holds the next cut */
    batch *batches;
    size_t nbatches;            /* outstanding batches */
    size_t pending;             /* records in outstanding batches */
    size_t in_flight;
    size_t starting;            /* attempts whose headers_fn runs */
    sl_adaptive *adaptive;      /* concurrency = "adaptive"; else NULL */
    size_t max_batches;         /* concurrency, 1 when ordered */
    uint64_t rng;               /* xorshift64 state for jitter */
    int draining;
    int stopped;
    int failing;                /* the last answer was a retryable failure */
};

static void pump(sl_delivery *d);
static void send_piece(batch *b);
static void next_piece(batch *b);
static void finish(batch *b);
static void on_retry(evutil_socket_t fd, short what, void *arg);
static uint64_t mono_ms(const sl_delivery *d)
{
    return d->clock->mono_ms(d->clock->ud);
}

static int64_t wall_ms(const sl_delivery *d)
{
    return d->clock->wall_ms(d->clock->ud);
}

/* Arm timer ev to fire in ms; evtimer_add's result. */
static int arm(struct event *ev, uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
    return evtimer_add(ev, &tv);
}

static void on_delay(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* Attempts in flight or starting (headers_fn): adaptive's slots taken. */
static size_t busy(const sl_delivery *d) { return d->in_flight + d->starting; }

/* sl_adaptive_wake_fn: send who waits for a slot, then cut. */
static void on_slot(void *ud)
{
    sl_delivery *d = ud;
    batch *b;
    while (!d->stopped && (b = sl_adaptive_next(d->adaptive, busy(d))))
        send_piece(b);
    pump(d);
}

sl_delivery *sl_delivery_new(struct event_base *base, sl_http_client *http,
                             sl_luaruntime *rt, const sl_connector_conf *conf,
                             sl_spool *spool, sl_dlq *dlq, sl_stats *stats,
                             const sl_time_clock *clock, char *err,
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
    if (conf->L && (conf->headers_fn_ref > 0 || conf->response_fn_ref > 0))
        d->rt = rt;
    d->spool = spool;
    d->dlq = dlq;
    d->stats = stats;
    d->clock = clock ? clock : &sl_time_system_clock;
    d->retry = (sl_retry_policy){conf->retry_base_ms, conf->retry_max_ms,
                                 d->clock, sl_retry_xorshift, &d->rng};
    d->max_batches = conf->concurrency_adaptive ? 2 * conf->max_concurrency
                     : conf->ordered ? 1 : conf->concurrency;
    d->rng = ((uint64_t)mono_ms(d) << 20) ^ (uint64_t)getpid() ^
             (uint64_t)(uintptr_t)d ^ 0x9e3779b97f4a7c15ull;
    char why[160];
    if (!(d->headers = sl_attempt_headers_new(conf, NULL, NULL, 0, NULL, why,
                                              sizeof why))) {
        snprintf(err, errlen, "%s: %s", conf->name, why);
        goto fail;
    }
    if (!(d->tls = sl_tls_report_new(conf->name,
                                     conf->transport.tls.client_cert != NULL,
                                     stats)) ||
        !(d->quota = sl_quota_new(conf->name, stats)) ||
        (conf->concurrency_adaptive &&
         !(d->adaptive = sl_adaptive_new(base, conf, stats, on_slot, d)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(d->delay_timer = evtimer_new(base, on_delay, d))) {
        snprintf(err, errlen, "cannot create timer");
        goto fail;
    }
    if ((conf->rate_requests_per_s > 0 || conf->rate_records_per_s > 0) &&
        !(d->pace = sl_pace_new(conf->rate_requests_per_s,
                                conf->rate_records_per_s, conf->rate_burst,
                                mono_ms(d)))) {
        snprintf(err, errlen, "%s: rate_limit: out of memory", conf->name);
        goto fail;
    }
    return d;
fail:
    sl_delivery_free(d);
    return NULL;
}

static void batch_free(batch *b)
{
    sl_headers_fn_cancel(b->task);
    sl_response_cancel(b->respond);
    sl_attempt_headers_free(b->dyn_headers);
    if (b->retry_ev)
        event_free(b->retry_ev);
    sl_buf_free(&b->url_buf);
    sl_graves_free(b->graves);
    sl_batch_free(b->recs);
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
    d->pending -= sl_batch_count(b->recs);
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
    sl_attempt_headers_free(d->headers);
    sl_tls_report_free(d->tls);
    sl_pace_free(d->pace);
    sl_quota_free(d->quota);
    sl_adaptive_free(d->adaptive);
    free(d);
}

/* ---- cutting ---------------------------------------------------------- */

/* Take the next batch from the spool and send it. 1 cut, 0 nothing to
 * cut, -1 out of memory. */
static int cut_batch(sl_delivery *d)
{
    batch *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->d = d;
    b->url = d->conf->url;
    sl_buf_init(&b->url_buf, 0);
    int rc = -1;
    /* The retry timer is made before anything is taken from the spool, so
     * that retry_in never has to make it (nor, failing, send at once). */
    if ((b->retry_ev = evtimer_new(d->base, on_retry, b)) &&
        (b->recs = sl_batch_new(d->conf)))
        rc = sl_batch_take(b->recs, d->spool);
    if (rc != 1) {
        if (rc < 0 && b->recs && sl_batch_cut(b->recs)->nrecords > 0)
            /* an allocation failed half-way: the cut stays outstanding in
             * the spool and is cut again after a restart; say so */
            sl_log_error("delivery", "%s: out of memory cutting a batch",
                     d->conf->name);
        batch_free(b);
        return rc;
    }
    b->next = d->batches;
    if (d->batches)
        d->batches->prev = b;
    d->batches = b;
    d->nbatches++;
    d->pending += sl_batch_count(b->recs);
    b->held_since = d->held_since; /* its wait in the spool counts */
    d->held_since = 0;
    send_piece(b);
    return 1;
}

/* ---- sending ------------------------------------------------------------ */

static void on_response(void *ud, const sl_http_client_response *res);
static void retry_or_bury(batch *b, const sl_http_client_response *res,
                          sl_tls_cause tls);
static void retry_in(batch *b, uint64_t wait_ms);

/* Put the request on the wire with `headers`. When it cannot even start,
 * on_response runs now and may finish (free) b: callers return at once. */
static void transmit(batch *b, const struct curl_slist *headers)
{
    sl_delivery *d = b->d;
    sl_http_client_request req = {
        .method = d->conf->method,
        .url = b->url,
        .headers = headers,
        .timeout_ms = (long)d->conf->timeout_ms,
        .transport = &d->conf->transport,
        .want_headers = 1, /* for sl_quota */
        .max_body = d->conf->response_fn_ref > 0 ? d->conf->max_response_bytes
                                                 : 0,
    };
    req.body = sl_batch_wire_body(b->recs, &req.body_len);
    sl_attempt_stats_sent(d->stats, b->attempt, sl_batch_current(b->recs).n,
                          req.body_len);
    b->in_flight = 1;
    b->sent = 1;
    d->in_flight++;
    b->last_wall = wall_ms(d);
    if (sl_http_client_send(d->http, &req, on_response, b) != 0) {
        /* could not even start: treat like a transport failure */
        sl_http_client_response r = {.status = 0, .curl_code = CURLE_OUT_OF_MEMORY,
                              .error = "cannot start request", .body = ""};
        on_response(b, &r);
    }
}

static void bury(batch *b, const sl_http_client_response *res,
                 const char *reason);

/* The piece again in a second, after `what` went wrong (logged). */
static void retry_soon(batch *b, const char *what)
{
    sl_log_error("delivery", "%s: %s; retrying in 1 s", b->d->conf->name,
                 what);
    retry_in(b, 1000);
}

/* A per-record connector's piece: its URL, its record's values checked
 * for the headers. 0; -1 when the piece is dead-lettered (its record
 * cannot make a request: found again at the next call, from the loop, so
 * that a run of such records does not recurse through finish and pump)
 * or retried later (out of memory): the caller returns at once. */
static int target(batch *b)
{
    char why[320];
    sl_target_rc rc = sl_target_url(b->d->conf, b->recs, &b->url_buf,
                                    &b->url, why, sizeof why);
    sl_http_client_response r = {.status = 0, .error = why, .body = ""};
    int again = b->refused;
    b->refused = rc == SL_TARGET_BAD && !again;
    if (rc == SL_TARGET_BAD && again)
        bury(b, &r, why); /* may free b */
    else if (rc == SL_TARGET_BAD)
        retry_in(b, 0);
    else if (rc != SL_TARGET_OK)
        retry_soon(b, "out of memory making a URL");
    return rc == SL_TARGET_OK ? 0 : -1;
}

/* sl_headers_fn_done_fn: the attempt's headers, or why there are none. */
static void on_headers(void *ud, struct curl_slist *headers, const char *err)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    b->task = NULL;
    d->starting--;
    if (err) {
        d->stats->failures++;
        sl_log_warn("delivery", "batch %s attempt %u to %s: %s",
                    sl_batch_key(b->recs), b->attempt, b->url, err);
        b->last_status = 0;
        b->last_wall = wall_ms(d);
        sl_adaptive_freed(d->adaptive);
        sl_http_client_response r = {.status = 0, .error = err, .body = ""};
        retry_or_bury(b, &r, SL_TLS_CAUSE_NONE);
        return;
    }
    sl_attempt_headers_free(b->dyn_headers);
    b->dyn_headers = headers;
    transmit(b, b->dyn_headers);
}

/* The attempt may go: 0, charged to the limit (and its wait counted); or
 * it must wait: 1, its timer armed for the wait. Checked before every
 * attempt: first tries, retries, each piece of a split. */
static int paced(batch *b)
{
    sl_delivery *d = b->d;
    uint64_t now = mono_ms(d);
    size_t n = sl_batch_current(b->recs).n;
    uint64_t wait = sl_pace_hold(d->pace, now, n, &b->held_since,
                                 &d->stats->rate_limited);
    if (wait && arm(b->retry_ev, wait) == 0)
        return 1;
    sl_pace_release(d->pace, now, n, &b->held_since,
                    &d->stats->rate_limit_wait_ms);
    return 0;
}

static void send_piece(batch *b)
{
    sl_delivery *d = b->d;
    if (d->adaptive && sl_adaptive_hold(d->adaptive, b, busy(d)))
        return; /* in line for a slot: on_slot sends it */
    if (sl_batch_build(b->recs) != 0) {
        retry_soon(b, "out of memory building a body");
        return;
    }
    if (d->conf->record_tpls && target(b) != 0)
        return;
    /* the destination said to wait (before rate_limit takes its token) */
    uint64_t quota_wait = sl_quota_admit(d->quota, mono_ms(d), d->in_flight,
                                         &b->quota);
    if (quota_wait) {
        retry_in(b, quota_wait);
        return;
    }
    if (d->pace && paced(b))
        return;
    b->attempt++;
    if (!b->first_mono) {
        b->first_mono = mono_ms(d);
        b->first_wall = wall_ms(d);
    }
    if (d->rt && d->conf->headers_fn_ref > 0) {
        /* on_headers runs from the loop, never inside this call: it may
         * finish (free) the batch */
        sl_lua_req r = sl_lua_req_make(d->conf, b->recs, b->attempt,
                                       b->last_status, b->url);
        b->task = sl_headers_fn_start(d->rt, d->conf, &r, b->recs,
                                      on_headers, b);
        d->starting += b->task != NULL;
        if (!b->task) {
            b->attempt--;
            retry_soon(b, "out of memory starting headers_fn");
        }
        return;
    }
    size_t rlen = 0;
    const char *rec = sl_target_record(d->conf, b->recs, &rlen);
    if (!d->conf->idempotency_header && !rec) {
        transmit(b, d->headers);
        return;
    }
    char why[320];
    sl_attempt_headers_free(b->dyn_headers);
    b->dyn_headers = sl_attempt_headers_new(d->conf, sl_batch_key(b->recs),
                                            rec, rlen, NULL, why, sizeof why);
    if (!b->dyn_headers) {
        b->attempt--;
        retry_soon(b, why);
        return;
    }
    transmit(b, b->dyn_headers);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    batch *b = arg;
    if (b->finishing)
        finish(b); /* the dead letters, again */
    else if (!b->d->stopped) /* else left in the spool for the next run */
        send_piece(b);
}

static void retry_in(batch *b, uint64_t wait)
{
    if (arm(b->retry_ev, wait) != 0) {
        /* no timer: retry at once rather than lose the batch */
        sl_log_error("delivery", "%s: cannot arm retry timer; retrying now",
                     b->d->conf->name);
        send_piece(b);
    }
}

/* ---- outcomes ------------------------------------------------------------- */

/* Send the piece on top of the stack, or finish the batch. */
static void next_piece(batch *b)
{
    b->attempt = 0;
    b->auth_retried = 0;
    b->sent = 0;
    if (!sl_batch_next(b->recs)) {
        finish(b);
        return;
    }
    if (b->d->stopped)
        return; /* left in the spool for the next run */
    send_piece(b);
}

/* Replace the current piece by its halves: send the first, stack the
 * second. -1 (out of memory) leaves the piece as it is. */
static int split(batch *b)
{
    if (sl_batch_split(b->recs) != 0)
        return -1;
    b->d->stats->splits++;
    b->attempt = 0;
    b->auth_retried = 0;
    if (!b->d->stopped)
        send_piece(b);
    return 0;
}

/* The current piece as a dead piece after answer res. */
static sl_graves_piece grave_of(const batch *b,
                                const sl_http_client_response *res,
                                const char *reason)
{
    sl_batch_piece cur = sl_batch_current(b->recs);
    return (sl_graves_piece){
        .from = cur.from, .n = cur.n, .picked = cur.picked,
        .status = res->status, .attempts = b->attempt,
        .first_ms = b->first_wall, .last_ms = b->last_wall, .reason = reason,
        .response = res->body, .response_len = res->body_len,
        .url = b->sent ? b->url : NULL, .key = sl_batch_key(b->recs),
        .sent = b->dyn_headers ? b->dyn_headers : b->d->headers};
}

/* The current piece goes to the dead letters (written when the batch is
 * finished). */
static void bury(batch *b, const sl_http_client_response *res, const char *reason)
{
    sl_graves_piece p = grave_of(b, res, reason);
    if (sl_graves_add(&b->graves, &p) != 0) {
        sl_log_error("delivery", "batch %s: out of memory recording dead "
                     "letters; retrying in 1 s", p.key);
        retry_in(b, 1000);
        return;
    }
    b->d->stats->dead_lettered += p.n;
    sl_log_error("delivery", "batch %s to %s: %zu record%s to the dead "
                 "letters: %s", p.key, b->url, p.n, p.n == 1 ? "" : "s",
                 reason);
    next_piece(b);
}

/* Every piece is delivered or dead: write the dead letters, then the cut
 * is done. If the dead letters cannot be written the batch stays (and is
 * retried every second) — never done without them. */
static void finish(batch *b)
{
    sl_delivery *d = b->d;
    b->finishing = 1;
    char err[256];
    if (sl_graves_write(b->graves, b->recs, d->dlq, err, sizeof err) != 0) {
        sl_log_error("delivery", "%s: cannot write %zu dead letters (%s); "
                     "the batch stays in the spool; retrying in 1 s",
                     d->conf->name, sl_graves_records(b->graves), err);
        arm(b->retry_ev, 1000); /* on_retry finishes again */
        return;
    }
    sl_spool_done(d->spool, sl_batch_cut(b->recs));
    batch_unlink(d, b);
    batch_free(b);
    pump(d);
}

/* The destination answers again after failures: batches waiting out a
 * long backoff go again soon (spread over 100 ms) instead of holding their
 * place in the spool — and with it the spool's room — for up to max_ms. */
static void wake_waiting(sl_delivery *d, const batch *except)
{
    d->failing = 0;
    for (batch *b = d->batches; b; b = b->next) {
        if (b == except || b->in_flight || b->finishing ||
            !evtimer_pending(b->retry_ev, NULL) ||
            b->not_before > mono_ms(d)) /* the server said when */
            continue;
        arm(b->retry_ev, sl_retry_xorshift(&d->rng) % 100);
    }
}

/* The current piece is delivered (but for what went to the graves). */
static void piece_done(batch *b)
{
    if (b->d->failing)
        wake_waiting(b->d, b);
    next_piece(b);
}

/* What answer res means for the current piece, as its status says (or
 * its TLS failure, `tls_failed`). */
static void answer(batch *b, const sl_http_client_response *res,
                   int tls_failed)
{
    sl_delivery *d = b->d;
    const sl_connector_conf *c = d->conf;
    size_t n = sl_batch_current(b->recs).n;
    const char *key = sl_batch_key(b->recs);
    char why[320];
    long st = res->status;
    sl_status_list list = SL_STATUS_LIST_NONE;
    sl_retry_class class = tls_failed ? SL_RETRY_LATER
                           : sl_retry_classify_with(c->status, st, &list);
    if (class == SL_RETRY_DELIVERED) {
        d->stats->delivered += n;
        if (b->attempt > 1)
            sl_log_debug("delivery", "batch %s (%zu records) delivered after %u "
                    "attempts", key, n, b->attempt);
        piece_done(b);
        return;
    }
    d->stats->failures++;
    if (!tls_failed) /* the body it quotes without the request's secrets */
        sl_attempt_log_failure(key, n, b->attempt, b->url, res,
                               b->dyn_headers ? b->dyn_headers : d->headers);
    if (d->stopped)
        return; /* no retry now: the batch stays in the spool */
    if (class == SL_RETRY_AUTH) {
        if (!b->auth_retried) {
            /* once, at once, with headers computed afresh (a rotating
             * token can recover) */
            b->auth_retried = 1;
            send_piece(b);
            return;
        }
        snprintf(why, sizeof why, "HTTP %ld twice in a row (permanent)", st);
        bury(b, res, why);
        return;
    }
    b->auth_retried = 0;
    if (class == SL_RETRY_TOO_LARGE) {
        if (n > 1 && split(b) == 0)
            return;
        if (n == 1) {
            bury(b, res, "HTTP 413: a single record is too large for the "
                         "destination");
            return;
        }
    } else if (class == SL_RETRY_PERMANENT) {
        if (c->on_permanent == SL_ON_PERMANENT_BISECT && n > 1 &&
            split(b) == 0)
            return;
        if (list != SL_STATUS_LIST_NONE)
            snprintf(why, sizeof why, "HTTP %ld (status.%s)", st,
                     sl_status_lists_name(list));
        else
            snprintf(why, sizeof why, "HTTP %ld (permanent)", st);
        bury(b, res, why);
        return;
    }
    retry_or_bury(b, res, tls_failed ? sl_tls_report_cause(d->tls)
                                     : SL_TLS_CAUSE_NONE);
}

/* sl_response_done_fn: act on what response_fn said (sl_verdict). */
static void on_verdict(void *ud, const sl_http_client_response *res,
                       const sl_verdict *v, const char *err)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    b->respond = NULL;
    sl_graves_piece g = grave_of(b, res, NULL);
    sl_verdict_ctx x = {b->recs, &b->graves, &g, d->stats, d->conf->status};
    sl_verdict_next n;
    sl_verdict_settle(v, err, res, &x, &n);
    if (n.act == SL_VERDICT_ACT_DEFAULT)
        answer(b, &n.res, 0);
    else if (n.act == SL_VERDICT_ACT_DONE)
        piece_done(b);
    else if (d->stopped)
        return; /* the batch stays in the spool */
    else if (n.act == SL_VERDICT_ACT_BURY)
        bury(b, &n.res, n.why);
    else
        retry_or_bury(b, &n.res, SL_TLS_CAUSE_NONE);
}

static void on_response(void *ud, const sl_http_client_response *res)
{
    batch *b = ud;
    sl_delivery *d = b->d;
    /* b->dyn_headers stay until the next attempt: the answer's log line
     * takes their secrets out of the body it quotes */
    b->in_flight = 0;
    d->in_flight--;
    sl_attempt_stats_answered(d->stats, res, wall_ms(d));
    sl_quota_answer(d->quota, res, b->quota, mono_ms(d), wall_ms(d));
    /* a TLS failure, even one that comes as an answer, is about the
     * connection: retried like a transport error, logged by cause */
    int tls_failed = sl_tls_report_attempt(d->tls, b->url, res);
    sl_health_attempt(d->health, res, tls_failed, wall_ms(d));
    if (d->adaptive) /* the HTTP answer, whatever response_fn says */
        sl_adaptive_answer(d->adaptive, res, tls_failed, busy(d) + 1,
                           mono_ms(d));
    long before = b->last_status;
    b->last_status = res->status;
    if (d->rt && d->conf->response_fn_ref > 0 && res->status && !tls_failed) {
        /* response_fn reads the answer; on_verdict goes on from the loop */
        sl_lua_req r = sl_lua_req_make(d->conf, b->recs, b->attempt, before,
                                       b->url);
        if (!(b->respond = sl_response_start(d->rt, d->conf, res, &r,
                                             b->recs, &b->cut_said,
                                             on_verdict, b)))
            retry_soon(b, "out of memory starting response_fn");
        return;
    }
    answer(b, res, tls_failed);
}

/* A retryable failure: again after a backoff, unless the batch has been
 * failing for max_elapsed_s. `tls`: its TLS cause, named in the reason. */
static void retry_or_bury(batch *b, const sl_http_client_response *res,
                          sl_tls_cause tls)
{
    sl_delivery *d = b->d;
    const sl_connector_conf *c = d->conf;
    d->failing = 1;
    char why[320];
    if (c->retry_max_elapsed_s &&
        mono_ms(d) - b->first_mono >=
            (uint64_t)c->retry_max_elapsed_s * 1000) {
        sl_retry_ran_out(why, sizeof why, c->retry_max_elapsed_s, c->status,
                         res->status, res->error,
                         tls == SL_TLS_CAUSE_NONE ? NULL
                                                  : sl_tls_cause_key(tls));
        bury(b, res, why);
        return;
    }
    if (d->stopped)
        return;
    /* the backoff; the server's Retry-After also holds the batch back
     * from wake_waiting */
    uint64_t ra, wait = sl_retry_backoff_ms(&d->retry, b->attempt,
                                            res->retry_after, &ra);
    b->not_before = ra ? mono_ms(d) + ra : 0;
    retry_in(b, d->draining && wait > 250 ? 250 : wait);
}

/* ---- pumping ---------------------------------------------------------------- */

static void pump(sl_delivery *d)
{
    if (d->stopped)
        return;
    uint64_t now = mono_ms(d), wait = 0;
    while (d->nbatches < d->max_batches && /* adaptive: on_slot pumps */
           (!d->adaptive ||
            sl_adaptive_may_cut(d->adaptive, busy(d), d->nbatches))) {
        if ((wait = sl_quota_wait_ms(d->quota, now, d->in_flight)) > 0)
            break; /* the destination said to wait: nothing is cut */
        if (!sl_batch_due(d->conf, d->spool, now, d->draining, &wait))
            break;
        size_t n = sl_spool_count(d->spool); /* the next batch's, about */
        if (n > d->conf->batch_max_records)
            n = d->conf->batch_max_records;
        if ((wait = sl_pace_hold(d->pace, now, n, &d->held_since,
                                 &d->stats->rate_limited)))
            break; /* records wait for the rate limit in the spool */
        int rc = cut_batch(d);
        if (rc < 0) {
            sl_log_error("delivery", "%s: out of memory cutting a batch",
                     d->conf->name);
            wait = 100;
            break;
        }
        if (rc == 0)
            break;
    }
    if (wait > 0 && d->nbatches < d->max_batches)
        arm(d->delay_timer, wait);
    else
        evtimer_del(d->delay_timer);
}

void sl_delivery_notify(sl_delivery *d)
{
    if (d->nbatches < d->max_batches)
        pump(d);
}

void sl_delivery_drain(sl_delivery *d)
{
    d->draining = 1;
    /* waiting retries go again soon; not a batch whose headers_fn runs
     * (its timer is idle): a second attempt would start beside it */
    for (batch *b = d->batches; b; b = b->next)
        if (!b->in_flight && !b->finishing &&
            evtimer_pending(b->retry_ev, NULL))
            arm(b->retry_ev, 50);
    pump(d);
}

void sl_delivery_stop(sl_delivery *d)
{
    d->stopped = 1;
    evtimer_del(d->delay_timer);
    for (batch *b = d->batches; b; b = b->next)
        if (!b->in_flight && !b->finishing)
            evtimer_del(b->retry_ev);
}

size_t sl_delivery_pending(const sl_delivery *d) { return d->pending; }
size_t sl_delivery_in_flight(const sl_delivery *d) { return d->in_flight; }
void sl_delivery_set_health(sl_delivery *d, sl_health *h) { d->health = h; }
void sl_delivery_retire(sl_delivery *d) { d->max_batches = 0; }

size_t sl_delivery_concurrency(const sl_delivery *d)
{
    return d->adaptive ? sl_adaptive_limit(d->adaptive) : d->max_batches;
}
