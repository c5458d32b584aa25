/* sl_intake_listen: see sl_intake_listen.h. */
#include "sl_intake_listen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <event2/http.h>

int sl_intake_listen_bind(struct evhttp *http, sl_httpconn *guard,
                          const char *host, int port,
                          struct evhttp_bound_socket **listener, char *err,
                          size_t errlen)
{
    struct evhttp_bound_socket *old = *listener;
    struct evhttp_bound_socket *fresh =
        evhttp_bind_socket_with_handle(http, host, (ev_uint16_t)port);
    if (!fresh) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port,
                 strerror(errno));
        return -1;
    }
    /* the new address listens: only now may the old one stop accepting */
    sl_httpconn_set_listener(guard, evhttp_bound_socket_get_listener(fresh));
    if (old)
        sl_httpconn_retire(guard, old);
    *listener = fresh;
    return 0;
}
