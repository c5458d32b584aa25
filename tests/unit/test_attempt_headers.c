/* Unit tests for sl_attempt_headers: a delivery attempt's header list
 * from the connector's headers and headers_fn's table (these were
 * test_header.c's list tests). */
#include <string.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_attempt_headers.h"
#include "sl_fieldtpl.h"
#include "sl_test.h"

/* The list's lines joined by '|', for one comparison. */
static const char *joined(const struct curl_slist *l)
{
    static char out[1024];
    out[0] = '\0';
    for (; l; l = l->next) {
        if (out[0])
            strcat(out, "|");
        strcat(out, l->data);
    }
    return out;
}

static void test_list(void)
{
    sl_header hs[] = {{"Authorization", "Bearer s"}, {"X-Team", "ops"}};
    sl_connector_conf c = {.headers = hs, .nheaders = 2,
                           .body = SL_BODY_NDJSON,
                           .idempotency_header = "Idempotency-Key"};
    char why[160];
    struct curl_slist *l = sl_attempt_headers_new(&c, NULL, NULL, 0, NULL,
                                                  why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/x-ndjson|Expect:|"
                         "Authorization: Bearer s|X-Team: ops");
    sl_attempt_headers_free(l);
    c.body = SL_BODY_ARRAY;
    l = sl_attempt_headers_new(&c, "k-1", NULL, 0, NULL, why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|Expect:|"
                         "Idempotency-Key: k-1|Authorization: Bearer s|"
                         "X-Team: ops");
    sl_attempt_headers_free(l);
}

static void test_list_dynamic(void)
{
    sl_header hs[] = {{"Authorization", "Bearer s"}, {"X-Team", "ops"}};
    sl_connector_conf c = {.headers = hs, .nheaders = 2,
                           .idempotency_header = "Idempotency-Key"};
    char why[160];
    lua_State *L = luaL_newstate();
    CHECK(luaL_dostring(L, "return {authorization = 'Bearer t', "
                           "['X-Team'] = false, ['X-Try'] = 3}") == LUA_OK);
    int top = lua_gettop(L);
    struct curl_slist *l = sl_attempt_headers_new(&c, "k-2", NULL, 0, L,
                                                  why, sizeof why);
    /* headers_fn's names override static ones; table order is Lua's */
    const char *got = joined(l);
    const char *head = "Content-Type: application/json|Expect:|"
                       "Idempotency-Key: k-2|";
    CHECK(strncmp(got, head, strlen(head)) == 0);
    CHECK_CONTAINS(got, "authorization: Bearer t");
    CHECK_CONTAINS(got, "X-Try: 3");
    CHECK(!strstr(got, "Bearer s") && !strstr(got, "X-Team"));
    CHECK(lua_gettop(L) == top && lua_istable(L, -1));
    sl_attempt_headers_free(l);
    lua_pop(L, 1);

    static const char *const bad[][2] = {
        {"return {['Content-Type'] = 'text/plain'}", "is set by sluice"},
        {"return {['X A'] = 'v'}", "is not a valid name"},
        {"return {['X-A'] = 'a\\r\\nX-B: 1'}", "line break or NUL"},
        {"return {['X-A'] = {}}", "must be a string, got table"},
        {"return {'positional'}", "header names must be strings"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(luaL_dostring(L, bad[i][0]) == LUA_OK);
        top = lua_gettop(L);
        CHECK(sl_attempt_headers_new(&c, "k", NULL, 0, L, why,
                                     sizeof why) == NULL);
        CHECK_CONTAINS(why, bad[i][1]);
        CHECK(lua_gettop(L) == top && lua_istable(L, -1));
        lua_pop(L, 1);
    }
    lua_close(L);
}

/* With compression the list says so; Content-Encoding from headers_fn is
 * refused with or without it (false is only "send none", which is
 * harmless); without compression nothing changes. */
static void test_compression(void)
{
    sl_header hs[] = {{"X-Team", "ops"}};
    sl_connector_conf c = {.headers = hs, .nheaders = 1,
                           .compression = SL_COMPRESSION_GZIP,
                           .idempotency_header = "Idempotency-Key"};
    char why[200];
    struct curl_slist *l = sl_attempt_headers_new(&c, "k-1", NULL, 0, NULL, why,
                                                  sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|"
                         "Content-Encoding: gzip|Expect:|"
                         "Idempotency-Key: k-1|X-Team: ops");
    sl_attempt_headers_free(l);

    lua_State *L = luaL_newstate();
    CHECK(luaL_dostring(L, "return {['content-encoding'] = 'identity'}") ==
          LUA_OK);
    CHECK(sl_attempt_headers_new(&c, "k", NULL, 0, L, why, sizeof why) ==
          NULL);
    CHECK_STR(why, "headers_fn: header \"content-encoding\" is set by sluice "
                   "(compression)");
    c.compression = SL_COMPRESSION_NONE;
    CHECK(sl_attempt_headers_new(&c, "k", NULL, 0, L, why, sizeof why) ==
          NULL);
    CHECK_STR(why, "headers_fn: header \"content-encoding\" would not "
                   "describe the body, which sluice sends uncompressed (use "
                   "compression = \"gzip\")");
    lua_pop(L, 1);
    c.compression = SL_COMPRESSION_GZIP;
    CHECK(luaL_dostring(L, "return {['Content-Encoding'] = false}") == LUA_OK);
    l = sl_attempt_headers_new(&c, "k", NULL, 0, L, why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|"
                         "Content-Encoding: gzip|Expect:|Idempotency-Key: k|"
                         "X-Team: ops");
    sl_attempt_headers_free(l);
    lua_close(L);
}

/* A static header's {field}s are filled from the request's record (raw
 * value); without a record it goes as written; headers_fn still wins. */
static void test_placeholders(void)
{
    char err[200], why[200];
    sl_schema *schema = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(schema, "id", SL_TYPE_STRING, false, err,
                        sizeof err) == 0);
    sl_fieldtpl *t = NULL, *t2 = NULL;
    CHECK(sl_fieldtpl_parse("user {id}", SL_FIELDTPL_HEADER, 0, schema,
                            "header \"X-User\"", &t, err, sizeof err) == 0);
    CHECK(sl_fieldtpl_parse("{id}", SL_FIELDTPL_HEADER, 0, schema,
                            "header \"X-Two\"", &t2, err, sizeof err) == 0);
    sl_header hs[] = {{"X-Two", "{id}"}, {"X-User", "user {id}"}};
    sl_fieldtpl *tpls[] = {t2, t};
    sl_connector_conf c = {.headers = hs, .nheaders = 2, .header_tpls = tpls,
                           .body = SL_BODY_OBJECT};
    const char *rec = "{\"id\":\"Jos\\u00e9 / 1\"}";
    struct curl_slist *l = sl_attempt_headers_new(&c, NULL, rec, strlen(rec),
                                                  NULL, why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|Expect:|"
                         "X-Two: Jos\xc3\xa9 / 1|X-User: user Jos\xc3\xa9 / 1");
    sl_attempt_headers_free(l);
    l = sl_attempt_headers_new(&c, NULL, NULL, 0, NULL, why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|Expect:|"
                         "X-Two: {id}|X-User: user {id}");
    sl_attempt_headers_free(l);
    lua_State *L = luaL_newstate();
    CHECK(luaL_dostring(L, "return {['x-user'] = 'fn'}") == LUA_OK);
    l = sl_attempt_headers_new(&c, NULL, rec, strlen(rec), L, why, sizeof why);
    CHECK_STR(joined(l), "Content-Type: application/json|Expect:|"
                         "X-Two: Jos\xc3\xa9 / 1|x-user: fn");
    sl_attempt_headers_free(l);
    lua_close(L);
    /* a value the rules refuse: no list, the field and why */
    const char *bad = "{\"id\":\"a\\r\\nX-Evil: 1\"}";
    CHECK(sl_attempt_headers_new(&c, NULL, bad, strlen(bad), NULL, why,
                                 sizeof why) == NULL);
    CHECK_STR(why, "field \"id\": has a control character (CR, LF, tab, "
                   "...), which cannot go in header \"X-Two\"");
    sl_fieldtpl_free(t);
    sl_fieldtpl_free(t2);
    sl_schema_free(schema);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"list", test_list},
        {"list_dynamic", test_list_dynamic},
        {"compression", test_compression},
        {"placeholders", test_placeholders},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
