/* sl_httpconn: the bounds that libevent 2.1's evhttp does not keep on its
 * own for a server that strangers can reach:
 *   - open connections: at max_connections the listener stops accepting
 *     (new clients wait in the kernel's queue) until one closes;
 *   - slow clients: a request must arrive whole within request_timeout_s of
 *     its first byte, or the connection is closed (a slowloris client that
 *     trickles a byte now and then never trips an inactivity timeout);
 *   - its own answers to requests it refuses before handing them over (body
 *     over max_body_bytes, headers over max_header_bytes, a malformed
 *     request, an Expect it does not know) are HTML pages: they are
 *     rewritten, same status, into the JSON error every other answer has.
 *   - TLS (opts.tls): each connection's bufferevent is an OpenSSL one that
 *     accepts; the handshake must be done within request_timeout_s of the
 *     connect (a client that connects and stalls, or sends part of a
 *     ClientHello, sends no request byte that would start the clock
 *     above), and the limits above apply to what it decrypts. A handshake
 *     that fails or times out is logged and counted.
 * It hooks in through evhttp_set_bevcb (it creates each connection's
 * bufferevent) and watches each connection's input and output buffers. Single-threaded:
 * everything runs on the event loop of the evhttp. */
#ifndef SL_HTTPCONN_H
#define SL_HTTPCONN_H

#include <stddef.h>

struct event_base;
struct evhttp;
struct evhttp_request;
struct evconnlistener;
struct evhttp_bound_socket;
struct sl_buf;
struct ssl_ctx_st;

struct sl_httpconn;
typedef struct sl_httpconn sl_httpconn;

typedef struct sl_httpconn_opts {
    unsigned max_connections;   /* open at once; >= 1 */
    unsigned request_timeout_s; /* first byte to whole request; >= 1 */
    size_t max_body_bytes;      /* evhttp's limits, named in its 413 */
    size_t max_header_bytes;
    struct ssl_ctx_st *tls;     /* serve TLS with this server context
                                   (borrowed; kept until the guard is
                                   freed or given another, its open
                                   connections hold their own references);
                                   NULL: plain HTTP */
} sl_httpconn_opts;

/* Watch the connections `http` accepts from now on. The guard is borrowed
 * by `http` (its bufferevent callback) and must be freed after it. NULL on
 * allocation failure. */
sl_httpconn *sl_httpconn_new(struct event_base *base, struct evhttp *http,
                             const sl_httpconn_opts *opts);

/* Stop accepting on old (a listener of http; no longer the guard's) once
 * the connections waiting in its backlog are accepted: checked on the
 * loop's next turn, then every 10 ms, for at most 1 s. Deleted from http
 * then (or with it by evhttp_free). */
void sl_httpconn_retire(sl_httpconn *g, struct evhttp_bound_socket *old);

/* The listener to pause at the connection limit (borrowed; NULL when it
 * has been closed). */
void sl_httpconn_set_listener(sl_httpconn *g, struct evconnlistener *lev);

/* New limits (a reload): max_connections at once (above it, or at it,
 * the listener pauses; nothing open is closed), the others and tls for
 * the connections accepted from now on (each keeps the request timeout
 * and TLS context it was accepted with; an open TLS connection's SSL
 * holds its own reference on its context). */
void sl_httpconn_set_opts(sl_httpconn *g, const sl_httpconn_opts *opts);

/* To be called by the request handler for every request evhttp hands over
 * (it has arrived whole): its clock stops, and the connection is not
 * closed for slowness while the request is being answered. */
void sl_httpconn_request_done(sl_httpconn *g, struct evhttp_request *req);

/* Append the Prometheus text of sl_metrics_http_table (the counters since
 * start and the connections open now) to out. Returns 0, or -1 out of
 * memory (out is then unchanged). */
int sl_httpconn_metrics(const sl_httpconn *g, struct sl_buf *out);

/* TLS handshakes that failed or were not done in time since start (0
 * without TLS). */
unsigned long long sl_httpconn_tls_failures(const sl_httpconn *g);

/* Stop watching. Call after evhttp_free (which closes the connections);
 * accepts NULL. */
void sl_httpconn_free(sl_httpconn *g);

#endif
