/* sl_time: the one place time is read, written and parsed. A monotonic
 * clock (delays, backoff: wall-clock jumps must not fire or stall them), a
 * wall clock (timestamps people read), and RFC 3339: the date-time form of
 * a schema's `date` and `datetime` fields, of the dead letters' times and
 * of `sluice dlq --since`. */
#ifndef SL_TIME_H
#define SL_TIME_H

#include <stddef.h>
#include <stdint.h>

/* ---- clocks ------------------------------------------------------------- */

/* Milliseconds of CLOCK_MONOTONIC (since boot, never 0 in practice). */
uint64_t sl_time_mono_ms(void);
/* The same clock in microseconds (for latency histograms). */
uint64_t sl_time_mono_us(void);

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t sl_time_wall_ms(void);

/* A clock handed to code that a test drives with a fake one. Both
 * functions get `ud`. */
typedef struct sl_time_clock {
    uint64_t (*mono_ms)(void *ud); /* as sl_time_mono_ms */
    int64_t (*wall_ms)(void *ud);  /* as sl_time_wall_ms */
    void *ud;
} sl_time_clock;

/* sl_time_mono_ms and sl_time_wall_ms as an sl_time_clock. */
extern const sl_time_clock sl_time_system_clock;

/* ---- RFC 3339 ----------------------------------------------------------- */

/* Why a text is not a date or date-time; sl_time_rc_str words it. */
typedef enum sl_time_rc {
    SL_TIME_OK = 0,
    SL_TIME_E_SHAPE,         /* not YYYY-MM-DD... at all */
    SL_TIME_E_MONTH,         /* month not 01..12 */
    SL_TIME_E_DAY,           /* day not in that month (leap years known) */
    SL_TIME_E_NO_TIME,       /* a date alone where a date-time is wanted */
    SL_TIME_E_SEPARATOR,     /* not 'T' (or 't') after the date */
    SL_TIME_E_HMS,           /* not HH:MM:SS after it */
    SL_TIME_E_HOUR,          /* hour over 23 */
    SL_TIME_E_MINUTE,        /* minute over 59 */
    SL_TIME_E_SECOND,        /* second over 60 (60: a leap second) */
    SL_TIME_E_FRACTION,      /* '.' without 1 to 9 digits */
    SL_TIME_E_NO_OFFSET,     /* the text ends before Z or +-HH:MM */
    SL_TIME_E_OFFSET,        /* neither Z nor +-HH:MM */
    SL_TIME_E_OFFSET_HOUR,   /* offset hour over 23 */
    SL_TIME_E_OFFSET_MINUTE, /* offset minute over 59 */
    SL_TIME_E_TRAILING,      /* more after the offset */
    SL_TIME_E_TOO_LONG       /* SL_TIME_LONG_FRACTION: 64 bytes or more */
} sl_time_rc;

/* Options of sl_time_parse_rfc3339; 0 is the strict grammar a schema's
 * `datetime` accepts:
 *   YYYY-MM-DD('T'|'t')HH:MM:SS[.1-9 digits]('Z'|'z'|('+'|'-')HH:MM) */
enum {
    SL_TIME_SPACE = 1 << 0,         /* a space may stand for the 'T' */
    SL_TIME_LONG_FRACTION = 1 << 1, /* a fraction may have more than 9
                                       digits (the first 3 count), and the
                                       whole text must be under 64 bytes */
};

/* What the dead letters' times and `sluice dlq --since` accept. */
#define SL_TIME_LOOSE (SL_TIME_SPACE | SL_TIME_LONG_FRACTION)

/* Parse the n bytes at s (not NUL-terminated; every byte counts) as an
 * RFC 3339 date-time under `flags`. A second of 60 (leap second) is
 * accepted and counts as the next minute's 0. On SL_TIME_OK, when ms is
 * not NULL, *ms is the instant in ms since the epoch (fraction cut to the
 * millisecond); otherwise the first thing found wrong, in reading order
 * (the date before the time), and *ms unchanged. Allocates nothing. */
sl_time_rc sl_time_parse_rfc3339(const char *s, size_t n, unsigned flags,
                                 int64_t *ms);

/* sl_time_parse_rfc3339(s, n, 0, NULL): the strict grammar, no instant;
 * what a schema's `datetime` check runs for every record. */
sl_time_rc sl_time_check_rfc3339(const char *s, size_t n);

/* Parse exactly "YYYY-MM-DD" (n == 10; else SL_TIME_E_SHAPE): *ms, when
 * not NULL, is that day's midnight UTC. *ms unchanged on error. */
sl_time_rc sl_time_parse_date(const char *s, size_t n, int64_t *ms);

/* The reason for rc as a schema error says it ("hour out of range"),
 * "" for SL_TIME_OK. Static storage. */
const char *sl_time_rc_str(sl_time_rc rc);

/* Room sl_time_format_rfc3339 needs for any int64 ms, NUL included. */
#define SL_TIME_FORMAT_MAX 40

/* Write ms since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) into out
 * (n bytes, NUL-terminated, cut like snprintf); a negative ms is written
 * as the epoch. Returns the length of the whole text (24 for years up to
 * 9999). */
size_t sl_time_format_rfc3339(int64_t ms, char *out, size_t n);

#endif
