/* Unit tests for sl_retry: every class of answer, and the backoff with a
 * fake clock and fake random numbers (the jitter's bounds, the cap,
 * Retry-After in seconds and as an HTTP date winning over max_ms); the
 * `status` lists overriding the classes. */
#include <stdint.h>

#include "sl_retry.h"
#include "sl_test.h"

/* 2026-11-26T10:00:00Z, a Thursday. */
#define NOW_MS 1795687200000

typedef struct fake {
    int64_t wall;        /* the clock's wall time */
    uint64_t next;       /* what random returns */
    unsigned draws;      /* how often it was asked */
} fake;

static uint64_t fake_mono(void *ud)
{
    (void)ud;
    return 1;
}

static int64_t fake_wall(void *ud) { return ((fake *)ud)->wall; }

static uint64_t fake_random(void *ud)
{
    fake *f = ud;
    f->draws++;
    return f->next;
}

static sl_time_clock fake_clock(fake *f)
{
    return (sl_time_clock){fake_mono, fake_wall, f};
}

static void test_classify(void)
{
    static const long delivered[] = {200, 201, 204, 299};
    static const long later[] = {0, 407, 408, 429, 500, 502, 503, 504, 599, 600};
    static const long auth[] = {401, 403};
    static const long permanent[] = {100, 199, 300, 302, 304, 400, 402,
                                     404, 405, 409, 410, 412, 414, 422,
                                     428, 431, 451, 499};
    for (size_t i = 0; i < sizeof delivered / sizeof *delivered; i++)
        CHECK(sl_retry_classify(delivered[i]) == SL_RETRY_DELIVERED);
    for (size_t i = 0; i < sizeof later / sizeof *later; i++)
        CHECK(sl_retry_classify(later[i]) == SL_RETRY_LATER);
    for (size_t i = 0; i < sizeof auth / sizeof *auth; i++)
        CHECK(sl_retry_classify(auth[i]) == SL_RETRY_AUTH);
    CHECK(sl_retry_classify(413) == SL_RETRY_TOO_LARGE);
    for (size_t i = 0; i < sizeof permanent / sizeof *permanent; i++)
        CHECK(sl_retry_classify(permanent[i]) == SL_RETRY_PERMANENT);
}

/* The `status` lists: a listed code takes its list's class (the special
 * 401/403/413 too), an unlisted one keeps its default, 0 and codes out of
 * 100..599 are never overridden, NULL lists are the default classes. */
static void test_classify_with(void)
{
    sl_status_lists *o = sl_status_lists_new();
    CHECK(o != NULL);
    if (!o)
        return;
    CHECK(sl_status_lists_add(o, 409, SL_STATUS_LIST_SUCCESS) == 0);
    CHECK(sl_status_lists_add(o, 400, SL_STATUS_LIST_RETRY) == 0);
    CHECK(sl_status_lists_add(o, 401, SL_STATUS_LIST_RETRY) == 0);
    CHECK(sl_status_lists_add(o, 413, SL_STATUS_LIST_PERMANENT) == 0);
    CHECK(sl_status_lists_add(o, 500, SL_STATUS_LIST_PERMANENT) == 0);
    CHECK(sl_status_lists_add(o, 100, SL_STATUS_LIST_SUCCESS) == 0);
    CHECK(sl_status_lists_add(o, 599, SL_STATUS_LIST_RETRY) == 0);
    /* a second list, or the same twice: refused, the first stays */
    CHECK(sl_status_lists_add(o, 409, SL_STATUS_LIST_RETRY) ==
          SL_STATUS_LIST_SUCCESS);
    CHECK(sl_status_lists_add(o, 409, SL_STATUS_LIST_SUCCESS) ==
          SL_STATUS_LIST_SUCCESS);
    /* out of range, or no list */
    CHECK(sl_status_lists_add(o, 0, SL_STATUS_LIST_SUCCESS) == -1);
    CHECK(sl_status_lists_add(o, 99, SL_STATUS_LIST_SUCCESS) == -1);
    CHECK(sl_status_lists_add(o, 600, SL_STATUS_LIST_SUCCESS) == -1);
    CHECK(sl_status_lists_add(o, -409, SL_STATUS_LIST_SUCCESS) == -1);
    CHECK(sl_status_lists_add(o, 402, SL_STATUS_LIST_NONE) == -1);
    CHECK(sl_status_lists_add(o, 402, (sl_status_list)7) == -1);

    sl_status_list list = SL_STATUS_LIST_PERMANENT;
    CHECK(sl_retry_classify_with(o, 409, &list) == SL_RETRY_DELIVERED &&
          list == SL_STATUS_LIST_SUCCESS);
    CHECK(sl_retry_classify_with(o, 400, &list) == SL_RETRY_LATER &&
          list == SL_STATUS_LIST_RETRY);
    CHECK(sl_retry_classify_with(o, 401, &list) == SL_RETRY_LATER &&
          list == SL_STATUS_LIST_RETRY);
    CHECK(sl_retry_classify_with(o, 413, &list) == SL_RETRY_PERMANENT &&
          list == SL_STATUS_LIST_PERMANENT);
    CHECK(sl_retry_classify_with(o, 500, &list) == SL_RETRY_PERMANENT &&
          list == SL_STATUS_LIST_PERMANENT);
    CHECK(sl_retry_classify_with(o, 100, NULL) == SL_RETRY_DELIVERED);
    CHECK(sl_retry_classify_with(o, 599, NULL) == SL_RETRY_LATER);
    /* unlisted: the default class, no list */
    static const long defaults[] = {0, 200, 201, 403, 404, 408, 429, 501,
                                    503, 600, -1, 99, 1000000};
    for (size_t i = 0; i < sizeof defaults / sizeof *defaults; i++) {
        list = SL_STATUS_LIST_RETRY;
        CHECK(sl_retry_classify_with(o, defaults[i], &list) ==
              sl_retry_classify(defaults[i]));
        CHECK(list == SL_STATUS_LIST_NONE);
    }
    /* no lists at all */
    for (long st = -1; st <= 700; st++) {
        list = SL_STATUS_LIST_RETRY;
        CHECK(sl_retry_classify_with(NULL, st, &list) ==
              sl_retry_classify(st));
        CHECK(list == SL_STATUS_LIST_NONE);
    }

    long codes[8];
    CHECK(sl_status_lists_codes(o, SL_STATUS_LIST_PERMANENT, codes, 8) == 2);
    CHECK(codes[0] == 413 && codes[1] == 500);
    CHECK(sl_status_lists_codes(o, SL_STATUS_LIST_RETRY, codes, 1) == 3);
    CHECK(codes[0] == 400);
    CHECK(sl_status_lists_codes(NULL, SL_STATUS_LIST_RETRY, codes, 8) == 0);
    CHECK_STR(sl_status_lists_name(SL_STATUS_LIST_SUCCESS), "success");
    CHECK_STR(sl_status_lists_name(SL_STATUS_LIST_RETRY), "retry");
    CHECK_STR(sl_status_lists_name(SL_STATUS_LIST_PERMANENT), "permanent");
    CHECK_STR(sl_status_lists_name(SL_STATUS_LIST_NONE), "none");
    sl_status_lists_free(o);
    sl_status_lists_free(NULL);
}

/* The ceiling of attempt n is reached exactly (random = ceiling) and
 * never passed (random = ceiling + 1 wraps to 0). */
static void test_jitter_bounds(void)
{
    fake f = {.wall = NOW_MS};
    sl_time_clock c = fake_clock(&f);
    sl_retry_policy p = {200, 30000, &c, fake_random, &f};
    static const uint64_t ceil[] = {0,     200,   400,   800,   1600,
                                    3200,  6400,  12800, 25600, 30000,
                                    30000, 30000};
    uint64_t ra = 7;
    for (unsigned n = 1; n < sizeof ceil / sizeof *ceil; n++) {
        f.next = ceil[n];
        CHECK(sl_retry_backoff_ms(&p, n, NULL, &ra) == ceil[n]);
        CHECK(ra == 0);
        f.next = ceil[n] + 1;
        CHECK(sl_retry_backoff_ms(&p, n, NULL, &ra) == 0);
        f.next = UINT64_MAX;
        CHECK(sl_retry_backoff_ms(&p, n, NULL, &ra) <= ceil[n]);
    }
    /* far attempts stay at the cap (no overflow of base * 2^(n-1)) */
    f.next = 30000;
    CHECK(sl_retry_backoff_ms(&p, 1000000, NULL, &ra) == 30000);
    sl_retry_policy huge = {UINT64_MAX / 2 + 1, UINT64_MAX, &c, fake_random,
                            &f};
    f.next = UINT64_MAX;
    CHECK(sl_retry_backoff_ms(&huge, 3, NULL, &ra) == UINT64_MAX);
    /* the base above the cap: the cap */
    sl_retry_policy over = {5000, 1000, &c, fake_random, &f};
    f.next = 1000;
    CHECK(sl_retry_backoff_ms(&over, 1, NULL, &ra) == 1000);
    /* base 0: no wait, and no random number is drawn */
    sl_retry_policy zero = {0, 30000, &c, fake_random, &f};
    f.draws = 0;
    CHECK(sl_retry_backoff_ms(&zero, 5, NULL, &ra) == 0 && f.draws == 0);
}

/* xorshift64 as the random source: uniform over [0, ceiling]. */
static uint64_t xorshift(void *ud)
{
    uint64_t *x = ud;
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_jitter_spread(void)
{
    fake f = {.wall = NOW_MS};
    sl_time_clock c = fake_clock(&f);
    uint64_t state = 0x9e3779b97f4a7c15ull;
    sl_retry_policy p = {100, 1000, &c, xorshift, &state};
    uint64_t ra, max = 0, min = UINT64_MAX, sum = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t w = sl_retry_backoff_ms(&p, 3, NULL, &ra); /* ceiling 400 */
        max = w > max ? w : max;
        min = w < min ? w : min;
        sum += w;
    }
    CHECK(max == 400 && min == 0);
    CHECK(sum / 20000 > 190 && sum / 20000 < 210);
}

static void test_retry_after_seconds(void)
{
    fake f = {.wall = NOW_MS, .next = 0};
    sl_time_clock c = fake_clock(&f);
    sl_retry_policy p = {200, 30000, &c, fake_random, &f};
    uint64_t ra = 0;
    /* longer than max_ms: it wins */
    CHECK(sl_retry_backoff_ms(&p, 1, "120", &ra) == 120000 && ra == 120000);
    /* shorter than the jitter drawn: the jitter */
    f.next = 30000;
    CHECK(sl_retry_backoff_ms(&p, 10, "1", &ra) == 30000 && ra == 1000);
    f.next = 0;
    CHECK(sl_retry_backoff_ms(&p, 10, "1", &ra) == 1000);
    /* at most a day */
    CHECK(sl_retry_backoff_ms(&p, 1, "999999", &ra) == 86400000);
    CHECK(sl_retry_after_ms("86400", NOW_MS) == 86400000);
    CHECK(sl_retry_after_ms("0", NOW_MS) == 0);
    CHECK(sl_retry_after_ms("", NOW_MS) == 0);
    CHECK(sl_retry_after_ms(NULL, NOW_MS) == 0);
    CHECK(sl_retry_after_ms("soon", NOW_MS) == 0);
    CHECK(sl_retry_after_ms("12abc", NOW_MS) == 0);
}

static void test_retry_after_date(void)
{
    fake f = {.wall = NOW_MS, .next = 0};
    sl_time_clock c = fake_clock(&f);
    sl_retry_policy p = {200, 30000, &c, fake_random, &f};
    uint64_t ra = 0;
    const char *in5 = "Thu, 26 Nov 2026 10:05:00 GMT";
    CHECK(sl_retry_after_ms(in5, NOW_MS) == 300000);
    /* the clock is the policy's: five minutes on a fake clock, and over
     * max_ms */
    CHECK(sl_retry_backoff_ms(&p, 1, in5, &ra) == 300000 && ra == 300000);
    f.wall = NOW_MS + 240500; /* 10:04:00.5, read in whole seconds */
    CHECK(sl_retry_backoff_ms(&p, 1, in5, &ra) == 60000);
    f.wall = NOW_MS + 300000; /* now: nothing to wait for */
    CHECK(sl_retry_backoff_ms(&p, 1, in5, &ra) == 0 && ra == 0);
    CHECK(sl_retry_after_ms("Wed, 25 Nov 2026 10:00:00 GMT", NOW_MS) == 0);
    CHECK(sl_retry_after_ms("Sat, 28 Nov 2026 10:00:00 GMT", NOW_MS) ==
          86400000);
    CHECK(sl_retry_after_ms("Thu, 26 Nov 2026 11:00:00 GMT", NOW_MS) ==
          3600000);
}

/* The reason of a batch whose retry time ran out names the last failure:
 * its status (and list), a TLS cause, the transport's error, or what
 * response_fn said. */
static void test_ran_out(void)
{
    char why[320];
    sl_status_lists *o = sl_status_lists_new();
    CHECK(o && sl_status_lists_add(o, 400, SL_STATUS_LIST_RETRY) ==
                   SL_STATUS_LIST_NONE);
    sl_retry_ran_out(why, sizeof why, 60, NULL, 503, "", NULL);
    CHECK_STR(why, "retry time (max_elapsed_s = 60) ran out; last: HTTP 503");
    sl_retry_ran_out(why, sizeof why, 60, o, 400, "", NULL);
    CHECK_STR(why, "retry time (max_elapsed_s = 60) ran out; last: HTTP 400 "
                   "(status.retry)");
    sl_retry_ran_out(why, sizeof why, 60, o, 400, "", "client_cert_required");
    CHECK_STR(why, "retry time (max_elapsed_s = 60) ran out; last: TLS "
                   "client_cert_required: HTTP 400");
    sl_retry_ran_out(why, sizeof why, 5, NULL, 0, "connection refused", NULL);
    CHECK_STR(why, "retry time (max_elapsed_s = 5) ran out; last: "
                   "connection refused");
    sl_retry_ran_out(why, sizeof why, 5, NULL, 200, "busy", NULL);
    CHECK_STR(why, "retry time (max_elapsed_s = 5) ran out; last: HTTP 200: "
                   "busy");
    sl_retry_ran_out(why, sizeof why, 5, NULL, 200, NULL, NULL);
    CHECK_STR(why, "retry time (max_elapsed_s = 5) ran out; last: HTTP 200");
    sl_status_lists_free(o);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"ran_out", test_ran_out},
        {"classify", test_classify},
        {"classify_with", test_classify_with},
        {"jitter_bounds", test_jitter_bounds},
        {"jitter_spread", test_jitter_spread},
        {"retry_after_seconds", test_retry_after_seconds},
        {"retry_after_date", test_retry_after_date},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
