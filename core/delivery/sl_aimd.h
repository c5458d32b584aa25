/* sl_aimd: a connector's adaptive concurrency limit — how many requests
 * may be in flight — from what the answers say: additive increase,
 * multiplicative decrease, after Vector's adaptive request concurrency.
 *
 * Answers are taken in windows about one round trip long (the long-run
 * mean RTT). At the end of a window the limit goes up by 1 when requests
 * in flight reached the limit, no answer was back pressure and the
 * window's mean RTT is not above the long-run mean (an EWMA, alpha 0.4);
 * it is cut to 0.9 of itself (rounded down, at least 1) when the
 * window's mean RTT is above the long-run mean by more than 2.5 of its
 * deviations. Back pressure (429, 503, a timeout: the caller says which
 * answers are) cuts at once, and at most once a window: the answers to
 * requests sent before a cut do not cut again. The limit stays within 1 ..
 * max; it starts at 1.
 *
 * Pure: the time comes with each call; nothing is read, logged or
 * locked. */
#ifndef SL_AIMD_H
#define SL_AIMD_H

#include <stddef.h>
#include <stdint.h>

typedef struct sl_aimd sl_aimd;

/* What one answer says about the destination's load. */
typedef enum sl_aimd_signal {
    SL_AIMD_SUCCESS = 0,   /* processed: its RTT is a sample */
    SL_AIMD_BACK_PRESSURE, /* overloaded: slow down */
    SL_AIMD_OTHER          /* a failure that says nothing about load */
} sl_aimd_signal;

/* What an answer did to the limit. */
typedef enum sl_aimd_change {
    SL_AIMD_SAME = 0,
    SL_AIMD_UP,                 /* one more */
    SL_AIMD_DOWN_BACK_PRESSURE, /* cut: the answer was back pressure */
    SL_AIMD_DOWN_RTT            /* cut: the window's RTT rose */
} sl_aimd_change;

/* A limit of 1 that may grow to `max` (0 is taken as 1). NULL when out of
 * memory. Free with sl_aimd_free. */
sl_aimd *sl_aimd_new(unsigned max);

/* Accepts NULL. */
void sl_aimd_free(sl_aimd *a);

/* The longest round trip taken as a sample: a day (timeout_ms is at most
 * 10 minutes; anything longer is a broken clock). */
#define SL_AIMD_RTT_MAX_MS 86400000.0

/* One answer at `now_ms` (a monotonic clock): its signal, its round trip
 * in ms (read only for SL_AIMD_SUCCESS; negative, NaN or above
 * SL_AIMD_RTT_MAX_MS: no sample) and the requests that were in flight as it came, itself
 * included (at least the limit: the limit was reached). Returns what
 * changed; sl_aimd_limit has the new limit. */
sl_aimd_change sl_aimd_answer(sl_aimd *a, uint64_t now_ms, double rtt_ms,
                              sl_aimd_signal signal, size_t in_flight);

/* Requests that may be in flight now: 1 .. max. */
unsigned sl_aimd_limit(const sl_aimd *a);

/* The long-run mean RTT, and the mean of the last window that ended, in
 * ms (0 before the first sample): what a log line of a cut shows. */
double sl_aimd_rtt_ms(const sl_aimd *a);
double sl_aimd_window_rtt_ms(const sl_aimd *a);

#endif
