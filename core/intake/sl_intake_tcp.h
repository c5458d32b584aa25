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
 * out is logged, counted and closed. */
#ifndef SL_INTAKE_TCP_H
#define SL_INTAKE_TCP_H

#include <stddef.h>

#include <openssl/ssl.h>

#include "sl_config.h"
#include "sl_connector.h"

struct event_base;
struct sl_intake_tcp;
typedef struct sl_intake_tcp sl_intake_tcp;

/* Bind and serve `conf` (borrowed) into `c` (borrowed; both must outlive
 * the listener), over TLS with the server context `tls` (borrowed, must
 * outlive it; NULL: plain). NULL with a message in err when binding
 * fails. */
sl_intake_tcp *sl_intake_tcp_new(struct event_base *base,
                                 const sl_tcp_conf *conf, sl_connector *c,
                                 SSL_CTX *tls, char *err, size_t errlen);

/* Stop accepting (shutdown); open connections are still served. */
void sl_intake_tcp_close_listener(sl_intake_tcp *t);

/* Close every connection and free. Accepts NULL. */
void sl_intake_tcp_free(sl_intake_tcp *t);

/* Connections open now. */
size_t sl_intake_tcp_connections(const sl_intake_tcp *t);

/* TLS handshakes that failed or timed out since start (0 when plain). */
unsigned long long sl_intake_tcp_tls_failures(const sl_intake_tcp *t);

#endif
