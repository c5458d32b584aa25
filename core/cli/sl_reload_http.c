/* sl_reload_http: see sl_reload_http.h. */
#include "sl_reload_http.h"

#include <stdlib.h>
#include <string.h>

#include "sl_intake_tls.h"
#include "sl_log.h"

#define reload_error(...) sl_log_news(SL_LOG_ERROR, "reload", __VA_ARGS__)
#define reload_info(...) sl_log_news(SL_LOG_INFO, "reload", __VA_ARGS__)

struct sl_reload_http {
    const sl_config *keys; /* borrowed */
    SSL_CTX *tls;          /* owned */
};

struct sl_reload_http_change {
    const sl_config *next;
    SSL_CTX *tls;                /* owned until the commit */
    sl_intake_http_change *in;
    int new_listen, new_admin;
};

static int str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

sl_reload_http *sl_reload_http_new(const sl_config *cfg, SSL_CTX *tls)
{
    sl_reload_http *l = calloc(1, sizeof *l);
    if (l) {
        l->keys = cfg;
        l->tls = tls;
    }
    return l;
}

void sl_reload_http_free(sl_reload_http *l)
{
    if (!l)
        return;
    SSL_CTX_free(l->tls);
    free(l);
}

const sl_config *sl_reload_http_keys(const sl_reload_http *l)
{
    return l->keys;
}

SSL_CTX *sl_reload_http_tls(const sl_reload_http *l)
{
    return l->tls;
}

void sl_reload_http_opts(const sl_config *c, SSL_CTX *tls,
                         sl_intake_http_opts *o)
{
    *o = (sl_intake_http_opts){
        .host = c->listen_host, .port = c->listen_port,
        .max_body_bytes = c->max_body_bytes,
        .max_decompressed_bytes = c->max_decompressed_bytes,
        .max_header_bytes = c->max_header_bytes,
        .max_connections = c->max_connections,
        .idle_timeout_s = c->idle_timeout_s,
        .request_timeout_s = c->request_timeout_s, .tls = tls,
        .admin_host = c->admin_listen_host,
        .admin_port = c->admin_listen_port,
        .admin_keys = (const char *const *)c->admin_keys,
        .nadmin_keys = c->nadmin_keys};
}

int sl_reload_http_prepare(sl_reload_http *l, sl_intake_http *in,
                           const sl_config *next, sl_reload_http_change **out)
{
    const sl_config *k = l->keys;
    char err[768];
    sl_reload_http_change *c = calloc(1, sizeof *c);
    *out = NULL;
    if (!c) {
        reload_error("reload failed: out of memory; the running "
                     "configuration is unchanged");
        return -1;
    }
    c->next = next;
    c->new_listen = !str_eq(next->listen_host, k->listen_host) ||
                    next->listen_port != k->listen_port;
    c->new_admin = !str_eq(next->admin_listen_host, k->admin_listen_host) ||
                   next->admin_listen_port != k->admin_listen_port;
    if (sl_intake_tls_ctx(&next->tls, "tls", &c->tls, err, sizeof err) != 0) {
        reload_error("reload failed: %s; the running configuration is "
                     "unchanged", err);
        sl_reload_http_abort(c);
        return -1;
    }
    sl_intake_http_opts o;
    sl_reload_http_opts(next, c->tls, &o);
    sl_intake_http_rc rc = sl_intake_http_prepare(
        in, &o, c->new_listen, c->new_admin, &c->in, err, sizeof err);
    if (rc == SL_INTAKE_HTTP_LISTEN)
        reload_error("reload failed: listen %s: %s; the running "
                     "configuration is unchanged (listening on %s)",
                     next->listen, err, k->listen);
    else if (rc == SL_INTAKE_HTTP_ADMIN)
        reload_error("reload failed: admin_listen %s: %s; the running "
                     "configuration is unchanged", next->admin_listen, err);
    else if (rc != SL_INTAKE_HTTP_OK)
        reload_error("reload failed: %s; the running configuration is "
                     "unchanged", err);
    if (rc != SL_INTAKE_HTTP_OK) {
        sl_reload_http_abort(c);
        return -1;
    }
    *out = c;
    return 0;
}

/* The commit's account of the admin address. */
static void log_admin(const sl_config *was, const sl_config *now)
{
    if (now->admin_listen && was->admin_listen)
        reload_info("reload: admin on %s; %s closed", now->admin_listen,
                    was->admin_listen);
    else if (now->admin_listen)
        reload_info("reload: admin on %s; %s serves records and /healthz "
                    "only", now->admin_listen, now->listen);
    else
        reload_info("reload: admin_listen removed: %s serves introspection "
                    "again; %s closed", now->listen, was->admin_listen);
}

void sl_reload_http_commit(sl_reload_http *l, sl_intake_http *in,
                           sl_reload_http_change *c)
{
    const sl_config *was = l->keys, *now = c->next;
    sl_intake_http_commit(in, c->in);
    /* open TLS connections hold their own reference (SSL_new takes one
     * on its SSL_CTX): only new ones use the new context */
    SSL_CTX_free(l->tls);
    l->tls = c->tls;
    l->keys = now;
    if (c->new_listen)
        reload_info("reload: listening on %s; %s closed", now->listen,
                    was->listen);
    if (c->new_admin)
        log_admin(was, now);
    if (now->tls.cert)
        reload_info("reload: tls %s: new connections use %s", now->listen,
                    now->tls.cert);
    else if (was->tls.cert)
        reload_info("reload: tls off: new connections on %s are plain",
                    now->listen);
    free(c);
}

void sl_reload_http_abort(sl_reload_http_change *c)
{
    if (!c)
        return;
    sl_intake_http_abort(c->in);
    SSL_CTX_free(c->tls);
    free(c);
}
