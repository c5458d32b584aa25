/* sl_segment: the spool's segment files on disk (the format is described
 * in sl_spool.h): a block header's encoding and checks, segment file names,
 * the checked scan of one segment at recovery, and a sequential reader of
 * records across segments. Nothing here keeps the list of segments: the
 * spool owns it and passes it in (sl_segment_table) on every call. */
#ifndef SL_SEGMENT_H
#define SL_SEGMENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sl_buf.h"
#include "sl_cut.h"

#define SL_SEGMENT_BLOCK_HDR 16u   /* [magic][payload bytes][records][crc] */
#define SL_SEGMENT_MAX_PAYLOAD (1u << 30) /* one intake body's records */

typedef struct sl_segment {
    uint64_t start;             /* LSN of its first byte (its file name) */
    uint64_t end;               /* end of its valid blocks */
} sl_segment;

typedef struct sl_segment_table {
    const char *dir;            /* the spool directory holding the files */
    const sl_segment *segs;     /* in LSN order, borrowed for the call */
    size_t n;
} sl_segment_table;

/* Append {start, end} to the array *segs of *n segments (*cap allocated,
 * grown as needed). 0, or -1 out of memory (nothing changed). */
int sl_segment_push(sl_segment **segs, size_t *n, size_t *cap,
                    uint64_t start, uint64_t end);

/* The CRC-32 (zlib's) of n bytes, of any size: the checksum of blocks and
 * of the progress file's slots. */
uint32_t sl_segment_crc(const void *p, size_t n);

/* Encode the header of a block whose payload is the len bytes at payload
 * holding nrec framed records. */
void sl_segment_block_header(unsigned char out[SL_SEGMENT_BLOCK_HDR],
                             const void *payload, size_t len, size_t nrec);

/* The path of the segment starting at `start` in dir:
 * <dir>/<16 hex digits>.seg, truncated to n bytes. */
void sl_segment_path(const char *dir, uint64_t start, char *out, size_t n);

/* The sorted starts of the segment files in dir, in a new array that the
 * caller frees (*out NULL when there are none; a missing dir has none).
 * 0, or -1 with errno (*out freed and NULL). */
int sl_segment_list(const char *dir, uint64_t **out, size_t *n);

/* ---- scanning one segment ---------------------------------------------- */

typedef struct sl_segment_scan {  /* what a segment scan found */
    uint64_t valid_end;         /* LSN after the last good block */
    uint64_t file_end;          /* LSN of the end of the file */
    const char *why;            /* why the scan stopped early, or NULL */
} sl_segment_scan;

/* Called for each good block with its header's LSN and its payload. */
typedef void (*sl_segment_block_fn)(void *ud, uint64_t lsn,
                                    const char *payload, size_t len,
                                    size_t nrec);

/* Check every block of the segment file at path (header, crc, frames),
 * from its start to the first bad one, calling fn (may be NULL) for each
 * good one; buf is scratch space the caller frees. Fills *out and returns
 * 0; -1 with errno when the file cannot be opened or stat'ed, or with
 * ENOMEM when buf cannot grow to hold a block (*out is then not to be
 * used: running out of memory says nothing about the file). */
int sl_segment_scan_file(const char *path, uint64_t start, sl_buf *buf,
                         sl_segment_block_fn fn, void *ud,
                         sl_segment_scan *out);

typedef struct sl_segment_counter { /* records at or after from, or in a cut */
    uint64_t from;
    const sl_cut *cuts;   /* batches in flight (inspect), borrowed */
    size_t ncuts;
    uint64_t records, bytes;    /* counted so far: records, record bytes */
} sl_segment_counter;

/* An sl_segment_block_fn adding a block's counted records to the
 * sl_segment_counter at ud. */
void sl_segment_count_block(void *ud, uint64_t lsn, const char *payload,
                            size_t len, size_t nrec);

/* ---- reading records in order ------------------------------------------ */

struct sl_segment_reader;
typedef struct sl_segment_reader sl_segment_reader;

/* A reader positioned nowhere. NULL when out of memory. */
sl_segment_reader *sl_segment_reader_new(void);
void sl_segment_reader_free(sl_segment_reader *r); /* accepts NULL */

/* Position the reader at lsn (a block header or a record frame) of table
 * t. 0, or -1: lsn is in no segment, or with the reason in
 * sl_segment_reader_error (a read error, not a record boundary...). */
int sl_segment_reader_seek(sl_segment_reader *r, const sl_segment_table *t,
                           uint64_t lsn);

/* The next read must seek (the caller moved on without the reader). */
void sl_segment_reader_forget(sl_segment_reader *r);

/* The first `drop` segments were removed from the table. */
void sl_segment_reader_dropped(sl_segment_reader *r, size_t drop);

/* The reader is at the end of its segment's valid data, the next segment
 * of t starts later (the unreadable rest of a damaged segment lies
 * between): 1 with that start in *next; else 0. */
int sl_segment_reader_gap(const sl_segment_reader *r,
                          const sl_segment_table *t, uint64_t *next);

/* Take up to max records in order from *lsn (a record boundary) up to
 * limit, handing each to emit: a record emit refuses ends the take and
 * stays, unless `exact` (then emit's answer is ignored). *lsn moves past
 * what was taken and, when the take ends early at the unreadable rest of
 * a damaged segment, on to the next segment; *bytes gets the record
 * bytes taken. Returns the records taken; after a read error fewer, with
 * the reason in sl_segment_reader_error ("" when there was none). */
size_t sl_segment_reader_take(sl_segment_reader *r, const sl_segment_table *t,
                              uint64_t *lsn, uint64_t limit, size_t max,
                              int exact, sl_cut_emit_fn emit, void *ud,
                              uint64_t *bytes);

/* Why the last seek or take failed; "" when it said nothing. */
const char *sl_segment_reader_error(const sl_segment_reader *r);

/* The last seek or peek failed for want of memory, not because of the
 * files: 1, else 0 (also after sl_segment_reader_forget). */
int sl_segment_reader_nomem(const sl_segment_reader *r);

#endif
