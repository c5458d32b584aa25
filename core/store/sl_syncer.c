/* sl_syncer: the spool's sync (group commit) and segment-deleting
 * threads, and what they share with the loop under one mutex. */
#include "sl_syncer.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_log.h"

#define MAX_OLD_FDS 64

struct sl_syncer {              /* shared with the threads, under mu */
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t done_cv;     /* broadcast when a round is done */
    int stop;
    uint64_t gen_req, gen_done; /* rounds asked for / finished */
    uint64_t gen_taken;         /* the last round the thread began */
    uint64_t req_lsn;           /* make durable up to here */
    uint64_t done_lsn;          /* durable up to here */
    int cur_fd;                 /* segment being appended */
    int old_fds[MAX_OLD_FDS];   /* rolled segments: sync, then close */
    size_t nold;
    int sync_dir;               /* a segment was created: fsync the dir */
    int sync_prog;              /* progress was written */
    int err;                    /* errno of a failed sync, once */
    int dir_fd, prog_fd;        /* borrowed */
    char **unlinks;             /* delivered segments to delete */
    size_t nunlink, capunlink;
    pthread_t del_th;           /* deletes them: unlinking 64 MiB takes
                                   ~50 ms, which must hold up neither the
                                   loop nor a group commit */
    pthread_cond_t del_cv;
    int pipe[2];                /* thread -> loop: "done moved" */
    struct event *ev;           /* the loop's watch on pipe[0] */
    sl_syncer_report_fn report; /* on the loop, for each wakeup */
    void *ud;
};

static void *sync_main(void *arg)
{
    sl_syncer *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        /* every round asked for runs, even one that asks nothing new:
         * sl_syncer_wait may be waiting for it */
        while (!y->stop && y->gen_req == y->gen_taken)
            pthread_cond_wait(&y->cv, &y->mu);
        if (y->gen_req == y->gen_taken)
            break; /* stopping, nothing left */
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
        pthread_cond_broadcast(&y->done_cv);
        if (err && !y->err)
            y->err = err;
        char one = 1;
        ssize_t w = write(y->pipe[1], &one, 1); /* full pipe: already woken */
        (void)w;
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

/* Freeing a 64 MiB file's blocks in one unlink is one big journal
 * transaction (~50-60 ms on ext4 here), and every fdatasync of the group
 * commit waits behind it: the intake's p99 latency showed one such stall
 * per segment. Cutting the file down a few MiB at a time spreads the work
 * into small transactions. */
#define SHRINK_STEP (4u << 20)
static void shrink_then_unlink(const char *path)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat st;
        if (fstat(fd, &st) == 0) {
            off_t size = st.st_size;
            while (size > (off_t)SHRINK_STEP) {
                size -= SHRINK_STEP;
                if (ftruncate(fd, size) != 0)
                    break;
                struct timespec pause = {0, 2 * 1000 * 1000};
                nanosleep(&pause, NULL);
            }
        }
        close(fd);
    }
    if (unlink(path) != 0 && errno != ENOENT)
        sl_log_warn("spool", "cannot delete %s: %s", path, strerror(errno));
}

static void *delete_main(void *arg)
{
    sl_syncer *y = arg;
    pthread_mutex_lock(&y->mu);
    for (;;) {
        while (!y->stop && y->nunlink == 0)
            pthread_cond_wait(&y->del_cv, &y->mu);
        if (y->nunlink == 0)
            break; /* stopping, nothing left */
        char *path = y->unlinks[--y->nunlink];
        pthread_mutex_unlock(&y->mu);
        shrink_then_unlink(path);
        free(path);
        pthread_mutex_lock(&y->mu);
    }
    pthread_mutex_unlock(&y->mu);
    return NULL;
}

/* The pipe woke the loop: drain it and report what is durable now. */
static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_syncer *y = arg;
    char drain[64];
    while (read(y->pipe[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&y->mu);
    uint64_t done = y->done_lsn;
    int err = y->err;
    y->err = 0;
    pthread_mutex_unlock(&y->mu);
    y->report(y->ud, done, err); /* last: it may stop and free y */
}

/* Stop the threads started so far (del: the delete thread too). */
static void join_threads(sl_syncer *y, int del)
{
    pthread_mutex_lock(&y->mu);
    y->stop = 1;
    pthread_cond_signal(&y->cv);
    pthread_cond_signal(&y->del_cv);
    pthread_mutex_unlock(&y->mu);
    pthread_join(y->th, NULL);
    if (del)
        pthread_join(y->del_th, NULL);
}

sl_syncer *sl_syncer_new(struct event_base *base, int dir_fd, int prog_fd,
                           sl_syncer_report_fn fn, void *ud, char *err,
                           size_t errlen)
{
    sl_syncer *y = calloc(1, sizeof *y);
    if (!y) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    y->cur_fd = -1;
    y->dir_fd = dir_fd;
    y->prog_fd = prog_fd;
    y->report = fn;
    y->ud = ud;
    if (pipe2(y->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        free(y);
        return NULL;
    }
    pthread_mutex_init(&y->mu, NULL);
    pthread_cond_init(&y->cv, NULL);
    pthread_cond_init(&y->done_cv, NULL);
    pthread_cond_init(&y->del_cv, NULL);
    if (pthread_create(&y->th, NULL, sync_main, y) != 0) {
        snprintf(err, errlen, "cannot start the fsync thread");
        goto fail;
    }
    if (pthread_create(&y->del_th, NULL, delete_main, y) != 0) {
        snprintf(err, errlen, "cannot start the segment deleting thread");
        join_threads(y, 0);
        goto fail;
    }
    y->ev = event_new(base, y->pipe[0], EV_READ | EV_PERSIST, on_notify, y);
    if (!y->ev || event_add(y->ev, NULL) != 0) {
        snprintf(err, errlen, "cannot watch the fsync thread");
        if (y->ev)
            event_free(y->ev);
        join_threads(y, 1);
        goto fail;
    }
    return y;
fail:
    pthread_mutex_destroy(&y->mu);
    pthread_cond_destroy(&y->cv);
    pthread_cond_destroy(&y->done_cv);
    pthread_cond_destroy(&y->del_cv);
    close(y->pipe[0]);
    close(y->pipe[1]);
    free(y);
    return NULL;
}

void sl_syncer_free(sl_syncer *y)
{
    if (!y)
        return;
    event_free(y->ev); /* no report from here on */
    join_threads(y, 1);
    pthread_mutex_destroy(&y->mu);
    pthread_cond_destroy(&y->cv);
    pthread_cond_destroy(&y->done_cv);
    pthread_cond_destroy(&y->del_cv);
    for (size_t i = 0; i < y->nunlink; i++) { /* none: the thread drains */
        unlink(y->unlinks[i]);
        free(y->unlinks[i]);
    }
    free(y->unlinks);
    close(y->pipe[0]);
    close(y->pipe[1]);
    free(y);
}

uint64_t sl_syncer_request(sl_syncer *y, int cur_fd, uint64_t lsn, int old_fd,
                           unsigned also)
{
    pthread_mutex_lock(&y->mu);
    if (old_fd >= 0) {
        /* the thread is far behind: wait for it (never close an fd here
         * that it may be syncing) */
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
    pthread_cond_signal(&y->cv);
    pthread_mutex_unlock(&y->mu);
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
    char *copy = strdup(path);
    if (!copy)
        return -1;
    pthread_mutex_lock(&y->mu);
    if (y->nunlink == y->capunlink) {
        size_t nc = y->capunlink ? y->capunlink * 2 : 8;
        char **nu = realloc(y->unlinks, nc * sizeof *nu);
        if (!nu) {
            pthread_mutex_unlock(&y->mu);
            free(copy);
            return -1;
        }
        y->unlinks = nu;
        y->capunlink = nc;
    }
    y->unlinks[y->nunlink++] = copy;
    pthread_cond_signal(&y->del_cv);
    pthread_mutex_unlock(&y->mu);
    return 0;
}
