/* sl_spool: a connector's records between intake and delivery.
 *
 * With durability "fsync" or "os" the spool is a directory of append-only
 * segment files (<dir>/spool/<16 hex digits: first LSN>.seg). A segment is
 * a sequence of blocks, one per intake append:
 *   [u32 magic][u32 payload bytes][u32 records][u32 crc32 of payload]
 *   payload: the records as framed by the intake, [u32 len][bytes] each
 * (little-endian). An LSN is a byte position in the concatenation of all
 * segments. Appends are written once per loop turn (one write for
 * everything that arrived in that turn); "fsync" then has a thread
 * fdatasync them (group commit) and reports the durable LSN back on the
 * loop; "os" counts them durable once written. A torn or corrupt tail is
 * cut at open (sl_recovery). Delivery progress (the read position and the
 * batches cut but not yet done) is kept in <dir>/spool/progress (its
 * format is in sl_progress.h), so after a restart
 * the same batches are cut again (same records, same idempotency key) and
 * delivered records are not read again. Segments wholly behind every
 * outstanding batch are deleted.
 *
 * Recent records are also kept in memory (up to a cache limit) so that a
 * destination that keeps up never makes delivery read the disk; a backlog
 * beyond it lives only on disk, so memory stays flat during an outage.
 *
 * With durability "memory" there are no files: records live in memory up
 * to max_bytes and are lost if the process stops.
 *
 * Everything runs on the event loop thread except the sync pool's threads
 * (sl_syncpool), which only call fdatasync/fsync/close on descriptors
 * handed to them and delete delivered segments. */
#ifndef SL_SPOOL_H
#define SL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_cut.h"

struct event_base;
struct sl_syncpool;
struct sl_spool;
typedef struct sl_spool sl_spool;

typedef enum sl_durability {
    SL_DURABILITY_FSYNC = 0,
    SL_DURABILITY_OS,
    SL_DURABILITY_MEMORY
} sl_durability;

typedef enum sl_spool_rc {
    SL_SPOOL_OK = 0,
    SL_SPOOL_FULL,  /* max_bytes would be passed; nothing was added */
    SL_SPOOL_NOMEM,
    SL_SPOOL_IOERR  /* the disk refused (sl_spool_error says why) */
} sl_spool_rc;

/* The durable LSN moved to `lsn`: every append whose ticket <= lsn is on
 * disk as the durability mode promises. Called on the loop (also from
 * inside sl_spool_sync and sl_spool_close). The callback may close the
 * spool; the spool then touches nothing of itself after it returns and
 * reports nothing more. */
typedef void (*sl_spool_durable_fn)(void *ud, uint64_t lsn);

/* Writing failed (disk full, I/O error): appends with a ticket above `lsn`
 * were dropped and will never be durable; answer them with an error. May
 * close the spool, as sl_spool_durable_fn. */
typedef void (*sl_spool_failed_fn)(void *ud, uint64_t lsn);

typedef struct sl_spool_opts {
    const char *dir;            /* the connector's directory (sl_state);
                                   unused for "memory" */
    const char *name;           /* connector name, for logs */
    sl_durability durability;
    size_t max_bytes;           /* undelivered bytes on disk / in memory */
    size_t segment_bytes;       /* roll to a new segment past this */
    size_t cache_bytes;         /* records kept in memory for delivery */
    sl_spool_durable_fn on_durable;
    sl_spool_failed_fn on_failed;
    void *ud;
    struct sl_syncpool *syncpool; /* borrowed, outlives the spool; NULL:
                                     a pool of one thread of its own */
} sl_spool_opts;

/* Open the spool, recovering what a previous run left (cutting a torn
 * tail). NULL with a message in err. */
sl_spool *sl_spool_open(struct event_base *base, const sl_spool_opts *o,
                        char *err, size_t errlen);

/* Write what is buffered, make it durable synchronously (fdatasync in
 * "fsync" mode; on_durable may be called for it), stop the fsync thread
 * and free. Accepts NULL. May be called from inside on_durable or
 * on_failed: the memory is then freed once that callback returns. */
void sl_spool_close(sl_spool *s);

/* Append the `nrecords` records framed in `block` (all or nothing).
 * Ownership of block->data passes to the spool on SL_SPOOL_OK and the block
 * is left empty (same cap); otherwise it stays the caller's. *ticket is the
 * LSN at which this append is durable (see sl_spool_durable_fn); in
 * "memory" mode appends are "durable" at once and *ticket is 0. now_ms
 * (monotonic) stamps the records for max-delay batching. */
sl_spool_rc sl_spool_append(sl_spool *s, sl_buf *block, size_t nrecords,
                            uint64_t now_ms, uint64_t *ticket);

/* Write and make durable everything appended so far, now, on the calling
 * thread (used at shutdown and for replayed records). 0 or -1. */
int sl_spool_sync(sl_spool *s);

/* Highest durable LSN so far. */
uint64_t sl_spool_durable_lsn(const sl_spool *s);

/* Would `bytes` more record bytes fit under max_bytes? */
int sl_spool_has_room(const sl_spool *s, size_t bytes);

size_t sl_spool_count(const sl_spool *s);     /* records not yet cut */
size_t sl_spool_bytes(const sl_spool *s);     /* their record bytes */
uint64_t sl_spool_disk_bytes(const sl_spool *s); /* undelivered bytes held */

/* Arrival time (monotonic ms) of the oldest record not yet cut; 0 when
 * there is none; 1 for records recovered from disk (always due). */
uint64_t sl_spool_oldest_ms(const sl_spool *s);

/* Arrival time (monotonic ms) of the oldest record not yet delivered: the
 * first record of the oldest outstanding batch (cut by any sender, in
 * flight or waiting to retry) or else the oldest not yet cut; 0 and 1 as
 * above (1 also for a batch recovered from before a restart). */
uint64_t sl_spool_undelivered_ms(const sl_spool *s);


/* Cut the next batch: a batch recovered from a previous run if one is left,
 * else up to max_records records until emit refuses one. Fills *cut and
 * records it as outstanding (persisted). Returns the records taken (0:
 * nothing to take, or an I/O error, which is logged, or out of memory,
 * after which a recovered batch is cut again by the next call). */
size_t sl_spool_take(sl_spool *s, size_t max_records, sl_cut_emit_fn emit,
                     void *ud, sl_cut *cut);

/* A cut batch is finished (delivered, or its failed records are in the dead
 * letters): it will not be sent again. */
void sl_spool_done(sl_spool *s, const sl_cut *cut);

/* Recovered cuts not yet taken again. */
size_t sl_spool_recovered_left(const sl_spool *s);

const char *sl_spool_error(const sl_spool *s); /* last I/O error, or "" */

/* What the spool in connector directory `dir` holds, without opening it
 * for writing (for `sluice reset` and `sluice dlq`): records and bytes not
 * yet delivered. 0, or -1 with a message in err. No spool is 0 records. */
int sl_spool_inspect(const char *dir, uint64_t *records, uint64_t *bytes,
                     char *err, size_t errlen);

#endif
