/* sl_syncer: one spool's group commit on the process's sync pool
 * (sl_syncpool). Sync threads of the pool run fdatasync/fsync/close on
 * the descriptors the spool hands over, in numbered rounds (group commit:
 * one fdatasync covers every append before the round started). Up to
 * SL_SYNCER_DEPTH data rounds of a spool are in flight at once, on as
 * many threads: a request made while a round is in fdatasync starts the
 * next one at once instead of waiting for it to end. The pool reports
 * finished rounds on the loop thread with the durable LSN
 * (sl_syncer_report_fn), in order: an LSN is reported once its round and
 * every older one are done. The progress file and the arrival marks are
 * synced in metadata rounds of their own, which no report waits for.
 * The pool's delete thread deletes delivered segment files, so that
 * neither the loop nor a group commit waits behind a large unlink. Every
 * function is called from one (the loop's) thread; the threads touch
 * nothing but what they are handed. */
#ifndef SL_SYNCER_H
#define SL_SYNCER_H

#include <stddef.h>
#include <stdint.h>

/* Data rounds of one spool in flight at once. Two: a round's fdatasync
 * runs while the next gathers what arrives and starts behind it; more would
 * split the same arrivals into smaller rounds (fdatasyncs of one file end
 * in the same journal commit), without a shorter wait. */
#define SL_SYNCER_DEPTH 2

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

/* What a request syncs besides the data descriptors (sl_syncer_request). */
enum {
    SL_SYNCER_DIR = 1,      /* fsync dir_fd with the data: a segment was
                             * created */
    SL_SYNCER_PROGRESS = 2  /* fdatasync prog_fd in a metadata round:
                             * progress was written */
};

/* Join `pool` (borrowed: it must outlive the syncer) for reports to
 * fn(ud, ...); with pool NULL, start a pool of SL_SYNCER_DEPTH sync
 * threads on `base` of the syncer's own (for a spool opened outside a gateway). dir_fd and
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
 * none; borrowed: the round syncs a copy of it, so the caller may hand it
 * over as old_fd of a later request), counted as durable up to `lsn`;
 * with old_fd >= 0 also fdatasync and close old_fd (a rolled segment: the
 * thread owns it from here; when the threads are far behind this waits
 * for them); `also` adds SL_SYNCER_DIR and SL_SYNCER_PROGRESS. Returns
 * the round's number for sl_syncer_wait; a round covers every request
 * made before it started. A request with nothing new for the data (lsn
 * not past the last one asked, no old_fd, no SL_SYNCER_DIR) starts no
 * data round: it returns the last round's number. */
uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also);

/* fdatasync and close fd (owned by the syncer from here) in the next
 * metadata round: data no acknowledgement waits for (a copy of the
 * arrival marks' file). When the thread is far behind this waits for it.
 * A failure is reported like a data round's. */
void sl_syncer_sync_close(sl_syncer *y, int fd);

/* Block until round `round` and every metadata round asked for so far
 * have finished. Returns the errno of a failed sync not yet reported, or
 * 0 (it is not cleared: the next report still carries it). */
int sl_syncer_wait(sl_syncer *y, uint64_t round);

/* Queue the file at `path` (copied) for the delete thread. 0, or -1 out of
 * memory (nothing queued: the caller deletes it). */
int sl_syncer_unlink_later(sl_syncer *y, const char *path);

#endif
