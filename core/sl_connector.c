/* sl_connector: a connector at run time. */
#include "sl_connector.h"

#include <stdlib.h>
#include <string.h>

#include "sl_clock.h"
#include "sl_delivery.h"
#include "sl_log.h"
#include "sl_queue.h"
#include "sl_luart.h"
#include "sl_transform.h"

#include <lauxlib.h>

struct sl_connector {
    const sl_connector_conf *conf;
    sl_queue *q;
    sl_delivery *d;
    sl_transform *xf; /* NULL without a transform */
    sl_luart *rt;     /* Lua on the loop (headers_fn); NULL without Lua */
    sl_stats stats;
    sl_buf block;   /* reused per request until the queue takes it */
    sl_buf rejects; /* reused per request */
};

static const char *const body_names[] = {"array", "object", "ndjson"};

sl_connector *sl_connector_new(const sl_connector_conf *conf,
                               struct event_base *base, sl_http *http,
                               char *err, size_t errlen)
{
    sl_connector *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->conf = conf;
    sl_buf_init(&c->block, 0);
    sl_buf_init(&c->rejects, 0);
    if (!(c->q = sl_queue_new(conf->queue_max_bytes))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (conf->L) {
        c->rt = sl_luart_new(conf->L, base, http, conf->lua_max_instructions,
                             err, errlen);
        if (!c->rt)
            goto fail;
    }
    c->d = sl_delivery_new(base, http, c->rt, conf, c->q, &c->stats, err,
                           errlen);
    if (!c->d)
        goto fail;
    if (conf->L && conf->transform_ref != LUA_NOREF &&
        conf->transform_ref != LUA_REFNIL) {
        c->xf = sl_transform_new(conf->L, conf->transform_ref, conf->schema,
                                 conf->name, conf->lua_max_instructions);
        if (!c->xf) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
    }
    return c;
fail:
    sl_connector_free(c);
    return NULL;
}

void sl_connector_free(sl_connector *c)
{
    if (!c)
        return;
    sl_delivery_free(c->d);
    sl_luart_free(c->rt);
    sl_transform_free(c->xf);
    sl_queue_free(c->q);
    sl_buf_free(&c->block);
    sl_buf_free(&c->rejects);
    free(c);
}

const char *sl_connector_name(const sl_connector *c) { return c->conf->name; }

static void answer_error(sl_buf *answer, const char *msg)
{
    sl_buf_append(answer, "{\"error\":", 9);
    sl_buf_json_string(answer, msg, strlen(msg));
    sl_buf_putc(answer, '}');
}

int sl_connector_ingest(sl_connector *c, sl_ingest_format fmt,
                        const char *body, size_t len, sl_buf *answer,
                        int *retry_after_s)
{
    sl_ingest_result res;
    sl_buf_reset(&c->block);
    sl_buf_reset(&c->rejects);
    /* The encoded records are about as large as the body (compact, plus
     * frames and missing nullable fields): size the block once instead of
     * doubling it from 256 bytes, a realloc and copy each time. Failure is
     * harmless here: appends grow it as needed. */
    (void)sl_buf_reserve(&c->block, len + len / 8 + 256);
    if (sl_ingest(c->conf->schema, c->xf, fmt, body, len, 0, &c->block,
                  &c->rejects, &res) != 0) {
        answer_error(answer, "out of memory while checking the records");
        return 500;
    }
    if (res.malformed) {
        sl_buf_append(answer, "{\"error\":", 9);
        char msg[256];
        snprintf(msg, sizeof msg, "malformed JSON at byte %zu: %s",
                 res.error_offset, res.error);
        sl_buf_json_string(answer, msg, strlen(msg));
        sl_buf_printf(answer, ",\"offset\":%zu}", res.error_offset);
        return 400;
    }
    if (res.accepted > 0) {
        sl_queue_rc qrc = sl_queue_append(c->q, &c->block, res.accepted,
                                          sl_mono_ms());
        if (qrc != SL_QUEUE_OK) {
            c->stats.refused += res.accepted;
            if (qrc == SL_QUEUE_FULL) {
                *retry_after_s = 1;
                answer_error(answer, "queue full: the destination is not "
                                     "keeping up; retry later");
                return 503;
            }
            answer_error(answer, "out of memory while queueing");
            return 500;
        }
        c->stats.accepted += res.accepted;
        sl_delivery_notify(c->d);
    }
    c->stats.rejected += res.rejected;
    c->stats.dropped += res.dropped;
    sl_buf_printf(answer, "{\"accepted\":%zu,", res.accepted);
    if (res.dropped > 0)
        sl_buf_printf(answer, "\"dropped\":%zu,", res.dropped);
    sl_buf_append(answer, "\"rejected\":[", 12);
    sl_buf_append(answer, c->rejects.data, c->rejects.len);
    sl_buf_putc(answer, ']');
    if (res.listed < res.rejected)
        sl_buf_printf(answer, ",\"rejected_total\":%zu,\"rejected_truncated\":true",
                      res.rejected);
    sl_buf_putc(answer, '}');
    if (res.accepted == 0 && res.rejected > 0 && res.dropped == 0)
        return 422;
    return 200;
}

void sl_connector_describe(const sl_connector *c, sl_buf *out)
{
    const sl_connector_conf *cf = c->conf;
    sl_buf_append(out, "{\"name\":", 8);
    sl_buf_json_string(out, cf->name, strlen(cf->name));
    sl_buf_append(out, ",\"url\":", 7);
    sl_buf_json_string(out, cf->url, strlen(cf->url));
    sl_buf_printf(out, ",\"method\":\"%s\",\"body\":\"%s\",\"unknown_fields\":\"%s\","
                  "\"schema\":[",
                  cf->method, body_names[cf->body],
                  sl_schema_policy(cf->schema) == SL_UNKNOWN_DROP ? "drop"
                                                                  : "reject");
    size_t n = sl_schema_nfields(cf->schema);
    for (size_t i = 0; i < n; i++) {
        const char *fname = sl_schema_field_name(cf->schema, i);
        sl_buf_append(out, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
        sl_buf_json_string(out, fname, strlen(fname));
        sl_buf_printf(out, ",\"type\":\"%s\",\"nullable\":%s}",
                      sl_type_name(sl_schema_field_type(cf->schema, i)),
                      sl_schema_field_nullable(cf->schema, i) ? "true" : "false");
    }
    const sl_stats *s = &c->stats;
    sl_buf_printf(out,
                  "],\"batch\":{\"max_records\":%zu,\"max_bytes\":%zu,"
                  "\"max_delay_ms\":%u},\"stats\":{\"accepted\":%llu,"
                  "\"rejected\":%llu,\"delivered\":%llu,\"queued\":%zu,"
                  "\"in_flight\":%zu,\"pending\":%zu,\"requests\":%llu,"
                  "\"failures\":%llu,\"retries\":%llu,\"refused\":%llu,"
                  "\"dropped\":%llu}}",
                  cf->batch_max_records, cf->batch_max_bytes,
                  cf->batch_max_delay_ms, (unsigned long long)s->accepted,
                  (unsigned long long)s->rejected,
                  (unsigned long long)s->delivered, sl_queue_count(c->q),
                  sl_delivery_in_flight(c->d), sl_delivery_pending(c->d),
                  (unsigned long long)s->requests,
                  (unsigned long long)s->failures,
                  (unsigned long long)s->retries,
                  (unsigned long long)s->refused,
                  (unsigned long long)s->dropped);
}

void sl_connector_metrics(sl_connector *const *cs, size_t n, sl_buf *out)
{
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"sluice_records_accepted_total", "counter", "Records accepted at the intake."},
        {"sluice_records_rejected_total", "counter", "Records rejected at the intake."},
        {"sluice_records_delivered_total", "counter", "Records the destination acknowledged."},
        {"sluice_records_refused_total", "counter", "Valid records refused because the queue was full."},
        {"sluice_records_dropped_total", "counter", "Records a transform dropped."},
        {"sluice_requests_total", "counter", "Delivery attempts sent."},
        {"sluice_request_failures_total", "counter", "Delivery attempts that failed."},
        {"sluice_request_retries_total", "counter", "Delivery attempts that were retries."},
        {"sluice_records_queued", "gauge", "Records waiting in the queue."},
        {"sluice_records_pending", "gauge", "Records in batches not yet acknowledged."},
        {"sluice_requests_in_flight", "gauge", "Delivery requests in flight."},
    };
    for (size_t f = 0; f < sizeof fam / sizeof fam[0]; f++) {
        sl_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
                      fam[f].help, fam[f].name, fam[f].type);
        for (size_t i = 0; i < n; i++) {
            const sl_connector *c = cs[i];
            const sl_stats *s = &c->stats;
            unsigned long long v = 0;
            switch (f) {
            case 0: v = s->accepted; break;
            case 1: v = s->rejected; break;
            case 2: v = s->delivered; break;
            case 3: v = s->refused; break;
            case 4: v = s->dropped; break;
            case 5: v = s->requests; break;
            case 6: v = s->failures; break;
            case 7: v = s->retries; break;
            case 8: v = sl_queue_count(c->q); break;
            case 9: v = sl_delivery_pending(c->d); break;
            default: v = sl_delivery_in_flight(c->d); break;
            }
            sl_buf_printf(out, "%s{connector=\"%s\"} %llu\n", fam[f].name,
                          c->conf->name, v);
        }
    }
}

void sl_connector_drain(sl_connector *c) { sl_delivery_drain(c->d); }

size_t sl_connector_undelivered(const sl_connector *c)
{
    return sl_queue_count(c->q) + sl_delivery_pending(c->d);
}
