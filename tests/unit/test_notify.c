/* Unit tests for sl_notify: the messages as formatted (hostile status
 * texts: newlines that would start fields of their own, control bytes,
 * oversized and cut UTF-8), what reaches a datagram socket named by
 * NOTIFY_SOCKET, nothing without it, a failure with a bad one, and the
 * watchdog timer's period and pings. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_log.h"
#include "sl_notify.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static void test_format(void)
{
    char out[SL_NOTIFY_MESSAGE_MAX];
    size_t n = sl_notify_format(out, sizeof out, "READY=1", "listening");
    CHECK_STR(out, "READY=1\nSTATUS=listening");
    CHECK(n == strlen(out));
    sl_notify_format(out, sizeof out, "STOPPING=1", NULL);
    CHECK_STR(out, "STOPPING=1");
    sl_notify_format(out, sizeof out, "", "alone");
    CHECK_STR(out, "STATUS=alone");
    /* a newline must not smuggle in a field of its own */
    sl_notify_format(out, sizeof out, "READY=1", "ok\nSTOPPING=1\r\tx\x7f");
    CHECK_STR(out, "READY=1\nSTATUS=ok STOPPING=1  x ");
    sl_notify_format(out, sizeof out, "READY=1", "");
    CHECK_STR(out, "READY=1\nSTATUS=");
}

static void test_format_oversized(void)
{
    char big[4 * SL_NOTIFY_STATUS_MAX];
    char out[SL_NOTIFY_MESSAGE_MAX];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    size_t n = sl_notify_format(out, sizeof out, "READY=1", big);
    CHECK(n == strlen("READY=1\nSTATUS=") + SL_NOTIFY_STATUS_MAX);
    CHECK(strlen(out) == n);
    /* "é" (2 bytes) across the cut: the whole character goes */
    memset(big, 'a', SL_NOTIFY_STATUS_MAX - 1);
    memcpy(big + SL_NOTIFY_STATUS_MAX - 1, "\xc3\xa9tail", 7);
    sl_notify_format(out, sizeof out, "", big);
    CHECK(strlen(out) == strlen("STATUS=") + SL_NOTIFY_STATUS_MAX - 1);
    CHECK(out[strlen(out) - 1] == 'a');
    /* a small buffer is cut like snprintf and says the whole length */
    char tiny[8];
    n = sl_notify_format(tiny, sizeof tiny, "READY=1", "listening");
    CHECK(n == strlen("READY=1\nSTATUS=listening"));
    CHECK_STR(tiny, "READY=1");
}

/* A datagram socket bound at <dir>/notify, named by NOTIFY_SOCKET. */
static int listen_notify(const char *dir)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/notify", dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0);
    struct timeval tv = {2, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setenv("NOTIFY_SOCKET", sa.sun_path, 1);
    return fd;
}

/* The next datagram, as a string ("" when none came within 2 s). */
static const char *next_msg(int fd, char *buf, size_t n)
{
    ssize_t got = recv(fd, buf, n - 1, 0);
    buf[got > 0 ? got : 0] = '\0';
    return buf;
}

/* Whether this build sends anything (SLUICE_SYSTEMD=ON). */
static int built_with_systemd(int fd)
{
    char buf[512];
    if (sl_notify_status("probe") != SL_NOTIFY_OK)
        return 0;
    CHECK_STR(next_msg(fd, buf, sizeof buf), "STATUS=probe");
    return 1;
}

static void test_messages(void)
{
    char dir[128], buf[1024];
    sl_test_dir_fresh(dir, sizeof dir, "notify");
    int fd = listen_notify(dir);
    if (!built_with_systemd(fd)) {
        printf("     (built without libsystemd: nothing is sent)\n");
        goto done;
    }
    CHECK(sl_notify_ready("listening on %s:%d", "127.0.0.1", 8080) ==
          SL_NOTIFY_OK);
    CHECK_STR(next_msg(fd, buf, sizeof buf),
              "READY=1\nSTATUS=listening on 127.0.0.1:8080");
    CHECK(sl_notify_reloading("reloading %s", "sluice.lua") == SL_NOTIFY_OK);
    next_msg(fd, buf, sizeof buf);
    unsigned long long usec = 0;
    int used = 0;
    CHECK(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%llu\n%n", &usec, &used) ==
          1);
    CHECK(usec > 0);
    CHECK_STR(buf + used, "STATUS=reloading sluice.lua");
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    CHECK(usec <= (unsigned long long)ts.tv_sec * 1000000ULL +
                      (unsigned long long)ts.tv_nsec / 1000ULL);
    CHECK(sl_notify_extend(90000000, "opening %s", "crm") == SL_NOTIFY_OK);
    CHECK_STR(next_msg(fd, buf, sizeof buf),
              "EXTEND_TIMEOUT_USEC=90000000\nSTATUS=opening crm");
    CHECK(sl_notify_extend(UINT64_MAX, "x") == SL_NOTIFY_OK);
    CHECK_STR(next_msg(fd, buf, sizeof buf),
              "EXTEND_TIMEOUT_USEC=18446744073709551615\nSTATUS=x");
    CHECK(sl_notify_stopping("stopping") == SL_NOTIFY_OK);
    CHECK_STR(next_msg(fd, buf, sizeof buf), "STOPPING=1\nSTATUS=stopping");
    /* a hostile status stays one STATUS= field */
    CHECK(sl_notify_status("a\nREADY=1") == SL_NOTIFY_OK);
    CHECK_STR(next_msg(fd, buf, sizeof buf), "STATUS=a READY=1");
done:
    close(fd);
    unsetenv("NOTIFY_SOCKET");
    sl_test_rm_rf(dir);
}

static void test_no_socket(void)
{
    unsetenv("NOTIFY_SOCKET");
    CHECK(sl_notify_ready("x") == SL_NOTIFY_OFF);
    CHECK(sl_notify_stopping("x") == SL_NOTIFY_OFF);
    CHECK(sl_notify_reloading("x") == SL_NOTIFY_OFF);
    CHECK(sl_notify_status("x") == SL_NOTIFY_OFF);
}

static void test_bad_socket(void)
{
    char dir[128];
    sl_test_dir_fresh(dir, sizeof dir, "notify-bad");
    int fd = listen_notify(dir);
    int with = built_with_systemd(fd);
    close(fd);
    if (!with)
        goto done;
    sl_log_level lvl = sl_log_get_level();
    sl_log_set_level(SL_LOG_OFF); /* the warnings are expected */
    /* nobody listens there any more; a relative name; garbage; too long */
    char path[160];
    snprintf(path, sizeof path, "%s/notify", dir);
    unlink(path);
    const char *bad[] = {path, "relative/sock", "\x01\x02", "@", NULL};
    for (const char **b = bad; *b; b++) {
        setenv("NOTIFY_SOCKET", *b, 1);
        CHECK(sl_notify_ready("x") == SL_NOTIFY_E_SEND);
    }
    char longp[300];
    memset(longp, 'x', sizeof longp - 1);
    longp[0] = '/';
    longp[sizeof longp - 1] = '\0';
    setenv("NOTIFY_SOCKET", longp, 1);
    CHECK(sl_notify_stopping("x") == SL_NOTIFY_E_SEND);
    sl_log_set_level(lvl);
done:
    unsetenv("NOTIFY_SOCKET");
    sl_test_rm_rf(dir);
}

static void set_watchdog(const char *usec, long pid)
{
    char p[32];
    setenv("WATCHDOG_USEC", usec, 1);
    snprintf(p, sizeof p, "%ld", pid);
    if (pid)
        setenv("WATCHDOG_PID", p, 1);
    else
        unsetenv("WATCHDOG_PID");
}

static uint64_t period_for(const char *usec, long pid)
{
    struct event_base *base = event_base_new();
    set_watchdog(usec, pid);
    sl_notify_watchdog *w = sl_notify_watchdog_new(base);
    CHECK(w != NULL);
    uint64_t p = w ? sl_notify_watchdog_period_usec(w) : 0;
    sl_notify_watchdog_free(w);
    event_base_free(base);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return p;
}

static void test_watchdog_period(void)
{
    char dir[128];
    sl_test_dir_fresh(dir, sizeof dir, "notify-wd");
    int fd = listen_notify(dir);
    int with = built_with_systemd(fd);
    sl_log_level lvl = sl_log_get_level();
    sl_log_set_level(SL_LOG_OFF);
    unsetenv("WATCHDOG_USEC");
    CHECK(sl_notify_watchdog_usec() == 0);
    CHECK(period_for("0", 0) == 0);
    CHECK(period_for("garbage", 0) == 0);
    CHECK(period_for("-5", 0) == 0);
    CHECK(period_for("", 0) == 0);
    CHECK(period_for("18446744073709551616", 0) == 0); /* 2^64 */
    if (with) {
        CHECK(period_for("30000000", 0) == 15000000);
        CHECK(period_for("30000000", (long)getpid()) == 15000000);
        CHECK(period_for("1", 0) == 1000);              /* at least 1 ms */
        CHECK(period_for("900000000000000", 0) == 86400ULL * 1000000ULL);
        /* another process's watchdog: not ours to ping */
        CHECK(period_for("30000000", (long)getpid() + 1) == 0);
        CHECK(period_for("30000000", -1) == 0);
    }
    sl_log_set_level(lvl);
    close(fd);
    unsetenv("NOTIFY_SOCKET");
    sl_test_rm_rf(dir);
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopbreak(arg);
}

static void test_watchdog_pings(void)
{
    char dir[128], buf[256];
    sl_test_dir_fresh(dir, sizeof dir, "notify-ping");
    int fd = listen_notify(dir);
    if (!built_with_systemd(fd))
        goto done;
    struct event_base *base = event_base_new();
    /* a ping every 50 ms for 200 ms: fewer than a datagram queue holds
     * (net.unix.max_dgram_qlen, 10 by default), as sd_notify blocks on a
     * full one */
    set_watchdog("100000", (long)getpid());
    sl_notify_watchdog *w = sl_notify_watchdog_new(base);
    CHECK(w && sl_notify_watchdog_period_usec(w) == 50000);
    struct event *stop = evtimer_new(base, stop_loop, base);
    struct timeval tv = {0, 200 * 1000};
    evtimer_add(stop, &tv);
    event_base_dispatch(base);
    CHECK(w && sl_notify_watchdog_pings(w) >= 2);
    CHECK_STR(next_msg(fd, buf, sizeof buf), "WATCHDOG=1");
    CHECK_STR(next_msg(fd, buf, sizeof buf), "WATCHDOG=1");
    event_free(stop);
    sl_notify_watchdog_free(w);
    event_base_free(base);
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
done:
    close(fd);
    unsetenv("NOTIFY_SOCKET");
    sl_test_rm_rf(dir);
}

int main(void)
{
    sl_notify_watchdog_free(NULL);
    static const sl_test_case cases[] = {
        {"format", test_format},
        {"format_oversized", test_format_oversized},
        {"messages", test_messages},
        {"no_socket", test_no_socket},
        {"bad_socket", test_bad_socket},
        {"watchdog_period", test_watchdog_period},
        {"watchdog_pings", test_watchdog_pings},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
