/* sl_syncer: a spool's two background threads. The sync thread runs
 * fdatasync/fsync/close on descriptors it is handed, in numbered rounds
 * (group commit), and signals each finished round through a pipe that the
 * loop watches; the delete thread deletes delivered segment files, cutting
 * them down a few MiB at a time first, so that neither the loop nor a group
 * commit waits behind a large unlink. Every function is called from one
 * (the loop's) thread; the threads touch nothing but what they are handed. */
#ifndef SL_SYNCER_H
#define SL_SYNCER_H

#include <stddef.h>
#include <stdint.h>

struct sl_syncer;
typedef struct sl_syncer sl_syncer;

/* What a round syncs besides the data descriptors (sl_syncer_request). */
enum {
    SL_SYNCER_DIR = 1,      /* fsync dir_fd: a segment was created */
    SL_SYNCER_PROGRESS = 2  /* fdatasync prog_fd: progress was written */
};

/* Start both threads. dir_fd and prog_fd are borrowed and must stay open
 * until sl_syncer_stop. NULL with a message in err (nothing is left
 * running). */
sl_syncer *sl_syncer_start(int dir_fd, int prog_fd, char *err, size_t errlen);

/* Let the threads finish everything handed to them (syncs, closes and
 * deletes), join them, close the pipe and free. Accepts NULL. */
void sl_syncer_stop(sl_syncer *y);

/* A descriptor that becomes readable when a round has finished; watch it
 * and call sl_syncer_done. Owned by the syncer. */
int sl_syncer_notify_fd(const sl_syncer *y);

/* Drain the notify descriptor. Returns the LSN made durable so far; *err
 * gets the errno of a sync that failed since the last call (then
 * cleared), or 0. */
uint64_t sl_syncer_done(sl_syncer *y, int *err);

/* Ask for a round: fdatasync cur_fd (the segment being appended, -1 for
 * none), counted as durable up to `lsn`; with old_fd >= 0 also fdatasync
 * and close old_fd (a rolled segment: the thread owns it from here; when
 * the thread is far behind this waits for it); `also` adds SL_SYNCER_DIR
 * and SL_SYNCER_PROGRESS. Returns the round's number for sl_syncer_wait;
 * a round covers every request made before it started. */
uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also);

/* Block until round `round` has finished. Returns the errno of a failed
 * sync not yet taken by sl_syncer_done, or 0 (it is not cleared). */
int sl_syncer_wait(sl_syncer *y, uint64_t round);

/* Queue the file at `path` (copied) for the delete thread. 0, or -1 out of
 * memory (nothing queued: the caller deletes it). */
int sl_syncer_unlink_later(sl_syncer *y, const char *path);

#endif
