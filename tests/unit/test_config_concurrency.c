/* Unit tests for sl_config_concurrency: `concurrency` (a number or
 * "adaptive") and `max_concurrency` parsed by their custom parsers on
 * values, with malformed and hostile input (wrong types, 0, negative,
 * huge, fractions, NaN, unknown and near-miss strings, a string of
 * digits), and the checks after the keys (max_concurrency without
 * adaptive, adaptive with ordered). */
#include <stdbool.h>
#include <string.h>

#include <lua.h>

#include "sl_config_concurrency.h"
#include "sl_config_connector_rules.h"
#include "sl_config_keys.h"
#include "sl_test.h"
#include "sl_test_config.h"

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Parse the key `name` of the table `text` returns as the table walker
 * does (its Lua type checked first). Returns the problems. */
static const char *run(const char *text, const char *name,
                       sl_config_connector_target *ct)
{
    static sl_test_config t;
    const sl_config_key *key =
        sl_test_config_key(sl_config_connector_keys, name);
    CHECK(key != NULL);
    if (!key || sl_test_config_open(&t, text) != 0) {
        CHECK(!"the text runs and returns a table");
        return sl_test_config_close(&t);
    }
    lua_getfield(t.ctx.L, 1, name);                /* t v */
    sl_config_path_push(&t.ctx, name, 0);
    sl_config_parse_value(&t.ctx, key, ct);
    sl_config_path_pop(&t.ctx);
    CHECK(lua_gettop(t.ctx.L) == 2);               /* stack as it was */
    CHECK(t.ctx.depth == 0);
    lua_pop(t.ctx.L, 1);                           /* t */
    return sl_test_config_close(&t);
}

static void test_concurrency(void)
{
    static const struct {
        const char *text;
        unsigned value;
        bool adaptive;
        const char *msg;
    } cases[] = {
        {"return {}", 4, false, ""},
        {"return { concurrency = 1 }", 1, false, ""},
        {"return { concurrency = 64 }", 64, false, ""},
        {"return { concurrency = 8.0 }", 8, false, ""},
        {"return { concurrency = \"adaptive\" }", 1, true, ""},
        {"return { concurrency = \"ADAPTIVE\" }", 1, true, ""},
        {"return { concurrency = 0 }", 4, false,
         "t.lua:1: concurrency: 0 is out of range (1..64, or \"adaptive\")\n"},
        {"return { concurrency = -3 }", 4, false,
         "t.lua:1: concurrency: -3 is out of range (1..64, or \"adaptive\")\n"},
        {"return { concurrency = 65 }", 4, false,
         "t.lua:1: concurrency: 65 is out of range (1..64, or \"adaptive\")\n"},
        {"return { concurrency = 9223372036854775807 }", 4, false,
         "t.lua:1: concurrency: 9223372036854775807 is out of range"},
        {"return { concurrency = 2.5 }", 4, false,
         "t.lua:1: concurrency: expected an integer 1 .. 64, or "
         "\"adaptive\", got number 2.5\n"},
        {"return { concurrency = 1e300 }", 4, false,
         "t.lua:1: concurrency: expected an integer 1 .. 64, or "
         "\"adaptive\", got number 1e+300\n"},
        {"return { concurrency = 0/0 }", 4, false,
         "t.lua:1: concurrency: expected an integer 1 .. 64, or "
         "\"adaptive\", got number "},
        {"return { concurrency = true }", 4, false,
         "t.lua:1: concurrency: expected an integer 1 .. 64, or "
         "\"adaptive\", got boolean true\n"},
        {"return { concurrency = { 4 } }", 4, false,
         "t.lua:1: concurrency: expected an integer 1 .. 64, or "
         "\"adaptive\", got table\n"},
        {"return { concurrency = \"auto\" }", 4, false,
         "t.lua:1: concurrency: invalid value string \"auto\" (valid: an "
         "integer 1 .. 64, or \"adaptive\")\n"},
        {"return { concurrency = \"adaptiv\" }", 4, false,
         "t.lua:1: concurrency: invalid value string \"adaptiv\" (did you "
         "mean \"adaptive\"? valid: an integer 1 .. 64, or \"adaptive\")\n"},
        /* digits in a string are a string, not a number */
        {"return { concurrency = \"4\" }", 4, false,
         "t.lua:1: concurrency: invalid value string \"4\" (valid:"},
        {"return { concurrency = \"\" }", 4, false,
         "t.lua:1: concurrency: invalid value string \"\" (valid:"},
        {"return { concurrency = \"adaptive\\0x\" }", 4, false,
         "t.lua:1: concurrency: invalid value string"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_config_connector_target ct = {0};
        const char *m = run(cases[i].text, "concurrency", &ct);
        if (cases[i].msg[0])
            CHECK_CONTAINS(m, cases[i].msg);
        else
            CHECK_STR(m, "");
        CHECK(count_lines(m) == (cases[i].msg[0] ? 1u : 0u));
        CHECK(ct.c.concurrency == cases[i].value);
        CHECK(ct.c.concurrency_adaptive == cases[i].adaptive);
    }
    /* a huge string: refused, the message cut */
    char text[70000];
    memcpy(text, "return { concurrency = \"", 24);
    memset(text + 24, 'a', 65000);
    memcpy(text + 24 + 65000, "\" }", 4);
    sl_config_connector_target ct = {0};
    const char *m = run(text, "concurrency", &ct);
    CHECK_CONTAINS(m, "t.lua:1: concurrency: invalid value string \"aaa");
    CHECK(strlen(m) < 400 && count_lines(m) == 1);
    CHECK(!ct.c.concurrency_adaptive && ct.c.concurrency == 4);
}

static void test_max_concurrency(void)
{
    static const struct {
        const char *text;
        unsigned value;
        bool set;
        const char *msg;
    } cases[] = {
        {"return {}", 64, false, ""},
        {"return { max_concurrency = 1 }", 1, true, ""},
        {"return { max_concurrency = 1024 }", 1024, true, ""},
        {"return { max_concurrency = 16.0 }", 16, true, ""},
        {"return { max_concurrency = 0 }", 64, true,
         "t.lua:1: max_concurrency: 0 is out of range (1..1024)\n"},
        {"return { max_concurrency = -1 }", 64, true,
         "t.lua:1: max_concurrency: -1 is out of range (1..1024)\n"},
        {"return { max_concurrency = 1025 }", 64, true,
         "t.lua:1: max_concurrency: 1025 is out of range (1..1024)\n"},
        {"return { max_concurrency = -9223372036854775807 }", 64, true,
         "t.lua:1: max_concurrency: -9223372036854775807 is out of range"},
        {"return { max_concurrency = 1.5 }", 64, true,
         "t.lua:1: max_concurrency: expected an integer, got number 1.5\n"},
        {"return { max_concurrency = 1/0 }", 64, true,
         "t.lua:1: max_concurrency: expected an integer, got number inf\n"},
        /* the table walker refuses other types by the key's ltype */
        {"return { max_concurrency = \"64\" }", 64, false,
         "t.lua:1: max_concurrency: expected an integer, got string "
         "\"64\"\n"},
        {"return { max_concurrency = false }", 64, false,
         "t.lua:1: max_concurrency: expected an integer, got boolean "
         "false\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_config_connector_target ct = {0};
        const char *m = run(cases[i].text, "max_concurrency", &ct);
        if (cases[i].msg[0])
            CHECK_CONTAINS(m, cases[i].msg);
        else
            CHECK_STR(m, "");
        CHECK(count_lines(m) == (cases[i].msg[0] ? 1u : 0u));
        if (cases[i].set || !cases[i].msg[0]) {
            CHECK(ct.c.max_concurrency == cases[i].value);
            CHECK(ct.max_concurrency_set == cases[i].set);
        }
    }
}

/* The checks across keys, each at the line of its key. */
static void test_after(void)
{
    static const struct {
        const char *text;
        bool adaptive, ordered, max_set;
        const char *msg;
    } cases[] = {
        {"return {}", false, false, false, ""},
        {"return {}", true, false, false, ""},
        {"return {}", true, false, true, ""},
        {"return {\n concurrency = 4,\n max_concurrency = 8 }", false, false,
         true, "t.lua:3: max_concurrency: set, but concurrency is fixed "
         "(4); it is the ceiling of concurrency = \"adaptive\": add that or "
         "remove it\n"},
        {"return {\n concurrency = \"adaptive\",\n ordered = true }", true,
         true, false, "t.lua:2: concurrency: \"adaptive\" cannot keep "
         "records in order; ordered = true sends one request at a time: "
         "remove one of them\n"},
        {"return {\n ordered = true }", false, true, false, ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_test_config t;
        sl_config_connector_target ct = {0};
        ct.c.concurrency = 4;
        ct.c.concurrency_adaptive = cases[i].adaptive;
        ct.c.ordered = cases[i].ordered;
        ct.max_concurrency_set = cases[i].max_set;
        CHECK(sl_test_config_open(&t, cases[i].text) == 0);
        sl_config_concurrency_after(&t.ctx, &ct);
        CHECK(t.ctx.depth == 0);
        const char *m = sl_test_config_close(&t);
        CHECK_STR(m, cases[i].msg);
    }
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"concurrency", test_concurrency},
        {"max_concurrency", test_max_concurrency},
        {"after", test_after},
        {NULL, NULL}};
    return sl_test_run(cases);
}
