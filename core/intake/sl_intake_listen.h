/* sl_intake_listen: binding an evhttp server's listening socket, and
 * moving it to another address without a moment where neither listens
 * (a reload that changes `listen`). */
#ifndef SL_INTAKE_LISTEN_H
#define SL_INTAKE_LISTEN_H

#include <stddef.h>

#include "sl_httpconn.h"

struct evhttp;
struct evhttp_bound_socket;

/* Bind host:port on http and give its listener to guard. When *listener
 * is set (the address it listens on now), that one stops accepting only
 * once the new one listens; the connections it had accepted stay
 * http's and are served to their end. 0 with *listener the new one, or
 * -1 with err set and everything as it was (the old one still
 * listening). The old one closes on a later turn of the loop, once no
 * connection waits in its backlog (sl_httpconn_retire). */
int sl_intake_listen_bind(struct evhttp *http, sl_httpconn *guard,
                          const char *host, int port,
                          struct evhttp_bound_socket **listener, char *err,
                          size_t errlen);

#endif
