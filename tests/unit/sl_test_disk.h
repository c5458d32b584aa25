/* A disk that fails or stalls on demand, for the tests of the sync
 * threads (test_syncer, test_syncpool): fdatasync is replaced in the
 * executable that includes this header (include it from one file only).
 *
 * The sync threads sync copies (dup) of the descriptors they are handed,
 * so a test names a file by the descriptor it opened and watches it
 * (disk_watch): every fdatasync of a descriptor to the same file is
 * counted on, fails or stalls for, the watched number. */
#ifndef SL_TEST_DISK_H
#define SL_TEST_DISK_H

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#define DISK_FDS 4096
#define DISK_WATCH 64

static atomic_int fail_syncs;   /* fdatasync calls still to fail */
static atomic_int syncs;        /* fdatasync calls seen */
static atomic_int synced_fd[DISK_FDS]; /* fdatasync calls per file */
static atomic_int fail_fd = -1; /* fdatasync of this one fails (EIO) */
static atomic_int inside_fd[DISK_FDS]; /* fdatasync calls running now */
static atomic_int twice_at_once;   /* one file synced by two threads */

/* The files watched: inode and the descriptor that names it. Set from
 * the test's thread before the syncs it watches are asked for. */
static atomic_ulong watch_ino[DISK_WATCH];
static atomic_int watch_fd[DISK_WATCH];
static atomic_int nwatch;

static inline void disk_watch_reset(void) { atomic_store(&nwatch, 0); }

static inline void disk_watch(int fd)
{
    struct stat st;
    int n = atomic_load(&nwatch);
    if (n < DISK_WATCH && fstat(fd, &st) == 0) {
        atomic_store(&watch_ino[n], (unsigned long)st.st_ino);
        atomic_store(&watch_fd[n], fd);
        atomic_store(&nwatch, n + 1);
    }
}

/* The watched descriptor of fd's file, or fd. */
static inline int disk_name(int fd)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return fd;
    int n = atomic_load(&nwatch);
    for (int i = 0; i < n; i++)
        if (atomic_load(&watch_ino[i]) == (unsigned long)st.st_ino)
            return atomic_load(&watch_fd[i]);
    return fd;
}

/* A disk that stalls: fdatasync of stall_fd's file waits until
 * released. */
static pthread_mutex_t stall_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stall_cv = PTHREAD_COND_INITIALIZER;
static int stall_fd = -1, stalled; /* under stall_mu */

static inline void stall_here(int fd)
{
    pthread_mutex_lock(&stall_mu);
    if (fd == stall_fd) {
        stalled++;
        pthread_cond_broadcast(&stall_cv);
        while (stall_fd == fd)
            pthread_cond_wait(&stall_cv, &stall_mu);
    }
    pthread_mutex_unlock(&stall_mu);
}

/* Every fdatasync in the executable (the sync threads' too) comes here. */
int fdatasync(int fd)
{
    atomic_fetch_add(&syncs, 1);
    int name = fd >= 0 ? disk_name(fd) : fd;
    if (name >= 0 && name < DISK_FDS) {
        atomic_fetch_add(&synced_fd[name], 1);
        if (atomic_fetch_add(&inside_fd[name], 1) > 0)
            atomic_store(&twice_at_once, 1);
        stall_here(name);
        atomic_fetch_sub(&inside_fd[name], 1);
        if (name == atomic_load(&fail_fd)) {
            errno = EIO;
            return -1;
        }
    }
    int left = atomic_load(&fail_syncs);
    while (left > 0) {
        if (atomic_compare_exchange_weak(&fail_syncs, &left, left - 1)) {
            errno = EIO;
            return -1;
        }
    }
    return (int)syscall(SYS_fdatasync, fd);
}

/* From here fdatasync of fd's file stalls (until disk_release). */
static inline void disk_stall(int fd)
{
    pthread_mutex_lock(&stall_mu);
    stall_fd = fd;
    stalled = 0;
    pthread_mutex_unlock(&stall_mu);
}

/* Wait until n fdatasync calls are stalled in all (since disk_stall). */
static inline void disk_wait_stalled(int n)
{
    pthread_mutex_lock(&stall_mu);
    while (stalled < n)
        pthread_cond_wait(&stall_cv, &stall_mu);
    pthread_mutex_unlock(&stall_mu);
}

static inline void disk_release(void)
{
    pthread_mutex_lock(&stall_mu);
    stall_fd = -1;
    pthread_cond_broadcast(&stall_cv);
    pthread_mutex_unlock(&stall_mu);
}

/* ---- helpers of both tests ---------------------------------------------- */

static inline const char *disk_tmp_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sl_syncer_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

static inline uint64_t disk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until cond() or 5 s: 0, or -1 when it did not come. */
static inline int disk_loop_until(struct event_base *base, int (*cond)(void))
{
    uint64_t t0 = disk_now_ms();
    while (!cond()) {
        if (disk_now_ms() - t0 > 5000)
            return -1;
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

#endif
