/* sl_readyz: the gateway's checks behind GET /readyz — its listeners are
 * up, the state directory (and each connector's) is writable, the
 * configuration is loaded — each cheap enough to run on every probe (an
 * access(2), a flag the spool's last write left). */
#ifndef SL_READYZ_H
#define SL_READYZ_H

#include <stddef.h>

#include "sl_connector.h"

struct sl_buf;

/* What the gateway knows, borrowed for one call. */
typedef struct sl_readyz_facts {
    const char *state_dir;
    sl_connector *const *connectors;
    size_t n;
    size_t tcp_up, tcp_wanted; /* TCP listeners listening, configured */
    int stopping;              /* a signal asked the gateway to stop */
    int config_loaded;         /* the configuration in use is whole */
} sl_readyz_facts;

/* Append `,"listeners":..,"state_dir":..,"config":..` (each "ok" or what
 * is wrong) to out and return how many failed: an sl_intake_http_ready_fn
 * body. */
int sl_readyz_checks(const sl_readyz_facts *f, struct sl_buf *out);

#endif
