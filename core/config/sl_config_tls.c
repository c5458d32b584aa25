/* sl_config_tls: a connector's `tls` table: paths relative to the
 * connector file, the checks across its keys, and the transport's TLS
 * options. */
#include "sl_config_tls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sl_tls_files.h"

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

void sl_config_tls_resolve(sl_config_parse_context *ctx, char **path)
{
    const char *slash = strrchr(ctx->file, '/');
    if (!slash || !*path || (*path)[0] == '/')
        return;
    /* the file's directory; the root's "/" kept */
    char *dir = strndup(ctx->file, slash == ctx->file
                                       ? 1 : (size_t)(slash - ctx->file));
    if (!dir) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    sl_config_resolve_path(ctx, dir, path);
    free(dir);
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

typedef struct file_report {
    sl_config_parse_context *ctx;
    sl_connector_conf *c;
    const char *table;
} file_report;

/* sl_tls_files_report_fn: errors at the key, warnings kept. */
static void on_file_problem(void *ud, sl_tls_files_level level,
                            const char *key, const char *msg)
{
    file_report *r = ud;
    if (level == SL_TLS_FILES_WARNING) {
        sl_config_warn(r->ctx, r->c, "%s.%s: %s", r->table, key, msg);
        return;
    }
    sl_config_path_push(r->ctx, r->table, 0);
    sl_config_path_push(r->ctx, key, 0);
    sl_config_err(r->ctx, "%s (connector %s)", msg,
                  r->c->name ? r->c->name : "?");
    r->ctx->depth -= 2;
}

void sl_config_tls_check_files(sl_config_parse_context *ctx,
                               sl_connector_conf *c,
                               const sl_transport_tls *t, const char *table)
{
    file_report r = {ctx, c, table};
    sl_tls_files_check(t, time(NULL), SL_TLS_FILES_WARN_DAYS,
                       on_file_problem, &r);
}

/* Whether any tls key was written (the defaults are verify on, 1.2). */
static int tls_written(const sl_connector_conf *c)
{
    return c->tls_ca_file || c->tls_ca_path || c->tls_client_cert ||
           c->tls_client_key || c->tls_key_password || c->tls_server_name ||
           !c->tls_verify || c->tls_min_version != 0;
}

void sl_config_tls_after(sl_config_parse_context *ctx, sl_connector_conf *c)
{
    sl_config_tls_resolve(ctx, &c->tls_ca_file);
    sl_config_tls_resolve(ctx, &c->tls_ca_path);
    sl_config_tls_resolve(ctx, &c->tls_client_cert);
    sl_config_tls_resolve(ctx, &c->tls_client_key);
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
    sl_config_tls_check_files(ctx, c, t, "tls");
    if (c->url && strncasecmp(c->url, "http://", 7) == 0 && tls_written(c))
        sl_config_warn(ctx, c, "tls is set, but url is http://: nothing of "
                       "it is used (did you mean https://?)");
    else if (!c->tls_verify)
        sl_config_warn(ctx, c, "tls.verify = false: the destination's "
                       "certificate and name are NOT checked; anyone in the "
                       "path can read and change the requests");
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

/* "file X (N certificates: subject)" of the CA file. */
static void print_ca(const sl_connector_conf *c, FILE *out)
{
    sl_tls_files_info info;
    if (!c->tls_ca_file && !c->tls_ca_path) {
        fprintf(out, "system store");
        return;
    }
    if (c->tls_ca_file) {
        fprintf(out, "file %s", c->tls_ca_file);
        if (sl_tls_files_info_of(c->tls_ca_file, &info, NULL, 0) == 0)
            fprintf(out, " (%zu certificate%s: %s)", info.ncerts,
                    info.ncerts == 1 ? "" : "s, the first", info.subject);
    }
    if (c->tls_ca_path)
        fprintf(out, "%sdirectory %s", c->tls_ca_file ? " and " : "",
                c->tls_ca_path);
}

void sl_config_tls_print(const sl_connector_conf *c, FILE *out)
{
    sl_tls_files_info info;
    if (c->url && strncasecmp(c->url, "http://", 7) == 0) {
        fprintf(out, "  tls             not used (http:// destination)\n");
        return;
    }
    fprintf(out, "  tls             CA: ");
    print_ca(c, out);
    fprintf(out, "; verify %s; min TLS %s\n",
            c->tls_verify ? "on" : "OFF (see the WARNING)",
            c->tls_min_version == 1 ? "1.3" : "1.2");
    if (c->tls_client_cert) {
        fprintf(out, "  tls client cert ");
        if (sl_tls_files_info_of(c->tls_client_cert, &info, NULL, 0) == 0)
            fprintf(out, "%s, expires %s", info.subject, info.not_after);
        fprintf(out, " (%s; key %s%s)\n", c->tls_client_cert,
                c->tls_client_key ? c->tls_client_key : "in the same file",
                c->tls_key_password ? ", password set (hidden)" : "");
    } else {
        fprintf(out, "  tls client cert none\n");
    }
    if (c->tls_server_name)
        fprintf(out, "  tls server_name %s (asked for in SNI, verified and "
                "sent as Host; connects to url's host)\n",
                c->tls_server_name);
}
