/* sl_gateway: `sluice run` — one event loop that owns the HTTP intake, the
 * TCP listeners, every connector (its spool, dead letters and sender), the
 * shared HTTP client and the TCP intake's piece workers; graceful shutdown
 * on SIGTERM/SIGINT; on SIGHUP the configuration is read and checked again
 * (sl_reload). Holds <state_dir>/sluice.pid while it runs (sl_pidfile). */
#ifndef SL_GATEWAY_H
#define SL_GATEWAY_H

#include "sl_config.h"

/* Longest a shutdown waits for queued records to be delivered. */
#define SL_GATEWAY_DRAIN_MS 10000

/* log_level_given: --log-level set the level, which wins over the
 * gateway's log_level at the start and on every reload. */
/* Serve `cfg` until a signal, then stop the intake, deliver what is queued
 * (for at most SL_GATEWAY_DRAIN_MS) and return. Returns 0 on a clean stop,
 * 1 when it could not start (message on stderr) or had to abandon records,
 * 2 when a connector's schema lock or another gateway's pid file refused
 * the start. */
int sl_gateway_run(const sl_config *cfg, int log_level_given);

#endif
