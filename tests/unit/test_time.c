/* Unit tests for sl_time: the clocks, the RFC 3339 grammar at its edges
 * (strict, as a schema's datetime; loose, as the dead letters and
 * `sluice dlq --since`), and the formatter, checked against the C
 * library's calendar. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_test.h"
#include "sl_time.h"

/* sl_time_parse_rfc3339 over a C string. */
static sl_time_rc parse(const char *s, unsigned flags, int64_t *ms)
{
    return sl_time_parse_rfc3339(s, strlen(s), flags, ms);
}

/* The strict grammar's verdict on s, and the loose one's. */
#define STRICT(s, want) CHECK(parse((s), 0, NULL) == (want))
#define LOOSE(s, want) CHECK(parse((s), SL_TIME_LOOSE, NULL) == (want))

static void test_clocks(void)
{
    uint64_t m0 = sl_time_mono_ms();
    int64_t w = sl_time_wall_ms();
    time_t t = time(NULL);
    CHECK(m0 > 0);
    CHECK(sl_time_mono_ms() >= m0);
    CHECK(w / 1000 >= (int64_t)t - 1 && w / 1000 <= (int64_t)t + 1);
    const sl_time_clock *c = &sl_time_system_clock;
    CHECK(c->mono_ms(c->ud) >= m0);
    CHECK(c->wall_ms(c->ud) >= w);
}

/* What the dead letters read back and --since accept (these were
 * sl_dlq_parse_time's tests). */
static void test_dlq_times(void)
{
    int64_t ms = 42;
    const char *t = "2026-11-26T10:00:00Z";
    CHECK(sl_time_parse_rfc3339(t, strlen(t), SL_TIME_LOOSE, &ms) == 0 &&
          ms == 1795687200000);
    t = "2026-11-26T11:00:00.5+01:00";
    CHECK(sl_time_parse_rfc3339(t, strlen(t), SL_TIME_LOOSE, &ms) == 0 &&
          ms == 1795687200500);
    t = "2026-11-26T10:00:00Zjunk"; /* n excludes "junk" */
    CHECK(sl_time_parse_rfc3339(t, 20, SL_TIME_LOOSE, &ms) == 0 &&
          ms == 1795687200000);
    ms = 42;
    t = "2026-02-30T00:00:00Z";
    CHECK(sl_time_parse_rfc3339(t, strlen(t), SL_TIME_LOOSE, &ms) != 0 &&
          ms == 42);
    t = "yesterday";
    CHECK(sl_time_parse_rfc3339(t, strlen(t), SL_TIME_LOOSE, &ms) != 0 &&
          ms == 42);
}

static void test_accepted(void)
{
    const char *both[] = {
        "2024-05-01T12:00:00Z",      "2024-05-01t12:00:00z",
        "2024-05-01T12:00:00.5Z",    "2024-05-01T12:00:00.123456789Z",
        "2024-05-01T12:00:00+05:30", "2024-05-01T12:00:00-08:00",
        "2024-05-01T12:00:00+23:59", "2024-05-01T00:00:00-00:00",
        "2016-12-31T23:59:60Z",      "2024-02-29T23:59:60.5+05:30",
        "2000-02-29T00:00:00Z",      "0000-02-29T00:00:00Z",
        "9999-12-31T23:59:59.999Z",  "0000-01-01T00:00:00Z",
    };
    for (size_t i = 0; i < sizeof both / sizeof both[0]; i++) {
        STRICT(both[i], SL_TIME_OK);
        LOOSE(both[i], SL_TIME_OK);
    }
}

static void test_calendar(void)
{
    STRICT("2023-02-29T00:00:00Z", SL_TIME_E_DAY);
    STRICT("1900-02-29T00:00:00Z", SL_TIME_E_DAY); /* 100, not 400 */
    STRICT("2100-02-29T00:00:00Z", SL_TIME_E_DAY);
    STRICT("2024-02-30T00:00:00Z", SL_TIME_E_DAY);
    STRICT("2024-04-31T00:00:00Z", SL_TIME_E_DAY);
    STRICT("2024-01-00T00:00:00Z", SL_TIME_E_DAY);
    STRICT("2024-01-32T00:00:00Z", SL_TIME_E_DAY);
    STRICT("2024-00-10T00:00:00Z", SL_TIME_E_MONTH);
    STRICT("2024-13-01T00:00:00Z", SL_TIME_E_MONTH);
    /* the date is judged before the time */
    STRICT("2024-02-30T25:00:00Z", SL_TIME_E_DAY);
    /* a leap second does not make a day valid */
    STRICT("2024-02-30T23:59:60Z", SL_TIME_E_DAY);
    LOOSE("2024-02-30T23:59:60Z", SL_TIME_E_DAY);
    LOOSE("2023-02-29T00:00:00Z", SL_TIME_E_DAY);
}

static void test_rejected(void)
{
    STRICT("", SL_TIME_E_SHAPE);
    STRICT("yesterday", SL_TIME_E_SHAPE);
    STRICT("2024-1-01T00:00:00Z", SL_TIME_E_SHAPE);
    STRICT("2024/05/01T00:00:00Z", SL_TIME_E_SHAPE);
    STRICT("+2024-05-01T00:00:00Z", SL_TIME_E_SHAPE);
    STRICT("2024-05-01", SL_TIME_E_NO_TIME);
    LOOSE("2024-05-01", SL_TIME_E_NO_TIME); /* a date alone: never */
    STRICT("2024-05-01 12:00:00Z", SL_TIME_E_SEPARATOR);
    STRICT("2024-05-01_12:00:00Z", SL_TIME_E_SEPARATOR);
    STRICT("2024-05-01T1:00:00Z", SL_TIME_E_HMS);
    STRICT("2024-05-01T12:00Z", SL_TIME_E_HMS);
    STRICT("2024-05-01T12-00-00Z", SL_TIME_E_HMS);
    STRICT("2024-05-01T24:00:00Z", SL_TIME_E_HOUR);
    STRICT("2024-05-01T23:60:00Z", SL_TIME_E_MINUTE);
    STRICT("2024-05-01T23:59:61Z", SL_TIME_E_SECOND);
    STRICT("2024-05-01T12:00:00.Z", SL_TIME_E_FRACTION);
    STRICT("2024-05-01T12:00:00.1234567890Z", SL_TIME_E_FRACTION);
    STRICT("2024-05-01T12:00:00,5Z", SL_TIME_E_OFFSET);
    STRICT("2024-05-01T12:00:00", SL_TIME_E_NO_OFFSET);
    STRICT("2024-05-01T12:00:00.5", SL_TIME_E_NO_OFFSET);
    STRICT("2024-05-01T12:00:00 Z", SL_TIME_E_OFFSET);
    STRICT("2024-05-01T12:00:00+0530", SL_TIME_E_OFFSET);
    STRICT("2024-05-01T12:00:00+05", SL_TIME_E_OFFSET);
    STRICT("2024-05-01T12:00:00UTC", SL_TIME_E_OFFSET);
    STRICT("2024-05-01T12:00:00+24:00", SL_TIME_E_OFFSET_HOUR);
    STRICT("2024-05-01T12:00:00+05:60", SL_TIME_E_OFFSET_MINUTE);
    STRICT("2024-05-01T12:00:00Zx", SL_TIME_E_TRAILING);
    STRICT("2024-05-01T12:00:00+05:30:00", SL_TIME_E_TRAILING);
    /* every byte counts: an embedded NUL is not the end */
    CHECK(sl_time_parse_rfc3339("2024-05-01T12:00:00Z\0", 21, 0, NULL) ==
          SL_TIME_E_TRAILING);
    /* a text cut short anywhere fails, and is not read past n (the copy
     * is exactly n bytes: ASan would see an over-read) */
    const char *full = "2024-05-01T12:00:00.25+05:30";
    for (size_t n = 0; n < strlen(full); n++) {
        char *cut = malloc(n ? n : 1);
        memcpy(cut, full, n);
        CHECK(sl_time_parse_rfc3339(cut, n, 0, NULL) != SL_TIME_OK);
        CHECK(sl_time_parse_rfc3339(cut, n, SL_TIME_LOOSE, NULL) !=
              SL_TIME_OK);
        free(cut);
    }
    CHECK(sl_time_parse_rfc3339(full, 20, 0, NULL) == SL_TIME_E_FRACTION);
    CHECK(sl_time_parse_rfc3339(full, 21, 0, NULL) == SL_TIME_E_NO_OFFSET);
}

/* Where the loose grammar (SL_TIME_LOOSE) accepts more, and its size
 * limit. */
static void test_loose(void)
{
    int64_t ms = 0;
    LOOSE("2024-05-01 12:00:00Z", SL_TIME_OK);
    CHECK(parse("2024-05-01 12:00:00Z", SL_TIME_SPACE, NULL) == SL_TIME_OK);
    CHECK(parse("2024-05-01T12:00:00.1234567890Z", SL_TIME_SPACE, NULL) ==
          SL_TIME_E_FRACTION);
    CHECK(parse("2024-05-01T12:00:00.1234567890Z", SL_TIME_LONG_FRACTION,
                &ms) == SL_TIME_OK && ms == 1714564800123);
    CHECK(parse("2024-05-01 12:00:00Z", SL_TIME_LONG_FRACTION, NULL) ==
          SL_TIME_E_SEPARATOR);
    LOOSE("2024-05-01\t12:00:00Z", SL_TIME_E_SEPARATOR);
    LOOSE("2024-05-01T12:00:00.Z", SL_TIME_E_FRACTION);
    /* 63 bytes pass, 64 do not; the strict grammar has no size limit of
     * its own (it just finds the extra bytes) */
    char t[128] = "2024-05-01T12:00:00.";
    while (strlen(t) < 62)
        strcat(t, "9");
    strcat(t, "Z");
    CHECK(strlen(t) == 63);
    CHECK(parse(t, SL_TIME_LOOSE, &ms) == SL_TIME_OK && ms == 1714564800999);
    t[62] = '9';
    strcat(t, "Z");
    LOOSE(t, SL_TIME_E_TOO_LONG);
    STRICT(t, SL_TIME_E_FRACTION);
    strcpy(t, "2024-05-01T12:00:00Z");
    while (strlen(t) < 100)
        strcat(t, "x");
    LOOSE(t, SL_TIME_E_TOO_LONG);
    STRICT(t, SL_TIME_E_TRAILING);
}

static void test_instants(void)
{
    int64_t ms = 7, leap = 0;
    CHECK(parse("1970-01-01T00:00:00Z", 0, &ms) == 0 && ms == 0);
    CHECK(parse("1969-12-31T23:59:59Z", 0, &ms) == 0 && ms == -1000);
    CHECK(parse("1970-01-01T01:00:00+01:00", 0, &ms) == 0 && ms == 0);
    CHECK(parse("1969-12-31T19:00:00-05:00", 0, &ms) == 0 && ms == 0);
    CHECK(parse("2026-11-26T10:00:00.05Z", 0, &ms) == 0 &&
          ms == 1795687200050);
    CHECK(parse("2026-11-26T10:00:00.123456789Z", 0, &ms) == 0 &&
          ms == 1795687200123);
    CHECK(parse("2016-12-31T23:59:60Z", 0, &leap) == 0);
    CHECK(parse("2017-01-01T00:00:00Z", 0, &ms) == 0 && ms == leap &&
          ms == 1483228800000);
    CHECK(parse("0000-01-01T00:00:00Z", 0, &ms) == 0 &&
          ms == -62167219200000);
    CHECK(parse("9999-12-31T23:59:59.999Z", 0, &ms) == 0 &&
          ms == 253402300799999);
    ms = 7;
    CHECK(parse("2024-05-01T24:00:00Z", 0, &ms) != 0 && ms == 7);

    /* every day of 1600..2400 against timegm, at a time of day that moves */
    int bad = 0;
    for (int y = 1600; y <= 2400; y++)
        for (int m = 1; m <= 12; m++)
            for (int d = 1; d <= 31; d++) {
                struct tm tm = {.tm_year = y - 1900, .tm_mon = m - 1,
                                .tm_mday = d, .tm_hour = d % 24,
                                .tm_min = m * 4, .tm_sec = y % 60};
                time_t want = timegm(&tm);
                bool real = tm.tm_mday == d && tm.tm_mon == m - 1;
                char s[40];
                snprintf(s, sizeof s, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m,
                         d, d % 24, m * 4, y % 60);
                sl_time_rc rc = parse(s, 0, &ms);
                if (real ? rc != SL_TIME_OK || ms != (int64_t)want * 1000
                         : rc != SL_TIME_E_DAY)
                    bad++;
            }
    CHECK(bad == 0);
}

static void test_date(void)
{
    int64_t ms = 7;
    CHECK(sl_time_parse_date("2024-02-29", 10, &ms) == 0 &&
          ms == 1709164800000);
    CHECK(sl_time_parse_date("1970-01-01", 10, &ms) == 0 && ms == 0);
    CHECK(sl_time_parse_date("2024-02-29", 10, NULL) == SL_TIME_OK);
    ms = 7;
    CHECK(sl_time_parse_date("2023-02-29", 10, &ms) == SL_TIME_E_DAY &&
          ms == 7);
    CHECK(sl_time_parse_date("2024-13-01", 10, NULL) == SL_TIME_E_MONTH);
    CHECK(sl_time_parse_date("2024-1-01", 9, NULL) == SL_TIME_E_SHAPE);
    CHECK(sl_time_parse_date("2024-01-01T", 11, NULL) == SL_TIME_E_SHAPE);
    CHECK(sl_time_parse_date("2024-01-01", 9, NULL) == SL_TIME_E_SHAPE);
    CHECK(sl_time_parse_date("", 0, NULL) == SL_TIME_E_SHAPE);
    CHECK(sl_time_parse_date("2024\n01-01", 10, NULL) == SL_TIME_E_SHAPE);
}

static void test_rc_str(void)
{
    CHECK_STR(sl_time_rc_str(SL_TIME_OK), "");
    CHECK_STR(sl_time_rc_str(SL_TIME_E_HOUR), "hour out of range");
    CHECK_STR(sl_time_rc_str(SL_TIME_E_SEPARATOR),
              "expected 'T' between date and time");
    for (int a = SL_TIME_E_SHAPE; a <= SL_TIME_E_TOO_LONG; a++) {
        CHECK(sl_time_rc_str((sl_time_rc)a)[0] != '\0');
        for (int b = SL_TIME_E_SHAPE; b < a; b++)
            CHECK(strcmp(sl_time_rc_str((sl_time_rc)a),
                         sl_time_rc_str((sl_time_rc)b)) != 0);
    }
}

static void test_format(void)
{
    char out[SL_TIME_FORMAT_MAX];
    CHECK(sl_time_format_rfc3339(1795687200050, out, sizeof out) == 24);
    CHECK_STR(out, "2026-11-26T10:00:00.050Z");
    sl_time_format_rfc3339(0, out, sizeof out);
    CHECK_STR(out, "1970-01-01T00:00:00.000Z");
    sl_time_format_rfc3339(-5, out, sizeof out); /* before: the epoch */
    CHECK_STR(out, "1970-01-01T00:00:00.000Z");
    sl_time_format_rfc3339(951782400999, out, sizeof out);
    CHECK_STR(out, "2000-02-29T00:00:00.999Z");
    sl_time_format_rfc3339(253402300799999, out, sizeof out);
    CHECK_STR(out, "9999-12-31T23:59:59.999Z");
    CHECK(sl_time_format_rfc3339(INT64_MAX, out, sizeof out) < sizeof out);
    CHECK_STR(out, "292278994-08-17T07:12:55.807Z");
    char small[11];
    CHECK(sl_time_format_rfc3339(1795687200050, small, sizeof small) == 24);
    CHECK_STR(small, "2026-11-26");

    /* against gmtime_r, and back through the parser, over 1970..9999 */
    int bad = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int64_t ms = (int64_t)(x % 253402300800000ull);
        time_t sec = (time_t)(ms / 1000);
        struct tm tm;
        gmtime_r(&sec, &tm);
        char want[64];
        snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
        int64_t back = -1;
        sl_time_format_rfc3339(ms, out, sizeof out);
        if (strcmp(out, want) != 0 || parse(out, 0, &back) != SL_TIME_OK ||
            back != ms)
            bad++;
    }
    CHECK(bad == 0);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"clocks", test_clocks},
        {"dlq_times", test_dlq_times},
        {"accepted", test_accepted},
        {"calendar", test_calendar},
        {"rejected", test_rejected},
        {"loose", test_loose},
        {"instants", test_instants},
        {"date", test_date},
        {"rc_str", test_rc_str},
        {"format", test_format},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
