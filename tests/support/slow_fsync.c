/* slow_fsync: an LD_PRELOAD shim for integration tests that makes every
 * fdatasync() take SLUICE_SLOW_FSYNC_MS milliseconds longer (a disk that
 * stalls), so a test can show what the gateway does while durability is
 * late. Test support only; never linked into sluice. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

static int (*real)(int);
static pthread_once_t found = PTHREAD_ONCE_INIT;

static void find_real(void)
{
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
}

/* Called by several sync threads at once (a spool's rounds overlap). */
int fdatasync(int fd)
{
    pthread_once(&found, find_real);
    const char *ms = getenv("SLUICE_SLOW_FSYNC_MS");
    long v = ms ? strtol(ms, NULL, 10) : 0;
    if (v > 0) {
        struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0)
            ;
    }
    return real ? real(fd) : -1;
}
