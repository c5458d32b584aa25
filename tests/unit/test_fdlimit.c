/* Unit tests for sl_fdlimit: the soft open-files limit is raised to the
 * hard one, and a descriptor could actually be opened up to it; the hint
 * comes only with "Too many open files" (or the system-wide table), and
 * fits any buffer. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sl_fdlimit.h"
#include "sl_log.h"
#include "sl_test.h"

static void test_raise_to_hard(void)
{
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t hard = rl.rlim_max;
    if (hard != RLIM_INFINITY && hard > 64) { /* start low, as a shell does */
        struct rlimit low = {64, hard};
        CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
    }
    unsigned long now = sl_fdlimit_raise();
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    CHECK(rl.rlim_cur == hard);
    CHECK(hard == RLIM_INFINITY || now == (unsigned long)hard);
    /* descriptors past the old soft limit open now */
    int fds[100], n = 0;
    for (; n < 100; n++)
        if ((fds[n] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
            break;
    CHECK(hard < 200 || n == 100);
    while (n > 0)
        close(fds[--n]);
    CHECK(sl_fdlimit_raise() == now); /* again: nothing to do */
}

static void test_hint(void)
{
    char out[400] = "unchanged", msg[200];
    CHECK_STR(sl_fdlimit_hint("cannot open x: No space left on device", out,
                              sizeof out), "");
    CHECK_STR(out, "unchanged");
    CHECK_STR(sl_fdlimit_hint(NULL, out, sizeof out), "");
    CHECK_STR(sl_fdlimit_hint("", out, sizeof out), "");
    snprintf(msg, sizeof msg, "cannot list d: %s", strerror(EMFILE));
    const char *h = sl_fdlimit_hint(msg, out, sizeof out);
    CHECK(h == out);
    CHECK_CONTAINS(h, "open files limit is ");
    CHECK_CONTAINS(h, "LimitNOFILE=");
    snprintf(msg, sizeof msg, "pipe: %s", strerror(ENFILE));
    CHECK_CONTAINS(sl_fdlimit_hint(msg, out, sizeof out), "fs.file-max");
    char tiny[8];
    memset(tiny, 'x', sizeof tiny);
    h = sl_fdlimit_hint(msg, tiny, sizeof tiny); /* cut, still a string */
    CHECK(strlen(h) == sizeof tiny - 1);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
        {"raise_to_hard", test_raise_to_hard},
        {"hint", test_hint},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
