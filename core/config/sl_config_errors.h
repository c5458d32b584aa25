/* sl_config_errors: the list of one-line messages ("file:line: key: what")
 * that loading a configuration reports, every problem found, in order. */
#ifndef SL_CONFIG_ERRORS_H
#define SL_CONFIG_ERRORS_H

#include <stddef.h>

typedef struct sl_config_errors {
    char **msgs;  /* owned, each malloc'd */
    size_t n, cap;
} sl_config_errors;

/* An empty list (no allocation). */
void sl_config_errors_init(sl_config_errors *e);

/* Free every message and the array; the list is empty again and may be
 * reused or freed again. */
void sl_config_errors_free(sl_config_errors *e);

/* Append one message made from fmt. Out of memory, nothing is appended and
 * the list is unchanged (the loader counts messages, and reports "out of
 * memory" itself when none came). */
void sl_config_errors_add(sl_config_errors *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
