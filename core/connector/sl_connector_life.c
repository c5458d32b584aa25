/* sl_connector_life: a connector at run time — its life (open, reconfigure,
 * shut down, free) and the intake step (check, spool, answer). */
#include "sl_connector.h"
#include "sl_connector_def.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <lauxlib.h>

#include "sl_delivery.h"
#include "sl_dlq.h"
#include "sl_generation.h"
#include "sl_health.h"
#include "sl_inbox.h"
#include "sl_ingest_answer.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_rejectlog.h"
#include "sl_spool.h"
#include "sl_state.h"
#include "sl_time.h"
#include "sl_transform.h"
#include "sl_unsettled.h"

#define INBOX_TICK_MS 1000


/* Let the sender cut; an ordered one's waits for the retired ones. */
static void wake(sl_connector *c)
{
    if (c->d && !(c->conf->ordered && sl_generation_next(c->gens)))
        sl_delivery_notify(c->d);
}

static void spool_durable(void *ud, uint64_t lsn)
{
    sl_connector *c = ud;
    c->spool_failing = 0;
    c->stats.accepted += sl_unsettled_durable(c->unsettled, lsn);
    for (size_t i = 0; i < SL_CONNECTOR_MAX_WAITERS; i++)
        if (c->waiters[i].fn)
            c->waiters[i].fn(c->waiters[i].ud, c, lsn, 1);
    wake(c);
}

static void spool_failed(void *ud, uint64_t lsn)
{
    sl_connector *c = ud;
    /* the intakes answer these 503: nothing of them was taken */
    c->stats.refused += sl_unsettled_failed(c->unsettled, lsn);
    c->spool_failing = 1;
    sl_health_refused(c->health, "cannot write the spool: the intake "
                      "answers 503", sl_time_wall_ms());
    for (size_t i = 0; i < SL_CONNECTOR_MAX_WAITERS; i++)
        if (c->waiters[i].fn)
            c->waiters[i].fn(c->waiters[i].ud, c, lsn, 0);
}

static void take_inbox(sl_connector *c);

/* A blocked connector whose spool has had room for a while (nobody
 * refused since) is not blocked any more. */
#define UNBLOCK_QUIET_MS 5000

static void on_inbox_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_connector *c = arg;
    int64_t now = sl_time_wall_ms(), refused_at;
    sl_health_last_error(c->health, &refused_at);
    if (sl_health_blocked(c->health) && now - refused_at >= UNBLOCK_QUIET_MS &&
        sl_spool_has_room(c->spool, 65536))
        sl_health_unblocked(c->health, now);
    if (sl_generation_next(c->gens) &&
        sl_generation_collect(c->gens, c->lua_carry) == 0)
        wake(c); /* an ordered one's new sender may go now */
    take_inbox(c);
}

static sl_generation *new_generation(sl_connector *c,
                                     const sl_connector_conf *conf, char *err,
                                     size_t errlen)
{
    sl_generation_parts p = {c->base, c->http, c->spool, c->dlq, &c->stats,
                             c->health};
    return sl_generation_new(conf, &p, err, errlen);
}

/* Make g the one that takes new records and cuts new batches. */
static void use(sl_connector *c, sl_generation *g)
{
    c->conf = sl_generation_conf(g);
    c->d = sl_generation_delivery(g);
    c->transform = sl_generation_transform(g);
    c->auth = sl_generation_auth(g);
    sl_health_set_degraded_after(c->health, c->conf->degraded_after_s * 1000ull);
}

sl_connector *sl_connector_new(const sl_connector_conf *conf,
                               const char *state_dir, struct event_base *base,
                               sl_http_client *http,
                               struct sl_syncpool *syncpool, char *err,
                               size_t errlen)
{
    sl_connector *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->conf = conf;
    c->base = base;
    c->http = http;
    c->lock_fd = -1;
    c->opened_ms = sl_time_mono_ms();
    sl_buf_init(&c->block, 0);
    sl_buf_init(&c->rejects, 0);
    sl_buf_init(&c->answer, 0);
    if (!(c->unsettled = sl_unsettled_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (sl_state_dir(state_dir, conf->name, 1, c->dir, sizeof c->dir, err,
                     errlen) != 0 ||
        (c->lock_fd = sl_state_lock(c->dir, err, errlen)) < 0)
        goto fail;
    sl_spool_opts so = {
        .dir = c->dir,
        .name = conf->name,
        .durability = (sl_durability)conf->durability,
        .max_bytes = conf->durability == SL_DURABILITY_MEMORY
                         ? conf->queue_max_bytes
                         : conf->spool_max_bytes,
        .segment_bytes = conf->spool_segment_bytes,
        .cache_bytes = conf->spool_cache_bytes,
        .on_durable = spool_durable,
        .on_failed = spool_failed,
        .ud = c,
        .syncpool = syncpool,
    };
    if (!(c->spool = sl_spool_open(base, &so, err, errlen)) ||
        !(c->dlq = sl_dlq_open(c->dir, err, errlen)) ||
        !(c->rejectlog = sl_rejectlog_open(c->dir, err, errlen)))
        goto fail;
    if (!(c->health = sl_health_new((uint64_t)conf->degraded_after_s * 1000,
                                    sl_time_wall_ms()))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    sl_generation *g = new_generation(c, conf, err, errlen);
    if (!g)
        goto fail;
    sl_generation_push(&c->gens, g);
    use(c, g);
    struct timeval tick = {INBOX_TICK_MS / 1000, (INBOX_TICK_MS % 1000) * 1000};
    if (!(c->inbox_ev = event_new(base, -1, EV_PERSIST, on_inbox_tick, c)) ||
        event_add(c->inbox_ev, &tick) != 0) {
        snprintf(err, errlen, "cannot create the inbox timer");
        goto fail;
    }
    take_inbox(c);
    /* what a previous run left is due now */
    wake(c);
    return c;
fail:
    sl_connector_free(c);
    return NULL;
}

void sl_connector_free(sl_connector *c)
{
    if (!c)
        return;
    if (c->inbox_ev)
        event_free(c->inbox_ev);
    sl_generation_free_all(&c->gens);
    c->d = NULL;
    sl_health_free(c->health); /* after the deliveries that borrowed it */
    memset(c->waiters, 0, sizeof c->waiters);
    sl_spool_close(c->spool);
    sl_unsettled_free(c->unsettled);
    sl_dlq_close(c->dlq);
    sl_rejectlog_close(c->rejectlog);
    sl_buf_free(&c->block);
    sl_buf_free(&c->rejects);
    sl_buf_free(&c->answer);
    sl_checker_free(c->checker);
    sl_state_unlock(c->lock_fd);
    free(c);
}

int sl_connector_add_durable_cb(sl_connector *c, sl_connector_durable_fn fn,
                                void *ud)
{
    for (size_t i = 0; i < SL_CONNECTOR_MAX_WAITERS; i++)
        if (!c->waiters[i].fn) {
            c->waiters[i].fn = fn;
            c->waiters[i].ud = ud;
            return 0;
        }
    return -1;
}

void sl_connector_remove_durable_cb(sl_connector *c, sl_connector_durable_fn fn,
                                    void *ud)
{
    for (size_t i = 0; i < SL_CONNECTOR_MAX_WAITERS; i++)
        if (c->waiters[i].fn == fn && c->waiters[i].ud == ud)
            c->waiters[i].fn = NULL;
}

const char *sl_connector_name(const sl_connector *c) { return c->conf->name; }
const char *sl_connector_dir(const sl_connector *c) { return c->dir; }

const char *sl_connector_spool_failure(const sl_connector *c)
{
    if (!c->spool_failing)
        return NULL;
    const char *e = sl_spool_error(c->spool);
    return *e ? e : "a write failed";
}

int sl_connector_durable(const sl_connector *c)
{
    return c->conf->durability != SL_DURABILITY_MEMORY;
}

sl_auth_rc sl_connector_authorize(sl_connector *c, const char *authorization)
{
    if (!c->auth)
        return SL_AUTH_OK;
    sl_auth_rc rc = sl_auth_check(c->auth, authorization);
    if (rc != SL_AUTH_OK)
        c->stats.unauthorized++;
    return rc;
}

/* The path every intake shares on the loop: check and encode data
 * (through `transform`, may be NULL) into c->block and c->rejects, hand
 * the accepted records to the spool and count them. SL_SPOOL_OK also when nothing was accepted or the
 * body is malformed (see res); otherwise the spool's refusal, with nothing
 * counted, or SL_SPOOL_NOMEM when checking ran out of memory. *ticket as
 * for sl_connector_ingest. */
static sl_spool_rc spool_checked(sl_connector *c, sl_buf *block, int dry,
                                 const sl_ingest_result *res,
                                 uint64_t *ticket);

static sl_spool_rc check_and_spool(sl_connector *c, sl_transform *transform,
                                   sl_ingest_format fmt, const char *data,
                                   size_t len, size_t max_records, int dry,
                                   sl_ingest_result *res, uint64_t *ticket)
{
    sl_ingest_limits lim = {.depth = c->conf->limit_depth,
                            .records = max_records};
    *ticket = 0;
    sl_buf_reset(&c->block);
    sl_buf_reset(&c->rejects);
    /* The encoded records are about as large as the body (compact, plus
     * frames and missing nullable fields): size the block once instead of
     * doubling it from 256 bytes, a realloc and copy each time. Failure is
     * harmless here: appends grow it as needed. */
    (void)sl_buf_reserve(&c->block, len + len / 8 + 256);
    int rc = sl_ingest(c->conf->schema, transform, fmt, data, len, &lim,
                       &c->block, &c->rejects, res);
    if (rc != 0)
        return SL_SPOOL_NOMEM;
    return spool_checked(c, &c->block, dry, res, ticket);
}

/* The loop's half of check_and_spool: the records res->accepted framed in
 * block to the spool (which takes block's data), counted. */
static sl_spool_rc spool_checked(sl_connector *c, sl_buf *block, int dry,
                                 const sl_ingest_result *res,
                                 uint64_t *ticket)
{
    *ticket = 0;
    if (dry) { /* encoded as for the spool (the same checks), then dropped */
        sl_buf_reset(block);
        c->stats.dry_runs++;
        return SL_SPOOL_OK;
    }
    if (res->accepted > 0) {
        sl_spool_rc rc = sl_spool_append(c->spool, block, res->accepted,
                                         sl_time_mono_ms(), ticket);
        if (rc != SL_SPOOL_OK)
            return rc;
        /* counted when the spool's verdict comes (see spool_durable) */
        if (*ticket == 0 ||
            sl_unsettled_push(c->unsettled, *ticket, res->accepted) != 0)
            c->stats.accepted += res->accepted;
        sl_health_unblocked(c->health, sl_time_wall_ms());
        if (*ticket == 0)
            wake(c);
    }
    c->stats.rejected += res->rejected;
    c->stats.dropped += res->dropped;
    return SL_SPOOL_OK;
}

/* The spool refused records (full, or a write failed): the connector is
 * blocked (its health) until it takes records again. */
static void note_refusal(sl_connector *c, sl_spool_rc rc)
{
    if (rc == SL_SPOOL_IOERR)
        c->spool_failing = 1;
    if (rc == SL_SPOOL_FULL || rc == SL_SPOOL_IOERR)
        sl_health_refused(c->health, rc == SL_SPOOL_FULL
                                         ? "spool full: the intake answers 503"
                                         : "cannot write the spool: the "
                                           "intake answers 503",
                          sl_time_wall_ms());
}

/* The answer to a request the spool refused; its HTTP status. */
static int refused(sl_connector *c, sl_spool_rc rc, size_t accepted,
                   sl_buf *answer, int *retry_after_s)
{
    c->stats.refused += accepted;
    char msg[320];
    note_refusal(c, rc);
    switch (rc) {
    case SL_SPOOL_FULL:
        *retry_after_s = 1;
        snprintf(msg, sizeof msg, "spool full (%s): the destination is not "
                 "keeping up; nothing of this request was accepted; retry "
                 "later", c->conf->durability == SL_DURABILITY_MEMORY
                              ? "queue_max_bytes"
                              : "spool.max_bytes");
        sl_ingest_answer_error(answer, msg);
        return 503;
    case SL_SPOOL_IOERR:
        *retry_after_s = 5;
        snprintf(msg, sizeof msg, "cannot write the spool: %s; nothing of "
                 "this request was accepted", sl_spool_error(c->spool));
        sl_ingest_answer_error(answer, msg);
        return 503;
    default:
        sl_ingest_answer_error(answer, "out of memory while spooling");
        return 500;
    }
}

/* The answer to a body checked and spooled with rc (its result res and
 * rejections rej); its HTTP status. */
static int answer_checked(sl_connector *c, sl_spool_rc rc,
                          const sl_ingest_result *res, const sl_buf *rej,
                          sl_buf *answer, int *retry_after_s)
{
    /* sl_ingest accepts nothing when it runs out of memory; a spool that
     * does has records to refuse */
    if (rc == SL_SPOOL_NOMEM && res->accepted == 0) {
        sl_ingest_answer_error(answer,
                               "out of memory while checking the records");
        return 500;
    }
    if (rc != SL_SPOOL_OK)
        return refused(c, rc, res->accepted, answer, retry_after_s);
    return sl_ingest_answer_verdict(res, rej, c->conf->limit_records, answer);
}

static int shutting_down(sl_buf *answer, int *retry_after_s)
{
    *retry_after_s = 5;
    sl_ingest_answer_error(answer, "shutting down; nothing of this request "
                                   "was accepted");
    return 503;
}

/* sl_connector_ingest, or with dry its dry run: nothing spooled, and no
 * refusal for want of room. */
static int ingest(sl_connector *c, sl_ingest_format fmt, const char *body,
                  size_t len, int dry, sl_buf *answer, int *retry_after_s,
                  uint64_t *ticket)
{
    sl_ingest_result res;
    *ticket = 0;
    if (c->shutting_down)
        return shutting_down(answer, retry_after_s);
    memset(&res, 0, sizeof res);
    sl_spool_rc rc = check_and_spool(c, c->transform, fmt, body, len,
                                     c->conf->limit_records, dry, &res,
                                     ticket);
    return answer_checked(c, rc, &res, &c->rejects, answer, retry_after_s);
}

int sl_connector_ingest(sl_connector *c, sl_ingest_format fmt,
                        const char *body, size_t len, sl_buf *answer,
                        int *retry_after_s, uint64_t *ticket)
{
    return ingest(c, fmt, body, len, 0, answer, retry_after_s, ticket);
}

int sl_connector_ingest_dry(sl_connector *c, sl_ingest_format fmt,
                            const char *body, size_t len, sl_buf *answer,
                            int *retry_after_s)
{
    uint64_t ticket;
    return ingest(c, fmt, body, len, 1, answer, retry_after_s, &ticket);
}

/* ---- bodies checked on the check threads --------------------------------- */

typedef struct post {
    sl_connector *c;
    int dry;
    sl_connector_posted_fn fn;
    void *ud;
} post;

/* sl_checker_done_fn: the loop's half of ingest() */
static void on_checked(void *ud, const sl_checker_result *r)
{
    post *p = ud;
    sl_connector *c = p->c;
    uint64_t ticket = 0;
    int retry_after = 0, code;
    sl_buf_reset(&c->answer);
    if (c->shutting_down) { /* its spool is synced and sends no more */
        code = shutting_down(&c->answer, &retry_after);
    } else if (r->rc == -2) {
        sl_log_error("intake", "%s: %s", c->conf->name, r->error);
        sl_ingest_answer_error(&c->answer, r->error);
        code = 500;
    } else {
        sl_spool_rc rc = r->rc ? SL_SPOOL_NOMEM
                               : spool_checked(c, r->block, p->dry, r->res,
                                               &ticket);
        code = answer_checked(c, rc, r->res, r->rejects, &c->answer,
                              &retry_after);
    }
    p->fn(p->ud, code, &c->answer, retry_after, ticket);
    free(p);
}

int sl_connector_checks_off_loop(const sl_connector *c)
{
    return c->checker != NULL;
}

int sl_connector_post(sl_connector *c, sl_ingest_format fmt, const char *body,
                      size_t len, int dry, sl_connector_posted_fn fn, void *ud,
                      sl_buf *answer, int *retry_after_s)
{
    if (c->shutting_down)
        return shutting_down(answer, retry_after_s);
    sl_ingest_limits lim = {.depth = c->conf->limit_depth,
                            .records = c->conf->limit_records};
    post *p = malloc(sizeof *p);
    if (p) {
        *p = (post){c, dry, fn, ud};
        if (sl_checker_submit(c->checker, c->conf, fmt, body, len, &lim,
                              on_checked, p) == 0)
            return 0;
        free(p);
    }
    sl_ingest_answer_error(answer, "out of memory while checking the records");
    return 500;
}

void sl_connector_set_offload(sl_connector *c, sl_offload *pool)
{
    if (c->checker || !pool)
        return;
    if (!(c->checker = sl_checker_new(pool)))
        sl_log_warn("intake", "%s: out of memory: records are checked on "
                    "the loop thread", c->conf->name);
}

/* ---- stream intakes ------------------------------------------------------ */

void sl_connector_observe_request(sl_connector *c, sl_connector_intake kind,
                                  uint64_t us, uint64_t n)
{
    sl_stats_dist *d = &c->stats.dist;
    sl_histogram_observe_n(kind == SL_CONNECTOR_INTAKE_TCP_ACK
                               ? &d->tcp_ack_latency : &d->intake_latency,
                           &sl_histogram_latency_us, us, n);
}

void sl_connector_log_reject(sl_connector *c, const char *peer, uint64_t line,
                             const char *text, size_t textlen,
                             const char *rejection, size_t rlen)
{
    c->stats.rejected++;
    sl_rejectlog_add(c->rejectlog, peer, line, text, textlen, rejection, rlen);
}

/* A chunk's rejections (rej, as sl_ingest listed them) to the reject log
 * and on_reject, and a warning for those past the list. */
static void stream_rejects(sl_connector *c, const sl_buf *rej,
                           const char *data, size_t len, const char *peer,
                           uint64_t first_line,
                           sl_connector_reject_fn on_reject, void *ud,
                           const sl_ingest_result *res)
{
    if (res->listed > 0)
        sl_rejectlog_add_listed(c->rejectlog, rej->data, rej->len, data, len,
                                peer, first_line, on_reject, ud, SIZE_MAX);
    if (res->listed < res->rejected)
        sl_log_warn("intake", "%s: %zu rejected lines from %s not written to "
                    "the reject log (at most %d per read)", c->conf->name,
                    res->rejected - res->listed, peer, SL_INGEST_MAX_LISTED);
}

/* May a chunk of len bytes be taken now? 0, or the status refusing it. */
static int stream_admit(sl_connector *c, size_t len)
{
    if (c->shutting_down)
        return 503;
    /* no room for about this much: do not parse what would be thrown away
     * (the stream intake calls again every few ms while it is full) */
    if (!sl_spool_has_room(c->spool, len < 65536 ? len : 65536)) {
        note_refusal(c, SL_SPOOL_FULL);
        return 503;
    }
    return 0;
}

int sl_connector_ingest_stream(sl_connector *c, const char *data, size_t len,
                               const char *peer, uint64_t first_line,
                               sl_connector_reject_fn on_reject, void *ud,
                               uint64_t *ticket, sl_ingest_result *res)
{
    *ticket = 0;
    memset(res, 0, sizeof *res);
    int st = stream_admit(c, len);
    if (st)
        return st;
    /* refused: nothing counted, the same lines come again */
    sl_spool_rc rc = check_and_spool(c, c->transform, SL_INGEST_NDJSON, data,
                                     len, 0, 0, res, ticket);
    note_refusal(c, rc);
    if (rc != SL_SPOOL_OK)
        return rc == SL_SPOOL_FULL ? 503 : 500;
    stream_rejects(c, &c->rejects, data, len, peer, first_line, on_reject, ud,
                   res);
    return 200;
}

/* A chunk of a stream on the check threads: its copy and where it goes. */
typedef struct stream_post {
    sl_connector *c;
    uint64_t first_line;
    sl_connector_reject_fn on_reject;
    sl_connector_streamed_fn fn;
    void *ud;
    const char *data; /* the chunk, the intake's until fn */
    size_t len;
    char peer[64];
} stream_post;

/* sl_checker_done_fn: the loop's half of sl_connector_ingest_stream */
static void on_stream_checked(void *ud, const sl_checker_result *r)
{
    stream_post *p = ud;
    sl_connector *c = p->c;
    sl_ingest_result res = *r->res;
    uint64_t ticket = 0;
    int st = 200;
    if (c->shutting_down) {
        st = 503;
    } else if (r->rc != 0) {
        if (r->rc == -2)
            sl_log_error("intake", "%s: %s", c->conf->name, r->error);
        st = 500; /* the same lines come again */
    } else {
        sl_spool_rc rc = spool_checked(c, r->block, 0, &res, &ticket);
        note_refusal(c, rc);
        if (rc != SL_SPOOL_OK)
            st = rc == SL_SPOOL_FULL ? 503 : 500;
        else
            stream_rejects(c, r->rejects, p->data, p->len, p->peer,
                           p->first_line, p->on_reject, p->ud, &res);
    }
    if (st != 200)
        memset(&res, 0, sizeof res);
    p->fn(p->ud, st, ticket, &res);
    free(p);
}

int sl_connector_post_stream(sl_connector *c, const char *data, size_t len,
                             const char *peer, uint64_t first_line,
                             sl_connector_reject_fn on_reject,
                             sl_connector_streamed_fn fn, void *ud)
{
    int st = stream_admit(c, len);
    if (st)
        return st;
    stream_post *p = malloc(sizeof *p);
    if (!p)
        return 500;
    *p = (stream_post){.c = c, .first_line = first_line,
                       .on_reject = on_reject, .fn = fn, .ud = ud,
                       .data = data, .len = len};
    snprintf(p->peer, sizeof p->peer, "%s", peer);
    if (sl_checker_submit(c->checker, c->conf, SL_INGEST_NDJSON, p->data, len,
                          &(sl_ingest_limits){.depth = c->conf->limit_depth},
                          on_stream_checked, p) != 0) {
        free(p);
        return 500;
    }
    return 0;
}


/* ---- the inbox: replayed dead letters (sl_inbox) ---------------------- */

/* sl_inbox_take_fn: one replay file back into the spool. Each line is
 * checked against the schema again (no transform: they are
 * destination-ready); the ones that pass are appended and made durable
 * before the file goes, the others are kept in <file>.rejected. */
static sl_inbox_verdict take_inbox_file(void *ud, const char *path,
                                        const char *data, size_t len)
{
    sl_connector *c = ud;
    sl_buf bad;
    sl_buf_init(&bad, 0);
    sl_buf_reset(&c->block);
    sl_ingest_limits lim = {.depth = c->conf->limit_depth};
    size_t accepted = 0, rejected = 0;
    sl_inbox_verdict v = SL_INBOX_TAKEN;
    for (size_t at = 0; at < len && v == SL_INBOX_TAKEN;) {
        const char *nl = memchr(data + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (data + at)) : len - at;
        sl_ingest_result res;
        sl_buf_reset(&c->rejects);
        if (n > 0 && sl_ingest(c->conf->schema, NULL, SL_INGEST_NDJSON,
                               data + at, n, &lim, &c->block, &c->rejects,
                               &res) != 0)
            v = SL_INBOX_FAILED;
        else if (n > 0 && res.accepted == 1)
            accepted++;
        else if (n > 0 && (sl_buf_append(&bad, data + at, n) != 0 ||
                           sl_buf_putc(&bad, '\n') != 0))
            v = SL_INBOX_FAILED;
        else if (n > 0)
            rejected++;
        at += n + 1;
    }
    if (v == SL_INBOX_TAKEN && accepted > 0 &&
        !sl_spool_has_room(c->spool, c->block.len))
        v = SL_INBOX_LATER;
    if (v == SL_INBOX_TAKEN && accepted > 0) {
        uint64_t ticket;
        if (sl_spool_append(c->spool, &c->block, accepted, sl_time_mono_ms(),
                            &ticket) != SL_SPOOL_OK ||
            sl_spool_sync(c->spool) != 0)
            v = SL_INBOX_FAILED;
    }
    if (v == SL_INBOX_TAKEN) {
        if (rejected > 0)
            sl_inbox_keep_rejected(path, c->conf->name, bad.data, bad.len,
                                   rejected);
        c->stats.replayed += accepted;
        sl_log_info("inbox", "%s: %zu replayed records back in the spool",
                c->conf->name, accepted);
        wake(c);
    }
    sl_buf_free(&bad);
    return v;
}

static void take_inbox(sl_connector *c)
{
    if (!c->shutting_down)
        sl_inbox_take(c->dir, c->conf->name, take_inbox_file, c);
}

/* ---- shutdown --------------------------------------------------------------- */

void sl_connector_shutdown(sl_connector *c)
{
    c->shutting_down = 1;
    if (!sl_connector_durable(c)) {
        sl_generation_shutdown(c->gens, 0);
        return;
    }
    if (sl_spool_sync(c->spool) != 0)
        sl_log_error("connector", "%s: could not make the spool durable at "
                 "shutdown: %s", c->conf->name, sl_spool_error(c->spool));
    sl_generation_shutdown(c->gens, 1);
}

size_t sl_connector_busy(const sl_connector *c)
{
    size_t checking = sl_checker_pending(c->checker);
    if (!sl_connector_durable(c))
        return checking + sl_connector_undelivered(c);
    return checking + sl_generation_in_flight(c->gens);
}

size_t sl_connector_undelivered(const sl_connector *c)
{
    return sl_spool_count(c->spool) + sl_generation_pending(c->gens);
}

/* Reload (see sl_generation.h): a new generation, the old one retired. */
int sl_connector_reconfigure(sl_connector *c, const sl_connector_conf *conf,
                             char *err, size_t errlen)
{
    sl_generation *g = new_generation(c, conf, err, errlen);
    if (!g)
        return -1;
    sl_generation_push(&c->gens, g); /* the old one cuts no more */
    use(c, g);
    if (c->checker)
        sl_checker_new_conf(c->checker);
    sl_generation_collect(c->gens, c->lua_carry); /* an idle one goes now */
    wake(c);
    return 0;
}

const sl_connector_conf *sl_connector_conf_of(const sl_connector *c)
{
    return c->conf;
}

int sl_connector_uses(const sl_connector *c, const sl_connector_conf *conf)
{
    return sl_generation_uses(c->gens, conf) ||
           sl_checker_uses(c->checker, conf);
}

size_t sl_connector_collect(sl_connector *c)
{
    size_t left = sl_generation_collect(c->gens, c->lua_carry);
    if (left == 0)
        wake(c);
    return left;
}
