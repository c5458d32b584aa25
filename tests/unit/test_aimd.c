/* Unit tests for sl_aimd with a fake clock: the start at 1, the increase
 * only when the limit was reached and the RTT stayed flat, the cut on back
 * pressure (at once, once a window, never below 1) and on a rising RTT,
 * the ceiling, hostile samples; and a simulated destination that slows
 * down and answers 503 above 6 in flight, against which the limit must
 * settle at 8 or below with at least 80 % of the throughput of a fixed 6. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "sl_aimd.h"
#include "sl_test.h"

/* `windows` windows of answers that each take `rtt` ms, with the limit
 * always reached; from *now, which moves on. The last change. */
static sl_aimd_change flat(sl_aimd *a, uint64_t *now, int windows, double rtt)
{
    sl_aimd_change ch = SL_AIMD_SAME;
    for (int i = 0; i < windows; i++) {
        *now += (uint64_t)rtt;
        ch = sl_aimd_answer(a, *now, rtt, SL_AIMD_SUCCESS,
                            sl_aimd_limit(a));
    }
    return ch;
}

static void test_start_and_ceiling(void)
{
    sl_aimd *a = sl_aimd_new(3);
    uint64_t now = 1000;
    CHECK(a && sl_aimd_limit(a) == 1);
    CHECK(sl_aimd_rtt_ms(a) == 0);
    /* the first sample primes the mean: no change yet */
    CHECK(sl_aimd_answer(a, now, 20, SL_AIMD_SUCCESS, 1) == SL_AIMD_SAME);
    CHECK(sl_aimd_rtt_ms(a) == 20);
    /* before the window (one mean RTT) is over: no change */
    CHECK(sl_aimd_answer(a, now + 5, 20, SL_AIMD_SUCCESS, 1) == SL_AIMD_SAME);
    CHECK(sl_aimd_limit(a) == 1);
    CHECK(sl_aimd_answer(a, now + 20, 20, SL_AIMD_SUCCESS, 1) == SL_AIMD_UP);
    CHECK(sl_aimd_limit(a) == 2);
    now += 20;
    flat(a, &now, 10, 20);
    CHECK(sl_aimd_limit(a) == 3); /* the ceiling */
    flat(a, &now, 100, 20);
    CHECK(sl_aimd_limit(a) == 3);
    sl_aimd_free(a);
    /* max 0 is 1 */
    a = sl_aimd_new(0);
    now = 0;
    flat(a, &now, 50, 10);
    CHECK(sl_aimd_limit(a) == 1);
    sl_aimd_free(a);
    sl_aimd_free(NULL);
}

static void test_no_increase_below_limit(void)
{
    sl_aimd *a = sl_aimd_new(64);
    uint64_t now = 0;
    flat(a, &now, 5, 10); /* 1 -> 2 .. */
    unsigned l = sl_aimd_limit(a);
    CHECK(l > 1);
    /* a light load: one request at a time, never the limit */
    for (int i = 0; i < 1000; i++) {
        now += 10;
        CHECK(sl_aimd_answer(a, now, 10, SL_AIMD_SUCCESS, 1) == SL_AIMD_SAME);
    }
    CHECK(sl_aimd_limit(a) == l);
    sl_aimd_free(a);
}

static void test_back_pressure(void)
{
    sl_aimd *a = sl_aimd_new(64);
    uint64_t now = 0;
    flat(a, &now, 40, 10);
    unsigned l = sl_aimd_limit(a);
    CHECK(l >= 20);
    /* a 503 cuts at once, to floor(0.9 l) */
    now += 1;
    CHECK(sl_aimd_answer(a, now, 0, SL_AIMD_BACK_PRESSURE, l) ==
          SL_AIMD_DOWN_BACK_PRESSURE);
    CHECK(sl_aimd_limit(a) == (unsigned)floor(l * 0.9));
    /* more 503s within the round trip (sent before the cut): no more */
    for (int i = 0; i < 9; i++)
        CHECK(sl_aimd_answer(a, now + (uint64_t)i, 0, SL_AIMD_BACK_PRESSURE,
                             l) == SL_AIMD_SAME);
    CHECK(sl_aimd_limit(a) == (unsigned)floor(l * 0.9));
    /* nor an increase in the window after the cut */
    CHECK(sl_aimd_answer(a, now + 10, 10, SL_AIMD_SUCCESS, 64) ==
          SL_AIMD_SAME);
    /* a round trip later it cuts again */
    unsigned before = sl_aimd_limit(a);
    CHECK(sl_aimd_answer(a, now + 11, 0, SL_AIMD_BACK_PRESSURE, 64) ==
          SL_AIMD_DOWN_BACK_PRESSURE);
    CHECK(sl_aimd_limit(a) == (unsigned)floor(before * 0.9));
    /* a dead destination: down to 1, never 0 */
    for (int i = 0; i < 200; i++) {
        now += 100;
        sl_aimd_answer(a, now, 0, SL_AIMD_BACK_PRESSURE, 1);
    }
    CHECK(sl_aimd_limit(a) == 1);
    CHECK(sl_aimd_answer(a, now + 1000, 0, SL_AIMD_BACK_PRESSURE, 1) ==
          SL_AIMD_SAME);
    /* other failures neither cut nor count as samples */
    l = sl_aimd_limit(a);
    for (int i = 0; i < 100; i++) {
        now += 10;
        CHECK(sl_aimd_answer(a, now, 1e9, SL_AIMD_OTHER, 64) != SL_AIMD_DOWN_RTT);
    }
    CHECK(sl_aimd_rtt_ms(a) < 1000);
    sl_aimd_free(a);
    /* back pressure before any sample, at the start */
    a = sl_aimd_new(8);
    CHECK(sl_aimd_answer(a, 5, 0, SL_AIMD_BACK_PRESSURE, 1) == SL_AIMD_SAME);
    CHECK(sl_aimd_limit(a) == 1);
    sl_aimd_free(a);
}

static void test_rising_rtt(void)
{
    sl_aimd *a = sl_aimd_new(64);
    uint64_t now = 0;
    flat(a, &now, 20, 10);
    unsigned l = sl_aimd_limit(a);
    CHECK(l >= 10);
    /* the RTT doubles: cut at the window's end, once */
    now += 10;
    CHECK(sl_aimd_answer(a, now, 20, SL_AIMD_SUCCESS, l) == SL_AIMD_DOWN_RTT);
    CHECK(sl_aimd_limit(a) == (unsigned)floor(l * 0.9));
    CHECK(sl_aimd_window_rtt_ms(a) == 20);
    /* within the deviation (noise of +-1 ms around 10): no cut */
    sl_aimd_free(a);
    a = sl_aimd_new(64);
    now = 0;
    int cuts = 0;
    for (int i = 0; i < 400; i++) {
        double rtt = 10 + ((i * 7) % 3) - 1; /* 9, 10, 11 */
        now += 10;
        cuts += sl_aimd_answer(a, now, rtt, SL_AIMD_SUCCESS,
                               sl_aimd_limit(a)) == SL_AIMD_DOWN_RTT;
    }
    CHECK(sl_aimd_limit(a) > 30);
    CHECK(cuts < 10);
    sl_aimd_free(a);
}

static void test_hostile_samples(void)
{
    sl_aimd *a = sl_aimd_new(64);
    uint64_t now = 0;
    flat(a, &now, 5, 10);
    double mean = sl_aimd_rtt_ms(a);
    double bad[] = {NAN, INFINITY, -INFINITY, -1, -1e300, 1e300, -NAN};
    for (int k = 0; k < 7; k++)
        for (int i = 0; i < 20; i++) {
            now += 10;
            sl_aimd_answer(a, now, bad[k], SL_AIMD_SUCCESS, (size_t)-1);
        }
    CHECK(sl_aimd_rtt_ms(a) == mean);
    CHECK(isfinite(sl_aimd_rtt_ms(a)));
    /* a time going backwards or standing still changes nothing wrong */
    sl_aimd_answer(a, 0, 10, SL_AIMD_SUCCESS, 1);
    sl_aimd_answer(a, 0, 10, SL_AIMD_BACK_PRESSURE, 1);
    CHECK(sl_aimd_limit(a) >= 1 && sl_aimd_limit(a) <= 64);
    /* beyond a day is no sample; a day is */
    mean = sl_aimd_rtt_ms(a);
    sl_aimd_answer(a, now + 100000, 86400000.5, SL_AIMD_SUCCESS, 64);
    sl_aimd_answer(a, now + 100000, 1e300, SL_AIMD_SUCCESS, 64);
    CHECK(sl_aimd_rtt_ms(a) == mean);
    sl_aimd_answer(a, now + 200000, 86400000, SL_AIMD_SUCCESS, 64);
    CHECK(sl_aimd_rtt_ms(a) > mean && sl_aimd_rtt_ms(a) <= 86400000);
    CHECK(sl_aimd_limit(a) >= 1);
    sl_aimd_free(a);
}

/* ---- a simulated destination ------------------------------------------ */

/* It answers 503 at once (1 ms) when more than 6 are in flight, else 200
 * after 20 ms + 2 ms per request in flight. The sender keeps `limit`
 * requests in flight (the fixed concurrency, or sl_aimd's). */
typedef struct sim {
    uint64_t done[1100]; /* completion times; 0: free */
    int ok[1100];        /* its answer: 1 success, 0 503 */
    uint64_t sent[1100];
    size_t in_flight;
} sim;

static void sim_send(sim *s, uint64_t now)
{
    size_t i = 0;
    while (s->done[i])
        i++;
    s->in_flight++;
    s->sent[i] = now;
    s->ok[i] = s->in_flight <= 6;
    s->done[i] = now + (s->ok[i] ? 20 + 2 * s->in_flight : 1);
}

/* Run for `ms` with a fixed limit (fixed > 0) or adaptive; successes, and
 * the largest limit over the second half. */
static unsigned long simulate(unsigned fixed, uint64_t ms, unsigned *late_max)
{
    sim s = {0};
    sl_aimd *a = sl_aimd_new(64);
    unsigned long ok = 0;
    uint64_t now = 1;
    *late_max = 0;
    for (;;) {
        unsigned limit = fixed ? fixed : sl_aimd_limit(a);
        while (s.in_flight < limit)
            sim_send(&s, now);
        size_t first = 0;
        for (size_t i = 0; i < sizeof s.done / sizeof s.done[0]; i++)
            if (s.done[i] && (!s.done[first] || s.done[i] < s.done[first]))
                first = i;
        now = s.done[first];
        if (now > ms)
            break;
        ok += (unsigned long)s.ok[first];
        sl_aimd_answer(a, now, (double)(now - s.sent[first]),
                       s.ok[first] ? SL_AIMD_SUCCESS : SL_AIMD_BACK_PRESSURE,
                       s.in_flight);
        s.done[first] = 0;
        s.in_flight--;
        if (now > ms / 2 && sl_aimd_limit(a) > *late_max)
            *late_max = sl_aimd_limit(a);
    }
    sl_aimd_free(a);
    return ok;
}

static void test_simulated_destination(void)
{
    unsigned late_max = 0, ignored;
    unsigned long fixed = simulate(6, 20000, &ignored);
    unsigned long adaptive = simulate(0, 20000, &late_max);
    printf("     simulated: fixed 6 %lu, adaptive %lu (%.0f %%), limit at "
           "most %u late\n", fixed, adaptive, 100.0 * adaptive / fixed,
           late_max);
    CHECK(late_max <= 8);
    CHECK(adaptive * 10 >= fixed * 8);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"start_and_ceiling", test_start_and_ceiling},
        {"no_increase_below_limit", test_no_increase_below_limit},
        {"back_pressure", test_back_pressure},
        {"rising_rtt", test_rising_rtt},
        {"hostile_samples", test_hostile_samples},
        {"simulated_destination", test_simulated_destination},
        {NULL, NULL}};
    return sl_test_run(cases);
}
