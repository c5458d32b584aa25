/* sl_dlq_line: one dead letter as a line of <dir>/dlq/dead.ndjson (part of
 * the sl_dlq module): writing it, reading it back, and reading the file's
 * lines with a cap. A line is one JSON object with these members, written
 * in this order (the id first, so that the store can read the last id
 * from a line's head without parsing the file):
 *
 *   {"id":N,"time":"2026-11-26T10:00:00.123Z","status":S,"reason":"...",
 *    "attempts":A,"first_attempt":"<time>"|null,"last_attempt":...,
 *    "batch_id":"..."|null,"response":"...","record":{...}}\n
 *
 *   id        integer >= 1, unique within the store
 *   time      when it was dead-lettered, RFC 3339 UTC with milliseconds
 *             (sl_time; read back in its loose form, SL_TIME_LOOSE)
 *   status    the last HTTP status, 0 for none
 *   reason    at most 4096 bytes, response at most SL_DLQ_ENTRY_RESPONSE_MAX,
 *             batch_id at most 256: cut at a character boundary; bytes
 *             that are not UTF-8 become U+FFFD
 *   record    the record, a compact JSON object, as it was sent
 *
 * Reading is lenient about order and unknown members (a line counts when
 * it is a JSON object with an integer "id" >= 0 and an object "record")
 * and strict about the rest: anything else is not an entry. A line longer
 * than SL_DLQ_LINE_MAX is skipped whole; bytes after the last newline are
 * a torn line (a crash mid-append), never an entry. */
#ifndef SL_DLQ_LINE_H
#define SL_DLQ_LINE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"
#include "sl_dlq_entry.h"

#define SL_DLQ_LINE_MAX (64u << 20) /* longest line (entry) the store reads;
                                       appends refuse longer ones */

/* Can entry e (the i-th of an append, for the message) be written? Its
 * record must be one JSON object without a raw newline, short enough for
 * a line. 0, or -1 with a message in err. */
int sl_dlq_line_check(const sl_dlq_entry *e, size_t i, char *err,
                      size_t errlen);

/* Append e's line (with its newline) to b: id, and `now` (formatted by
 * sl_time_format_rfc3339) as its time. 0, or -1 when b's cap or memory refuses (b may hold
 * part of the line then). */
int sl_dlq_line_encode(sl_buf *b, int64_t id, const char *now,
                       const sl_dlq_entry *e);

/* Parse the n bytes at p (one line without its newline) into *e, whose
 * pointers point into p. 0, or -1 when it is not an entry (*e is then
 * meaningless). */
int sl_dlq_line_parse(const char *p, size_t n, sl_dlq_stored *e);

/* Sequential lines of a file, each at most SL_DLQ_LINE_MAX bytes. */
typedef struct sl_dlq_line_reader {
    int fd;                     /* read from here (borrowed) */
    sl_buf b;                   /* unread bytes are b.data[pos..len) */
    size_t pos;
    int eof;
    size_t toolong;             /* lines longer than SL_DLQ_LINE_MAX,
                                   skipped so far */
} sl_dlq_line_reader;

/* A reader of fd (which may be set later, before the first line). */
void sl_dlq_line_reader_init(sl_dlq_line_reader *r, int fd);

/* The next complete line, without its newline: 1 with *p, *n (valid until
 * the next call); 0 at the end, *p, *n then being the bytes after the last
 * '\n' (a torn line, usually empty); -1 on a read error or no memory
 * (errno). */
int sl_dlq_line_reader_next(sl_dlq_line_reader *r, const char **p,
                            size_t *n);

/* Free the reader's buffer (not fd). */
void sl_dlq_line_reader_free(sl_dlq_line_reader *r);

#endif
