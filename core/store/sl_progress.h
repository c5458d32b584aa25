/* sl_progress: a spool's delivery progress on disk, <spool dir>/progress:
 * the read position (the next record delivery will cut) and the batches
 * cut but not yet done, so that a restart cuts the same batches again and
 * does not read delivered records again.
 *
 * The file is two slots of SL_PROGRESS_SLOT (4096) bytes, at offsets 0 and
 * 4096, written in turn: a write with sequence number `seq` goes to slot
 * seq & 1, so the slot it replaces is never the newest one. A slot, all
 * integers little-endian:
 *
 *   offset  size  field
 *        0     8  magic     0x474F5250314C5053 ("SPL1PROG" as bytes)
 *        8     8  seq       1 for the first write, one more each time
 *       16     8  epoch     the spool's identity (new after a reset)
 *       24     8  read_lsn  the next record delivery will cut
 *       32     4  ncuts     outstanding batches, <= SL_PROGRESS_MAX_CUTS
 *       36     4  pad       0
 *       40  24*n  cuts      per batch: u64 start, u64 end (its LSN range),
 *                           u64 nrecords; in cut order
 *   40+24n     4  crc       CRC-32 (zlib's) of the 40 + 24n bytes before
 *                the rest of the slot is zero
 *
 * A slot counts when its magic is right, ncuts is within bounds and the
 * crc matches; of two, the one with the higher seq wins. So a write torn
 * by a crash loses at most the newest state, and then batches are cut
 * again, never lost. Whether the cuts make sense for the segments on disk
 * is the spool's to check (sl_spool's recovery), not this file's. */
#ifndef SL_PROGRESS_H
#define SL_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "sl_cut.h"

#define SL_PROGRESS_SLOT 4096u
#define SL_PROGRESS_MAGIC 0x474F5250314C5053ull /* "SPL1PROG" */
#define SL_PROGRESS_MAX_CUTS 160 /* 40 + 160 * 24 + 4 bytes fit a slot */

struct sl_progress;
typedef struct sl_progress sl_progress;

/* What a slot holds. Only start, end and nrecords of each cut are kept. */
typedef struct sl_progress_state {
    uint64_t epoch;
    uint64_t read_lsn;
    size_t ncuts;
    sl_cut cuts[SL_PROGRESS_MAX_CUTS];
} sl_progress_state;

/* Open <spool_dir>/progress: for writing (created, mode 0640, when
 * missing) or, with !writable, only to read it. NULL with errno (ENOENT:
 * none, when !writable; ENAMETOOLONG). */
sl_progress *sl_progress_open(const char *spool_dir, int writable);

/* Close the file and free. Accepts NULL. */
void sl_progress_close(sl_progress *p);

/* The newest valid slot into *st: 0, or 1 when neither slot is valid (a
 * new, empty or damaged file; *st is then zeroed). Later writes go on
 * from the sequence number read. */
int sl_progress_read(sl_progress *p, sl_progress_state *st);

/* Write a slot with the next sequence number: epoch, read_lsn and the
 * ncuts (<= SL_PROGRESS_MAX_CUTS) cuts. Not synced (see sl_progress_fd).
 * 0, or -1 with errno (EINVAL: too many cuts); the other slot is intact
 * either way. */
int sl_progress_write(sl_progress *p, uint64_t epoch, uint64_t read_lsn,
                      const sl_cut *cuts, size_t ncuts);

/* The open file, for fdatasync (here or on the spool's sync thread).
 * Owned by p. */
int sl_progress_fd(const sl_progress *p);

#endif
