/* sl_delivery: one connector's sender. Cuts batches from the spool (by
 * max_records, max_bytes or max_delay_ms, whichever comes first), builds
 * the body in the connector's form, sends it through sl_http_client with the
 * configured method and headers and the batch's idempotency key, and
 * classifies every answer: 2xx delivered; 408, 429, 5xx and transport
 * failures (TLS ones too, and nginx's 400 for a refused client
 * certificate: sl_tls_report) retried with exponential backoff and full
 * jitter (Retry-After wins); 401/403 retried once at once with fresh headers; 413 halves the
 * batch; other 4xx are permanent: the batch is bisected down to the
 * failing records (or dead-lettered whole), which go to the dead letters
 * with the reason, as do batches that keep failing past max_elapsed_s.
 * Runs on the event loop. */
#ifndef SL_DELIVERY_H
#define SL_DELIVERY_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_luaruntime.h"
#include "sl_dlq.h"
#include "sl_spool.h"
#include "sl_stats.h"
#include "sl_time.h"

struct event_base;
struct sl_delivery;
typedef struct sl_delivery sl_delivery;

/* A sender for `conf` that takes from `spool`, dead-letters into `dlq`
 * and counts into `stats`; with a headers_fn in conf, `rt` runs it for
 * every attempt (rt may be NULL otherwise). `clock` times batching,
 * backoff, max_elapsed_s, Retry-After dates and the dead letters' attempt
 * times; NULL is the system's (a test passes a fake one; the spool's
 * records must be stamped by the same monotonic clock). All pointers are
 * borrowed and must outlive the sender. NULL with a message in err on
 * failure. */
sl_delivery *sl_delivery_new(struct event_base *base, sl_http_client *http,
                             sl_luaruntime *rt, const sl_connector_conf *conf,
                             sl_spool *spool, sl_dlq *dlq, sl_stats *stats,
                             const sl_time_clock *clock, char *err,
                             size_t errlen);

/* Stop timers and free every batch (in-flight requests must have been
 * cancelled by freeing the sl_http_client first, or be finished). Accepts NULL. */
void sl_delivery_free(sl_delivery *d);

/* Records were appended to the spool: cut and send what is due. */
void sl_delivery_notify(sl_delivery *d);

/* From now on send everything queued without waiting for max_delay_ms and
 * retry failures without backoff beyond a short delay (shutdown drain of
 * an in-memory spool). */
void sl_delivery_drain(sl_delivery *d);

/* Shutdown with a durable spool: cut no new batch and start no retry; the
 * requests in flight finish. What is left stays in the spool. */
void sl_delivery_stop(sl_delivery *d);

/* Records cut from the spool but not yet finished (in flight or waiting
 * for a retry). */
size_t sl_delivery_pending(const sl_delivery *d);

/* Requests in flight right now. */
size_t sl_delivery_in_flight(const sl_delivery *d);

/* Report every attempt's answer to h (borrowed: it must outlive d, or be
 * set to NULL first); NULL: to none (the default). */
struct sl_health;
void sl_delivery_set_health(sl_delivery *d, struct sl_health *h);

/* Cut no more batches (a reload gave the connector a new sender); the
 * outstanding ones go on — retries, dead letters — with this sender's
 * configuration until sl_delivery_pending and sl_delivery_in_flight are
 * both 0. */
void sl_delivery_retire(sl_delivery *d);

/* Requests that may be in flight: the adaptive limit now, or the fixed
 * concurrency (1 when ordered). */
size_t sl_delivery_concurrency(const sl_delivery *d);

#endif
