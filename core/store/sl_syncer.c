/* sl_syncer: a spool's rounds of group commit, run by the sync pool's
 * threads, and what they share with the loop under the syncer's mutex.
 *
 * Two kinds of job, each a job of the pool:
 * - data rounds (SL_SYNCER_DEPTH slots): the segments and the directory,
 *   what an acknowledgement waits for. A round takes every request made
 *   before it began; while one slot's round is in fdatasync the next
 *   request starts the other slot's, so a request waits for one round,
 *   not for the rest of the one in flight and then its own. Rounds may
 *   finish out of order; they are retired in order (a round's LSN is
 *   durable once it and every older round are done: an older one may hold
 *   a rolled segment or the directory that the newer one's data needs).
 * - the metadata round: the progress file and the arrival marks, which no
 *   acknowledgement waits for (they only save redeliveries and ages after
 *   a crash), so their fdatasync does not lengthen the data rounds. */
#include "sl_syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_syncpool.h"

#define MAX_FDS 64

/* a spool with a stalled disk leaves a gateway's pool a thread */
_Static_assert(SL_SYNCER_DEPTH < SL_SYNCPOOL_MIN_DEFAULT,
               "sync pool too small for the rounds in flight");

enum slot_state {
    IDLE,                       /* free for a request */
    SUBMITTED,                  /* queued or running on the pool */
    WAITING                     /* its round is done, an older one not */
};

typedef struct slot {
    sl_syncpool_job job;        /* first: a job is its slot */
    struct sl_syncer *y;
    /* under y->mu: */
    enum slot_state state;      /* the metadata slot: IDLE or SUBMITTED */
    int active;                 /* took a round not yet retired */
    int finished;               /* ... and it is done */
    uint64_t gen, target;       /* the round taken: number, LSN */
} slot;

struct sl_syncer {
    slot data[SL_SYNCER_DEPTH];
    slot meta;                  /* uses job, y, state */
    sl_syncpool *pool;          /* borrowed, or own */
    sl_syncpool *own;           /* started for this syncer alone, or NULL */
    pthread_mutex_t mu;         /* the rest, shared with pool threads */
    pthread_cond_t done_cv;     /* broadcast when a round is done */
    uint64_t gen_req, gen_taken, gen_done; /* data rounds */
    uint64_t meta_req, meta_taken, meta_done; /* metadata rounds */
    uint64_t req_lsn;           /* make durable up to here */
    uint64_t done_lsn;          /* durable up to here */
    int cur_fd;                 /* segment being appended */
    int old_fds[MAX_FDS];       /* rolled segments: sync, then close */
    size_t nold;
    int meta_fds[MAX_FDS];      /* arrival marks' copies: sync, close */
    size_t nmeta;
    int sync_dir;               /* a segment was created: fsync the dir */
    int sync_prog;              /* progress was written */
    int err;                    /* errno of a failed sync, once */
    int dir_fd, prog_fd;        /* borrowed */
    sl_syncer_report_fn report; /* on the loop, for each finished run */
    void *ud;
};

static void note_err(int *err)
{
    if (!*err)
        *err = errno;
}

/* fdatasync and close each of fds[0..n), on a pool thread. */
static void sync_close_all(const int *fds, size_t n, int *err)
{
    for (size_t i = 0; i < n; i++) {
        if (fdatasync(fds[i]) != 0)
            note_err(err);
        close(fds[i]);
    }
}

/* Move a list the loop fills to the thread's own array. Under y->mu. */
static size_t take_fds(int *to, int *from, size_t *n)
{
    size_t k = *n;
    memcpy(to, from, k * sizeof *to);
    *n = 0;
    return k;
}

/* The first failure since the last report is the one reported. Under
 * y->mu. */
static void keep_err(sl_syncer *y, int err)
{
    if (err && !y->err)
        y->err = err;
}

/* Retire finished rounds, oldest first, up to the first still running.
 * Under y->mu. A slot that was waiting for an older one becomes free. */
static void retire(sl_syncer *y)
{
    for (;;) {
        slot *oldest = NULL;
        for (int i = 0; i < SL_SYNCER_DEPTH; i++)
            if (y->data[i].active &&
                (!oldest || y->data[i].gen < oldest->gen))
                oldest = &y->data[i];
        if (!oldest || !oldest->finished)
            return;
        if (oldest->target > y->done_lsn)
            y->done_lsn = oldest->target;
        y->gen_done = oldest->gen;
        oldest->active = oldest->finished = 0;
        if (oldest->state == WAITING)
            oldest->state = IDLE;
    }
}

/* End of a slot's run, under y->mu: run again if there is more to take
 * (behind every other job waiting: 1, to resubmit), else free. */
static int next_run(slot *s, uint64_t req, uint64_t taken)
{
    if (req > taken)
        return 1;
    s->state = IDLE;
    return 0;
}

/* sl_syncpool_job.run of a data slot: one round, on a pool thread. A slot
 * whose round another slot took finds nothing to do. */
static void run_data(sl_syncpool_job *j)
{
    slot *s = (slot *)j;
    sl_syncer *y = s->y;
    pthread_mutex_lock(&y->mu);
    if (y->gen_req == y->gen_taken) {
        s->state = IDLE;
        pthread_mutex_unlock(&y->mu);
        return;
    }
    s->gen = y->gen_taken = y->gen_req;
    s->target = y->req_lsn;
    s->active = 1;
    /* a copy of the segment's descriptor: the loop may roll the segment
     * and a newer round sync and close the original meanwhile */
    int fd = y->cur_fd >= 0 ? dup(y->cur_fd) : -1;
    int dir = y->sync_dir, err = fd < 0 && y->cur_fd >= 0 ? errno : 0;
    int old[MAX_FDS];
    size_t nold = take_fds(old, y->old_fds, &y->nold);
    y->sync_dir = 0;
    pthread_mutex_unlock(&y->mu);

    sync_close_all(old, nold, &err);
    if (fd >= 0) {
        if (fdatasync(fd) != 0)
            note_err(&err);
        close(fd);
    }
    if (dir && fsync(y->dir_fd) != 0)
        note_err(&err);

    pthread_mutex_lock(&y->mu);
    s->finished = 1;
    retire(y);
    keep_err(y, err);
    int again = 0;
    if (s->active)
        s->state = WAITING; /* the older round retires this one */
    else
        again = next_run(s, y->gen_req, y->gen_taken);
    pthread_cond_broadcast(&y->done_cv);
    pthread_mutex_unlock(&y->mu);
    if (again)
        sl_syncpool_submit(y->pool, &s->job);
}

/* sl_syncpool_job.run of the metadata slot. */
static void run_meta(sl_syncpool_job *j)
{
    slot *s = (slot *)j;
    sl_syncer *y = s->y;
    pthread_mutex_lock(&y->mu);
    if (y->meta_req == y->meta_taken) {
        s->state = IDLE;
        pthread_mutex_unlock(&y->mu);
        return;
    }
    uint64_t gen = y->meta_taken = y->meta_req;
    int prog = y->sync_prog, fds[MAX_FDS];
    size_t n = take_fds(fds, y->meta_fds, &y->nmeta);
    y->sync_prog = 0;
    pthread_mutex_unlock(&y->mu);

    int err = 0;
    sync_close_all(fds, n, &err);
    if (prog && fdatasync(y->prog_fd) != 0)
        note_err(&err);

    pthread_mutex_lock(&y->mu);
    y->meta_done = gen;
    keep_err(y, err);
    int again = next_run(s, y->meta_req, y->meta_taken);
    pthread_cond_broadcast(&y->done_cv);
    pthread_mutex_unlock(&y->mu);
    if (again)
        sl_syncpool_submit(y->pool, &s->job);
}

/* sl_syncpool_job.report: on the loop, after one or more runs. */
static void report_rounds(sl_syncpool_job *j)
{
    sl_syncer *y = ((slot *)j)->y;
    pthread_mutex_lock(&y->mu);
    uint64_t done = y->done_lsn;
    int err = y->err;
    y->err = 0;
    pthread_mutex_unlock(&y->mu);
    y->report(y->ud, done, err); /* last: it may free y */
}

static void slot_init(slot *s, sl_syncer *y, void (*run)(sl_syncpool_job *))
{
    s->job.run = run;
    s->job.report = report_rounds;
    s->y = y;
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
    if (!pool && !(pool = y->own = sl_syncpool_new(base, SL_SYNCER_DEPTH,
                                                   err, errlen))) {
        free(y);
        return NULL;
    }
    for (int i = 0; i < SL_SYNCER_DEPTH; i++)
        slot_init(&y->data[i], y, run_data);
    slot_init(&y->meta, y, run_meta);
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
    /* no report from here on; a slot only ever resubmits itself, so once
     * each is idle none runs again */
    for (int i = 0; i < SL_SYNCER_DEPTH; i++)
        sl_syncpool_cancel(y->pool, &y->data[i].job);
    sl_syncpool_cancel(y->pool, &y->meta.job);
    sl_syncpool_free(y->own);
    pthread_cond_destroy(&y->done_cv);
    pthread_mutex_destroy(&y->mu);
    free(y);
}

/* Room for one more descriptor in a list the threads empty: wait for them
 * when they are far behind (never close a descriptor here that a thread
 * may be syncing); the round that empties it is submitted already. */
static void wait_room(sl_syncer *y, const size_t *n)
{
    while (*n == MAX_FDS)
        pthread_cond_wait(&y->done_cv, &y->mu);
}

/* A free slot to submit (marked SUBMITTED), or NULL: none is free, and
 * the oldest one running takes the request when its run ends. Under
 * y->mu. */
static slot *take_slot(slot *slots, int n)
{
    for (int i = 0; i < n; i++)
        if (slots[i].state == IDLE) {
            slots[i].state = SUBMITTED;
            return &slots[i];
        }
    return NULL;
}

uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also)
{
    pthread_mutex_lock(&y->mu);
    if (old_fd >= 0) {
        wait_room(y, &y->nold);
        y->old_fds[y->nold++] = old_fd;
    }
    y->cur_fd = cur_fd;
    slot *s = NULL, *m = NULL;
    if (lsn > y->req_lsn || old_fd >= 0 || (also & SL_SYNCER_DIR)) {
        if (lsn > y->req_lsn)
            y->req_lsn = lsn;
        if (also & SL_SYNCER_DIR)
            y->sync_dir = 1;
        y->gen_req++;
        s = take_slot(y->data, SL_SYNCER_DEPTH);
    } /* else nothing new for the data: the last round asked covers it */
    uint64_t gen = y->gen_req;
    if (also & SL_SYNCER_PROGRESS) {
        y->sync_prog = 1;
        y->meta_req++;
        m = take_slot(&y->meta, 1);
    }
    pthread_mutex_unlock(&y->mu);
    if (s)
        sl_syncpool_submit(y->pool, &s->job);
    if (m)
        sl_syncpool_submit(y->pool, &m->job);
    return gen;
}

void sl_syncer_sync_close(sl_syncer *y, int fd)
{
    pthread_mutex_lock(&y->mu);
    wait_room(y, &y->nmeta);
    y->meta_fds[y->nmeta++] = fd;
    y->meta_req++;
    slot *m = take_slot(&y->meta, 1);
    pthread_mutex_unlock(&y->mu);
    if (m)
        sl_syncpool_submit(y->pool, &m->job);
}

int sl_syncer_wait(sl_syncer *y, uint64_t round)
{
    pthread_mutex_lock(&y->mu);
    uint64_t meta = y->meta_req;
    while (y->gen_done < round || y->meta_done < meta)
        pthread_cond_wait(&y->done_cv, &y->mu);
    int err = y->err;
    pthread_mutex_unlock(&y->mu);
    return err;
}

int sl_syncer_unlink_later(sl_syncer *y, const char *path)
{
    return sl_syncpool_unlink_later(y->pool, &y->data[0].job, path);
}
