/* sl_notify: the sd_notify protocol through libsystemd, and the watchdog
 * timer. Built without libsystemd (SLUICE_SYSTEMD=OFF), every message is
 * SL_NOTIFY_OFF, and a NOTIFY_SOCKET in the environment (a unit that
 * waits for READY=1 in vain) is logged at each message. */
#include "sl_notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <event2/event.h>

#include "sl_log.h"

#ifdef SL_NOTIFY_SYSTEMD
#include <systemd/sd-daemon.h>

static int notify_send(const char *msg) { return sd_notify(0, msg); }

static int notify_watchdog_enabled(uint64_t *usec)
{
    return sd_watchdog_enabled(0, usec);
}
#else
static int notify_send(const char *msg)
{
    (void)msg;
    if (getenv("NOTIFY_SOCKET"))
        sl_log_warn("notify", "NOTIFY_SOCKET is set, but this sluice was "
                    "built without libsystemd (SLUICE_SYSTEMD=OFF): the "
                    "service manager is not told");
    return 0;
}

static int notify_watchdog_enabled(uint64_t *usec)
{
    *usec = 0;
    return 0;
}
#endif

/* Copy status into out (room for SL_NOTIFY_STATUS_MAX bytes and a NUL):
 * control characters become spaces, a long text is cut before a UTF-8
 * continuation byte. Returns the length copied. */
static size_t clean_status(char *out, const char *status)
{
    size_t n = strlen(status);
    if (n > SL_NOTIFY_STATUS_MAX) {
        n = SL_NOTIFY_STATUS_MAX;
        while (n > 0 && ((unsigned char)status[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)status[i];
        out[i] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
    }
    out[n] = '\0';
    return n;
}

size_t sl_notify_format(char *out, size_t cap, const char *fields,
                        const char *status)
{
    char clean[SL_NOTIFY_STATUS_MAX + 1];
    if (!status)
        return (size_t)snprintf(out, cap, "%s", fields);
    clean_status(clean, status);
    return (size_t)snprintf(out, cap, "%s%sSTATUS=%s", fields,
                            *fields ? "\n" : "", clean);
}

/* Send fields plus the formatted status; a failure is logged with `what`
 * (the first field). */
static sl_notify_rc send_fields(const char *fields, const char *what,
                                const char *fmt, va_list ap)
{
    char status[SL_NOTIFY_STATUS_MAX + 2];
    char msg[SL_NOTIFY_MESSAGE_MAX];
    if (fmt)
        vsnprintf(status, sizeof status, fmt, ap);
    sl_notify_format(msg, sizeof msg, fields, fmt ? status : NULL);
    int r = notify_send(msg);
    if (r > 0)
        return SL_NOTIFY_OK;
    if (r == 0)
        return SL_NOTIFY_OFF;
    const char *sock = getenv("NOTIFY_SOCKET");
    sl_log_warn("notify", "cannot send %s to the service manager at "
                "NOTIFY_SOCKET=%s: %s", what, sock ? sock : "(unset)",
                strerror(-r));
    return SL_NOTIFY_E_SEND;
}

sl_notify_rc sl_notify_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_notify_rc rc = send_fields("READY=1", "READY=1", fmt, ap);
    va_end(ap);
    return rc;
}

sl_notify_rc sl_notify_reloading(const char *fmt, ...)
{
    struct timespec ts;
    char fields[64];
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(fields, sizeof fields, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)ts.tv_sec * 1000000ULL +
                 (unsigned long long)ts.tv_nsec / 1000ULL);
    va_list ap;
    va_start(ap, fmt);
    sl_notify_rc rc = send_fields(fields, "RELOADING=1", fmt, ap);
    va_end(ap);
    return rc;
}

sl_notify_rc sl_notify_stopping(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_notify_rc rc = send_fields("STOPPING=1", "STOPPING=1", fmt, ap);
    va_end(ap);
    return rc;
}

sl_notify_rc sl_notify_extend(uint64_t usec, const char *fmt, ...)
{
    char fields[64];
    snprintf(fields, sizeof fields, "EXTEND_TIMEOUT_USEC=%llu",
             (unsigned long long)usec);
    va_list ap;
    va_start(ap, fmt);
    sl_notify_rc rc = send_fields(fields, "EXTEND_TIMEOUT_USEC=", fmt, ap);
    va_end(ap);
    return rc;
}

sl_notify_rc sl_notify_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sl_notify_rc rc = send_fields("", "STATUS=", fmt, ap);
    va_end(ap);
    return rc;
}

uint64_t sl_notify_watchdog_usec(void)
{
    uint64_t usec = 0;
    int r = notify_watchdog_enabled(&usec);
    if (r < 0)
        sl_log_warn("notify", "WATCHDOG_USEC=%s is not a number of "
                    "microseconds: no watchdog pings",
                    getenv("WATCHDOG_USEC") ? getenv("WATCHDOG_USEC") : "");
    return r > 0 ? usec : 0;
}

/* ---- the watchdog timer ------------------------------------------------- */

struct sl_notify_watchdog {
    struct event *tick; /* owned; NULL when no watchdog is asked for */
    uint64_t period_usec;
    uint64_t pings;
    int failed; /* a ping failed: said once, not every period */
};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_notify_watchdog *w = arg;
    int r = notify_send("WATCHDOG=1");
    if (r > 0) {
        w->pings++;
        return;
    }
    if (r < 0 && !w->failed) {
        const char *sock = getenv("NOTIFY_SOCKET");
        sl_log_warn("notify", "cannot send WATCHDOG=1 to the service manager "
                    "at NOTIFY_SOCKET=%s: %s (said once)",
                    sock ? sock : "(unset)", strerror(-r));
        w->failed = 1;
    }
}

sl_notify_watchdog *sl_notify_watchdog_new(struct event_base *base)
{
    sl_notify_watchdog *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    uint64_t usec = sl_notify_watchdog_usec();
    if (usec == 0)
        return w;
    uint64_t period = usec / 2 < 1000 ? 1000 : usec / 2;
    /* a day at most: a timeval must hold it, and longer is no watchdog */
    if (period > 86400ULL * 1000000ULL)
        period = 86400ULL * 1000000ULL;
    struct timeval tv = {.tv_sec = (time_t)(period / 1000000),
                         .tv_usec = (suseconds_t)(period % 1000000)};
    if (!(w->tick = event_new(base, -1, EV_PERSIST, on_tick, w)) ||
        event_add(w->tick, &tv) != 0) {
        sl_log_warn("notify", "cannot arm the watchdog timer: no pings");
        if (w->tick)
            event_free(w->tick);
        w->tick = NULL;
        return w;
    }
    w->period_usec = period;
    sl_log_info("notify", "watchdog: WATCHDOG=1 every %llu ms (WATCHDOG_USEC="
                "%llu)", (unsigned long long)(period / 1000),
                (unsigned long long)usec);
    return w;
}

void sl_notify_watchdog_free(sl_notify_watchdog *w)
{
    if (!w)
        return;
    if (w->tick)
        event_free(w->tick);
    free(w);
}

uint64_t sl_notify_watchdog_period_usec(const sl_notify_watchdog *w)
{
    return w->period_usec;
}

uint64_t sl_notify_watchdog_pings(const sl_notify_watchdog *w)
{
    return w->pings;
}
