/* sl_intake_http: the HTTP intake (libevent evhttp). Routes
 *   POST /v1/connectors/{name}/records   records in (JSON or NDJSON)
 *   GET  /v1/connectors[/{name}]         connectors, schema and counters
 *   GET  /healthz                        liveness: the process answers
 *   GET  /readyz                         readiness: 200, or 503 naming the
 *                                        check that failed
 *   GET  /metrics                        Prometheus text
 *   GET  /                               the status page (HTML)
 * Every answer is JSON (metrics excepted). */
#ifndef SL_INTAKE_HTTP_H
#define SL_INTAKE_HTTP_H

#include <stddef.h>

#include "sl_connector.h"

struct event_base;
struct sl_buf;
struct ssl_ctx_st;
struct sl_intake_http;
typedef struct sl_intake_http sl_intake_http;

typedef struct sl_intake_http_opts {
    const char *host;        /* address to bind */
    int port;
    size_t max_body_bytes;   /* larger bodies get 413 */
    size_t max_decompressed_bytes; /* gzip bodies inflated past this: 413 */
    size_t max_header_bytes; /* request line and headers */
    unsigned max_connections;   /* open at once; 0 = 1024 */
    unsigned idle_timeout_s;    /* a connection silent this long is closed */
    unsigned request_timeout_s; /* a request must be whole this long after
                                   its first byte; with tls, the handshake
                                   done this long after the connect */
    struct ssl_ctx_st *tls;     /* serve HTTPS with this server context
                                   (borrowed; must outlive the intake);
                                   NULL: plain HTTP. The admin address
                                   too */
    const char *admin_host;     /* NULL: every route on host:port. Else
                                   the introspection routes (/readyz,
                                   /metrics, GET /v1/connectors) are served
                                   on admin_host:admin_port only and
                                   host:port answers 404 for them;
                                   /healthz is on both */
    int admin_port;
    const char *const *admin_keys; /* the introspection routes need one as
                                      a bearer key (401 without); copied
                                      (as digests) */
    size_t nadmin_keys;            /* 0: they are open */
} sl_intake_http_opts;

/* Appends more Prometheus text to GET /metrics (the gateway's other
 * intakes). Returns 0, or -1 out of memory. */
typedef int (*sl_intake_http_metrics_fn)(void *arg, struct sl_buf *out);

/* Bind and serve on `base`. `connectors` (n of them) are borrowed and must
 * outlive the intake. NULL with a message in err when binding fails. */
sl_intake_http *sl_intake_http_new(struct event_base *base,
                                   const sl_intake_http_opts *opts,
                                   sl_connector *const *connectors, size_t n,
                                   char *err, size_t errlen);

/* The intake's connectors are now connectors[0..n) (the gateway's array,
 * which may have moved): the ones before as they were, in the same order,
 * then one more (a reload added it), open. 0, or -1 with a message in err
 * and the intake as it was (n not one more: -1 too). */
int sl_intake_http_add_connector(sl_intake_http *in,
                                 sl_connector *const *connectors, size_t n,
                                 char *err, size_t errlen);

/* Does the intake take records for connector c (one of those it was made
 * with)? Closed (a reload removed it): POST and GET /v1/connectors/{name}
 * answer 404 as for an unknown name, and GET /v1/connectors leaves it
 * out; what it was answering still gets its answer. Open by default. */
void sl_intake_http_set_open(sl_intake_http *in, const struct sl_connector *c,
                             int open);

/* GET /metrics also shows what fn appends (arg is passed to it; both
 * borrowed). */
void sl_intake_http_set_metrics(sl_intake_http *in, sl_intake_http_metrics_fn fn,
                                void *arg);

/* The checks of GET /readyz beyond the intake's own listener: append
 * `,"name":"ok"` or `,"name":"what is wrong"` per check (JSON members of
 * the "checks" object) and return how many failed (0: ready). */
typedef int (*sl_intake_http_ready_fn)(void *arg, struct sl_buf *checks);

/* GET /readyz also runs fn (arg is passed to it; both borrowed). */
void sl_intake_http_set_ready(sl_intake_http *in, sl_intake_http_ready_fn fn,
                              void *arg);

/* Writes the status page (HTML) served at GET /. 0, or -1 out of
 * memory. */
typedef int (*sl_intake_http_page_fn)(void *arg, struct sl_buf *out);

/* GET / answers with what fn writes (an introspection route: admitted
 * like /metrics); without it, GET / is 404. fn and arg borrowed. */
void sl_intake_http_set_page(sl_intake_http *in, sl_intake_http_page_fn fn,
                             void *arg);

/* Writes the intake's OpenAPI document (JSON, sl_openapi) served at
 * GET /openapi.json. 0, or -1 out of memory. */
typedef int (*sl_intake_http_openapi_fn)(void *arg, struct sl_buf *out);

/* GET /openapi.json answers with what fn writes, as application/json (an
 * introspection route: admitted like /metrics); without it, 404. fn and
 * arg borrowed. */
void sl_intake_http_set_openapi(sl_intake_http *in,
                                sl_intake_http_openapi_fn fn, void *arg);

/* TLS handshakes that failed or timed out since start (0 without tls). */
unsigned long long sl_intake_http_tls_failures(const sl_intake_http *in);

/* Stop listening and close every connection. Accepts NULL. */
void sl_intake_http_free(sl_intake_http *in);

/* A reload's change of the intake, in two steps. */
typedef struct sl_intake_http_change sl_intake_http_change;

typedef enum sl_intake_http_rc {
    SL_INTAKE_HTTP_OK = 0,
    SL_INTAKE_HTTP_LISTEN, /* host:port cannot be bound */
    SL_INTAKE_HTTP_ADMIN,  /* admin_host:admin_port cannot be bound */
    SL_INTAKE_HTTP_NOMEM
} sl_intake_http_rc;

/* Prepare serving opts (every key as it is to be; host:port is a new
 * address to bind when new_listen, admin_host:admin_port when new_admin
 * — admin_host NULL then: the admin address goes): binds the new
 * addresses, makes the admin server and the admin keys' digests. Nothing
 * the intake serves changes, and nothing is accepted on the new
 * addresses before sl_intake_http_commit (which must follow before the
 * loop turns again, or sl_intake_http_abort). OK with *out set, or the
 * failure with err set and *out NULL. Not after
 * sl_intake_http_close_listener. opts->tls is borrowed from the commit
 * on (the one before is no longer used for new connections then). */
sl_intake_http_rc sl_intake_http_prepare(sl_intake_http *in,
                                         const sl_intake_http_opts *opts,
                                         int new_listen, int new_admin,
                                         sl_intake_http_change **out,
                                         char *err, size_t errlen);

/* Apply c; cannot fail. The limits and TLS apply to connections
 * accepted from now on (max_connections at once: above it the listener
 * pauses, nothing is closed); an address that moved listens anew and the
 * old one closes once its backlog is accepted, its connections served to
 * their end; with a new admin address the intake's one answers 404 for
 * introspection, without one it serves it again. Frees c. */
void sl_intake_http_commit(sl_intake_http *in, sl_intake_http_change *c);

/* Drop c unapplied (the new sockets closed). Accepts NULL. */
void sl_intake_http_abort(sl_intake_http_change *c);

/* Stop accepting connections (shutdown); connections already open are
 * still served, so answers already queued reach their clients. The
 * admin address (admin_host) still accepts until sl_intake_http_free. */
void sl_intake_http_close_listener(sl_intake_http *in);

#endif
