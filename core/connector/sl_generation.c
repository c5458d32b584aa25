/* sl_generation: one configuration's sender, Lua runtime, transform and
 * intake keys, and the list of retired ones (see sl_generation.h). */
#include "sl_generation.h"

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "sl_config_load.h"
#include "sl_luastd.h"
#include "sl_time.h"

struct sl_generation {
    const sl_connector_conf *conf; /* borrowed: the sl_config's */
    sl_luaruntime *rt;      /* Lua on the loop; NULL without Lua */
    sl_delivery *d;
    sl_transform *transform; /* NULL without a transform */
    sl_auth *auth;          /* NULL without intake keys */
    sl_generation *next;    /* in a list of retired ones */
};

sl_generation *sl_generation_new(const sl_connector_conf *conf,
                                 const sl_generation_parts *p, char *err,
                                 size_t errlen)
{
    sl_generation *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    g->conf = conf;
    if (conf->L) {
        g->rt = sl_luaruntime_new(conf->L, p->base, p->http,
                                  conf->lua_max_instructions, err, errlen);
        if (!g->rt || sl_luastd_open_loop(conf->L, err, errlen) != 0)
            goto fail;
        /* token fetches trust and present what the deliveries do */
        sl_luaruntime_set_transport(g->rt, &conf->transport);
    }
    g->d = sl_delivery_new(p->base, p->http, g->rt, conf, p->spool, p->dlq,
                           p->stats, &sl_time_system_clock, err, errlen);
    if (!g->d)
        goto fail;
    sl_delivery_set_health(g->d, p->health);
    if (conf->L && sl_config_has_transform(conf) &&
        !(g->transform = sl_transform_new(conf->L, conf->transform_ref,
                                          conf->schema, conf->name,
                                          conf->lua_max_instructions))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (conf->nintake_keys &&
        !(g->auth = sl_auth_new((const char *const *)conf->intake_keys,
                                conf->nintake_keys))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    return g;
fail:
    sl_generation_free(g);
    return NULL;
}

void sl_generation_free(sl_generation *g)
{
    if (!g)
        return;
    sl_delivery_free(g->d);
    sl_luaruntime_free(g->rt);
    sl_transform_free(g->transform);
    sl_auth_free(g->auth);
    free(g);
}

const sl_connector_conf *sl_generation_conf(const sl_generation *g)
{
    return g->conf;
}

sl_delivery *sl_generation_delivery(const sl_generation *g) { return g->d; }
sl_transform *sl_generation_transform(const sl_generation *g)
{
    return g->transform;
}
sl_auth *sl_generation_auth(const sl_generation *g) { return g->auth; }
sl_generation *sl_generation_next(const sl_generation *g) { return g->next; }

void sl_generation_push(sl_generation **list, sl_generation *g)
{
    if (*list)
        sl_delivery_retire((*list)->d);
    g->next = *list;
    *list = g;
}

static void add(sl_luaruntime_tally *t, sl_luaruntime_tally y)
{
    t->calls += y.calls;
    t->errors += y.errors;
    t->overruns += y.overruns;
    t->time_us += y.time_us;
}

/* Add g's Lua tally to t[SL_STATS_LUA_KINDS]. */
static void add_tally(const sl_generation *g, sl_luaruntime_tally *t)
{
    add(&t[SL_STATS_LUA_TRANSFORM], sl_transform_tally(g->transform));
    add(&t[SL_STATS_LUA_HEADERS_FN],
        sl_luaruntime_tally_of(g->rt, g->conf->headers_fn_ref));
    add(&t[SL_STATS_LUA_RESPONSE_FN],
        sl_luaruntime_tally_of(g->rt, g->conf->response_fn_ref));
}

size_t sl_generation_collect(sl_generation *head, sl_luaruntime_tally *carry)
{
    size_t left = 0;
    sl_generation **link = &head->next;
    while (*link) {
        sl_generation *g = *link;
        if (sl_delivery_pending(g->d) == 0 && sl_delivery_in_flight(g->d) == 0) {
            if (carry)
                add_tally(g, carry);
            *link = g->next;
            sl_generation_free(g);
        } else {
            left++;
            link = &g->next;
        }
    }
    return left;
}

size_t sl_generation_in_flight(const sl_generation *list)
{
    size_t n = 0;
    for (; list; list = list->next)
        n += sl_delivery_in_flight(list->d);
    return n;
}

size_t sl_generation_pending(const sl_generation *list)
{
    size_t n = 0;
    for (; list; list = list->next)
        n += sl_delivery_pending(list->d);
    return n;
}

int sl_generation_uses(const sl_generation *list, const sl_connector_conf *conf)
{
    for (; list; list = list->next)
        if (list->conf == conf)
            return 1;
    return 0;
}

void sl_generation_tally(const sl_generation *list,
                         const sl_luaruntime_tally *carry,
                         sl_luaruntime_tally *out)
{
    for (int k = 0; k < SL_STATS_LUA_KINDS; k++)
        out[k] = carry[k];
    for (; list; list = list->next)
        add_tally(list, out);
}

void sl_generation_shutdown(sl_generation *list, int durable)
{
    for (; list; list = list->next) {
        if (durable)
            sl_delivery_stop(list->d);
        else
            sl_delivery_drain(list->d);
    }
}

void sl_generation_free_all(sl_generation **list)
{
    while (*list) {
        sl_generation *g = *list;
        *list = g->next;
        sl_generation_free(g);
    }
}
