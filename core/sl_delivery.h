/* sl_delivery: one connector's sender. Cuts batches from the queue (by
 * max_records, max_bytes or max_delay_ms, whichever comes first), builds
 * the body in the connector's form, sends it through sl_http with the
 * configured method and headers, and retries failures with exponential
 * backoff and full jitter until they succeed. Runs on the event loop. */
#ifndef SL_DELIVERY_H
#define SL_DELIVERY_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_luart.h"
#include "sl_queue.h"
#include "sl_stats.h"

struct event_base;
struct sl_delivery;
typedef struct sl_delivery sl_delivery;

/* A sender for `conf` that takes from `q` and counts into `stats`; with a
 * headers_fn in conf, `rt` runs it for every attempt (rt may be NULL
 * otherwise). All pointers are borrowed and must outlive the sender. NULL
 * with a message in err on failure. */
sl_delivery *sl_delivery_new(struct event_base *base, sl_http *http,
                             sl_luart *rt, const sl_connector_conf *conf,
                             sl_queue *q, sl_stats *stats, char *err,
                             size_t errlen);

/* Stop timers and free every batch (in-flight requests must have been
 * cancelled by freeing the sl_http first, or be finished). Accepts NULL. */
void sl_delivery_free(sl_delivery *d);

/* Records were appended to the queue: cut and send what is due. */
void sl_delivery_notify(sl_delivery *d);

/* From now on send everything queued without waiting for max_delay_ms and
 * retry failures without backoff beyond a short delay (shutdown drain). */
void sl_delivery_drain(sl_delivery *d);

/* Records taken from the queue but not yet delivered (in flight or waiting
 * for a retry). */
size_t sl_delivery_pending(const sl_delivery *d);

/* Requests in flight right now. */
size_t sl_delivery_in_flight(const sl_delivery *d);

#endif
