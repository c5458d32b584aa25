/* sl_metrics: the tables of every exported metric and their one writer.
 * To add a counter: its field in sl_stats, the code that bumps it, and
 * its row here. A gauge: its member in the view (sl_metrics.h), the line
 * of its owner that fills it, and its row here. */
#include "sl_metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_histogram.h"

#define STAT(f) offsetof(sl_metrics_connector, stats.f)
#define CONN(f) offsetof(sl_metrics_connector, f)
#define HTTP(f) offsetof(sl_metrics_http, f)
#define COUNTER SL_METRICS_COUNTER
#define GAUGE SL_METRICS_GAUGE
#define ABSENT SL_METRICS_ABSENT

/* One sample per cause of sl_tls_cause (the key is its label value, a
 * unit test holds them equal); not in the JSON "stats" so far. */
#define TLS_ROW(cause, key, prom)                                            \
    {"sluice_tls_failures_total", COUNTER,                                   \
     STAT(tls_failures[SL_TLS_CAUSE_##cause - 1]), NULL, prom, ABSENT,       \
     "Delivery attempts whose TLS failed, by cause.", "cause=\"" key "\""}

/* One sample per health state (sl_health): 1 for the connector's state
 * now, 0 for the others; its JSON is "state" of GET /v1/connectors. */
#define STATE_ROW(state, prom)                                               \
    {"sluice_connector_state", GAUGE, CONN(state_##state), NULL, prom,       \
     ABSENT, "The connector's health state now (1) and the others (0): "    \
     "delivering, degraded (attempts failing for degraded_after_s), blocked "\
     "(spool full; the intake answers 503).", "state=\"" #state "\""}

/* prom_at: the order of /metrics; json_at: the order of the "stats"
 * object of GET /v1/connectors. */
static const sl_metrics_row connector_rows[] = {
    {"sluice_records_accepted_total", COUNTER, STAT(accepted), "accepted",
     0, 0, "Records accepted at the intake.", NULL},
    {"sluice_records_rejected_total", COUNTER, STAT(rejected), "rejected",
     1, 1, "Records rejected at the intake.", NULL},
    {"sluice_records_delivered_total", COUNTER, STAT(delivered), "delivered",
     2, 2, "Records the destination acknowledged.", NULL},
    {"sluice_requests_total", COUNTER, STAT(requests), "requests",
     5, 6, "Delivery attempts sent.", NULL},
    {"sluice_request_failures_total", COUNTER, STAT(failures), "failures",
     6, 7, "Delivery attempts that failed.", NULL},
    {"sluice_request_retries_total", COUNTER, STAT(retries), "retries",
     7, 8, "Delivery attempts that were retries.", NULL},
    {"sluice_records_refused_total", COUNTER, STAT(refused), "refused",
     3, 9, "Valid records refused (503) because the spool was full or "
     "could not write them.", NULL},
    {"sluice_records_dropped_total", COUNTER, STAT(dropped), "dropped",
     4, 10, "Records a transform dropped.", NULL},
    {"sluice_records_dead_lettered_total", COUNTER, STAT(dead_lettered),
     "dead_lettered", 8, 11, "Records moved to the dead letters.", NULL},
    {"sluice_batch_splits_total", COUNTER, STAT(splits), "splits",
     9, 12, "Batches halved after a 413 or to isolate a permanent failure.",
     NULL},
    /* not in /metrics so far; exporting it changes what operators see, a
     * change of its own */
    {"sluice_records_replayed_total", COUNTER, STAT(replayed), "replayed",
     ABSENT, 13, "Records taken back from the inbox.", NULL},
    {"sluice_requests_unauthorized_total", COUNTER, STAT(unauthorized),
     "unauthorized", 10, 14,
     "Intake requests refused for a missing or wrong intake key.", NULL},
    TLS_ROW(UNKNOWN_CA, "unknown_ca", 16),
    TLS_ROW(CERT_EXPIRED, "cert_expired", 17),
    TLS_ROW(CERT_NOT_YET_VALID, "cert_not_yet_valid", 18),
    TLS_ROW(NAME_MISMATCH, "name_mismatch", 19),
    TLS_ROW(CLIENT_CERT_REQUIRED, "client_cert_required", 20),
    TLS_ROW(CLIENT_CERT_REJECTED, "client_cert_rejected", 21),
    TLS_ROW(PROTOCOL_VERSION, "protocol_version", 22),
    TLS_ROW(LOCAL_FILES, "local_files", 23),
    TLS_ROW(OTHER_HANDSHAKE, "other_handshake", 24),
    {"sluice_rate_limit_delayed_total", COUNTER, STAT(rate_limited),
     "rate_limited", 25, 17, "Delivery attempts held back by rate_limit.",
     NULL},
    {"sluice_rate_limit_wait_seconds_total", SL_METRICS_COUNTER_MS,
     STAT(rate_limit_wait_ms), "rate_limit_wait_ms", 26, 18,
     "Time delivery attempts were held back by rate_limit, summed over "
     "attempts.", NULL},
    {"sluice_quota_pauses_total", COUNTER, STAT(quota_pauses), "quota_pauses",
     27, 19, "Pauses because the destination said its rate-limit quota "
     "was exhausted.", NULL},
    {"sluice_response_fn_errors_total", COUNTER, STAT(response_fn_errors),
     "response_fn_errors", 28, 20, "response_fn calls that failed, ran out "
     "of budget or returned something invalid; the piece was retried.",
     NULL},
    {"sluice_records_retried_total", COUNTER, STAT(records_retried),
     "records_retried", 29, 21, "Records response_fn listed as failed with "
     "retry = true, sent again in a piece of their own.", NULL},
    {"sluice_concurrency_decreases_total", COUNTER,
     STAT(concurrency_decreases), "concurrency_decreases", 30, 22,
     "Cuts of the adaptive concurrency limit (back pressure or a rising "
     "latency).", NULL},
    {"sluice_dry_runs_total", COUNTER, STAT(dry_runs), "dry_runs", 38, 27,
     "Dry runs (?dry_run=true) whose records were checked and answered: "
     "nothing spooled, nothing counted accepted or rejected.", NULL},
    {"sluice_records_queued", GAUGE, CONN(queued), "queued",
     11, 3, "Records in the spool not yet cut into a batch.", NULL},
    {"sluice_requests_in_flight", GAUGE, CONN(in_flight), "in_flight",
     13, 4, "Delivery requests in flight.", NULL},
    {"sluice_records_pending", GAUGE, CONN(pending), "pending",
     12, 5, "Records in batches not yet finished.", NULL},
    {"sluice_spool_bytes", GAUGE, CONN(spool_bytes), "spool_bytes",
     14, 15, "Undelivered bytes held by the spool.", NULL},
    {"sluice_dead_letters", GAUGE, CONN(dead_letters), "dead_letters",
     15, 16, "Records in the dead letters.", NULL},
    {"sluice_concurrency_limit", GAUGE, CONN(concurrency_limit),
     "concurrency_limit", 31, 23, "Delivery requests that may be in flight: "
     "the adaptive limit now, or the fixed concurrency.", NULL},
    STATE_ROW(delivering, 32),
    STATE_ROW(degraded, 33),
    STATE_ROW(blocked, 34),
    {"sluice_oldest_record_age_seconds", SL_METRICS_GAUGE_MS,
     CONN(oldest_age_ms), "oldest_record_age_ms", 35, 24, "Age of the "
     "oldest undelivered record, waiting or in a batch (0: none).", NULL},
    {"sluice_last_delivery_timestamp_seconds", SL_METRICS_GAUGE_MS,
     CONN(last_delivery_ms), "last_delivery_ms", 36, 25, "Unix time of the "
     "last 2xx answer from the destination (0: none since start).", NULL},
    {"sluice_spool_records", GAUGE, CONN(spool_records), "spool_records",
     37, 26, "Undelivered records: in the spool and in batches not yet "
     "finished.", NULL},
};

/* A row for every value of the view: a counter added to sl_stats without
 * its row does not compile. */
_Static_assert(offsetof(sl_stats, dist) % sizeof(uint64_t) == 0,
               "sl_stats holds uint64_t counters before dist");
_Static_assert(offsetof(sl_metrics_connector, queued) ==
                   offsetof(sl_metrics_connector, stats) + sizeof(sl_stats),
               "the gauges follow the counters");
_Static_assert(sizeof connector_rows / sizeof connector_rows[0] ==
                   offsetof(sl_stats, dist) / sizeof(uint64_t) +
                       (sizeof(sl_metrics_connector) -
                        offsetof(sl_metrics_connector, queued)) /
                           sizeof(uint64_t),
               "every value of sl_metrics_connector has one row");

const sl_metrics_table sl_metrics_connector_table = {
    .rows = connector_rows,
    .n = sizeof connector_rows / sizeof connector_rows[0],
    .view_size = sizeof(sl_metrics_connector),
    .label = "connector",
    .label_at = offsetof(sl_metrics_connector, name),
};

static const sl_metrics_row http_rows[] = {
    {"sluice_http_connections", GAUGE, HTTP(open), NULL,
     0, ABSENT, "HTTP intake connections open.", NULL},
    {"sluice_http_connections_accepted_total", COUNTER, HTTP(accepted), NULL,
     1, ABSENT, "HTTP intake connections accepted.", NULL},
    {"sluice_http_slow_closed_total", COUNTER, HTTP(slow_closed), NULL,
     2, ABSENT, "HTTP intake connections closed for not sending a whole "
     "request within request_timeout_s.", NULL},
    {"sluice_http_accept_paused_total", COUNTER, HTTP(paused), NULL,
     3, ABSENT, "Times the HTTP intake stopped accepting at max_connections.", NULL},
    {"sluice_http_requests_refused_total", COUNTER, HTTP(refused), NULL,
     4, ABSENT, "HTTP requests refused before routing (too large, malformed).", NULL},
};

_Static_assert(sizeof http_rows / sizeof http_rows[0] ==
                   sizeof(sl_metrics_http) / sizeof(uint64_t),
               "every value of sl_metrics_http has one row");

const sl_metrics_table sl_metrics_http_table = {
    .rows = http_rows,
    .n = sizeof http_rows / sizeof http_rows[0],
    .view_size = sizeof(sl_metrics_http),
};

static const sl_metrics_row tls_rows[] = {
    {"sluice_intake_tls_handshake_failures_total", COUNTER,
     offsetof(sl_metrics_tls, handshake_failures), NULL, 0, ABSENT,
     "TLS handshakes of intake clients that failed (no or a bad client "
     "certificate, plain HTTP, an unsupported version) or were not done "
     "within the listener's timeout.", NULL},
};

_Static_assert(sizeof tls_rows / sizeof tls_rows[0] ==
                   (sizeof(sl_metrics_tls) - sizeof(const char *)) /
                       sizeof(uint64_t),
               "every value of sl_metrics_tls has one row");

const sl_metrics_table sl_metrics_tls_table = {
    .rows = tls_rows,
    .n = sizeof tls_rows / sizeof tls_rows[0],
    .view_size = sizeof(sl_metrics_tls),
    .label = "listener",
    .label_at = offsetof(sl_metrics_tls, listener),
};

static uint64_t value(const sl_metrics_row *r, const void *view)
{
    return *(const uint64_t *)((const char *)view + r->at);
}

static const char *label_value(const sl_metrics_table *t, const void *view)
{
    return *(const char *const *)((const char *)view + t->label_at);
}

/* The row's samples, after its family's # HELP and # TYPE unless
 * `same_family` (the row before was of its family). */
static int write_family(const sl_metrics_table *t, const sl_metrics_row *r,
                        int same_family, const char *views, size_t n,
                        sl_buf *out)
{
    const char *type = r->type == SL_METRICS_GAUGE ||
                               r->type == SL_METRICS_GAUGE_MS
                           ? "gauge"
                           : "counter";
    if (!same_family &&
        sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", r->name, r->help,
                      r->name, type) != 0)
        return -1;
    const char *more = r->labels ? r->labels : "";
    for (size_t i = 0; i < n; i++) {
        const void *view = views + i * t->view_size;
        char num[32];
        uint64_t v = value(r, view);
        if (r->type == SL_METRICS_COUNTER_MS ||
            r->type == SL_METRICS_GAUGE_MS)
            snprintf(num, sizeof num, "%" PRIu64 ".%03u", v / 1000,
                     (unsigned)(v % 1000));
        else
            snprintf(num, sizeof num, "%" PRIu64, v);
        int rc = t->label
                     ? (sl_buf_printf(out, "%s{%s=\"", r->name, t->label) ||
                        sl_metrics_label_value(label_value(t, view), out) ||
                        sl_buf_printf(out, "\"%s%s} %s\n", *more ? "," : "",
                                      more, num))
                 : *more ? sl_buf_printf(out, "%s{%s} %s\n", r->name, more,
                                         num)
                         : sl_buf_printf(out, "%s %s\n", r->name, num);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The row at position `at` of the Prometheus text (json = 0) or of the
 * JSON object (json = 1); NULL past the last. */
static const sl_metrics_row *listed(const sl_metrics_table *t, int json,
                                    int at)
{
    for (size_t i = 0; i < t->n; i++)
        if ((json ? t->rows[i].json_at : t->rows[i].prom_at) == at)
            return &t->rows[i];
    return NULL;
}

int sl_metrics_prom(const sl_metrics_table *t, const void *views, size_t n,
                    sl_buf *out)
{
    size_t len0 = out->len;
    const sl_metrics_row *r, *prev = NULL;
    for (int at = 0; (r = listed(t, 0, at)); prev = r, at++)
        if (write_family(t, r, prev && strcmp(prev->name, r->name) == 0,
                         views, n, out) != 0)
            goto fail;
    return 0;
fail:
    sl_buf_truncate(out, len0);
    return -1;
}

int sl_metrics_json(const sl_metrics_table *t, const void *view, sl_buf *out)
{
    size_t len0 = out->len;
    const sl_metrics_row *r;
    if (sl_buf_putc(out, '{') != 0)
        goto fail;
    for (int at = 0; (r = listed(t, 1, at)); at++)
        if (sl_buf_printf(out, "%s\"%s\":%" PRIu64, at ? "," : "", r->key,
                          value(r, view)) != 0)
            goto fail;
    if (sl_buf_putc(out, '}') != 0)
        goto fail;
    return 0;
fail:
    sl_buf_truncate(out, len0);
    return -1;
}

/* ---- families that are not one value per view ---------------------------- */

#define DIST(f) offsetof(sl_metrics_connector, stats.dist.f)

/* The histograms of a connector view, in the order of /metrics. */
static const struct {
    const char *name, *help;
    size_t at; /* offset of its sl_histogram in the view */
    const sl_histogram_spec *spec;
} hist_rows[] = {
    {"sluice_intake_request_duration_seconds",
     "HTTP intake requests, from the whole request read to the answer "
     "(waiting for durability included).", DIST(intake_latency),
     &sl_histogram_latency_us},
    {"sluice_tcp_ack_duration_seconds",
     "TCP intake lines with ack, one per line answered: from its chunk "
     "handed to the connector to its answer queued (waiting for "
     "durability included).", DIST(tcp_ack_latency),
     &sl_histogram_latency_us},
    {"sluice_delivery_attempt_duration_seconds",
     "Delivery attempts, from the start of the transfer to its end.",
     DIST(attempt_latency), &sl_histogram_latency_us},
    {"sluice_delivery_batch_records", "Records per delivery attempt.",
     DIST(batch_records), &sl_histogram_records},
    {"sluice_delivery_batch_bytes", "Body bytes per delivery attempt.",
     DIST(batch_bytes), &sl_histogram_bytes},
};

/* Label value of each sl_stats_net cause. */
static const char *const net_causes[SL_STATS_NET_COUNT] = {
    [SL_STATS_NET_CONNECT] = "connect", [SL_STATS_NET_TIMEOUT] = "timeout",
    [SL_STATS_NET_TLS] = "tls",         [SL_STATS_NET_DNS] = "dns",
    [SL_STATS_NET_OTHER] = "other",
};

/* Label value of each sl_stats_lua_kind. */
static const char *const lua_kinds[SL_STATS_LUA_KINDS] = {
    [SL_STATS_LUA_TRANSFORM] = "transform",
    [SL_STATS_LUA_HEADERS_FN] = "headers_fn",
    [SL_STATS_LUA_RESPONSE_FN] = "response_fn",
};

#define LUA_AT(f) offsetof(sl_metrics_connector, stats.dist.lua[0].f)

/* The Lua families: one sample per connector and function kind. */
static const struct {
    const char *name, *help;
    size_t at;   /* offset of the kind-0 value in the view */
    int micros;  /* microseconds, shown as seconds */
} lua_rows[] = {
    {"sluice_lua_calls_total", "Calls of the connector's Lua functions that "
     "ended, by kind.", LUA_AT(calls), 0},
    {"sluice_lua_errors_total", "Lua calls that raised or ran out of "
     "memory or instruction budget, by kind.", LUA_AT(errors), 0},
    {"sluice_lua_budget_exceeded_total", "Lua calls stopped at the "
     "instruction budget (lua.max_instructions), by kind.", LUA_AT(overruns),
     0},
    {"sluice_lua_seconds_total", "Time in Lua calls, by kind (a headers_fn "
     "or response_fn waiting in sluice.http.request included).",
     LUA_AT(time_us), 1},
};

int sl_metrics_label_value(const char *s, sl_buf *out)
{
    for (; *s; s++) {
        int rc = *s == '\\'   ? sl_buf_append(out, "\\\\", 2)
                 : *s == '"'  ? sl_buf_append(out, "\\\"", 2)
                 : *s == '\n' ? sl_buf_append(out, "\\n", 2)
                              : sl_buf_putc(out, *s);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* connector="NAME" of view v into lab (reset first). */
static int connector_label(const sl_metrics_connector *v, sl_buf *lab)
{
    sl_buf_reset(lab);
    return sl_buf_append(lab, "connector=\"", 11) ||
           sl_metrics_label_value(v->name, lab) || sl_buf_putc(lab, '"') ||
           sl_buf_putc(lab, '\0');
}

static int family_head(sl_buf *out, const char *name, const char *type,
                       const char *help)
{
    return sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
                         name, type);
}

static int lua_families(const sl_metrics_connector *views, size_t n,
                        sl_buf *lab, sl_buf *out)
{
    const size_t stride = sizeof views[0].stats.dist.lua[0];
    for (size_t r = 0; r < sizeof lua_rows / sizeof lua_rows[0]; r++) {
        if (family_head(out, lua_rows[r].name, "counter", lua_rows[r].help))
            return -1;
        for (size_t i = 0; i < n; i++) {
            if (connector_label(&views[i], lab) != 0)
                return -1;
            for (int k = 0; k < SL_STATS_LUA_KINDS; k++) {
                uint64_t v = *(const uint64_t *)((const char *)&views[i] +
                                                 lua_rows[r].at + k * stride);
                char num[40];
                if (lua_rows[r].micros)
                    snprintf(num, sizeof num, "%" PRIu64 ".%06u", v / 1000000,
                             (unsigned)(v % 1000000));
                else
                    snprintf(num, sizeof num, "%" PRIu64, v);
                if (sl_buf_printf(out, "%s{%s,function=\"%s\"} %s\n",
                                  lua_rows[r].name, lab->data, lua_kinds[k],
                                  num) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

int sl_metrics_prom_dist(const sl_metrics_connector *views, size_t n,
                         sl_buf *out)
{
    size_t len0 = out->len;
    sl_buf lab;
    sl_buf_init(&lab, 0);
    for (size_t h = 0; h < sizeof hist_rows / sizeof hist_rows[0]; h++) {
        if (family_head(out, hist_rows[h].name, "histogram",
                        hist_rows[h].help) != 0)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            const sl_histogram *hg =
                (const sl_histogram *)((const char *)&views[i] +
                                       hist_rows[h].at);
            if (connector_label(&views[i], &lab) != 0 ||
                sl_histogram_prom(hg, hist_rows[h].spec, hist_rows[h].name,
                                  lab.data, out) != 0)
                goto fail;
        }
    }
    if (family_head(out, "sluice_responses_total", "counter",
                    "Answers from the destination, by HTTP status code.") != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (connector_label(&views[i], &lab) != 0)
            goto fail;
        const uint64_t *codes = views[i].stats.dist.responses;
        for (int c = 0; c < SL_STATS_CODES; c++)
            if (codes[c] && sl_buf_printf(out, "sluice_responses_total{%s,"
                                          "code=\"%d\"} %" PRIu64 "\n",
                                          lab.data, c + SL_STATS_CODE_MIN,
                                          codes[c]) != 0)
                goto fail;
    }
    if (family_head(out, "sluice_transport_failures_total", "counter",
                    "Delivery attempts without an HTTP answer, by cause.") != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (connector_label(&views[i], &lab) != 0)
            goto fail;
        for (int c = 0; c < SL_STATS_NET_COUNT; c++)
            if (sl_buf_printf(out, "sluice_transport_failures_total{%s,"
                              "cause=\"%s\"} %" PRIu64 "\n", lab.data,
                              net_causes[c],
                              views[i].stats.dist.transport[c]) != 0)
                goto fail;
    }
    if (lua_families(views, n, &lab, out) != 0)
        goto fail;
    sl_buf_free(&lab);
    return 0;
fail:
    sl_buf_free(&lab);
    sl_buf_truncate(out, len0);
    return -1;
}

int sl_metrics_build_info(const char *version, sl_buf *out)
{
    size_t len0 = out->len;
    if (family_head(out, "sluice_build_info", "gauge",
                    "Always 1; the labels say which sluice this is.") != 0 ||
        sl_buf_append(out, "sluice_build_info{version=\"", 27) != 0 ||
        sl_metrics_label_value(version, out) != 0 ||
        sl_buf_append(out, "\"} 1\n", 5) != 0) {
        sl_buf_truncate(out, len0);
        return -1;
    }
    return 0;
}
