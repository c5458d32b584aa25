/* sl_reload_listen: see sl_reload_listen.h. */
#include "sl_reload_listen.h"

#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_config_diff.h"
#include "sl_log.h"

struct sl_reload_listen {
    char *listen; /* "host:port" as written */
    char *host;
    int port;
};

static int set(sl_reload_listen *l, const char *listen, const char *host,
               int port)
{
    char *a = strdup(listen ? listen : "");
    char *b = strdup(host ? host : "");
    if (!a || !b) {
        free(a);
        free(b);
        return -1;
    }
    free(l->listen);
    free(l->host);
    l->listen = a;
    l->host = b;
    l->port = port;
    return 0;
}

sl_reload_listen *sl_reload_listen_new(const sl_config *cfg)
{
    sl_reload_listen *l = calloc(1, sizeof *l);
    if (l && set(l, cfg->listen, cfg->listen_host, cfg->listen_port) != 0) {
        free(l);
        return NULL;
    }
    return l;
}

void sl_reload_listen_free(sl_reload_listen *l)
{
    if (!l)
        return;
    free(l->listen);
    free(l->host);
    free(l);
}

const char *sl_reload_listen_host(const sl_reload_listen *l)
{
    return l->host;
}

int sl_reload_listen_port(const sl_reload_listen *l)
{
    return l->port;
}

void sl_reload_listen_running(const sl_reload_listen *l, const sl_config *cfg,
                              sl_config *out)
{
    *out = *cfg;
    out->listen = l->listen;
    out->listen_host = l->host;
    out->listen_port = l->port;
}

int sl_reload_listen_others(const sl_config *running, const sl_config *next)
{
    sl_config same = *next; /* next, but listening where running does */
    same.listen = running->listen;
    same.listen_host = running->listen_host;
    same.listen_port = running->listen_port;
    sl_buf gw;
    sl_buf_init(&gw, 0);
    int n = sl_config_diff_gateway(running, &same, &gw);
    sl_buf_free(&gw);
    return n < 0 ? -1 : n > 0;
}

int sl_reload_listen_apply(sl_reload_listen *l, sl_intake_http *in,
                           const sl_config *next)
{
    if (strcmp(next->listen_host, l->host) == 0 &&
        next->listen_port == l->port)
        return 0;
    sl_reload_listen to = {NULL, NULL, 0};
    char err[512] = "out of memory";
    if (set(&to, next->listen, next->listen_host, next->listen_port) != 0 ||
        sl_intake_http_move(in, to.host, to.port, err, sizeof err) != 0) {
        sl_log_news(SL_LOG_ERROR, "reload", "reload failed: listen %s: %s; "
                    "the running configuration is unchanged (listening on "
                    "%s)", next->listen, err, l->listen);
        free(to.listen);
        free(to.host);
        return -1;
    }
    sl_log_news(SL_LOG_INFO, "reload", "reload: listening on %s; %s closed",
                to.listen, l->listen);
    free(l->listen);
    free(l->host);
    *l = to;
    return 0;
}
