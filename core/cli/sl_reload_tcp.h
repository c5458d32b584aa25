/* sl_reload_tcp: the gateway's raw-TCP listeners (gateway key `tcp`) as
 * they run now, and a reload's changes to them, in two phases: prepare
 * binds every new address and builds every TLS context again from its
 * files (a certificate rotated on disk is served after a SIGHUP), so that
 * a port taken or a file unreadable fails the reload with nothing
 * changed; commit, which cannot fail, opens the new addresses, hands the
 * socket of a listener whose settings changed to a new intake (the
 * socket is never closed: no connection is refused), and retires the
 * addresses gone (each still accepts what waits in its backlog). An
 * intake replaced or removed serves the connections it accepted, with
 * their settings, until they close; sl_reload_tcp_collect frees it then.
 *
 * Ownership: the set owns its intakes, their sockets and TLS contexts;
 * connectors and configurations are borrowed for the call only (each intake keeps its own copy of its settings). */
#ifndef SL_RELOAD_TCP_H
#define SL_RELOAD_TCP_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_connector.h"
#include "sl_metrics.h"

struct event_base;
typedef struct sl_reload_tcp sl_reload_tcp;
typedef struct sl_reload_tcp_change sl_reload_tcp_change;

/* The listeners of cfg->tcp, listening, each fed into its connector of
 * cs. NULL with the reason in err (an address taken, a TLS file, out of
 * memory). */
sl_reload_tcp *sl_reload_tcp_new(struct event_base *base, const sl_config *cfg,
                                 sl_connector *const *cs, size_t n, char *err,
                                 size_t errlen);

/* Phase 1 of a reload to `next` (borrowed until commit or abort): bind
 * the addresses of next->tcp no listener has, build every TLS context.
 * 0 with *out the change (for commit or abort), or -1 with *out NULL,
 * the reason logged (component reload) and nothing changed. */
int sl_reload_tcp_prepare(sl_reload_tcp *s, const sl_config *next,
                          sl_reload_tcp_change **out);

/* Undo what prepare did (close what it bound). Accepts NULL. */
void sl_reload_tcp_abort(sl_reload_tcp_change *ch);

/* Phase 2: apply ch (consumed) with the connectors running now (cs,
 * borrowed; after those the reload added). A listener whose connector is
 * not among them (its adding failed) is not opened, logged. Logs what
 * changed. */
void sl_reload_tcp_commit(sl_reload_tcp *s, sl_reload_tcp_change *ch,
                          sl_connector *const *cs, size_t n);

/* Free the replaced and removed intakes whose last connection closed. */
void sl_reload_tcp_collect(sl_reload_tcp *s);

/* *tcp, *ntcp = the listeners' settings now, as an array borrowed until
 * the next commit (what a reload is compared with). */
void sl_reload_tcp_running(const sl_reload_tcp *s, sl_tcp_conf **tcp,
                           size_t *ntcp);

size_t sl_reload_tcp_count(const sl_reload_tcp *s);  /* listeners */
size_t sl_reload_tcp_up(const sl_reload_tcp *s);     /* ... accepting */
size_t sl_reload_tcp_wanted(const sl_reload_tcp *s); /* configured */

/* "tcp 127.0.0.1:9000 (TLS) to crm" for listener i < count, into out. */
void sl_reload_tcp_describe(const sl_reload_tcp *s, size_t i, char *out,
                            size_t n);

/* The TLS listeners' views, at most max into views (strings borrowed
 * until the next commit). Returns how many. */
size_t sl_reload_tcp_tls_views(const sl_reload_tcp *s, sl_metrics_tls *views,
                               size_t max);

/* The start's lines, "tcp 127.0.0.1:9000 -> connector crm (NDJSON, ack)". */
void sl_reload_tcp_log_start(const sl_reload_tcp *s);

/* No new connection on any listener (shutdown); open ones are served. */
void sl_reload_tcp_close_listeners(sl_reload_tcp *s);

/* Close every connection and listener (before the connectors go). */
void sl_reload_tcp_stop(sl_reload_tcp *s);

/* Free the set, the helper threads too: after the connectors that
 * borrowed them. Accepts NULL. */
void sl_reload_tcp_free(sl_reload_tcp *s);

#endif
