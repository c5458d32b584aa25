/* sl_syncer: one spool's group commit on the process's sync pool
 * (sl_syncpool). A sync thread of the pool runs fdatasync/fsync/close on
 * the descriptors the spool hands over, in numbered rounds (group commit:
 * one fdatasync covers every append before the round started), one round
 * of a spool at a time; the pool reports each finished round on the loop
 * thread with the durable LSN (sl_syncer_report_fn). The pool's delete
 * thread deletes delivered segment files, so that neither the loop nor a
 * group commit waits behind a large unlink. Every function is called from
 * one (the loop's) thread; the threads touch nothing but what they are
 * handed. */
#ifndef SL_SYNCER_H
#define SL_SYNCER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct sl_syncpool;
struct sl_syncer;
typedef struct sl_syncer sl_syncer;

/* A round has finished (reported on the loop): everything requested up to
 * durable_lsn is on disk; err is the errno of a sync that failed since the
 * last report (then nothing can be promised about the data), or 0. The
 * callback may stop the syncer (sl_syncer_free) and free whatever it
 * likes: the syncer touches nothing of its own after calling it. */
typedef void (*sl_syncer_report_fn)(void *ud, uint64_t durable_lsn, int err);

/* What a round syncs besides the data descriptors (sl_syncer_request). */
enum {
    SL_SYNCER_DIR = 1,      /* fsync dir_fd: a segment was created */
    SL_SYNCER_PROGRESS = 2  /* fdatasync prog_fd: progress was written */
};

/* Join `pool` (borrowed: it must outlive the syncer) for reports to
 * fn(ud, ...); with pool NULL, start a pool of one sync thread on `base`
 * of the syncer's own (for a spool opened outside a gateway). dir_fd and
 * prog_fd are borrowed and must stay open until sl_syncer_free. NULL with
 * a message in err (nothing is left running). */
sl_syncer *sl_syncer_new(struct sl_syncpool *pool, struct event_base *base,
                         int dir_fd, int prog_fd, sl_syncer_report_fn fn,
                         void *ud, char *err, size_t errlen);

/* Stop reporting, wait until the pool's threads finish everything handed
 * to them for this syncer (syncs, closes and deletes), and free (with its
 * own pool, if it has one). Accepts NULL; may be called from inside the
 * report. */
void sl_syncer_free(sl_syncer *y);

/* Ask for a round: fdatasync cur_fd (the segment being appended, -1 for
 * none), counted as durable up to `lsn`; with old_fd >= 0 also fdatasync
 * and close old_fd (a rolled segment: the thread owns it from here; when
 * the thread is far behind this waits for it); `also` adds SL_SYNCER_DIR
 * and SL_SYNCER_PROGRESS. Returns the round's number for sl_syncer_wait;
 * a round covers every request made before it started. */
uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also);

/* Block until round `round` has finished. Returns the errno of a failed
 * sync not yet reported, or 0 (it is not cleared: the next report still
 * carries it). */
int sl_syncer_wait(sl_syncer *y, uint64_t round);

/* Queue the file at `path` (copied) for the delete thread. 0, or -1 out of
 * memory (nothing queued: the caller deletes it). */
int sl_syncer_unlink_later(sl_syncer *y, const char *path);

#endif
