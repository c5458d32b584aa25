/* sl_generation: what a connector runs for one configuration — its
 * sender (sl_delivery), the Lua runtime of its file's state, its
 * transform and its intake keys — so that a reload can give a connector
 * a new one while the old one finishes the batches it cut. Retired
 * generations wait in the connector's list until their last batch is
 * done.
 *
 * Ownership: a generation owns its delivery, runtime, transform and auth;
 * it borrows the conf (and, through it, the Lua state, owned by the
 * sl_config) and the connector's spool, dead letters, stats and health,
 * which must outlive it. */
#ifndef SL_GENERATION_H
#define SL_GENERATION_H

#include <stddef.h>

#include "sl_auth.h"
#include "sl_config.h"
#include "sl_delivery.h"
#include "sl_dlq.h"
#include "sl_health.h"
#include "sl_http_client.h"
#include "sl_luaruntime.h"
#include "sl_spool.h"
#include "sl_stats.h"
#include "sl_transform.h"

struct event_base;
typedef struct sl_generation sl_generation;

/* The borrowed parts a generation is made with. */
typedef struct sl_generation_parts {
    struct event_base *base;
    sl_http_client *http;
    sl_spool *spool;
    sl_dlq *dlq;
    sl_stats *stats;
    sl_health *health;
} sl_generation_parts;

/* A generation for `conf`; with a Lua state in conf, its loop members
 * (sluice.sleep, sluice.http) are opened in it. NULL with a message in
 * err (nothing is left made). */
sl_generation *sl_generation_new(const sl_connector_conf *conf,
                                 const sl_generation_parts *parts, char *err,
                                 size_t errlen);

/* Free the delivery first (its batches use the runtime), then the rest.
 * Accepts NULL. Not for a generation still in a list (only its own). */
void sl_generation_free(sl_generation *g);

const sl_connector_conf *sl_generation_conf(const sl_generation *g);
sl_delivery *sl_generation_delivery(const sl_generation *g);
sl_transform *sl_generation_transform(const sl_generation *g); /* or NULL */
sl_auth *sl_generation_auth(const sl_generation *g);           /* or NULL */

/* A connector keeps its generations in one list: the head is the one in
 * use, the rest are retired, finishing their batches. */

/* Make g the head of *list; the head before it is retired (its delivery
 * cuts no more). */
void sl_generation_push(sl_generation **list, sl_generation *g);

/* Free every retired generation of the list (the head stays) whose
 * delivery is done — no batch outstanding, nothing in flight — adding
 * its Lua tally to carry (may be NULL). Returns how many retired remain. */
size_t sl_generation_collect(sl_generation *head, sl_luaruntime_tally *carry);

/* The next of a list (NULL at its end). */
sl_generation *sl_generation_next(const sl_generation *g);

/* Summed over the whole list: requests in flight, records in outstanding
 * batches. */
size_t sl_generation_in_flight(const sl_generation *list);
size_t sl_generation_pending(const sl_generation *list);

/* Does a generation of the list run with conf? */
int sl_generation_uses(const sl_generation *list, const sl_connector_conf *conf);

/* out[SL_STATS_LUA_KINDS] = carry + what every generation's Lua
 * functions did (the sluice_lua_* counters do not go back at a reload). */
void sl_generation_tally(const sl_generation *list,
                         const sl_luaruntime_tally *carry,
                         sl_luaruntime_tally *out);

/* Shutdown of every delivery of the list: durable, stop (no new batch,
 * no retry); memory, drain (everything now). */
void sl_generation_shutdown(sl_generation *list, int durable);

/* Free the whole list (the gateway's end: the HTTP client was freed
 * first, cancelling what was in flight). */
void sl_generation_free_all(sl_generation **list);

#endif
