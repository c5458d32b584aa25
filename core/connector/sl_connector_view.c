/* sl_connector_view: what a connector shows — its metrics, its
 * description for GET /v1/connectors, its health. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_connector.h"
#include "sl_connector_def.h"
#include "sl_metrics.h"
#include "sl_time.h"
#include "sl_version.h"

static const char *const body_names[] = {"array", "object", "ndjson"};

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
    sl_luaruntime_tally on_threads = sl_checker_tally(c->checker);
    y[SL_STATS_LUA_TRANSFORM].calls += on_threads.calls;
    y[SL_STATS_LUA_TRANSFORM].errors += on_threads.errors;
    y[SL_STATS_LUA_TRANSFORM].overruns += on_threads.overruns;
    y[SL_STATS_LUA_TRANSFORM].time_us += on_threads.time_us;
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

