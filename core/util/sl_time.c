/* sl_time: the clocks, and the RFC 3339 grammar (one parser with options,
 * one formatter). Dates are converted with the proleptic Gregorian
 * calendar in plain integer arithmetic (no gmtime_r, whose glibc version
 * takes a lock, and no allocation): the schema checks datetimes on the
 * per-record path. */
#include "sl_time.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

uint64_t sl_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t sl_time_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t sl_time_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t system_mono(void *ud)
{
    (void)ud;
    return sl_time_mono_ms();
}

static int64_t system_wall(void *ud)
{
    (void)ud;
    return sl_time_wall_ms();
}

const sl_time_clock sl_time_system_clock = {system_mono, system_wall, NULL};

/* ---- the calendar -------------------------------------------------------- */

/* Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse: the date `z` days after 1970-01-01 (z >= 0 here). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = z / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ---- parsing --------------------------------------------------------------- */

static inline bool is_digit(unsigned char c) { return (unsigned)c - '0' < 10u; }

static bool digits(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!is_digit((unsigned char)p[i]))
            return false;
    return true;
}

static int num2(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* "YYYY-MM-DD" at p (10 bytes): its shape, then month and day. */
static inline sl_time_rc check_ymd(const char *p)
{
    static const unsigned char mdays[13] = {0,  31, 29, 31, 30, 31, 30,
                                            31, 31, 30, 31, 30, 31};
    if (!digits(p, 4) || p[4] != '-' || !digits(p + 5, 2) || p[7] != '-' ||
        !digits(p + 8, 2))
        return SL_TIME_E_SHAPE;
    int y = num2(p) * 100 + num2(p + 2), m = num2(p + 5), d = num2(p + 8);
    if (m < 1 || m > 12)
        return SL_TIME_E_MONTH;
    bool leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    if (d < 1 || d > mdays[m] || (m == 2 && d == 29 && !leap))
        return SL_TIME_E_DAY;
    return SL_TIME_OK;
}

/* Days since the epoch of the valid "YYYY-MM-DD" at p. */
static int64_t ymd_days(const char *p)
{
    return days_from_civil(num2(p) * 100 + num2(p + 2),
                           (unsigned)num2(p + 5), (unsigned)num2(p + 8));
}

sl_time_rc sl_time_parse_date(const char *s, size_t n, int64_t *ms)
{
    if (n != 10)
        return SL_TIME_E_SHAPE;
    sl_time_rc rc = check_ymd(s);
    if (rc == SL_TIME_OK && ms)
        *ms = ymd_days(s) * 86400000;
    return rc;
}

/* The fraction at p[*i] == '.': *i past its digits. */
static inline sl_time_rc fraction(const char *p, size_t n, unsigned flags,
                                  size_t *i)
{
    size_t j = *i + 1;
    while (j < n && is_digit((unsigned char)p[j]))
        j++;
    size_t k = j - *i - 1;
    if (k < 1 || (k > 9 && !(flags & SL_TIME_LONG_FRACTION)))
        return SL_TIME_E_FRACTION;
    *i = j;
    return SL_TIME_OK;
}

/* The offset at p[*i] (there is a byte): Z or +-HH:MM; *i past it. */
static inline sl_time_rc offset(const char *p, size_t n, size_t *i)
{
    const char *o = p + *i;
    if (*o == 'Z' || *o == 'z') {
        *i += 1;
        return SL_TIME_OK;
    }
    if (*o != '+' && *o != '-')
        return SL_TIME_E_OFFSET;
    if (n - *i < 6 || !digits(o + 1, 2) || o[3] != ':' || !digits(o + 4, 2))
        return SL_TIME_E_OFFSET;
    if (num2(o + 1) > 23)
        return SL_TIME_E_OFFSET_HOUR;
    if (num2(o + 4) > 59)
        return SL_TIME_E_OFFSET_MINUTE;
    *i += 6;
    return SL_TIME_OK;
}

/* The instant of the valid date-time at p whose offset starts at p[z].
 * Out of line: the schema's check (no ms wanted) stays as small as it
 * was when it had a parser of its own (~20 ns a datetime). */
static __attribute__((noinline)) int64_t instant_ms(const char *p, size_t z)
{
    int64_t sec = ymd_days(p) * 86400 + num2(p + 11) * 3600 +
                  num2(p + 14) * 60 + num2(p + 17);
    int frac = 0, k = 0;
    if (p[19] == '.')
        for (const char *f = p + 20; k < 3 && is_digit((unsigned char)*f);
             f++, k++)
            frac = frac * 10 + (*f - '0');
    for (; k < 3; k++)
        frac *= 10;
    if (p[z] == '+' || p[z] == '-') /* seconds east of UTC */
        sec -= (num2(p + z + 1) * 3600L + num2(p + z + 4) * 60L) *
               (p[z] == '-' ? -1 : 1);
    return sec * 1000 + frac;
}

/* The one RFC 3339 parser; the two entry points below are it with and
 * without options (the compiler drops the option tests from the strict
 * one, which a schema runs once per datetime field of every record). */
static inline __attribute__((always_inline)) sl_time_rc
parse_rfc3339(const char *p, size_t n, unsigned flags, int64_t *ms)
{
    sl_time_rc rc;
    if ((flags & SL_TIME_LONG_FRACTION) && n >= 64)
        return SL_TIME_E_TOO_LONG;
    if (n < 10 || (rc = check_ymd(p)) == SL_TIME_E_SHAPE)
        return SL_TIME_E_SHAPE;
    if (rc != SL_TIME_OK)
        return rc;
    if (n == 10)
        return SL_TIME_E_NO_TIME;
    if (p[10] != 'T' && p[10] != 't' &&
        !(p[10] == ' ' && (flags & SL_TIME_SPACE)))
        return SL_TIME_E_SEPARATOR;
    if (n < 19 || !digits(p + 11, 2) || p[13] != ':' || !digits(p + 14, 2) ||
        p[16] != ':' || !digits(p + 17, 2))
        return SL_TIME_E_HMS;
    if (num2(p + 11) > 23)
        return SL_TIME_E_HOUR;
    if (num2(p + 14) > 59)
        return SL_TIME_E_MINUTE;
    if (num2(p + 17) > 60) /* 60: leap second */
        return SL_TIME_E_SECOND;
    size_t i = 19;
    if (i < n && p[i] == '.' && (rc = fraction(p, n, flags, &i)) != SL_TIME_OK)
        return rc;
    if (i == n)
        return SL_TIME_E_NO_OFFSET;
    size_t z = i;
    if ((rc = offset(p, n, &i)) != SL_TIME_OK)
        return rc;
    if (i != n)
        return SL_TIME_E_TRAILING;
    if (ms)
        *ms = instant_ms(p, z);
    return SL_TIME_OK;
}

sl_time_rc sl_time_parse_rfc3339(const char *p, size_t n, unsigned flags,
                                 int64_t *ms)
{
    return parse_rfc3339(p, n, flags, ms);
}

sl_time_rc sl_time_check_rfc3339(const char *p, size_t n)
{
    return parse_rfc3339(p, n, 0, NULL);
}

const char *sl_time_rc_str(sl_time_rc rc)
{
    switch (rc) {
    case SL_TIME_OK:
        return "";
    case SL_TIME_E_SHAPE:
        return "expected YYYY-MM-DDTHH:MM:SS with Z or \xC2\xB1HH:MM";
    case SL_TIME_E_MONTH:
        return "month out of range";
    case SL_TIME_E_DAY:
        return "day out of range for month";
    case SL_TIME_E_NO_TIME:
        return "missing time (expected YYYY-MM-DDTHH:MM:SS)";
    case SL_TIME_E_SEPARATOR:
        return "expected 'T' between date and time";
    case SL_TIME_E_HMS:
        return "expected time as HH:MM:SS";
    case SL_TIME_E_HOUR:
        return "hour out of range";
    case SL_TIME_E_MINUTE:
        return "minute out of range";
    case SL_TIME_E_SECOND:
        return "second out of range";
    case SL_TIME_E_FRACTION:
        return "fraction of a second must have 1 to 9 digits";
    case SL_TIME_E_NO_OFFSET:
        return "missing timezone offset (Z or \xC2\xB1HH:MM)";
    case SL_TIME_E_OFFSET:
        return "invalid timezone offset (expected Z or \xC2\xB1HH:MM)";
    case SL_TIME_E_OFFSET_HOUR:
        return "offset hour out of range";
    case SL_TIME_E_OFFSET_MINUTE:
        return "offset minute out of range";
    case SL_TIME_E_TRAILING:
        return "unexpected characters after the timezone offset";
    case SL_TIME_E_TOO_LONG:
        return "longer than 63 bytes";
    }
    return "invalid date-time";
}

/* ---- formatting ------------------------------------------------------------- */

size_t sl_time_format_rfc3339(int64_t ms, char *out, size_t n)
{
    if (ms < 0)
        ms = 0;
    int64_t sec = ms / 1000, y;
    unsigned mo, d, s = (unsigned)(sec % 86400);
    civil_from_days(sec / 86400, &y, &mo, &d);
    int k = snprintf(out, n, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ",
                     y, mo, d, s / 3600, s / 60 % 60, s % 60,
                     (unsigned)(ms % 1000));
    return k < 0 ? 0 : (size_t)k;
}
