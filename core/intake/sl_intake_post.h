/* sl_intake_post: a POST of records to one connector, from the request to
 * its answer — the intake key, the query, the body (inflated), the check
 * (on the loop, or on the check threads when the connector has them:
 * sl_connector_post), the wait until the records are durable, the answer
 * and its latency — and the requests waiting for durability, per
 * connector, in ticket order. The HTTP intake owns one. Loop thread only. */
#ifndef SL_INTAKE_POST_H
#define SL_INTAKE_POST_H

#include <stddef.h>

#include "sl_connector.h"

struct evhttp_request;
struct sl_intake_post;
typedef struct sl_intake_post sl_intake_post;

/* NULL out of memory. A gzip or deflate body is inflated up to
 * max_inflated bytes (413 past it). */
sl_intake_post *sl_intake_post_new(size_t max_inflated);

/* Answer every request still waiting for durability 503 (not durable by
 * now), leave the connectors' durability callbacks, free. A post still
 * on the check threads is dropped with its request (the check threads
 * must be stopped first: sl_connector_post's callback never comes).
 * Accepts NULL. */
void sl_intake_post_free(sl_intake_post *p);

/* Take posts to c (borrowed; outlives p): its durability callback is
 * registered. 0, or -1 with a message in err. */
int sl_intake_post_add(sl_intake_post *p, sl_connector *c, char *err,
                       size_t errlen);

/* From the next body on. */
void sl_intake_post_set_max_inflated(sl_intake_post *p, size_t max_inflated);

/* Answer req, a POST of records to c (added before): now, or later from
 * the loop (checked on the check threads, or durable). */
void sl_intake_post_handle(sl_intake_post *p, struct evhttp_request *req,
                           sl_connector *c);

#endif
