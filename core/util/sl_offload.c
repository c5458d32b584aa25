/* sl_offload: jobs on a few threads, results back on the loop in each
 * lane's order. One lock guards the queue of jobs to run and the list of
 * jobs run; the lanes' lists are the loop's alone. */
#include "sl_offload.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <event2/event.h>

typedef struct job {
    struct job *next;      /* the queue to run, then the list of jobs run
                              (both under the lock) */
    struct job *next_lane; /* the lane's list (loop only) */
    sl_offload_lane *lane;
    sl_offload_run_fn run;
    sl_offload_done_fn done;
    void *ud;
    int finished;          /* loop only: taken back from the threads */
} job;

struct sl_offload_lane {
    sl_offload *pool;
    job *head, *tail;      /* submitted, not yet done, in order */
    size_t pending;
    sl_offload_lane *next_ready; /* lanes with finished jobs (loop only) */
    int ready;
};

struct sl_offload {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    job *queue, *queue_tail; /* to run, oldest first */
    job *ran;                /* run, not yet taken by the loop */
    int signalled;           /* the eventfd was written since the loop
                                last took `ran` */
    int stop;
    int efd;
    struct event *ev;
    pthread_t *threads;
    unsigned n, started;
    job *spare;              /* done jobs kept for the next (loop only) */
    size_t nspare;
};

#define SPARE_MAX 256

typedef struct thread_arg {
    sl_offload *pool;
    unsigned index;
} thread_arg;

static job *take_job(sl_offload *p)
{
    while (!p->queue && !p->stop)
        pthread_cond_wait(&p->wake, &p->mu);
    job *j = p->queue;
    if (j && !(p->queue = j->next))
        p->queue_tail = NULL;
    return j;
}

static void *thread_main(void *arg)
{
    thread_arg a = *(thread_arg *)arg;
    free(arg);
    sl_offload *p = a.pool;
    pthread_mutex_lock(&p->mu);
    for (job *j; (j = take_job(p));) {
        pthread_mutex_unlock(&p->mu);
        j->run(j->ud, a.index);
        pthread_mutex_lock(&p->mu);
        j->next = p->ran;
        p->ran = j;
        if (!p->signalled) {
            p->signalled = 1;
            uint64_t one = 1;
            /* the counter cannot overflow: the loop reads it to 0 */
            while (write(p->efd, &one, sizeof one) < 0 && errno == EINTR)
                ;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* Hand the lane's finished jobs at its head to their done functions. */
static void drain(sl_offload_lane *l)
{
    while (l->head && l->head->finished) {
        job *j = l->head;
        if (!(l->head = j->next_lane))
            l->tail = NULL;
        l->pending--;
        sl_offload_done_fn done = j->done;
        void *ud = j->ud;
        sl_offload *p = l->pool;
        if (p->nspare < SPARE_MAX) {
            j->next = p->spare;
            p->spare = j;
            p->nspare++;
        } else {
            free(j);
        }
        done(ud);
    }
}

static void on_ran(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    sl_offload *p = arg;
    uint64_t v;
    if (read(fd, &v, sizeof v) < 0 && errno != EAGAIN && errno != EINTR)
        return;
    pthread_mutex_lock(&p->mu);
    job *ran = p->ran;
    p->ran = NULL;
    p->signalled = 0;
    pthread_mutex_unlock(&p->mu);
    sl_offload_lane *ready = NULL;
    for (job *j = ran; j; j = j->next) {
        j->finished = 1;
        if (!j->lane->ready) {
            j->lane->ready = 1;
            j->lane->next_ready = ready;
            ready = j->lane;
        }
    }
    while (ready) {
        sl_offload_lane *l = ready;
        ready = l->next_ready;
        l->ready = 0;
        drain(l);
    }
}

static void stop_threads(sl_offload *p)
{
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    p->started = 0;
}

sl_offload *sl_offload_new(struct event_base *base, unsigned nthreads,
                           char *err, size_t errlen)
{
    sl_offload *p = calloc(1, sizeof *p);
    if (!p || nthreads == 0 ||
        !(p->threads = calloc(nthreads, sizeof *p->threads))) {
        snprintf(err, errlen, nthreads ? "out of memory" : "no threads");
        free(p);
        return NULL;
    }
    p->n = nthreads;
    p->efd = -1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
        !(p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, on_ran, p)) ||
        event_add(p->ev, NULL) != 0) {
        snprintf(err, errlen, "cannot watch the check threads: %s",
                 strerror(errno));
        goto fail;
    }
    for (; p->started < nthreads; p->started++) {
        thread_arg *a = malloc(sizeof *a);
        int rc = a ? 0 : ENOMEM;
        if (a) {
            *a = (thread_arg){p, p->started};
            rc = pthread_create(&p->threads[p->started], NULL, thread_main, a);
        }
        if (rc != 0) {
            free(a);
            snprintf(err, errlen, "cannot start a check thread: %s",
                     strerror(rc));
            goto fail;
        }
        char name[16];
        snprintf(name, sizeof name, "sl-check-%u", p->started);
        pthread_setname_np(p->threads[p->started], name); /* cosmetic */
    }
    return p;
fail:
    sl_offload_free(p);
    return NULL;
}

void sl_offload_free(sl_offload *p)
{
    if (!p)
        return;
    stop_threads(p);
    if (p->ev)
        event_free(p->ev);
    if (p->efd >= 0)
        close(p->efd);
    while (p->spare) {
        job *j = p->spare;
        p->spare = j->next;
        free(j);
    }
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p);
}

unsigned sl_offload_threads(const sl_offload *p)
{
    return p ? p->n : 0;
}

sl_offload_lane *sl_offload_lane_new(sl_offload *p)
{
    sl_offload_lane *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    l->pool = p;
    return l;
}

void sl_offload_lane_free(sl_offload_lane *l)
{
    if (!l)
        return;
    while (l->head) { /* only after sl_offload_free: their done never runs */
        job *j = l->head;
        l->head = j->next_lane;
        free(j);
    }
    free(l);
}

size_t sl_offload_lane_pending(const sl_offload_lane *l)
{
    return l ? l->pending : 0;
}

int sl_offload_submit(sl_offload_lane *l, sl_offload_run_fn run,
                      sl_offload_done_fn done, void *ud)
{
    sl_offload *p = l->pool;
    job *j = p->spare;
    if (j) {
        p->spare = j->next;
        p->nspare--;
    } else if (!(j = malloc(sizeof *j))) {
        return -1;
    }
    *j = (job){.lane = l, .run = run, .done = done, .ud = ud};
    if (l->tail)
        l->tail->next_lane = j;
    else
        l->head = j;
    l->tail = j;
    l->pending++;
    pthread_mutex_lock(&p->mu);
    if (p->queue_tail)
        p->queue_tail->next = j;
    else
        p->queue = j;
    p->queue_tail = j;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->mu);
    return 0;
}
