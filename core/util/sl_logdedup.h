/* sl_logdedup: repeated log lines logged once, then summarised with a
 * count. Two lines repeat each other when their level, component and
 * message are the same once every word that holds a digit is masked
 * (sl_logdedup_mask): "batch 7f3a-2 attempt 3 to http://h:8080/x: HTTP
 * 503" and "batch 9c01-5 attempt 4 to http://h:8080/x: HTTP 503" are one
 * failure; an HTTP status (3 digits after "HTTP ") is kept, so a 401 and
 * a 503 are two. The first line of a key is written; the repeats within
 * its window (from that line) are counted and the last of them kept; the
 * next line offered after the window ends (any line), or
 * sl_logdedup_expire, writes the summary,
 * "<last repeat> (repeated N times in the last S s)". The table is
 * bounded: a new key in a full table first summarises and forgets the
 * key whose window is the oldest. No clock of its own: every call takes
 * `now_ms`. Not thread-safe (sl_log holds a lock around it). */
#ifndef SL_LOGDEDUP_H
#define SL_LOGDEDUP_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_logdedup sl_logdedup;

/* Where lines (a first line or a summary) go: `msg` is `len` bytes, not
 * NUL-terminated; `level` and `component` as offered. */
typedef void (*sl_logdedup_emit_fn)(void *ud, int level,
                                    const char *component, const char *msg,
                                    size_t len);

/* A table of `capacity` keys (1 or more) and windows of `window_ms`
 * (1 or more). NULL when out of memory or on a zero argument; the caller
 * owns it and frees it with sl_logdedup_free. */
sl_logdedup *sl_logdedup_new(size_t capacity, int64_t window_ms);
void sl_logdedup_free(sl_logdedup *d);

/* Room a table of `capacity` keys needs in caller memory. */
#define SL_LOGDEDUP_HEAD_BYTES 64
#define SL_LOGDEDUP_ENTRY_BYTES 2176
#define SL_LOGDEDUP_BYTES(capacity) \
    (SL_LOGDEDUP_HEAD_BYTES + (capacity) * SL_LOGDEDUP_ENTRY_BYTES)

/* The same table made in `mem` (len bytes, at least
 * SL_LOGDEDUP_BYTES(capacity), aligned as malloc's), allocating nothing:
 * the logger's, which must not hold heap blocks a leak count would see.
 * NULL when len is short or an argument is zero. Not for
 * sl_logdedup_free; the memory is the caller's. */
sl_logdedup *sl_logdedup_place(void *mem, size_t len, size_t capacity,
                               int64_t window_ms);

/* Offer a line at `now_ms` (a monotonic clock): first the summaries of
 * the windows that ended, then the line itself unless it repeats a key
 * whose window is open. Returns 1 when the line was emitted, 0 when it
 * was counted instead. A component or a message too long for the table
 * (over SL_LOGDEDUP_MAX_MSG / 64 bytes) is emitted and never counted. */
int sl_logdedup_offer(sl_logdedup *d, int64_t now_ms, int level,
                      const char *component, const char *msg, size_t len,
                      sl_logdedup_emit_fn emit, void *ud);

/* Emit the summaries of the windows that ended and forget their keys (a
 * timer's job, so that a summary does not wait for the next line). NULL
 * does nothing. */
void sl_logdedup_expire(sl_logdedup *d, int64_t now_ms,
                        sl_logdedup_emit_fn emit, void *ud);

/* Emit the summary of every key with counted repeats, ended or not, and
 * forget every key (at shutdown, so that no count is lost). */
void sl_logdedup_flush(sl_logdedup *d, int64_t now_ms,
                       sl_logdedup_emit_fn emit, void *ud);

#define SL_LOGDEDUP_MAX_MSG 1024

/* The key text of `msg`: each maximal word of [A-Za-z0-9_] that holds a
 * digit becomes "#", except a status code (3 digits after "HTTP ").
 * Writes at most outlen - 1 bytes and a NUL; returns the key's full
 * length (>= outlen: cut). */
size_t sl_logdedup_mask(const char *msg, size_t len, char *out,
                        size_t outlen);

#endif
