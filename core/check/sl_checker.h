/* sl_checker: one connector's bodies checked on the check threads
 * (sl_offload) instead of the loop: sl_ingest of a body with the
 * connector's schema and, with a transform, a Lua state of the thread's
 * own, made from the connector file on the thread's first body
 * (sl_config_transform_state) and again after a reconfigure. The results
 * come back to the loop in the order the bodies were submitted, so that
 * what the connector spools stays in arrival order.
 *
 * Threads: every function here is called on the loop thread; a thread's
 * Lua state is used by that thread alone, made and freed by it (or by
 * sl_checker_free once nothing is pending). */
#ifndef SL_CHECKER_H
#define SL_CHECKER_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_ingest.h"
#include "sl_luaruntime.h"
#include "sl_offload.h"

struct sl_checker;
typedef struct sl_checker sl_checker;

/* What one body gave, as sl_ingest would have (block, rejects, res),
 * with rc 0 or -1 when a buffer's cap or memory ran out (nothing
 * accepted) or -2 when the thread could not make its transform's Lua
 * state (why in error; nothing accepted). block may be taken (swapped
 * out, as sl_spool_append does) by the done function. */
typedef struct sl_checker_result {
    int rc;
    sl_buf *block;
    const sl_buf *rejects;
    const sl_ingest_result *res;
    const char *error;
} sl_checker_result;

/* Called on the loop with the result (valid during the call only). */
typedef void (*sl_checker_done_fn)(void *ud, const sl_checker_result *r);

/* A checker on pool's threads (borrowed; must outlive it). NULL out of
 * memory. */
sl_checker *sl_checker_new(sl_offload *pool);

/* Free, with every thread's Lua state: with nothing pending
 * (sl_checker_pending), or after sl_offload_free of the pool (what is
 * pending is dropped; its done never runs). Accepts NULL. */
void sl_checker_free(sl_checker *k);

/* Check data[0..len) (borrowed until done runs) as sl_ingest does with
 * conf's schema and, when conf has one, its transform (conf borrowed
 * until done runs: see sl_checker_uses). done(ud, result) runs on the
 * loop later, never inside this call. 0, or -1 out of memory (nothing
 * submitted). */
int sl_checker_submit(sl_checker *k, const sl_connector_conf *conf,
                      sl_ingest_format fmt, const char *data, size_t len,
                      const sl_ingest_limits *lim, sl_checker_done_fn done,
                      void *ud);

/* The connector's configuration changed (a reload): each thread makes
 * its transform's state again, from the conf of the next body it gets. */
void sl_checker_new_conf(sl_checker *k);

/* Bodies submitted whose done has not run yet. */
size_t sl_checker_pending(const sl_checker *k);

/* Is a pending body checked with conf? */
int sl_checker_uses(const sl_checker *k, const sl_connector_conf *conf);

/* What the transforms of every thread did so far, as
 * sl_transform_tally counts (across reconfigures). Zeros for NULL. */
sl_luaruntime_tally sl_checker_tally(const sl_checker *k);

#endif
