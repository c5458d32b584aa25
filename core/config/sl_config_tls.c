/* sl_config_tls: a connector's `tls` table: paths relative to the
 * connector file, the checks across its keys, and the transport's TLS
 * options. */
#include "sl_config_tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SERVER_NAME_MAX 253 /* a DNS name's text, at most */
#define LABEL_MAX 63

int sl_config_check_server_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v), label = 0;
    if (len == 0 || len > SERVER_NAME_MAX) {
        snprintf(why, n, "a server name has 1 to %d characters",
                 SERVER_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i <= len; i++) {
        char ch = v[i];
        if (ch == '.' || ch == '\0') {
            if (label == 0 || label > LABEL_MAX || v[i - 1] == '-') {
                snprintf(why, n, "\"%.80s\" is not a DNS name (labels of 1 "
                         "to %d letters, digits and \"-\", not ending in "
                         "\"-\", joined by \".\")", v, LABEL_MAX);
                return -1;
            }
            label = 0;
            continue;
        }
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                 (ch >= '0' && ch <= '9') || (ch == '-' && label > 0);
        if (!ok) {
            snprintf(why, n, "\"%.80s\" is not a DNS name (character %zu; "
                     "letters, digits, \"-\" and \".\" only; no port or "
                     "scheme)", v, i + 1);
            return -1;
        }
        label++;
    }
    return 0;
}

/* *path made relative to dir (the connector file's directory) unless it
 * is absolute or dir is ".". */
static void resolve(sl_config_parse_context *ctx, const char *dir,
                    char **path)
{
    char *full;
    if (!*path || (*path)[0] == '/' || strcmp(dir, ".") == 0)
        return;
    if (asprintf(&full, "%s/%s", dir, *path) < 0) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    free(*path);
    *path = full;
}

/* A key set without the one it needs. */
static void needs(sl_config_parse_context *ctx, const char *key,
                  const char *msg)
{
    sl_config_path_push(ctx, "tls", 0);
    sl_config_path_push(ctx, key, 0);
    sl_config_err(ctx, "%s", msg);
    ctx->depth -= 2;
}

void sl_config_tls_after(sl_config_parse_context *ctx, sl_connector_conf *c)
{
    const char *slash = strrchr(ctx->file, '/');
    char *dir = slash ? strndup(ctx->file, (size_t)(slash - ctx->file) +
                                               (slash == ctx->file))
                      : strdup(".");
    if (!dir) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    resolve(ctx, dir, &c->tls_ca_file);
    resolve(ctx, dir, &c->tls_ca_path);
    resolve(ctx, dir, &c->tls_client_cert);
    resolve(ctx, dir, &c->tls_client_key);
    free(dir);
    if (c->tls_client_key && !c->tls_client_cert)
        needs(ctx, "client_key", "set, but tls.client_cert is not: add the "
              "certificate that goes with this key");
    if (c->tls_key_password && !c->tls_client_cert)
        needs(ctx, "client_key_password", "set, but there is no "
              "tls.client_cert (or tls.client_key) it could open");
    sl_transport_tls *t = &c->transport.tls;
    t->ca_file = c->tls_ca_file;
    t->ca_path = c->tls_ca_path;
    t->client_cert = c->tls_client_cert;
    t->client_key = c->tls_client_key;
    t->key_password = c->tls_key_password;
    t->server_name = c->tls_server_name;
    t->verify = c->tls_verify;
    t->min_version = c->tls_min_version == 1 ? 13 : 12;
}

void sl_config_tls_free(sl_connector_conf *c)
{
    free(c->tls_ca_file);
    free(c->tls_ca_path);
    free(c->tls_client_cert);
    free(c->tls_client_key);
    if (c->tls_key_password)
        memset(c->tls_key_password, 0, strlen(c->tls_key_password));
    free(c->tls_key_password);
    free(c->tls_server_name);
    c->tls_ca_file = c->tls_ca_path = c->tls_client_cert = NULL;
    c->tls_client_key = c->tls_key_password = c->tls_server_name = NULL;
}
