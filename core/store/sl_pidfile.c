/* sl_pidfile: the gateway's pid file in its state directory (see
 * sl_pidfile.h); the lock itself is sl_pidlock's, as the connector's lock
 * file (sl_state) is. */
#include "sl_pidfile.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_err.h"
#include "sl_fs.h"
#include "sl_pidlock.h"

static int pid_path(char *out, size_t outlen, const char *state_dir,
                    char *err, size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", state_dir, SL_PIDFILE_NAME);
    if (n < 0 || (size_t)n >= outlen) {
        sl_err_set(err, errlen, "path %s/%s is too long", state_dir,
                   SL_PIDFILE_NAME);
        return -1;
    }
    return 0;
}

int sl_pidfile_take(const char *state_dir, char *err, size_t errlen)
{
    char path[PATH_MAX], failed[PATH_MAX];
    if (sl_fs_mkdir_p(state_dir, 0750, failed, sizeof failed) != 0) {
        sl_err_set(err, errlen, "cannot make %s: %s", failed, strerror(errno));
        return -1;
    }
    if (pid_path(path, sizeof path, state_dir, err, errlen) != 0)
        return -1;
    /* sl_pidfile_holder probes with a shared lock for an instant */
    long pid;
    int fd = sl_pidlock_take(path, &pid, err, errlen);
    if (fd == SL_PIDLOCK_BUSY)
        sl_err_set(err, errlen, "state directory %s is served by another "
                   "sluice (pid %ld, in %s)", state_dir, pid, path);
    return fd < 0 ? -1 : fd;
}

void sl_pidfile_release(const char *state_dir, int fd)
{
    char path[PATH_MAX], err[64];
    if (fd < 0)
        return;
    /* unlink while still holding the lock: a reload probing now sees
     * either our pid or no file, never a stale one of ours */
    if (pid_path(path, sizeof path, state_dir, err, sizeof err) == 0)
        unlink(path);
    close(fd);
}

sl_pidfile_rc sl_pidfile_holder(const char *state_dir, long *pid, char *err,
                                size_t errlen)
{
    char path[PATH_MAX];
    *pid = 0;
    if (pid_path(path, sizeof path, state_dir, err, errlen) != 0)
        return SL_PIDFILE_ERROR;
    switch (sl_pidlock_probe(path, pid)) {
    case SL_PIDLOCK_MISSING:
        return SL_PIDFILE_MISSING;
    case SL_PIDLOCK_FREE:
        return SL_PIDFILE_STALE;
    case SL_PIDLOCK_HELD:
        if (*pid > 0)
            return SL_PIDFILE_HELD;
        sl_err_set(err, errlen, "%s is held but names no pid", path);
        return SL_PIDFILE_ERROR;
    case SL_PIDLOCK_FAILED:
        break;
    }
    sl_err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
    return SL_PIDFILE_ERROR;
}
