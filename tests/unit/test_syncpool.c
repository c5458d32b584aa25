/* Unit tests for sl_syncpool, the sync threads every spool shares, with
 * several spools' syncers (sl_syncer) on one pool: each spool's rounds
 * and reports are its own, a failing or stalled disk holds up only its
 * spool, a report may free syncers, and the pool's size is bounded.
 * fdatasync is replaced in this executable (sl_test_disk.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_log.h"
#include "sl_syncer.h"
#include "sl_syncpool.h"
#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_disk.h"

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
    snprintf(r->dir, sizeof r->dir, "%s", disk_tmp_dir());
    char path[128], err[256] = "";
    r->base = event_base_new();
    r->dir_fd = open(r->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    snprintf(path, sizeof path, "%s/progress", r->dir);
    r->prog_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    CHECK(r->base && r->dir_fd >= 0 && r->prog_fd >= 0);
    disk_watch_reset();
    r->pool = sl_syncpool_new(r->base, threads, err, sizeof err);
    CHECK(r->pool != NULL);
    if (!r->pool)
        return -1;
    CHECK(sl_syncpool_threads(r->pool) == threads);
    for (int i = 0; i < NMEMBERS; i++) {
        member *m = &r->m[i];
        snprintf(path, sizeof path, "%s/seg%d", r->dir, i);
        m->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
        CHECK(m->fd >= 0 && m->fd < DISK_FDS);
        disk_watch(m->fd);
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
    CHECK(disk_loop_until(r.base, all_reached) == 0);
    for (int i = 0; i < NMEMBERS; i++) {
        CHECK(r.m[i].lsn == (uint64_t)(i + 1) * 100 && r.m[i].errs == 0);
        CHECK(atomic_load(&synced_fd[r.m[i].fd]) > before[i]);
    }
out:
    pool_close(&r);
}

static int m0_heard(void) { return cur_pool->m[0].calls > 0; }
static int m1_heard(void) { return cur_pool->m[1].calls > 0; }
static int m1_heard_60(void) { return cur_pool->m[1].lsn >= 60; }
static int m0_30(void) { return cur_pool->m[0].lsn >= 30; }
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
    CHECK(disk_loop_until(r.base, m0_heard) == 0);
    CHECK(disk_loop_until(r.base, m1_heard_60) == 0);
    CHECK(r.m[0].errs == 1 && r.m[0].last_err == EIO);
    CHECK(r.m[1].errs == 0 && r.m[1].lsn == 60);
out:
    pool_close(&r);
}

/* One spool's disk stalls inside fdatasync: its two rounds in flight
 * (SL_SYNCER_DEPTH) hold two of the pool's three threads, another spool's
 * rounds still run on the third, and the stalled spool hears nothing
 * until its disk comes back. */
static void test_pool_stall_holds_up_only_its_spool(void)
{
    pool_rig r;
    if (pool_open(&r, SL_SYNCER_DEPTH + 1) != 0)
        goto out;
    cur_pool = &r;
    disk_stall(r.m[0].fd);
    sl_syncer_request(r.m[0].y, r.m[0].fd, 10, -1, 0);
    disk_wait_stalled(1);
    uint64_t again = sl_syncer_request(r.m[0].y, r.m[0].fd, 20, -1, 0);
    disk_wait_stalled(SL_SYNCER_DEPTH); /* the next round started too */
    uint64_t more = sl_syncer_request(r.m[0].y, r.m[0].fd, 30, -1, 0);
    for (int k = 1; k <= 3; k++) { /* rounds of another spool, one by one */
        uint64_t g = sl_syncer_request(r.m[1].y, r.m[1].fd, (uint64_t)k * 30,
                                       -1, 0);
        CHECK(sl_syncer_wait(r.m[1].y, g) == 0);
    }
    CHECK(disk_loop_until(r.base, m1_heard) == 0);
    CHECK(r.m[1].lsn == 90);
    CHECK(r.m[0].calls == 0);                   /* still stalled */
    CHECK(atomic_load(&inside_fd[r.m[0].fd]) == SL_SYNCER_DEPTH);
    disk_release();
    CHECK(sl_syncer_wait(r.m[0].y, again) == 0);
    CHECK(sl_syncer_wait(r.m[0].y, more) == 0); /* taken when one ended */
    CHECK(disk_loop_until(r.base, m0_30) == 0);
out:
    disk_release();
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
    CHECK(disk_loop_until(r.base, any_member_heard) == 0);
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
    CHECK(d >= SL_SYNCER_DEPTH + 1 && d >= SL_SYNCPOOL_MIN_DEFAULT && d <= 8);
    sl_syncpool_free(NULL);
    event_base_free(base);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
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
