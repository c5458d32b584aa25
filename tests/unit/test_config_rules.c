/* Unit tests for sl_config_connector_rules and sl_config_gateway_rules:
 * the custom parsers of the key tables, called directly on a value (no
 * files, no loader) with malformed and hostile input: headers, functions,
 * the idempotency header, intake keys (whose values no message may show),
 * the schema list, the connector patterns, the TCP listeners and their
 * allow lists; and the checks after the connector keys. Whole files go
 * through test_config.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_config_gateway_rules.h"
#include "sl_config_keys.h"
#include "sl_config_proxy.h"
#include "sl_fieldtpl.h"
#include "sl_test.h"
#include "sl_test_config.h"

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* Run `text` (it returns { <key> = value }) and call the key's custom
 * parser on the value, or with idx 0 when the key is absent, with the key
 * path set as the table walker sets it. Returns the problems. */
static const char *run(const char *text, const sl_config_key *key,
                       void *target)
{
    static sl_test_config t;
    CHECK(key != NULL && key->custom != NULL);
    if (!key || sl_test_config_open(&t, text) != 0) {
        CHECK(!"the text runs and returns a table");
        return sl_test_config_close(&t);
    }
    lua_getfield(t.ctx.L, 1, key->name);           /* t v */
    sl_config_path_push(&t.ctx, key->name, 0);
    key->custom(&t.ctx, key, lua_isnil(t.ctx.L, -1) ? 0 : 2, target);
    sl_config_path_pop(&t.ctx);
    CHECK(lua_gettop(t.ctx.L) == 2);               /* stack as it was */
    CHECK(t.ctx.depth == 0);
    lua_pop(t.ctx.L, 1);                           /* t */
    return sl_test_config_close(&t);
}

static const sl_config_key *connector_key(const char *name)
{
    return sl_test_config_key(sl_config_connector_keys, name);
}

static const sl_config_key *gateway_key(const char *name)
{
    return sl_test_config_key(sl_config_gateway_keys, name);
}

static void connector_target_free(sl_config_connector_target *ct)
{
    sl_connector_conf *c = &ct->c;
    sl_schema_free(c->schema);
    c->schema = NULL;
    sl_fieldtpl_free(c->url_tpl);
    free(c->record_tpls);
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
        if (c->header_tpls)
            sl_fieldtpl_free(c->header_tpls[i]);
    }
    free(c->header_tpls);
    free(c->headers);
    for (size_t i = 0; i < c->nintake_keys; i++)
        free(c->intake_keys[i]);
    free(c->intake_keys);
    free(c->idempotency_header);
    sl_schema_free(c->schema);
    sl_config_schema_free(&ct->fields);
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    sl_config_proxy_free(c); /* from the environment, when it names one */
    memset(ct, 0, sizeof *ct);
}

static void listener_free(sl_tcp_conf *t)
{
    free(t->listen);
    free(t->host);
    free(t->connector);
    for (size_t i = 0; i < t->nallow; i++)
        free(t->allow[i]);
    free(t->allow);
    memset(t, 0, sizeof *t);
}

static void gateway_target_free(sl_config_gateway_target *gt)
{
    for (size_t i = 0; i < gt->g.ntcp; i++)
        listener_free(&gt->g.tcp[i]);
    free(gt->g.tcp);
    for (size_t i = 0; i < gt->npatterns; i++)
        free(gt->patterns[i]);
    free(gt->patterns);
    free(gt->pattern_index);
    memset(gt, 0, sizeof *gt);
}

/* ---- connector ------------------------------------------------------ */

static void test_value_checks(void)
{
    char why[256];
    CHECK(sl_config_check_name("crm_contacts-2", why, sizeof why) == 0);
    CHECK(sl_config_check_name("", why, sizeof why) == -1);
    CHECK(sl_config_check_name("2fast", why, sizeof why) == -1);
    CHECK(sl_config_check_name("-x", why, sizeof why) == -1);
    CHECK(sl_config_check_name("a b", why, sizeof why) == -1);
    CHECK(sl_config_check_name("caf\xc3\xa9", why, sizeof why) == -1);
    char name[66];
    memset(name, 'n', 65);
    name[65] = '\0';
    CHECK(sl_config_check_name(name, why, sizeof why) == -1);
    CHECK_CONTAINS(why, "at most 64 characters");
    name[64] = '\0';
    CHECK(sl_config_check_name(name, why, sizeof why) == 0);
    CHECK(sl_config_check_name("x\"y", why, 8) == -1); /* small why: cut */
    CHECK(strlen(why) == 7);
    CHECK(sl_config_check_field_name("amount", why, sizeof why) == 0);
    CHECK(sl_config_check_field_name("caf\xc3\xa9 au lait", why,
                                     sizeof why) == 0);
    CHECK(sl_config_check_field_name("", why, sizeof why) == -1);
    CHECK_STR(why, "field names have 1 to 127 bytes");
    CHECK(sl_config_check_field_name("a\tb", why, sizeof why) == -1);
    CHECK_STR(why, "control character in field name");
    CHECK(sl_config_check_nonempty("", why, sizeof why) == -1);
    CHECK_STR(why, "must not be empty");
    CHECK(sl_config_check_nonempty("var", why, sizeof why) == 0);
}

static void test_headers_hostile(void)
{
    sl_config_connector_target ct = {0};
    const char *msgs =
        run("return { headers = {\n"
            "  [1] = \"positional\",\n"
            "  [\"Bad Name\"] = \"v\",\n"
            "  Host = \"example.com\",\n"
            "  [\"X-CRLF\"] = \"a\\r\\nInjected: 1\",\n"
            "  [\"X-NUL\"] = \"a\\0b\",\n"
            "  [\"X-Table\"] = {},\n"
            "  [\"X-Dup\"] = \"1\",\n"
            "  [\"x-dup\"] = \"2\",\n"
            "  B = \"kept\",\n"
            "} }", connector_key("headers"), &ct);
    CHECK_CONTAINS(msgs, "headers: header names must be strings, got number "
                         "1\n");
    CHECK_CONTAINS(msgs, "t.lua:3: headers[\"Bad Name\"]: invalid header name "
                         "(letters, digits and !#$%&'*+-.^_`|~ only)\n");
    CHECK_CONTAINS(msgs, "t.lua:4: headers.Host: set by sluice; remove it\n");
    CHECK_CONTAINS(msgs, "t.lua:5: headers[\"X-CRLF\"]: header values must not "
                         "contain CR, LF or NUL\n");
    CHECK_CONTAINS(msgs, "t.lua:6: headers[\"X-NUL\"]: header values must not "
                         "contain CR, LF or NUL\n");
    CHECK_CONTAINS(msgs, "t.lua:7: headers[\"X-Table\"]: expected a string, "
                         "got table\n");
    /* which of the two is the duplicate follows Lua's traversal order */
    CHECK(strstr(msgs, "t.lua:8: headers[\"X-Dup\"]: duplicate header (also "
                       "\"x-dup\")\n") ||
          strstr(msgs, "t.lua:9: headers[\"x-dup\"]: duplicate header (also "
                       "\"X-Dup\")\n"));
    CHECK(count_lines(msgs) == 7);
    CHECK(ct.c.nheaders == 3);           /* B and both X-Dup, by name */
    if (ct.c.nheaders == 3) {
        CHECK_STR(ct.c.headers[0].name, "B");
        CHECK_STR(ct.c.headers[0].value, "kept");
        CHECK(strcasecmp(ct.c.headers[1].name, "x-dup") == 0);
    }
    CHECK(strstr(msgs, "Injected") == NULL); /* values are not shown */
    connector_target_free(&ct);

    CHECK_STR(run("return {}", connector_key("headers"), &ct), "");
    CHECK(ct.c.nheaders == 0 && ct.c.headers == NULL);
}

/* Many headers in any order come out sorted, none lost. */
static void test_headers_many_sorted(void)
{
    sl_config_connector_target ct = {0};
    CHECK_STR(run("local h = {}\n"
                  "for i = 300, 1, -1 do h[string.format('X-H%03d', i)] = "
                  "tostring(i) end\n"
                  "return { headers = h }", connector_key("headers"), &ct),
              "");
    CHECK(ct.c.nheaders == 300);
    for (size_t i = 1; i < ct.c.nheaders; i++)
        CHECK(strcasecmp(ct.c.headers[i - 1].name, ct.c.headers[i].name) < 0);
    CHECK_STR(ct.c.headers[0].name, "X-H001");
    CHECK_STR(ct.c.headers[299].value, "300");
    connector_target_free(&ct);
}

static void test_functions(void)
{
    sl_config_connector_target ct = {0};
    const sl_config_key *transform = connector_key("transform");
    const sl_config_key *headers_fn = connector_key("headers_fn");
    CHECK_STR(run("return { transform = function(r) return r end }",
                  transform, &ct), "");
    CHECK(ct.c.transform_ref != LUA_NOREF && ct.c.transform_ref != LUA_REFNIL);
    CHECK(ct.c.headers_fn_ref == 0);     /* the other key is not touched */
    CHECK_STR(run("return {}", headers_fn, &ct), "");
    CHECK(ct.c.headers_fn_ref == LUA_NOREF);
}

static void test_idempotency_header(void)
{
    static const struct {
        const char *text, *stored, *msg;
    } cases[] = {
        {"return {}", "Idempotency-Key", ""},
        {"return { idempotency_header = false }", NULL, ""},
        {"return { idempotency_header = \"X-Batch\" }", "X-Batch", ""},
        {"return { idempotency_header = \"Content-Length\" }", NULL,
         "t.lua:1: idempotency_header: \"Content-Length\" is a header sluice "
         "sets itself\n"},
        {"return { idempotency_header = \"a b\\r\\n\" }", NULL,
         "t.lua:1: idempotency_header: \"a b\r\n\" is not a valid header "
         "name\n"},
        {"return { idempotency_header = \"content-encoding\" }", NULL,
         "t.lua:1: idempotency_header: \"content-encoding\" says how the body "
         "is encoded; it cannot carry the batch key\n"},
        {"return { idempotency_header = true }", NULL,
         "t.lua:1: idempotency_header: expected a header name or false, got "
         "boolean true\n"},
        {"return { idempotency_header = 42 }", NULL,
         "t.lua:1: idempotency_header: expected a header name or false, got "
         "number 42\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_config_connector_target ct = {0};
        ct.c.idempotency_header = strdup("replaced");
        CHECK_STR(run(cases[i].text, connector_key("idempotency_header"), &ct),
                  cases[i].msg);
        if (cases[i].stored)
            CHECK_STR(ct.c.idempotency_header, cases[i].stored);
        else
            CHECK(ct.c.idempotency_header == NULL);
        connector_target_free(&ct);
    }
}

static void test_intake_keys_hostile(void)
{
    const sl_config_key *key = connector_key("intake_keys");
    sl_config_connector_target ct = {0};
    const char *msgs =
        run("return { intake_keys = {\n"
            "  \"short-secret\",\n"
            "  \"0123456789abcdef\",\n"
            "  \"with a space-0123456789\",\n"
            "  \"ctl\\1-0123456789abcdef\",\n"
            "  \"0123456789abcdef\",\n"
            "  42,\n"
            "  string.rep(\"k\", 1025),\n"
            "  \"nul\\0-0123456789abcdef\",\n"
            "  \"fedcba9876543210\",\n"
            "} }", key, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: intake_keys[1]: a key of 12 characters; use "
                         "16 to 1024 (value not shown)\n");
    CHECK_CONTAINS(msgs, "t.lua:4: intake_keys[3]: character 5 is not a "
                         "visible ASCII character (no spaces or control "
                         "characters; value not shown)\n");
    CHECK_CONTAINS(msgs, "t.lua:5: intake_keys[4]: character 4 is not a "
                         "visible ASCII character");
    CHECK_CONTAINS(msgs, "t.lua:6: intake_keys[5]: the same key as "
                         "intake_keys[2]\n");
    CHECK_CONTAINS(msgs, "t.lua:7: intake_keys[6]: expected a string, got a "
                         "number\n");
    CHECK_CONTAINS(msgs, "t.lua:8: intake_keys[7]: a key of 1025 characters");
    CHECK_CONTAINS(msgs, "t.lua:9: intake_keys[8]: character 4 is not a "
                         "visible ASCII character");
    CHECK(count_lines(msgs) == 7);
    /* no message shows any part of a key */
    CHECK(strstr(msgs, "secret") == NULL);
    CHECK(strstr(msgs, "0123456789") == NULL);
    CHECK(strstr(msgs, "kkkk") == NULL);
    CHECK(ct.c.nintake_keys == 2);
    if (ct.c.nintake_keys == 2) {
        CHECK_STR(ct.c.intake_keys[0], "0123456789abcdef");
        CHECK_STR(ct.c.intake_keys[1], "fedcba9876543210");
    }
    connector_target_free(&ct);

    CHECK_CONTAINS(run("return { intake_keys = {} }", key, &ct),
                   "intake_keys: list 1 to 16 keys (0 given); leave the key "
                   "out for an open intake\n");
    connector_target_free(&ct);
    CHECK_CONTAINS(run("local t = {}\n"
                       "for i = 1, 17 do t[i] = string.rep('k', 16) .. i end\n"
                       "return { intake_keys = t }", key, &ct),
                   "(17 given)");
    CHECK(ct.c.nintake_keys == 0);
    connector_target_free(&ct);
    CHECK_CONTAINS(run("return { intake_keys = { key = \"0123456789abcdef\" } "
                       "}", key, &ct),
                   "intake_keys: expected a list like { "
                   "sluice.env(\"CRM_INTAKE_KEY\") }, found the key string "
                   "\"key\"\n");
    connector_target_free(&ct);
    CHECK_STR(run("return {}", key, &ct), "");
    CHECK(ct.c.nintake_keys == 0 && ct.c.intake_keys == NULL);
}

/* Nested fields: every message of the nested keys at its key path and
 * line; a good nested schema read as a tree. */
static void test_schema_nested(void)
{
    const sl_config_key *key = connector_key("schema");
    sl_config_connector_target ct = {0};
    const char *msgs =
        run("return { schema = {\n"
            "  { name = \"a\", type = \"string\", fields = {} },\n"
            "  { name = \"b\", type = \"object\" },\n"
            "  { name = \"c\", type = \"array\" },\n"
            "  { name = \"d\", type = \"object\", fields = {\n"
            "      { name = \"x\", type = \"strng\" },\n"
            "      { name = \"y\", type = \"string\" },\n"
            "      { name = \"y\", type = \"integer\" } } },\n"
            "  { name = \"e\", type = \"array\", min_items = 5, max_items = 3,\n"
            "    items = { type = \"object\", feilds = {} } },\n"
            "  { name = \"f\", type = \"object\", fields = { { name = \"g\",\n"
            "    type = \"json\", items = { type = \"string\" },\n"
            "    min_items = 1 } } },\n"
            "  { name = \"h\", type = \"array\", max_items = 0,\n"
            "    items = { type = \"array\", items = { type = \"object\",\n"
            "      fields = {} } } },\n"
            "} }", key, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: schema[1].fields: fields is only for type "
                         "= \"object\" (this field is string)\n");
    CHECK_CONTAINS(msgs, "t.lua:3: schema[2].type: type = \"object\" needs "
                         "fields\n");
    CHECK_CONTAINS(msgs, "t.lua:4: schema[3].type: type = \"array\" needs "
                         "items\n");
    CHECK_CONTAINS(msgs, "t.lua:6: schema[4].fields[1].type: unknown type "
                         "\"strng\" (did you mean \"string\"?");
    CHECK_CONTAINS(msgs, "t.lua:8: schema[4].fields[3].name: duplicate field "
                         "\"y\"\n");
    CHECK_CONTAINS(msgs, "t.lua:9: schema[5].min_items: 5 is greater than "
                         "max_items (3)\n");
    CHECK_CONTAINS(msgs, "t.lua:10: schema[5].items.feilds: unknown key (did "
                         "you mean \"fields\"?)\n");
    CHECK_CONTAINS(msgs, "t.lua:10: schema[5].items.type: type = \"object\" "
                         "needs fields\n");
    CHECK_CONTAINS(msgs, "t.lua:12: schema[6].fields[1].items: items is only "
                         "for type = \"array\" (this field is json)\n");
    CHECK_CONTAINS(msgs, "t.lua:13: schema[6].fields[1].min_items: min_items "
                         "is only for type = \"array\" (this field is json)\n");
    CHECK_CONTAINS(msgs, "t.lua:14: schema[7].max_items: expected an integer "
                         "from 1 to 1000000000, got number 0\n");
    CHECK_CONTAINS(msgs, "t.lua:16: schema[7].items.items.fields: must list at "
                         "least one field\n");
    CHECK(count_lines(msgs) == 12);
    connector_target_free(&ct);

    /* 8 levels are fine, the 9th is refused at its key */
    char text[4096] = "return { schema = { ", *w = text + strlen(text);
    for (int i = 0; i < 9; i++)
        w += sprintf(w, "{ name = \"o\", type = \"object\", fields = {\n");
    w += sprintf(w, "{ name = \"leaf\", type = \"string\" }");
    for (int i = 0; i < 9; i++)
        w += sprintf(w, " } }");
    strcpy(w, " } }");
    msgs = run(text, key, &ct);
    CHECK_STR(msgs, "t.lua:9: schema[1].fields[1].fields[1].fields[1]"
                    ".fields[1].fields[1].fields[1].fields[1].fields[1]"
                    ".fields: nesting deeper than 8 levels\n");
    connector_target_free(&ct);
    w = strstr(text, "{ name = \"o\"");
    memmove(w, strchr(w, '\n') + 1, strlen(strchr(w, '\n') + 1) + 1);
    w = strstr(text, "} } } }");
    memmove(w, w + 4, strlen(w + 4) + 1);
    CHECK_STR(run(text, key, &ct), "");
    CHECK(ct.fields.n == 1 && ct.fields.v[0].fields.n == 1);
    const sl_config_field *f = ct.fields.v;
    int depth = 0;
    while (f->fields.n) {
        f = f->fields.v;
        depth++;
    }
    CHECK(depth == 8 && f->level == 8 && f->type == SL_TYPE_STRING);
    connector_target_free(&ct);

    /* a good one: items, counts */
    CHECK_STR(run("return { schema = { { name = \"l\", type = \"array\",\n"
                  "  min_items = 1, max_items = 10, items = { type = "
                  "\"object\", nullable = true,\n"
                  "  fields = { { name = \"sku\", type = \"string\" } } } } "
                  "} }", key, &ct), "");
    CHECK(ct.fields.n == 1);
    if (ct.fields.n == 1) {
        const sl_config_field *l = &ct.fields.v[0];
        CHECK(l->type == SL_TYPE_ARRAY && l->min_items == 1 &&
              l->max_items == 10 && l->items && !l->bad);
        CHECK(l->items && l->items->type == SL_TYPE_OBJECT &&
              l->items->nullable && l->items->fields.n == 1 &&
              l->items->level == 1);
    }
    connector_target_free(&ct);
}

static void test_schema_hostile(void)
{
    const sl_config_key *key = connector_key("schema");
    sl_config_connector_target ct = {0};
    const char *msgs =
        run("return { schema = {\n"
            "  { name = \"id\", type = \"integer\" },\n"
            "  \"id\",\n"
            "  { name = \"id\", type = \"string\" },\n"
            "  { name = \"amount\", type = \"nubmer\" },\n"
            "  { type = \"string\" },\n"
            "  { name = \"tab\\there\", type = \"string\" },\n"
            "  { name = string.rep(\"n\", 128), type = \"string\" },\n"
            "  { name = \"when\", type = \"zzz\", nullable = \"yes\" },\n"
            "  { name = \"ok\", type = \"date\", nullable = true },\n"
            "} }", key, &ct);
    CHECK_CONTAINS(msgs, "t.lua:3: schema[2]: expected a table like { name = "
                         "\"id\", type = \"integer\" }, got string \"id\"\n");
    CHECK_CONTAINS(msgs, "t.lua:4: schema[3].name: duplicate field \"id\"\n");
    CHECK_CONTAINS(msgs, "t.lua:5: schema[4].type: unknown type \"nubmer\" "
                         "(did you mean \"number\"? valid: string, integer, "
                         "number, boolean, date, datetime, object, array, "
                         "json)\n");
    CHECK_CONTAINS(msgs, "schema[5].name: missing (required)\n");
    CHECK_CONTAINS(msgs, "t.lua:7: schema[6].name: control character in field "
                         "name\n");
    CHECK_CONTAINS(msgs, "t.lua:8: schema[7].name: field names have 1 to 127 "
                         "bytes\n");
    CHECK_CONTAINS(msgs, "t.lua:9: schema[8].type: unknown type \"zzz\" "
                         "(valid: ");
    CHECK_CONTAINS(msgs, "t.lua:9: schema[8].nullable: expected a boolean, got "
                         "string \"yes\"\n");
    CHECK(count_lines(msgs) == 8);
    /* every table is kept, those with a problem marked (for the duplicate
     * check); their names were borrowed from the state run() has closed */
    CHECK(ct.fields.n == 8);
    if (ct.fields.n == 8) {
        CHECK(!ct.fields.v[0].bad && ct.fields.v[0].index == 1);
        CHECK(ct.fields.v[1].bad && ct.fields.v[1].index == 3);
        CHECK(ct.fields.v[2].bad && ct.fields.v[2].index == 4);
        CHECK(ct.fields.v[6].bad && ct.fields.v[6].index == 8);
        CHECK(!ct.fields.v[7].bad && ct.fields.v[7].nullable &&
              ct.fields.v[7].type == SL_TYPE_DATE);
    }
    connector_target_free(&ct);

    CHECK_STR(run("return { schema = {} }", key, &ct),
              "t.lua:1: schema: must list at least one field\n");
    connector_target_free(&ct);
    msgs = run("local s = {}\n"
               "for i = 1, 513 do s[i] = { name = 'f' .. i, type = 'string' } "
               "end\n"
               "return { schema = s }", key, &ct);
    CHECK_CONTAINS(msgs, "schema: 513 fields; at most 512 are allowed\n");
    CHECK(count_lines(msgs) == 1);
    connector_target_free(&ct);
    CHECK_CONTAINS(run("return { schema = { n = 1 } }", key, &ct),
                   "found the key string \"n\"");
    connector_target_free(&ct);
}

/* Field rules: each misuse named at its key and line. */
static void test_field_rules_errors(void)
{
    const sl_config_key *key = connector_key("schema");
    sl_config_connector_target ct = {0};
    const char *msgs =
        run("return { schema = {\n"
            "  { name = 'a', type = 'integer', enum = { 'x' } },\n"
            "  { name = 'b', type = 'string', min = 1 },\n"
            "  { name = 'c', type = 'boolean', max = 1 },\n"
            "  { name = 'd', type = 'integer', min_length = 1 },\n"
            "  { name = 'e', type = 'date', max_length = 1 },\n"
            "  { name = 'f', type = 'integer', min = 1.5 },\n"
            "  { name = 'g', type = 'integer', max = 2^63 },\n"
            "  { name = 'h', type = 'number', min = math.huge },\n"
            "  { name = 'i', type = 'number', max = -math.huge },\n"
            "  { name = 'j', type = 'integer', min = '5' },\n"
            "  { name = 'k', type = 'integer', min = 10, max = 5 },\n"
            "  { name = 'l', type = 'number', min = 2.5, max = 1.25 },\n"
            "  { name = 'm', type = 'string', min_length = 10, max_length = 5 },\n"
            "  { name = 'n', type = 'string', max_length = -1 },\n"
            "  { name = 'o', type = 'string', min_length = 67108865 },\n"
            "  { name = 'p', type = 'string', max_length = 1.5 },\n"
            "  { name = 'q', type = 'string', enum = {} },\n"
            "  { name = 'r', type = 'string', enum = 'new' },\n"
            "  { name = 's', type = 'string', enum = { a = 1 } },\n"
            "  { name = 't', type = 'string', enum = { 'a', 3 } },\n"
            "  { name = 'u', type = 'string', enum = { 'a', 'b', 'a' } },\n"
            "  { name = 'v', type = 'string', enum = { '\\xff' } },\n"
            "  { name = 'w', type = 'string', enum = { ('x'):rep(1025) } },\n"
            "  { name = 'x', type = 'string', maxlength = 3 },\n"
            "  { name = 'y', type = 'strin', enum = { 3 }, min = 'x' },\n"
            "  { name = 'z', type = 'number', nullable = true, min = 0,\n"
            "    max = 1e9 },\n"
            "} }", key, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: schema[1].enum: only for type = \"string\" "
                         "(this field is integer)\n");
    CHECK_CONTAINS(msgs, "t.lua:3: schema[2].min: only for type = \"integer\" "
                         "or \"number\" (this field is string)\n");
    CHECK_CONTAINS(msgs, "t.lua:4: schema[3].max: only for type = \"integer\" "
                         "or \"number\" (this field is boolean)\n");
    CHECK_CONTAINS(msgs, "t.lua:5: schema[4].min_length: only for type = "
                         "\"string\" (this field is integer)\n");
    CHECK_CONTAINS(msgs, "t.lua:6: schema[5].max_length: only for type = "
                         "\"string\" (this field is date)\n");
    CHECK_CONTAINS(msgs, "t.lua:7: schema[6].min: expected an integer "
                         "(64-bit) for an integer field, got number 1.5\n");
    CHECK_CONTAINS(msgs, "t.lua:8: schema[7].max: expected an integer "
                         "(64-bit) for an integer field, got number "
                         "9.2233720368548e+18\n");
    CHECK_CONTAINS(msgs, "t.lua:9: schema[8].min: expected a finite number, "
                         "got number inf\n");
    CHECK_CONTAINS(msgs, "t.lua:10: schema[9].max: expected a finite number, "
                         "got number -inf\n");
    CHECK_CONTAINS(msgs, "t.lua:11: schema[10].min: expected a number, got "
                         "string \"5\"\n");
    CHECK_CONTAINS(msgs, "t.lua:12: schema[11].min: 10 is greater than max "
                         "(5)\n");
    CHECK_CONTAINS(msgs, "t.lua:13: schema[12].min: 2.5 is greater than max "
                         "(1.25)\n");
    CHECK_CONTAINS(msgs, "t.lua:14: schema[13].min_length: 10 is greater "
                         "than max_length (5)\n");
    CHECK_CONTAINS(msgs, "t.lua:15: schema[14].max_length: -1 is out of "
                         "range (0..67108864 characters)\n");
    CHECK_CONTAINS(msgs, "t.lua:16: schema[15].min_length: 67108865 is out "
                         "of range (0..67108864 characters)\n");
    CHECK_CONTAINS(msgs, "t.lua:17: schema[16].max_length: expected an "
                         "integer, got number 1.5\n");
    CHECK_CONTAINS(msgs, "t.lua:18: schema[17].enum: list 1 to 256 values "
                         "(0 given)\n");
    CHECK_CONTAINS(msgs, "t.lua:19: schema[18].enum: expected a list of "
                         "strings, got string \"new\"\n");
    CHECK_CONTAINS(msgs, "t.lua:20: schema[19].enum: expected a list like "
                         "{ \"new\", \"done\" }, found the key string \"a\"\n");
    CHECK_CONTAINS(msgs, "t.lua:21: schema[20].enum[2]: expected a string, "
                         "got number 3\n");
    CHECK_CONTAINS(msgs, "t.lua:22: schema[21].enum[3]: the same value as "
                         "enum[1]\n");
    CHECK_CONTAINS(msgs, "t.lua:23: schema[22].enum[1]: not valid UTF-8\n");
    CHECK_CONTAINS(msgs, "t.lua:24: schema[23].enum[1]: a value of 1025 "
                         "bytes; at most 1024\n");
    CHECK_CONTAINS(msgs, "t.lua:25: schema[24].maxlength: unknown key (did "
                         "you mean \"max_length\"?)\n");
    /* an unknown type: its rules are not judged, the type is reported */
    CHECK_CONTAINS(msgs, "t.lua:26: schema[25].type: unknown type \"strin\"");
    CHECK_CONTAINS(msgs, "t.lua:26: schema[25].min: expected a number, got "
                         "string \"x\"\n");
    CHECK(count_lines(msgs) == 26);
    CHECK(ct.fields.n == 26);
    if (ct.fields.n == 26) {
        const sl_config_field *z = &ct.fields.v[25];
        CHECK(!z->bad && z->rules.has_min && z->rules.nmin == 0 &&
              z->rules.has_max && z->rules.nmax == 1e9);
        CHECK(ct.fields.v[20].bad && ct.fields.v[20].enums == NULL);
    }
    connector_target_free(&ct);

    msgs = run("local e = {}\n"
               "for i = 1, 257 do e[i] = 'v' .. i end\n"
               "return { schema = { { name = 's', type = 'string', enum = e "
               "} } }", key, &ct);
    CHECK_STR(msgs, "t.lua:3: schema[1].enum: list 1 to 256 values (257 "
                    "given)\n");
    connector_target_free(&ct);
}

/* Field rules that pass reach the schema, and the schema checks them. */
static void test_field_rules_schema(void)
{
    const sl_config_key *key = connector_key("schema");
    sl_test_config t;
    sl_config_connector_target ct = {0};
    ct.c.limit_fields = 16;
    CHECK(sl_test_config_open(&t, "return { schema = {\n"
            "  { name = 'stage', type = 'string', enum = { 'lead', "
            "'customer', 'caf\\u{e9}', 'a\\0b' } },\n"
            "  { name = 'qty', type = 'integer', min = 1, max = 1e3 },\n"
            "  { name = 'price', type = 'number', min = 0, max = 100000 },\n"
            "  { name = 'name', type = 'string', nullable = true,\n"
            "    min_length = 1, max_length = 64 },\n"
            "  { name = 'exact', type = 'integer', min = -9007199254740993,\n"
            "    max = 9007199254740992 },\n"
            "} }") == 0);
    lua_getfield(t.ctx.L, 1, "schema");            /* t v */
    sl_config_path_push(&t.ctx, "schema", 0);
    key->custom(&t.ctx, key, 2, &ct);
    sl_config_path_pop(&t.ctx);
    sl_config_connector_after(&t.ctx, &ct); /* names still borrowed */
    lua_pop(t.ctx.L, 1);                           /* t */
    CHECK_STR(sl_test_config_close(&t), "");
    sl_schema *s = ct.c.schema;
    CHECK(s != NULL && sl_schema_nfields(s) == 5);
    static const struct {
        const char *rec, *field, *msg;
    } cases[] = {
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":0,\"name\":\"x\","
         "\"exact\":9007199254740992}", NULL, NULL},
        {"{\"stage\":\"caf\\u00e9\",\"qty\":1000,\"price\":1e5,\"name\":null,"
         "\"exact\":-9007199254740993}", NULL, NULL},
        {"{\"stage\":\"a\\u0000b\",\"qty\":1,\"price\":0,\"exact\":0}", NULL,
         NULL},
        {"{\"stage\":\"pending\",\"qty\":1,\"price\":0,\"exact\":0}", "stage",
         "\"pending\" is not one of the enum values (\"lead\", \"customer\", "
         "\"caf\xc3\xa9\", \"a\\u0000b\")"},
        {"{\"stage\":\"lead\",\"qty\":0,\"price\":0,\"exact\":0}", "qty",
         "0 is less than min (1)"},
        {"{\"stage\":\"lead\",\"qty\":1001,\"price\":0,\"exact\":0}", "qty",
         "1001 is greater than max (1000)"},
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":1e9,\"exact\":0}", "price",
         "1e9 is greater than max (100000)"},
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":-0.5,\"exact\":0}", "price",
         "-0.5 is less than min (0)"},
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":0,\"name\":\"\","
         "\"exact\":0}", "name", "0 characters, fewer than min_length (1)"},
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":0,\"exact\":"
         "9007199254740993}", "exact", "9007199254740993 is greater than max "
         "(9007199254740992)"},
        {"{\"stage\":\"lead\",\"qty\":1,\"price\":0,\"exact\":"
         "-9007199254740994}", "exact", "-9007199254740994 is less than min "
         "(-9007199254740993)"},
    };
    for (size_t i = 0; s && i < sizeof cases / sizeof cases[0]; i++) {
        sl_json js;
        sl_json_token tok;
        sl_buf out;
        sl_schema_error err = {{0}, {0}};
        sl_buf_init(&out, 0);
        sl_json_init(&js, cases[i].rec, strlen(cases[i].rec), 0);
        sl_json_next(&js, &tok);
        sl_schema_rc rc = sl_schema_encode(s, &js, &tok, &out, &err);
        if (!cases[i].msg) {
            CHECK(rc == SL_SCHEMA_OK);
        } else {
            CHECK(rc == SL_SCHEMA_INVALID);
            CHECK_STR(err.field, cases[i].field);
            CHECK_STR(err.msg, cases[i].msg);
        }
        sl_buf_free(&out);
    }
    connector_target_free(&ct);
}

/* The checks after the keys: each names the key it is about. */
static void test_connector_after(void)
{
    sl_test_config t;
    sl_config_connector_target ct = {0};
    ct.c.retry_base_ms = 500;
    ct.c.retry_max_ms = 100;
    ct.c.batch_max_bytes = 2 << 20;
    ct.c.queue_max_bytes = 1 << 20;
    ct.c.spool_segment_bytes = 8 << 20;
    ct.c.spool_max_bytes = 4 << 20;
    ct.lua_max_memory_mb = 3;
    ct.c.limit_fields = 9;
    CHECK(sl_test_config_open(&t, "return {\n"
                                  "  retry = { base_ms = 500, max_ms = 100 },\n"
                                  "  queue_max_bytes = 1048576,\n"
                                  "  spool = { segment_bytes = 8388608 },\n"
                                  "}") == 0);
    sl_config_connector_after(&t.ctx, &ct);
    CHECK(t.ctx.depth == 0);
    CHECK_STR(sl_test_config_close(&t),
              "t.lua:2: retry.base_ms: 500 is greater than retry.max_ms "
              "(100)\n"
              "t.lua:3: queue_max_bytes: 1048576 is less than "
              "batch.max_bytes (2097152)\n"
              "t.lua:4: spool.segment_bytes: 8388608 is greater than "
              "spool.max_bytes (4194304)\n");
    CHECK(ct.c.lua_max_memory == 3u << 20);
    CHECK(ct.c.schema != NULL && sl_schema_nfields(ct.c.schema) == 0);
    connector_target_free(&ct);
}

/* compression_level: its range, its type, whether it was written. */
static void test_compression_level(void)
{
    static const struct {
        const char *text;
        int level;
        bool set;
        const char *msg;
    } cases[] = {
        {"return {}", 6, false, ""},
        {"return { compression_level = 1 }", 1, true, ""},
        {"return { compression_level = 9.0 }", 9, true, ""},
        {"return { compression_level = 0 }", 6, true,
         "t.lua:1: compression_level: 0 is out of range (1..9)\n"},
        {"return { compression_level = 10 }", 6, true,
         "t.lua:1: compression_level: 10 is out of range (1..9)\n"},
        {"return { compression_level = -9223372036854775807 }", 6, true,
         "t.lua:1: compression_level: -9223372036854775807 is out of range "
         "(1..9)\n"},
        {"return { compression_level = 5.5 }", 6, true,
         "t.lua:1: compression_level: expected an integer, got number 5.5\n"},
        {"return { compression_level = 0/0 }", 6, true,
         "t.lua:1: compression_level: expected an integer, got number "},
        {"return { compression_level = 1e300 }", 6, true,
         "t.lua:1: compression_level: expected an integer, got number 1e+300\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_config_connector_target ct = {0};
        const char *m = run(cases[i].text, connector_key("compression_level"),
                            &ct);
        if (cases[i].msg[0])
            CHECK_CONTAINS(m, cases[i].msg);
        else
            CHECK_STR(m, "");
        CHECK(count_lines(m) == (cases[i].msg[0] ? 1u : 0u));
        CHECK(ct.c.compression_level == cases[i].level);
        CHECK(ct.compression_level_set == cases[i].set);
    }
    /* a string is refused by the table walker (ltype), not here */
    CHECK(connector_key("compression_level")->ltype == LUA_TNUMBER);
}

/* rate_limit: fractions, defaults, and hostile numbers refused at load
 * with the key named (the limiter never sees them). */
static void test_rate_limit(void)
{
    static const struct {
        const char *text;
        double req, rec, burst;
        const char *msg;
    } cases[] = {
        {"return {}", 0, 0, 1, ""},
        {"return { rate_limit = { requests_per_s = 18 } }", 18, 0, 1, ""},
        {"return { rate_limit = { requests_per_s = 100/60 } }", 100.0 / 60,
         0, 1, ""},
        {"return { rate_limit = { records_per_s = 0.5, burst = 4 } }", 0,
         0.5, 4, ""},
        {"return { rate_limit = { requests_per_s = 1e9, records_per_s = 1e9,"
         " burst = 1e6 } }", 1e9, 1e9, 1e6, ""},
        {"return { rate_limit = { requests_per_s = 1/86400 } }", 1.0 / 86400,
         0, 1, ""},
        {"return { rate_limit = {} }", 0, 0, 1,
         "t.lua:1: rate_limit: names no rate"},
        {"return { rate_limit = { burst = 3 } }", 0, 0, 1,
         "t.lua:1: rate_limit: names no rate"},
        {"return { rate_limit = { requests_per_s = 0 } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: 0 is out of range"},
        {"return { rate_limit = { requests_per_s = -5 } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: -5 is out of range"},
        {"return { rate_limit = { requests_per_s = 1e-9 } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: 1e-09 is out of range: "
         "1/86400 (one a day)"},
        {"return { rate_limit = { records_per_s = 1e300 } }", 0, 0, 1,
         "t.lua:1: rate_limit.records_per_s: 1e+300 is out of range"},
        {"return { rate_limit = { requests_per_s = 1/0 } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: inf is not a finite number"},
        {"return { rate_limit = { records_per_s = -1/0 } }", 0, 0, 1,
         "t.lua:1: rate_limit.records_per_s: -inf is not a finite number"},
        {"return { rate_limit = { requests_per_s = 0/0 } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: nan is not a finite number"},
        {"return { rate_limit = { requests_per_s = 5, burst = 0.5 } }", 5, 0,
         1, "t.lua:1: rate_limit.burst: 0.5 is out of range: 1 .. 1e+06"},
        {"return { rate_limit = { requests_per_s = 5, burst = 0/0 } }", 5, 0,
         1, "t.lua:1: rate_limit.burst: nan is not a finite number"},
        {"return { rate_limit = { requests_per_s = 5, burst = 1e7 } }", 5, 0,
         1, "t.lua:1: rate_limit.burst: 1e+07 is out of range"},
        {"return { rate_limit = { requests_per_s = '10' } }", 0, 0, 1,
         "t.lua:1: rate_limit.requests_per_s: expected a number, got string"},
        {"return { rate_limit = { requests_per_s = 5, per_minute = 1 } }", 5,
         0, 1, "t.lua:1: rate_limit.per_minute: unknown key"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sl_config_connector_target ct = {0};
        const char *m = run(cases[i].text, connector_key("rate_limit"), &ct);
        if (cases[i].msg[0])
            CHECK_CONTAINS(m, cases[i].msg);
        else
            CHECK_STR(m, "");
        CHECK(count_lines(m) == (cases[i].msg[0] ? 1u : 0u));
        CHECK(ct.c.rate_requests_per_s == cases[i].req);
        CHECK(ct.c.rate_records_per_s == cases[i].rec);
        CHECK(ct.c.rate_burst == cases[i].burst);
    }
    CHECK(connector_key("rate_limit")->ltype == LUA_TTABLE);
}

/* What sl_config_connector_after made (the schema, the TLS warnings, a
 * proxy from the environment), of a target whose other parts the test
 * owns. */
static void after_free(sl_config_connector_target *ct)
{
    sl_schema_free(ct->c.schema);
    for (size_t i = 0; i < ct->c.nwarnings; i++)
        free(ct->c.warnings[i]);
    free(ct->c.warnings);
    sl_config_proxy_free(&ct->c);
}

/* compression_level needs compression; a static Content-Encoding is an
 * error either way, with a message for each. */
static void test_compression_after(void)
{
    static const char text[] = "return {\n"
                               "  compression_level = 3,\n"
                               "  headers = {\n"
                               "    [\"content-ENCODING\"] = \"gzip\",\n"
                               "  },\n"
                               "}";
    sl_test_config t;
    sl_config_connector_target ct = {0};
    sl_header h = {"content-ENCODING", "gzip"};
    ct.c.headers = &h;
    ct.c.nheaders = 1;
    ct.compression_level_set = true;
    CHECK(sl_test_config_open(&t, text) == 0);
    sl_config_connector_after(&t.ctx, &ct);
    CHECK(t.ctx.depth == 0);
    CHECK_STR(sl_test_config_close(&t),
              "t.lua:2: compression_level: set, but compression is \"none\"; "
              "add compression = \"gzip\" or remove it\n"
              "t.lua:4: headers[\"content-ENCODING\"]: sluice sends the body "
              "uncompressed, so this header would not describe it; remove "
              "it, or set compression = \"gzip\" to send gzip bodies\n");
    after_free(&ct);

    ct = (sl_config_connector_target){0};
    ct.c.headers = &h;
    ct.c.nheaders = 1;
    ct.c.compression = SL_COMPRESSION_GZIP;
    ct.compression_level_set = true;
    CHECK(sl_test_config_open(&t, text) == 0);
    sl_config_connector_after(&t.ctx, &ct);
    CHECK_STR(sl_test_config_close(&t),
              "t.lua:4: headers[\"content-ENCODING\"]: compression sets it "
              "(Content-Encoding: gzip); remove it\n");
    after_free(&ct);

    /* gzip without the level, or neither: nothing to say */
    ct = (sl_config_connector_target){0};
    ct.c.compression = SL_COMPRESSION_GZIP;
    CHECK(sl_test_config_open(&t, "return {}") == 0);
    sl_config_connector_after(&t.ctx, &ct);
    CHECK_STR(sl_test_config_close(&t), "");
    after_free(&ct);
}

/* ---- gateway -------------------------------------------------------- */

static void test_connector_patterns(void)
{
    const sl_config_key *key = gateway_key("connectors");
    sl_config_gateway_target gt = {0};
    CHECK_STR(run("return {}", key, &gt), "");
    CHECK(gt.npatterns == 1);
    CHECK_STR(gt.patterns[0], "connectors/*.lua");
    gateway_target_free(&gt);
    const char *msgs = run("return { connectors = {\n"
                           "  \"a.lua\",\n"
                           "  3,\n"
                           "  \"\",\n"
                           "  \"b/*.lua\",\n"
                           "} }", key, &gt);
    CHECK_CONTAINS(msgs, "t.lua:3: connectors[2]: expected a file name or glob "
                         "pattern, got number 3\n");
    CHECK_CONTAINS(msgs, "t.lua:4: connectors[3]: expected a file name or glob "
                         "pattern, got string \"\"\n");
    CHECK(count_lines(msgs) == 2);
    CHECK(gt.npatterns == 2);
    if (gt.npatterns == 2) {
        CHECK_STR(gt.patterns[1], "b/*.lua");
        CHECK(gt.pattern_index[1] == 4); /* its place in the list */
    }
    gateway_target_free(&gt);
    CHECK_STR(run("return { connectors = {} }", key, &gt),
              "t.lua:1: connectors: must list at least one file or pattern\n");
    gateway_target_free(&gt);
}

static void test_tcp_hostile(void)
{
    const sl_config_key *key = gateway_key("tcp");
    sl_config_gateway_target gt = {0};
    const char *msgs =
        run("return { tcp = {\n"
            "  \"127.0.0.1:5170\",\n"
            "  { listen = \"127.0.0.1:99999\", connector = \"ev\" },\n"
            "  { listen = \"[::1]:5171\", connector = \"ev\", alow = {} },\n"
            "} }", key, &gt);
    CHECK_CONTAINS(msgs, "t.lua:2: tcp[1]: expected a table like { listen = "
                         "\"127.0.0.1:5170\", connector = \"events\" }, got "
                         "string \"127.0.0.1:5170\"\n");
    CHECK_CONTAINS(msgs, "t.lua:3: tcp[2].listen: ");
    CHECK_CONTAINS(msgs, "t.lua:4: tcp[3].alow: unknown key (did you mean "
                         "\"allow\"?)\n");
    CHECK(count_lines(msgs) == 3); /* a bad listen: reported once */
    CHECK(gt.g.ntcp == 3);         /* one slot per element, tcp[n] stays n */
    if (gt.g.ntcp == 3) {
        CHECK(gt.g.tcp[0].listen == NULL);
        CHECK_STR(gt.g.tcp[2].host, "::1");
        CHECK(gt.g.tcp[2].port == 5171);
        CHECK(gt.g.tcp[2].nallow == 2); /* loopback by default */
        CHECK(gt.g.tcp[2].max_line_bytes == 1 << 20);
    }
    gateway_target_free(&gt);

    msgs = run("local t = {}\n"
               "for i = 1, 65 do t[i] = { listen = '127.0.0.1:' .. (6000 + i), "
               "connector = 'c' } end\n"
               "return { tcp = t }", key, &gt);
    CHECK_STR(msgs, "t.lua:3: tcp: 65 listeners; at most 64 are allowed\n");
    CHECK(gt.g.ntcp == 0);
    gateway_target_free(&gt);
    CHECK_STR(run("return { tcp = {} }", key, &gt), "");
    CHECK(gt.g.ntcp == 0 && gt.g.tcp == NULL);
}

static void test_allow_hostile(void)
{
    const sl_config_key *tcp = gateway_key("tcp");
    const sl_config_key *key = tcp ? sl_test_config_key(tcp->sub, "allow")
                                   : NULL;
    sl_tcp_conf listener = {0};
    const char *msgs =
        run("return { allow = {\n"
            "  \"10.0.0.0/8\",\n"
            "  string.rep(\"1\", 100),\n"
            "  \"a\\\"b\\\\c\\nd\\1e\",\n"
            "  {},\n"
            "  \"10.0.0.0/33\",\n"
            "  \"::1\",\n"
            "} }", key, &listener);
    CHECK_CONTAINS(msgs, "t.lua:3: allow[2]: \"" /* 60 shown, then ... */
                         "11111111111111111111111111111111111111111111111111"
                         "1111111111...\" is not an address or CIDR block\n");
    /* quotes, backslashes and controls could break the message: as '?' */
    CHECK_CONTAINS(msgs, "t.lua:4: allow[3]: \"a?b?c?d?e\" is not an address "
                         "or CIDR block\n");
    CHECK_CONTAINS(msgs, "t.lua:5: allow[4]: expected an address or CIDR block "
                         "as a string, got table\n");
    CHECK_CONTAINS(msgs, "t.lua:6: allow[5]: \"10.0.0.0/33\" is not an address "
                         "or CIDR block\n");
    CHECK(count_lines(msgs) == 4);
    CHECK(listener.nallow == 2);
    if (listener.nallow == 2) {
        CHECK_STR(listener.allow[0], "10.0.0.0/8");
        CHECK_STR(listener.allow[1], "::1");
    }
    listener_free(&listener);

    CHECK_STR(run("return {}", key, &listener), "");
    CHECK(listener.nallow == 2);
    if (listener.nallow == 2) {
        CHECK_STR(listener.allow[0], "127.0.0.0/8");
        CHECK_STR(listener.allow[1], "::1");
    }
    listener_free(&listener);
    CHECK_STR(run("return { allow = {} }", key, &listener),
              "t.lua:1: allow: list at least one address; leave allow out for "
              "loopback only\n");
    listener_free(&listener);
    CHECK_STR(run("local t = {}\n"
                  "for i = 1, 1025 do t[i] = '10.0.0.1' end\n"
                  "return { allow = t }", key, &listener),
              "t.lua:3: allow: 1025 entries; at most 1024 are allowed\n");
    CHECK(listener.nallow == 0);
    listener_free(&listener);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"value_checks", test_value_checks},
        {"headers_hostile", test_headers_hostile},
        {"headers_many_sorted", test_headers_many_sorted},
        {"functions", test_functions},
        {"idempotency_header", test_idempotency_header},
        {"intake_keys_hostile", test_intake_keys_hostile},
        {"schema_hostile", test_schema_hostile},
        {"schema_nested", test_schema_nested},
        {"field_rules_errors", test_field_rules_errors},
        {"field_rules_schema", test_field_rules_schema},
        {"connector_after", test_connector_after},
        {"compression_level", test_compression_level},
        {"rate_limit", test_rate_limit},
        {"compression_after", test_compression_after},
        {"connector_patterns", test_connector_patterns},
        {"tcp_hostile", test_tcp_hostile},
        {"allow_hostile", test_allow_hostile},
        {NULL, NULL}};
    return sl_test_run(cases);
}
