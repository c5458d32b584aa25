/* sl_syncpool: the sync threads, the delete thread and the one pipe that
 * tells the loop a job finished; what they share, under one mutex. */
#include "sl_syncpool.h"

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

#define MAX_SYNC_THREADS 64
#define DEFAULT_MIN SL_SYNCPOOL_MIN_DEFAULT
#define DEFAULT_MAX 8

typedef struct unlink_item {
    char *path;
    sl_syncpool_job *job;      /* counted on, or NULL */
} unlink_item;

struct sl_syncpool {           /* shared with the threads, under mu */
    pthread_mutex_t mu;
    pthread_cond_t work_cv;    /* a job was queued, or stop */
    pthread_cond_t idle_cv;    /* a job finished a run or a delete */
    pthread_cond_t del_cv;     /* a file was queued, or stop */
    int stop;
    pthread_t *threads;
    unsigned nthreads;         /* sync threads started */
    unsigned named;            /* the next thread's number, from 1 */
    pthread_t del_th;
    int del_started;
    sl_syncpool_job *qhead, *qtail;  /* jobs to run, oldest first */
    sl_syncpool_job *rhead, *rtail;  /* jobs to report */
    size_t nreports;
    unlink_item *unlinks;      /* files to delete, oldest first */
    size_t ulhead, nunlink, capunlink;
    int notified;              /* a byte is in the pipe, not yet read */
    int in_notify;             /* the loop is in on_notify's reports */
    int doomed;                /* freed from inside a report: on return */
    int pipe[2];               /* threads -> loop */
    struct event *ev;          /* the loop's watch on pipe[0] */
};

/* ---- the sync threads ------------------------------------------------- */

static void queue_job(sl_syncpool *p, sl_syncpool_job *j)
{
    j->queued = 1;
    j->next = NULL;
    if (p->qtail)
        p->qtail->next = j;
    else
        p->qhead = j;
    p->qtail = j;
    pthread_cond_signal(&p->work_cv);
}

static void report_later(sl_syncpool *p, sl_syncpool_job *j)
{
    if (!j->reporting) {
        j->reporting = 1;
        j->rnext = NULL;
        j->rprev = p->rtail;
        if (p->rtail)
            p->rtail->rnext = j;
        else
            p->rhead = j;
        p->rtail = j;
        p->nreports++;
    }
    if (!p->notified) {
        p->notified = 1;
        char one = 1;
        ssize_t w = write(p->pipe[1], &one, 1); /* full: woken already */
        (void)w;
    }
}

static void unreport(sl_syncpool *p, sl_syncpool_job *j)
{
    if (!j->reporting)
        return;
    if (j->rprev)
        j->rprev->rnext = j->rnext;
    else
        p->rhead = j->rnext;
    if (j->rnext)
        j->rnext->rprev = j->rprev;
    else
        p->rtail = j->rprev;
    j->reporting = 0;
    p->nreports--;
}

static void name_thread(sl_syncpool *p, const char *what)
{
    char name[16]; /* the kernel's limit, with the NUL */
    pthread_mutex_lock(&p->mu);
    unsigned n = ++p->named;
    pthread_mutex_unlock(&p->mu);
    snprintf(name, sizeof name, "%s-%u", what, n);
    (void)pthread_setname_np(pthread_self(), name); /* only for tools */
}

static void *sync_main(void *arg)
{
    sl_syncpool *p = arg;
    name_thread(p, "sl-sync");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && !p->qhead)
            pthread_cond_wait(&p->work_cv, &p->mu);
        sl_syncpool_job *j = p->qhead;
        if (!j)
            break; /* stopping, nothing left */
        if (!(p->qhead = j->next))
            p->qtail = NULL;
        j->queued = 0;
        j->running = 1;
        pthread_mutex_unlock(&p->mu);
        j->run(j);
        pthread_mutex_lock(&p->mu);
        j->running = 0;
        if (j->again) { /* behind every job already waiting */
            j->again = 0;
            queue_job(p, j);
        }
        report_later(p, j);
        pthread_cond_broadcast(&p->idle_cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the delete thread ------------------------------------------------ */

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
    sl_syncpool *p = arg;
    (void)pthread_setname_np(pthread_self(), "sl-delete");
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->nunlink == 0)
            pthread_cond_wait(&p->del_cv, &p->mu);
        if (p->nunlink == 0)
            break; /* stopping, nothing left */
        unlink_item it = p->unlinks[p->ulhead];
        p->ulhead = (p->ulhead + 1) % p->capunlink;
        p->nunlink--;
        pthread_mutex_unlock(&p->mu);
        shrink_then_unlink(it.path);
        free(it.path);
        pthread_mutex_lock(&p->mu);
        if (it.job) {
            it.job->deletes--;
            pthread_cond_broadcast(&p->idle_cv);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* ---- the loop's side -------------------------------------------------- */

/* The pipe woke the loop: report the jobs that finished, each once. Only
 * as many as were waiting when it looked, so that a busy pool cannot keep
 * the loop here. One at a time off the list, since a report may cancel
 * any job. */
static void on_notify(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_syncpool *p = arg;
    char drain[64];
    while (read(p->pipe[0], drain, sizeof drain) > 0)
        ;
    pthread_mutex_lock(&p->mu);
    p->notified = 0;
    size_t n = p->nreports;
    pthread_mutex_unlock(&p->mu);
    for (size_t i = 0; i < n; i++) {
        pthread_mutex_lock(&p->mu);
        sl_syncpool_job *j = p->rhead;
        if (j)
            unreport(p, j);
        pthread_mutex_unlock(&p->mu);
        if (!j)
            break;
        p->in_notify = 1;
        j->report(j);
        p->in_notify = 0;
        if (p->doomed) { /* a report freed the pool (a syncer's own) */
            sl_syncpool_free(p);
            return;
        }
    }
}

static void stop_threads(sl_syncpool *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->work_cv);
    pthread_cond_broadcast(&p->del_cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    if (p->del_started)
        pthread_join(p->del_th, NULL);
    p->nthreads = 0;
    p->del_started = 0;
}

unsigned sl_syncpool_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < DEFAULT_MIN)
        return DEFAULT_MIN;
    return n > DEFAULT_MAX ? DEFAULT_MAX : (unsigned)n;
}

sl_syncpool *sl_syncpool_new(struct event_base *base, unsigned nsync,
                             char *err, size_t errlen)
{
    if (nsync < 1 || nsync > MAX_SYNC_THREADS) {
        snprintf(err, errlen, "sync threads: %u is not 1..%d", nsync,
                 MAX_SYNC_THREADS);
        return NULL;
    }
    sl_syncpool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(nsync, sizeof *p->threads))) {
        snprintf(err, errlen, "out of memory");
        free(p);
        return NULL;
    }
    p->pipe[0] = p->pipe[1] = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    pthread_cond_init(&p->del_cv, NULL);
    if (pipe2(p->pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST, on_notify, p);
    if (!p->ev || event_add(p->ev, NULL) != 0) {
        snprintf(err, errlen, "cannot watch the sync threads");
        goto fail;
    }
    for (; p->nthreads < nsync; p->nthreads++) {
        int rc = pthread_create(&p->threads[p->nthreads], NULL, sync_main, p);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start a sync thread: %s",
                     strerror(rc));
            goto fail;
        }
    }
    int rc = pthread_create(&p->del_th, NULL, delete_main, p);
    if (rc != 0) {
        snprintf(err, errlen, "cannot start the segment deleting thread: %s",
                 strerror(rc));
        goto fail;
    }
    p->del_started = 1;
    return p;
fail:
    sl_syncpool_free(p);
    return NULL;
}

void sl_syncpool_free(sl_syncpool *p)
{
    if (!p)
        return;
    if (p->in_notify) { /* inside one of its reports: freed on return */
        p->doomed = 1;
        return;
    }
    if (p->ev)
        event_free(p->ev);
    stop_threads(p);
    for (size_t i = 0; i < p->nunlink; i++) /* none: the thread drains */
        free(p->unlinks[(p->ulhead + i) % p->capunlink].path);
    free(p->unlinks);
    free(p->threads);
    pthread_cond_destroy(&p->del_cv);
    pthread_cond_destroy(&p->idle_cv);
    pthread_cond_destroy(&p->work_cv);
    pthread_mutex_destroy(&p->mu);
    if (p->pipe[0] >= 0)
        close(p->pipe[0]);
    if (p->pipe[1] >= 0)
        close(p->pipe[1]);
    free(p);
}

unsigned sl_syncpool_threads(const sl_syncpool *p) { return p->nthreads; }

void sl_syncpool_submit(sl_syncpool *p, sl_syncpool_job *j)
{
    pthread_mutex_lock(&p->mu);
    if (j->running)
        j->again = 1;
    else if (!j->queued)
        queue_job(p, j);
    pthread_mutex_unlock(&p->mu);
}

void sl_syncpool_cancel(sl_syncpool *p, sl_syncpool_job *j)
{
    pthread_mutex_lock(&p->mu);
    while (j->queued || j->running || j->again || j->deletes)
        pthread_cond_wait(&p->idle_cv, &p->mu);
    unreport(p, j); /* after the wait: its last run may have listed it */
    pthread_mutex_unlock(&p->mu);
}

/* Make room for one more file in the ring; 0 or -1. Under mu. */
static int grow_unlinks(sl_syncpool *p)
{
    if (p->nunlink < p->capunlink)
        return 0;
    size_t nc = p->capunlink ? p->capunlink * 2 : 8;
    unlink_item *nu = malloc(nc * sizeof *nu);
    if (!nu)
        return -1;
    for (size_t i = 0; i < p->nunlink; i++)
        nu[i] = p->unlinks[(p->ulhead + i) % p->capunlink];
    free(p->unlinks);
    p->unlinks = nu;
    p->capunlink = nc;
    p->ulhead = 0;
    return 0;
}

int sl_syncpool_unlink_later(sl_syncpool *p, sl_syncpool_job *j,
                             const char *path)
{
    char *copy = strdup(path);
    if (!copy)
        return -1;
    pthread_mutex_lock(&p->mu);
    if (grow_unlinks(p) != 0) {
        pthread_mutex_unlock(&p->mu);
        free(copy);
        return -1;
    }
    size_t at = (p->ulhead + p->nunlink++) % p->capunlink;
    p->unlinks[at] = (unlink_item){copy, j};
    if (j)
        j->deletes++;
    pthread_cond_signal(&p->del_cv);
    pthread_mutex_unlock(&p->mu);
    return 0;
}
