/* sl_adaptive: sl_aimd on the loop (see sl_adaptive.h). */
#include "sl_adaptive.h"

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "sl_aimd.h"
#include "sl_log.h"
#include "sl_retry.h"

#define LOG_EVERY_MS 1000

struct sl_adaptive {
    sl_aimd *aimd;
    const char *name;
    const sl_status_lists *status; /* the connector's `status` lists */
    sl_stats *stats;
    struct event *wake_ev;
    sl_adaptive_wake_fn wake;
    void *ud;
    /* the line: a ring of items waiting for a slot */
    void **line;
    size_t cap, head, n;
    void *admitted;       /* given by sl_adaptive_next, not yet held */
    /* the log of cuts */
    uint64_t logged_ms;   /* when the last line was written; 0 never */
    unsigned unlogged;    /* cuts since */
};

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    sl_adaptive *a = arg;
    (void)fd;
    (void)what;
    a->wake(a->ud);
}

sl_adaptive *sl_adaptive_new(struct event_base *base,
                             const sl_connector_conf *conf, sl_stats *stats,
                             sl_adaptive_wake_fn wake, void *ud)
{
    unsigned max = conf->max_concurrency;
    sl_adaptive *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->name = conf->name;
    a->status = conf->status;
    a->stats = stats;
    a->wake = wake;
    a->ud = ud;
    /* outstanding batches, and so those in line, are at most 2 x max */
    a->cap = 2 * (size_t)(max ? max : 1);
    if (!(a->aimd = sl_aimd_new(max)) ||
        !(a->line = calloc(a->cap, sizeof *a->line)) ||
        !(a->wake_ev = event_new(base, -1, 0, on_wake, a)))
        goto fail;
    return a;
fail:
    sl_adaptive_free(a);
    return NULL;
}

void sl_adaptive_free(sl_adaptive *a)
{
    if (!a)
        return;
    if (a->wake_ev)
        event_free(a->wake_ev);
    free(a->line);
    sl_aimd_free(a->aimd);
    free(a);
}

unsigned sl_adaptive_limit(const sl_adaptive *a)
{
    return sl_aimd_limit(a->aimd);
}

int sl_adaptive_hold(sl_adaptive *a, void *item, size_t busy)
{
    if (item == a->admitted) {
        a->admitted = NULL;
        return 0;
    }
    if (busy + a->n < sl_aimd_limit(a->aimd) || a->n == a->cap)
        return 0; /* (a full line cannot be: it holds outstanding ones) */
    a->line[(a->head + a->n++) % a->cap] = item;
    return 1;
}

void *sl_adaptive_next(sl_adaptive *a, size_t busy)
{
    if (!a->n || busy >= sl_aimd_limit(a->aimd))
        return NULL;
    void *item = a->line[a->head];
    a->head = (a->head + 1) % a->cap;
    a->n--;
    a->admitted = item;
    return item;
}

int sl_adaptive_may_cut(const sl_adaptive *a, size_t busy,
                        size_t outstanding)
{
    size_t limit = sl_aimd_limit(a->aimd);
    return busy + a->n < limit && outstanding < 2 * limit;
}

/* What the answer says of the destination's load; why, for the log. */
static sl_aimd_signal signal_of(const sl_adaptive *a,
                                const sl_http_client_response *res,
                                int tls_failed, char *why, size_t n)
{
    long st = res->status;
    if (tls_failed)
        return SL_AIMD_OTHER;
    if (sl_retry_classify_with(a->status, st, NULL) == SL_RETRY_DELIVERED)
        return SL_AIMD_SUCCESS;
    if (st == 429 || st == 503 || st == 504) {
        snprintf(why, n, "HTTP %ld", st);
        return SL_AIMD_BACK_PRESSURE;
    }
    if (st != 0)
        return SL_AIMD_OTHER;
    switch (res->curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        snprintf(why, n, "%.120s", res->error);
        return SL_AIMD_BACK_PRESSURE;
    default:
        return SL_AIMD_OTHER;
    }
}

static void log_cut(sl_adaptive *a, uint64_t now, const char *why)
{
    a->unlogged++;
    if (a->logged_ms && now - a->logged_ms < LOG_EVERY_MS)
        return;
    if (a->unlogged > 1)
        sl_log_info("delivery", "%s: concurrency limit cut to %u (%s; %u "
                    "cuts since the last line)", a->name,
                    sl_aimd_limit(a->aimd), why, a->unlogged);
    else
        sl_log_info("delivery", "%s: concurrency limit cut to %u (%s)",
                    a->name, sl_aimd_limit(a->aimd), why);
    a->logged_ms = now ? now : 1;
    a->unlogged = 0;
}

void sl_adaptive_answer(sl_adaptive *a, const sl_http_client_response *res,
                        int tls_failed, size_t in_flight, uint64_t now_ms)
{
    char why[160] = "";
    sl_aimd_signal s = signal_of(a, res, tls_failed, why, sizeof why);
    sl_aimd_change ch = sl_aimd_answer(a->aimd, now_ms, res->seconds * 1000,
                                       s, in_flight);
    if (ch == SL_AIMD_DOWN_RTT)
        snprintf(why, sizeof why, "latency rose to %.0f ms, mean %.0f ms",
                 sl_aimd_window_rtt_ms(a->aimd), sl_aimd_rtt_ms(a->aimd));
    if (ch == SL_AIMD_DOWN_RTT || ch == SL_AIMD_DOWN_BACK_PRESSURE) {
        a->stats->concurrency_decreases++;
        log_cut(a, now_ms, why);
    }
    event_active(a->wake_ev, EV_TIMEOUT, 0);
}

void sl_adaptive_freed(sl_adaptive *a)
{
    if (a)
        event_active(a->wake_ev, EV_TIMEOUT, 0);
}
