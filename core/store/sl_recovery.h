/* sl_recovery: what a spool finds on disk when it opens. The segment files
 * a previous run left are checked block by block (sl_segment): a torn tail
 * of the last one is cut (a write cut short by a crash, before the intake
 * answered), damage in an earlier one is logged and its rest skipped. The
 * progress file (sl_progress) is then checked against them: the read
 * position is moved into the segments, and only the outstanding batches
 * that can still be read are kept. The same walk, without repairing
 * anything, counts what a spool holds for `sluice reset` and `sluice dlq`.
 * Nothing here runs after open; the running spool is sl_spool. */
#ifndef SL_RECOVERY_H
#define SL_RECOVERY_H

#include <stddef.h>
#include <stdint.h>

#include "sl_arrivals.h"
#include "sl_progress.h"
#include "sl_segment.h"

typedef struct sl_recovery {
    sl_segment *segs;           /* every segment's valid extent, in LSN
                                   order; owned (sl_recovery_free) */
    size_t nsegs;
    uint64_t epoch;             /* the progress file's, or a new one */
    uint64_t read_lsn;          /* where delivery goes on */
    uint64_t end;               /* end of the valid data: appends go on
                                   here */
    uint64_t records, bytes;    /* not yet cut: records, record bytes */
    sl_cut cuts[SL_PROGRESS_MAX_CUTS]; /* outstanding batches that
                                   can still be read, in cut order */
    size_t ncuts;
    sl_arrivals *arr;           /* the arrival marks (sl_arrivals), open;
                                   the cuts' ms are theirs. Owned: the
                                   caller takes it or sl_recovery_free */
} sl_recovery;

/* Recover the spool directory `spool_dir` (its segments; the progress
 * file open as prog; the arrival marks) into *r, cutting the torn tail of
 * the last segment, and log what is left to deliver.
 * `name` (the connector's) prefixes the log lines. 0, or -1 with a message
 * in err and *r holding nothing to free. */
int sl_recovery_run(const char *spool_dir, sl_progress *prog,
                    const char *name, sl_recovery *r, char *err,
                    size_t errlen);

/* Free what sl_recovery_run left in *r. Accepts a zeroed *r. */
void sl_recovery_free(sl_recovery *r);

/* Count what the spool of connector directory `dir` holds without opening
 * it for writing or changing a byte: records (and their bytes) not yet
 * cut, and those of the batches still in flight. No spool is 0 records.
 * 0, or -1 with a message in err (*records and *bytes then 0). */
int sl_recovery_inspect(const char *dir, uint64_t *records, uint64_t *bytes,
                        char *err, size_t errlen);

/* A new spool identity (a spool without a progress file, or in memory):
 * the wall clock's seconds and nanoseconds and the pid, so that
 * idempotency keys never repeat across resets and restarts. */
uint64_t sl_recovery_new_epoch(void);

#endif
