/* sl_reload: the checking half of a reload (SIGHUP) — read the gateway
 * file and its connector files again, with the same loading and checks as
 * `sluice check` and the start, compare them with the running
 * configuration and say what a reload changes. Applying the result is the
 * gateway's (sl_gateway.c). */
#ifndef SL_RELOAD_H
#define SL_RELOAD_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"

/* What a checked reload found. `summary` holds one line for the log:
 * "1 connector changed (crm: headers), 1 added (x), 0 removed" and, when
 * there are any, "; 1 refused (orders: schema)"; "; gateway: listen". */
/* What a reload does with one connector of the new configuration. */
typedef enum sl_reload_action {
    SL_RELOAD_SAME = 0, /* same values and text: nothing */
    SL_RELOAD_CHANGE,   /* running, changed: takes the new configuration */
    SL_RELOAD_ADD,      /* not running: a new connector */
    SL_RELOAD_REFUSE    /* its schema or durability changed: keeps running
                           with the old configuration */
} sl_reload_action;

typedef struct sl_reload_report {
    sl_buf summary;     /* owned; sl_reload_report_free */
    size_t changed, added, removed, refused, same;
    int gateway_changed; /* gateway keys differ (listen, tcp, ...) */
    unsigned char *action; /* owned; per connector of the new config, an
                              sl_reload_action */
    size_t nactions;    /* entries of action */
} sl_reload_report;

void sl_reload_report_free(sl_reload_report *r); /* accepts a zeroed one */

/* Load `path` for a gateway started with `old` (its gateway keys) whose
 * connectors run `running[0..n)` now, and check it completely: every
 * load error, a state_dir that moved (it cannot, short of a restart) —
 * each problem logged on its own line (component "reload"). Then compare
 * the connectors: one whose schema differs from its schema lock, or whose
 * durability or spool keys changed, is refused (logged; for the schema
 * with the field-by-field difference) and keeps running as it is.
 * Returns the new configuration (caller frees with sl_config_free) with
 * *r filled, or NULL with every problem logged and their number in
 * *nproblems (*r then empty). */
sl_config *sl_reload_check(const sl_config *old,
                           const sl_connector_conf *const *running, size_t n,
                           const char *path, sl_reload_report *r,
                           size_t *nproblems);

/* What to do with connector i of the new configuration. */
sl_reload_action sl_reload_action_of(const sl_reload_report *r, size_t i);

#endif
