/* sl_syncer: a spool's rounds of group commit, run by the sync pool's
 * threads, and what they share with the loop under the syncer's mutex. */
#include "sl_syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_syncpool.h"

#define MAX_OLD_FDS 64

struct sl_syncer {
    sl_syncpool_job job;        /* first: a job is its syncer */
    sl_syncpool *pool;          /* borrowed, or own */
    sl_syncpool *own;           /* started for this syncer alone, or NULL */
    pthread_mutex_t mu;         /* the rest, shared with a pool thread */
    pthread_cond_t done_cv;     /* broadcast when a round is done */
    uint64_t gen_req, gen_done; /* rounds asked for / finished */
    uint64_t gen_taken;         /* the last round a thread began */
    uint64_t req_lsn;           /* make durable up to here */
    uint64_t done_lsn;          /* durable up to here */
    int cur_fd;                 /* segment being appended */
    int old_fds[MAX_OLD_FDS];   /* rolled segments: sync, then close */
    size_t nold;
    int sync_dir;               /* a segment was created: fsync the dir */
    int sync_prog;              /* progress was written */
    int err;                    /* errno of a failed sync, once */
    int dir_fd, prog_fd;        /* borrowed */
    sl_syncer_report_fn report; /* on the loop, for each finished run */
    void *ud;
};

/* sl_syncpool_job.run: one round, on a pool thread. Every round asked for
 * runs, even one that asks nothing new: sl_syncer_wait may be waiting for
 * it. */
static void run_round(sl_syncpool_job *j)
{
    sl_syncer *y = (sl_syncer *)j;
    pthread_mutex_lock(&y->mu);
    if (y->gen_req == y->gen_taken) { /* taken by the run before */
        pthread_mutex_unlock(&y->mu);
        return;
    }
    uint64_t target = y->req_lsn, gen = y->gen_taken = y->gen_req;
    int fd = y->cur_fd, dir = y->sync_dir, prog = y->sync_prog;
    int old[MAX_OLD_FDS];
    size_t nold = y->nold;
    memcpy(old, y->old_fds, nold * sizeof *old);
    y->nold = 0;
    y->sync_dir = y->sync_prog = 0;
    pthread_mutex_unlock(&y->mu);

    int err = 0;
    for (size_t i = 0; i < nold; i++) {
        if (fdatasync(old[i]) != 0 && !err)
            err = errno;
        close(old[i]);
    }
    if (fd >= 0 && fdatasync(fd) != 0 && !err)
        err = errno;
    if (dir && fsync(y->dir_fd) != 0 && !err)
        err = errno;
    if (prog && fdatasync(y->prog_fd) != 0 && !err)
        err = errno;

    pthread_mutex_lock(&y->mu);
    if (target > y->done_lsn)
        y->done_lsn = target;
    y->gen_done = gen;
    if (err && !y->err)
        y->err = err;
    pthread_cond_broadcast(&y->done_cv);
    pthread_mutex_unlock(&y->mu);
}

/* sl_syncpool_job.report: on the loop, after one or more rounds. */
static void report_rounds(sl_syncpool_job *j)
{
    sl_syncer *y = (sl_syncer *)j;
    pthread_mutex_lock(&y->mu);
    uint64_t done = y->done_lsn;
    int err = y->err;
    y->err = 0;
    pthread_mutex_unlock(&y->mu);
    y->report(y->ud, done, err); /* last: it may free y */
}

sl_syncer *sl_syncer_new(sl_syncpool *pool, struct event_base *base,
                         int dir_fd, int prog_fd, sl_syncer_report_fn fn,
                         void *ud, char *err, size_t errlen)
{
    sl_syncer *y = calloc(1, sizeof *y);
    if (!y) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!pool && !(pool = y->own = sl_syncpool_new(base, 1, err, errlen))) {
        free(y);
        return NULL;
    }
    y->job.run = run_round;
    y->job.report = report_rounds;
    y->pool = pool;
    y->cur_fd = -1;
    y->dir_fd = dir_fd;
    y->prog_fd = prog_fd;
    y->report = fn;
    y->ud = ud;
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->done_cv, NULL);
    return y;
}

void sl_syncer_free(sl_syncer *y)
{
    if (!y)
        return;
    sl_syncpool_cancel(y->pool, &y->job); /* no report from here on */
    sl_syncpool_free(y->own);
    pthread_cond_destroy(&y->done_cv);
    pthread_mutex_destroy(&y->mu);
    free(y);
}

uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also)
{
    pthread_mutex_lock(&y->mu);
    if (old_fd >= 0) {
        /* the thread is far behind: wait for it (never close an fd here
         * that it may be syncing); the round that empties old_fds is
         * submitted already */
        while (y->nold == MAX_OLD_FDS)
            pthread_cond_wait(&y->done_cv, &y->mu);
        y->old_fds[y->nold++] = old_fd;
    }
    y->cur_fd = cur_fd;
    if (lsn > y->req_lsn)
        y->req_lsn = lsn;
    if (also & SL_SYNCER_DIR)
        y->sync_dir = 1;
    if (also & SL_SYNCER_PROGRESS)
        y->sync_prog = 1;
    uint64_t gen = ++y->gen_req;
    pthread_mutex_unlock(&y->mu);
    sl_syncpool_submit(y->pool, &y->job);
    return gen;
}

int sl_syncer_wait(sl_syncer *y, uint64_t round)
{
    pthread_mutex_lock(&y->mu);
    while (y->gen_done < round)
        pthread_cond_wait(&y->done_cv, &y->mu);
    int err = y->err;
    pthread_mutex_unlock(&y->mu);
    return err;
}

int sl_syncer_unlink_later(sl_syncer *y, const char *path)
{
    return sl_syncpool_unlink_later(y->pool, &y->job, path);
}
