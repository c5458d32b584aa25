/* slow_fsync: an LD_PRELOAD shim for integration tests that makes every
 * fdatasync() take SLUICE_SLOW_FSYNC_MS milliseconds longer (a disk that
 * stalls), so a test can show what the gateway does while durability is
 * late. Test support only; never linked into sluice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    const char *ms = getenv("SLUICE_SLOW_FSYNC_MS");
    long v = ms ? strtol(ms, NULL, 10) : 0;
    if (v > 0) {
        struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    return real ? real(fd) : -1;
}
