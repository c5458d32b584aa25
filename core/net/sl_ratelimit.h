/* sl_ratelimit: what a destination's answer says about its rate limit,
 * read from the answer's header lines. Pure: the wall clock is the
 * caller's, so a test can fix it.
 *
 * Read (names in any case; the most restrictive reading wins when several
 * fields or policies are present: the least remaining, then the longest
 * reset):
 * - RateLimit-Limit / RateLimit-Remaining / RateLimit-Reset (the IETF
 *   draft up to -06; reset in seconds to wait; of a Limit list such as
 *   "10, 10;w=1" the first number);
 * - RateLimit: "name";r=R;t=T (draft -07 on, a structured-field list:
 *   r remaining, t seconds to the reset) with RateLimit-Policy:
 *   "name";q=Q;w=W (q the quota of the policy of the same name);
 * - X-RateLimit-Limit / X-RateLimit-Remaining / X-RateLimit-Reset (reset
 *   in seconds to wait; above 10^9 a Unix time in seconds, above 10^12 in
 *   milliseconds).
 * Malformed, negative or overflowing values are ignored as if absent;
 * resets are capped at a day (as Retry-After is). */
#ifndef SL_RATELIMIT_H
#define SL_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

enum {
    SL_RATELIMIT_LIMIT = 1,     /* .limit is known */
    SL_RATELIMIT_REMAINING = 2, /* .remaining is known */
    SL_RATELIMIT_RESET = 4      /* .reset_ms is known */
};

#define SL_RATELIMIT_MAX_RESET_MS 86400000ull

typedef struct sl_ratelimit {
    unsigned known;     /* SL_RATELIMIT_* bits; 0: the answer said nothing */
    uint64_t limit;     /* requests allowed per window */
    uint64_t remaining; /* requests left in this window */
    uint64_t reset_ms;  /* wait from now until the window resets */
} sl_ratelimit;

/* Read `len` bytes of header lines ("Name: value\r\n" each; `headers` need
 * not be NUL-terminated; NULL with len 0 is fine) into *out. `now_wall_ms`
 * (Unix time in ms) turns an X-RateLimit-Reset that is a time into a
 * wait. Returns out->known. */
unsigned sl_ratelimit_parse(const char *headers, size_t len,
                            int64_t now_wall_ms, sl_ratelimit *out);

#endif
