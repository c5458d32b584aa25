/* Unit tests for sl_quota: the pause at remaining 0 until the reset (or
 * 1 s without one), logged and counted once; the count of what remains
 * against requests an answer may not have seen (started since, or out
 * when it started); the highest floor wins, whatever the order of the
 * answers; answers that say nothing forget the count; a spent count with
 * nothing in flight lets one request start (never a stall). */
#include <stdint.h>
#include <string.h>

#include "sl_quota.h"
#include "sl_test.h"

#define WALL 1795687200000

static sl_stats stats;

static sl_quota_ticket tk[64]; /* by seq */

static void say(sl_quota *q, const char *h, uint64_t seq, uint64_t now)
{
    sl_http_client_response r;
    memset(&r, 0, sizeof r);
    r.status = h ? 200 : 0;
    r.headers = h;
    r.headers_len = h ? strlen(h) : 0;
    sl_quota_answer(q, &r, tk[seq], now, WALL);
}

/* Start a request with `in_flight` out: its seq, or 0 when refused. */
static uint64_t start(sl_quota *q, uint64_t now, size_t in_flight)
{
    sl_quota_ticket t = {0, 0};
    if (sl_quota_admit(q, now, in_flight, &t) != 0)
        return 0;
    CHECK(t.seq < 64 && t.out == in_flight);
    tk[t.seq] = t;
    return t.seq;
}

static void test_pause_until_reset(void)
{
    memset(&stats, 0, sizeof stats);
    sl_quota *q = sl_quota_new("c", &stats);
    CHECK(q && sl_quota_wait_ms(q, 1000, 0) == 0);
    uint64_t t1 = start(q, 1000, 0), t2 = start(q, 1000, 1);
    uint64_t t3 = start(q, 1000, 2);
    CHECK(t1 == 1 && t2 == 2 && t3 == 3);
    say(q, "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 3\r\n", t1, 1000);
    CHECK(stats.quota_pauses == 1);
    CHECK(sl_quota_wait_ms(q, 1000, 2) == 3000);
    sl_quota_ticket t = {99, 9};
    CHECK(sl_quota_admit(q, 2500, 2, &t) == 1500 && t.seq == 99);
    /* the next answer says 0 too: the same pause, not counted again */
    say(q, "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 2\r\n", t2, 1500);
    CHECK(stats.quota_pauses == 1 && sl_quota_wait_ms(q, 1500, 1) == 2500);
    /* a later reset extends it */
    say(q, "RateLimit: \"d\";r=0;t=5\r\n", t3, 1500);
    CHECK(stats.quota_pauses == 1 && sl_quota_wait_ms(q, 1500, 0) == 5000);
    /* the reset: a new window, no count */
    CHECK(sl_quota_wait_ms(q, 6500, 0) == 0);
    uint64_t t4 = start(q, 6500, 0);
    CHECK(t4 == 4 && start(q, 6500, 1) == 5);
    /* quota left during a pause does not end it */
    say(q, "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1\r\n", t4, 7000);
    CHECK(stats.quota_pauses == 2 && sl_quota_wait_ms(q, 7000, 1) == 1000);
    say(q, "X-RateLimit-Remaining: 9\r\n", 5, 7100);
    CHECK(sl_quota_wait_ms(q, 7100, 0) == 900);
    sl_quota_free(q);
}

static void test_no_reset(void)
{
    memset(&stats, 0, sizeof stats);
    sl_quota *q = sl_quota_new("c", &stats);
    say(q, "RateLimit-Remaining: 0\r\n", start(q, 100, 0), 100);
    CHECK(sl_quota_wait_ms(q, 100, 0) == SL_QUOTA_DEFAULT_PAUSE_MS);
    CHECK(stats.quota_pauses == 1);
    /* a reset in the past: it resets now, no pause */
    sl_quota *r = sl_quota_new("c", &stats);
    say(r, "X-RateLimit-Remaining: 0\r\nX-RateLimit-Reset: 1795687100\r\n",
        start(r, 100, 0), 100);
    CHECK(sl_quota_wait_ms(r, 100, 0) == 0 && stats.quota_pauses == 1);
    sl_quota_free(q);
    sl_quota_free(r);
}

static void test_unseen_count(void)
{
    memset(&stats, 0, sizeof stats);
    sl_quota *q = sl_quota_new("c", &stats);
    /* three at once, before any answer */
    CHECK(start(q, 0, 0) == 1 && start(q, 0, 1) == 2 && start(q, 0, 2) == 3);
    /* 2 says 3 remain (it came second at the destination); 1 was out
     * when it started, 3 started since: 1 more may start */
    say(q, "X-RateLimit-Remaining: 3\r\n", 2, 0);
    CHECK(start(q, 0, 2) == 4);
    CHECK(sl_quota_wait_ms(q, 0, 3) == SL_QUOTA_POLL_MS);
    CHECK(start(q, 0, 3) == 0);
    /* 1 says 4 remain (first there): 4 - 3 started since: 1, not more
     * than the count already spent on 4 */
    say(q, "X-RateLimit-Remaining: 4\r\n", 1, 10);
    CHECK(start(q, 10, 2) == 5 && start(q, 10, 3) == 0);
    /* 4 overtook 3 there: 3 says 1 remains, unseen 4, 5 and 1, 2 out */
    say(q, "X-RateLimit-Remaining: 1\r\n", 3, 20);
    CHECK(start(q, 20, 2) == 0);
    say(q, "X-RateLimit-Remaining: 2\r\n", 4, 30); /* older: a low floor */
    CHECK(start(q, 30, 1) == 0);
    /* 5 answered, nothing out: one request may start, the probe */
    say(q, "X-RateLimit-Remaining: 3\r\n", 5, 40);
    CHECK(sl_quota_wait_ms(q, 40, 0) == 0);
    CHECK(start(q, 40, 0) == 6 && start(q, 40, 1) == 0);
    /* it has seen everything: 2 remain, exactly */
    say(q, "X-RateLimit-Remaining: 2\r\n", 6, 50);
    CHECK(start(q, 50, 0) == 7 && start(q, 50, 1) == 8);
    CHECK(start(q, 50, 2) == 0);
    /* a higher floor (a new window, seen by a request out alone) raises */
    say(q, "X-RateLimit-Remaining: 9\r\n", 7, 60); /* unseen: 8 */
    CHECK(start(q, 60, 1) == 9);
    /* an answer without the headers (a transport error): no count */
    say(q, NULL, 8, 70);
    CHECK(start(q, 70, 1) == 10 && start(q, 70, 2) == 11);
    /* garbage says nothing either */
    say(q, "X-RateLimit-Remaining: 1\r\n", 11, 80); /* unseen 2: floor 0 */
    CHECK(start(q, 80, 2) == 0);
    say(q, "X-RateLimit-Remaining: -4\r\nRateLimit: ;;;\r\n", 10, 80);
    CHECK(start(q, 80, 1) == 12 && start(q, 80, 2) == 13);
    /* a ticket never given, or none: ignored */
    sl_http_client_response r;
    memset(&r, 0, sizeof r);
    r.headers = "X-RateLimit-Remaining: 0\r\n";
    r.headers_len = strlen(r.headers);
    sl_quota_answer(q, &r, (sl_quota_ticket){0, 0}, 90, WALL);
    sl_quota_answer(q, &r, (sl_quota_ticket){99, 0}, 90, WALL);
    CHECK(stats.quota_pauses == 0);
    /* an older answer's 0 pauses all the same */
    say(q, "X-RateLimit-Remaining: 0\r\n", 12, 100);
    CHECK(stats.quota_pauses == 1);
    sl_quota_free(q);
    sl_quota_free(NULL);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"pause_until_reset", test_pause_until_reset},
        {"no_reset", test_no_reset},
        {"unseen_count", test_unseen_count},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
