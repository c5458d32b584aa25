/* Unit tests for sl_config_parse, the table-driven parser of the config
 * module, on a key table of its own (every kind and store, a nested and a
 * self-nesting table, a custom key) with malformed and hostile values;
 * and its helpers: "did you mean", value descriptions, the list check,
 * the key path and the problems sorted by line. The real key tables are
 * tested through files in test_config.c and test_config_rules.c. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "sl_config_parse.h"
#include "sl_test.h"
#include "sl_test_config.h"

typedef struct target {
    char *name;         /* owned */
    const char *label;  /* borrowed */
    size_t size;
    unsigned wait;
    unsigned long big;
    int level;
    char *mode;         /* owned */
    bool flag;
    size_t inner_size;
    int custom_calls;
    int custom_absent;  /* times the custom key was called with idx 0 */
} target;

#define AT(f) offsetof(target, f)

static int check_not_bad(const char *v, char *why, size_t n)
{
    if (strcmp(v, "bad") != 0)
        return 0;
    snprintf(why, n, "must not be \"bad\"");
    return -1;
}

static void custom_count(sl_config_parse_context *ctx,
                         const sl_config_key *key, int idx, void *t)
{
    target *tg = t;
    (void)ctx;
    (void)key;
    tg->custom_calls++;
    tg->custom_absent += idx == 0;
}

static const char *const levels[] = {"low", "mid", "high", NULL};

static const sl_config_key inner_keys[] = {
    {.name = "size", .kind = SL_CONFIG_INTEGER, .store = SL_CONFIG_STORE_SIZE,
     .off = AT(inner_size), .def = 7, .min = 0, .max = 100},
    {0}};

/* deep = { deep = { ... } }, DEEP levels (filled by deep_chain()). */
#define DEEP (SL_CONFIG_PATH_MAX + 4)
static sl_config_key deep_keys[DEEP + 1][2];

static void deep_chain(void)
{
    for (int i = 0; i < DEEP; i++)
        deep_keys[i][0] = (sl_config_key){.name = "deep",
                                          .kind = SL_CONFIG_TABLE,
                                          .sub = deep_keys[i + 1]};
}

static const sl_config_key test_keys[] = {
    {.name = "name", .kind = SL_CONFIG_STRING, .store = SL_CONFIG_STORE_STRING,
     .off = AT(name), .required = true, .check = check_not_bad},
    {.name = "label", .kind = SL_CONFIG_STRING,
     .store = SL_CONFIG_STORE_BORROWED, .off = AT(label), .defstr = "none"},
    {.name = "size", .kind = SL_CONFIG_INTEGER, .store = SL_CONFIG_STORE_SIZE,
     .off = AT(size), .def = 10, .min = 1, .max = 1000, .unit = "bytes"},
    {.name = "wait", .kind = SL_CONFIG_INTEGER,
     .store = SL_CONFIG_STORE_UNSIGNED, .off = AT(wait), .def = 5, .min = 0,
     .max = LLONG_MAX, .unit = "ms"},
    {.name = "big", .kind = SL_CONFIG_INTEGER, .store = SL_CONFIG_STORE_ULONG,
     .off = AT(big), .def = 1, .min = 1, .max = LLONG_MAX},
    {.name = "level", .kind = SL_CONFIG_ENUM, .store = SL_CONFIG_STORE_INT,
     .off = AT(level), .def = 1, .choices = levels},
    {.name = "mode", .kind = SL_CONFIG_ENUM, .store = SL_CONFIG_STORE_STRING,
     .off = AT(mode), .def = 0, .choices = levels},
    {.name = "flag", .kind = SL_CONFIG_BOOLEAN, .store = SL_CONFIG_STORE_BOOL,
     .off = AT(flag), .def = 1},
    {.name = "inner", .kind = SL_CONFIG_TABLE, .sub = inner_keys},
    {.name = "deep", .kind = SL_CONFIG_TABLE, .sub = deep_keys[0]},
    {.name = "custom", .kind = SL_CONFIG_CUSTOM, .custom = custom_count,
     .ltype = LUA_TNONE},
    {0}};

/* Parse `text` into *tg; the problems, one a line. */
static const char *parse(const char *text, target *tg)
{
    static sl_test_config t;
    memset(tg, 0, sizeof *tg);
    if (sl_test_config_open(&t, text) != 0) {
        CHECK(!"the text runs and returns a table");
        sl_test_config_close(&t);
        return "";
    }
    sl_config_parse_table(&t.ctx, 1, test_keys, tg);
    CHECK(t.ctx.depth == 0);          /* the key path is balanced */
    CHECK(lua_gettop(t.ctx.L) == 1);  /* the stack is as it was */
    if (tg->label && strcmp(tg->label, "none") != 0)
        tg->label = "(borrowed)";     /* dies with the state */
    return sl_test_config_close(&t);
}

static size_t count_lines_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void target_free(target *tg)
{
    free(tg->name);
    free(tg->mode);
}

static void test_defaults(void)
{
    target tg;
    CHECK_STR(parse("return { name = \"x\" }", &tg), "");
    CHECK_STR(tg.name, "x");
    CHECK_STR(tg.label, "none");
    CHECK(tg.size == 10 && tg.wait == 5 && tg.big == 1);
    CHECK(tg.level == 1);
    CHECK_STR(tg.mode, "low");
    CHECK(tg.flag);
    CHECK(tg.inner_size == 7);           /* defaults of a nested table */
    CHECK(tg.custom_calls == 1 && tg.custom_absent == 1);
    target_free(&tg);
}

static void test_values(void)
{
    target tg;
    CHECK_STR(parse("return { name = \"x\", label = \"l\", size = 12.0,\n"
                    "  wait = 0, big = math.maxinteger, level = \"HIGH\",\n"
                    "  mode = \"Mid\", flag = false, inner = { size = 100 },\n"
                    "  custom = {} }", &tg), "");
    CHECK_STR(tg.label, "(borrowed)");
    CHECK(tg.size == 12);                /* an integral float is an integer */
    CHECK(tg.wait == 0);
    CHECK(tg.big == (unsigned long)LLONG_MAX);
    CHECK(tg.level == 2);                /* any case */
    CHECK_STR(tg.mode, "mid");           /* stored as written in the table */
    CHECK(!tg.flag);
    CHECK(tg.inner_size == 100);
    CHECK(tg.custom_calls == 1 && tg.custom_absent == 0);
    target_free(&tg);
}

static void test_missing_and_check(void)
{
    target tg;
    /* an absent key: the line of the file's return */
    CHECK_STR(parse("return {}", &tg), "t.lua:1: name: missing (required)\n");
    CHECK(tg.name == NULL);
    target_free(&tg);
    CHECK_STR(parse("return {\n  name = \"bad\" }", &tg),
              "t.lua:2: name: must not be \"bad\"\n");
    CHECK(tg.name == NULL);              /* no default: stays unset */
    target_free(&tg);
}

/* Wrong types and numbers no integer key takes: each reported at its
 * line, the default stored instead. */
static void test_hostile_numbers(void)
{
    target tg;
    const char *msgs = parse("return { name = \"x\",\n"
                             "  size = 1e300,\n"
                             "  wait = -1,\n"
                             "  big = 0/0,\n"
                             "  level = 2,\n"
                             "  flag = 1,\n"
                             "  inner = { size = 1.5 },\n"
                             "  label = {},\n"
                             "}", &tg);
    CHECK_CONTAINS(msgs, "t.lua:2: size: expected an integer, got number "
                         "1e+300\n");
    CHECK_CONTAINS(msgs, "t.lua:3: wait: -1 is out of range (at least 0 "
                         "ms)\n");
    CHECK_CONTAINS(msgs, "t.lua:4: big: expected an integer, got number ");
    CHECK_CONTAINS(msgs, "t.lua:5: level: expected a string, got number 2\n");
    CHECK_CONTAINS(msgs, "t.lua:6: flag: expected a boolean, got number 1\n");
    CHECK_CONTAINS(msgs, "t.lua:7: inner.size: expected an integer, got "
                         "number 1.5\n");
    CHECK_CONTAINS(msgs, "t.lua:8: label: expected a string, got table\n");
    CHECK(count_lines_of(msgs) == 7);
    CHECK(tg.size == 10 && tg.wait == 5 && tg.big == 1 && tg.level == 1);
    CHECK(tg.flag && tg.inner_size == 7);
    CHECK_STR(tg.label, "none");
    target_free(&tg);

    msgs = parse("return { name = \"x\", size = math.maxinteger,\n"
                 "  inner = { size = math.mininteger } }", &tg);
    CHECK_CONTAINS(msgs, "t.lua:1: size: 9223372036854775807 is out of range "
                         "(1..1000 bytes)\n");
    CHECK_CONTAINS(msgs, "t.lua:2: inner.size: -9223372036854775808 is out of "
                         "range (0..100)\n");
    target_free(&tg);
}

static void test_enum(void)
{
    target tg;
    CHECK_STR(parse("return { name = \"x\", level = \"hihg\" }", &tg),
              "t.lua:1: level: invalid value \"hihg\" (did you mean "
              "\"high\"? valid: low, mid, high)\n");
    CHECK(tg.level == 1);
    target_free(&tg);
    CHECK_STR(parse("return { name = \"x\", mode = \"zzzz\" }", &tg),
              "t.lua:1: mode: invalid value \"zzzz\" (valid: low, mid, "
              "high)\n");
    CHECK_STR(tg.mode, "low");
    target_free(&tg);
}

static void test_unknown_keys(void)
{
    target tg;
    const char *msgs = parse("return { name = \"x\",\n"
                             "  nmae = 1,\n"
                             "  zzzzzzzz = 1,\n"
                             "  [\"two words\"] = 1,\n"
                             "  [1] = \"positional\",\n"
                             "  [true] = 1,\n"
                             "  inner = { sise = 1 } }", &tg);
    CHECK_CONTAINS(msgs, "t.lua:2: nmae: unknown key (did you mean "
                         "\"name\"?)\n");
    CHECK_CONTAINS(msgs, "t.lua:3: zzzzzzzz: unknown key (valid: name, label, "
                         "size, wait, big, level, mode, flag, inner, deep, "
                         "custom)\n");
    CHECK_CONTAINS(msgs, "[\"two words\"]: unknown key (valid: ");
    CHECK_CONTAINS(msgs, ": unexpected key (number 1); keys are names, as in "
                         "name = ...\n");
    CHECK_CONTAINS(msgs, ": unexpected key (boolean true); keys are names, as "
                         "in name = ...\n");
    CHECK_CONTAINS(msgs, "t.lua:7: inner.sise: unknown key (did you mean "
                         "\"size\"?)\n");
    target_free(&tg);
}

/* A table nested deeper than the SL_CONFIG_PATH_MAX steps of key path
 * kept: the message names the first ones, nothing overflows, the path is balanced. */
static void test_deep_nesting(void)
{
    char text[4096], want[512] = "t.lua:1: ", *w = want + strlen(want);
    size_t n = 0;
    target tg;
    n += (size_t)snprintf(text + n, sizeof text - n, "return { name = \"x\", ");
    for (int i = 0; i < SL_CONFIG_PATH_MAX + 2; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "deep = { ");
    n += (size_t)snprintf(text + n, sizeof text - n, "oops = 1 ");
    for (int i = 0; i < SL_CONFIG_PATH_MAX + 2; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "} ");
    snprintf(text + n, sizeof text - n, "}");
    const char *msgs = parse(text, &tg);
    for (int i = 0; i < SL_CONFIG_PATH_MAX; i++)
        w += sprintf(w, "%sdeep", i ? "." : "");
    strcpy(w, ": unknown key (valid: deep)\n");
    CHECK_CONTAINS(msgs, want);
    CHECK(count_lines_of(msgs) == 1);
    strcpy(w, ".deep");
    CHECK(strstr(msgs, want + 9) == NULL);
    target_free(&tg);
}

/* More keys than the 32 names the walker keeps for suggestions. */
static void test_many_keys(void)
{
    static sl_config_key many[41];
    static char names[40][8];
    size_t flags[40];
    sl_test_config t;
    for (int i = 0; i < 40; i++) {
        snprintf(names[i], sizeof names[i], "k%02d", i);
        many[i] = (sl_config_key){.name = names[i], .kind = SL_CONFIG_INTEGER,
                                  .store = SL_CONFIG_STORE_SIZE,
                                  .off = (size_t)i * sizeof(size_t),
                                  .def = i, .min = 0, .max = 100};
    }
    CHECK(sl_test_config_open(&t, "return { k39 = 3, zzzzzzzzzz = 1 }") == 0);
    sl_config_parse_table(&t.ctx, 1, many, flags);
    const char *msgs = sl_test_config_close(&t);
    CHECK(flags[39] == 3 && flags[0] == 0 && flags[38] == 38);
    CHECK_CONTAINS(msgs, "zzzzzzzzzz: unknown key (valid: k00, k01, ");
    CHECK_CONTAINS(msgs, "k31)\n");      /* the first 32 */
}

static void test_check_list(void)
{
    static const struct {
        const char *text;
        bool ok;
        const char *found;
    } cases[] = {
        {"return {}", true, NULL},
        {"return { 1, 2, 3 }", true, NULL},
        {"return { 1, 2, x = 1 }", false, "the key string \"x\""},
        {"return { [0] = 1 }", false, "the key number 0"},
        {"return { [-1] = 1 }", false, "the key number -1"},
        {"return { [1.5] = 1 }", false, "the key number 1.5"},
        {"return { [1] = 1, [true] = 2 }", false, "the key boolean true"},
        {"return { [1] = 1, [9] = 2 }", false, "the key number 9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_test_config t;
        CHECK(sl_test_config_open(&t, cases[i].text) == 0);
        bool ok = sl_config_check_list(&t.ctx, 1, "{ \"a\" }");
        CHECK(lua_gettop(t.ctx.L) == 1);
        const char *msgs = sl_test_config_close(&t);
        CHECK(ok == cases[i].ok);
        if (cases[i].found) {
            CHECK_CONTAINS(msgs, "expected a list like { \"a\" }, found ");
            CHECK_CONTAINS(msgs, cases[i].found);
            CHECK(t.nproblems == 1);     /* once, however many keys */
        } else {
            CHECK_STR(msgs, "");
        }
    }
}

static void test_suggest(void)
{
    const char *const keys[] = {"max_records", "max_bytes", "max_delay_ms",
                                "url"};
    char long_word[100];
    memset(long_word, 'm', sizeof long_word - 1);
    long_word[sizeof long_word - 1] = '\0';
    CHECK_STR(sl_config_suggest("max_recrods", keys, 4), "max_records");
    CHECK_STR(sl_config_suggest("MAX_BYTES", keys, 4), "max_bytes");
    CHECK_STR(sl_config_suggest("max_rec", keys, 4), "max_records");
    CHECK_STR(sl_config_suggest("urk", keys, 4), "url");
    CHECK(sl_config_suggest("xyz", keys, 4) == NULL);
    CHECK(sl_config_suggest("", keys, 4) == NULL);
    CHECK(sl_config_suggest("ur", keys, 0) == NULL);
    CHECK(sl_config_suggest(long_word, keys, 4) == NULL);
    memcpy(long_word, "max_delay_ms", 12); /* too long to compare: a prefix */
    CHECK_STR(sl_config_suggest(long_word, keys, 4), "max_delay_ms");
}

static void test_describe(void)
{
    lua_State *L = luaL_newstate();
    char out[64];
    CHECK(L != NULL);
    if (!L)
        return;
    lua_pushstring(L, "a string longer than forty characters, cut here");
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "string \"a string longer than forty characters, c\"");
    lua_pushinteger(L, -7);
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "number -7");
    lua_pushnumber(L, 0.25);
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "number 0.25");
    lua_pushboolean(L, 0);
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "boolean false");
    lua_newtable(L);
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "table");
    lua_pushnil(L);
    sl_config_describe(L, -1, out, sizeof out);
    CHECK_STR(out, "nil");
    sl_config_describe(L, -1, out, 5);   /* a small buffer is cut, ended */
    CHECK_STR(out, "nil");
    lua_pushstring(L, "abcdef");
    sl_config_describe(L, -1, out, 6);
    CHECK_STR(out, "strin");
    lua_close(L);
}

/* Problems come out by line, those of one line in the order found, those
 * without a line last; the key path names list elements and odd keys. */
static void test_problem_order_and_path(void)
{
    sl_test_config t;
    CHECK(sl_test_config_open(&t, "return {\n"
                                  "  a = 1,\n"
                                  "  b = { 1, 2 },\n"
                                  "}") == 0);
    sl_config_add_problem(&t.ctx, 0, strdup("no line"));
    sl_config_path_push(&t.ctx, "b", 0);
    sl_config_path_push(&t.ctx, NULL, 2);
    sl_config_err(&t.ctx, "third, %d", 3);
    sl_config_path_pop(&t.ctx);
    sl_config_path_pop(&t.ctx);
    sl_config_path_push(&t.ctx, "a", 0);
    sl_config_err(&t.ctx, "first");
    sl_config_err(&t.ctx, "second");
    sl_config_path_pop(&t.ctx);
    sl_config_path_push(&t.ctx, "not an ident", 0);
    sl_config_err(&t.ctx, "odd");
    sl_config_path_pop(&t.ctx);
    sl_config_add_problem(&t.ctx, 1, NULL); /* ignored */
    for (int i = 0; i < SL_CONFIG_PATH_MAX + 5; i++) /* deeper than kept */
        sl_config_path_push(&t.ctx, "x", 0);
    sl_config_err(&t.ctx, "deep");
    for (int i = 0; i < SL_CONFIG_PATH_MAX + 5; i++)
        sl_config_path_pop(&t.ctx);
    CHECK(t.ctx.depth == 0);
    char *copy = sl_config_strdup(&t.ctx, "copy");
    CHECK_STR(copy, "copy");
    free(copy);
    /* keys the file does not have: the line of its return */
    CHECK_STR(sl_test_config_close(&t),
              "t.lua:1: [\"not an ident\"]: odd\n"
              "t.lua:1: x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x.x"
              ".x.x.x.x: deep\n"
              "t.lua:2: a: first\n"
              "t.lua:2: a: second\n"
              "t.lua:3: b[2]: third, 3\n"
              "no line\n");
}

int main(void)
{
    deep_chain();
    static const sl_test_case cases[] = {
        {"defaults", test_defaults},
        {"values", test_values},
        {"missing_and_check", test_missing_and_check},
        {"hostile_numbers", test_hostile_numbers},
        {"enum", test_enum},
        {"unknown_keys", test_unknown_keys},
        {"deep_nesting", test_deep_nesting},
        {"many_keys", test_many_keys},
        {"check_list", test_check_list},
        {"suggest", test_suggest},
        {"describe", test_describe},
        {"problem_order_and_path", test_problem_order_and_path},
        {NULL, NULL}};
    return sl_test_run(cases);
}
