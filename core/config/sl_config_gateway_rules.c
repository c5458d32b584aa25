/* sl_config_gateway_rules: what the gateway file's values must be beyond
 * what its key table says (sl_config_keys.c): the connector file
 * patterns, the TCP listeners and their allow lists, and the checks
 * across keys once all are read (addresses that clash, state_dir). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_addr.h"
#include "sl_config_connector_rules.h"
#include "sl_config_gateway_rules.h"
#include "sl_tls_server.h"

#define TCP_MAX_LISTENERS 64  /* gateway `tcp`: listeners at most */
#define TCP_ALLOW_MAX 1024    /* entries of one `allow`, at most */

/* A value shown in a message: at most 60 bytes, anything that could break
 * the one-line message or its quotes as '?', "..." when cut. */
static const char *shown(const char *s, size_t len, char *buf, size_t n)
{
    size_t k = 0;
    for (; k < len && k < 60 && k + 4 < n; k++)
        buf[k] = (unsigned char)s[k] < 0x20 || s[k] == 0x7f || s[k] == '"' ||
                         s[k] == '\\' ? '?' : s[k];
    if (k < len && k + 4 <= n)
        memcpy(buf + k, "...", 3), k += 3;
    buf[k] = '\0';
    return buf;
}

int sl_config_check_nonempty(const char *v, char *why, size_t n)
{
    if (*v)
        return 0;
    snprintf(why, n, "must not be empty");
    return -1;
}

static void add_pattern(sl_config_parse_context *ctx,
                        sl_config_gateway_target *gateway, const char *pat,
                        long index)
{
    if (gateway->npatterns == gateway->cappatterns) {
        size_t nc = gateway->cappatterns ? gateway->cappatterns * 2 : 4;
        char **np = realloc(gateway->patterns, nc * sizeof *np);
        if (np)
            gateway->patterns = np;
        long *ni =
            np ? realloc(gateway->pattern_index, nc * sizeof *ni) : NULL;
        if (ni)
            gateway->pattern_index = ni;
        if (!np || !ni) {
            sl_config_err(ctx, "out of memory");
            return;
        }
        gateway->cappatterns = nc;
    }
    gateway->pattern_index[gateway->npatterns] = index;
    if ((gateway->patterns[gateway->npatterns] = sl_config_strdup(ctx, pat)))
        gateway->npatterns++;
}

void sl_config_parse_connectors(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx, void *target)
{
    sl_config_gateway_target *gateway = target;
    lua_State *L = ctx->L;
    (void)key;
    if (!idx) {
        add_pattern(ctx, gateway, "connectors/*.lua", 1);
        return;
    }
    if (!sl_config_check_list(ctx, idx, "{ \"connectors/*.lua\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        sl_config_err(ctx, "must list at least one file or pattern");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* pattern */
        sl_config_path_push(ctx, NULL, (long)i);
        if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a file name or glob pattern, got %s",
                          got);
        } else {
            add_pattern(ctx, gateway, lua_tostring(L, -1), (long)i);
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
}

/* A listener's `allow`: addresses and CIDR blocks as written; absent,
 * loopback only. */
void sl_config_parse_allow(sl_config_parse_context *ctx,
                           const sl_config_key *key, int idx, void *target)
{
    static const char *const loopback[] = {"127.0.0.0/8", "::1"};
    sl_tcp_conf *listener = target;
    lua_State *L = ctx->L;
    char got[80];
    (void)key;
    if (!idx) {
        if (!(listener->allow = calloc(2, sizeof *listener->allow))) {
            sl_config_err(ctx, "out of memory");
            return;
        }
        for (size_t i = 0; i < 2; i++)
            if ((listener->allow[listener->nallow] =
                     sl_config_strdup(ctx, loopback[i])))
                listener->nallow++;
        return;
    }
    if (!sl_config_check_list(ctx, idx, "{ \"127.0.0.1\", \"10.0.0.0/8\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0) {
        sl_config_err(ctx, "list at least one address; leave allow out for "
                      "loopback only");
        return;
    }
    if (n > TCP_ALLOW_MAX) {
        sl_config_err(ctx, "%lld entries; at most %d are allowed", (long long)n,
                      TCP_ALLOW_MAX);
        return;
    }
    if (!(listener->allow = calloc((size_t)n, sizeof *listener->allow))) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        sl_cidr block;
        lua_rawgeti(L, idx, i);                    /* entry */
        sl_config_path_push(ctx, NULL, (long)i);
        size_t len = 0;
        const char *address = lua_type(L, -1) == LUA_TSTRING
                                  ? lua_tolstring(L, -1, &len) : NULL;
        if (!address) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected an address or CIDR block as a "
                          "string, got %s", got);
        } else if (sl_addr_parse_cidr(address, len, &block) != 0) {
            sl_config_err(ctx, "\"%s\" is not an address or CIDR block",
                          shown(address, len, got, sizeof got));
        } else if ((listener->allow[listener->nallow] =
                        sl_config_strdup(ctx, address))) {
            listener->nallow++;
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
}

/* The gateway's `tcp`: a list of listener tables. Every element gets its
 * slot (an empty one for an element that is not a table) so that the n-th
 * listener is tcp[n] in later messages. */
void sl_config_parse_tcp(sl_config_parse_context *ctx, const sl_config_key *key,
                         int idx, void *target)
{
    sl_config_gateway_target *gateway = target;
    lua_State *L = ctx->L;
    char got[64], why[256];
    if (!idx || !sl_config_check_list(ctx, idx,
                                      "{ { listen = \"127.0.0.1:5170\", "
                                      "connector = \"events\" } }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n > TCP_MAX_LISTENERS) {
        sl_config_err(ctx, "%lld listeners; at most %d are allowed",
                      (long long)n, TCP_MAX_LISTENERS);
        return;
    }
    if (n == 0)
        return;
    if (!(gateway->g.tcp = calloc((size_t)n, sizeof *gateway->g.tcp))) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    gateway->g.ntcp = (size_t)n; /* anchored before anything can fail */
    for (lua_Integer i = 1; i <= n; i++) {
        sl_tcp_conf *listener = &gateway->g.tcp[i - 1];
        lua_rawgeti(L, idx, i);                    /* listener */
        sl_config_path_push(ctx, NULL, (long)i);
        if (!lua_istable(L, -1)) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a table like { listen = "
                          "\"127.0.0.1:5170\", connector = \"events\" }, "
                          "got %s", got);
        } else {
            sl_config_parse_table(ctx, -1, key->sub, listener);
            if (listener->listen &&
                sl_addr_parse_listen(listener->listen, &listener->host,
                                     &listener->port, why, sizeof why)) {
                sl_config_path_push(ctx, "listen", 0);
                sl_config_err(ctx, "%s", why);
                sl_config_path_pop(ctx);
            }
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
}

void sl_config_parse_admin_keys(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target)
{
    sl_config *g = &((sl_config_gateway_target *)target)->g;
    (void)key;
    sl_config_parse_key_list(ctx, idx, "admin_keys",
                             "{ sluice.env(\"SLUICE_ADMIN_KEY\") }",
                             &g->admin_keys, &g->nadmin_keys);
}

/* admin_listen: parsed, and not the address of the HTTP intake (leaving
 * it out is how to share that) nor of a TCP listener. */
static void check_admin_listen(sl_config_parse_context *ctx, sl_config *g)
{
    char why[256];
    if (!g->admin_listen)
        return;
    sl_config_path_push(ctx, "admin_listen", 0);
    if (sl_addr_parse_listen(g->admin_listen, &g->admin_listen_host,
                             &g->admin_listen_port, why, sizeof why)) {
        sl_config_err(ctx, "%s", why);
    } else if (g->listen_host &&
               sl_addr_listen_clash(g->admin_listen_host, g->admin_listen_port,
                                    g->listen_host, g->listen_port)) {
        sl_config_err(ctx, "\"%s\" is (or overlaps) the address of the "
                      "HTTP intake (listen \"%s\"); leave admin_listen out "
                      "to serve both there", g->admin_listen, g->listen);
    } else {
        for (size_t i = 0; i < g->ntcp; i++)
            if (g->tcp[i].host &&
                sl_addr_listen_clash(g->admin_listen_host,
                                     g->admin_listen_port, g->tcp[i].host,
                                     g->tcp[i].port)) {
                sl_config_err(ctx, "\"%s\" is (or overlaps) the address "
                              "of tcp[%zu] (\"%s\")", g->admin_listen, i + 1,
                              g->tcp[i].listen);
                break;
            }
    }
    sl_config_path_pop(ctx);
}

/* No two sockets may want the same address: a listener against the HTTP
 * intake and against the listeners before it. */
static void check_tcp_addresses(sl_config_parse_context *ctx,
                                const sl_config_gateway_target *gateway)
{
    const sl_config *g = &gateway->g;
    for (size_t i = 0; i < g->ntcp; i++) {
        const sl_tcp_conf *listener = &g->tcp[i];
        int clash = 0;
        size_t j = 0;
        if (!listener->host)
            continue;
        sl_config_path_push(ctx, "tcp", 0);
        sl_config_path_push(ctx, NULL, (long)i + 1);
        sl_config_path_push(ctx, "listen", 0);
        if (g->listen_host &&
            (clash = sl_addr_listen_clash(listener->host, listener->port,
                                          g->listen_host, g->listen_port))) {
            if (clash == 1)
                sl_config_err(ctx, "\"%s\" is the address of the HTTP "
                              "intake (listen)", listener->listen);
            else
                sl_config_err(ctx, "\"%s\" takes port %d on every address, "
                              "also that of the HTTP intake (listen \"%s\")",
                              listener->listen, listener->port, g->listen);
        }
        for (; !clash && j < i; j++) {
            const sl_tcp_conf *other = &g->tcp[j];
            if (!other->host ||
                !(clash = sl_addr_listen_clash(listener->host, listener->port,
                                               other->host, other->port)))
                continue;
            if (clash == 1)
                sl_config_err(ctx, "\"%s\" is already the address of "
                              "tcp[%zu]", listener->listen, j + 1);
            else
                sl_config_err(ctx, "\"%s\" takes port %d on every address, "
                              "also that of tcp[%zu] (\"%s\")",
                              listener->listen, listener->port, j + 1,
                              other->listen);
        }
        ctx->depth -= 3;
    }
}

/* An intake's tls (the key path is at it): its files resolved, then read
 * and checked by building the server context the intake will use. */
static void check_tls(sl_config_parse_context *ctx, const char *dir,
                      sl_tls_conf *tls)
{
    sl_config_resolve_path(ctx, dir, &tls->cert);
    sl_config_resolve_path(ctx, dir, &tls->key);
    sl_config_resolve_path(ctx, dir, &tls->client_ca);
    if (!tls->cert || !tls->key)
        return; /* not given, or reported missing already */
    sl_tls_server_opts o = {
        .cert = tls->cert, .key = tls->key, .client_ca = tls->client_ca,
        .require_client_cert = tls->require_client_cert,
        .min_version = tls->min_version == 1 ? 13 : 12};
    const char *bad = NULL;
    char why[512];
    SSL_CTX *server = sl_tls_server_ctx_new(&o, &bad, why, sizeof why);
    if (server) {
        SSL_CTX_free(server);
        return;
    }
    if (bad)
        sl_config_path_push(ctx, bad, 0);
    sl_config_err(ctx, "%s", why);
    if (bad)
        sl_config_path_pop(ctx);
}

static void check_intake_tls(sl_config_parse_context *ctx,
                             sl_config_gateway_target *gateway)
{
    sl_config *g = &gateway->g;
    sl_config_path_push(ctx, "tls", 0);
    check_tls(ctx, gateway->dir, &g->tls);
    sl_config_path_pop(ctx);
    for (size_t i = 0; i < g->ntcp; i++) {
        sl_config_path_push(ctx, "tcp", 0);
        sl_config_path_push(ctx, NULL, (long)i + 1);
        sl_config_path_push(ctx, "tls", 0);
        check_tls(ctx, gateway->dir, &g->tcp[i].tls);
        ctx->depth -= 3;
    }
}

void sl_config_gateway_after(sl_config_parse_context *ctx, void *target)
{
    sl_config_gateway_target *gateway = target;
    char why[256];
    if (gateway->g.listen &&
        sl_addr_parse_listen(gateway->g.listen, &gateway->g.listen_host,
                             &gateway->g.listen_port, why, sizeof why)) {
        sl_config_path_push(ctx, "listen", 0);
        sl_config_err(ctx, "%s", why);
        sl_config_path_pop(ctx);
    }
    check_tcp_addresses(ctx, gateway);
    check_admin_listen(ctx, &gateway->g);
    check_intake_tls(ctx, gateway);
    sl_config_resolve_path(ctx, gateway->dir, &gateway->g.state_dir);
}
