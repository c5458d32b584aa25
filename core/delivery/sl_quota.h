/* sl_quota: the destination's own word on its rate limit (sl_ratelimit
 * reads it from each answer's headers) turned into "may a request start
 * now". After an answer whose remaining quota is 0 nothing starts until
 * its reset (1 s when it gives none). After one that leaves N, requests
 * it may not have seen count against N: those started after it, and
 * those still out when it started (they may reach the destination after
 * it; their answers overtake each other). N minus those is a floor of
 * what remains; the count is the highest floor yet, less what started
 * since. An answer that says nothing forgets the count; with the count
 * spent and nothing in flight (no answer is coming) one request may
 * start, whose answer has seen everything: never a stall. Time is the
 * caller's (monotonic ms; the wall clock dates an X-RateLimit-Reset). */
#ifndef SL_QUOTA_H
#define SL_QUOTA_H

#include <stddef.h>
#include <stdint.h>

#include "sl_http_client.h"
#include "sl_stats.h"

typedef struct sl_quota sl_quota;

/* A request as sl_quota saw it start: its number in the order they
 * started (0: none), and how many were out then. */
typedef struct sl_quota_ticket {
    uint64_t seq;
    size_t out;
} sl_quota_ticket;

/* While the count is spent and answers are awaited: how often to ask. */
#define SL_QUOTA_POLL_MS 100
/* Remaining 0 without a reset: the pause. */
#define SL_QUOTA_DEFAULT_PAUSE_MS 1000

/* For connector `name` (borrowed, logged); its pauses are counted in
 * stats->quota_pauses (borrowed). NULL when out of memory. */
sl_quota *sl_quota_new(const char *name, sl_stats *stats);
void sl_quota_free(sl_quota *q); /* accepts NULL */

/* 0 when a request may start at `now` with `in_flight` requests out,
 * else the ms to wait before asking again. Starts nothing. */
uint64_t sl_quota_wait_ms(const sl_quota *q, uint64_t now, size_t in_flight);

/* A request starts: 0 and counted against what remains, its ticket in
 * *t (for sl_quota_answer); or the ms to wait (nothing counted, *t
 * untouched). */
uint64_t sl_quota_admit(sl_quota *q, uint64_t now, size_t in_flight,
                        sl_quota_ticket *t);

/* The answer `res` (its headers, when the request wanted them) to the
 * request of ticket `t` came at `now` (mono) / `now_wall`. */
void sl_quota_answer(sl_quota *q, const sl_http_client_response *res,
                     sl_quota_ticket t, uint64_t now, int64_t now_wall);

#endif
