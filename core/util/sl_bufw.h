/* sl_bufw: text appended to an sl_buf by a writer whose first failure
 * sticks: every call after a failed one does nothing, so that a document
 * (sl_openapi's) is written in straight lines and checked once, at the
 * end. */
#ifndef SL_BUFW_H
#define SL_BUFW_H

#include <stddef.h>

#include "sl_buf.h"

typedef struct sl_bufw {
    sl_buf *b;  /* borrowed */
    int failed; /* a call failed: the buffer's cap, or out of memory */
} sl_bufw;

/* Append s (NUL-terminated). */
void sl_bufw_put(sl_bufw *o, const char *s);

/* Append the printf-formatted text; one call writes at most 511 bytes
 * (more is a failure). */
void sl_bufw_putf(sl_bufw *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Append s[0..n) as a JSON string, quoted and escaped. */
void sl_bufw_str(sl_bufw *o, const char *s, size_t n);

#endif
