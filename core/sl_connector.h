/* sl_connector: one connector at run time — its configuration, queue,
 * sender and counters — and the transport-independent intake entry point
 * that answers a body with accepted/rejected records. */
#ifndef SL_CONNECTOR_H
#define SL_CONNECTOR_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_ingest.h"
#include "sl_stats.h"

struct event_base;
struct sl_connector;
typedef struct sl_connector sl_connector;

/* A running connector for `conf` (borrowed; must outlive it). NULL with a
 * message in err on failure. */
sl_connector *sl_connector_new(const sl_connector_conf *conf,
                               struct event_base *base, sl_http *http,
                               char *err, size_t errlen);
void sl_connector_free(sl_connector *c); /* accepts NULL */

const char *sl_connector_name(const sl_connector *c);

/* Check, encode and queue the records of one body. Writes the JSON answer
 * ({"accepted":N,"rejected":[...]} or {"error":...}) to `answer` and
 * returns the HTTP status: 200 some accepted (or an empty array), 422 none
 * accepted, 400 malformed JSON, 503 queue full (*retry_after_s set), 500
 * out of memory. Nothing is queued unless the status is 200. */
int sl_connector_ingest(sl_connector *c, sl_ingest_format fmt,
                        const char *body, size_t len, sl_buf *answer,
                        int *retry_after_s);

/* Append {"name":..,"url":..,"method":..,"body":..,"schema":[..],
 * "stats":{..}} to out. */
void sl_connector_describe(const sl_connector *c, sl_buf *out);

/* Append the Prometheus text exposition of `n` connectors to out, each
 * metric family once with a sample per connector. */
void sl_connector_metrics(sl_connector *const *cs, size_t n, sl_buf *out);

/* Start draining: send everything queued now, retry failures soon. */
void sl_connector_drain(sl_connector *c);

/* Records queued or outstanding (not yet delivered). */
size_t sl_connector_undelivered(const sl_connector *c);

#endif
