/* Unit tests for sl_luajson and sl_transform through sl_ingest. */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_ingest.h"
#include "sl_luahost.h"
#include "sl_luajson.h"
#include "sl_transform.h"
#include "sl_test.h"
#include "sl_test_frames.h"

typedef struct env {
    lua_State *L;
    sl_schema *schema;
    sl_transform *transform;
    sl_buf block, rejects;
    sl_ingest_result res;
    char records[2048];
} env;

static void setup(env *e, const char *fn_src, size_t mem)
{
    char err[256];
    memset(e, 0, sizeof *e);
    e->L = sl_luahost_new(mem, err, sizeof err);
    CHECK(e->L != NULL);
    CHECK(luaL_loadstring(e->L, fn_src) == LUA_OK);
    CHECK(lua_pcall(e->L, 0, 1, 0) == LUA_OK);       /* the function */
    int ref = luaL_ref(e->L, LUA_REGISTRYINDEX);
    e->schema = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(e->schema, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(e->schema, "email", SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(e->schema, "amount", SL_TYPE_NUMBER, true, err, sizeof err) == 0);
    e->transform = sl_transform_new(e->L, ref, e->schema, "t", 100000);
    sl_buf_init(&e->block, 0);
    sl_buf_init(&e->rejects, 0);
}

static void run(env *e, const char *body)
{
    sl_buf_reset(&e->block);
    sl_buf_reset(&e->rejects);
    CHECK(sl_ingest(e->schema, e->transform, SL_INGEST_JSON, body,
                    strlen(body), NULL, &e->block, &e->rejects, &e->res) == 0);
    sl_test_join_frames(&e->block, e->records, sizeof e->records);
    sl_buf_cstr(&e->rejects);
}

static void teardown(env *e)
{
    sl_transform_free(e->transform);
    sl_schema_free(e->schema);
    sl_buf_free(&e->block);
    sl_buf_free(&e->rejects);
    sl_luahost_free(e->L);
}

static void test_modify_drop_split_error(void)
{
    env e;
    setup(&e,
          "return function(rec, ctx)\n"
          "  if rec.kind == 'drop' then return nil end\n"
          "  if rec.kind == 'split' then\n"
          "    return { {id = rec.id * 10 + 1}, {id = rec.id * 10 + 2} }\n"
          "  end\n"
          "  if rec.kind == 'error' then error('boom') end\n"
          "  return { id = rec.id, email = rec.mail and rec.mail:lower(),\n"
          "           amount = rec.amount }\n"
          "end\n",
          0);
    run(&e, "[{\"id\":1,\"mail\":\"A@X\",\"amount\":1.5},{\"id\":2,\"kind\":\"drop\"},"
            "{\"id\":3,\"kind\":\"split\"},{\"id\":4,\"kind\":\"error\"},"
            "{\"id\":5,\"amount\":null},{\"id\":6,\"amount\":3.0}]");
    CHECK(!e.res.malformed);
    CHECK(e.res.accepted == 5 && e.res.dropped == 1 && e.res.rejected == 1);
    CHECK_STR(e.records,
              "{\"id\":1,\"email\":\"a@x\",\"amount\":1.5}|"
              "{\"id\":31,\"email\":null,\"amount\":null}|"
              "{\"id\":32,\"email\":null,\"amount\":null}|"
              "{\"id\":5,\"email\":null,\"amount\":null}|"
              "{\"id\":6,\"email\":null,\"amount\":3}|");
    CHECK_CONTAINS(e.rejects.data, "{\"index\":3,\"field\":\"\",\"error\":\"transform: ");
    CHECK_CONTAINS(e.rejects.data, ":6: boom");
    teardown(&e);
}

static void test_schema_applies_to_output(void)
{
    env e;
    setup(&e, "return function(rec) rec.id = tostring(rec.id); return rec end", 0);
    run(&e, "{\"id\":7}");
    CHECK(e.res.accepted == 0 && e.res.rejected == 1);
    CHECK_CONTAINS(e.rejects.data, "\"field\":\"id\",\"error\":\"expected integer, got string\"");
    teardown(&e);

    setup(&e, "return function(rec) rec.extra = {1,2}; return rec end", 0);
    run(&e, "{\"id\":7}");
    CHECK_CONTAINS(e.rejects.data, "\"field\":\"extra\"");
    teardown(&e);

    setup(&e, "return function(rec) return 42 end", 0);
    run(&e, "{\"id\":7}");
    CHECK_CONTAINS(e.rejects.data, "transform must return a table");
    teardown(&e);

    setup(&e, "return function(rec) rec.amount = 0/0; return rec end", 0);
    run(&e, "{\"id\":7}");
    CHECK_CONTAINS(e.rejects.data, "not finite");
    teardown(&e);
}

static void test_limits(void)
{
    env e;
    setup(&e, "return function(rec) if rec.id == 1 then while true do end end return rec end", 0);
    run(&e, "[{\"id\":1},{\"id\":2}]");
    CHECK(e.res.accepted == 1 && e.res.rejected == 1);
    CHECK_CONTAINS(e.rejects.data, "instruction limit exceeded");
    CHECK_STR(e.records, "{\"id\":2,\"email\":null,\"amount\":null}|");
    sl_luaruntime_tally y = sl_transform_tally(e.transform);
    CHECK(y.calls == 2 && y.errors == 1 && y.overruns == 1);
    CHECK(sl_transform_tally(NULL).calls == 0);
    teardown(&e);

    /* each iteration keeps 10 KB: a 4 MiB cap is hit long before the
     * instruction budget */
    setup(&e, "return function(rec) if rec.id == 1 then local t = {} "
              "for i = 1, 1e9 do t[i] = ('x'):rep(10000) .. i end end "
              "return rec end",
          4 << 20);
    run(&e, "[{\"id\":1},{\"id\":2}]");
    CHECK(e.res.accepted == 1 && e.res.rejected == 1);
    CHECK_CONTAINS(e.rejects.data, "memory limit");
    CHECK_STR(e.records, "{\"id\":2,\"email\":null,\"amount\":null}|");
    y = sl_transform_tally(e.transform);
    CHECK(y.calls == 2 && y.errors == 1 && y.overruns == 0);
    teardown(&e);
}

static void test_malformed_inside_record(void)
{
    env e;
    setup(&e, "return function(rec) return rec end", 0);
    run(&e, "[{\"id\":1},{\"id\":2,]");
    CHECK(e.res.malformed && e.res.accepted == 0);
    teardown(&e);
}

/* An NDJSON line with trailing garbage is one malformed-line rejection,
 * whatever the transform made of the record before the garbage was seen. */
static void test_ndjson_trailing_garbage(void)
{
    env e;
    setup(&e, "return function(rec) return { {id = 'bad'}, {id = rec.id} } end", 0);
    const char *body = "{\"id\":1} junk\n{\"id\":2}\n";
    CHECK(sl_ingest(e.schema, e.transform, SL_INGEST_NDJSON, body,
                    strlen(body), NULL, &e.block, &e.rejects, &e.res) == 0);
    sl_buf_cstr(&e.rejects);
    CHECK(e.res.accepted == 1);          /* line 1's second output: no */
    CHECK(e.res.rejected == 2);          /* line 0 malformed, line 1 'bad' */
    CHECK(e.res.listed == 2);
    CHECK_CONTAINS(e.rejects.data, "{\"index\":0,\"field\":\"\",\"error\":\"malformed JSON");
    CHECK(strstr(e.rejects.data, "{\"index\":0,\"field\":\"id\"") == NULL);
    CHECK_CONTAINS(e.rejects.data, "{\"index\":1,\"field\":\"id\"");
    teardown(&e);
}

static void test_write_edges(void)
{
    char err[128];
    lua_State *L = sl_luahost_new(0, err, sizeof err);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(luaL_dostring(L, "return {a = {1, 2.5, 'x\\n', true}, b = {}}") == LUA_OK);
    CHECK(sl_luajson_write(L, -1, &b, err, sizeof err) == 0);
    CHECK(strstr(sl_buf_cstr(&b), "\"a\":[1,2.5,\"x\\n\",true]") != NULL);
    lua_pop(L, 1);
    sl_buf_reset(&b);
    CHECK(luaL_dostring(L, "return {[1.5] = 1}") == LUA_OK);
    CHECK(sl_luajson_write(L, -1, &b, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "keys must be strings");
    lua_pop(L, 1);
    CHECK(luaL_dostring(L, "local t = {} t.x = t return t") == LUA_OK);
    CHECK(sl_luajson_write(L, -1, &b, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "deeper than 32");
    CHECK(b.len == 0);
    lua_pop(L, 1);
    sl_buf_free(&b);
    sl_luahost_free(L);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"modify_drop_split_error", test_modify_drop_split_error},
        {"schema_applies_to_output", test_schema_applies_to_output},
        {"limits", test_limits},
        {"malformed_inside_record", test_malformed_inside_record},
        {"ndjson_trailing_garbage", test_ndjson_trailing_garbage},
        {"write_edges", test_write_edges},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
