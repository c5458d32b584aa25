/* Unit tests for sl_offload (jobs on the pool's threads, each lane's done
 * functions in submission order, never inside submit) and sl_checker (a
 * connector's bodies checked on those threads: results in order, a Lua
 * state per thread, a new one after a new conf, the tallies summed). */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "sl_checker.h"
#include "sl_config_load.h"
#include "sl_offload.h"
#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_test_frames.h"

#define LANES 5
#define PER_LANE 400

typedef struct seen {
    struct event_base *base;
    pthread_t loop;
    int order_ok, on_loop_ok, threads_ok;
    size_t next[LANES], done, want;
    atomic_int ran_off_loop;
    unsigned nthreads;
} seen;

typedef struct item {
    seen *s;
    size_t lane, seq;
    unsigned spin;
} item;

static void item_run(void *ud, unsigned thread)
{
    item *it = ud;
    if (!pthread_equal(pthread_self(), it->s->loop))
        atomic_fetch_add(&it->s->ran_off_loop, 1);
    if (thread >= it->s->nthreads)
        it->s->threads_ok = 0; /* each item is its own: no race */
    volatile unsigned x = 0; /* volatile: the loop is not folded away */
    for (unsigned i = 0; i < it->spin; i++) /* uneven work: reordering */
        x += i;
    (void)x;
}

static void item_done(void *ud)
{
    item *it = ud;
    seen *s = it->s;
    if (!pthread_equal(pthread_self(), s->loop))
        s->on_loop_ok = 0;
    if (it->seq != s->next[it->lane])
        s->order_ok = 0;
    s->next[it->lane] = it->seq + 1;
    if (++s->done == s->want)
        event_base_loopbreak(s->base);
}

static void test_offload_order_per_lane(void)
{
    for (unsigned n = 1; n <= 3; n++) {
        char err[128];
        seen s = {.order_ok = 1, .on_loop_ok = 1, .threads_ok = 1,
                  .want = LANES * PER_LANE, .nthreads = n};
        s.base = event_base_new();
        s.loop = pthread_self();
        sl_offload *p = sl_offload_new(s.base, n, err, sizeof err);
        CHECK(p != NULL && sl_offload_threads(p) == n);
        sl_offload_lane *lanes[LANES];
        static item items[LANES][PER_LANE];
        for (size_t l = 0; l < LANES; l++)
            CHECK((lanes[l] = sl_offload_lane_new(p)) != NULL);
        for (size_t k = 0; k < PER_LANE; k++)
            for (size_t l = 0; l < LANES; l++) {
                items[l][k] = (item){&s, l, k, (unsigned)((k * 7919 + l) % 5000)};
                CHECK(sl_offload_submit(lanes[l], item_run, item_done,
                                        &items[l][k]) == 0);
            }
        CHECK(s.done == 0); /* never inside submit */
        CHECK(sl_offload_lane_pending(lanes[0]) == PER_LANE);
        event_base_dispatch(s.base);
        CHECK(s.done == s.want);
        CHECK(s.order_ok && s.on_loop_ok && s.threads_ok);
        CHECK(atomic_load(&s.ran_off_loop) == (int)s.want);
        for (size_t l = 0; l < LANES; l++) {
            CHECK(sl_offload_lane_pending(lanes[l]) == 0);
            sl_offload_lane_free(lanes[l]);
        }
        sl_offload_free(p);
        event_base_free(s.base);
    }
    char err[64];
    CHECK(sl_offload_new(NULL, 0, err, sizeof err) == NULL);
    sl_offload_free(NULL);
    sl_offload_lane_free(NULL);
    CHECK(sl_offload_threads(NULL) == 0);
}

static void never_done(void *ud)
{
    (void)ud;
    CHECK(0);
}

/* Freed with jobs pending: they run, their done does not, nothing leaks
 * (LeakSanitizer says so in the ASan build). */
static void test_offload_free_with_pending(void)
{
    char err[128];
    seen s = {.nthreads = 2};
    s.base = event_base_new();
    s.loop = pthread_self();
    sl_offload *p = sl_offload_new(s.base, 2, err, sizeof err);
    sl_offload_lane *l = sl_offload_lane_new(p);
    static item items[50];
    for (size_t k = 0; k < 50; k++) {
        items[k] = (item){&s, 0, k, 100};
        CHECK(sl_offload_submit(l, item_run, never_done, &items[k]) == 0);
    }
    sl_offload_free(p);
    CHECK(atomic_load(&s.ran_off_loop) == 50); /* what was queued ran */
    sl_offload_lane_free(l);
    event_base_free(s.base);
}

/* ---- sl_checker ---------------------------------------------------------- */

static char dir[128];

/* Connector "c" with a transform that counts its calls in a global of
 * its state (so each state counts its own) and writes `tag`. */
static sl_config *load(const char *tag)
{
    char text[1024], path[256];
    snprintf(text, sizeof text,
             "calls = 0\nreturn {\n  name = 'c', url = 'http://127.0.0.1:9/x',\n"
             "  schema = { { name = 'id', type = 'integer' },\n"
             "             { name = 'tag', type = 'string' },\n"
             "             { name = 'calls', type = 'integer' } },\n"
             "  transform = function(rec)\n"
             "    if rec.id < 0 then error('negative') end\n"
             "    calls = calls + 1\n"
             "    rec.tag = '%s'; rec.calls = calls\n"
             "    return rec\n  end,\n}\n", tag);
    snprintf(path, sizeof path, "%s/c.lua", dir);
    sl_test_put_file(path, text, strlen(text));
    snprintf(path, sizeof path, "%s/sluice.lua", dir);
    const char *gw = "return { listen = '127.0.0.1:8080', state_dir = 'var', "
                     "connectors = { 'c.lua' } }\n";
    sl_test_put_file(path, gw, strlen(gw));
    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *cfg = sl_config_load(path, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "load: %s\n", errs.msgs[i]);
    sl_config_errors_free(&errs);
    CHECK(cfg != NULL && cfg->nconnectors == 1);
    return cfg;
}

#define BODIES 60

typedef struct got {
    struct event_base *base;
    size_t done, want, next;
    int order_ok;
    size_t accepted, rejected;
    char first[BODIES][128]; /* each body's first record as framed */
} got;

typedef struct body {
    got *g;
    size_t i;
    char text[256];
} body;

static void on_checked(void *ud, const sl_checker_result *r)
{
    body *b = ud;
    got *g = b->g;
    if (b->i != g->next)
        g->order_ok = 0;
    g->next = b->i + 1;
    CHECK(r->rc == 0);
    g->accepted += r->res->accepted;
    g->rejected += r->res->rejected;
    sl_test_join_frames(r->block, g->first[b->i], sizeof g->first[0]);
    if (++g->done == g->want)
        event_base_loopbreak(g->base);
}

static void run_bodies(sl_checker *k, const sl_connector_conf *cc, got *g,
                       body *bodies, size_t n)
{
    g->want = g->done + n;
    for (size_t i = 0; i < n; i++) {
        body *b = &bodies[i];
        b->g = g;
        b->i = g->next + i;
        snprintf(b->text, sizeof b->text,
                 "[{\"id\":%zu,\"tag\":\"x\",\"calls\":0},"
                 "{\"id\":-1,\"tag\":\"x\",\"calls\":0}]", b->i);
        CHECK(sl_checker_submit(k, cc, SL_INGEST_JSON, b->text,
                                strlen(b->text), NULL, on_checked, b) == 0);
    }
    CHECK(sl_checker_pending(k) == n);
    CHECK(sl_checker_uses(k, cc));
    event_base_dispatch(g->base);
    CHECK(sl_checker_pending(k) == 0);
    CHECK(!sl_checker_uses(k, cc));
}

static void test_checker_threads_and_conf(void)
{
    sl_test_dir_fresh(dir, sizeof dir, "offload");
    sl_config *v1 = load("v1");
    char err[128];
    got g = {.order_ok = 1};
    g.base = event_base_new();
    sl_offload *p = sl_offload_new(g.base, 2, err, sizeof err);
    sl_checker *k = sl_checker_new(p);
    CHECK(k != NULL);
    static body bodies[BODIES];
    run_bodies(k, &v1->connectors[0], &g, bodies, BODIES / 2);
    CHECK(g.order_ok);
    CHECK(g.accepted == BODIES / 2 && g.rejected == BODIES / 2);
    CHECK_CONTAINS(g.first[0], "\"tag\":\"v1\"");
    /* every call counted, across both threads' states */
    sl_luaruntime_tally t = sl_checker_tally(k);
    CHECK(t.calls == BODIES && t.errors == BODIES / 2);
    /* a reload: the file says v2; the threads make their states again */
    sl_config *v2 = load("v2");
    sl_checker_new_conf(k);
    run_bodies(k, &v2->connectors[0], &g, bodies + BODIES / 2, BODIES / 2);
    CHECK(g.order_ok);
    CHECK_CONTAINS(g.first[BODIES / 2], "\"tag\":\"v2\"");
    CHECK_CONTAINS(g.first[BODIES / 2], "\"calls\":1}"); /* a new state */
    t = sl_checker_tally(k);
    CHECK(t.calls == 2 * BODIES && t.errors == BODIES); /* nothing lost */
    sl_checker_free(k);
    sl_offload_free(p);
    event_base_free(g.base);
    sl_config_free(v1);
    sl_config_free(v2);
    sl_test_rm_rf(dir);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"offload_order_per_lane", test_offload_order_per_lane},
        {"offload_free_with_pending", test_offload_free_with_pending},
        {"checker_threads_and_conf", test_checker_threads_and_conf},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
