/* sl_connector: a connector at run time. */
#include "sl_connector.h"

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
#include "sl_pieces.h"
#include "sl_rejectlog.h"
#include "sl_spool.h"
#include "sl_state.h"
#include "sl_time.h"
#include "sl_transform.h"
#include "sl_unsettled.h"
#include "sl_version.h"

#define INBOX_TICK_MS 1000

struct sl_connector {
    const sl_connector_conf *conf;
    char dir[PATH_MAX];     /* <state_dir>/<name> */
    int lock_fd;
    sl_spool *spool;
    sl_pieces *pieces; /* borrowed (the gateway's); NULL: stream chunks are
                          checked on the loop thread alone */
    sl_dlq *dlq;
    sl_generation *gens;    /* the head runs conf (sender, Lua, transform);
                               the rest finish their batches */
    sl_luaruntime_tally lua_carry[SL_STATS_LUA_KINDS]; /* freed ones' */
    sl_delivery *d;         /* gen's, and the three below */
    sl_transform *transform; /* NULL without a transform */
    sl_auth *auth;    /* NULL without intake keys */
    sl_rejectlog *rejectlog; /* lines a stream intake rejected */
    struct event_base *base;
    sl_http_client *http;
    sl_stats stats;
    sl_unsettled *unsettled; /* appends not yet durable: accepted once
                                they are, refused if the spool drops them */
    sl_health *health; /* its state for GET /v1/connectors and /metrics */
    int spool_failing; /* the last spool write failed (until one works):
                          /readyz says so */
    sl_buf block;   /* reused per request until the spool takes it */
    sl_buf rejects; /* reused per request */
    struct event *inbox_ev;
    struct {
        sl_connector_durable_fn fn;
        void *ud;
    } waiters[SL_CONNECTOR_MAX_WAITERS]; /* intakes waiting for durability */
    int shutting_down;
    uint64_t opened_ms; /* monotonic: the age of recovered records */
};

static const char *const body_names[] = {"array", "object", "ndjson"};

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
                               sl_http_client *http, char *err, size_t errlen)
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

/* The path every intake shares: check and encode data (through
 * `transform`, may be NULL) into c->block and c->rejects — or, with
 * `pieces` (NDJSON, no transform), into c->block and the pieces' own
 * lists, checked in parallel pieces — hand the accepted records to the
 * spool and count them. SL_SPOOL_OK also when nothing was accepted or the
 * body is malformed (see res); otherwise the spool's refusal, with nothing
 * counted, or SL_SPOOL_NOMEM when checking ran out of memory. *ticket as
 * for sl_connector_ingest. */
static sl_spool_rc check_and_spool(sl_connector *c, sl_transform *transform,
                                   sl_ingest_format fmt, const char *data,
                                   size_t len, size_t max_records,
                                   sl_pieces *pieces, int dry,
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
    int rc = pieces ? sl_pieces_ingest(pieces, c->conf->schema, data, len,
                                       &lim, &c->block, res)
                    : sl_ingest(c->conf->schema, transform, fmt, data, len,
                                &lim, &c->block, &c->rejects, res);
    if (rc != 0)
        return SL_SPOOL_NOMEM;
    if (dry) { /* encoded as for the spool (the same checks), then dropped */
        sl_buf_reset(&c->block);
        c->stats.dry_runs++;
        return SL_SPOOL_OK;
    }
    if (res->accepted > 0) {
        sl_spool_rc rc = sl_spool_append(c->spool, &c->block, res->accepted,
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

/* sl_connector_ingest, or with dry its dry run: nothing spooled, and no
 * refusal for want of room. */
static int ingest(sl_connector *c, sl_ingest_format fmt, const char *body,
                  size_t len, int dry, sl_buf *answer, int *retry_after_s,
                  uint64_t *ticket)
{
    sl_ingest_result res;
    *ticket = 0;
    if (c->shutting_down) {
        *retry_after_s = 5;
        sl_ingest_answer_error(answer, "shutting down; nothing of this "
                                       "request was accepted");
        return 503;
    }
    memset(&res, 0, sizeof res);
    sl_spool_rc rc = check_and_spool(c, c->transform, fmt, body, len,
                                     c->conf->limit_records, NULL, dry, &res,
                                     ticket);
    /* sl_ingest accepts nothing when it runs out of memory; a spool that
     * does has records to refuse */
    if (rc == SL_SPOOL_NOMEM && res.accepted == 0) {
        sl_ingest_answer_error(answer,
                               "out of memory while checking the records");
        return 500;
    }
    if (rc != SL_SPOOL_OK)
        return refused(c, rc, res.accepted, answer, retry_after_s);
    return sl_ingest_answer_verdict(&res, &c->rejects,
                                    c->conf->limit_records, answer);
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

/* ---- stream intakes ------------------------------------------------------ */

/* Walk the rejections sl_ingest listed in `rej` ({"index":N,...},
 * {"index":M,...}, N ascending) together with the lines of data: log each
 * with its line's number and text, and report it; at most `max` of them.
 * Stops after the last one. Returns how many were logged. */
static size_t log_rejects(sl_connector *c, const sl_buf *rej,
                          const char *data, size_t len, const char *peer,
                          uint64_t first_line, sl_connector_reject_fn on_reject,
                          void *ud, size_t max)
{
    static const char key[] = "{\"index\":";
    const char *r = rej->data, *rend = r ? r + rej->len : NULL;
    const char *p = data, *end = data + len;
    uint64_t lineno = first_line, ordinal = 0;
    size_t logged = 0;
    while (p < end && r && r < rend && logged < max) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && (*q == ' ' || *q == '\t' || *q == '\r'))
            q++;
        if (q < le) { /* a non-blank line: sl_ingest's index counts these */
            while (r && r < rend && logged < max &&
                   strncmp(r, key, sizeof key - 1) == 0) {
                char *after;
                unsigned long long idx = strtoull(r + sizeof key - 1, &after, 10);
                if (idx != ordinal || *after != ',')
                    break;
                /* this entry runs to the next `,{"index":` or the end */
                const char *next = after;
                while ((next = memchr(next, ',', (size_t)(rend - next))) &&
                       strncmp(next + 1, key, sizeof key - 1) != 0)
                    next++;
                const char *eend = next ? next : rend;
                sl_rejectlog_add(c->rejectlog, peer, lineno, p,
                                 (size_t)(le - p), after + 1,
                                 (size_t)(eend - (after + 1)));
                if (on_reject)
                    on_reject(ud, lineno, after + 1, (size_t)(eend - (after + 1)));
                logged++;
                r = next ? next + 1 : rend;
            }
            ordinal++;
        }
        if (nl)
            lineno++;
        p = nl ? nl + 1 : end;
    }
    return logged;
}

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

int sl_connector_ingest_stream(sl_connector *c, const char *data, size_t len,
                               const char *peer, uint64_t first_line,
                               sl_connector_reject_fn on_reject, void *ud,
                               uint64_t *ticket, sl_ingest_result *res)
{
    *ticket = 0;
    memset(res, 0, sizeof *res);
    if (c->shutting_down)
        return 503;
    /* no room for about this much: do not parse what would be thrown away
     * (the stream intake calls again every few ms while it is full) */
    if (!sl_spool_has_room(c->spool, len < 65536 ? len : 65536)) {
        note_refusal(c, SL_SPOOL_FULL);
        return 503;
    }
    /* a large chunk of a connector without a transform is checked in
     * pieces on the helper threads and this one; the spool, the counters
     * and the reject log stay here */
    sl_pieces *pieces =
        !c->transform && len >= 2 * SL_PIECES_BYTES ? c->pieces : NULL;
    /* refused: nothing counted, the same lines come again */
    sl_spool_rc rc = check_and_spool(c, c->transform, SL_INGEST_NDJSON, data,
                                     len, 0, pieces, 0, res, ticket);
    note_refusal(c, rc);
    if (rc != SL_SPOOL_OK)
        return rc == SL_SPOOL_FULL ? 503 : 500;
    if (res->listed > 0 && !pieces) {
        log_rejects(c, &c->rejects, data, len, peer, first_line, on_reject,
                    ud, SIZE_MAX);
    } else if (res->listed > 0) {
        /* the pieces in order, at most SL_INGEST_MAX_LISTED in all, as one
         * sl_ingest of the chunk would have listed them */
        const char *at = data;
        uint64_t line = first_line;
        size_t logged = 0;
        for (size_t i = 0; i < sl_pieces_count(pieces) &&
                           logged < SL_INGEST_MAX_LISTED; i++) {
            const char *pd;
            size_t pl, listed;
            const sl_buf *rej;
            sl_pieces_piece(pieces, i, &pd, &pl, &rej, &listed);
            if (listed == 0)
                continue;
            for (const char *nl; at < pd &&
                 (nl = memchr(at, '\n', (size_t)(pd - at))); at = nl + 1)
                line++;
            at = pd;
            logged += log_rejects(c, rej, pd, pl, peer, line, on_reject, ud,
                                  SL_INGEST_MAX_LISTED - logged);
        }
        res->listed = logged;
    }
    if (res->listed < res->rejected)
        sl_log_warn("intake", "%s: %zu rejected lines from %s not written to the "
                "reject log (at most %d per read)", c->conf->name,
                res->rejected - res->listed, peer, SL_INGEST_MAX_LISTED);
    return 200;
}

void sl_connector_set_pieces(sl_connector *c, sl_pieces *pieces)
{
    c->pieces = pieces;
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

/* ---- introspection ------------------------------------------------------- */

/* The values sl_metrics_connector_table lists. */
static void read_metrics(const sl_connector *c, sl_metrics_connector *m)
{
    sl_health_state st = sl_health_state_at(c->health, sl_time_wall_ms(),
                                            NULL);
    uint64_t now = sl_time_mono_ms(), oldest = sl_spool_undelivered_ms(c->spool);
    if (oldest == 1) /* recovered from disk: here since the spool opened */
        oldest = c->opened_ms;
    *m = (sl_metrics_connector){
        .name = c->conf->name,
        .stats = c->stats,
        .queued = sl_spool_count(c->spool),
        .in_flight = sl_generation_in_flight(c->gens),
        .pending = sl_generation_pending(c->gens),
        .spool_bytes = sl_spool_disk_bytes(c->spool),
        .dead_letters = c->dlq ? sl_dlq_count(c->dlq) : 0,
        .concurrency_limit = sl_delivery_concurrency(c->d),
        .state_delivering = st == SL_HEALTH_DELIVERING,
        .state_degraded = st == SL_HEALTH_DEGRADED,
        .state_blocked = st == SL_HEALTH_BLOCKED,
        .oldest_age_ms = oldest && now > oldest ? now - oldest : 0,
        .last_delivery_ms = c->stats.dist.last_delivery_ms,
        .spool_records = sl_connector_undelivered(c),
    };
    /* every generation's: the counters do not go back at a reload */
    sl_luaruntime_tally y[SL_STATS_LUA_KINDS];
    sl_generation_tally(c->gens, c->lua_carry, y);
    for (int k = 0; k < SL_STATS_LUA_KINDS; k++) {
        m->stats.dist.lua[k].calls = y[k].calls;
        m->stats.dist.lua[k].errors = y[k].errors;
        m->stats.dist.lua[k].overruns = y[k].overruns;
        m->stats.dist.lua[k].time_us = y[k].time_us;
    }
}

void sl_connector_read(const sl_connector *c, sl_metrics_connector *m)
{
    read_metrics(c, m);
}

const char *sl_connector_health(const sl_connector *c, int64_t *since,
                                const char **last_error)
{
    sl_health_state st = sl_health_state_at(c->health, sl_time_wall_ms(),
                                            since);
    *last_error = sl_health_last_error(c->health, NULL);
    return sl_health_state_name(st);
}

/* ,"state":..,"since":..,"last_error":..,"last_error_at":.. */
static void describe_health(const sl_connector *c, sl_buf *out)
{
    int64_t since, at;
    sl_health_state st = sl_health_state_at(c->health, sl_time_wall_ms(),
                                            &since);
    const char *e = sl_health_last_error(c->health, &at);
    char t[SL_TIME_FORMAT_MAX];
    sl_time_format_rfc3339(since, t, sizeof t);
    sl_buf_printf(out, ",\"state\":\"%s\",\"since\":\"%s\",\"last_error\":",
                  sl_health_state_name(st), t);
    if (!at) {
        sl_buf_printf(out, "null,\"last_error_at\":null");
        return;
    }
    sl_buf_json_string(out, e, strlen(e));
    sl_time_format_rfc3339(at, t, sizeof t);
    sl_buf_printf(out, ",\"last_error_at\":\"%s\"", t);
}

void sl_connector_describe(const sl_connector *c, sl_buf *out)
{
    const sl_connector_conf *cf = c->conf;
    sl_buf_append(out, "{\"name\":", 8);
    sl_buf_json_string(out, cf->name, strlen(cf->name));
    sl_buf_append(out, ",\"url\":", 7);
    sl_buf_json_string(out, cf->url, strlen(cf->url));
    sl_buf_printf(out, ",\"method\":\"%s\",\"body\":\"%s\",\"unknown_fields\":\"%s\","
                  "\"durability\":\"%s\",\"schema\":[",
                  cf->method, body_names[cf->body],
                  sl_schema_policy(cf->schema) == SL_UNKNOWN_DROP ? "drop"
                                                                  : "reject",
                  cf->durability == SL_DURABILITY_FSYNC ? "fsync"
                  : cf->durability == SL_DURABILITY_OS  ? "os"
                                                        : "memory");
    size_t n = sl_schema_nfields(cf->schema);
    for (size_t i = 0; i < n; i++) {
        const char *fname = sl_schema_field_name(cf->schema, i);
        sl_buf_append(out, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
        sl_buf_json_string(out, fname, strlen(fname));
        sl_buf_printf(out, ",\"type\":\"%s\",\"nullable\":%s}",
                      sl_schema_type_name(sl_schema_field_type(cf->schema, i)),
                      sl_schema_field_nullable(cf->schema, i) ? "true" : "false");
    }
    sl_buf_printf(out, "],\"batch\":{\"max_records\":%zu,\"max_bytes\":%zu,"
                  "\"max_delay_ms\":%u}", cf->batch_max_records,
                  cf->batch_max_bytes, cf->batch_max_delay_ms);
    describe_health(c, out);
    sl_buf_append(out, ",\"stats\":", 9);
    sl_metrics_connector m;
    read_metrics(c, &m);
    sl_metrics_json(&sl_metrics_connector_table, &m, out);
    sl_buf_putc(out, '}');
}

int sl_connector_metrics(sl_connector *const *cs, size_t n, sl_buf *out)
{
    sl_metrics_connector *m = calloc(n ? n : 1, sizeof *m);
    if (!m)
        return -1;
    for (size_t i = 0; i < n; i++)
        read_metrics(cs[i], &m[i]);
    size_t len0 = out->len;
    int rc = sl_metrics_build_info(SL_VERSION, out) != 0 ||
             sl_metrics_prom(&sl_metrics_connector_table, m, n, out) != 0 ||
             sl_metrics_prom_dist(m, n, out) != 0 ? -1 : 0;
    if (rc != 0)
        sl_buf_truncate(out, len0);
    free(m);
    return rc;
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
    if (!sl_connector_durable(c))
        return sl_connector_undelivered(c);
    return sl_generation_in_flight(c->gens);
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
    return sl_generation_uses(c->gens, conf);
}

size_t sl_connector_collect(sl_connector *c)
{
    size_t left = sl_generation_collect(c->gens, c->lua_carry);
    if (left == 0)
        wake(c);
    return left;
}
