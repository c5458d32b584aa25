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
typedef struct sl_reload_report {
    sl_buf summary;     /* owned; sl_reload_report_free */
    size_t changed, added, removed, refused, same;
    int gateway_changed; /* gateway keys differ (listen, tcp, ...) */
    unsigned char *refused_at; /* owned; per connector of the new config:
                                  1 refused (its schema changed) */
    size_t nflags;      /* entries of refused_at */
} sl_reload_report;

void sl_reload_report_free(sl_reload_report *r); /* accepts a zeroed one */

/* Load `path` for a gateway running `old` and check it completely: every
 * load error, a state_dir that moved (it cannot, short of a restart) —
 * each problem logged on its own line (component "reload"). Then compare
 * the connectors: a connector whose schema differs from its schema lock
 * is refused (logged with the field-by-field difference) and keeps
 * running as it is. Returns the new configuration (caller frees with
 * sl_config_free) with *r filled, or NULL with every problem logged and
 * their number in *nproblems (*r then empty). */
sl_config *sl_reload_check(const sl_config *old, const char *path,
                           sl_reload_report *r, size_t *nproblems);

/* Is connector i of the new configuration refused (its schema changed)? */
int sl_reload_refused(const sl_reload_report *r, size_t i);

#endif
