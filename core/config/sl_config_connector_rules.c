/* sl_config_connector_rules: what a connector file's values must be beyond
 * what its key table says (sl_config_keys.c): names, headers, functions,
 * intake keys, the schema list, and the checks across keys once all are
 * read. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "sl_addr.h"
#include "sl_config_connector_rules.h"
#include "sl_config_tls.h"
#include "sl_fieldtpl.h"
#include "sl_gzip.h"
#include "sl_header.h"
#include "sl_json.h"
#include "sl_schema.h"

#define INTAKE_KEY_MIN 16   /* characters of one intake key, at least */
#define INTAKE_KEY_MAX 1024 /* and at most */
#define INTAKE_KEYS_MAX 16  /* keys in intake_keys, at most */

int sl_config_check_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    bool ok = len > 0 && len <= 64 && !(v[0] >= '0' && v[0] <= '9') &&
              v[0] != '-';
    for (const char *s = v; ok && *s; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
             (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';
    if (ok)
        return 0;
    snprintf(why, n, "invalid name \"%.80s\" (letters, digits, \"_\" and "
             "\"-\", not starting with a digit or \"-\", at most 64 "
             "characters)", v);
    return -1;
}

int sl_config_check_field_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    if (len == 0 || len > 127) {
        snprintf(why, n, "field names have 1 to 127 bytes");
        return -1;
    }
    for (const char *s = v; *s; s++)
        if ((unsigned char)*s < 0x20) {
            snprintf(why, n, "control character in field name");
            return -1;
        }
    return 0;
}

/* Where a URL's path (or query) starts: placeholders stand only there. */
static size_t url_path_start(const char *url)
{
    const char *sep = strstr(url, "://");
    if (!sep)
        return 0;
    return (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#");
}

int sl_config_check_url(const char *v, char *why, size_t n)
{
    sl_fieldtpl *t = NULL;
    if (sl_fieldtpl_parse(v, SL_FIELDTPL_URL, url_path_start(v), NULL, "",
                          &t, why, n) != 0)
        return -1;
    sl_fieldtpl_free(t);
    return sl_addr_check_url(v, why, n);
}

void sl_config_parse_headers(sl_config_parse_context *ctx,
                             const sl_config_key *key, int idx, void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    lua_State *L = ctx->L;
    char got[64];
    (void)key;
    if (!idx)
        return;
    lua_pushnil(L);                                /* nil */
    while (lua_next(L, idx)) {                     /* name value */
        if (lua_type(L, -2) != LUA_TSTRING) {
            sl_config_describe(L, -2, got, sizeof got);
            sl_config_err(ctx, "header names must be strings, got %s", got);
            lua_pop(L, 1);                         /* name */
            continue;
        }
        const char *name = lua_tostring(L, -2), *v;
        sl_config_path_push(ctx, name, 0);
        if (!sl_header_name_ok(name)) {
            sl_config_err(ctx, "invalid header name (letters, digits and "
                          "!#$%%&'*+-.^_`|~ only)");
        } else if (sl_header_reserved(name)) {
            sl_config_err(ctx, "set by sluice; remove it");
        } else if (lua_type(L, -1) != LUA_TSTRING) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a string, got %s", got);
        } else if (!sl_header_value_ok(v = lua_tostring(L, -1),
                                       lua_rawlen(L, -1))) {
            sl_config_err(ctx, "header values must not contain CR, LF or NUL");
        } else {
            sl_header *nh =
                realloc(c->headers, (c->nheaders + 1) * sizeof *nh);
            if (!nh) {
                sl_config_err(ctx, "out of memory");
            } else {
                c->headers = nh;
                nh[c->nheaders] = (sl_header){NULL, NULL};
                c->nheaders++; /* anchored before anything can fail */
                nh[c->nheaders - 1].name = sl_config_strdup(ctx, name);
                nh[c->nheaders - 1].value = sl_config_strdup(ctx, v);
            }
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* name */
    }
    for (size_t i = 0; i < c->nheaders; i++)       /* sort by name */
        for (size_t j = i; j > 0 && c->headers[j - 1].name &&
                           c->headers[j].name &&
                           strcasecmp(c->headers[j - 1].name,
                                      c->headers[j].name) > 0; j--) {
            sl_header t = c->headers[j];
            c->headers[j] = c->headers[j - 1];
            c->headers[j - 1] = t;
        }
    for (size_t i = 1; i < c->nheaders; i++)
        if (c->headers[i].name && c->headers[i - 1].name &&
            strcasecmp(c->headers[i].name, c->headers[i - 1].name) == 0) {
            sl_config_path_push(ctx, c->headers[i].name, 0);
            sl_config_err(ctx, "duplicate header (also \"%s\")",
                          c->headers[i - 1].name);
            sl_config_path_pop(ctx);
        }
}

/* A function is kept in the registry of the file's state, which the
 * connector keeps; absent, LUA_NOREF. The key's offset is that of the
 * int that receives the registry reference. */
void sl_config_parse_function(sl_config_parse_context *ctx,
                              const sl_config_key *key, int idx, void *target)
{
    int *ref = (int *)((char *)target + key->off);
    *ref = LUA_NOREF;
    if (!idx)
        return;
    lua_pushvalue(ctx->L, idx);                    /* fn */
    *ref = luaL_ref(ctx->L, LUA_REGISTRYINDEX);    /* (fn popped) */
}

void sl_config_parse_idempotency_header(sl_config_parse_context *ctx,
                                        const sl_config_key *key, int idx,
                                        void *target)
{
    sl_config_connector_target *connector = target;
    lua_State *L = ctx->L;
    (void)key;
    free(connector->c.idempotency_header);
    connector->c.idempotency_header = NULL;
    if (idx == 0) { /* not given */
        connector->c.idempotency_header =
            sl_config_strdup(ctx, "Idempotency-Key");
        return;
    }
    if (lua_type(L, idx) == LUA_TBOOLEAN && !lua_toboolean(L, idx))
        return; /* off */
    if (lua_type(L, idx) != LUA_TSTRING) {
        char got[64];
        sl_config_describe(L, idx, got, sizeof got);
        sl_config_err(ctx, "expected a header name or false, got %s", got);
        return;
    }
    const char *v = lua_tostring(L, idx);
    if (strcasecmp(v, "Content-Encoding") == 0) {
        sl_config_err(ctx, "\"%s\" says how the body is encoded; it cannot "
                      "carry the batch key", v);
        return;
    }
    if (!sl_header_name_ok(v) || sl_header_reserved(v)) {
        sl_config_err(ctx, "\"%.64s\" %s", v, sl_header_reserved(v) ?
                      "is a header sluice sets itself" :
                      "is not a valid header name");
        return;
    }
    connector->c.idempotency_header = sl_config_strdup(ctx, v);
}

void sl_config_parse_compression_level(sl_config_parse_context *ctx,
                                       const sl_config_key *key, int idx,
                                       void *target)
{
    sl_config_connector_target *connector = target;
    (void)key;
    connector->c.compression_level = SL_GZIP_LEVEL_DEFAULT;
    connector->compression_level_set = idx != 0;
    if (!idx)
        return;
    int isint = 0;
    lua_Integer v = lua_tointegerx(ctx->L, idx, &isint); /* exact floats too */
    if (!isint) {
        char got[64];
        sl_config_describe(ctx->L, idx, got, sizeof got);
        sl_config_err(ctx, "expected an integer, got %s", got);
    } else if (v < SL_GZIP_LEVEL_MIN || v > SL_GZIP_LEVEL_MAX) {
        sl_config_err(ctx, "%lld is out of range (%d..%d)", (long long)v,
                      SL_GZIP_LEVEL_MIN, SL_GZIP_LEVEL_MAX);
    } else {
        connector->c.compression_level = (int)v;
    }
}

int sl_config_parse_key_list(sl_config_parse_context *ctx, int idx,
                             const char *name, const char *example,
                             char ***keys, size_t *nkeys)
{
    lua_State *L = ctx->L;
    if (!idx || !sl_config_check_list(ctx, idx, example))
        return -1;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0 || n > INTAKE_KEYS_MAX) {
        sl_config_err(ctx, "list 1 to %d keys (%lld given); leave the key out "
                      "for %s", INTAKE_KEYS_MAX, (long long)n,
                      strcmp(name, "intake_keys") == 0 ? "an open intake"
                                                       : "none");
        return -1;
    }
    if (!(*keys = calloc((size_t)n, sizeof **keys))) {
        sl_config_err(ctx, "out of memory");
        return -1;
    }
    lua_Integer where[INTAKE_KEYS_MAX]; /* list index of each key kept */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* key */
        sl_config_path_push(ctx, NULL, (long)i);
        size_t len = 0;
        const char *secret =
            lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        size_t bad = 0;
        while (secret && bad < len && secret[bad] > 0x20 && secret[bad] < 0x7f)
            bad++;
        if (!secret)
            sl_config_err(ctx, "expected a string, got a %s",
                          luaL_typename(L, -1));
        else if (len < INTAKE_KEY_MIN || len > INTAKE_KEY_MAX)
            sl_config_err(ctx, "a key of %zu characters; use %d to %d (value "
                          "not shown)", len, INTAKE_KEY_MIN, INTAKE_KEY_MAX);
        else if (bad != len)
            sl_config_err(ctx, "character %zu is not a visible ASCII "
                          "character (no spaces or control characters; value "
                          "not shown)", bad + 1);
        else
            for (size_t j = 0; j < *nkeys; j++)
                if (strcmp((*keys)[j], secret) == 0) {
                    sl_config_err(ctx, "the same key as %s[%lld]", name,
                                  (long long)where[j]);
                    secret = NULL;
                    break;
                }
        if (secret && len >= INTAKE_KEY_MIN && len <= INTAKE_KEY_MAX &&
            bad == len) {
            where[*nkeys] = i;
            (*keys)[(*nkeys)++] = sl_config_strdup(ctx, secret);
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
    return 0;
}

void sl_config_parse_intake_keys(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    (void)key;
    sl_config_parse_key_list(ctx, idx, "intake_keys",
                             "{ sluice.env(\"CRM_INTAKE_KEY\") }",
                             &c->intake_keys, &c->nintake_keys);
}

static void check_compression(sl_config_parse_context *ctx,
                              const sl_config_connector_target *connector)
{
    const sl_connector_conf *c = &connector->c;
    if (connector->compression_level_set &&
        c->compression == SL_COMPRESSION_NONE) {
        sl_config_path_push(ctx, "compression_level", 0);
        sl_config_err(ctx, "set, but compression is \"none\"; add "
                      "compression = \"gzip\" or remove it");
        sl_config_path_pop(ctx);
    }
    for (size_t i = 0; i < c->nheaders; i++) {
        if (!c->headers[i].name ||
            strcasecmp(c->headers[i].name, "Content-Encoding") != 0)
            continue;
        sl_config_path_push(ctx, "headers", 0);
        sl_config_path_push(ctx, c->headers[i].name, 0);
        if (c->compression == SL_COMPRESSION_NONE)
            sl_config_err(ctx, "sluice sends the body uncompressed, so this "
                          "header would not describe it; remove it, or set "
                          "compression = \"gzip\" to send gzip bodies");
        else
            sl_config_err(ctx, "compression sets it (Content-Encoding: "
                          "gzip); remove it");
        ctx->depth -= 2;
    }
}

/* One text's placeholders (url or a header value, at the key path): only
 * with body "object", against the schema. NULL when it has none or is
 * refused (reported). */
static sl_fieldtpl *placeholders(sl_config_parse_context *ctx,
                                 const sl_connector_conf *c, const char *text,
                                 sl_fieldtpl_mode mode, const char *what)
{
    char err[256];
    sl_fieldtpl *t = NULL;
    int object = c->body == SL_BODY_OBJECT;
    size_t from = mode == SL_FIELDTPL_URL ? url_path_start(text) : 0;
    if (sl_fieldtpl_parse(text, mode, from, object ? c->schema : NULL, what,
                          &t, err, sizeof err) != 0) {
        sl_config_err(ctx, "%s", err);
        return NULL;
    }
    if (t && !object) {
        sl_config_err(ctx, "placeholder {%s} needs body = \"object\" (one "
                      "request per record)", sl_fieldtpl_first_name(t));
        sl_fieldtpl_free(t);
        return NULL;
    }
    return t;
}

/* url's and the headers' {field} placeholders, and the intake's check
 * that a record's values make them: c->record_tpls. */
static void parse_placeholders(sl_config_parse_context *ctx,
                               sl_connector_conf *c)
{
    char what[96];
    size_t n = 0;
    if (c->url) {
        sl_config_path_push(ctx, "url", 0);
        n += (c->url_tpl = placeholders(ctx, c, c->url, SL_FIELDTPL_URL,
                                        "the URL")) != NULL;
        sl_config_path_pop(ctx);
    }
    for (size_t i = 0; i < c->nheaders; i++) {
        const sl_header *h = &c->headers[i];
        if (!h->name || !h->value)
            continue;
        snprintf(what, sizeof what, "header \"%.64s\"", h->name);
        sl_config_path_push(ctx, "headers", 0);
        sl_config_path_push(ctx, h->name, 0);
        sl_fieldtpl *t = placeholders(ctx, c, h->value, SL_FIELDTPL_HEADER,
                                      what);
        ctx->depth -= 2;
        if (!t)
            continue;
        if (!c->header_tpls &&
            !(c->header_tpls = calloc(c->nheaders, sizeof *c->header_tpls))) {
            sl_fieldtpl_free(t);
            sl_config_err(ctx, "out of memory");
            return;
        }
        c->header_tpls[i] = t;
        n++;
    }
    if (n == 0)
        return;
    if (!(c->record_tpls = calloc(n + 1, sizeof *c->record_tpls))) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    n = 0;
    if (c->url_tpl)
        c->record_tpls[n++] = c->url_tpl;
    for (size_t i = 0; c->header_tpls && i < c->nheaders; i++)
        if (c->header_tpls[i])
            c->record_tpls[n++] = c->header_tpls[i];
    sl_schema_set_post(c->schema, sl_fieldtpl_check_list, c->record_tpls);
}

void sl_config_connector_after(sl_config_parse_context *ctx, void *target)
{
    sl_config_connector_target *connector = target;
    sl_connector_conf *c = &connector->c;
    if (c->retry_base_ms > c->retry_max_ms) {
        sl_config_path_push(ctx, "retry", 0);
        sl_config_path_push(ctx, "base_ms", 0);
        sl_config_err(ctx, "%u is greater than retry.max_ms (%u)",
                      c->retry_base_ms, c->retry_max_ms);
        sl_config_path_pop(ctx);
        sl_config_path_pop(ctx);
    }
    if (c->queue_max_bytes < c->batch_max_bytes) {
        sl_config_path_push(ctx, "queue_max_bytes", 0);
        sl_config_err(ctx, "%zu is less than batch.max_bytes (%zu)",
                      c->queue_max_bytes, c->batch_max_bytes);
        sl_config_path_pop(ctx);
    }
    c->lua_max_memory = connector->lua_max_memory_mb << 20;
    check_compression(ctx, connector);
    sl_transport_http version = c->transport.http_version; /* the key's */
    sl_transport_init(&c->transport);
    c->transport.http_version = version;
    sl_config_tls_after(ctx, c);
    if (c->spool_segment_bytes > c->spool_max_bytes) {
        sl_config_path_push(ctx, "spool", 0);
        sl_config_path_push(ctx, "segment_bytes", 0);
        sl_config_err(ctx, "%zu is greater than spool.max_bytes (%zu)",
                      c->spool_segment_bytes, c->spool_max_bytes);
        ctx->depth -= 2;
    }
    if (!(c->schema = sl_config_schema_build(
              ctx, &connector->fields, (sl_unknown_policy)connector->unknown)))
        return;
    sl_schema_limits limits = {.record_bytes = c->limit_record_bytes,
                               .string_bytes = c->limit_string_bytes,
                               .fields = c->limit_fields};
    sl_schema_set_limits(c->schema, &limits);
    parse_placeholders(ctx, c);
}
