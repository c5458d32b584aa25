/* sl_status_page: the HTML status page and the samples behind its charts. */
#include "sl_status_page.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_buf.h"
#include "sl_metrics.h"
#include "sl_time.h"

#define N SL_STATUS_PAGE_SAMPLES
#define CHART_W 180
#define CHART_H 36

/* One connector's ring: the counters at each sample, oldest first from
 * `head - count`. */
typedef struct series {
    char *name;
    int64_t at[N];       /* wall ms */
    uint64_t accepted[N];
    uint64_t delivered[N];
    size_t head, count;  /* next slot; samples held */
    int seen;            /* in the sample being taken */
} series;

struct sl_status_page {
    char *version;
    char **listeners;
    size_t nlisteners;
    int64_t started;     /* wall ms */
    unsigned sample_ms;
    sl_status_page_connectors_fn list;
    void *list_arg;
    series **rings;
    size_t nrings;
    struct event *tick;
};

static const char css[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}"
    "h1{font-size:1.3em;margin:0 0 .3em}"
    "table{border-collapse:collapse;margin-top:1em}"
    "th,td{border-bottom:1px solid #ddd;padding:.35em .6em;text-align:left;"
    "vertical-align:top}"
    "th{background:#f4f4f4;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".delivering{color:#1a7f37;font-weight:600}"
    ".degraded{color:#b35900;font-weight:600}"
    ".blocked{color:#c62828;font-weight:600}"
    ".err{color:#555;max-width:22em;word-break:break-word}"
    ".meta{color:#555}.key{font-size:.85em;color:#555}"
    ".a{stroke:#2a6ebb}.d{stroke:#1a7f37}"
    "svg polyline{fill:none;stroke-width:1.5}"
    "svg{background:#fafafa;border:1px solid #eee}";

int sl_status_page_escape(sl_buf *out, const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default: continue;
        }
        if (sl_buf_append(out, s + from, i - from) != 0 ||
            sl_buf_append(out, rep, strlen(rep)) != 0)
            return -1;
        from = i + 1;
    }
    return sl_buf_append(out, s + from, len - from);
}

static int esc(sl_buf *out, const char *s)
{
    return sl_status_page_escape(out, s ? s : "", s ? strlen(s) : 0);
}

static char *dup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_status_page_sample(arg, sl_time_wall_ms()); /* -1: next time */
}

static void listeners_free(char **l, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

int sl_status_page_set_listeners(sl_status_page *p, const char *const *lines,
                                 size_t n)
{
    char **l = calloc(n ? n : 1, sizeof *l);
    for (size_t i = 0; l && i < n; i++)
        if (!(l[i] = dup(lines[i]))) {
            listeners_free(l, i);
            return -1;
        }
    if (!l)
        return -1;
    listeners_free(p->listeners, p->nlisteners);
    p->listeners = l;
    p->nlisteners = n;
    return 0;
}

sl_status_page *sl_status_page_new(struct event_base *base,
                                   const sl_status_page_info *info,
                                   sl_status_page_connectors_fn fn, void *arg)
{
    sl_status_page *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->list = fn;
    p->list_arg = arg;
    p->started = sl_time_wall_ms();
    if (!(p->version = dup(info->version)) ||
        sl_status_page_set_listeners(p, info->listeners, info->nlisteners) != 0)
        goto fail;
    p->sample_ms = info->sample_ms ? info->sample_ms
                                   : SL_STATUS_PAGE_SAMPLE_S * 1000;
    struct timeval tv = {(time_t)(p->sample_ms / 1000),
                         (suseconds_t)(p->sample_ms % 1000) * 1000};
    if (base && (!(p->tick = event_new(base, -1, EV_PERSIST, on_tick, p)) ||
                 event_add(p->tick, &tv) != 0))
        goto fail;
    sl_status_page_sample(p, p->started);
    return p;
fail:
    sl_status_page_free(p);
    return NULL;
}

static void series_free(series *s)
{
    if (s)
        free(s->name);
    free(s);
}

void sl_status_page_free(sl_status_page *p)
{
    if (!p)
        return;
    if (p->tick)
        event_free(p->tick);
    for (size_t i = 0; i < p->nrings; i++)
        series_free(p->rings[i]);
    free(p->rings);
    listeners_free(p->listeners, p->nlisteners);
    free(p->version);
    free(p);
}

static series *ring_of(const sl_status_page *p, const char *name)
{
    for (size_t i = 0; i < p->nrings; i++)
        if (strcmp(p->rings[i]->name, name) == 0)
            return p->rings[i];
    return NULL;
}

int sl_status_page_sample(sl_status_page *p, int64_t now)
{
    sl_connector *const *cs = NULL;
    size_t n = p->list(p->list_arg, &cs);
    /* room first, so that nothing changes when it fails */
    series **rings = realloc(p->rings, (p->nrings + n + 1) * sizeof *rings);
    if (!rings)
        return -1;
    p->rings = rings;
    for (size_t i = 0; i < p->nrings; i++)
        p->rings[i]->seen = 0;
    for (size_t i = 0; i < n; i++) {
        sl_metrics_connector m;
        sl_connector_read(cs[i], &m);
        series *s = ring_of(p, m.name);
        if (!s) {
            if (!(s = calloc(1, sizeof *s)) || !(s->name = dup(m.name))) {
                series_free(s);
                continue; /* no ring for it this time */
            }
            p->rings[p->nrings++] = s;
        }
        s->seen = 1;
        s->at[s->head] = now;
        s->accepted[s->head] = m.stats.accepted;
        s->delivered[s->head] = m.stats.delivered;
        s->head = (s->head + 1) % N;
        if (s->count < N)
            s->count++;
    }
    size_t kept = 0;
    for (size_t i = 0; i < p->nrings; i++) {
        if (p->rings[i]->seen)
            p->rings[kept++] = p->rings[i];
        else
            series_free(p->rings[i]);
    }
    p->nrings = kept;
    return 0;
}

/* The k-th sample held, oldest first. */
static size_t slot(const series *s, size_t k)
{
    return (s->head + N - s->count + k) % N;
}

/* Records a second between samples k-1 and k of counter v. */
static double rate_at(const series *s, const uint64_t *v, size_t k)
{
    size_t a = slot(s, k - 1), b = slot(s, k);
    int64_t dt = s->at[b] - s->at[a];
    if (dt <= 0 || v[b] < v[a])
        return 0;
    return (double)(v[b] - v[a]) * 1000.0 / (double)dt;
}

/* Records a second now: since the latest sample when it is a second old
 * or more, else over the interval before it. */
static double rate_now(const series *s, const uint64_t *v, uint64_t cur,
                       int64_t now)
{
    if (s && s->count) {
        size_t last = slot(s, s->count - 1);
        int64_t dt = now - s->at[last];
        if (dt >= 1000 && cur >= v[last])
            return (double)(cur - v[last]) * 1000.0 / (double)dt;
        if (s->count >= 2)
            return rate_at(s, v, s->count - 1);
    }
    return 0;
}

static int polyline(sl_buf *out, const series *s, const uint64_t *v,
                    const char *cls, double max)
{
    if (sl_buf_printf(out, "<polyline class=\"%s\" points=\"", cls) != 0)
        return -1;
    for (size_t k = 1; k < s->count; k++) {
        double x = (double)(N - s->count + k) * CHART_W / (N - 1);
        double y = CHART_H - 1 - rate_at(s, v, k) / max * (CHART_H - 2);
        if (sl_buf_printf(out, "%s%.1f,%.1f", k > 1 ? " " : "", x, y) != 0)
            return -1;
    }
    return sl_buf_append(out, "\"/>", 3);
}

/* The last 15 minutes of both rates, on one scale. */
static int chart(sl_buf *out, const series *s, double sample_s)
{
    if (!s || s->count < 2)
        return sl_buf_printf(out, "<span class=\"meta\">collecting samples "
                             "(every %.1f s)</span>", sample_s);
    double max = 0;
    for (size_t k = 1; k < s->count; k++) {
        double a = rate_at(s, s->accepted, k), d = rate_at(s, s->delivered, k);
        max = a > max ? a : max;
        max = d > max ? d : max;
    }
    double scale = max > 0 ? max : 1;
    if (sl_buf_printf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d "
                      "%d\" role=\"img\"><title>accepted (blue) and delivered "
                      "(green) records a second, last %zu samples; peak "
                      "%.1f/s</title>", CHART_W, CHART_H, CHART_W, CHART_H,
                      s->count, max) != 0 ||
        polyline(out, s, s->accepted, "a", scale) != 0 ||
        polyline(out, s, s->delivered, "d", scale) != 0 ||
        sl_buf_printf(out, "</svg><div class=\"key\">peak %.1f/s</div>",
                      max) != 0)
        return -1;
    return 0;
}

/* "3d 4h", "4h 5m", "5m 6s", "6s". */
static void span(char *b, size_t n, int64_t ms)
{
    int64_t s = ms > 0 ? ms / 1000 : 0;
    if (s >= 86400)
        snprintf(b, n, "%" PRId64 "d %" PRId64 "h", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(b, n, "%" PRId64 "h %" PRId64 "m", s / 3600, s % 3600 / 60);
    else if (s >= 60 && s % 60 == 0)
        snprintf(b, n, "%" PRId64 "m", s / 60);
    else if (s >= 60)
        snprintf(b, n, "%" PRId64 "m %" PRId64 "s", s / 60, s % 60);
    else
        snprintf(b, n, "%" PRId64 "s", s);
}

static int row(sl_status_page *p, sl_connector *c, int64_t now, sl_buf *out)
{
    sl_metrics_connector m;
    sl_connector_read(c, &m);
    int64_t since;
    const char *err;
    const char *state = sl_connector_health(c, &since, &err);
    const series *s = ring_of(p, m.name);
    char t[SL_TIME_FORMAT_MAX], age[32];
    sl_time_format_rfc3339(since, t, sizeof t);
    span(age, sizeof age, (int64_t)m.oldest_age_ms);
    if (sl_buf_append(out, "<tr><td><b>", 11) != 0 || esc(out, m.name) != 0 ||
        sl_buf_printf(out, "</b></td><td><span class=\"%s\">%s</span>"
                      "<div class=\"meta\">since %s</div></td>"
                      "<td class=\"err\">", state, state, t) != 0 ||
        esc(out, *err ? err : "none") != 0 ||
        sl_buf_printf(out, "</td><td class=\"n\">%.1f/s</td>"
                      "<td class=\"n\">%.1f/s</td><td>",
                      rate_now(s, s ? s->accepted : NULL, m.stats.accepted,
                               now),
                      rate_now(s, s ? s->delivered : NULL, m.stats.delivered,
                               now)) != 0 ||
        chart(out, s, p->sample_ms / 1000.0) != 0 ||
        sl_buf_printf(out, "</td><td class=\"n\">%" PRIu64 " records<div "
                      "class=\"meta\">%" PRIu64 " bytes</div></td><td "
                      "class=\"n\">%s</td><td class=\"n\">%" PRIu64 "</td>"
                      "</tr>\n", m.spool_records, m.spool_bytes,
                      m.spool_records ? age : "-", m.dead_letters) != 0)
        return -1;
    return 0;
}

int sl_status_page_render(sl_status_page *p, int64_t now, sl_buf *out)
{
    sl_connector *const *cs = NULL;
    size_t n = p->list(p->list_arg, &cs);
    char up[32], t[SL_TIME_FORMAT_MAX], window[32];
    span(up, sizeof up, now - p->started);
    span(window, sizeof window, (int64_t)p->sample_ms * N);
    sl_time_format_rfc3339(now, t, sizeof t);
    if (sl_buf_printf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
                      "charset=\"utf-8\"><meta http-equiv=\"refresh\" "
                      "content=\"%d\"><meta name=\"viewport\" content=\""
                      "width=device-width\"><title>sluice status</title>"
                      "<style>%s</style></head><body>\n<h1>sluice ",
                      SL_STATUS_PAGE_REFRESH_S, css) != 0 ||
        esc(out, p->version) != 0 ||
        sl_buf_printf(out, "</h1><p class=\"meta\">up %s &middot; %s &middot; "
                      "refreshes every %d s</p>\n<p>Listeners:", up, t,
                      SL_STATUS_PAGE_REFRESH_S) != 0)
        return -1;
    for (size_t i = 0; i < p->nlisteners; i++)
        if (sl_buf_append(out, i ? ", " : " ", i ? 2 : 1) != 0 ||
            sl_buf_append(out, "<code>", 6) != 0 ||
            esc(out, p->listeners[i]) != 0 ||
            sl_buf_append(out, "</code>", 7) != 0)
            return -1;
    if (sl_buf_printf(out, "</p>\n<table><thead><tr><th>connector</th>"
                      "<th>state</th><th>last error</th><th>accepted</th>"
                      "<th>delivered</th><th>last %s</th><th>backlog</th>"
                      "<th>oldest record</th><th>dead letters</th></tr>"
                      "</thead><tbody>\n", window) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (row(p, cs[i], now, out) != 0)
            return -1;
    return sl_buf_printf(out, "</tbody></table>\n<p class=\"key\">"
                         "<svg width=\"10\" height=\"4\"><polyline class=\"a\" "
                         "points=\"0,2 10,2\"/></svg> accepted &nbsp; <svg "
                         "width=\"10\" height=\"4\"><polyline class=\"d\" "
                         "points=\"0,2 10,2\"/></svg> delivered, records a "
                         "second; JSON at <code>/v1/connectors</code>, "
                         "Prometheus at <code>/metrics</code></p>\n"
                         "</body></html>\n");
}
