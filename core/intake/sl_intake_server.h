/* sl_intake_server: one evhttp server of the HTTP intake (the intake's
 * address, or the admin one): the server, its connection guard
 * (sl_httpconn), its limits and its listening socket — bound, moved to
 * another address in two steps (a reload binds first and only switches
 * once everything else of the reload could be prepared), and retired.
 *
 * Ownership: the server owns its evhttp and guard; the callback and its
 * argument, and the TLS context in the guard's opts, are borrowed. */
#ifndef SL_INTAKE_SERVER_H
#define SL_INTAKE_SERVER_H

#include <stddef.h>

#include "sl_httpconn.h"

struct event_base;
struct evhttp_request;
struct evhttp_bound_socket;

typedef struct sl_intake_server sl_intake_server;

/* A request evhttp hands over, whole (the guard has been told). */
typedef void (*sl_intake_server_fn)(struct evhttp_request *req, void *arg);

/* A server on `base` serving every request through fn(req, arg), with
 * the guard's opts (evhttp's body and header limits from them too) and
 * idle_s as evhttp's idle timeout, listening on host:port. NULL with err
 * set when it cannot be made or bound. */
sl_intake_server *sl_intake_server_new(struct event_base *base,
                                       const sl_httpconn_opts *opts,
                                       unsigned idle_s, const char *host,
                                       int port, sl_intake_server_fn fn,
                                       void *arg, char *err, size_t errlen);

/* Stop listening and close every connection. Accepts NULL. */
void sl_intake_server_free(sl_intake_server *s);

/* The limits for connections accepted from now on: evhttp's body and
 * header limits and idle timeout (new connections take them), the
 * guard's (sl_httpconn_set_opts). */
void sl_intake_server_set_limits(sl_intake_server *s,
                                 const sl_httpconn_opts *opts,
                                 unsigned idle_s);

/* Bind host:port on s, the first step of a move: *fresh is bound but its
 * connections are not yet counted by the guard, so the caller must
 * switch to it (sl_intake_server_switch) or drop it
 * (sl_intake_server_unbind) before the loop turns again. 0, or -1 with
 * err set and s as it was. */
int sl_intake_server_bind(sl_intake_server *s, const char *host, int port,
                          struct evhttp_bound_socket **fresh, char *err,
                          size_t errlen);

/* Listen on fresh (from sl_intake_server_bind) from now on; the socket
 * it listened on stops accepting once its backlog is accepted
 * (sl_httpconn_retire); connections it accepted are served to their
 * end. */
void sl_intake_server_switch(sl_intake_server *s,
                             struct evhttp_bound_socket *fresh);

/* Close fresh (from sl_intake_server_bind) unused. Accepts NULL. */
void sl_intake_server_unbind(sl_intake_server *s,
                             struct evhttp_bound_socket *fresh);

/* Stop accepting: at once (retire 0: shutdown), or once the backlog is
 * accepted (retire 1: a reload dropped this address). Connections open
 * are still served until sl_intake_server_free. */
void sl_intake_server_close(sl_intake_server *s, int retire);

/* Does s accept connections? */
int sl_intake_server_listening(const sl_intake_server *s);

/* Its guard (counters, TLS failures). */
sl_httpconn *sl_intake_server_guard(const sl_intake_server *s);

#endif
