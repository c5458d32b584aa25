/* sl_offload: a pool of threads that run jobs off the event loop and hand
 * each one back to the loop when it is done, in the order its lane
 * submitted them. A lane is one producer whose results must come back in
 * order (a connector: its spool appends stay in arrival order); lanes do
 * not wait for one another. The loop learns of finished jobs through one
 * eventfd watched by one event, however many lanes there are.
 *
 * Threads: sl_offload_new, _free, sl_offload_lane_new, _free and
 * sl_offload_submit are called from the loop thread only; a job's run
 * function runs on one of the pool's threads, its done function on the
 * loop thread, after run has returned (whatever run wrote is visible to
 * done: the hand-over is under the pool's lock). */
#ifndef SL_OFFLOAD_H
#define SL_OFFLOAD_H

#include <stddef.h>

struct event_base;
struct sl_offload;
typedef struct sl_offload sl_offload;
struct sl_offload_lane;
typedef struct sl_offload_lane sl_offload_lane;

/* On a pool thread: `thread` in [0, sl_offload_threads(pool)) says which,
 * for what a caller keeps per thread (a Lua state). Must not touch what
 * the loop thread uses. */
typedef void (*sl_offload_run_fn)(void *ud, unsigned thread);

/* On the loop thread, once run has returned and every job its lane
 * submitted before it is done. */
typedef void (*sl_offload_done_fn)(void *ud);

/* A pool of `nthreads` (>= 1) threads named "sl-check-<i>", reporting on
 * `base`. NULL with a message in err (nothing left running). */
sl_offload *sl_offload_new(struct event_base *base, unsigned nthreads,
                           char *err, size_t errlen);

/* Stop and join the threads (each runs what is queued first), free.
 * Jobs not done by then are not: their done functions never run (free
 * the lanes after this). Accepts NULL. */
void sl_offload_free(sl_offload *pool);

unsigned sl_offload_threads(const sl_offload *pool); /* 0 for NULL */

/* A lane of pool; NULL out of memory. */
sl_offload_lane *sl_offload_lane_new(sl_offload *pool);

/* Free a lane: with no job pending (sl_offload_lane_pending == 0), or
 * after sl_offload_free of its pool (what is pending is dropped, its done
 * never runs). Accepts NULL. */
void sl_offload_lane_free(sl_offload_lane *lane);

/* Jobs submitted to the lane and not yet done. */
size_t sl_offload_lane_pending(const sl_offload_lane *lane);

/* Queue run(ud, thread) for a pool thread, then done(ud) on the loop
 * (never inside this call). 0, or -1 out of memory (nothing queued). */
int sl_offload_submit(sl_offload_lane *lane, sl_offload_run_fn run,
                      sl_offload_done_fn done, void *ud);

#endif
