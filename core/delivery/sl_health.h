/* sl_health: what one connector's deliveries and intake say about it, as
 * a state an operator reads — delivering, degraded (attempts failing for
 * longer than a threshold), blocked (the spool is full or cannot be
 * written: the intake answers 503) — with the last error (secrets-free:
 * "HTTP 503", curl's words for a transport failure) and since when.
 * Fed from the attempts' answers (sl_delivery) and the intake's refusals
 * and acceptances (sl_connector); read by GET /v1/connectors and
 * /metrics. Times are wall-clock ms since the epoch, passed in. */
#ifndef SL_HEALTH_H
#define SL_HEALTH_H

#include <stdint.h>

#include "sl_http_client.h"

struct sl_health;
typedef struct sl_health sl_health;

typedef enum sl_health_state {
    SL_HEALTH_DELIVERING = 0,
    SL_HEALTH_DEGRADED,
    SL_HEALTH_BLOCKED,
    SL_HEALTH_STATE_COUNT
} sl_health_state;

/* Longest last_error kept, NUL included (longer texts are cut). */
#define SL_HEALTH_ERROR_MAX 128

/* A health record that turns degraded once attempts have been failing
 * for degraded_after_ms; delivering since `now`. NULL out of memory.
 * Free with sl_health_free (accepts NULL). */
sl_health *sl_health_new(uint64_t degraded_after_ms, int64_t now);
void sl_health_free(sl_health *h);

/* A reload changed degraded_after_s: the state is judged by the new
 * threshold from now on (a streak of failures keeps its start). */
void sl_health_set_degraded_after(sl_health *h, uint64_t degraded_after_ms);

/* One delivery attempt's answer: 2xx is a success, anything else (and a
 * transport or TLS failure, `tls_failed`) a failure whose text becomes
 * last_error. Accepts h == NULL (does nothing). */
void sl_health_attempt(sl_health *h, const sl_http_client_response *res,
                       int tls_failed, int64_t now);

/* The intake refused records because the spool is full or failed
 * (`why`: a short secrets-free text): blocked from now until
 * sl_health_unblocked. Accepts h == NULL. */
void sl_health_refused(sl_health *h, const char *why, int64_t now);

/* The spool takes records again (the intake accepted some, or it has
 * room): no longer blocked. Cheap when not blocked. */
void sl_health_unblocked(sl_health *h, int64_t now);

/* Is it blocked now? */
int sl_health_blocked(const sl_health *h);

/* The state at `now`; *since (when not NULL) the instant it began. */
sl_health_state sl_health_state_at(const sl_health *h, int64_t now,
                                   int64_t *since);

/* The text of the last failure (attempt or refusal), "" when none yet;
 * *at (when not NULL) its time, 0 when none. Borrowed: valid until the
 * next call that feeds h. */
const char *sl_health_last_error(const sl_health *h, int64_t *at);

/* "delivering", "degraded", "blocked". */
const char *sl_health_state_name(sl_health_state s);

#endif
