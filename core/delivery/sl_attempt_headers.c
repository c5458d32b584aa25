/* sl_attempt_headers: the request headers of one delivery attempt, from
 * the connector's configuration and headers_fn's table, checked by the
 * rules of sl_header. */
#include "sl_attempt_headers.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_fieldtpl.h"
#include "sl_header.h"

/* Does headers_fn's table (at the top of co) set `name` (false included)? */
static int overridden(lua_State *co, const char *name)
{
    int found = 0;
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        if (lua_type(co, -2) == LUA_TSTRING &&
            strcasecmp(lua_tostring(co, -2), name) == 0)
            found = 1;
        lua_pop(co, 1);                                    /* t k */
    }
    return found;
}

static int append(struct curl_slist **list, const char *name,
                  const char *value)
{
    char line[8192];
    int n = snprintf(line, sizeof line, "%s: %s", name, value);
    if (n < 0 || (size_t)n >= sizeof line)
        return -1;
    struct curl_slist *t = curl_slist_append(*list, line);
    if (!t)
        return -1;
    *list = t;
    return 0;
}

/* A static header, its placeholders filled from rec (with one). 0, -1
 * out of memory or too long, 1 the record's value refused (why). */
static int append_static(struct curl_slist **list, const sl_header *h,
                         const sl_fieldtpl *tpl, const char *rec,
                         size_t rec_len, char *why, size_t whylen)
{
    if (!tpl || !rec)
        return append(list, h->name, h->value);
    sl_buf v;
    sl_schema_error bad;
    sl_buf_init(&v, 8192);
    sl_fieldtpl_rc rc = sl_fieldtpl_render(tpl, rec, rec_len, &v, &bad);
    int r = rc == SL_FIELDTPL_OK && sl_buf_putc(&v, '\0') == 0
                ? append(list, h->name, v.data)
                : -1;
    if (rc == SL_FIELDTPL_BAD) {
        snprintf(why, whylen, "field \"%s\": %s", bad.field, bad.msg);
        r = 1;
    }
    sl_buf_free(&v);
    return r;
}

/* headers_fn's table (top of co) appended to *list: string or integer
 * values; false sends no header of that name (it also removes a static
 * one). Content-Encoding is refused like a header sluice sets: the
 * function cannot say the body is encoded otherwise than it is. Reads
 * without allocating in Lua. */
static int append_dynamic(struct curl_slist **list, const sl_connector_conf *c,
                          lua_State *co, char *why, size_t whylen)
{
    why[0] = '\0';
    lua_pushnil(co);
    while (lua_next(co, -2)) {                             /* t k v */
        int vt = lua_type(co, -1);
        const char *k = lua_type(co, -2) == LUA_TSTRING ? lua_tostring(co, -2)
                                                        : NULL;
        char num[32];
        const char *v = NULL;
        if (vt == LUA_TSTRING)
            v = lua_tostring(co, -1);
        else if (vt == LUA_TNUMBER && lua_isinteger(co, -1)) {
            snprintf(num, sizeof num, "%lld", (long long)lua_tointeger(co, -1));
            v = num;
        }
        if (!k)
            snprintf(why, whylen, "headers_fn: header names must be strings");
        else if (vt == LUA_TBOOLEAN && !lua_toboolean(co, -1))
            ; /* left out */
        else if (strcasecmp(k, "Content-Encoding") == 0)
            snprintf(why, whylen, "headers_fn: header \"%.64s\" %s", k,
                     c->compression != SL_COMPRESSION_NONE
                         ? "is set by sluice (compression)"
                         : "would not describe the body, which sluice sends "
                           "uncompressed (use compression = \"gzip\")");
        else if (!sl_header_name_ok(k) || sl_header_reserved(k))
            snprintf(why, whylen, "headers_fn: header \"%.64s\" %s", k,
                     sl_header_reserved(k) ? "is set by sluice"
                                           : "is not a valid name");
        else if (!v)
            snprintf(why, whylen, "headers_fn: header \"%.64s\" must be a "
                     "string, got %s", k, luaL_typename(co, -1));
        else if (!sl_header_value_ok(v, strlen(v)) ||
                 (vt == LUA_TSTRING && lua_rawlen(co, -1) != strlen(v)))
            snprintf(why, whylen, "headers_fn: header \"%.64s\" has a line "
                     "break or NUL in its value", k);
        else if (append(list, k, v) != 0)
            snprintf(why, whylen, "headers_fn: header \"%.64s\" is too long "
                     "or out of memory", k);
        if (why[0]) {
            lua_pop(co, 2);
            return -1;
        }
        lua_pop(co, 1);                                    /* t k */
    }
    return 0;
}

struct curl_slist *sl_attempt_headers_new(const sl_connector_conf *c,
                                          const char *key, const char *rec,
                                          size_t rec_len, lua_State *co,
                                          char *why, size_t whylen)
{
    struct curl_slist *list = NULL, *t;
    int rc;
    why[0] = '\0';
    if (append(&list, "Content-Type", c->body == SL_BODY_NDJSON
                                          ? "application/x-ndjson"
                                          : "application/json") != 0 ||
        (c->compression == SL_COMPRESSION_GZIP &&
         append(&list, "Content-Encoding", "gzip") != 0) ||
        !(t = curl_slist_append(list, "Expect:")))
        goto nomem;
    list = t;
    if (key && c->idempotency_header &&
        (!co || !overridden(co, c->idempotency_header)) &&
        append(&list, c->idempotency_header, key) != 0)
        goto nomem;
    for (size_t i = 0; i < c->nheaders; i++)
        if ((!co || !overridden(co, c->headers[i].name)) &&
            (rc = append_static(&list, &c->headers[i],
                                c->header_tpls ? c->header_tpls[i] : NULL,
                                rec, rec_len, why, whylen)) != 0) {
            if (rc > 0)
                goto fail;
            goto nomem;
        }
    if (co && append_dynamic(&list, c, co, why, whylen) != 0)
        goto fail;
    return list;
nomem:
    snprintf(why, whylen, "out of memory building headers");
fail:
    curl_slist_free_all(list);
    return NULL;
}

void sl_attempt_headers_free(struct curl_slist *list)
{
    curl_slist_free_all(list);
}
