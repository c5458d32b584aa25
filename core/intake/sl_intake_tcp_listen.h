/* sl_intake_tcp_listen: the listening socket of a TCP listener, which
 * outlives the intake object serving it: bound before anything accepts
 * from it (a reload binds every new address first, so that one taken
 * fails the reload and changes nothing), handed from one intake to the
 * next without being closed (a reload that changes a listener's
 * settings: no connection is refused), and retired so that what waits in
 * its backlog is still accepted before it closes.
 *
 * Ownership: an sl_intake_tcp_listen owns its socket; the callback's arg
 * is borrowed. */
#ifndef SL_INTAKE_TCP_LISTEN_H
#define SL_INTAKE_TCP_LISTEN_H

#include <stddef.h>

#include <event2/listener.h>

struct event_base;
typedef struct sl_intake_tcp_listen sl_intake_tcp_listen;

/* Bind host:port (`listen` as written, for messages). The kernel queues
 * connections from now on; none is accepted until
 * sl_intake_tcp_listen_serve. NULL with the reason in err. */
sl_intake_tcp_listen *sl_intake_tcp_listen_bind(struct event_base *base,
                                                const char *listen,
                                                const char *host, int port,
                                                char *err, size_t errlen);

/* Accept from now on into cb(arg) (any earlier callback is replaced on
 * this turn of the loop: the next connection accepted goes to cb). */
void sl_intake_tcp_listen_serve(sl_intake_tcp_listen *l,
                                evconnlistener_cb cb, void *arg);

/* Stop accepting once the backlog is empty (looked at every 10 ms, for
 * at most a second), then close the socket. Connections accepted until
 * then go to the callback of now. */
void sl_intake_tcp_listen_retire(sl_intake_tcp_listen *l);

/* Close the socket now (shutdown). */
void sl_intake_tcp_listen_close(sl_intake_tcp_listen *l);

/* 1 while the socket is open and not retiring, else 0. */
int sl_intake_tcp_listen_up(const sl_intake_tcp_listen *l);

/* 1 while the socket is open (retiring or not). */
int sl_intake_tcp_listen_open(const sl_intake_tcp_listen *l);

void sl_intake_tcp_listen_free(sl_intake_tcp_listen *l); /* accepts NULL */

#endif
