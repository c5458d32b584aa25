/* sl_notify: what the gateway tells a service manager, by systemd's
 * sd_notify protocol (libsystemd): READY=1 once every listener listens,
 * RELOADING=1 and READY=1 around a reload, STOPPING=1 at a graceful stop,
 * STATUS= lines for `systemctl status`, and WATCHDOG=1 pings on an event
 * loop timer when the unit sets WatchdogSec=. Without NOTIFY_SOCKET in
 * the environment (not started by systemd with Type=notify) nothing is
 * sent. No process-wide state: the environment is read at each call. */
#ifndef SL_NOTIFY_H
#define SL_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct event_base;

typedef enum sl_notify_rc {
    SL_NOTIFY_OK = 0, /* sent */
    SL_NOTIFY_OFF,    /* no NOTIFY_SOCKET (or built without libsystemd):
                         nothing sent, nothing logged */
    SL_NOTIFY_E_SEND  /* NOTIFY_SOCKET is set but the message could not
                         be sent (bad address, no listener); logged */
} sl_notify_rc;

/* Longest STATUS= text sent, in bytes; a longer one is cut (at a UTF-8
 * character boundary). */
#define SL_NOTIFY_STATUS_MAX 256

/* Room sl_notify_format needs for any fields of up to 64 bytes and any
 * status, NUL included. */
#define SL_NOTIFY_MESSAGE_MAX (64 + 8 + SL_NOTIFY_STATUS_MAX + 1)

/* Write the message "<fields>\nSTATUS=<status>" into out (cap bytes,
 * NUL-terminated, cut like snprintf): `status` (NULL: no STATUS= line)
 * with every control character (newlines included, which would start a
 * field of their own) turned into a space and cut to
 * SL_NOTIFY_STATUS_MAX bytes. `fields` is sent as given. Returns the
 * length of the whole message. */
size_t sl_notify_format(char *out, size_t cap, const char *fields,
                        const char *status);

/* READY=1 with STATUS=<printf text>: the gateway serves (after start or
 * after a reload). */
sl_notify_rc sl_notify_ready(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* RELOADING=1 with MONOTONIC_USEC=<CLOCK_MONOTONIC now> (systemd 253 and
 * later match it to the reload they asked for) and STATUS=: a reload has
 * begun; sl_notify_ready ends it, whatever its outcome. */
sl_notify_rc sl_notify_reloading(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* STOPPING=1 with STATUS=: a graceful stop has begun. */
sl_notify_rc sl_notify_stopping(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* EXTEND_TIMEOUT_USEC=<usec> with STATUS=: a step of the start (or of
 * the stop) may take up to usec from now, beyond the unit's timeout. */
sl_notify_rc sl_notify_extend(uint64_t usec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* How long one connector may take to open (its spool recovered) at the
 * start before systemd gives up: EXTEND_TIMEOUT_USEC per connector. */
#define SL_NOTIFY_OPEN_USEC (90ULL * 1000000ULL)

/* STATUS= alone. */
sl_notify_rc sl_notify_status(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The watchdog interval the service manager asks for, in microseconds
 * (WATCHDOG_USEC, when WATCHDOG_PID is unset or this process), or 0. */
uint64_t sl_notify_watchdog_usec(void);

/* Watchdog pings: a timer on `base` that sends WATCHDOG=1 every half of
 * sl_notify_watchdog_usec() (at least every millisecond), as long as the
 * loop runs. Armed only when a watchdog is asked for; otherwise it does
 * nothing. Returns NULL only when out of memory. Free it before the base. */
typedef struct sl_notify_watchdog sl_notify_watchdog;
sl_notify_watchdog *sl_notify_watchdog_new(struct event_base *base);
void sl_notify_watchdog_free(sl_notify_watchdog *w); /* NULL: nothing */

/* The timer's period in microseconds, 0 when not armed. */
uint64_t sl_notify_watchdog_period_usec(const sl_notify_watchdog *w);

/* How many pings were sent (for tests and a debug log). */
uint64_t sl_notify_watchdog_pings(const sl_notify_watchdog *w);

#endif
