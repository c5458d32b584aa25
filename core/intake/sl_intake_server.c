/* sl_intake_server: see sl_intake_server.h. */
#include "sl_intake_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

struct sl_intake_server {
    struct evhttp *http;
    sl_httpconn *guard;                   /* its connections */
    struct evhttp_bound_socket *listener; /* NULL: not accepting */
    sl_intake_server_fn fn;               /* borrowed, with arg */
    void *arg;
};

static void on_request(struct evhttp_request *req, void *arg)
{
    sl_intake_server *s = arg;
    sl_httpconn_request_done(s->guard, req);
    s->fn(req, s->arg);
}

static void set_evhttp_limits(sl_intake_server *s, const sl_httpconn_opts *o,
                              unsigned idle_s)
{
    evhttp_set_max_body_size(s->http, (ev_ssize_t)o->max_body_bytes);
    evhttp_set_max_headers_size(s->http, (ev_ssize_t)o->max_header_bytes);
    evhttp_set_timeout(s->http, (int)idle_s);
}

sl_intake_server *sl_intake_server_new(struct event_base *base,
                                       const sl_httpconn_opts *opts,
                                       unsigned idle_s, const char *host,
                                       int port, sl_intake_server_fn fn,
                                       void *arg, char *err, size_t errlen)
{
    sl_intake_server *s = calloc(1, sizeof *s);
    if (!s || !(s->http = evhttp_new(base)) ||
        !(s->guard = sl_httpconn_new(base, s->http, opts))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    s->fn = fn;
    s->arg = arg;
    set_evhttp_limits(s, opts, idle_s);
    /* let every method reach the router, which answers 405 itself */
    evhttp_set_allowed_methods(s->http,
                               EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                   EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
                                   EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
                                   EVHTTP_REQ_PATCH);
    evhttp_set_gencb(s->http, on_request, s);
    struct evhttp_bound_socket *fresh = NULL;
    if (sl_intake_server_bind(s, host, port, &fresh, err, errlen) != 0)
        goto fail;
    sl_intake_server_switch(s, fresh);
    return s;
fail:
    sl_intake_server_free(s);
    return NULL;
}

void sl_intake_server_free(sl_intake_server *s)
{
    if (!s)
        return;
    if (s->guard)
        sl_httpconn_set_listener(s->guard, NULL);
    if (s->http)
        evhttp_free(s->http); /* closes the connections the guard watches */
    sl_httpconn_free(s->guard);
    free(s);
}

void sl_intake_server_set_limits(sl_intake_server *s,
                                 const sl_httpconn_opts *opts,
                                 unsigned idle_s)
{
    set_evhttp_limits(s, opts, idle_s);
    sl_httpconn_set_opts(s->guard, opts);
}

int sl_intake_server_bind(sl_intake_server *s, const char *host, int port,
                          struct evhttp_bound_socket **fresh, char *err,
                          size_t errlen)
{
    *fresh = evhttp_bind_socket_with_handle(s->http, host, (ev_uint16_t)port);
    if (!*fresh) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port,
                 strerror(errno));
        return -1;
    }
    return 0;
}

void sl_intake_server_switch(sl_intake_server *s,
                             struct evhttp_bound_socket *fresh)
{
    /* the new address listens: only now may the old one stop accepting */
    sl_httpconn_set_listener(s->guard,
                             evhttp_bound_socket_get_listener(fresh));
    if (s->listener)
        sl_httpconn_retire(s->guard, s->listener);
    s->listener = fresh;
}

void sl_intake_server_unbind(sl_intake_server *s,
                             struct evhttp_bound_socket *fresh)
{
    if (fresh)
        evhttp_del_accept_socket(s->http, fresh);
}

void sl_intake_server_close(sl_intake_server *s, int retire)
{
    if (!s || !s->listener)
        return;
    sl_httpconn_set_listener(s->guard, NULL);
    if (retire)
        sl_httpconn_retire(s->guard, s->listener);
    else
        evhttp_del_accept_socket(s->http, s->listener);
    s->listener = NULL;
}

int sl_intake_server_listening(const sl_intake_server *s)
{
    return s && s->listener != NULL;
}

sl_httpconn *sl_intake_server_guard(const sl_intake_server *s)
{
    return s->guard;
}
