/* sl_config_concurrency: the connector keys `concurrency` (a number, or
 * "adaptive") and `max_concurrency`, and the checks between them and
 * `ordered`. The adaptive limit itself is sl_aimd's. Private to the config
 * module. */
#ifndef SL_CONFIG_CONCURRENCY_H
#define SL_CONFIG_CONCURRENCY_H

#include "sl_config_parse.h"

/* A fixed concurrency: 1 .. this; the default. */
#define SL_CONFIG_CONCURRENCY_MAX 64
#define SL_CONFIG_CONCURRENCY_DEFAULT 4
/* max_concurrency: 1 .. this (each request in flight is a connection with
 * HTTP/1.1); the default. */
#define SL_CONFIG_MAX_CONCURRENCY_MAX 1024
#define SL_CONFIG_MAX_CONCURRENCY_DEFAULT 64

/* concurrency (target: sl_config_connector_target): an integer 1 ..
 * SL_CONFIG_CONCURRENCY_MAX into c.concurrency, or the string "adaptive"
 * (any case) setting c.concurrency_adaptive (c.concurrency is then 1, the
 * adaptive start). Absent or refused: the default, fixed. */
void sl_config_parse_concurrency(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);

/* max_concurrency: an integer 1 .. SL_CONFIG_MAX_CONCURRENCY_MAX into
 * c.max_concurrency, remembering that it was written (it needs
 * concurrency = "adaptive"). Absent or refused: the default. */
void sl_config_parse_max_concurrency(sl_config_parse_context *ctx,
                                     const sl_config_key *key, int idx,
                                     void *target);

/* After all connector keys (the loader calls it; target:
 * sl_config_connector_target): max_concurrency without an adaptive
 * concurrency, and ordered with one, are errors. */
void sl_config_concurrency_after(sl_config_parse_context *ctx, void *target);

#endif
