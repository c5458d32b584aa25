/* sl_workers: fork-join over a few helper threads. Tasks are handed out
 * one at a time from a shared counter, so a helper that is not scheduled
 * only means the caller does more of them. */
#include "sl_workers.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_workers {
    pthread_mutex_t mu;
    pthread_cond_t wake;      /* helpers: a batch (or stop) */
    pthread_cond_t idle;      /* caller: the helpers left the batch */
    pthread_t *threads;
    unsigned n;               /* helpers started */
    /* the batch, all under mu */
    unsigned long gen;        /* batches started; helpers join a new one */
    size_t ntasks, next;      /* tasks, next one to hand out */
    unsigned busy;            /* helpers inside the batch */
    sl_workers_fn fn;
    void *ud;
    int stop;
};

/* Take tasks until none is left. Called with mu held; returns with it
 * held. */
static void take_tasks(sl_workers *w)
{
    while (w->next < w->ntasks) {
        size_t i = w->next++;
        sl_workers_fn fn = w->fn;
        void *ud = w->ud;
        pthread_mutex_unlock(&w->mu);
        fn(ud, i);
        pthread_mutex_lock(&w->mu);
    }
}

static void *helper(void *arg)
{
    sl_workers *w = arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->stop && w->gen == seen)
            pthread_cond_wait(&w->wake, &w->mu);
        if (w->stop)
            break;
        seen = w->gen;
        w->busy++;
        take_tasks(w);
        if (--w->busy == 0)
            pthread_cond_signal(&w->idle);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

sl_workers *sl_workers_new(unsigned nhelpers, char *err, size_t errlen)
{
    sl_workers *w = calloc(1, sizeof *w);
    if (!w || (nhelpers && !(w->threads = calloc(nhelpers, sizeof *w->threads)))) {
        snprintf(err, errlen, "out of memory");
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->wake, NULL);
    pthread_cond_init(&w->idle, NULL);
    for (; w->n < nhelpers; w->n++) {
        int rc = pthread_create(&w->threads[w->n], NULL, helper, w);
        if (rc != 0) {
            snprintf(err, errlen, "cannot start a worker thread: %s",
                     strerror(rc));
            goto fail;
        }
    }
    return w;
fail:
    sl_workers_free(w);
    return NULL;
}

void sl_workers_free(sl_workers *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->idle);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
}

unsigned sl_workers_helpers(const sl_workers *w) { return w ? w->n : 0; }

void sl_workers_run(sl_workers *w, size_t ntasks, sl_workers_fn fn, void *ud)
{
    if (!w || w->n == 0 || ntasks < 2) {
        for (size_t i = 0; i < ntasks; i++)
            fn(ud, i);
        return;
    }
    pthread_mutex_lock(&w->mu);
    w->fn = fn;
    w->ud = ud;
    w->ntasks = ntasks;
    w->next = 0;
    w->gen++;
    pthread_cond_broadcast(&w->wake);
    take_tasks(w);
    /* every task is handed out; wait for those still running elsewhere */
    while (w->busy > 0)
        pthread_cond_wait(&w->idle, &w->mu);
    w->fn = NULL;
    w->ud = NULL;
    pthread_mutex_unlock(&w->mu);
}
