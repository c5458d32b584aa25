/* sl_intake_http: evhttp routes for records, introspection and health. */
#include "sl_intake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sl_err.h"
#include "sl_httpconn.h"
#include "sl_intake_post.h"
#include "sl_intake_reply.h"
#include "sl_intake_server.h"
#include "sl_log.h"
#include "sl_time.h"

/* Which routes a listener serves: all of them (no admin_listen), or the
 * intake's (records, /healthz) and the admin's (introspection, /healthz)
 * on two addresses. */
typedef enum { FACE_BOTH, FACE_INTAKE, FACE_ADMIN } face_kind;

typedef struct face {
    struct sl_intake_http *in;
    face_kind kind;
} face;

struct sl_intake_http {
    struct event_base *base;
    sl_intake_server *server; /* the intake's address: connection count,
                                 slow clients, evhttp's own refusals in
                                 JSON */
    sl_connector *const *connectors;
    size_t n;
    unsigned char *closed; /* per connector: 1 removed by a reload (404) */
    sl_buf answer;    /* reused per request */
    sl_intake_post *post; /* POSTs of records and their waits */
    sl_intake_http_metrics_fn more_metrics; /* borrowed; NULL none */
    void *more_metrics_arg;
    sl_intake_http_ready_fn ready; /* the gateway's checks; NULL none */
    void *ready_arg;
    sl_intake_http_page_fn page;   /* the status page; NULL: none (404) */
    void *page_arg;
    sl_intake_http_openapi_fn openapi; /* GET /openapi.json; NULL: 404 */
    void *openapi_arg;
    sl_intake_server *admin;  /* with admin_host: its own server */
    sl_intake_server *retired; /* an admin server a reload dropped, kept
                                  until another one is (or the end) for
                                  the connections it has */
    sl_auth *admin_auth;      /* admin_keys; NULL: introspection is open */
    face faces[2];            /* [0] the intake's server, [1] admin's */
};

static void reply_error(sl_intake_http *in, struct evhttp_request *req,
                        int code, const char *msg)
{
    sl_intake_reply_error(req, code, msg, &in->answer);
}

static void method_not_allowed(sl_intake_http *in, struct evhttp_request *req,
                               const char *allow)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
    char msg[96];
    snprintf(msg, sizeof msg, "method not allowed; use %s", allow);
    reply_error(in, req, 405, msg);
}

static sl_connector *find_connector(sl_intake_http *in, const char *name,
                                    size_t len)
{
    for (size_t i = 0; i < in->n; i++) {
        const char *cn = sl_connector_name(in->connectors[i]);
        if (strlen(cn) == len && memcmp(cn, name, len) == 0 && !in->closed[i])
            return in->connectors[i];
    }
    return NULL;
}

static size_t connector_index(const sl_intake_http *in,
                              const sl_connector *c)
{
    size_t i = 0;
    while (i < in->n && in->connectors[i] != c)
        i++;
    return i;
}

/* May this listener serve an introspection route to this request? When
 * not, the answer (404 on the intake's address when admin_listen is set,
 * 401 without the right admin key) is sent here. */
static int admitted(const face *f, struct evhttp_request *req)
{
    sl_intake_http *in = f->in;
    if (f->kind == FACE_INTAKE) {
        reply_error(in, req, 404, "no such route");
        return 0;
    }
    if (!in->admin_auth)
        return 1;
    const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req),
                                           "Authorization");
    sl_auth_rc rc = sl_auth_check_browser(in->admin_auth, authz);
    if (rc == SL_AUTH_OK)
        return 1;
    /* the key itself is never echoed or logged */
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"sluice admin\"");
    /* a browser asks for a password: the key */
    evhttp_add_header(out, "WWW-Authenticate", "Basic realm=\"sluice admin\"");
    reply_error(in, req, 401, rc == SL_AUTH_MISSING
                                  ? "this endpoint needs an admin key: send "
                                    "Authorization: Bearer <key>"
                                  : "wrong admin key");
    return 0;
}

static void get_connectors(sl_intake_http *in, struct evhttp_request *req)
{
    sl_buf *a = &in->answer;
    sl_buf_reset(a);
    sl_buf_append(a, "{\"connectors\":[", 15);
    for (size_t i = 0, listed = 0; i < in->n; i++) {
        if (in->closed[i])
            continue;
        if (listed++)
            sl_buf_putc(a, ',');
        sl_connector_describe(in->connectors[i], a);
    }
    sl_buf_append(a, "]}", 2);
    sl_intake_reply_json(req, 200, a);
}

static void route_connectors(const face *f, struct evhttp_request *req,
                             const char *rest, size_t rlen,
                             enum evhttp_cmd_type cmd)
{
    sl_intake_http *in = f->in;
    /* rest is what follows "/v1/connectors" */
    const char *second = rlen > 1 ? memchr(rest + 1, '/', rlen - 1) : NULL;
    if (!second && !admitted(f, req))
        return;
    if (second && f->kind == FACE_ADMIN) {
        /* records are taken on the intake's address only */
        reply_error(in, req, 404, "no such route");
        return;
    }
    if (rlen == 0 || (rlen == 1 && rest[0] == '/')) {
        if (cmd != EVHTTP_REQ_GET)
            method_not_allowed(in, req, "GET");
        else
            get_connectors(in, req);
        return;
    }
    if (rest[0] != '/') {
        reply_error(in, req, 404, "no such route");
        return;
    }
    rest++;
    rlen--;
    const char *slash = memchr(rest, '/', rlen);
    size_t nlen = slash ? (size_t)(slash - rest) : rlen;
    sl_connector *c = find_connector(in, rest, nlen);
    if (!c) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown connector \"%.*s\"",
                 (int)(nlen > 64 ? 64 : nlen), rest);
        reply_error(in, req, 404, msg);
        return;
    }
    if (!slash) {
        if (cmd != EVHTTP_REQ_GET) {
            method_not_allowed(in, req, "GET");
            return;
        }
        sl_buf_reset(&in->answer);
        sl_connector_describe(c, &in->answer);
        sl_intake_reply_json(req, 200, &in->answer);
        return;
    }
    size_t tail = rlen - nlen;
    if (tail == 8 && memcmp(slash, "/records", 8) == 0) {
        if (cmd != EVHTTP_REQ_POST)
            method_not_allowed(in, req, "POST");
        else
            sl_intake_post_handle(in->post, req, c);
        return;
    }
    reply_error(in, req, 404, "no such route");
}

/* GET /readyz: 200 when every check passes, else 503; the body names
 * each check and what is wrong with it. */
static void get_readyz(sl_intake_http *in, struct evhttp_request *req)
{
    sl_buf *a = &in->answer;
    sl_buf_reset(a);
    sl_buf_append(a, "{\"checks\":{\"http_listener\":", 27);
    int failed = !sl_intake_server_listening(in->server) ||
                 (in->admin && !sl_intake_server_listening(in->admin));
    sl_buf_printf(a, "%s", failed ? "\"not listening\"" : "\"ok\"");
    if (in->ready)
        failed += in->ready(in->ready_arg, a);
    sl_buf_printf(a, "},\"status\":\"%s\"}", failed ? "not ready" : "ready");
    if (a->len && sl_buf_putc(a, '\n') == 0 && a->data)
        sl_intake_reply(req, failed ? 503 : 200, "application/json", a->data, a->len);
    else
        reply_error(in, req, 500, "out of memory");
}

/* GET /: the status page, never cached, allowed nothing but its own
 * inline style (no script, nothing fetched). */
static void get_page(sl_intake_http *in, struct evhttp_request *req,
                     enum evhttp_cmd_type cmd)
{
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        method_not_allowed(in, req, "GET");
        return;
    }
    sl_buf_reset(&in->answer);
    if (in->page(in->page_arg, &in->answer) != 0 || !in->answer.data) {
        reply_error(in, req, 500, "out of memory writing the status page");
        return;
    }
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Content-Security-Policy",
                      "default-src 'none'; style-src 'unsafe-inline'");
    sl_intake_reply(req, 200, "text/html; charset=utf-8", in->answer.data,
          in->answer.len);
}

/* GET /openapi.json: the document of the connectors served now. */
static void get_openapi(sl_intake_http *in, struct evhttp_request *req,
                        enum evhttp_cmd_type cmd)
{
    sl_buf_reset(&in->answer);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
        method_not_allowed(in, req, "GET");
    else if (in->openapi(in->openapi_arg, &in->answer) != 0)
        reply_error(in, req, 500, "out of memory writing the document");
    else
        sl_intake_reply_json(req, 200, &in->answer);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const face *f = arg;
    sl_intake_http *in = f->in;
    const char *uri = evhttp_request_get_uri(req);
    size_t ulen = strcspn(uri, "?#");
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    static const char prefix[] = "/v1/connectors";
    const size_t plen = sizeof prefix - 1;

    if (ulen >= plen && memcmp(uri, prefix, plen) == 0) {
        route_connectors(f, req, uri + plen, ulen - plen, cmd);
    } else if (ulen == 8 && memcmp(uri, "/healthz", 8) == 0) {
        if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
            method_not_allowed(in, req, "GET");
            return;
        }
        sl_buf_reset(&in->answer);
        sl_buf_append(&in->answer, "{\"status\":\"ok\"}", 15);
        sl_intake_reply_json(req, 200, &in->answer);
    } else if (ulen == 1 && uri[0] == '/' && in->page) {
        if (admitted(f, req))
            get_page(in, req, cmd);
    } else if (ulen == 13 && memcmp(uri, "/openapi.json", 13) == 0 &&
               in->openapi) {
        if (admitted(f, req))
            get_openapi(in, req, cmd);
    } else if (ulen == 7 && memcmp(uri, "/readyz", 7) == 0) {
        if (!admitted(f, req))
            return;
        if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD)
            method_not_allowed(in, req, "GET");
        else
            get_readyz(in, req);
    } else if (ulen == 8 && memcmp(uri, "/metrics", 8) == 0) {
        if (!admitted(f, req))
            return;
        if (cmd != EVHTTP_REQ_GET) {
            method_not_allowed(in, req, "GET");
            return;
        }
        sl_buf_reset(&in->answer);
        if (sl_connector_metrics(in->connectors, in->n, &in->answer) != 0 ||
            sl_httpconn_metrics(sl_intake_server_guard(in->server),
                                &in->answer) != 0 ||
            (in->more_metrics &&
             in->more_metrics(in->more_metrics_arg, &in->answer) != 0)) {
            reply_error(in, req, 500, "out of memory writing the metrics");
            return;
        }
        sl_intake_reply(req, 200, "text/plain; version=0.0.4", in->answer.data,
              in->answer.len);
    } else {
        reply_error(in, req, 404, "no such route");
    }
}

/* opts' limits with their defaults: the guard's, evhttp's idle timeout,
 * the inflated body's cap. */
static void limits_of(const sl_intake_http_opts *opts, sl_httpconn_opts *g,
                      unsigned *idle, size_t *max_inflated)
{
    *g = (sl_httpconn_opts){
        .max_connections = opts->max_connections ? opts->max_connections : 1024,
        .request_timeout_s = opts->request_timeout_s ? opts->request_timeout_s
                                                     : 30,
        .max_body_bytes = opts->max_body_bytes ? opts->max_body_bytes
                                               : (size_t)8 << 20,
        .max_header_bytes = opts->max_header_bytes ? opts->max_header_bytes
                                                   : (size_t)64 << 10,
        .tls = opts->tls,
    };
    *idle = opts->idle_timeout_s ? opts->idle_timeout_s : 60;
    *max_inflated = opts->max_decompressed_bytes ? opts->max_decompressed_bytes
                                                 : (size_t)64 << 20;
}

sl_intake_http *sl_intake_http_new(struct event_base *base,
                                   const sl_intake_http_opts *opts,
                                   sl_connector *const *connectors, size_t n,
                                   char *err, size_t errlen)
{
    sl_intake_http *in = calloc(1, sizeof *in);
    if (!in) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    in->base = base;
    in->connectors = connectors;
    in->n = n;
    sl_buf_init(&in->answer, 0);
    sl_httpconn_opts gopts;
    unsigned idle;
    size_t max_inflated;
    limits_of(opts, &gopts, &idle, &max_inflated);
    if (!(in->post = sl_intake_post_new(max_inflated)) ||
        !(in->closed = calloc(n ? n : 1, 1))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++)
        if (sl_intake_post_add(in->post, connectors[i], err, errlen) != 0)
            goto fail;
    in->faces[0] = (face){in, opts->admin_host ? FACE_INTAKE : FACE_BOTH};
    in->faces[1] = (face){in, FACE_ADMIN};
    if (!(in->server = sl_intake_server_new(base, &gopts, idle, opts->host,
                                            opts->port, on_request,
                                            &in->faces[0], err, errlen)))
        goto fail;
    if (opts->nadmin_keys &&
        !(in->admin_auth = sl_auth_new(opts->admin_keys, opts->nadmin_keys))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (opts->admin_host) {
        gopts.max_connections = 64; /* probes and scrapers, not traffic */
        if (!(in->admin = sl_intake_server_new(base, &gopts, idle,
                                               opts->admin_host,
                                               opts->admin_port, on_request,
                                               &in->faces[1], err, errlen)))
            goto fail;
    }
    return in;
fail:
    sl_intake_http_free(in);
    return NULL;
}

int sl_intake_http_add_connector(sl_intake_http *in,
                                 sl_connector *const *connectors, size_t n,
                                 char *err, size_t errlen)
{
    unsigned char *cl = realloc(in->closed, n ? n : 1);
    in->closed = cl ? cl : in->closed;
    if (!cl)
        return sl_err_fail(err, errlen, "out of memory");
    if (n != in->n + 1)
        return sl_err_fail(err, errlen, "one connector at a time");
    if (sl_intake_post_add(in->post, connectors[n - 1], err, errlen) != 0)
        return -1;
    cl[in->n] = 0;
    in->connectors = connectors;
    in->n = n;
    return 0;
}

void sl_intake_http_set_open(sl_intake_http *in, const sl_connector *c,
                             int open)
{
    size_t i = connector_index(in, c);
    if (i < in->n)
        in->closed[i] = !open;
}

void sl_intake_http_set_metrics(sl_intake_http *in, sl_intake_http_metrics_fn fn,
                                void *arg)
{
    in->more_metrics = fn;
    in->more_metrics_arg = arg;
}

void sl_intake_http_set_page(sl_intake_http *in, sl_intake_http_page_fn fn,
                             void *arg)
{
    in->page = fn;
    in->page_arg = arg;
}

void sl_intake_http_set_ready(sl_intake_http *in, sl_intake_http_ready_fn fn,
                              void *arg)
{
    in->ready = fn;
    in->ready_arg = arg;
}

void sl_intake_http_set_openapi(sl_intake_http *in,
                                sl_intake_http_openapi_fn fn, void *arg)
{
    in->openapi = fn;
    in->openapi_arg = arg;
}

unsigned long long sl_intake_http_tls_failures(const sl_intake_http *in)
{
    return sl_httpconn_tls_failures(sl_intake_server_guard(in->server));
}

struct sl_intake_http_change {
    sl_intake_server *server, *admin;  /* the intake's; the admin's now */
    struct evhttp_bound_socket *fresh; /* the intake's new address */
    struct evhttp_bound_socket *admin_fresh; /* on admin: its new one */
    sl_intake_server *admin_new;       /* none -> some */
    int admin_off;                     /* some -> none */
    sl_auth *auth;                     /* NULL: introspection open */
    sl_httpconn_opts gopts;
    unsigned idle;
    size_t max_inflated;
};

sl_intake_http_rc sl_intake_http_prepare(sl_intake_http *in,
                                         const sl_intake_http_opts *opts,
                                         int new_listen, int new_admin,
                                         sl_intake_http_change **out,
                                         char *err, size_t errlen)
{
    sl_intake_http_change *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c || (opts->nadmin_keys && !(c->auth = sl_auth_new(
                   opts->admin_keys, opts->nadmin_keys)))) {
        sl_intake_http_abort(c);
        snprintf(err, errlen, "out of memory");
        return SL_INTAKE_HTTP_NOMEM;
    }
    c->server = in->server;
    c->admin = in->admin;
    limits_of(opts, &c->gopts, &c->idle, &c->max_inflated);
    if (new_listen && sl_intake_server_bind(in->server, opts->host, opts->port,
                                            &c->fresh, err, errlen) != 0) {
        sl_intake_http_abort(c);
        return SL_INTAKE_HTTP_LISTEN;
    }
    sl_httpconn_opts admin = c->gopts;
    admin.max_connections = 64; /* probes and scrapers, not traffic */
    int failed = 0;
    if (new_admin && opts->admin_host && in->admin)
        failed = sl_intake_server_bind(in->admin, opts->admin_host,
                                       opts->admin_port, &c->admin_fresh, err,
                                       errlen);
    else if (new_admin && opts->admin_host)
        failed = !(c->admin_new = sl_intake_server_new(
                       in->base, &admin, c->idle, opts->admin_host,
                       opts->admin_port, on_request, &in->faces[1], err,
                       errlen));
    else if (new_admin)
        c->admin_off = in->admin != NULL;
    if (failed) {
        sl_intake_http_abort(c);
        return SL_INTAKE_HTTP_ADMIN;
    }
    *out = c;
    return SL_INTAKE_HTTP_OK;
}

void sl_intake_http_abort(sl_intake_http_change *c)
{
    if (!c)
        return;
    sl_intake_server_unbind(c->server, c->fresh);
    if (c->admin_fresh)
        sl_intake_server_unbind(c->admin, c->admin_fresh);
    sl_intake_server_free(c->admin_new);
    sl_auth_free(c->auth);
    free(c);
}

void sl_intake_http_commit(sl_intake_http *in, sl_intake_http_change *c)
{
    sl_httpconn_opts admin = c->gopts;
    admin.max_connections = 64;
    /* the new limits and TLS first: a socket that retires still accepts
     * what waits in its backlog */
    sl_intake_server_set_limits(in->server, &c->gopts, c->idle);
    if (in->admin)
        sl_intake_server_set_limits(in->admin, &admin, c->idle);
    if (c->fresh)
        sl_intake_server_switch(in->server, c->fresh);
    if (c->admin_fresh)
        sl_intake_server_switch(in->admin, c->admin_fresh);
    if (c->admin_new) {
        in->admin = c->admin_new;
        in->faces[0].kind = FACE_INTAKE;
    }
    if (c->admin_off) {
        /* its open connections are served until another one retires */
        sl_intake_server_close(in->admin, 1);
        sl_intake_server_free(in->retired);
        in->retired = in->admin;
        in->admin = NULL;
        in->faces[0].kind = FACE_BOTH;
    }
    sl_auth_free(in->admin_auth);
    in->admin_auth = c->auth;
    sl_intake_post_set_max_inflated(in->post, c->max_inflated);
    free(c);
}

void sl_intake_http_close_listener(sl_intake_http *in)
{
    if (in)
        sl_intake_server_close(in->server, 0);
    /* the admin address stays until the intake is freed: during the
     * drain /readyz says "shutting down" and /metrics shows it */
}

void sl_intake_http_free(sl_intake_http *in)
{
    if (!in)
        return;
    sl_intake_post_free(in->post);
    free(in->closed);
    sl_intake_server_free(in->server);
    sl_intake_server_free(in->admin);
    sl_intake_server_free(in->retired);
    sl_auth_free(in->admin_auth);
    sl_buf_free(&in->answer);
    free(in);
}
