/* sl_attempt_stats: what a delivery attempt adds to its connector's
 * counters — sent (requests, retries, its size in records and bytes) and
 * answered (its latency, its status code or, without an answer, the
 * transport failure's cause, the time of the last 2xx). One observation
 * per attempt, none per record. */
#ifndef SL_ATTEMPT_STATS_H
#define SL_ATTEMPT_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "sl_http_client.h"
#include "sl_stats.h"

/* Attempt number `attempt` (1: a first try) of `records` records in a
 * body of `bytes` goes on the wire. */
void sl_attempt_stats_sent(sl_stats *st, unsigned attempt, size_t records,
                           size_t bytes);

/* The attempt ended with `res` at wall time `wall_ms`. */
void sl_attempt_stats_answered(sl_stats *st, const sl_http_client_response *res,
                               int64_t wall_ms);

/* The cause a failed transfer's curl code counts under. */
sl_stats_net sl_attempt_stats_cause(CURLcode code);

#endif
