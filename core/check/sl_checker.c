/* sl_checker: a connector's bodies on the check threads. Each thread keeps
 * one Lua state per connector with a transform, in a slot of the
 * connector's that only that thread touches while the pool runs; the
 * epoch a body carries tells a thread its state is from an older
 * configuration. */
#include "sl_checker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "sl_config_load.h"
#include "sl_luahost.h"
#include "sl_transform.h"

/* A thread's own: touched only by thread i inside a run (and by
 * sl_checker_free once nothing is pending). */
typedef struct thread_slot {
    unsigned epoch;       /* of L and transform */
    lua_State *L;
    sl_transform *transform;
} thread_slot;

typedef struct job {
    sl_checker *k;
    struct job *prev, *next; /* pending bodies (loop only) */
    const sl_connector_conf *conf;
    unsigned epoch;
    sl_ingest_format fmt;
    const char *data;
    size_t len;
    sl_ingest_limits lim;
    sl_checker_done_fn done;
    void *ud;
    /* written by the thread, read by the loop after the hand-over */
    sl_buf block, rejects;
    sl_ingest_result res;
    int rc;
    unsigned thread;
    int has_tally;
    sl_luaruntime_tally tally;
    char error[320];
} job;

struct sl_checker {
    sl_offload_lane *lane;
    unsigned nthreads;
    thread_slot *slots;          /* one per thread */
    unsigned epoch;              /* of the conf bodies are submitted with */
    job *pending;                /* loop only */
    size_t npending;
    /* the transforms' tallies: each thread's last, and what earlier
     * epochs added (loop only) */
    sl_luaruntime_tally carry;
    sl_luaruntime_tally *last;
    unsigned *last_epoch;
    job *spare;                  /* done jobs kept with their buffers */
    size_t nspare;
};

#define SPARE_MAX 64
#define SPARE_BUF_MAX ((size_t)1 << 20) /* a bigger buffer is not kept */

sl_checker *sl_checker_new(sl_offload *pool)
{
    sl_checker *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->nthreads = sl_offload_threads(pool);
    k->epoch = 1;
    if (!(k->lane = sl_offload_lane_new(pool)) ||
        !(k->slots = calloc(k->nthreads, sizeof *k->slots)) ||
        !(k->last = calloc(k->nthreads, sizeof *k->last)) ||
        !(k->last_epoch = calloc(k->nthreads, sizeof *k->last_epoch))) {
        sl_checker_free(k);
        return NULL;
    }
    return k;
}

static void slot_clear(thread_slot *s)
{
    sl_transform_free(s->transform);
    sl_luahost_free(s->L);
    memset(s, 0, sizeof *s);
}

void sl_checker_free(sl_checker *k)
{
    if (!k)
        return;
    while (k->pending) { /* only after the pool's end: done never runs */
        job *j = k->pending;
        k->pending = j->next;
        sl_buf_free(&j->block);
        sl_buf_free(&j->rejects);
        free(j);
    }
    while (k->spare) {
        job *j = k->spare;
        k->spare = j->next;
        sl_buf_free(&j->block);
        sl_buf_free(&j->rejects);
        free(j);
    }
    for (unsigned i = 0; k->slots && i < k->nthreads; i++)
        slot_clear(&k->slots[i]);
    free(k->slots);
    free(k->last);
    free(k->last_epoch);
    sl_offload_lane_free(k->lane);
    free(k);
}

void sl_checker_new_conf(sl_checker *k)
{
    k->epoch++;
}

/* On thread `i`: its transform for j's epoch, made if it has none yet
 * or an older one. NULL with j->error set when it cannot be made. */
static sl_transform *thread_transform(job *j, unsigned i)
{
    thread_slot *s = &j->k->slots[i];
    if (s->transform && s->epoch == j->epoch)
        return s->transform;
    slot_clear(s);
    int ref;
    char err[200];
    if (!(s->L = sl_config_transform_state(j->conf, &ref, err, sizeof err))) {
        snprintf(j->error, sizeof j->error, "cannot make the transform's "
                 "Lua state on a check thread: %s", err);
        return NULL;
    }
    if (!(s->transform = sl_transform_new(s->L, ref, j->conf->schema,
                                          j->conf->name,
                                          j->conf->lua_max_instructions))) {
        snprintf(j->error, sizeof j->error, "out of memory");
        slot_clear(s);
        return NULL;
    }
    s->epoch = j->epoch;
    return s->transform;
}

/* sl_offload_run_fn */
static void run(void *ud, unsigned thread)
{
    job *j = ud;
    j->thread = thread;
    sl_transform *t = NULL;
    if (sl_config_has_transform(j->conf) &&
        !(t = thread_transform(j, thread))) {
        j->rc = -2;
        return;
    }
    /* about as large as the body: sized once (see sl_connector's) */
    (void)sl_buf_reserve(&j->block, j->len + j->len / 8 + 256);
    j->rc = sl_ingest(j->conf->schema, t, j->fmt, j->data, j->len, &j->lim,
                      &j->block, &j->rejects, &j->res);
    if (t) {
        j->tally = sl_transform_tally(t);
        j->has_tally = 1;
    }
}

static void add_tally(sl_luaruntime_tally *to, const sl_luaruntime_tally *t)
{
    to->calls += t->calls;
    to->errors += t->errors;
    to->overruns += t->overruns;
    to->time_us += t->time_us;
}

/* Keep thread j->thread's tally; an older epoch's goes into the carry. */
static void note_tally(sl_checker *k, const job *j)
{
    unsigned i = j->thread;
    if (!j->has_tally)
        return;
    if (k->last_epoch[i] != j->epoch) {
        add_tally(&k->carry, &k->last[i]);
        k->last_epoch[i] = j->epoch;
    }
    k->last[i] = j->tally;
}

static void unlink_job(sl_checker *k, job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        k->pending = j->next;
    if (j->next)
        j->next->prev = j->prev;
    k->npending--;
}

/* sl_offload_done_fn */
static void done(void *ud)
{
    job *j = ud;
    sl_checker *k = j->k;
    unlink_job(k, j);
    note_tally(k, j);
    sl_checker_result r = {.rc = j->rc, .block = &j->block,
                           .rejects = &j->rejects, .res = &j->res,
                           .error = j->error};
    j->done(j->ud, &r);
    if (k->nspare < SPARE_MAX && j->block.cap <= SPARE_BUF_MAX &&
        j->rejects.cap <= SPARE_BUF_MAX) {
        j->next = k->spare;
        k->spare = j;
        k->nspare++;
        return;
    }
    sl_buf_free(&j->block);
    sl_buf_free(&j->rejects);
    free(j);
}

int sl_checker_submit(sl_checker *k, const sl_connector_conf *conf,
                      sl_ingest_format fmt, const char *data, size_t len,
                      const sl_ingest_limits *lim, sl_checker_done_fn fn,
                      void *ud)
{
    job *j = k->spare;
    if (j) {
        k->spare = j->next;
        k->nspare--;
        sl_buf_reset(&j->block);
        sl_buf_reset(&j->rejects);
    } else if ((j = malloc(sizeof *j))) {
        sl_buf_init(&j->block, 0);
        sl_buf_init(&j->rejects, 0);
    } else {
        return -1;
    }
    j->prev = NULL;
    memset(&j->res, 0, sizeof j->res);
    j->rc = 0;
    j->thread = 0;
    j->has_tally = 0;
    j->error[0] = '\0';
    j->k = k;
    j->conf = conf;
    j->epoch = k->epoch;
    j->fmt = fmt;
    j->data = data;
    j->len = len;
    j->lim = lim ? *lim : (sl_ingest_limits){0};
    j->done = fn;
    j->ud = ud;
    j->next = k->pending;
    if (k->pending)
        k->pending->prev = j;
    k->pending = j;
    k->npending++;
    if (sl_offload_submit(k->lane, run, done, j) != 0) {
        unlink_job(k, j);
        sl_buf_free(&j->block);
        sl_buf_free(&j->rejects);
        free(j);
        return -1;
    }
    return 0;
}

size_t sl_checker_pending(const sl_checker *k)
{
    return k ? k->npending : 0;
}

int sl_checker_uses(const sl_checker *k, const sl_connector_conf *conf)
{
    for (const job *j = k ? k->pending : NULL; j; j = j->next)
        if (j->conf == conf)
            return 1;
    return 0;
}

sl_luaruntime_tally sl_checker_tally(const sl_checker *k)
{
    sl_luaruntime_tally t = {0};
    if (!k)
        return t;
    add_tally(&t, &k->carry);
    for (unsigned i = 0; i < k->nthreads; i++)
        add_tally(&t, &k->last[i]);
    return t;
}
