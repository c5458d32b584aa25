/* sl_err: the caller-supplied error buffer. Functions that can fail take
 * (char *err, size_t errlen) and write one line of detail there, the way
 * Redis's anet.c does; the result itself is the function's return value. */
#ifndef SL_ERR_H
#define SL_ERR_H

#include <stddef.h>

/* Format the message into err (at most errlen bytes, always terminated,
 * cut if longer). Does nothing when err is NULL or errlen is 0. */
void sl_err_set(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* sl_err_set, then return -1: `return sl_err_fail(err, errlen, ...);` in a
 * function whose failure is -1. */
int sl_err_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
