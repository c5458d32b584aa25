/* sl_reload_listen: the HTTP intake's `listen` as it runs now, and moving
 * it when a reload changes it: the new address listens before the old
 * one stops accepting, and an address that cannot be bound fails the
 * reload as a whole.
 *
 * Ownership: an sl_reload_listen owns copies of the address strings; the
 * configurations and the intake are borrowed. */
#ifndef SL_RELOAD_LISTEN_H
#define SL_RELOAD_LISTEN_H

#include "sl_config.h"
#include "sl_intake_http.h"

typedef struct sl_reload_listen sl_reload_listen;

/* cfg's listen (the start's). NULL out of memory. */
sl_reload_listen *sl_reload_listen_new(const sl_config *cfg);
void sl_reload_listen_free(sl_reload_listen *l); /* accepts NULL */

const char *sl_reload_listen_host(const sl_reload_listen *l);
int sl_reload_listen_port(const sl_reload_listen *l);

/* *out = cfg (the start's configuration) with the listen keys bound now:
 * what a reload is compared with. A shallow copy: it borrows from cfg
 * and l, and must not be freed. */
void sl_reload_listen_running(const sl_reload_listen *l, const sl_config *cfg,
                              sl_config *out);

/* Do gateway keys other than `listen` differ between running (from
 * sl_reload_listen_running) and next? 1, 0, or -1 out of memory. */
int sl_reload_listen_others(const sl_config *running, const sl_config *next);

/* Move `in` to next's listen when it differs from l's (logged, component
 * reload). 0 (moved, or nothing to move), or -1 with the reason logged
 * and the intake and l unchanged. */
int sl_reload_listen_apply(sl_reload_listen *l, sl_intake_http *in,
                           const sl_config *next);

#endif
