/* sl_send_reply: reads the intake's answer to a batch of `sluice send`,
 * {"accepted":N,"dropped":N,"rejected":[{"index":i,"field":"..",
 * "error":".."},...],"rejected_total":N,"rejected_truncated":true} (the
 * members after "accepted" optional) or {"error":".."}, the same from the
 * connector in this process or from a gateway's intake. */
#ifndef SL_SEND_REPLY_H
#define SL_SEND_REPLY_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sl_send_reply {
    size_t accepted;
    size_t dropped;        /* records the transform dropped */
    size_t rejected;       /* listed, or rejected_total when given */
    bool truncated;        /* not every rejection was listed */
    char error[512];       /* {"error":..}'s text, or "" */
} sl_send_reply;

/* Called per listed rejection, in order; field and error are decoded
 * and NUL-terminated, valid during the call. */
typedef void (*sl_send_reply_fn)(void *ud, size_t index, const char *field,
                                  const char *error);

/* Parse p[0..n) into *a, calling fn for each rejection. 0, or -1 when it
 * is not such an answer (a->error then says why). */
int sl_send_reply_parse(const char *p, size_t n, sl_send_reply *a,
                         sl_send_reply_fn fn, void *ud);

#endif
