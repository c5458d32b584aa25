/* Unit tests for sl_pace with a fake clock: even spacing with burst 1,
 * bursts, records_per_s with batches bigger than the bucket (debt),
 * fractional rates, and hostile values (huge, tiny, inf, nan, 0). */
#include <math.h>
#include <stdint.h>

#include "sl_pace.h"
#include "sl_test.h"

/* Send `n` attempts of `records` as soon as the limiter lets them, from
 * t0; the time of the last one. */
static uint64_t run(sl_pace *p, uint64_t t0, int n, size_t records)
{
    uint64_t now = t0;
    for (int i = 0; i < n; i++) {
        now += sl_pace_wait_ms(p, now, records);
        CHECK(sl_pace_wait_ms(p, now, records) == 0);
        sl_pace_take(p, now, records);
    }
    return now;
}

static void test_even_spacing(void)
{
    sl_pace *p = sl_pace_new(20, 0, 1, 1000);
    CHECK(p);
    CHECK(sl_pace_wait_ms(p, 1000, 1) == 0);
    sl_pace_take(p, 1000, 1);
    CHECK(sl_pace_wait_ms(p, 1000, 1) == 50);
    CHECK(sl_pace_wait_ms(p, 1049, 1) == 1);
    CHECK(sl_pace_wait_ms(p, 1050, 1) == 0);
    /* waiting changes nothing; only take charges */
    CHECK(sl_pace_wait_ms(p, 1050, 1) == 0);
    sl_pace_take(p, 1050, 1);
    CHECK(sl_pace_wait_ms(p, 1050, 1) == 50);
    /* idle long: still only one at once (burst 1) */
    sl_pace_take(p, 100000, 1);
    CHECK(sl_pace_wait_ms(p, 100000, 1) == 50);
    sl_pace_free(p);
    /* 18/s: 201 attempts take at least 200/18 s, never less */
    p = sl_pace_new(18, 0, 1, 0);
    uint64_t last = run(p, 0, 201, 1);
    CHECK(last >= 200 * 1000 / 18 && last <= 200 * 1000 / 18 + 201);
    sl_pace_free(p);
}

static void test_burst(void)
{
    sl_pace *p = sl_pace_new(10, 0, 5, 0);
    for (int i = 0; i < 5; i++) {
        CHECK(sl_pace_wait_ms(p, 0, 1) == 0);
        sl_pace_take(p, 0, 1);
    }
    CHECK(sl_pace_wait_ms(p, 0, 1) == 100);
    /* refilled to 5 at most after a long pause */
    CHECK(run(p, 10000, 5, 1) == 10000);
    CHECK(sl_pace_wait_ms(p, 10000, 1) == 100);
    sl_pace_free(p);
}

static void test_records(void)
{
    /* 1000 records/s, burst 1: the bucket holds 1000 records */
    sl_pace *p = sl_pace_new(0, 1000, 1, 0);
    CHECK(sl_pace_wait_ms(p, 0, 1000) == 0);
    sl_pace_take(p, 0, 600);
    CHECK(sl_pace_wait_ms(p, 0, 400) == 0);
    CHECK(sl_pace_wait_ms(p, 0, 500) == 100);
    sl_pace_free(p);
    /* a batch of 5000 > the bucket: goes when it is full, the debt of 4000
     * delays the next by 4 s (plus its own 100 records) */
    p = sl_pace_new(0, 1000, 1, 0);
    CHECK(sl_pace_wait_ms(p, 0, 5000) == 0);
    sl_pace_take(p, 0, 5000);
    CHECK(sl_pace_wait_ms(p, 0, 100) == 4100);
    CHECK(sl_pace_wait_ms(p, 0, 5000) == 5000); /* until full again */
    sl_pace_free(p);
    /* both rates: the longer wait wins */
    p = sl_pace_new(100, 50, 1, 0);
    sl_pace_take(p, 0, 50);
    CHECK(sl_pace_wait_ms(p, 0, 1) == 20);
    CHECK(sl_pace_wait_ms(p, 0, 10) == 200);
    sl_pace_free(p);
    /* 0 records (an attempt of no records) costs only a request */
    p = sl_pace_new(0, 10, 1, 0);
    CHECK(sl_pace_wait_ms(p, 0, 0) == 0);
    sl_pace_free(p);
}

static void test_fractional(void)
{
    /* Brevo: 100 per minute */
    sl_pace *p = sl_pace_new(100.0 / 60, 0, 1, 0);
    sl_pace_take(p, 0, 1);
    CHECK(sl_pace_wait_ms(p, 0, 1) == 600);
    uint64_t last = run(p, 600, 100, 1);
    CHECK(last >= 600 + 99 * 600 && last <= 600 + 99 * 600 + 100);
    sl_pace_free(p);
    p = sl_pace_new(0.5, 0, 1, 0);
    sl_pace_take(p, 0, 1);
    CHECK(sl_pace_wait_ms(p, 0, 1) == 2000);
    CHECK(sl_pace_wait_ms(p, 1999, 1) == 1);
    sl_pace_free(p);
}

static void test_hostile(void)
{
    CHECK(!sl_pace_new(0, 0, 1, 0));           /* no rate */
    CHECK(!sl_pace_new(-1, 0, 1, 0));
    CHECK(!sl_pace_new(INFINITY, 0, 1, 0));
    CHECK(!sl_pace_new(NAN, 0, 1, 0));
    CHECK(!sl_pace_new(0, NAN, 1, 0));
    CHECK(!sl_pace_new(0, -INFINITY, 1, 0));
    CHECK(!sl_pace_new(10, 0, 0, 0));          /* burst below 1 */
    CHECK(!sl_pace_new(10, 0, 0.5, 0));
    CHECK(!sl_pace_new(10, 0, NAN, 0));
    CHECK(!sl_pace_new(10, 0, INFINITY, 0));
    /* tiny: the wait is capped; nothing overflows */
    sl_pace *p = sl_pace_new(1e-9, 1e-9, 1, 0);
    CHECK(p);
    sl_pace_take(p, 0, SIZE_MAX);
    CHECK(sl_pace_wait_ms(p, 0, 1) == SL_PACE_WAIT_MAX_MS);
    CHECK(sl_pace_wait_ms(p, UINT64_MAX, SIZE_MAX) == SL_PACE_WAIT_MAX_MS);
    sl_pace_free(p);
    /* huge: never waits */
    p = sl_pace_new(1e300, 1e300, 1e300, 0);
    CHECK(p);
    for (int i = 0; i < 1000; i++)
        sl_pace_take(p, 0, SIZE_MAX);
    CHECK(sl_pace_wait_ms(p, 1, SIZE_MAX) == 0);
    sl_pace_free(p);
    /* a clock that goes back adds no tokens and does not underflow */
    p = sl_pace_new(10, 0, 1, 5000);
    sl_pace_take(p, 5000, 1);
    CHECK(sl_pace_wait_ms(p, 0, 1) == 100);
    sl_pace_take(p, 0, 1);
    CHECK(sl_pace_wait_ms(p, 5000, 1) == 200);
    sl_pace_free(p);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"even_spacing", test_even_spacing},
        {"burst", test_burst},
        {"records", test_records},
        {"fractional", test_fractional},
        {"hostile", test_hostile},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
