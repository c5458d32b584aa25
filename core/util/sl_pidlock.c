/* sl_pidlock: a file that names the process holding an flock() on it (see
 * sl_pidlock.h). */
#include "sl_pidlock.h"

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

int sl_pidlock_take(const char *path, long *holder, char *err,
                    size_t errlen)
{
    *holder = 0;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        sl_err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    int rc, e = 0;
    for (int tries = 0;; tries++) {
        rc = flock(fd, LOCK_EX | LOCK_NB);
        e = errno;
        if (rc == 0 || (e != EWOULDBLOCK && e != EINTR) || tries == 10)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    if (rc != 0) {
        if (e == EWOULDBLOCK)
            *holder = read_pid(fd);
        else
            sl_err_set(err, errlen, "cannot lock %s: %s", path, strerror(e));
        close(fd);
        return e == EWOULDBLOCK ? SL_PIDLOCK_BUSY : -1;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        sl_err_set(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd); /* releases the lock */
        return -1;
    }
    return fd;
}

sl_pidlock_state sl_pidlock_probe(const char *path, long *pid)
{
    *pid = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SL_PIDLOCK_MISSING : SL_PIDLOCK_FAILED;
    *pid = read_pid(fd);
    sl_pidlock_state st;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0)
        st = SL_PIDLOCK_FREE;
    else
        st = errno == EWOULDBLOCK ? SL_PIDLOCK_HELD : SL_PIDLOCK_FAILED;
    int e = errno;
    close(fd); /* drops the shared lock, if taken */
    errno = e; /* for the caller's message when FAILED */
    return st;
}
