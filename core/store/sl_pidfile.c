/* sl_pidfile: the gateway's pid file in its state directory (see
 * sl_pidfile.h). Same locking as the connector's lock file (sl_state). */
#include "sl_pidfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "sl_err.h"
#include "sl_fs.h"

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

/* The pid written in fd, 0 when there is none that parses. */
static long read_pid(int fd)
{
    char text[32];
    ssize_t n = pread(fd, text, sizeof text - 1, 0);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    char *end;
    long pid = strtol(text, &end, 10);
    return pid > 0 && pid <= INT_MAX && end != text &&
                   (*end == '\n' || *end == '\0')
               ? pid : 0;
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
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        sl_err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* sl_pidfile_holder probes with a shared lock for an instant */
    int rc, e = 0;
    for (int tries = 0;; tries++) {
        rc = flock(fd, LOCK_EX | LOCK_NB);
        e = errno;
        if (rc == 0 || (e != EWOULDBLOCK && e != EINTR) || tries == 10)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    if (rc != 0) {
        long pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
        if (e != EWOULDBLOCK)
            sl_err_set(err, errlen, "cannot lock %s: %s", path, strerror(e));
        else
            sl_err_set(err, errlen, "state directory %s is served by another "
                       "sluice (pid %ld, in %s)", state_dir, pid, path);
        close(fd);
        return -1;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        sl_err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
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
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return SL_PIDFILE_MISSING;
        sl_err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return SL_PIDFILE_ERROR;
    }
    *pid = read_pid(fd);
    sl_pidfile_rc rc;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        rc = SL_PIDFILE_STALE;
    } else if (errno == EWOULDBLOCK) {
        rc = *pid > 0 ? SL_PIDFILE_HELD : SL_PIDFILE_ERROR;
        if (rc == SL_PIDFILE_ERROR)
            sl_err_set(err, errlen, "%s is held but names no pid", path);
    } else {
        sl_err_set(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        rc = SL_PIDFILE_ERROR;
    }
    close(fd); /* drops the shared lock, if taken */
    return rc;
}
