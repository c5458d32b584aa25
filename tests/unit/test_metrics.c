/* Unit tests for sl_metrics: the tables render exactly what /metrics and
 * the "stats" of GET /v1/connectors have always shown, every metric is
 * well formed, and every counter of sl_stats has its row. */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_metrics.h"
#include "sl_test.h"

/* Slot i (in the order of the view's members) gets first + i * step. */
static void fill(sl_metrics_connector *m, const char *name, uint64_t first,
                 uint64_t step)
{
    uint64_t v = first;
    m->name = name;
    m->stats.accepted = v, v += step;
    m->stats.rejected = v, v += step;
    m->stats.delivered = v, v += step;
    m->stats.requests = v, v += step;
    m->stats.failures = v, v += step;
    m->stats.retries = v, v += step;
    m->stats.refused = v, v += step;
    m->stats.dropped = v, v += step;
    m->stats.dead_lettered = v, v += step;
    m->stats.splits = v, v += step;
    m->stats.replayed = v, v += step;
    m->stats.unauthorized = v, v += step;
    for (size_t i = 0; i < SL_TLS_CAUSE_COUNT - 1; i++)
        m->stats.tls_failures[i] = v, v += step;
    m->stats.rate_limited = v, v += step;
    m->stats.rate_limit_wait_ms = v, v += step;
    m->stats.quota_pauses = v, v += step;
    m->stats.response_fn_errors = v, v += step;
    m->stats.records_retried = v, v += step;
    m->queued = v, v += step;
    m->in_flight = v, v += step;
    m->pending = v, v += step;
    m->spool_bytes = v, v += step;
    m->dead_letters = v, v += step;
    m->stats.concurrency_decreases = v, v += step;
    m->concurrency_limit = v, v += step;
    m->state_delivering = v, v += step;
    m->state_degraded = v, v += step;
    m->state_blocked = v, v += step;
    m->oldest_age_ms = v, v += step;
    m->last_delivery_ms = v, v += step;
    m->spool_records = v, v += step;
    m->stats.dry_runs = v;
}

/* What /metrics showed for two connectors before the table (byte for
 * byte, values aside). */
static const char want_connectors[] =
    "# HELP sluice_records_accepted_total Records accepted at the intake.\n"
    "# TYPE sluice_records_accepted_total counter\n"
    "sluice_records_accepted_total{connector=\"a\"} 1\n"
    "sluice_records_accepted_total{connector=\"b\"} 18446744073709551615\n"
    "# HELP sluice_records_rejected_total Records rejected at the intake.\n"
    "# TYPE sluice_records_rejected_total counter\n"
    "sluice_records_rejected_total{connector=\"a\"} 2\n"
    "sluice_records_rejected_total{connector=\"b\"} 18446744073709551614\n"
    "# HELP sluice_records_delivered_total Records the destination "
    "acknowledged.\n"
    "# TYPE sluice_records_delivered_total counter\n"
    "sluice_records_delivered_total{connector=\"a\"} 3\n"
    "sluice_records_delivered_total{connector=\"b\"} 18446744073709551613\n"
    "# HELP sluice_records_refused_total Valid records refused (503) "
    "because the spool was full or could not write them.\n"
    "# TYPE sluice_records_refused_total counter\n"
    "sluice_records_refused_total{connector=\"a\"} 7\n"
    "sluice_records_refused_total{connector=\"b\"} 18446744073709551609\n"
    "# HELP sluice_records_dropped_total Records a transform dropped.\n"
    "# TYPE sluice_records_dropped_total counter\n"
    "sluice_records_dropped_total{connector=\"a\"} 8\n"
    "sluice_records_dropped_total{connector=\"b\"} 18446744073709551608\n"
    "# HELP sluice_requests_total Delivery attempts sent.\n"
    "# TYPE sluice_requests_total counter\n"
    "sluice_requests_total{connector=\"a\"} 4\n"
    "sluice_requests_total{connector=\"b\"} 18446744073709551612\n"
    "# HELP sluice_request_failures_total Delivery attempts that failed.\n"
    "# TYPE sluice_request_failures_total counter\n"
    "sluice_request_failures_total{connector=\"a\"} 5\n"
    "sluice_request_failures_total{connector=\"b\"} 18446744073709551611\n"
    "# HELP sluice_request_retries_total Delivery attempts that were "
    "retries.\n"
    "# TYPE sluice_request_retries_total counter\n"
    "sluice_request_retries_total{connector=\"a\"} 6\n"
    "sluice_request_retries_total{connector=\"b\"} 18446744073709551610\n"
    "# HELP sluice_records_dead_lettered_total Records moved to the "
    "dead letters.\n"
    "# TYPE sluice_records_dead_lettered_total counter\n"
    "sluice_records_dead_lettered_total{connector=\"a\"} 9\n"
    "sluice_records_dead_lettered_total{connector=\"b\"} "
    "18446744073709551607\n"
    "# HELP sluice_batch_splits_total Batches halved after a 413 or to "
    "isolate a permanent failure.\n"
    "# TYPE sluice_batch_splits_total counter\n"
    "sluice_batch_splits_total{connector=\"a\"} 10\n"
    "sluice_batch_splits_total{connector=\"b\"} 18446744073709551606\n"
    "# HELP sluice_requests_unauthorized_total Intake requests refused "
    "for a missing or wrong intake key.\n"
    "# TYPE sluice_requests_unauthorized_total counter\n"
    "sluice_requests_unauthorized_total{connector=\"a\"} 12\n"
    "sluice_requests_unauthorized_total{connector=\"b\"} "
    "18446744073709551604\n"
    "# HELP sluice_records_queued Records in the spool not yet cut "
    "into a batch.\n"
    "# TYPE sluice_records_queued gauge\n"
    "sluice_records_queued{connector=\"a\"} 27\n"
    "sluice_records_queued{connector=\"b\"} 18446744073709551589\n"
    "# HELP sluice_records_pending Records in batches not yet finished.\n"
    "# TYPE sluice_records_pending gauge\n"
    "sluice_records_pending{connector=\"a\"} 29\n"
    "sluice_records_pending{connector=\"b\"} 18446744073709551587\n"
    "# HELP sluice_requests_in_flight Delivery requests in flight.\n"
    "# TYPE sluice_requests_in_flight gauge\n"
    "sluice_requests_in_flight{connector=\"a\"} 28\n"
    "sluice_requests_in_flight{connector=\"b\"} 18446744073709551588\n"
    "# HELP sluice_spool_bytes Undelivered bytes held by the spool.\n"
    "# TYPE sluice_spool_bytes gauge\n"
    "sluice_spool_bytes{connector=\"a\"} 30\n"
    "sluice_spool_bytes{connector=\"b\"} 18446744073709551586\n"
    "# HELP sluice_dead_letters Records in the dead letters.\n"
    "# TYPE sluice_dead_letters gauge\n"
    "sluice_dead_letters{connector=\"a\"} 31\n"
    "sluice_dead_letters{connector=\"b\"} 18446744073709551585\n"
    "# HELP sluice_tls_failures_total Delivery attempts whose TLS failed, "
    "by cause.\n"
    "# TYPE sluice_tls_failures_total counter\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"unknown_ca\"} 13\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"unknown_ca\"} 18446744073709551603\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"cert_expired\"} 14\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"cert_expired\"} 18446744073709551602\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"cert_not_yet_valid\"} 15\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"cert_not_yet_valid\"} 18446744073709551601\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"name_mismatch\"} 16\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"name_mismatch\"} 18446744073709551600\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"client_cert_required\"} 17\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"client_cert_required\"} 18446744073709551599\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"client_cert_rejected\"} 18\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"client_cert_rejected\"} 18446744073709551598\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"protocol_version\"} 19\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"protocol_version\"} 18446744073709551597\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"local_files\"} 20\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"local_files\"} 18446744073709551596\n"
    "sluice_tls_failures_total{connector=\"a\",cause=\"other_handshake\"} 21\n"
    "sluice_tls_failures_total{connector=\"b\",cause=\"other_handshake\"} 18446744073709551595\n"
    "# HELP sluice_rate_limit_delayed_total Delivery attempts held back "
    "by rate_limit.\n"
    "# TYPE sluice_rate_limit_delayed_total counter\n"
    "sluice_rate_limit_delayed_total{connector=\"a\"} 22\n"
    "sluice_rate_limit_delayed_total{connector=\"b\"} 18446744073709551594\n"
    "# HELP sluice_rate_limit_wait_seconds_total Time delivery attempts "
    "were held back by rate_limit, summed over attempts.\n"
    "# TYPE sluice_rate_limit_wait_seconds_total counter\n"
    "sluice_rate_limit_wait_seconds_total{connector=\"a\"} 0.023\n"
    "sluice_rate_limit_wait_seconds_total{connector=\"b\"} "
    "18446744073709551.593\n"
    "# HELP sluice_quota_pauses_total Pauses because the destination said "
    "its rate-limit quota was exhausted.\n"
    "# TYPE sluice_quota_pauses_total counter\n"
    "sluice_quota_pauses_total{connector=\"a\"} 24\n"
    "sluice_quota_pauses_total{connector=\"b\"} 18446744073709551592\n"
    "# HELP sluice_response_fn_errors_total response_fn calls that failed, "
    "ran out of budget or returned something invalid; the piece was "
    "retried.\n"
    "# TYPE sluice_response_fn_errors_total counter\n"
    "sluice_response_fn_errors_total{connector=\"a\"} 25\n"
    "sluice_response_fn_errors_total{connector=\"b\"} 18446744073709551591\n"
    "# HELP sluice_records_retried_total Records response_fn listed as "
    "failed with retry = true, sent again in a piece of their own.\n"
    "# TYPE sluice_records_retried_total counter\n"
    "sluice_records_retried_total{connector=\"a\"} 26\n"
    "sluice_records_retried_total{connector=\"b\"} 18446744073709551590\n"
    "# HELP sluice_concurrency_decreases_total Cuts of the adaptive "
    "concurrency limit (back pressure or a rising latency).\n"
    "# TYPE sluice_concurrency_decreases_total counter\n"
    "sluice_concurrency_decreases_total{connector=\"a\"} 32\n"
    "sluice_concurrency_decreases_total{connector=\"b\"} "
    "18446744073709551584\n"
    "# HELP sluice_concurrency_limit Delivery requests that may be in "
    "flight: the adaptive limit now, or the fixed concurrency.\n"
    "# TYPE sluice_concurrency_limit gauge\n"
    "sluice_concurrency_limit{connector=\"a\"} 33\n"
    "sluice_concurrency_limit{connector=\"b\"} 18446744073709551583\n"
    "# HELP sluice_connector_state The connector's health state now (1) "
    "and the others (0): delivering, degraded (attempts failing for "
    "degraded_after_s), blocked (spool full; the intake answers 503).\n"
    "# TYPE sluice_connector_state gauge\n"
    "sluice_connector_state{connector=\"a\",state=\"delivering\"} 34\n"
    "sluice_connector_state{connector=\"b\",state=\"delivering\"} "
    "18446744073709551582\n"
    "sluice_connector_state{connector=\"a\",state=\"degraded\"} 35\n"
    "sluice_connector_state{connector=\"b\",state=\"degraded\"} "
    "18446744073709551581\n"
    "sluice_connector_state{connector=\"a\",state=\"blocked\"} 36\n"
    "sluice_connector_state{connector=\"b\",state=\"blocked\"} "
    "18446744073709551580\n"
    "# HELP sluice_oldest_record_age_seconds Age of the oldest undelivered "
    "record, waiting or in a batch (0: none).\n"
    "# TYPE sluice_oldest_record_age_seconds gauge\n"
    "sluice_oldest_record_age_seconds{connector=\"a\"} 0.037\n"
    "sluice_oldest_record_age_seconds{connector=\"b\"} "
    "18446744073709551.579\n"
    "# HELP sluice_last_delivery_timestamp_seconds Unix time of the last "
    "2xx answer from the destination (0: none since start).\n"
    "# TYPE sluice_last_delivery_timestamp_seconds gauge\n"
    "sluice_last_delivery_timestamp_seconds{connector=\"a\"} 0.038\n"
    "sluice_last_delivery_timestamp_seconds{connector=\"b\"} "
    "18446744073709551.578\n"
    "# HELP sluice_spool_records Undelivered records: in the spool and in "
    "batches not yet finished.\n"
    "# TYPE sluice_spool_records gauge\n"
    "sluice_spool_records{connector=\"a\"} 39\n"
    "sluice_spool_records{connector=\"b\"} 18446744073709551577\n"
    "# HELP sluice_dry_runs_total Dry runs (?dry_run=true) whose records "
    "were checked and answered: nothing spooled, nothing counted accepted "
    "or rejected.\n"
    "# TYPE sluice_dry_runs_total counter\n"
    "sluice_dry_runs_total{connector=\"a\"} 40\n"
    "sluice_dry_runs_total{connector=\"b\"} 18446744073709551576\n";

static const char want_http[] =
    "# HELP sluice_http_connections HTTP intake connections open.\n"
    "# TYPE sluice_http_connections gauge\n"
    "sluice_http_connections 11\n"
    "# HELP sluice_http_connections_accepted_total HTTP intake "
    "connections accepted.\n"
    "# TYPE sluice_http_connections_accepted_total counter\n"
    "sluice_http_connections_accepted_total 22\n"
    "# HELP sluice_http_slow_closed_total HTTP intake connections "
    "closed for not sending a whole request within request_timeout_s.\n"
    "# TYPE sluice_http_slow_closed_total counter\n"
    "sluice_http_slow_closed_total 33\n"
    "# HELP sluice_http_accept_paused_total Times the HTTP intake "
    "stopped accepting at max_connections.\n"
    "# TYPE sluice_http_accept_paused_total counter\n"
    "sluice_http_accept_paused_total 44\n"
    "# HELP sluice_http_requests_refused_total HTTP requests refused "
    "before routing (too large, malformed).\n"
    "# TYPE sluice_http_requests_refused_total counter\n"
    "sluice_http_requests_refused_total 55\n";

static const char want_json[] =
    "{\"accepted\":1,\"rejected\":2,\"delivered\":3,\"queued\":27,"
    "\"in_flight\":28,\"pending\":29,\"requests\":4,\"failures\":5,"
    "\"retries\":6,\"refused\":7,\"dropped\":8,\"dead_lettered\":9,"
    "\"splits\":10,\"replayed\":11,\"unauthorized\":12,\"spool_bytes\":30,"
    "\"dead_letters\":31,\"rate_limited\":22,\"rate_limit_wait_ms\":23,"
    "\"quota_pauses\":24,\"response_fn_errors\":25,"
    "\"records_retried\":26,\"concurrency_decreases\":32,"
    "\"concurrency_limit\":33,\"oldest_record_age_ms\":37,"
    "\"last_delivery_ms\":38,\"spool_records\":39,\"dry_runs\":40}";

static void test_prom_connectors_exact(void)
{
    sl_metrics_connector m[2];
    fill(&m[0], "a", 1, 1);
    fill(&m[1], "b", UINT64_MAX, (uint64_t)-1);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_prom(&sl_metrics_connector_table, m, 2, &b) == 0);
    CHECK_STR(sl_buf_cstr(&b), want_connectors);
    sl_buf_free(&b);
}

static void test_prom_no_connectors(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_prom(&sl_metrics_connector_table, NULL, 0, &b) == 0);
    const char *s = sl_buf_cstr(&b);
    CHECK_CONTAINS(s, "# HELP sluice_records_accepted_total Records accepted "
                      "at the intake.\n# TYPE sluice_records_accepted_total "
                      "counter\n# HELP sluice_records_rejected_total");
    CHECK(s && !strstr(s, "{connector="));
    CHECK(s && s[b.len - 1] == '\n');
    sl_buf_free(&b);
}

static void test_prom_http_exact(void)
{
    sl_metrics_http h = {.open = 11, .accepted = 22, .slow_closed = 33,
                         .paused = 44, .refused = 55};
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_prom(&sl_metrics_http_table, &h, 1, &b) == 0);
    CHECK_STR(sl_buf_cstr(&b), want_http);
    sl_buf_free(&b);
}

static void test_json_exact(void)
{
    sl_metrics_connector m;
    fill(&m, "a", 1, 1);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_buf_append(&b, "\"stats\":", 8) == 0);
    CHECK(sl_metrics_json(&sl_metrics_connector_table, &m, &b) == 0);
    CHECK(b.len == 8 + strlen(want_json));
    CHECK(b.len > 8 && strcmp(sl_buf_cstr(&b) + 8, want_json) == 0);
    sl_buf_free(&b);

    sl_metrics_http h = {0};
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_json(&sl_metrics_http_table, &h, &b) == 0);
    CHECK_STR(sl_buf_cstr(&b), "{}");
    sl_buf_free(&b);
}

/* Every cap from one byte to past the whole text: below it -1 and what
 * was there is kept; past it the whole text. */
static void test_out_of_room_leaves_out_unchanged(void)
{
    sl_metrics_connector m[2];
    fill(&m[0], "a", 1, 1);
    fill(&m[1], "b", UINT64_MAX, (uint64_t)-1);
    const size_t prom = 1 + strlen(want_connectors);
    const size_t json = 1 + strlen(want_json);
    for (size_t max = 1; max <= prom + 1; max++) {
        sl_buf b;
        sl_buf_init(&b, max);
        CHECK(sl_buf_putc(&b, '@') == 0);
        int rc = sl_metrics_prom(&sl_metrics_connector_table, m, 2, &b);
        CHECK(rc == 0 ? b.len == prom : rc == -1 && b.len == 1);
        CHECK(b.data[0] == '@');
        CHECK(max < prom ? rc == -1 : max > prom ? rc == 0 : 1);
        sl_buf_truncate(&b, 1);
        if (max <= json + 1) {
            rc = sl_metrics_json(&sl_metrics_connector_table, &m[0], &b);
            CHECK(rc == 0 ? b.len == json : rc == -1 && b.len == 1);
            CHECK(max < json ? rc == -1 : max > json ? rc == 0 : 1);
        }
        sl_buf_free(&b);
    }
}

static int prom_name_ok(const char *s)
{
    if (!s || !(isalpha((unsigned char)*s) || *s == '_' || *s == ':'))
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == ':'))
            return 0;
    return 1;
}

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

/* The rows that have a position in a listing have 0..k-1, once each. */
static void check_positions(const sl_metrics_table *t, int json)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        if ((json ? t->rows[i].json_at : t->rows[i].prom_at) !=
            SL_METRICS_ABSENT)
            k++;
    for (size_t at = 0; at < k; at++) {
        int seen = 0;
        for (size_t i = 0; i < t->n; i++)
            seen += (size_t)(json ? t->rows[i].json_at : t->rows[i].prom_at) ==
                    at;
        if (seen != 1)
            fprintf(stderr, "%s position %zu: %d rows\n",
                    json ? "json" : "prom", at, seen);
        CHECK(seen == 1);
    }
}

/* The offset of the i-th value of a view whose values start at `first`
 * and that has `gap` bytes at `gap_at` that are not values (a connector
 * view's stats.dist). */
static size_t value_at(size_t first, size_t i, size_t gap_at, size_t gap)
{
    size_t at = first + i * sizeof(uint64_t);
    return gap && at >= gap_at ? at + gap : at;
}

static void check_table(const sl_metrics_table *t, size_t first_value)
{
    size_t gap_at = 0, gap = 0;
    if (t == &sl_metrics_connector_table) {
        gap_at = offsetof(sl_metrics_connector, stats.dist);
        gap = sizeof(sl_stats_dist);
    }
    CHECK(t->n > 0);
    CHECK((t->view_size - first_value - gap) / sizeof(uint64_t) == t->n);
    for (size_t i = 0; i < t->n; i++) {
        const sl_metrics_row *r = &t->rows[i];
        CHECK(prom_name_ok(r->name));
        CHECK(strncmp(r->name, "sluice_", 7) == 0);
        CHECK(r->help && r->help[0] && !strchr(r->help, '\n') &&
              !strchr(r->help, '\\'));
        CHECK(r->type == SL_METRICS_COUNTER || r->type == SL_METRICS_GAUGE ||
              r->type == SL_METRICS_COUNTER_MS ||
              r->type == SL_METRICS_GAUGE_MS);
        int gauge = r->type == SL_METRICS_GAUGE ||
                    r->type == SL_METRICS_GAUGE_MS;
        int ms = r->type == SL_METRICS_COUNTER_MS ||
                 r->type == SL_METRICS_GAUGE_MS;
        /* Prometheus naming: a counter's name ends in _total, only it; one
           of milliseconds is shown in seconds and says so */
        CHECK(ends_with(r->name, "_total") == !gauge);
        CHECK(ends_with(r->name, "_seconds_total") ==
              (r->type == SL_METRICS_COUNTER_MS));
        CHECK(r->type != SL_METRICS_GAUGE_MS ||
              ends_with(r->name, "_seconds"));
        CHECK(!ms || ends_with(r->key, "_ms"));
        /* rows in the view's order, one per value */
        CHECK(r->at == value_at(first_value, i, gap_at, gap));
        CHECK((r->key != NULL) == (r->json_at != SL_METRICS_ABSENT));
        if (r->key)
            for (const char *k = r->key; *k; k++)
                CHECK(islower((unsigned char)*k) || *k == '_');
        /* a name twice only for one family's rows, side by side, each
           with its own labels */
        if (i > 0 && strcmp(r->name, t->rows[i - 1].name) == 0) {
            const sl_metrics_row *p = &t->rows[i - 1];
            CHECK(r->labels && p->labels && strcmp(r->labels, p->labels) != 0);
            CHECK(r->prom_at == p->prom_at + 1);
            CHECK(r->type == p->type && strcmp(r->help, p->help) == 0);
        }
        for (size_t j = 0; j + 1 < i; j++) {
            CHECK(strcmp(r->name, t->rows[j].name) != 0 ||
                  strcmp(r->name, t->rows[j + 1].name) == 0);
            CHECK(!r->key || !t->rows[j].key ||
                  strcmp(r->key, t->rows[j].key) != 0);
        }
    }
    check_positions(t, 0);
    check_positions(t, 1);
}

static void test_tables_well_formed(void)
{
    check_table(&sl_metrics_connector_table,
                offsetof(sl_metrics_connector, stats));
    check_table(&sl_metrics_http_table, 0);
    CHECK_STR(sl_metrics_connector_table.label, "connector");
    CHECK(sl_metrics_connector_table.label_at ==
          offsetof(sl_metrics_connector, name));
    CHECK(sl_metrics_http_table.label == NULL);
    /* no family is in both tables: they are written into one text */
    for (size_t i = 0; i < sl_metrics_connector_table.n; i++)
        for (size_t j = 0; j < sl_metrics_http_table.n; j++)
            CHECK(strcmp(sl_metrics_connector_table.rows[i].name,
                         sl_metrics_http_table.rows[j].name) != 0);
}

/* A counter added to sl_stats without its row is caught here as well as
 * by the static assert in sl_metrics.c. */
static void test_every_stats_field_has_a_row(void)
{
    const size_t first = offsetof(sl_metrics_connector, stats);
    const size_t nstats = offsetof(sl_stats, dist) / sizeof(uint64_t);
    CHECK(offsetof(sl_stats, dist) % sizeof(uint64_t) == 0);
    CHECK(offsetof(sl_stats, dist) + sizeof(sl_stats_dist) ==
          sizeof(sl_stats)); /* dist is last */
    size_t found = 0;
    for (size_t f = 0; f < nstats; f++) {
        size_t rows = 0;
        for (size_t i = 0; i < sl_metrics_connector_table.n; i++)
            rows += sl_metrics_connector_table.rows[i].at ==
                    first + f * sizeof(uint64_t);
        CHECK(rows == 1);
        found += rows == 1;
    }
    CHECK(found == 13 + SL_TLS_CAUSE_COUNT - 1 + 6); /* accepted ..
         unauthorized, tls_failures, rate_limit's two, quota_pauses,
         response_fn's two, concurrency_decreases, dry_runs
         today */
    CHECK(found == nstats);
}

/* The TLS failures' label values are sl_tls_cause's keys, in its
 * order. */
static void test_tls_failures_by_cause(void)
{
    const size_t at0 = offsetof(sl_metrics_connector, stats.tls_failures);
    size_t seen = 0;
    for (size_t i = 0; i < sl_metrics_connector_table.n; i++) {
        const sl_metrics_row *r = &sl_metrics_connector_table.rows[i];
        if (strcmp(r->name, "sluice_tls_failures_total") != 0)
            continue;
        size_t k = (r->at - at0) / sizeof(uint64_t);
        char want[64];
        snprintf(want, sizeof want, "cause=\"%s\"",
                 sl_tls_cause_key((sl_tls_cause)(k + 1)));
        CHECK_STR(r->labels, want);
        seen++;
    }
    CHECK(seen == SL_TLS_CAUSE_COUNT - 1);
}

/* The families of sl_stats_dist: histograms for every connector, the
 * answers by code only where counted, every transport cause; a hostile
 * connector name escaped in its label. */
static void test_prom_dist(void)
{
    sl_metrics_connector m[2];
    memset(m, 0, sizeof m);
    m[0].name = "a";
    m[1].name = "we\"ird\\\nname";
    sl_histogram_observe(&m[0].stats.dist.attempt_latency,
                         &sl_histogram_latency_us, 3000);
    m[0].stats.dist.responses[200 - SL_STATS_CODE_MIN] = 7;
    m[0].stats.dist.responses[599 - SL_STATS_CODE_MIN] = 1;
    m[1].stats.dist.responses[100 - SL_STATS_CODE_MIN] = 2;
    m[1].stats.dist.transport[SL_STATS_NET_DNS] = 4;
    m[0].stats.dist.lua[SL_STATS_LUA_RESPONSE_FN].calls = 9;
    m[0].stats.dist.lua[SL_STATS_LUA_TRANSFORM].time_us = 1500001;
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_prom_dist(m, 2, &b) == 0);
    const char *t = sl_buf_cstr(&b);
    CHECK_CONTAINS(t, "# TYPE sluice_delivery_attempt_duration_seconds "
                      "histogram\n");
    CHECK_CONTAINS(t, "sluice_delivery_attempt_duration_seconds_bucket{"
                      "connector=\"a\",le=\"0.005\"} 1\n");
    CHECK_CONTAINS(t, "sluice_delivery_attempt_duration_seconds_sum{"
                      "connector=\"a\"} 0.003\n");
    CHECK_CONTAINS(t, "sluice_intake_request_duration_seconds_count{"
                      "connector=\"we\\\"ird\\\\\\nname\"} 0\n");
    CHECK_CONTAINS(t, "# TYPE sluice_responses_total counter\n"
                      "sluice_responses_total{connector=\"a\",code=\"200\"} 7\n"
                      "sluice_responses_total{connector=\"a\",code=\"599\"} 1\n"
                      "sluice_responses_total{connector=\"we\\\"ird\\\\\\nname\","
                      "code=\"100\"} 2\n# HELP");
    CHECK(!strstr(t, "code=\"201\""));
    CHECK_CONTAINS(t, "sluice_transport_failures_total{connector=\"a\","
                      "cause=\"connect\"} 0\n");
    CHECK_CONTAINS(t, "cause=\"dns\"} 4\n");
    CHECK_CONTAINS(t, "# TYPE sluice_lua_calls_total counter\n"
                      "sluice_lua_calls_total{connector=\"a\","
                      "function=\"transform\"} 0\n"
                      "sluice_lua_calls_total{connector=\"a\","
                      "function=\"headers_fn\"} 0\n"
                      "sluice_lua_calls_total{connector=\"a\","
                      "function=\"response_fn\"} 9\n");
    CHECK_CONTAINS(t, "sluice_lua_seconds_total{connector=\"a\","
                      "function=\"transform\"} 1.500001\n");
    CHECK_CONTAINS(t, "sluice_lua_budget_exceeded_total{connector=");
    /* one # TYPE per family */
    const char *fams[] = {"sluice_responses_total ",
                          "sluice_transport_failures_total ",
                          "sluice_delivery_batch_bytes "};
    for (size_t i = 0; i < 3; i++) {
        char want[96];
        snprintf(want, sizeof want, "# TYPE %s", fams[i]);
        const char *at = strstr(t, want);
        CHECK(at && !strstr(at + 1, want));
    }
    size_t whole = b.len;
    sl_buf_free(&b);
    for (size_t max = 1; max <= whole + 2; max += 7) {
        sl_buf_init(&b, max);
        CHECK(sl_buf_putc(&b, '@') == 0);
        int rc = sl_metrics_prom_dist(m, 2, &b);
        CHECK(rc == 0 ? b.len == whole + 1 : rc == -1 && b.len == 1);
        sl_buf_free(&b);
    }
}

static void test_build_info(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_build_info("1.2.3-\"x\"", &b) == 0);
    CHECK_STR(sl_buf_cstr(&b), "# HELP sluice_build_info Always 1; the "
              "labels say which sluice this is.\n# TYPE sluice_build_info "
              "gauge\nsluice_build_info{version=\"1.2.3-\\\"x\\\"\"} 1\n");
    sl_buf_free(&b);
    sl_buf_init(&b, 10);
    CHECK(sl_metrics_build_info("1", &b) == -1 && b.len == 0);
    sl_buf_free(&b);
}

/* A connector's label value escaped in the counters' text too. */
static void test_label_escaped(void)
{
    sl_metrics_connector m;
    fill(&m, "q\"\\\n", 1, 1);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_metrics_prom(&sl_metrics_connector_table, &m, 1, &b) == 0);
    CHECK_CONTAINS(sl_buf_cstr(&b), "sluice_records_accepted_total{"
                   "connector=\"q\\\"\\\\\\n\"} 1\n");
    sl_buf_free(&b);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"prom_connectors_exact", test_prom_connectors_exact},
        {"prom_no_connectors", test_prom_no_connectors},
        {"prom_http_exact", test_prom_http_exact},
        {"json_exact", test_json_exact},
        {"out_of_room_leaves_out_unchanged",
         test_out_of_room_leaves_out_unchanged},
        {"tables_well_formed", test_tables_well_formed},
        {"every_stats_field_has_a_row", test_every_stats_field_has_a_row},
        {"tls_failures_by_cause", test_tls_failures_by_cause},
        {"prom_dist", test_prom_dist},
        {"build_info", test_build_info},
        {"label_escaped", test_label_escaped},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
