/* sl_pace: a connector's rate limit (`rate_limit`): a token bucket per
 * rate, on the caller's monotonic clock (ms). Pure: no timers, no I/O.
 *
 * requests_per_s: each attempt costs 1; the bucket holds `burst` attempts
 * (1: attempts are spaced evenly, as a leaky-bucket limiter at the
 * destination expects). records_per_s: an attempt costs its records; the
 * bucket holds records_per_s * burst records. An attempt with more records
 * than the bucket holds may still go once it is full: it is charged whole,
 * and the debt delays the next. Both buckets start full. */
#ifndef SL_PACE_H
#define SL_PACE_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_pace sl_pace;

/* The longest wait sl_pace_wait_ms says (one day): a tiny rate waits this
 * long and asks again. */
#define SL_PACE_WAIT_MAX_MS 86400000ull

/* A limiter of requests_per_s and records_per_s (each 0: no such limit,
 * else finite and > 0) with `burst` (>= 1), full at `now`. NULL when
 * neither rate is given, a value is out of range, or out of memory.
 * Owned by the caller: sl_pace_free. */
sl_pace *sl_pace_new(double requests_per_s, double records_per_s,
                     double burst, uint64_t now);
void sl_pace_free(sl_pace *p);

/* Milliseconds from `now` until an attempt of `records` records may go
 * (0: now), at most SL_PACE_WAIT_MAX_MS. Changes nothing. */
uint64_t sl_pace_wait_ms(const sl_pace *p, uint64_t now, size_t records);

/* Charge an attempt of `records` records at `now` (whether or not it
 * had to wait). */
void sl_pace_take(sl_pace *p, uint64_t now, size_t records);

/* The same, for an attempt (or a cut) that is being held: p may be NULL
 * (no limit: 0). While it must wait, *since (0 while nothing waits)
 * becomes now + 1, the first time, and *delayed is bumped once. */
uint64_t sl_pace_hold(const sl_pace *p, uint64_t now, size_t records,
                      uint64_t *since, uint64_t *delayed);

/* The held attempt goes at `now`: it is charged (sl_pace_take), the time
 * it was held (since *since) is added to *waited_ms, *since is cleared. */
void sl_pace_release(sl_pace *p, uint64_t now, size_t records,
                     uint64_t *since, uint64_t *waited_ms);

#endif
