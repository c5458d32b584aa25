/* sl_adaptive: `concurrency = "adaptive"` on the loop — sl_aimd's limit
 * applied to one connector's attempts. An attempt (a first one, a retry,
 * a piece of a split) goes when fewer than the limit are in flight, else
 * it waits in line for a slot, first come first served, holding no timer;
 * every answer is fed to sl_aimd, and after each the owner's wake
 * function runs from the loop to send who waits and cut new batches. The
 * cuts are counted (sl_stats) and logged at most once a second. */
#ifndef SL_ADAPTIVE_H
#define SL_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_config.h"
#include "sl_http_client.h"
#include "sl_stats.h"

struct event_base;
typedef struct sl_adaptive sl_adaptive;

/* Runs from the loop after an answer or a freed slot. */
typedef void (*sl_adaptive_wake_fn)(void *ud);

/* A limit from 1 to conf->max_concurrency for the connector `conf`,
 * counting into `stats` (both borrowed); `wake(ud)` after answers. NULL
 * when out of memory. */
sl_adaptive *sl_adaptive_new(struct event_base *base,
                             const sl_connector_conf *conf, sl_stats *stats,
                             sl_adaptive_wake_fn wake, void *ud);

/* Accepts NULL. The items in line are the owner's and are not touched. */
void sl_adaptive_free(sl_adaptive *a);

/* Whether the attempt of `item` must wait, `busy` attempts being in
 * flight (or about to be): 0, it goes (an item sl_adaptive_next gave
 * back always does); 1, it is put in line (behind those already there)
 * and sl_adaptive_next gives it back when a slot frees. */
int sl_adaptive_hold(sl_adaptive *a, void *item, size_t busy);

/* The first in line if a slot is free (`busy` below the limit), out of
 * the line, to be sent now (its next sl_adaptive_hold, which must be the
 * next call, lets it go); NULL when none waits or no slot is free. */
void *sl_adaptive_next(sl_adaptive *a, size_t busy);

/* Whether a new batch may be cut: a slot is free for it after those in
 * line, and fewer than twice the limit batches are outstanding (the rest
 * wait in the spool). */
int sl_adaptive_may_cut(const sl_adaptive *a, size_t busy,
                        size_t outstanding);

/* An answer at `now_ms`: `tls_failed` (a TLS failure: no sign of load),
 * `in_flight` as it came (itself included). A delivered one (its status's
 * class, with the connector's `status` lists) is an RTT sample: curl's
 * total time; 429, 503, 504, a timeout and a failed connection are back
 * pressure; other failures say nothing. Wakes the owner. */
void sl_adaptive_answer(sl_adaptive *a, const sl_http_client_response *res,
                        int tls_failed, size_t in_flight, uint64_t now_ms);

/* A slot was freed without an answer (headers_fn failed): wake. Accepts
 * NULL (a fixed concurrency: nothing). */
void sl_adaptive_freed(sl_adaptive *a);

/* The limit now. */
unsigned sl_adaptive_limit(const sl_adaptive *a);

#endif
