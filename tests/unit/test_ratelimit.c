/* Unit tests for sl_ratelimit: each field family, names in any case,
 * several policies (the most restrictive wins), Unix times in s and ms
 * for X-RateLimit-Reset, and malformed, negative, huge, overflowing and
 * hostile values (ignored), very long and unterminated headers. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_ratelimit.h"
#include "sl_test.h"

/* 2026-11-26T10:00:00Z */
#define NOW_MS 1795687200000
#define ALL (SL_RATELIMIT_LIMIT | SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET)

static sl_ratelimit rl;

static unsigned parse(const char *h)
{
    return sl_ratelimit_parse(h, strlen(h), NOW_MS, &rl);
}

static void test_none(void)
{
    CHECK(sl_ratelimit_parse(NULL, 0, NOW_MS, &rl) == 0);
    CHECK(parse("") == 0);
    CHECK(parse("Content-Type: application/json\r\nRetry-After: 5\r\n") == 0);
    CHECK(rl.known == 0 && rl.limit == 0 && rl.remaining == 0 &&
          rl.reset_ms == 0);
    /* names that only start like ours */
    CHECK(parse("RateLimitX: 5\r\nX-RateLimit: 3\r\nRateLimit-Remainder: 1\r\n"
                "X-RateLimit-Remaining-Minute: 0\r\n") == 0);
}

static void test_legacy(void)
{
    CHECK(parse("RateLimit-Limit: 100\r\nRateLimit-Remaining: 7\r\n"
                "RateLimit-Reset: 30\r\n") == ALL);
    CHECK(rl.limit == 100 && rl.remaining == 7 && rl.reset_ms == 30000);
    /* case, whitespace, a Limit with policies (drafts -00..-06) */
    CHECK(parse("ratelimit-limit:\t10, 10;w=1, 50;w=60 \r\n"
                "RATELIMIT-REMAINING:   0   \r\nratelimit-reset:2\n") == ALL);
    CHECK(rl.limit == 10 && rl.remaining == 0 && rl.reset_ms == 2000);
    CHECK(parse("RateLimit-Reset: 1.25\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == 1250);
}

static void test_x(void)
{
    CHECK(parse("X-RateLimit-Limit: 5000\r\nX-RateLimit-Remaining: 0\r\n"
                "X-RateLimit-Reset: 12\r\n") == ALL);
    CHECK(rl.limit == 5000 && rl.remaining == 0 && rl.reset_ms == 12000);
    /* a Unix time in seconds (GitHub), 40 s from now */
    CHECK(parse("x-ratelimit-remaining: 0\r\nx-ratelimit-reset: 1795687240\r\n")
          == (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.reset_ms == 40000);
    /* in milliseconds */
    CHECK(parse("X-RateLimit-Reset: 1795687200500\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == 500);
    /* in the past: reset now */
    CHECK(parse("X-RateLimit-Reset: 1795687100\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == 0);
    /* far away: a day at most */
    CHECK(parse("X-RateLimit-Reset: 4102444800\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == SL_RATELIMIT_MAX_RESET_MS);
    CHECK(parse("X-RateLimit-Reset: 999999999\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == SL_RATELIMIT_MAX_RESET_MS);
    CHECK(parse("X-RateLimit-Reset: 0.5\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == 500);
}

static void test_structured(void)
{
    CHECK(parse("RateLimit-Policy: \"default\";q=100;w=60\r\n"
                "RateLimit: \"default\";r=0;t=30\r\n") == ALL);
    CHECK(rl.limit == 100 && rl.remaining == 0 && rl.reset_ms == 30000);
    /* the policy after the field, other parameters, a token name */
    CHECK(parse("ratelimit: day;r=50;t=3600;pk=:cHsdsRa894==:\r\n"
                "ratelimit-policy: day;q=1000;qu=\"requests\";w=86400\r\n")
          == ALL);
    CHECK(rl.limit == 1000 && rl.remaining == 50 && rl.reset_ms == 3600000);
    /* without t: the reset is unknown */
    CHECK(parse("RateLimit: \"default\";r=3\r\n") == SL_RATELIMIT_REMAINING);
    CHECK(rl.remaining == 3);
    /* without r: nothing */
    CHECK(parse("RateLimit: \"default\";t=3\r\n") == 0);
    /* a policy alone: its quota */
    CHECK(parse("RateLimit-Policy: \"a\";q=20, \"b\";q=5\r\n") ==
          SL_RATELIMIT_LIMIT);
    CHECK(rl.limit == 5);
}

static void test_most_restrictive(void)
{
    /* several policies in one field and over two lines */
    CHECK(parse("RateLimit-Policy: \"burst\";q=10;w=1, \"day\";q=1000;w=86400\r\n"
                "RateLimit: \"burst\";r=4;t=1, \"day\";r=0;t=500\r\n") == ALL);
    CHECK(rl.remaining == 0 && rl.reset_ms == 500000 && rl.limit == 1000);
    CHECK(parse("RateLimit: \"a\";r=0;t=2\r\nRateLimit: \"b\";r=0;t=9\r\n"
                "RateLimit-Policy: \"x\";q=7\r\n") ==
          ALL);
    CHECK(rl.remaining == 0 && rl.reset_ms == 9000);
    CHECK(rl.limit == 7); /* no policy of that name: the least quota */
    /* across families */
    CHECK(parse("X-RateLimit-Remaining: 9\r\nX-RateLimit-Reset: 1\r\n"
                "RateLimit-Remaining: 2\r\nRateLimit-Reset: 5\r\n") ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 2 && rl.reset_ms == 5000);
    /* a family's field repeated */
    CHECK(parse("X-RateLimit-Remaining: 9\r\nX-RateLimit-Remaining: 1\r\n"
                "X-RateLimit-Reset: 3\r\nX-RateLimit-Reset: 8\r\n") ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 1 && rl.reset_ms == 8000);
    /* a remaining beats a reset alone */
    CHECK(parse("X-RateLimit-Reset: 60\r\nRateLimit-Remaining: 4\r\n") ==
          SL_RATELIMIT_REMAINING);
    CHECK(rl.remaining == 4);
}

static void test_malformed(void)
{
    static const char *bad[] = {
        "X-RateLimit-Remaining: -1\r\n",
        "X-RateLimit-Remaining: +1\r\n",
        "X-RateLimit-Remaining: 1e3\r\n",
        "X-RateLimit-Remaining: 12abc\r\n",
        "X-RateLimit-Remaining: 1 2\r\n",
        "X-RateLimit-Remaining: \r\n",
        "X-RateLimit-Remaining: 0x10\r\n",
        "X-RateLimit-Remaining: 1.5\r\n",
        "X-RateLimit-Remaining: 99999999999999999999999999\r\n",
        "X-RateLimit-Remaining: 1000000000000000000\r\n", /* 19 digits */
        "X-RateLimit-Reset: -5\r\n",
        "X-RateLimit-Reset: 5.\r\n",
        "X-RateLimit-Reset: .5\r\n",
        "X-RateLimit-Reset: 5.x\r\n",
        "X-RateLimit-Reset: Thu, 26 Nov 2026 11:00:00 GMT\r\n",
        "X-RateLimit-Reset: 184467440737095516160\r\n",
        "RateLimit-Limit: ;w=10\r\n",
        "RateLimit-Reset: 1.2.3\r\n",
        "RateLimit: \"default\";r=-1;t=5\r\n",
        "RateLimit: \"default\";r=;t=5\r\n",
        "RateLimit: \"default\";r=1.5\r\n",
        "RateLimit: \"default\";r=\"0\"\r\n",
        "RateLimit: \"default\";r=99999999999999999999\r\n",
        "RateLimit: \"default\" junk;r=0;t=5\r\n",
        "RateLimit: (\"a\" \"b\");r=0;t=5\r\n",
        "RateLimit: :AAAA:;r=0\r\n",
        "RateLimit: ;r=0\r\n",
        "RateLimit: \"unterminated;r=0;t=5\r\n",
        "RateLimit: ,,,;;;===\r\n",
        "X-RateLimit-Remaining 0\r\n", /* no colon */
        ": 0\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        unsigned k = parse(bad[i]);
        if (k != 0)
            fprintf(stderr, "case %zu: %s", i, bad[i]);
        CHECK(k == 0);
    }
    /* a bad member does not spoil the next one */
    CHECK(parse("RateLimit: \"a\" junk;r=0, \"b\";r=3;t=1\r\n") ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 3);
    /* an escaped quote and a comma inside a name */
    CHECK(parse("RateLimit: \"a\\\",b\";r=2;t=4\r\n") ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 2 && rl.reset_ms == 4000);
    /* huge t: capped */
    CHECK(parse("RateLimit: x;r=0;t=99999999\r\n") ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.reset_ms == SL_RATELIMIT_MAX_RESET_MS);
    CHECK(parse("RateLimit-Reset: 86401\r\n") == SL_RATELIMIT_RESET);
    CHECK(rl.reset_ms == SL_RATELIMIT_MAX_RESET_MS);
    /* a NUL in the middle of the lines */
    static const char nul[] = "X-RateLimit-Remaining: 0\r\n\0garbage\r\n"
                              "X-RateLimit-Reset: 3\r\n";
    CHECK(sl_ratelimit_parse(nul, sizeof nul - 1, NOW_MS, &rl) ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 0 && rl.reset_ms == 3000);
}

/* Not NUL-terminated, cut anywhere: never read past len (ASan says). */
static void test_cut(void)
{
    static const char h[] = "RateLimit-Policy: \"d\";q=100;w=60\r\n"
                            "RateLimit: \"d\";r=0;t=30, \"e\\\"\";r=1\r\n"
                            "X-RateLimit-Reset: 1795687240.5\r\n";
    for (size_t n = 0; n <= sizeof h - 1; n++) {
        char *copy = malloc(n ? n : 1);
        memcpy(copy, h, n);
        sl_ratelimit_parse(copy, n, NOW_MS, &rl);
        free(copy);
    }
    CHECK(parse(h) == ALL);
    CHECK(rl.remaining == 0 && rl.reset_ms == 30000 && rl.limit == 100);
}

static void test_long(void)
{
    /* 64 KiB (the client's cap) of one line of members, then of junk */
    size_t n = 65536;
    char *h = malloc(n + 1);
    size_t at = (size_t)snprintf(h, n, "RateLimit: ");
    while (at + 32 < n)
        at += (size_t)snprintf(h + at, n - at, "\"p\";r=%zu;t=1, ", at);
    at += (size_t)snprintf(h + at, n - at, "\"last\";r=0;t=7\r\n");
    CHECK(sl_ratelimit_parse(h, at, NOW_MS, &rl) ==
          (SL_RATELIMIT_REMAINING | SL_RATELIMIT_RESET));
    CHECK(rl.remaining == 0 && rl.reset_ms == 7000);
    memset(h, ';', n);
    memcpy(h, "RateLimit: ", 11);
    CHECK(sl_ratelimit_parse(h, n, NOW_MS, &rl) == 0);
    memset(h, '"', n);
    memcpy(h, "RateLimit: ", 11);
    CHECK(sl_ratelimit_parse(h, n, NOW_MS, &rl) == 0);
    memset(h, '7', n);
    memcpy(h, "X-RateLimit-Remaining: ", 23);
    CHECK(sl_ratelimit_parse(h, n, NOW_MS, &rl) == 0);
    /* random bytes */
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 200; round++) {
        size_t len = 11 + (size_t)(x % 500);
        memcpy(h, round % 2 ? "RateLimit: " : "ratelimit-p", 11);
        for (size_t i = 11; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            h[i] = "\"\\;,=: \t\r\nrtq0123456789:x-("[x % 28];
        }
        sl_ratelimit_parse(h, len, NOW_MS, &rl);
    }
    free(h);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"none", test_none},
        {"legacy", test_legacy},
        {"x", test_x},
        {"structured", test_structured},
        {"most_restrictive", test_most_restrictive},
        {"malformed", test_malformed},
        {"cut", test_cut},
        {"long", test_long},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
