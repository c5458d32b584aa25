/* sl_reload_apply: the applying half of a reload — the running connectors
 * given the configuration sl_reload_check accepted — and the
 * configurations that stay alive while a connector still uses them.
 *
 * Ownership: a configuration loaded by a reload is owned by an
 * sl_reload_configs list; the connectors borrow their confs from it
 * (current ones, and those of batches cut before a reload), and the list
 * frees a configuration once no connector uses any conf of it. */
#ifndef SL_RELOAD_APPLY_H
#define SL_RELOAD_APPLY_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_connector.h"
#include "sl_reload.h"

/* Give every connector of cs that r marks SL_RELOAD_CHANGE its conf of
 * `next` (sl_connector_reconfigure). One that cannot take it (out of
 * memory) keeps its configuration, logged. Returns how many took it. */
size_t sl_reload_apply(sl_connector *const *cs, size_t n,
                       const sl_config *next, const sl_reload_report *r);

typedef struct sl_reload_configs sl_reload_configs;

sl_reload_configs *sl_reload_apply_configs_new(void); /* NULL out of memory */

/* Free every configuration of the list (the connectors that borrowed
 * from them are gone) and the list. Accepts NULL. */
void sl_reload_apply_configs_free(sl_reload_configs *l);

/* Take ownership of cfg. 0, or -1 out of memory (cfg then still the
 * caller's). */
int sl_reload_apply_configs_add(sl_reload_configs *l, sl_config *cfg);

/* Keep cfg (one of the list, or another) from being freed by collect,
 * whether a connector uses it or not: the gateway keys that run now are
 * borrowed from it. One at a time; the one kept before is no longer. */
void sl_reload_apply_configs_keep(sl_reload_configs *l, const sl_config *cfg);

/* Free the configurations no connector of cs uses any more (after
 * sl_connector_collect of each). Returns how many stay. */
size_t sl_reload_apply_configs_collect(sl_reload_configs *l, sl_connector *const *cs,
                                 size_t n);

#endif
