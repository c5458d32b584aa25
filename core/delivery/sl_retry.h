/* sl_retry: what a destination's answer means for a batch, and how long to
 * wait before trying again. Pure: the clock and the random numbers are
 * the caller's, so a test can fake both. */
#ifndef SL_RETRY_H
#define SL_RETRY_H

#include <stddef.h>
#include <stdint.h>

#include "sl_status_lists.h"
#include "sl_time.h"

/* What to do after an attempt, by its HTTP status (0: the transfer
 * failed, or headers_fn did). */
typedef enum sl_retry_class {
    SL_RETRY_DELIVERED = 0, /* 2xx */
    SL_RETRY_LATER,         /* 0, 407, 408, 429, 5xx: again after a
                               backoff */
    SL_RETRY_AUTH,          /* 401, 403: once more at once, headers anew */
    SL_RETRY_TOO_LARGE,     /* 413: halve the batch */
    SL_RETRY_PERMANENT      /* anything else: bisect or dead-letter */
} sl_retry_class;

/* The class of `status`. */
sl_retry_class sl_retry_classify(long status);

/* The class of `status` with a connector's `status` lists (`o`; NULL:
 * none, then it is sl_retry_classify): a code in a list has that list's
 * class (success DELIVERED, retry LATER, permanent PERMANENT: a listed
 * 401, 403 or 413 loses its AUTH or TOO_LARGE meaning); status 0 (a
 * failed transfer) is never in one. *list (may be NULL) gets the list
 * that decided, SL_STATUS_LIST_NONE when the default did. */
sl_retry_class sl_retry_classify_with(const sl_status_lists *o, long status,
                                      sl_status_list *list);

/* Uniform random 64-bit numbers, from the caller's state `ud`. */
typedef uint64_t (*sl_retry_random_fn)(void *ud);

/* A connector's backoff. Pointers are borrowed. */
typedef struct sl_retry_policy {
    uint64_t base_ms;            /* retry.base_ms: the first ceiling */
    uint64_t max_ms;             /* retry.max_ms: the ceiling's cap */
    const sl_time_clock *clock;  /* its wall clock dates Retry-After */
    sl_retry_random_fn random;   /* the jitter */
    void *random_ud;
} sl_retry_policy;

/* The wait before the next attempt after `attempt` attempts (1 = the
 * first failed): full jitter, uniform over [0, min(max_ms, base_ms *
 * 2^(attempt-1))] (one random number, none when that ceiling is 0). A
 * Retry-After (`retry_after`, the header's value or NULL) that asks for
 * longer wins, over max_ms too; *retry_after_ms gets what it asked for (0
 * without one). */
uint64_t sl_retry_backoff_ms(const sl_retry_policy *p, unsigned attempt,
                             const char *retry_after,
                             uint64_t *retry_after_ms);

/* sl_retry_random_fn of a xorshift64 whose state (not 0) is the uint64_t
 * at `state`. */
uint64_t sl_retry_xorshift(void *state);

/* A Retry-After value in ms from `now_wall_ms`: delay-seconds, or an HTTP
 * date (whatever curl_getdate reads); at most a day. 0 when absent,
 * unreadable or in the past. */
uint64_t sl_retry_after_ms(const char *value, int64_t now_wall_ms);

/* The reason a batch is dead-lettered when its retry time
 * (max_elapsed_s) ran out, naming the last failure: "retry time
 * (max_elapsed_s = 60) ran out; last: HTTP 503", with "TLS <tls>: "
 * before it when a TLS failure (tls, NULL: none) was last, " (status.retry)"
 * after a code in the connector's retry list (lists `o`, may be NULL),
 * and `error` (at most 200 bytes): the transport's when status is 0,
 * else (when not "") what response_fn said of the answer. */
void sl_retry_ran_out(char *why, size_t whylen, unsigned max_elapsed_s,
                      const sl_status_lists *o, long status,
                      const char *error, const char *tls);

#endif
