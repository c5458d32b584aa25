/* sl_connector_def.h: the connector's struct, for the files of the
 * sl_connector module (sl_connector_life.c: its life and intake step;
 * sl_connector_view.c: what it shows). Not for other modules. */
#ifndef SL_CONNECTOR_DEF_H
#define SL_CONNECTOR_DEF_H

#include <limits.h>
#include <stdint.h>

#include "sl_checker.h"
#include "sl_connector.h"
#include "sl_delivery.h"
#include "sl_dlq.h"
#include "sl_generation.h"
#include "sl_health.h"
#include "sl_rejectlog.h"
#include "sl_spool.h"
#include "sl_transform.h"
#include "sl_unsettled.h"

struct sl_connector {
    const sl_connector_conf *conf;
    char dir[PATH_MAX];     /* <state_dir>/<name> */
    int lock_fd;
    sl_spool *spool;
    sl_dlq *dlq;
    sl_generation *gens;    /* the head runs conf (sender, Lua, transform);
                               the rest finish their batches */
    sl_luaruntime_tally lua_carry[SL_STATS_LUA_KINDS]; /* freed ones' */
    sl_delivery *d;         /* gen's, and the three below */
    sl_transform *transform; /* NULL without a transform */
    sl_auth *auth;    /* NULL without intake keys */
    sl_rejectlog *rejectlog; /* lines a stream intake rejected */
    struct event_base *base;
    sl_http_client *http;
    sl_stats stats;
    sl_unsettled *unsettled; /* appends not yet durable: accepted once
                                they are, refused if the spool drops them */
    sl_health *health; /* its state for GET /v1/connectors and /metrics */
    int spool_failing; /* the last spool write failed (until one works):
                          /readyz says so */
    sl_buf block;   /* reused per request until the spool takes it */
    sl_buf rejects; /* reused per request */
    sl_buf answer;  /* a checked body's answer (sl_connector_post) */
    sl_checker *checker; /* NULL: bodies are checked on the loop */
    struct event *inbox_ev;
    struct {
        sl_connector_durable_fn fn;
        void *ud;
    } waiters[SL_CONNECTOR_MAX_WAITERS]; /* intakes waiting for durability */
    int shutting_down;
    uint64_t opened_ms; /* monotonic: the age of recovered records */
};

#endif
