/* sl_send_local: one connector on a private event loop, set up and torn
 * down as sl_gateway does for each of its own, for `sluice send`. */
#include "sl_send_local.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_connector.h"
#include "sl_http_client.h"
#include "sl_metrics.h"
#include "sl_state.h"
#include "sl_syncpool.h"

#define TICK_MS 50          /* the loop wakes at least this often */
#define SHUTDOWN_WAIT_MS 10000 /* most waiting for requests in flight */

struct sl_send_local {
    const sl_connector_conf *cc;
    sl_send_local_hooks hooks;
    struct event_base *base;
    sl_http_client *http;
    sl_syncpool *syncpool;  /* one sync thread: one spool */
    sl_connector *c;
    struct event *tick;
    struct event *fd_ev;    /* waits for the input to be readable */
    int fd;
    bool fd_ready;
    bool cb_added;
    uint64_t durable_lsn;   /* every ticket <= it is durable */
    bool write_failed;      /* tickets > failed_lsn were not written */
    uint64_t failed_lsn;
    uint64_t delivered0, dead0, leftover;
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg; /* only wakes the loop up */
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_send_local *l = arg;
    l->fd_ready = true;
}

static void on_durable(void *ud, sl_connector *c, uint64_t lsn, int ok)
{
    (void)c;
    sl_send_local *l = ud;
    if (ok) {
        if (lsn > l->durable_lsn)
            l->durable_lsn = lsn;
    } else {
        l->write_failed = true;
        l->failed_lsn = lsn;
    }
}

static void read_counts(const sl_send_local *l, uint64_t *delivered,
                        uint64_t *dead)
{
    sl_metrics_connector m;
    memset(&m, 0, sizeof m);
    sl_connector_read(l->c, &m);
    *delivered = m.stats.delivered;
    *dead = m.stats.dead_lettered;
}

/* A changed schema stops the connector here as it stops `sluice run`. */
static int schema_ok(const sl_config *cfg, const sl_connector_conf *cc,
                     char *err, size_t errlen)
{
    char dir[4096];
    if (sl_state_dir(cfg->state_dir, cc->name, 0, dir, sizeof dir, err,
                     errlen) != 0)
        return -1;
    sl_buf diff;
    sl_buf_init(&diff, SL_STATE_DIFF_MAX);
    char why[512] = "";
    sl_schema_lock_rc rc = sl_state_schema_check(dir, cc->schema, &diff, why,
                                                 sizeof why);
    int ok = 0;
    if (rc == SL_SCHEMA_LOCK_CHANGED) {
        snprintf(err, errlen, "the schema of connector %s changed since it "
                 "last ran:\n%.*s(sluice reset %s starts it afresh)", cc->name,
                 (int)(diff.len > 2000 ? 2000 : diff.len),
                 diff.data ? diff.data : "", cc->name);
        ok = -1;
    } else if (rc == SL_SCHEMA_LOCK_ERROR) {
        snprintf(err, errlen, "%s", why);
        ok = -1;
    }
    sl_buf_free(&diff);
    return ok;
}

sl_send_local *sl_send_local_new(const sl_config *cfg,
                                 const sl_connector_conf *cc,
                                 const sl_send_local_hooks *hooks, char *err,
                                 size_t errlen)
{
    if (schema_ok(cfg, cc, err, errlen) != 0)
        return NULL;
    sl_send_local *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cc = cc;
    if (hooks)
        l->hooks = *hooks;
    char dir[4096];
    struct timeval tv = {0, TICK_MS * 1000};
    if (!(l->base = event_base_new())) {
        snprintf(err, errlen, "cannot create the event loop");
        goto fail;
    }
    if (!(l->http = sl_http_client_new(l->base, err, errlen)) ||
        !(l->syncpool = sl_syncpool_new(l->base, 1, err, errlen)))
        goto fail;
    if (!(l->c = sl_connector_new(cc, cfg->state_dir, l->base, l->http,
                                  l->syncpool, err, errlen)))
        goto fail;
    /* the schema is fixed from the first run on, as under `run` */
    if (sl_state_dir(cfg->state_dir, cc->name, 0, dir, sizeof dir, err,
                     errlen) != 0 ||
        sl_state_schema_write(dir, cc->schema, err, errlen) != 0)
        goto fail;
    if (sl_connector_add_durable_cb(l->c, on_durable, l) != 0) {
        snprintf(err, errlen, "cannot wait for the spool");
        goto fail;
    }
    l->cb_added = true;
    l->tick = event_new(l->base, -1, EV_PERSIST, on_tick, l);
    if (!l->tick || event_add(l->tick, &tv) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    read_counts(l, &l->delivered0, &l->dead0);
    l->leftover = sl_connector_undelivered(l->c);
    return l;
fail:
    sl_send_local_free(l);
    return NULL;
}

static bool stop_now(sl_send_local *l)
{
    return l->hooks.stop && l->hooks.stop(l->hooks.ud);
}

/* One turn of the loop (TICK_MS at most), then the tick hook. */
static void turn(sl_send_local *l)
{
    event_base_loop(l->base, EVLOOP_ONCE);
    if (l->hooks.tick)
        l->hooks.tick(l->hooks.ud);
}

void sl_send_local_free(sl_send_local *l)
{
    if (!l)
        return;
    if (l->c) {
        sl_connector_shutdown(l->c);
        /* requests in flight finish (their answers settle the spool),
         * unless told to stop now: they are sent again next time */
        for (int i = 0; i < SHUTDOWN_WAIT_MS / TICK_MS &&
                        sl_connector_busy(l->c) > 0 && !stop_now(l); i++)
            event_base_loop(l->base, EVLOOP_ONCE);
        if (l->cb_added)
            sl_connector_remove_durable_cb(l->c, on_durable, l);
    }
    /* the client first: it cancels transfers pointing into batches */
    sl_http_client_free(l->http);
    sl_connector_free(l->c);
    sl_syncpool_free(l->syncpool); /* after the spool syncing on it */
    if (l->tick)
        event_free(l->tick);
    if (l->fd_ev)
        event_free(l->fd_ev);
    if (l->base)
        event_base_free(l->base);
    free(l);
}

int sl_send_local_submit(void *ud, const char *json_array, size_t len,
                         sl_buf *answer, int *retry_after_s)
{
    sl_send_local *l = ud;
    size_t start = answer->len;
    for (;;) {
        sl_buf_truncate(answer, start);
        uint64_t ticket = 0;
        int ra = 0;
        int st = sl_connector_ingest(l->c, SL_INGEST_JSON, json_array, len,
                                     answer, &ra, &ticket);
        if (st == 503) {
            /* the spool is full: deliver, then try again */
            *retry_after_s = ra;
            if (stop_now(l))
                return 503;
            turn(l);
            continue;
        }
        while (st == 200 && ticket > l->durable_lsn &&
               !(l->write_failed && ticket > l->failed_lsn))
            turn(l);
        if (st == 200 && ticket > l->durable_lsn) {
            sl_buf_truncate(answer, start);
            const char *why = sl_connector_spool_failure(l->c);
            sl_buf_printf(answer, "{\"error\":");
            sl_buf_json_string(answer, why ? why : "spool write failed",
                               strlen(why ? why : "spool write failed"));
            sl_buf_putc(answer, '}');
            return 500;
        }
        sl_send_local_poll(l);
        return st;
    }
}

int sl_send_local_wait_fd(sl_send_local *l, int fd)
{
    if (l->fd_ev && l->fd != fd) {
        event_free(l->fd_ev);
        l->fd_ev = NULL;
    }
    if (!l->fd_ev && !(l->fd_ev = event_new(l->base, fd, EV_READ, on_fd, l)))
        return 1;
    l->fd = fd;
    l->fd_ready = false;
    if (event_add(l->fd_ev, NULL) != 0) /* epoll refuses regular files */
        return 1;
    turn(l);
    if (!l->fd_ready)
        event_del(l->fd_ev);
    return l->fd_ready;
}

void sl_send_local_poll(sl_send_local *l)
{
    event_base_loop(l->base, EVLOOP_NONBLOCK);
}

int sl_send_local_drain(sl_send_local *l)
{
    while (sl_connector_undelivered(l->c) > 0) {
        if (stop_now(l))
            return 1;
        turn(l);
    }
    return 0;
}

void sl_send_local_counts_get(const sl_send_local *l,
                              sl_send_local_counts *out)
{
    uint64_t d, x;
    read_counts(l, &d, &x);
    out->delivered = d - l->delivered0;
    out->dead = x - l->dead0;
    out->undelivered = sl_connector_undelivered(l->c);
    out->leftover = l->leftover;
    out->durable = sl_connector_durable(l->c);
}
