/* sl_arrivals: when a spool's records arrived, kept across restarts, in
 * <spool dir>/arrivals. The spool notes the arrival time of an append at
 * most once a second (a mark: the LSN of the append's block and its time);
 * every record from one mark up to the next arrived within a second after
 * the first one's time. The marks are appended to the file once per loop
 * turn that has a new one (one write, none per record), after the blocks
 * they describe; in "fsync" mode the spool has them fdatasync'd in the
 * sync pool's next metadata round, with the progress file (sl_syncer).
 *
 * The file is a sequence of 24-byte entries, all little-endian:
 *   u64 lsn   the first record's block header
 *   i64 wall  its arrival, Unix ms
 *   u32 magic 0x31525241 ("ARR1")
 *   u32 crc   CRC-32 (zlib's) of the 20 bytes before
 * in increasing LSN order. At open the file is read up to the first entry
 * that is torn, damaged, out of order or past the end of the spool's data,
 * and cut there. A missing file (a spool written before the marks existed)
 * or a missing mark means "unknown": those records count from the open.
 * The arrivals are kept in memory in monotonic ms (sl_time_mono_ms). */
#ifndef SL_ARRIVALS_H
#define SL_ARRIVALS_H

#include <stddef.h>
#include <stdint.h>

#define SL_ARRIVALS_GRAIN_MS 1000u /* at most one mark this often */
#define SL_ARRIVALS_ENTRY 24u
#define SL_ARRIVALS_MAGIC 0x31525241u /* "ARR1" */

struct sl_arrivals;
typedef struct sl_arrivals sl_arrivals;

/* Open (create, mode 0640) <spool_dir>/arrivals of a spool whose valid data
 * ends at LSN `end`, keeping the good entries before it (the rest is cut
 * off the file). now_mono and now_wall (ms) convert their times. NULL with
 * a message in err (out of memory, or the file cannot be opened). */
sl_arrivals *sl_arrivals_open(const char *spool_dir, uint64_t end,
                              uint64_t now_mono, int64_t now_wall,
                              char *err, size_t errlen);

/* fdatasync and close the file, free. Accepts NULL. */
void sl_arrivals_close(sl_arrivals *a);

/* An append's block at `lsn` arrived at mono_ms: kept as a mark when the
 * last mark is a second older or more. A mark at or past lsn (left by an
 * append the spool dropped) is replaced. Accepts NULL. */
void sl_arrivals_note(sl_arrivals *a, uint64_t lsn, uint64_t mono_ms);

/* Append to the file the marks not yet written whose LSN is below
 * `written` (the end of what the segments hold); the clocks are read only
 * when there is one. 1 when something was written, 0 when nothing was due, -1
 * with errno (the marks stay, to be written next time). Accepts NULL. */
int sl_arrivals_write(sl_arrivals *a, uint64_t written);

/* The open file, for fdatasync. Owned by a. */
int sl_arrivals_fd(const sl_arrivals *a);

/* Arrival (monotonic ms, >= 2) of the record at `lsn`: the time of the
 * last mark at or before it, so never later than the true arrival and at
 * most SL_ARRIVALS_GRAIN_MS earlier; 1 when unknown (no mark before it, or
 * a is NULL). */
uint64_t sl_arrivals_at(const sl_arrivals *a, uint64_t lsn);

/* Nothing below `ack` will be asked for again: forget the marks before
 * the last one at or below it, and rewrite the file (a temporary file
 * renamed over it) once enough of it is forgotten. Accepts NULL. */
void sl_arrivals_trim(sl_arrivals *a, uint64_t ack);

#endif
