/* sl_config_proxy: the proxy and no_proxy keys of a connector and their
 * resolution with the proxy environment variables at load. */
#include "sl_config_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_config_tls.h"

#define NO_PROXY_MAX 256 /* entries of one no_proxy list, at most */

static void setting_clear(sl_proxy_setting *s)
{
    if (s->value)
        memset(s->value, 0, strlen(s->value)); /* it may hold a password */
    free(s->value);
    memset(s, 0, sizeof *s);
}

void sl_config_proxy_free(sl_connector_conf *c)
{
    setting_clear(&c->proxy_http);
    setting_clear(&c->proxy_https);
    setting_clear(&c->no_proxy);
    free(c->proxy_ca_file);
    c->proxy_ca_file = NULL;
}

#define PROXY_SECRET_MAX 1024 /* bytes of proxy.user or proxy.password */

int sl_config_check_proxy_bare_url(const char *v, char *why, size_t n)
{
    const char *sep = strstr(v, "://");
    if (strchr(sep ? sep + 3 : v, '@')) {
        snprintf(why, n, "credentials go in user and password, not in url");
        return -1;
    }
    return sl_proxy_check_url(v, why, n);
}

void sl_config_parse_proxy_secret(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target)
{
    const char **dst = (const char **)((char *)target + key->off);
    size_t len = 0;
    *dst = NULL;
    if (!idx)
        return;
    if (lua_type(ctx->L, idx) != LUA_TSTRING) {
        sl_config_err(ctx, "expected a string, got a %s (value not shown)",
                      luaL_typename(ctx->L, idx));
        return;
    }
    const char *v = lua_tolstring(ctx->L, idx, &len);
    if (len == 0 || len > PROXY_SECRET_MAX || strlen(v) != len)
        sl_config_err(ctx, "%s (value not shown)",
                      strlen(v) != len ? "contains a NUL byte"
                      : len ? "longer than 1024 bytes" : "empty");
    else
        *dst = v;
}

/* "scheme://" esc(user) [":" esc(password)] "@" rest-of-url, malloc'd;
 * NULL out of memory. */
static char *with_credentials(const char *url, const char *user,
                              const char *password)
{
    const char *rest = strstr(url, "://") + 3; /* checked: it has one */
    char *u = curl_easy_escape(NULL, user, 0);
    char *p = password ? curl_easy_escape(NULL, password, 0) : NULL;
    char *out = NULL;
    if (u && (p || !password) &&
        asprintf(&out, "%.*s%s%s%s@%s", (int)(rest - url), url, u,
                 p ? ":" : "", p ? p : "", rest) < 0)
        out = NULL;
    if (u)
        memset(u, 0, strlen(u));
    if (p)
        memset(p, 0, strlen(p));
    curl_free(u);
    curl_free(p);
    return out;
}

/* proxy = { url = ..., user = ..., password = ... }: the URL to use, or
 * NULL with the problems reported. */
static char *parse_proxy_table(sl_config_parse_context *ctx,
                               const sl_config_key *key, int idx,
                               sl_config_connector_target *t)
{
    size_t before = ctx->nproblems;
    t->proxy_url = t->proxy_user = t->proxy_password = NULL;
    t->proxy_ca_file = NULL;
    sl_config_parse_table(ctx, idx, key->sub, t);
    if (ctx->nproblems != before || !t->proxy_url)
        return NULL;
    if (t->proxy_ca_file && strncasecmp(t->proxy_url, "https://", 8) != 0) {
        sl_config_path_push(ctx, "ca_file", 0);
        sl_config_err(ctx, "only for an https:// proxy: the connection to "
                      "this one is not TLS");
        sl_config_path_pop(ctx);
        return NULL;
    }
    if (t->proxy_ca_file &&
        !(t->c.proxy_ca_file = sl_config_strdup(ctx, t->proxy_ca_file)))
        return NULL;
    if (t->proxy_password && !t->proxy_user) {
        sl_config_path_push(ctx, "password", 0);
        sl_config_err(ctx, "needs user");
        sl_config_path_pop(ctx);
        return NULL;
    }
    char *url = t->proxy_user ? with_credentials(t->proxy_url, t->proxy_user,
                                                 t->proxy_password)
                              : strdup(t->proxy_url);
    if (!url)
        sl_config_err(ctx, "out of memory");
    return url;
}

void sl_config_parse_proxy(sl_config_parse_context *ctx,
                           const sl_config_key *key, int idx, void *target)
{
    sl_config_connector_target *t = target;
    sl_connector_conf *c = &t->c;
    lua_State *L = ctx->L;
    char why[256], masked[160];
    setting_clear(&c->proxy_http);
    setting_clear(&c->proxy_https);
    free(c->proxy_ca_file);
    c->proxy_ca_file = NULL;
    if (!idx)
        return; /* the environment decides, once all keys are read */
    if (lua_type(L, idx) == LUA_TBOOLEAN && !lua_toboolean(L, idx)) {
        c->proxy_http.source = c->proxy_https.source = SL_PROXY_FROM_OFF;
        return;
    }
    char *url = NULL;
    if (lua_type(L, idx) == LUA_TTABLE) {
        if (!(url = parse_proxy_table(ctx, key, idx, t)))
            return;
    } else if (lua_type(L, idx) != LUA_TSTRING) {
        sl_config_describe(L, idx, why, sizeof why);
        sl_config_err(ctx, "expected a proxy URL (\"http://proxy.example.com:"
                      "3128\"), a table { url = ..., user = ..., password = "
                      "... } or false, got %s",
                      lua_type(L, idx) == LUA_TBOOLEAN ? "boolean true" : why);
        return;
    } else {
        size_t len = 0;
        const char *v = lua_tolstring(L, idx, &len);
        sl_proxy_mask(v, masked, sizeof masked);
        if (strlen(v) != len) {
            sl_config_err(ctx, "\"%s\": contains a NUL byte", masked);
            return;
        }
        if (sl_proxy_check_url(v, why, sizeof why) != 0) {
            sl_config_err(ctx, "\"%s\": %s", masked, why);
            return;
        }
        if (!(url = strdup(v))) {
            sl_config_err(ctx, "out of memory");
            return;
        }
    }
    /* anchored at once: the setting owns it (and wipes it when freed) */
    c->proxy_http.value = url;
    c->proxy_http.source = c->proxy_https.source = SL_PROXY_FROM_KEY;
    if (sl_proxy_check_url(url, why, sizeof why) != 0) {
        /* credentials that make the URL too long */
        sl_config_err(ctx, "with user and password: %s", why);
        setting_clear(&c->proxy_http);
        c->proxy_https.source = SL_PROXY_FROM_NONE;
        return;
    }
    c->proxy_https.value = sl_config_strdup(ctx, url);
}

/* Append s[0..len) to the list being joined in *buf (size *cap, used
 * *used). 0, or -1 out of memory. */
static int join(char **buf, size_t *used, size_t *cap, const char *s,
                size_t len)
{
    size_t need = *used + len + 2;
    if (need > *cap) {
        size_t ncap = need * 2;
        char *nb = realloc(*buf, ncap);
        if (!nb)
            return -1;
        *buf = nb;
        *cap = ncap;
    }
    if (*used)
        (*buf)[(*used)++] = ',';
    memcpy(*buf + *used, s, len);
    *used += len;
    (*buf)[*used] = '\0';
    return 0;
}

void sl_config_parse_no_proxy(sl_config_parse_context *ctx,
                              const sl_config_key *key, int idx, void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    lua_State *L = ctx->L;
    char why[256];
    (void)key;
    setting_clear(&c->no_proxy);
    if (!idx || !sl_config_check_list(ctx, idx, "{ \"internal.example.com\", "
                                                "\"10.0.0.0/8\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0 || n > NO_PROXY_MAX) {
        sl_config_err(ctx, "list 1 to %d hosts, domains or CIDR blocks (%lld "
                      "given)", NO_PROXY_MAX, (long long)n);
        return;
    }
    char *list = NULL;
    size_t used = 0, cap = 0, before = ctx->nproblems;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* entry */
        sl_config_path_push(ctx, NULL, (long)i);
        size_t len = 0;
        const char *s =
            lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!s) {
            sl_config_describe(L, -1, why, sizeof why);
            sl_config_err(ctx, "expected a host, domain or CIDR block as a "
                          "string, got %s", why);
        } else if (sl_proxy_check_no_proxy_entry(s, len, why, sizeof why)) {
            sl_config_err(ctx, "%s", why);
        } else if (len == 1 && *s == '*' && n > 1) {
            sl_config_err(ctx, "\"*\" bypasses the proxy for every host; "
                          "list it alone");
        } else if (join(&list, &used, &cap, s, len) != 0) {
            sl_config_err(ctx, "out of memory");
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
    if (ctx->nproblems != before) {
        free(list);
        return;
    }
    c->no_proxy.value = list;
    c->no_proxy.source = SL_PROXY_FROM_KEY;
}

/* One scheme's proxy from the environment, when the key did not say. */
static void from_env(sl_config_parse_context *ctx, sl_connector_conf *c,
                     sl_proxy_setting *s, bool https, sl_proxy_getenv_fn fn,
                     void *ud)
{
    char why[256], masked[160];
    const char *v = NULL;
    const char *var = sl_proxy_env(fn, ud, https, &v);
    if (!var)
        return;
    char *url = NULL;
    const char *sep = strstr(v, "://");
    bool schemeless = !sep || strcspn(v, ":/@") < (size_t)(sep - v);
    if (schemeless ? asprintf(&url, "http://%s", v) < 0
                   : !(url = strdup(v))) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    /* Other programs read the same variables and take a missing port as
     * curl does: so does sluice, and says so (a connector key must be
     * complete). */
    long port = 0;
    char *ported = sl_proxy_add_default_port(url, &port);
    if (ported) {
        memset(url, 0, strlen(url));
        free(url);
        url = ported;
        sl_proxy_mask(v, masked, sizeof masked);
        if (!https || c->proxy_http.var != var) /* all_proxy: once */
            sl_config_warn(ctx, c, "environment variable %s=\"%s\" names no "
                       "port: port %ld is used (curl's default for a "
                       "proxy); write the port to be sure", var, masked,
                       port);
    }
    if (sl_proxy_check_url(url, why, sizeof why) != 0) {
        sl_proxy_mask(v, masked, sizeof masked);
        sl_config_err(ctx, "environment variable %s=\"%s\": %s; fix it, or "
                      "set the connector's proxy (a URL, or false to ignore "
                      "the environment)", var, masked, why);
        memset(url, 0, strlen(url));
        free(url);
        return;
    }
    s->value = url;
    s->source = SL_PROXY_FROM_ENV;
    s->var = var;
}

static void no_proxy_from_env(sl_config_parse_context *ctx,
                              sl_proxy_setting *s, sl_proxy_getenv_fn fn,
                              void *ud)
{
    const char *v = NULL;
    const char *var = sl_proxy_env_no_proxy(fn, ud, &v);
    if (!var)
        return;
    /* as curl reads it: entries separated by commas (spaces ignored),
     * passed on as they are; only what could not be one is refused */
    size_t len = strlen(v), bad = 0;
    while (bad < len && (unsigned char)v[bad] >= 0x20 && v[bad] != 0x7f)
        bad++;
    if (len > SL_PROXY_URL_MAX || bad < len) {
        sl_config_err(ctx, "environment variable %s: %s; fix it, or set the "
                      "connector's no_proxy", var,
                      bad < len ? "control character in it"
                                : "longer than 2048 bytes");
        return;
    }
    if ((s->value = sl_config_strdup(ctx, v))) {
        s->source = SL_PROXY_FROM_ENV;
        s->var = var;
    }
}

/* proxy.ca_file made relative to the connector file's directory, and
 * read as curl will read it. */
static void check_proxy_ca(sl_config_parse_context *ctx, sl_connector_conf *c)
{
    sl_config_tls_resolve(ctx, &c->proxy_ca_file);
    sl_transport_tls tls;
    memset(&tls, 0, sizeof tls);
    tls.ca_file = c->proxy_ca_file;
    sl_config_tls_check_files(ctx, c, &tls, "proxy");
}

void sl_config_proxy_resolve(sl_config_parse_context *ctx,
                             sl_connector_conf *c, sl_proxy_getenv_fn fn,
                             void *ud)
{
    bool off = c->proxy_http.source == SL_PROXY_FROM_OFF;
    sl_config_path_push(ctx, "proxy", 0);
    if (c->proxy_http.source == SL_PROXY_FROM_NONE)
        from_env(ctx, c, &c->proxy_http, false, fn, ud);
    if (c->proxy_https.source == SL_PROXY_FROM_NONE)
        from_env(ctx, c, &c->proxy_https, true, fn, ud);
    sl_config_path_pop(ctx);
    sl_config_path_push(ctx, "no_proxy", 0);
    if (off && c->no_proxy.source == SL_PROXY_FROM_KEY)
        sl_config_err(ctx, "set, but proxy = false: no request goes through "
                      "a proxy; remove it");
    else if (c->no_proxy.source == SL_PROXY_FROM_NONE &&
             (c->proxy_http.source == SL_PROXY_FROM_ENV ||
              c->proxy_https.source == SL_PROXY_FROM_ENV))
        no_proxy_from_env(ctx, &c->no_proxy, fn, ud);
    sl_config_path_pop(ctx);
    c->transport.proxy_http = c->proxy_http.value;
    c->transport.proxy_https = c->proxy_https.value;
    c->transport.no_proxy = c->no_proxy.value;
    if (c->proxy_ca_file)
        check_proxy_ca(ctx, c);
    c->transport.proxy_ca_file = c->proxy_ca_file;
}
