/* sl_intake_tcp: a raw-TCP listener feeding one connector, one JSON record
 * per line (NDJSON). Lines go through the same transform, schema check and
 * spool as the HTTP intake, in chunks of whole lines. There is no answer
 * channel unless `ack` is set, so a rejected line goes to the connector's
 * reject log (line number, text, reason, peer). When the spool is full the
 * connection stops being read (TCP back-pressure) until there is room;
 * nothing is dropped. With `ack`, each line is answered "ok" or
 * "error <reason as JSON>" once its record is durable, in order. Peers not
 * in `allow` are closed at once; so are connections past
 * `max_connections`; a connection silent for `idle_timeout_s` is closed; a
 * line longer than `max_line_bytes` is rejected and skipped. With TLS
 * (`tls`), every connection starts with a handshake that must be done
 * within `line_timeout_s` of the connect; one that fails (a client
 * certificate missing or not signed by `client_ca`, plain text) or times
 * out is logged, counted and closed.
 *
 * An intake's settings are fixed (a copy of its sl_tcp_conf, owned) and
 * its listening socket is handed on: a reload that changes a listener
 * gives the socket to a new intake, and the old one serves the
 * connections it accepted, with the settings they were accepted with,
 * until they close. */
#ifndef SL_INTAKE_TCP_H
#define SL_INTAKE_TCP_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "sl_config.h"
#include "sl_connector.h"
#include "sl_intake_tcp_listen.h"

struct event_base;
struct sl_intake_tcp;
typedef struct sl_intake_tcp sl_intake_tcp;

/* An intake with the settings of conf (copied), feeding c (borrowed: it
 * must outlive the intake), over TLS with the server context tls (a
 * reference is taken; NULL: plain). It accepts nothing until given a
 * socket (sl_intake_tcp_take). NULL with a message in err (out of
 * memory, too many intakes on c). */
sl_intake_tcp *sl_intake_tcp_new(struct event_base *base,
                                 const sl_tcp_conf *conf, sl_connector *c,
                                 SSL_CTX *tls, char *err, size_t errlen);

/* New connections are served over tls (a reference taken; NULL: plain);
 * open ones keep theirs. */
void sl_intake_tcp_set_tls(sl_intake_tcp *t, SSL_CTX *tls);

/* Accept from l (owned from now on; any socket t had is freed). */
void sl_intake_tcp_take(sl_intake_tcp *t, sl_intake_tcp_listen *l);

/* t's socket, now the caller's (NULL: it has none); t accepts no more
 * once another intake takes it. */
sl_intake_tcp_listen *sl_intake_tcp_give(sl_intake_tcp *t);

/* Stop accepting once the backlog is empty (sl_intake_tcp_listen_retire);
 * open connections are served to their end. */
void sl_intake_tcp_retire(sl_intake_tcp *t);

/* Stop accepting now (shutdown); open connections are still served. */
void sl_intake_tcp_close_listener(sl_intake_tcp *t);

/* 1 while t accepts (its socket open, not retiring). */
int sl_intake_tcp_listening(const sl_intake_tcp *t);

/* 1 when t neither listens nor has a connection: it may be freed. */
int sl_intake_tcp_done(const sl_intake_tcp *t);

/* t's settings (its own copy). */
const sl_tcp_conf *sl_intake_tcp_settings(const sl_intake_tcp *t);

/* Close every connection and free. Accepts NULL. */
void sl_intake_tcp_free(sl_intake_tcp *t);

/* Connections open now. */
size_t sl_intake_tcp_connections(const sl_intake_tcp *t);

/* TLS handshakes that failed or timed out since t was made (0 when
 * plain). */
unsigned long long sl_intake_tcp_tls_failures(const sl_intake_tcp *t);

#endif
