/* Unit tests for sl_syncer, the sync pool (sl_syncpool) it runs on, and
 * the reports they carry back to the loop:
 * the spool's owner hears "durable up to LSN" (or "failed above LSN")
 * through the spool's callbacks. A callback may close the spool from
 * inside the report (an owner tearing down on a disk error); nothing may
 * touch the freed spool after it returns (run under ASan to see it).
 * fdatasync is replaced in this executable so that a test can make it
 * fail, or stall, on demand. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_frame.h"
#include "sl_log.h"
#include "sl_spool.h"
#include "sl_syncer.h"
#include "sl_syncpool.h"
#include "sl_test.h"
#include "sl_test_dir.h"

/* ---- a disk that fails on demand --------------------------------------- */

static atomic_int fail_syncs;   /* fdatasync calls still to fail */
static atomic_int syncs;        /* fdatasync calls seen */
static atomic_int synced_fd[4096]; /* fdatasync calls per descriptor */
static atomic_int fail_fd = -1; /* fdatasync of this one fails (EIO) */
static atomic_int inside_fd[4096]; /* fdatasync calls running now */
static atomic_int twice_at_once;   /* one descriptor synced by two threads */

/* A disk that stalls: fdatasync of stall_fd waits until released. */
static pthread_mutex_t stall_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stall_cv = PTHREAD_COND_INITIALIZER;
static int stall_fd = -1, stalled; /* under stall_mu */

static void stall_here(int fd)
{
    pthread_mutex_lock(&stall_mu);
    if (fd == stall_fd) {
        stalled = 1;
        pthread_cond_broadcast(&stall_cv);
        while (stall_fd == fd)
            pthread_cond_wait(&stall_cv, &stall_mu);
    }
    pthread_mutex_unlock(&stall_mu);
}

/* Every fdatasync in this executable (the sync threads' too) comes here. */
int fdatasync(int fd)
{
    atomic_fetch_add(&syncs, 1);
    if (fd >= 0 && fd < 4096) {
        atomic_fetch_add(&synced_fd[fd], 1);
        if (atomic_fetch_add(&inside_fd[fd], 1) > 0)
            atomic_store(&twice_at_once, 1);
        stall_here(fd);
        atomic_fetch_sub(&inside_fd[fd], 1);
        if (fd == atomic_load(&fail_fd)) {
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

/* ---- helpers ------------------------------------------------------------ */

static const char *tmp_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sl_syncer_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Append one block of n records "r0", "r1", ...; its ticket. */
static uint64_t append(sl_spool *s, size_t n)
{
    sl_buf blk;
    sl_buf_init(&blk, 0);
    for (size_t i = 0; i < n; i++) {
        char r[32];
        int k = snprintf(r, sizeof r, "{\"r\":%zu}", i);
        CHECK(sl_frame_append(&blk, r, (size_t)k) == 0);
    }
    uint64_t t = 0;
    CHECK(sl_spool_append(s, &blk, n, now_ms(), &t) == SL_SPOOL_OK);
    sl_buf_free(&blk);
    return t;
}

/* What the spool's owner heard; a callback may close the spool. */
static struct owner {
    sl_spool *s;                /* NULL once a callback closed it */
    int close_on_durable, close_on_failed;
    int durable_calls, failed_calls;
    uint64_t durable_lsn, failed_lsn;
    int in_close;               /* inside the owner's sl_spool_close */
    int during_close;           /* reports from inside that close */
    int after_close;            /* reports after the owner closed it */
} own;

static void owner_close(void)
{
    sl_spool *s = own.s;
    own.s = NULL;
    own.in_close = 1;
    sl_spool_close(s);
    own.in_close = 0;
}

/* A report: counted as after the close when the owner has closed it. */
static void heard(void)
{
    if (own.in_close)
        own.during_close++;
    else if (!own.s)
        own.after_close++;
}

static void on_durable(void *ud, uint64_t lsn)
{
    (void)ud;
    heard();
    own.durable_calls++;
    own.durable_lsn = lsn;
    if (own.close_on_durable && own.s)
        owner_close();
}

static void on_failed(void *ud, uint64_t lsn)
{
    (void)ud;
    heard();
    own.failed_calls++;
    own.failed_lsn = lsn;
    if (own.close_on_failed && own.s)
        owner_close();
}

static sl_spool *open_spool(struct event_base *base, const char *dir,
                            sl_durability d)
{
    sl_spool_opts o = {
        .dir = dir,
        .name = "test",
        .durability = d,
        .max_bytes = 1 << 20,
        .segment_bytes = 1 << 20,
        .cache_bytes = 1 << 20,
        .on_durable = on_durable,
        .on_failed = on_failed,
    };
    char err[512] = "";
    memset(&own, 0, sizeof own);
    sl_spool *s = sl_spool_open(base, &o, err, sizeof err);
    if (!s)
        fprintf(stderr, "sl_spool_open: %s\n", err);
    own.s = s;
    return s;
}

/* Run the loop until cond() or 5 s. */
static int loop_until(struct event_base *base, int (*cond)(void))
{
    uint64_t t0 = now_ms();
    while (!cond()) {
        if (now_ms() - t0 > 5000)
            return -1;
        event_base_loop(base, EVLOOP_NONBLOCK);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

static int heard_failure(void) { return own.failed_calls > 0; }
static int heard_durable(void) { return own.durable_calls > 0; }

/* ---- the spool's reports: a callback that closes the spool ------------- */

/* fsync mode: the sync thread's fdatasync fails; the spool tells the
 * owner, who closes the spool inside on_failed. */
static void test_close_inside_failed_report(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC);
    CHECK(s != NULL);
    if (!s)
        goto out;
    own.close_on_failed = 1;
    atomic_store(&fail_syncs, 1);
    uint64_t t = append(s, 3);
    CHECK(t > 0);
    CHECK(loop_until(base, heard_failure) == 0);
    CHECK(own.s == NULL);           /* closed inside the report */
    CHECK(own.failed_calls == 1);
    CHECK(own.failed_lsn == 0);     /* nothing was durable before */
    CHECK(own.after_close == 0);
    for (int i = 0; i < 20; i++)    /* nothing more comes */
        event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(own.after_close == 0);
    atomic_store(&fail_syncs, 0);

    /* the records are in the spool all the same (at least once) */
    s = open_spool(NULL, dir, SL_DURABILITY_FSYNC);
    CHECK(s && sl_spool_count(s) == 3);
    sl_spool_close(s);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* "os" mode: a write fails halfway (RLIMIT_FSIZE), so one loop turn
 * reports "durable up to here" and then "failed above here"; the owner
 * closes the spool inside the first of the two. */
static void test_close_inside_durable_report(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t t1 = append(s, 2);
    CHECK(loop_until(base, heard_durable) == 0);
    CHECK(own.durable_lsn == t1);
    own.durable_calls = 0;

    /* the next turn: 64 small blocks (one writev) fit under the limit,
     * the large block after them (the next writev) does not */
    uint64_t t2 = 0;
    for (int i = 0; i < 64; i++)
        t2 = append(s, 2);
    struct rlimit lim = {(rlim_t)t2 + 100, old.rlim_max};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    static char big[4096];
    memset(big, 'x', sizeof big);
    sl_buf blk;
    sl_buf_init(&blk, 0);
    CHECK(sl_frame_append(&blk, big, sizeof big) == 0);
    uint64_t t3;
    CHECK(sl_spool_append(s, &blk, 1, now_ms(), &t3) == SL_SPOOL_OK);
    sl_buf_free(&blk);
    own.close_on_durable = 1;
    CHECK(loop_until(base, heard_durable) == 0);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    CHECK(own.s == NULL);
    CHECK(own.durable_lsn == t2);
    CHECK(own.failed_calls == 0);   /* the spool was closed: not told */
    CHECK(own.after_close == 0);
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(own.after_close == 0);

    /* what was durable is there; the failed block is not */
    s = open_spool(NULL, dir, SL_DURABILITY_OS);
    CHECK(s && sl_spool_count(s) == 2 + 64 * 2);
    sl_spool_close(s);
out:
    signal(SIGXFSZ, old_sig);
    setrlimit(RLIMIT_FSIZE, &old);
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* fsync mode, success: the owner closes the spool inside on_durable. */
static void test_close_inside_synced_report(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC);
    CHECK(s != NULL);
    if (!s)
        goto out;
    own.close_on_durable = 1;
    uint64_t t = append(s, 5);
    CHECK(loop_until(base, heard_durable) == 0);
    CHECK(own.s == NULL && own.durable_lsn == t && own.durable_calls == 1);
    for (int i = 0; i < 20; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
    CHECK(own.after_close == 0);
    s = open_spool(NULL, dir, SL_DURABILITY_FSYNC);
    CHECK(s && sl_spool_count(s) == 5);
    sl_spool_close(s);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- the syncer alone --------------------------------------------------- */

/* What the loop heard from the syncer. */
static struct heard {
    sl_syncer *y;               /* NULL once the report stopped it */
    int stop_in_report;
    int calls, errs, last_err;
    uint64_t lsn;
    int backwards;              /* a report below the one before */
} hy;

static void on_report(void *ud, uint64_t lsn, int err)
{
    CHECK(ud == &hy);
    hy.calls++;
    if (lsn < hy.lsn)
        hy.backwards++;
    hy.lsn = lsn;
    hy.last_err = err;
    if (err)
        hy.errs++;
    if (hy.stop_in_report && hy.y) {
        sl_syncer *y = hy.y;
        hy.y = NULL;
        sl_syncer_free(y);
    }
}

typedef struct rig {
    char dir[64];
    int dir_fd, prog_fd, seg_fd;
    struct event_base *base;
} rig;

static int rig_open(rig *r)
{
    memset(&hy, 0, sizeof hy);
    snprintf(r->dir, sizeof r->dir, "%s", tmp_dir());
    char path[128];
    r->base = event_base_new();
    r->dir_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/progress", r->dir);
    r->prog_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    snprintf(path, sizeof path, "%s/seg", r->dir);
    r->seg_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    CHECK(r->base && r->dir_fd >= 0 && r->prog_fd >= 0 && r->seg_fd >= 0);
    char err[256] = "";
    hy.y = sl_syncer_new(NULL, r->base, r->dir_fd, r->prog_fd, on_report,
                         &hy, err, sizeof err);
    CHECK(hy.y != NULL);
    CHECK_STR(err, "");
    return hy.y ? 0 : -1;
}

static void rig_close(rig *r)
{
    sl_syncer_free(hy.y);
    hy.y = NULL;
    close(r->seg_fd);
    close(r->prog_fd);
    close(r->dir_fd);
    event_base_free(r->base);
    sl_test_rm_rf(r->dir);
}

static uint64_t want_lsn;
static int reached(void) { return hy.lsn >= want_lsn; }
static int any_report(void) { return hy.calls > 0; }

/* Rounds report the LSN asked for, in order; the progress file is synced
 * only when asked; sl_syncer_wait sees the round finished. */
static void test_rounds(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    CHECK(write(r.seg_fd, "0123456789", 10) == 10);
    int seg0 = atomic_load(&synced_fd[r.seg_fd]);
    int prog0 = atomic_load(&synced_fd[r.prog_fd]);
    uint64_t g1 = sl_syncer_request(hy.y, r.seg_fd, 10, -1, 0);
    want_lsn = 10;
    CHECK(loop_until(r.base, reached) == 0);
    CHECK(hy.lsn == 10 && hy.errs == 0 && hy.last_err == 0);
    CHECK(atomic_load(&synced_fd[r.seg_fd]) > seg0);
    CHECK(atomic_load(&synced_fd[r.prog_fd]) == prog0); /* not asked */
    CHECK(sl_syncer_wait(hy.y, g1) == 0);

    /* the progress file when asked */
    uint64_t g2 = sl_syncer_request(hy.y, r.seg_fd, 10, -1,
                                    SL_SYNCER_PROGRESS | SL_SYNCER_DIR);
    CHECK(g2 == g1 + 1);
    CHECK(sl_syncer_wait(hy.y, g2) == 0);
    CHECK(atomic_load(&synced_fd[r.prog_fd]) == prog0 + 1);

    /* many requests at once: reported up to the last, never backwards */
    for (uint64_t lsn = 20; lsn <= 2000; lsn += 20) {
        CHECK(write(r.seg_fd, "01234567890123456789", 20) == 20);
        sl_syncer_request(hy.y, r.seg_fd, lsn, -1, 0);
    }
    want_lsn = 2000;
    CHECK(loop_until(r.base, reached) == 0);
    CHECK(hy.lsn == 2000 && hy.backwards == 0 && hy.errs == 0);
    /* an LSN below one asked for before does not lower it */
    uint64_t g3 = sl_syncer_request(hy.y, r.seg_fd, 5, -1, 0);
    CHECK(sl_syncer_wait(hy.y, g3) == 0);
    for (int i = 0; i < 20; i++)
        event_base_loop(r.base, EVLOOP_NONBLOCK);
    CHECK(hy.lsn == 2000 && hy.backwards == 0);
    rig_close(&r);
}

/* Rolled segments handed over are synced and closed by the thread; more
 * than it holds at once (64) makes the caller wait, never lose one. */
static void test_old_fds(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    int fds[200];
    for (int i = 0; i < 200; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/old%d", r.dir, i);
        fds[i] = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        CHECK(fds[i] >= 0 && fds[i] < 4096);
        CHECK(write(fds[i], "x", 1) == 1);
    }
    uint64_t g = 0;
    for (int i = 0; i < 200; i++)
        g = sl_syncer_request(hy.y, r.seg_fd, (uint64_t)i + 1, fds[i], 0);
    CHECK(sl_syncer_wait(hy.y, g) == 0);
    int open_left = 0;
    for (int i = 0; i < 200; i++)
        if (fcntl(fds[i], F_GETFD) != -1)
            open_left++;
    CHECK(open_left == 0); /* all closed by the thread */
    want_lsn = 200;
    CHECK(loop_until(r.base, reached) == 0);
    rig_close(&r);
}

/* A failed fdatasync is reported once, with the LSN it was for; the next
 * round reports no error; sl_syncer_wait sees it until it is reported. */
static void test_error_reported_once(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    atomic_store(&fail_syncs, 1);
    uint64_t g = sl_syncer_request(hy.y, r.seg_fd, 50, -1, 0);
    CHECK(sl_syncer_wait(hy.y, g) == EIO); /* not yet reported */
    CHECK(sl_syncer_wait(hy.y, g) == EIO); /* and not cleared by waiting */
    CHECK(loop_until(r.base, any_report) == 0);
    CHECK(hy.errs == 1 && hy.last_err == EIO && hy.lsn == 50);
    CHECK(sl_syncer_wait(hy.y, g) == 0); /* reported: cleared */
    g = sl_syncer_request(hy.y, r.seg_fd, 60, -1, 0);
    want_lsn = 60;
    CHECK(loop_until(r.base, reached) == 0);
    CHECK(hy.errs == 1 && hy.last_err == 0);
    /* a descriptor fdatasync refuses (a pipe: EINVAL) */
    int p[2];
    CHECK(pipe(p) == 0);
    g = sl_syncer_request(hy.y, p[0], 70, -1, 0);
    want_lsn = 70;
    CHECK(loop_until(r.base, reached) == 0);
    CHECK(hy.errs == 2 && hy.last_err == EINVAL);
    sl_syncer_request(hy.y, r.seg_fd, 70, -1, 0); /* off the pipe */
    close(p[0]);
    close(p[1]);
    atomic_store(&fail_syncs, 0);
    rig_close(&r);
}

/* The report stops the syncer from inside: nothing of the syncer is
 * touched after it (ASan), no report comes after, and what was handed
 * over before is still done (old fds closed, queued deletes deleted). */
static void test_stop_inside_report(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    char path[128];
    snprintf(path, sizeof path, "%s/old", r.dir);
    int old = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    CHECK(old >= 0);
    char doomed[128];
    snprintf(doomed, sizeof doomed, "%s/0000000000000000.seg", r.dir);
    int fd = open(doomed, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    CHECK(fd >= 0 && ftruncate(fd, 9 << 20) == 0); /* shrunk in steps */
    close(fd);
    hy.stop_in_report = 1;
    sl_syncer_request(hy.y, r.seg_fd, 10, old, 0);
    CHECK(sl_syncer_unlink_later(hy.y, doomed) == 0);
    CHECK(loop_until(r.base, any_report) == 0);
    CHECK(hy.y == NULL && hy.calls == 1 && hy.lsn == 10);
    CHECK(fcntl(old, F_GETFD) == -1); /* closed by the thread */
    struct stat st;
    CHECK(stat(doomed, &st) != 0 && errno == ENOENT); /* stop waited */
    for (int i = 0; i < 20; i++)
        event_base_loop(r.base, EVLOOP_NONBLOCK);
    CHECK(hy.calls == 1);
    rig_close(&r); /* stop(NULL) is fine */
}

/* Deleting: queued files go (large ones cut down first), a missing one
 * is no error, and stop waits for what is queued. */
static void test_unlink_later(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    char paths[5][128];
    for (int i = 0; i < 5; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/%016d.seg", r.dir, i);
        int fd = open(paths[i], O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
        CHECK(fd >= 0 && ftruncate(fd, (off_t)i << 21) == 0);
        close(fd);
        CHECK(sl_syncer_unlink_later(hy.y, paths[i]) == 0);
    }
    CHECK(sl_syncer_unlink_later(hy.y, "/nonexistent/x.seg") == 0);
    sl_syncer_free(hy.y);
    hy.y = NULL;
    for (int i = 0; i < 5; i++) {
        struct stat st;
        CHECK(stat(paths[i], &st) != 0 && errno == ENOENT);
    }
    CHECK(hy.calls == 0); /* nothing was synced: nothing reported */
    rig_close(&r);
}

/* ---- several spools on one pool ----------------------------------------- */

/* What one spool's owner heard from its syncer. */
typedef struct member {
    sl_syncer *y;               /* NULL once freed */
    int fd;                     /* its segment */
    int calls, errs, last_err;
    uint64_t lsn;
    struct member **free_all;   /* a report frees these (NULL-ended) */
} member;

static int members_after_free; /* reports to a member already freed */

static void on_member(void *ud, uint64_t lsn, int err)
{
    member *m = ud;
    if (!m->y)
        members_after_free++;
    m->calls++;
    m->lsn = lsn;
    m->last_err = err;
    if (err)
        m->errs++;
    for (member **o = m->free_all; o && *o; o++) {
        sl_syncer_free((*o)->y); /* itself too: "may free the syncer" */
        (*o)->y = NULL;
    }
}

#define NMEMBERS 4
typedef struct pool_rig {
    char dir[64];
    int dir_fd, prog_fd;
    struct event_base *base;
    sl_syncpool *pool;
    member m[NMEMBERS];
} pool_rig;

static int pool_open(pool_rig *r, unsigned threads)
{
    memset(r, 0, sizeof *r);
    members_after_free = 0;
    snprintf(r->dir, sizeof r->dir, "%s", tmp_dir());
    char path[128], err[256] = "";
    r->base = event_base_new();
    r->dir_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/progress", r->dir);
    r->prog_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    CHECK(r->base && r->dir_fd >= 0 && r->prog_fd >= 0);
    r->pool = sl_syncpool_new(r->base, threads, err, sizeof err);
    CHECK(r->pool != NULL);
    if (!r->pool)
        return -1;
    CHECK(sl_syncpool_threads(r->pool) == threads);
    for (int i = 0; i < NMEMBERS; i++) {
        member *m = &r->m[i];
        snprintf(path, sizeof path, "%s/seg%d", r->dir, i);
        m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        CHECK(m->fd >= 0 && m->fd < 4096);
        m->y = sl_syncer_new(r->pool, NULL, r->dir_fd, r->prog_fd, on_member,
                             m, err, sizeof err);
        CHECK(m->y != NULL);
        if (!m->y)
            return -1;
    }
    return 0;
}

static void pool_close(pool_rig *r)
{
    for (int i = 0; i < NMEMBERS; i++) {
        sl_syncer_free(r->m[i].y);
        if (r->m[i].fd > 0)
            close(r->m[i].fd);
    }
    sl_syncpool_free(r->pool);
    close(r->prog_fd);
    close(r->dir_fd);
    event_base_free(r->base);
    sl_test_rm_rf(r->dir);
}

static pool_rig *cur_pool;
static int all_reached(void)
{
    for (int i = 0; i < NMEMBERS; i++)
        if (cur_pool->m[i].lsn < (uint64_t)(i + 1) * 100)
            return 0;
    return 1;
}

/* Each spool has its own numbered rounds and hears its own LSN, synced
 * on its own descriptor; the pool has its threads, not one per spool. */
static void test_pool_rounds_per_spool(void)
{
    pool_rig r;
    if (pool_open(&r, 2) != 0)
        goto out;
    cur_pool = &r;
    int before[NMEMBERS];
    for (int i = 0; i < NMEMBERS; i++) {
        before[i] = atomic_load(&synced_fd[r.m[i].fd]);
        CHECK(sl_syncer_request(r.m[i].y, r.m[i].fd, 50, -1, 0) == 1);
    }
    for (int i = 0; i < NMEMBERS; i++) /* the second round of each */
        CHECK(sl_syncer_request(r.m[i].y, r.m[i].fd, (uint64_t)(i + 1) * 100,
                                -1, 0) == 2);
    for (int i = 0; i < NMEMBERS; i++)
        CHECK(sl_syncer_wait(r.m[i].y, 2) == 0);
    CHECK(loop_until(r.base, all_reached) == 0);
    for (int i = 0; i < NMEMBERS; i++) {
        CHECK(r.m[i].lsn == (uint64_t)(i + 1) * 100 && r.m[i].errs == 0);
        CHECK(atomic_load(&synced_fd[r.m[i].fd]) > before[i]);
    }
    CHECK(atomic_load(&twice_at_once) == 0);
out:
    pool_close(&r);
}

static int m0_heard(void) { return cur_pool->m[0].calls > 0; }
static int m1_heard(void) { return cur_pool->m[1].calls > 0; }
static int m1_heard_60(void) { return cur_pool->m[1].lsn >= 60; }
static int any_member_heard(void) { return m0_heard() || m1_heard(); }

/* A failing fdatasync is reported to the spool whose descriptor failed,
 * and to no other. */
static void test_pool_error_to_its_spool(void)
{
    pool_rig r;
    if (pool_open(&r, 2) != 0)
        goto out;
    cur_pool = &r;
    atomic_store(&fail_fd, r.m[0].fd);
    uint64_t g0 = sl_syncer_request(r.m[0].y, r.m[0].fd, 40, -1, 0);
    uint64_t g1 = sl_syncer_request(r.m[1].y, r.m[1].fd, 60, -1, 0);
    CHECK(sl_syncer_wait(r.m[0].y, g0) == EIO);
    CHECK(sl_syncer_wait(r.m[1].y, g1) == 0);
    atomic_store(&fail_fd, -1);
    CHECK(loop_until(r.base, m0_heard) == 0);
    CHECK(loop_until(r.base, m1_heard_60) == 0);
    CHECK(r.m[0].errs == 1 && r.m[0].last_err == EIO);
    CHECK(r.m[1].errs == 0 && r.m[1].lsn == 60);
out:
    pool_close(&r);
}

static void stall(int fd)
{
    pthread_mutex_lock(&stall_mu);
    stall_fd = fd;
    stalled = 0;
    pthread_mutex_unlock(&stall_mu);
}

static void wait_stalled(void)
{
    pthread_mutex_lock(&stall_mu);
    while (!stalled)
        pthread_cond_wait(&stall_cv, &stall_mu);
    pthread_mutex_unlock(&stall_mu);
}

static void release(void)
{
    pthread_mutex_lock(&stall_mu);
    stall_fd = -1;
    pthread_cond_broadcast(&stall_cv);
    pthread_mutex_unlock(&stall_mu);
}

/* One spool's disk stalls inside fdatasync: another spool's rounds still
 * run on the pool's other thread, and the stalled spool's next round
 * waits for its first (never two of one spool at once). */
static void test_pool_stall_holds_up_only_its_spool(void)
{
    pool_rig r;
    if (pool_open(&r, 2) != 0)
        goto out;
    cur_pool = &r;
    stall(r.m[0].fd);
    sl_syncer_request(r.m[0].y, r.m[0].fd, 10, -1, 0);
    wait_stalled();
    uint64_t again = sl_syncer_request(r.m[0].y, r.m[0].fd, 20, -1, 0);
    for (int k = 1; k <= 3; k++) { /* rounds of another spool, one by one */
        uint64_t g = sl_syncer_request(r.m[1].y, r.m[1].fd, (uint64_t)k * 30,
                                       -1, 0);
        CHECK(sl_syncer_wait(r.m[1].y, g) == 0);
    }
    CHECK(loop_until(r.base, m1_heard) == 0);
    CHECK(r.m[1].lsn == 90);
    CHECK(r.m[0].calls == 0);                   /* still stalled */
    CHECK(atomic_load(&inside_fd[r.m[0].fd]) == 1);
    release();
    CHECK(sl_syncer_wait(r.m[0].y, again) == 0);
    CHECK(loop_until(r.base, m0_heard) == 0);
    CHECK(atomic_load(&twice_at_once) == 0);
out:
    release();
    pool_close(&r);
}

/* A report frees its own syncer and another whose round is done and
 * waiting to be reported: nothing is reported to either after (ASan:
 * nothing freed is touched), and the pool goes on serving the rest. */
static void test_pool_free_inside_report(void)
{
    pool_rig r;
    if (pool_open(&r, 2) != 0)
        goto out;
    cur_pool = &r;
    member *both[] = {&r.m[0], &r.m[1], NULL};
    r.m[0].free_all = r.m[1].free_all = both;
    uint64_t g0 = sl_syncer_request(r.m[0].y, r.m[0].fd, 10, -1, 0);
    uint64_t g1 = sl_syncer_request(r.m[1].y, r.m[1].fd, 20, -1, 0);
    CHECK(sl_syncer_wait(r.m[0].y, g0) == 0);
    CHECK(sl_syncer_wait(r.m[1].y, g1) == 0); /* both wait to be reported */
    CHECK(loop_until(r.base, any_member_heard) == 0);
    for (int i = 0; i < 20; i++)
        event_base_loop(r.base, EVLOOP_NONBLOCK);
    CHECK(r.m[0].y == NULL && r.m[1].y == NULL);
    CHECK(r.m[0].calls + r.m[1].calls == 1 && members_after_free == 0);
    uint64_t g2 = sl_syncer_request(r.m[2].y, r.m[2].fd, 30, -1, 0);
    CHECK(sl_syncer_wait(r.m[2].y, g2) == 0);
    while (r.m[2].calls == 0)
        event_base_loop(r.base, EVLOOP_ONCE);
    CHECK(r.m[2].lsn == 30);
out:
    pool_close(&r);
}

/* Hostile sizes: a pool of no thread, or of thousands, is refused. */
static void test_pool_bounds(void)
{
    struct event_base *base = event_base_new();
    char err[256] = "";
    CHECK(sl_syncpool_new(base, 0, err, sizeof err) == NULL);
    CHECK(strstr(err, "1..64") != NULL);
    CHECK(sl_syncpool_new(base, 100000, err, sizeof err) == NULL);
    unsigned d = sl_syncpool_default_threads();
    CHECK(d >= 2 && d <= 8);
    sl_syncpool_free(NULL);
    event_base_free(base);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
        {"close_inside_failed_report", test_close_inside_failed_report},
        {"close_inside_durable_report", test_close_inside_durable_report},
        {"close_inside_synced_report", test_close_inside_synced_report},
        {"rounds", test_rounds},
        {"old_fds", test_old_fds},
        {"error_reported_once", test_error_reported_once},
        {"stop_inside_report", test_stop_inside_report},
        {"unlink_later", test_unlink_later},
        {"pool_rounds_per_spool", test_pool_rounds_per_spool},
        {"pool_error_to_its_spool", test_pool_error_to_its_spool},
        {"pool_stall_holds_up_only_its_spool",
         test_pool_stall_holds_up_only_its_spool},
        {"pool_free_inside_report", test_pool_free_inside_report},
        {"pool_bounds", test_pool_bounds},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
