/* sl_sdstatus: the STATUS= line of a running gateway and its timer. */
#include "sl_sdstatus.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_notify.h"

struct sl_sdstatus {
    struct event *tick; /* owned; NULL when there is no NOTIFY_SOCKET */
    sl_sdstatus_fn fn;
    void *arg;
    sl_buf text; /* scratch for fn */
    char last[SL_NOTIFY_STATUS_MAX + 1]; /* the last text sent, cut */
};

static const char *health(const sl_connector *c)
{
    int64_t since;
    const char *last_error;
    return sl_connector_health(c, &since, &last_error);
}

/* ", <k> <state> (a, b, +3)" for the connectors in that state; nothing
 * when there are none. */
static int state_part(sl_connector *const *cs, size_t n, const char *state,
                      sl_buf *out)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += strcmp(health(cs[i]), state) == 0;
    if (k == 0)
        return 0;
    int rc = sl_buf_printf(out, ", %zu %s (", k, state);
    size_t shown = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (strcmp(health(cs[i]), state) != 0)
            continue;
        if (shown == SL_SDSTATUS_NAMES) {
            rc = sl_buf_printf(out, ", +%zu", k - shown);
            break;
        }
        rc = sl_buf_printf(out, "%s%s", shown ? ", " : "",
                           sl_connector_name(cs[i]));
        shown++;
    }
    return rc == 0 ? sl_buf_printf(out, ")") : rc;
}

int sl_sdstatus_connectors(sl_connector *const *cs, size_t n, sl_buf *out)
{
    size_t delivering = 0, undelivered = 0;
    for (size_t i = 0; i < n; i++) {
        delivering += strcmp(health(cs[i]),
                             "delivering") == 0;
        undelivered += sl_connector_undelivered(cs[i]);
    }
    if (sl_buf_printf(out, "%zu connector%s: %zu delivering", n,
                      n == 1 ? "" : "s", delivering) != 0 ||
        state_part(cs, n, "degraded", out) != 0 ||
        state_part(cs, n, "blocked", out) != 0)
        return -1;
    return sl_buf_printf(out, "; %zu undelivered", undelivered);
}

void sl_sdstatus_sent(sl_sdstatus *s, const char *text)
{
    if (!s)
        return;
    strncpy(s->last, text, sizeof s->last - 1);
    s->last[sizeof s->last - 1] = '\0';
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_sdstatus *s = arg;
    sl_buf_reset(&s->text);
    s->fn(s->arg, &s->text);
    const char *now = sl_buf_cstr(&s->text);
    if (!now || strncmp(now, s->last, sizeof s->last - 1) == 0)
        return;
    if (sl_notify_status("%s", now) == SL_NOTIFY_OK)
        sl_sdstatus_sent(s, now);
}

sl_sdstatus *sl_sdstatus_new(struct event_base *base, sl_sdstatus_fn fn,
                             void *arg)
{
    sl_sdstatus *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->fn = fn;
    s->arg = arg;
    sl_buf_init(&s->text, 4 * SL_NOTIFY_STATUS_MAX);
    if (!getenv("NOTIFY_SOCKET"))
        return s;
    struct timeval tv = {SL_SDSTATUS_PERIOD_MS / 1000,
                         (SL_SDSTATUS_PERIOD_MS % 1000) * 1000};
    if (!(s->tick = event_new(base, -1, EV_PERSIST, on_tick, s)) ||
        event_add(s->tick, &tv) != 0) {
        if (s->tick)
            event_free(s->tick);
        s->tick = NULL; /* no refreshed status: READY=1's stays */
    }
    return s;
}

void sl_sdstatus_free(sl_sdstatus *s)
{
    if (!s)
        return;
    if (s->tick)
        event_free(s->tick);
    sl_buf_free(&s->text);
    free(s);
}
