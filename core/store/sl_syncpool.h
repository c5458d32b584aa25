/* sl_syncpool: the process's file-syncing threads, shared by every spool.
 *
 * A bounded set of sync threads runs jobs (one spool's group-commit round
 * each, see sl_syncer) and one delete thread deletes delivered segment
 * files, cutting them down a few MiB at a time first. Finished jobs are
 * reported on the loop through one pipe per pool, watched by one event: a
 * gateway with 1,000 connectors has the same threads and two descriptors
 * for this, not 2,000 threads and 2,000 pipe ends.
 *
 * How many sync threads (sl_syncpool_default_threads): the number of CPUs,
 * at least 3 and at most 8. At least 3, so that one spool whose disk
 * stalls (its two rounds in flight stuck in fdatasync, see sl_syncer)
 * does not hold up the others' rounds: a thread that is free takes the
 * next spool with a round pending. More with the CPUs, since the intake
 * scales with them (the `workers` key) and so do the busy spools asking
 * for rounds. At most 8: fdatasyncs on one file system end in the same
 * journal commit, so beyond a few in flight they wait for each other
 * rather than overlap. The threads only wait on the disk; they use no CPU
 * to speak of.
 *
 * A job never runs on two threads at once: asked again while it runs, it
 * runs once more afterwards (behind every other job waiting). Every
 * function here is called from the loop's thread except where said; the
 * pool touches nothing of a job but the fields marked "the pool's". */
#ifndef SL_SYNCPOOL_H
#define SL_SYNCPOOL_H

#include <stddef.h>

/* The fewest sync threads sl_syncpool_default_threads gives. */
#define SL_SYNCPOOL_MIN_DEFAULT 3

struct event_base;
struct sl_syncpool;
typedef struct sl_syncpool sl_syncpool;

/* One client's (a spool's) place in the pool, embedded in the client's
 * struct; zero it, then set run and report. */
typedef struct sl_syncpool_job {
    /* on a sync thread: do one round. Never on two threads at once. */
    void (*run)(struct sl_syncpool_job *j);
    /* on the loop, once after one or more runs finished: it may cancel
     * and free the job (and other jobs), not the pool */
    void (*report)(struct sl_syncpool_job *j);
    /* the pool's, under its mutex: */
    struct sl_syncpool_job *next;         /* in the queue of jobs to run */
    struct sl_syncpool_job *rnext, *rprev; /* in the list to report */
    unsigned char queued, running, again, reporting;
    size_t deletes;                       /* files queued, not yet gone */
} sl_syncpool_job;

/* Start nsync (1..64) sync threads, named sl-sync-1.., and the delete
 * thread (sl-delete), and watch them on `base`. NULL with a message in err
 * (nothing left running). */
sl_syncpool *sl_syncpool_new(struct event_base *base, unsigned nsync,
                             char *err, size_t errlen);

/* Let the threads finish the deletes queued, join them, close the pipe
 * and free. Every job is cancelled before. Accepts NULL. From inside a
 * report of this pool (a syncer with a pool of its own freed by its
 * report) the pool is freed once that report returns, and no other is
 * made. */
void sl_syncpool_free(sl_syncpool *p);

/* The number of sync threads for a gateway (see above). */
unsigned sl_syncpool_default_threads(void);

unsigned sl_syncpool_threads(const sl_syncpool *p);

/* Have j->run called once more on a sync thread, then j->report on the
 * loop. Thread-safe. */
void sl_syncpool_submit(sl_syncpool *p, sl_syncpool_job *j);

/* Wait until j has run everything submitted and the files queued for it
 * are deleted; after it returns no run or report of j comes. The job may
 * then be freed. May be called from inside j's (or another job's)
 * report. */
void sl_syncpool_cancel(sl_syncpool *p, sl_syncpool_job *j);

/* Queue the file at `path` (copied) for the delete thread, counted on j
 * (may be NULL) for sl_syncpool_cancel. 0, or -1 out of memory (nothing
 * queued: the caller deletes it). */
int sl_syncpool_unlink_later(sl_syncpool *p, sl_syncpool_job *j,
                             const char *path);

#endif
