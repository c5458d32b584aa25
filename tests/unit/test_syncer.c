/* Unit tests for sl_syncer (a spool's rounds of group commit on the sync
 * pool) and the reports it carries back to the loop: the spool's owner
 * hears "durable up to LSN" (or "failed above LSN") through the spool's
 * callbacks. A callback may close the spool from inside the report (an
 * owner tearing down on a disk error); nothing may touch the freed spool
 * after it returns (run under ASan to see it). fdatasync is replaced in
 * this executable (sl_test_disk.h) so that a test can make it fail, or
 * stall, on demand. Several spools on one pool: test_syncpool. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_frame.h"
#include "sl_log.h"
#include "sl_spool.h"
#include "sl_syncer.h"
#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_disk.h"
/* ---- helpers ------------------------------------------------------------ */

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
    CHECK(sl_spool_append(s, &blk, n, disk_now_ms(), &t) == SL_SPOOL_OK);
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

static int heard_failure(void) { return own.failed_calls > 0; }
static int heard_durable(void) { return own.durable_calls > 0; }

/* ---- the spool's reports: a callback that closes the spool ------------- */

/* fsync mode: the sync thread's fdatasync fails; the spool tells the
 * owner, who closes the spool inside on_failed. */
static void test_close_inside_failed_report(void)
{
    const char *dir = disk_tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC);
    CHECK(s != NULL);
    if (!s)
        goto out;
    own.close_on_failed = 1;
    atomic_store(&fail_syncs, 1);
    uint64_t t = append(s, 3);
    CHECK(t > 0);
    CHECK(disk_loop_until(base, heard_failure) == 0);
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
    const char *dir = disk_tmp_dir();
    struct event_base *base = event_base_new();
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t t1 = append(s, 2);
    CHECK(disk_loop_until(base, heard_durable) == 0);
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
    CHECK(sl_spool_append(s, &blk, 1, disk_now_ms(), &t3) == SL_SPOOL_OK);
    sl_buf_free(&blk);
    own.close_on_durable = 1;
    CHECK(disk_loop_until(base, heard_durable) == 0);
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
    const char *dir = disk_tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC);
    CHECK(s != NULL);
    if (!s)
        goto out;
    own.close_on_durable = 1;
    uint64_t t = append(s, 5);
    CHECK(disk_loop_until(base, heard_durable) == 0);
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
    snprintf(r->dir, sizeof r->dir, "%s", disk_tmp_dir());
    char path[128];
    r->base = event_base_new();
    r->dir_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/progress", r->dir);
    r->prog_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    snprintf(path, sizeof path, "%s/seg", r->dir);
    r->seg_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    CHECK(r->base && r->dir_fd >= 0 && r->prog_fd >= 0 && r->seg_fd >= 0);
    disk_watch_reset();
    disk_watch(r->seg_fd);
    disk_watch(r->prog_fd);
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

/* Open (create) the file `name` in the rig's directory for writing. */
static int rig_file(const rig *r, const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", r->dir, name);
    return open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
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
    CHECK(disk_loop_until(r.base, reached) == 0);
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
    CHECK(disk_loop_until(r.base, reached) == 0);
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
        char name[16];
        snprintf(name, sizeof name, "old%d", i);
        fds[i] = rig_file(&r, name);
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
    CHECK(disk_loop_until(r.base, reached) == 0);
    rig_close(&r);
}

/* Wait (up to 5 s) until fd's file has been synced more than `before`
 * times; 0, or -1. */
static int synced_past(int fd, int before)
{
    uint64_t t0 = disk_now_ms();
    while (atomic_load(&synced_fd[fd]) <= before) {
        if (disk_now_ms() - t0 > 5000)
            return -1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return 0;
}

/* Rounds overlap and retire in order: while a round is stuck in the
 * fdatasync of a rolled segment, the next request's round starts and
 * syncs the current segment at once, but its LSN is reported only once
 * the older round is done too (the rolled segment holds records below
 * it). */
static void test_rounds_overlap(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    int old = rig_file(&r, "rolled");
    CHECK(old >= 0 && write(old, "x", 1) == 1);
    disk_watch(old);
    disk_stall(old);
    CHECK(write(r.seg_fd, "0123456789", 10) == 10);
    uint64_t g1 = sl_syncer_request(hy.y, r.seg_fd, 10, old, 0);
    disk_wait_stalled(1);
    int seg0 = atomic_load(&synced_fd[r.seg_fd]);
    CHECK(write(r.seg_fd, "0123456789", 10) == 10);
    uint64_t g2 = sl_syncer_request(hy.y, r.seg_fd, 20, -1, 0);
    CHECK(g2 == g1 + 1);
    CHECK(synced_past(r.seg_fd, seg0) == 0); /* the second round ran */
    for (int i = 0; i < 50; i++) {
        event_base_loop(r.base, EVLOOP_NONBLOCK);
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    CHECK(hy.lsn == 0); /* held: the older round is not done */
    CHECK(atomic_load(&inside_fd[old]) == 1);
    disk_release();
    CHECK(sl_syncer_wait(hy.y, g2) == 0);
    want_lsn = 20;
    CHECK(disk_loop_until(r.base, reached) == 0);
    CHECK(hy.lsn == 20 && hy.errs == 0 && hy.backwards == 0);
    CHECK(fcntl(old, F_GETFD) == -1); /* synced and closed */
    rig_close(&r);
}

/* The progress file is synced in a round of its own: the data's LSN is
 * reported while its fdatasync is stuck; sl_syncer_wait waits for it. */
static void test_progress_apart(void)
{
    rig r;
    if (rig_open(&r) != 0)
        return;
    int prog0 = atomic_load(&synced_fd[r.prog_fd]);
    disk_stall(r.prog_fd);
    CHECK(write(r.seg_fd, "0123456789", 10) == 10);
    uint64_t g = sl_syncer_request(hy.y, r.seg_fd, 10, -1,
                                   SL_SYNCER_PROGRESS);
    disk_wait_stalled(1);
    want_lsn = 10;
    CHECK(disk_loop_until(r.base, reached) == 0); /* not held */
    CHECK(atomic_load(&inside_fd[r.prog_fd]) == 1);
    /* the arrival marks' copy goes with the progress */
    int marks = rig_file(&r, "arrivals");
    CHECK(marks >= 0);
    disk_watch(marks);
    int marks0 = atomic_load(&synced_fd[marks]);
    sl_syncer_sync_close(hy.y, marks);
    disk_release();
    CHECK(sl_syncer_wait(hy.y, g) == 0);
    CHECK(atomic_load(&synced_fd[r.prog_fd]) == prog0 + 1);
    CHECK(atomic_load(&synced_fd[marks]) == marks0 + 1);
    CHECK(fcntl(marks, F_GETFD) == -1); /* closed by the thread */
    /* nothing new for the data: no data round, the last one's number */
    int seg0 = atomic_load(&synced_fd[r.seg_fd]);
    CHECK(sl_syncer_request(hy.y, r.seg_fd, 10, -1, SL_SYNCER_PROGRESS) == g);
    CHECK(sl_syncer_wait(hy.y, g) == 0);
    CHECK(atomic_load(&synced_fd[r.seg_fd]) == seg0);
    CHECK(atomic_load(&synced_fd[r.prog_fd]) == prog0 + 2);
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
    CHECK(disk_loop_until(r.base, any_report) == 0);
    CHECK(hy.errs == 1 && hy.last_err == EIO && hy.lsn == 50);
    CHECK(sl_syncer_wait(hy.y, g) == 0); /* reported: cleared */
    g = sl_syncer_request(hy.y, r.seg_fd, 60, -1, 0);
    want_lsn = 60;
    CHECK(disk_loop_until(r.base, reached) == 0);
    CHECK(hy.errs == 1 && hy.last_err == 0);
    /* a descriptor fdatasync refuses (a pipe: EINVAL) */
    int p[2];
    CHECK(pipe(p) == 0);
    g = sl_syncer_request(hy.y, p[0], 70, -1, 0);
    want_lsn = 70;
    CHECK(disk_loop_until(r.base, reached) == 0);
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
    int old = rig_file(&r, "old");
    CHECK(old >= 0);
    char doomed[128];
    snprintf(doomed, sizeof doomed, "%s/0000000000000000.seg", r.dir);
    int fd = open(doomed, O_WRONLY | O_CREAT | O_CLOEXEC, 0640);
    CHECK(fd >= 0 && ftruncate(fd, 9 << 20) == 0); /* shrunk in steps */
    close(fd);
    hy.stop_in_report = 1;
    sl_syncer_request(hy.y, r.seg_fd, 10, old, 0);
    CHECK(sl_syncer_unlink_later(hy.y, doomed) == 0);
    CHECK(disk_loop_until(r.base, any_report) == 0);
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

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
        {"close_inside_failed_report", test_close_inside_failed_report},
        {"close_inside_durable_report", test_close_inside_durable_report},
        {"close_inside_synced_report", test_close_inside_synced_report},
        {"rounds", test_rounds},
        {"old_fds", test_old_fds},
        {"rounds_overlap", test_rounds_overlap},
        {"progress_apart", test_progress_apart},
        {"error_reported_once", test_error_reported_once},
        {"stop_inside_report", test_stop_inside_report},
        {"unlink_later", test_unlink_later},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
