/* Unit tests for sl_luajson and sl_transform through sl_ingest. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
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
    char records[4096];
} env;

static int pass_post(const void *ud, const char *rec, size_t len,
                     sl_schema_error *err)
{
    (void)ud, (void)rec, (void)len, (void)err;
    return 0;
}

static void setup_with(env *e, const char *fn_src, size_t mem,
                       sl_unknown_policy policy, bool text_path)
{
    char err[256];
    memset(e, 0, sizeof *e);
    e->L = sl_luahost_new(mem, err, sizeof err);
    CHECK(e->L != NULL);
    CHECK(luaL_loadstring(e->L, fn_src) == LUA_OK);
    CHECK(lua_pcall(e->L, 0, 1, 0) == LUA_OK);       /* the function */
    int ref = luaL_ref(e->L, LUA_REGISTRYINDEX);
    e->schema = sl_schema_new(policy);
    CHECK(sl_schema_add(e->schema, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(e->schema, "email", SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(e->schema, "amount", SL_TYPE_NUMBER, true, err, sizeof err) == 0);
    if (text_path) /* a post-check: outputs go through JSON text */
        sl_schema_set_post(e->schema, pass_post, NULL);
    e->transform = sl_transform_new(e->L, ref, e->schema, "t", 100000);
    sl_buf_init(&e->block, 0);
    sl_buf_init(&e->rejects, 0);
}

static void setup(env *e, const char *fn_src, size_t mem)
{
    setup_with(e, fn_src, mem, SL_UNKNOWN_REJECT, false);
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

    /* the same with small blocks only (tables and short strings, which
     * sl_luaalloc serves from its free lists): stopped by the cap too, and
     * the state goes on with the next record */
    setup(&e, "return function(rec) if rec.id == 1 then local t = {} "
              "for i = 1, 1e9 do t[i] = {i, {i}, {i}, 'k' .. i} end end "
              "return rec end",
          1 << 20);
    run(&e, "[{\"id\":1},{\"id\":2},{\"id\":1},{\"id\":3}]");
    CHECK(e.res.accepted == 2 && e.res.rejected == 2);
    CHECK_CONTAINS(e.rejects.data, "memory limit of 1 MiB exceeded");
    CHECK_STR(e.records, "{\"id\":2,\"email\":null,\"amount\":null}|"
                         "{\"id\":3,\"email\":null,\"amount\":null}|");
    y = sl_transform_tally(e.transform);
    CHECK(y.calls == 4 && y.errors == 2 && y.overruns == 0);
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


/* Outputs are checked straight from the returned table unless the schema
 * has a post-check; both ways must give the same frames and the same
 * rejections. Each case: the returned table's constructor, and what the
 * direct way must give (frames | rejections). */
typedef struct out_case {
    const char *expr;
    const char *want; /* frames joined, or a part of the rejection */
} out_case;

static void run_both(const char *expr, sl_unknown_policy policy,
                     const sl_schema_limits *lim, char *frames, size_t fn,
                     char *rejects, size_t rn)
{
    char src[512];
    snprintf(src, sizeof src, "return function(rec) return %s end", expr);
    env d, t;
    setup_with(&d, src, 0, policy, false);
    setup_with(&t, src, 0, policy, true);
    if (lim) {
        sl_schema_set_limits(d.schema, lim);
        sl_schema_set_limits(t.schema, lim);
    }
    run(&d, "{\"id\":1}");
    run(&t, "{\"id\":1}");
    if (strcmp(d.records, t.records) != 0 ||
        strcmp(d.rejects.data, t.rejects.data) != 0)
        fprintf(stderr, "%s:\n direct %s %s\n text   %s %s\n", expr,
                d.records, d.rejects.data, t.records, t.rejects.data);
    CHECK_STR(d.records, t.records);
    CHECK_STR(d.rejects.data, t.rejects.data);
    snprintf(frames, fn, "%s", d.records);
    snprintf(rejects, rn, "%s", d.rejects.data);
    teardown(&d);
    teardown(&t);
}

static void check_cases(const out_case *cases, sl_unknown_policy policy,
                        const sl_schema_limits *lim)
{
    for (const out_case *c = cases; c->expr; c++) {
        char frames[4096], rejects[1024];
        run_both(c->expr, policy, lim, frames, sizeof frames, rejects,
                 sizeof rejects);
        if (!strstr(frames, c->want) && !strstr(rejects, c->want))
            fprintf(stderr, "%s: want %s, got %s %s\n", c->expr, c->want,
                    frames, rejects);
        CHECK(strstr(frames, c->want) != NULL ||
              strstr(rejects, c->want) != NULL);
    }
}

static void test_output_numbers(void)
{
    static const out_case cases[] = {
        {"{id = 9007199254740993}", "{\"id\":9007199254740993,"},
        {"{id = math.maxinteger}", "{\"id\":9223372036854775807,"},
        {"{id = math.mininteger}", "{\"id\":-9223372036854775808,"},
        {"{id = 2^53}", "{\"id\":9007199254740992,"},
        {"{id = -2^63}", "{\"id\":-9223372036854775808,"},
        {"{id = 2^63}", "expected integer, got number 9.223372036854776e+18"},
        {"{id = 1.5}", "expected integer, got number 1.5"},
        {"{id = 1e300}", "expected integer, got number 1e+300"},
        {"{id = 1, amount = -0.0}", "\"amount\":0}"},
        {"{id = 1, amount = 1e308}", "\"amount\":1e+308}"},
        {"{id = 1, amount = 0.1}", "\"amount\":0.1}"},
        {"{id = 1, amount = -1.5}", "\"amount\":-1.5}"},
        {"{id = 1, amount = 0.1 + 0.2}", "\"amount\":0.30000000000000004}"},
        {"{id = 1, amount = 1/3}", "\"amount\":0.3333333333333333}"},
        {"{id = 1, amount = 123456.789}", "\"amount\":123456.789}"},
        {"{id = 1, amount = 0.0001}", "\"amount\":0.0001}"},
        {"{id = 1, amount = 0.00001}", "\"amount\":1e-05}"},
        {"{id = 1, amount = 1e15 + 0.5}", "\"amount\":1000000000000000.5}"},
        {"{id = 1, amount = 99999999999999.9}", "\"amount\":99999999999999.9}"},
        {"{id = 1, amount = 5e-324}", "\"amount\":4.94065645841247e-324}"},
        {"{id = 1, amount = 1e21}", "\"amount\":1e+21}"},
        {"{id = 1, amount = 0/0}", "number is not finite"},
        {"{id = 1, amount = math.huge}", "number is not finite"},
        {"{id = 1, amount = -math.huge}", "number is not finite"},
        {"{id = 0/0}", "number is not finite"},
        {NULL, NULL},
    };
    check_cases(cases, SL_UNKNOWN_REJECT, NULL);
}

static void test_output_strings(void)
{
    static const out_case cases[] = {
        {"{id = 1, email = 'a\"b\\\\c\\n\\1\\127/'}",
         "\"email\":\"a\\\"b\\\\c\\n\\u0001\x7f/\""},
        {"{id = 1, email = 'Chlo\\u{e9} \\u{d8}berg \\u{2713} \\u{1F600}'}",
         "\"email\":\"Chlo\xc3\xa9 \xc3\x98" "berg \xe2\x9c\x93 \xf0\x9f\x98\x80\""},
        {"{id = 1, email = ''}", "\"email\":\"\""},
        {"{id = 1, email = '\\xff\\xfe'}", "not valid JSON text"},
        {"{id = 1, email = 'ok \\xed\\xa0\\x80'}", "not valid JSON text"},
        {"{id = 1, email = 'cut \\xc3'}", "not valid JSON text"},
        {"{id = 1, email = 'x\\0y'}", "\"email\":\"x\\u0000y\""},
        /* past the first 8 bytes, at and across their boundaries */
        {"{id = 1, email = '0123456789abcdef'}", "\"email\":\"0123456789abcdef\""},
        {"{id = 1, email = '0123456789abcde\"'}", "\"email\":\"0123456789abcde\\\"\""},
        {"{id = 1, email = '01234567\\\\x'}", "\"email\":\"01234567\\\\x\""},
        {"{id = 1, email = '012345678\\127\\31'}", "\"email\":\"012345678\x7f\\u001f\""},
        {"{id = 1, email = 'abcdefg\\u{e9}xyz01234567'}",
         "\"email\":\"abcdefg\xc3\xa9xyz01234567\""},
        {"{id = 1, email = 'abcdefgh\\u{e9}\"ij0123456789'}",
         "\"email\":\"abcdefgh\xc3\xa9\\\"ij0123456789\""},
        {"{id = 1, email = '0123456789\"x'}", "\"email\":\"0123456789\\\"x\""},
        {"{id = 1, email = '012345678\\u{e9}'}", "\"email\":\"012345678\xc3\xa9\""},
        {"{id = 1, email = '0123456789\\n'}", "\"email\":\"0123456789\\n\""},
        {"{id = 1, email = 'abcdefghij\\xff'}", "not valid JSON text"},
        {"{id = 1, email = 'abcdefgh\\xc3'}", "not valid JSON text"},
        {"{id = 1, email = 'abcdefghi\\xc0\\xaf0123456'}", "not valid JSON text"},
        {"{id = 1, email = '01234567\\u{e9}01234567\\xed\\xa0\\x80'}", "not valid JSON text"},
        {NULL, NULL},
    };
    check_cases(cases, SL_UNKNOWN_REJECT, NULL);
}

static void test_output_shapes(void)
{
    static const out_case cases[] = {
        {"{id = 1, extra = 1}", "\"field\":\"extra\",\"error\":\"unknown field"},
        {"{id = 1, [5] = true}", "record keys must be strings"},
        {"{id = 1, [1.5] = true}", "record keys must be strings"},
        {"{id = 1, [1] = 5}", "record must be a JSON object, got array"},
        {"{5, 6}", "record must be a JSON object, got array"},
        {"{}", "\"field\":\"id\",\"error\":\"required field is missing\""},
        {"{email = 'x'}", "\"field\":\"id\",\"error\":\"required field is missing\""},
        {"{id = nil, email = 'x'}", "required field is missing"},
        {"{id = 1, email = nil}", "{\"id\":1,\"email\":null,\"amount\":null}|"},
        {"{amount = 2, id = 1, email = 'e'}", "{\"id\":1,\"email\":\"e\",\"amount\":2}|"},
        {"{id = '7'}", "\"field\":\"id\",\"error\":\"expected integer, got string"},
        {"{id = true}", "\"field\":\"id\",\"error\":\"expected integer, got boolean"},
        {"{id = {}}", "\"field\":\"id\",\"error\":\"expected integer, got object"},
        {"{id = {1}}", "\"field\":\"id\",\"error\":\"expected integer, got array"},
        {"{id = function() end}", "cannot encode a function"},
        {"{id = 1, email = 5}", "\"field\":\"email\",\"error\":\"expected string, got number"},
        {"{id = 1, email = false}", "\"field\":\"email\",\"error\":\"expected string, got boolean"},
        {"{id = 1, amount = '1'}", "\"field\":\"amount\",\"error\":\"expected number, got string"},
        {"{id = 1, amount = {x = 1}}", "\"field\":\"amount\",\"error\":\"expected number, got object"},
        {"setmetatable({id = 1}, {})", "{\"id\":1,\"email\":null,\"amount\":null}|"},
        {"{{id = 1}, {id = 'x'}, {id = 3}}",
         "{\"id\":1,\"email\":null,\"amount\":null}|{\"id\":3,\"email\":null,\"amount\":null}|"},
        {"{{id = 1}, {id = 'x'}, {id = 3}}", "expected integer, got string"},
        {"nil", ""},
        {"'x'", "transform must return a table, a list of tables or nil, got string"},
        {"true", "got boolean"},
        {NULL, NULL},
    };
    check_cases(cases, SL_UNKNOWN_REJECT, NULL);

    static const out_case dropped[] = {
        {"{id = 1, extra = 1, more = {1}}", "{\"id\":1,\"email\":null,\"amount\":null}|"},
        {"{id = 1, [5] = true}", "record keys must be strings"},
        {NULL, NULL},
    };
    check_cases(dropped, SL_UNKNOWN_DROP, NULL);
}

/* The limits count what the record would be as compact JSON text. */
static void test_output_limits(void)
{
    sl_schema_limits lim = {.record_bytes = 40, .string_bytes = 10,
                            .fields = 2};
    static const out_case cases[] = {
        {"{id = 1, email = '0123456789'}", "{\"id\":1,\"email\":\"0123456789\",\"amount\":null}|"},
        {"{id = 1, email = '0123456789a'}", "string is 11 bytes, more than limits.string_bytes (10)"},
        {"{id = 1, email = 'a\"'}", "{\"id\":1,\"email\":\"a\\\"\",\"amount\":null}|"},
        /* {"id":1,"email":"012345678","amount":1.5} is 41 bytes */
        {"{id = 1, email = '012345678', amount = 1.5}", "more than limits.fields (2) members"},
        {NULL, NULL},
    };
    check_cases(cases, SL_UNKNOWN_REJECT, &lim);
    lim.fields = 3;
    static const out_case sized[] = {
        {"{id = 1, email = '012345678', amount = 1.5}", "record is 41 bytes, more than limits.record_bytes (40)"},
        {"{id = 1, email = '01234567', amount = 1.5}", "{\"id\":1,\"email\":\"01234567\",\"amount\":1.5}|"},
        {NULL, NULL},
    };
    check_cases(sized, SL_UNKNOWN_REJECT, &lim);
}

/* What a transform sees of the record: integers past 2^53 as integers,
 * decimals as the double the literal names, escapes decoded, arrays with
 * their length, and the record's members all there. */
static void test_input_values(void)
{
    env e;
    setup(&e,
          "return function(rec)\n"
          "  local n = 0 for _ in pairs(rec) do n = n + 1 end\n"
          "  local ok = math.type(rec.big) == 'integer' and rec.big == 9007199254740993\n"
          "    and rec.d == 0.1 and rec.e == 1500.0 and math.type(rec.e) == 'float'\n"
          "    and rec.long == 123456789012345.67 and rec.nz == 0\n"
          "    and rec.s == 'a\"\\n\\u{e9}' and #rec.arr == 3 and rec.arr[3] == 'z'\n"
          "    and rec.obj.k == true and n == 10\n"
          "  return {id = ok and 1 or 0, amount = rec.d}\n"
          "end\n",
          0);
    char body[1024] = "{\"big\":9007199254740993,\"d\":0.1,\"e\":1.5e3,"
                      "\"long\":123456789012345.67,\"nz\":-0,"
                      "\"s\":\"a\\\"\\n\\u00e9\",\"arr\":[1,\"y\",\"z\"],"
                      "\"obj\":{\"k\":true},\"x1\":null,\"x2\":false}";
    run(&e, body);
    CHECK_STR(e.records, "{\"id\":1,\"email\":null,\"amount\":0.1}|");
    teardown(&e);

    /* a record of more members than are gathered before its table is made */
    setup(&e,
          "return function(rec)\n"
          "  local n = 0 for _ in pairs(rec) do n = n + 1 end\n"
          "  return {id = n, amount = rec.k69 + #rec.list}\n"
          "end\n",
          0);
    size_t len = (size_t)snprintf(body, sizeof body, "{");
    for (int i = 0; i < 70; i++)
        len += (size_t)snprintf(body + len, sizeof body - len, "\"k%d\":%d,", i, i);
    len += (size_t)snprintf(body + len, sizeof body - len, "\"list\":[");
    for (int i = 0; i < 40; i++)
        len += (size_t)snprintf(body + len, sizeof body - len, "%s%d", i ? "," : "", i);
    snprintf(body + len, sizeof body - len, "]}");
    run(&e, body);
    CHECK_STR(e.records, "{\"id\":71,\"email\":null,\"amount\":109}|");
    teardown(&e);
}

/* The keys of one record are kept for the next: a different key in the
 * same place, an escaped one, a long one are each what the record says. */
static void test_kept_keys(void)
{
    env e;
    setup(&e,
          "return function(rec)\n"
          "  local ks = {} for k in pairs(rec) do ks[#ks + 1] = k end\n"
          "  table.sort(ks)\n"
          "  return {id = rec.id, email = table.concat(ks, ',')}\n"
          "end\n",
          0);
    run(&e, "[{\"id\":1,\"a\":1},{\"id\":2,\"b\":1},{\"id\":3,\"a\":1},"
            "{\"\\u0069d\":4,\"a\\n\":1},{\"id\":5,\"a\":1,\"bb\":2},"
            "{\"id\":6,\"a\":1},"
            "{\"id\":7,\"k234567890123456789012345678901234567890\":1},"
            "{\"id\":8,\"k234567890123456789012345678901234567890\":1},"
            "{\"id\":9,\"k23456789012345678901234567890123456789\":1}]");
    CHECK_STR(e.records,
              "{\"id\":1,\"email\":\"a,id\",\"amount\":null}|"
              "{\"id\":2,\"email\":\"b,id\",\"amount\":null}|"
              "{\"id\":3,\"email\":\"a,id\",\"amount\":null}|"
              "{\"id\":4,\"email\":\"a\\n,id\",\"amount\":null}|"
              "{\"id\":5,\"email\":\"a,bb,id\",\"amount\":null}|"
              "{\"id\":6,\"email\":\"a,id\",\"amount\":null}|"
              "{\"id\":7,\"email\":\"id,k234567890123456789012345678901234567890\",\"amount\":null}|"
              "{\"id\":8,\"email\":\"id,k234567890123456789012345678901234567890\",\"amount\":null}|"
              "{\"id\":9,\"email\":\"id,k23456789012345678901234567890123456789\",\"amount\":null}|");
    teardown(&e);
}

/* Records whose shape changes from one to the next: each table is made at
 * the size the record before had, so it grows or is too large, and still
 * holds exactly the record (a duplicate key: the last one); an output's
 * keys found by the field each was last time or by name when that
 * changed, in any order, built at run time or not. */
static void test_changing_shapes(void)
{
    env e;
    setup(&e,
          "return function(rec)\n"
          "  local n, sum = 0, 0\n"
          "  for k, v in pairs(rec) do n = n + 1 sum = sum + v end\n"
          "  if rec.id % 3 == 0 then return {['am' .. 'ount'] = sum, id = n} end\n"
          "  if rec.id % 3 == 1 then return {id = n, email = 'e' .. n, amount = sum} end\n"
          "  return {email = 'x', id = n}\n"
          "end\n",
          0);
    char body[4096];
    size_t len = (size_t)snprintf(body, sizeof body, "[");
    static const int members[] = {3, 40, 1, 1, 70, 2, 5};
    for (size_t r = 0; r < sizeof members / sizeof *members; r++) {
        len += (size_t)snprintf(body + len, sizeof body - len, "%s{\"id\":%zu",
                                r ? "," : "", r + 1);
        for (int i = 1; i < members[r]; i++)
            len += (size_t)snprintf(body + len, sizeof body - len,
                                    ",\"k%d\":%d", i, i);
        len += (size_t)snprintf(body + len, sizeof body - len, "}");
    }
    /* a duplicate key: the last value counts, once */
    snprintf(body + len, sizeof body - len,
             ",{\"id\":8,\"a\":5,\"a\":7},{\"id\":9}]");
    run(&e, body);
    CHECK(e.res.accepted == 9 && e.res.rejected == 0);
    CHECK_STR(e.records,
              "{\"id\":3,\"email\":\"e3\",\"amount\":4}|"      /* 1+1+2 */
              "{\"id\":40,\"email\":\"x\",\"amount\":null}|"
              "{\"id\":1,\"email\":null,\"amount\":3}|"
              "{\"id\":1,\"email\":\"e1\",\"amount\":4}|"
              "{\"id\":70,\"email\":\"x\",\"amount\":null}|"
              "{\"id\":2,\"email\":null,\"amount\":7}|"        /* 6+1 */
              "{\"id\":5,\"email\":\"e5\",\"amount\":17}|"   /* 7+10 */
              "{\"id\":2,\"email\":\"x\",\"amount\":null}|"
              "{\"id\":1,\"email\":null,\"amount\":9}|");
    teardown(&e);
}

/* ctx is built only for a function that can see it. */
static void test_ctx(void)
{
    env e;
    setup(&e, "return function(rec, ctx) return {id = ctx.index, email = ctx.connector} end", 0);
    run(&e, "[{\"id\":5},{\"id\":6}]");
    CHECK_STR(e.records, "{\"id\":0,\"email\":\"t\",\"amount\":null}|"
                         "{\"id\":1,\"email\":\"t\",\"amount\":null}|");
    teardown(&e);
    setup(&e, "return function(...) local _, ctx = ... return {id = ctx.index + 10} end", 0);
    run(&e, "[{\"id\":5},{\"id\":6}]");
    CHECK_STR(e.records, "{\"id\":10,\"email\":null,\"amount\":null}|"
                         "{\"id\":11,\"email\":null,\"amount\":null}|");
    teardown(&e);
    setup(&e, "return function(rec) return {id = select('#', rec) } end", 0);
    run(&e, "{\"id\":5}");
    CHECK_STR(e.records, "{\"id\":1,\"email\":null,\"amount\":null}|");
    teardown(&e);
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
        {"output_numbers", test_output_numbers},
        {"output_strings", test_output_strings},
        {"output_shapes", test_output_shapes},
        {"output_limits", test_output_limits},
        {"input_values", test_input_values},
        {"ctx", test_ctx},
        {"kept_keys", test_kept_keys},
        {"changing_shapes", test_changing_shapes},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
