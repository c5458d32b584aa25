/* sl_workers: helper threads that share one batch of independent tasks
 * with the calling thread (fork-join). The caller takes tasks too and
 * returns once every task has run, so the work is done even when the
 * helpers get no CPU; nothing runs between batches. */
#ifndef SL_WORKERS_H
#define SL_WORKERS_H

#include <stddef.h>

struct sl_workers;
typedef struct sl_workers sl_workers;

/* Run task i of a batch; called on the caller's or a helper's thread,
 * once for each i, in no particular order, several at a time. */
typedef void (*sl_workers_fn)(void *ud, size_t i);

/* A pool of `nhelpers` threads (0: every task runs on the caller). NULL
 * with a message in err when a thread cannot be started (none is left
 * running). */
sl_workers *sl_workers_new(unsigned nhelpers, char *err, size_t errlen);

/* Stop and join the helpers, free. Not during sl_workers_run. Accepts
 * NULL. */
void sl_workers_free(sl_workers *w);

/* Helper threads of w (0 for NULL). */
unsigned sl_workers_helpers(const sl_workers *w);

/* fn(ud, i) for every i in [0, ntasks), spread over the calling thread and
 * the helpers; returns when all have returned (their writes are visible to
 * the caller then). One batch at a time: not reentrant, and only one
 * thread may call it on a given pool. w may be NULL (all on the caller). */
void sl_workers_run(sl_workers *w, size_t ntasks, sl_workers_fn fn, void *ud);

#endif
