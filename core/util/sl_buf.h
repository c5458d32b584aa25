/* sl_buf: a growable byte buffer with a hard cap, used for every buffer
 * that input can grow (request bodies, encoded records, batch bodies). */
#ifndef SL_BUF_H
#define SL_BUF_H

#include <stddef.h>
#include <stdarg.h>

/* Shared so that hot paths can append without a call; treat as read-only
 * outside sl_buf.c except through the functions below. */
typedef struct sl_buf {
    char *data;   /* owned; NUL-terminated when len < cap (not guaranteed) */
    size_t len;   /* bytes in use */
    size_t cap;   /* bytes allocated */
    size_t max;   /* growth limit; 0 means SIZE_MAX */
} sl_buf;

/* Initialise an empty buffer that may grow to at most `max` bytes. */
void sl_buf_init(sl_buf *b, size_t max);

/* Release the storage; the buffer is empty and reusable afterwards. */
void sl_buf_free(sl_buf *b);

/* The slow path of sl_buf_reserve: grow the allocation. */
int sl_buf_grow(sl_buf *b, size_t extra);

/* Make room for `extra` more bytes. Returns 0, or -1 when that would pass
 * the cap or memory is exhausted (buffer unchanged). Inline because it
 * runs several times per record. (len + extra cannot overflow once it is
 * within cap; max is checked as well because it may be lowered later.) */
static inline int sl_buf_reserve(sl_buf *b, size_t extra)
{
    return extra <= b->cap - b->len && b->len + extra <= b->max
               ? 0
               : sl_buf_grow(b, extra);
}

/* Append bytes / one byte / a formatted string. Return 0 or -1 as above;
 * on -1 nothing is appended. */
int sl_buf_append(sl_buf *b, const void *p, size_t n);
int sl_buf_putc(sl_buf *b, char c);
int sl_buf_printf(sl_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append `s` as a JSON string literal (quotes and escapes added). */
int sl_buf_json_string(sl_buf *b, const char *s, size_t n);

/* Forget the contents, keep the allocation. */
static inline void sl_buf_reset(sl_buf *b) { b->len = 0; }

/* Cut back to `len` bytes (len <= b->len). */
static inline void sl_buf_truncate(sl_buf *b, size_t len) { b->len = len; }

/* Return a NUL-terminated view (appends a NUL outside len); NULL on -1. */
const char *sl_buf_cstr(sl_buf *b);

#endif
