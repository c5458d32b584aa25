/* sl_sdstatus: the gateway's one-line status for `systemctl status`
 * (sd_notify STATUS=): the listen address, the connectors by health
 * ("2 delivering, 1 degraded (crm)") and the backlog, refreshed on a timer
 * and sent only when it changed. */
#ifndef SL_SDSTATUS_H
#define SL_SDSTATUS_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_connector.h"

struct event_base;

/* How often the status is looked at (sent only when it changed). */
#define SL_SDSTATUS_PERIOD_MS 5000

/* Most connectors named after a health state ("degraded (a, b, +3)"). */
#define SL_SDSTATUS_NAMES 3

/* Append "<n> connector(s): <k> delivering[, <k> degraded (names)][, <k>
 * blocked (names)]; <u> undelivered" for the n connectors to out. Returns
 * 0, or -1 when out is full (out then holds a cut text). */
int sl_sdstatus_connectors(sl_connector *const *cs, size_t n, sl_buf *out);

/* Writes the whole status text into out (reset by the caller). */
typedef void (*sl_sdstatus_fn)(void *arg, sl_buf *out);

/* A timer on base that calls fn every SL_SDSTATUS_PERIOD_MS and sends
 * STATUS=<its text> when that differs from the last text sent; armed only
 * when NOTIFY_SOCKET is set. NULL only when out of memory. Free it before
 * the base. */
typedef struct sl_sdstatus sl_sdstatus;
sl_sdstatus *sl_sdstatus_new(struct event_base *base, sl_sdstatus_fn fn,
                             void *arg);
void sl_sdstatus_free(sl_sdstatus *s); /* NULL: nothing */

/* Note a text sent by other means (READY=1's STATUS=), so that the timer
 * does not send it again. */
void sl_sdstatus_sent(sl_sdstatus *s, const char *text);

#endif
