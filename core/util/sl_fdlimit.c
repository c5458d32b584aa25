/* sl_fdlimit: RLIMIT_NOFILE raised to its hard limit, and the hint that
 * goes with "Too many open files". */
#include "sl_fdlimit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "sl_log.h"

unsigned long sl_fdlimit_raise(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlim_t was = rl.rlim_cur;
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            sl_log_debug("gateway", "open files limit raised from %llu to "
                         "the hard limit %llu", (unsigned long long)was,
                         (unsigned long long)rl.rlim_max);
        else
            rl.rlim_cur = was;
    }
    return rl.rlim_cur == RLIM_INFINITY ? (unsigned long)-1
                                        : (unsigned long)rl.rlim_cur;
}

const char *sl_fdlimit_hint(const char *msg, char *out, size_t outlen)
{
    if (!msg || (!strstr(msg, strerror(EMFILE)) &&
                 !strstr(msg, strerror(ENFILE))))
        return "";
    struct rlimit rl;
    unsigned long long lim = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        lim = (unsigned long long)rl.rlim_cur;
    snprintf(out, outlen, " (the open files limit is %llu, already raised "
             "to the hard limit; each connector needs about 5: raise "
             "LimitNOFILE= in the systemd unit, or `ulimit -Hn` before "
             "starting; a system-wide \"file table\" overflow is "
             "fs.file-max)", lim);
    return out;
}
