/* enospc: an LD_PRELOAD shim for integration tests that makes writes to
 * spool segments (files named *.seg) fail with ENOSPC while the file named
 * by SLUICE_ENOSPC_FLAG exists: a full disk that a test fills and empties
 * by creating and removing that file. Other writes pass through. Test
 * support only; never linked into sluice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

/* 1 when writes to fd are to fail now */
static int full(int fd)
{
    const char *flag = getenv("SLUICE_ENOSPC_FLAG");
    if (!flag || access(flag, F_OK) != 0)
        return 0;
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 4)
        return 0;
    path[n] = '\0';
    return strcmp(path + n - 4, ".seg") == 0;
}

ssize_t write(int fd, const void *buf, size_t count)
{
    static ssize_t (*real)(int, const void *, size_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT,
                                                             "write");
    if (count > 0 && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real ? real(fd, buf, count) : -1;
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    static ssize_t (*real)(int, const struct iovec *, int);
    if (!real)
        real = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT,
                                                                 "writev");
    if (iovcnt > 0 && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real ? real(fd, iov, iovcnt) : -1;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(
            RTLD_NEXT, "pwrite");
    if (count > 0 && full(fd)) {
        errno = ENOSPC;
        return -1;
    }
    return real ? real(fd, buf, count, off) : -1;
}
