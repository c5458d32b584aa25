/* fuzz_schema: one record through sl_schema_encode against two fixed
 * schemas, under both unknown-field policies: a flat one with every scalar
 * type, nullable and not, and a nested one (objects in objects, arrays of
 * objects, of arrays and of nullable strings, json values, item counts).
 * An accepted record's encoding must be one valid JSON object, encoding
 * must be deterministic and idempotent (the encoding re-encodes to
 * itself), and a refused record must leave the output buffer as it was. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_schema.h"

static const struct {
    const char *name;
    sl_schema_type type;
    bool nullable;
} fields[] = {
    {"s", SL_TYPE_STRING, false},   {"sn", SL_TYPE_STRING, true},
    {"i", SL_TYPE_INTEGER, false},  {"in", SL_TYPE_INTEGER, true},
    {"n", SL_TYPE_NUMBER, false},   {"nn", SL_TYPE_NUMBER, true},
    {"b", SL_TYPE_BOOLEAN, false},  {"bn", SL_TYPE_BOOLEAN, true},
    {"d", SL_TYPE_DATE, false},     {"dn", SL_TYPE_DATE, true},
    {"t", SL_TYPE_DATETIME, false}, {"tn", SL_TYPE_DATETIME, true},
};

/* [flat, nested][SL_UNKNOWN_REJECT, SL_UNKNOWN_DROP] */
static sl_schema *schemas[2][2];
static sl_schema *ruled[2]; /* schemas[k][0] with rules */

static const sl_schema_text stages[] = {
    {"a", 1}, {"ab", 2}, {"\xc3\xa9", 2}, {"", 0}, {"x\0y", 3}};

/* Rules on the string, integer and number fields (index as in fields). */
static const struct {
    size_t field;
    sl_schema_rules r;
} rules[] = {
    {0, {.enum_values = stages, .nenum = 5, .has_max_length = true,
         .max_length = 2}},
    {1, {.has_min_length = true, .min_length = 1, .has_max_length = true,
         .max_length = 3}},
    {2, {.has_min = true, .imin = -5, .has_max = true,
         .imax = 9007199254740992LL}},
    {3, {.has_min = true, .imin = 0}},
    {4, {.has_min = true, .nmin = -1.5, .has_max = true, .nmax = 1e3}},
    {5, {.has_max = true, .nmax = 0}},
};


static sl_schema *make(sl_unknown_policy policy)
{
    char err[128];
    sl_schema *s = sl_schema_new(policy);
    FUZZ_ASSERT(s != NULL);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        FUZZ_ASSERT(sl_schema_add(s, fields[i].name, fields[i].type,
                                  fields[i].nullable, err, sizeof err) == 0);
    return s;
}

#define ADD(s, ...)                                                         \
    FUZZ_ASSERT(sl_schema_add_value(s, __VA_ARGS__, err, sizeof err) == 0)

/* {s, i?, o: {a, n?, d?, in: {b, j?}}, l?: [<=4 {k, t?: [string?]}],
 *  m?: [1.. [<=3 integer]], j?, t?} */
static sl_schema *make_nested(sl_unknown_policy policy, bool with_rules)
{
    static const sl_schema_text ab[] = {{"a", 1}, {"b", 1}};
    const sl_schema_rules short3 = {.has_max_length = true, .max_length = 3},
                          kenum = {.enum_values = ab, .nenum = 2},
                          small = {.has_min = true, .imin = 0,
                                   .has_max = true, .imax = 100};
    const sl_schema_rules *r3 = with_rules ? &short3 : NULL,
                          *rk = with_rules ? &kenum : NULL,
                          *rs = with_rules ? &small : NULL;
    char err[128];
    sl_schema *in = sl_schema_new(policy), *o = sl_schema_new(policy),
              *item = sl_schema_new(policy), *s = sl_schema_new(policy);
    FUZZ_ASSERT(in && o && item && s);
    ADD(in, "b", &(sl_schema_value){.type = SL_TYPE_BOOLEAN});
    ADD(in, "j", &(sl_schema_value){.type = SL_TYPE_JSON, .nullable = true});
    ADD(o, "a", &(sl_schema_value){.type = SL_TYPE_STRING, .rules = r3});
    ADD(o, "n", &(sl_schema_value){.type = SL_TYPE_NUMBER, .nullable = true});
    ADD(o, "d", &(sl_schema_value){.type = SL_TYPE_DATE, .nullable = true});
    ADD(o, "in", &(sl_schema_value){.type = SL_TYPE_OBJECT, .fields = in});
    ADD(item, "k", &(sl_schema_value){.type = SL_TYPE_STRING, .rules = rk});
    ADD(item, "t", &(sl_schema_value){
                       .type = SL_TYPE_ARRAY, .nullable = true,
                       .items = &(sl_schema_value){.type = SL_TYPE_STRING,
                                                   .nullable = true}});
    ADD(s, "s", &(sl_schema_value){.type = SL_TYPE_STRING});
    ADD(s, "i", &(sl_schema_value){.type = SL_TYPE_INTEGER, .nullable = true,
                                   .rules = rs});
    ADD(s, "o", &(sl_schema_value){.type = SL_TYPE_OBJECT, .fields = o});
    ADD(s, "l", &(sl_schema_value){
                    .type = SL_TYPE_ARRAY, .nullable = true, .max_items = 4,
                    .items = &(sl_schema_value){.type = SL_TYPE_OBJECT,
                                                .fields = item}});
    ADD(s, "m", &(sl_schema_value){
                    .type = SL_TYPE_ARRAY, .nullable = true, .min_items = 1,
                    .items = &(sl_schema_value){
                        .type = SL_TYPE_ARRAY, .max_items = 3,
                        .items = &(sl_schema_value){.type = SL_TYPE_INTEGER,
                                                    .rules = rs}}});
    ADD(s, "j", &(sl_schema_value){.type = SL_TYPE_JSON, .nullable = true});
    ADD(s, "t", &(sl_schema_value){.type = SL_TYPE_DATETIME, .nullable = true});
    /* small limits, so that they are reached */
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = 4096,
                                                .string_bytes = 64,
                                                .fields = 12});
    return s;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    schemas[0][0] = make(SL_UNKNOWN_REJECT);
    schemas[0][1] = make(SL_UNKNOWN_DROP);
    schemas[1][0] = make_nested(SL_UNKNOWN_REJECT, false);
    schemas[1][1] = make_nested(SL_UNKNOWN_DROP, false);
    ruled[0] = make(SL_UNKNOWN_REJECT);
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
        char err[160];
        FUZZ_ASSERT(sl_schema_set_rules(ruled[0], rules[i].field, &rules[i].r,
                                        err, sizeof err) == 0);
    }
    ruled[1] = make_nested(SL_UNKNOWN_REJECT, true);
    return 0;
}

/* Encode the record that starts p[0..len) after `prefix` bytes already in
 * out. Returns the result; out holds prefix + encoding on OK. */
static sl_schema_rc encode(const sl_schema *s, const char *p, size_t len,
                           sl_buf *out, sl_schema_error *err)
{
    static const char prefix[] = "PREFIX";
    sl_json js;
    sl_json_token t;
    sl_buf_reset(out);
    FUZZ_ASSERT(sl_buf_append(out, prefix, sizeof prefix - 1) == 0);
    sl_json_init(&js, p, len, 0);
    if (sl_json_next(&js, &t) == SL_JSON_ERROR)
        return SL_SCHEMA_SYNTAX;
    memset(err, 0, sizeof *err);
    sl_schema_rc rc = sl_schema_encode(s, &js, &t, out, err);
    if (rc != SL_SCHEMA_OK)
        FUZZ_ASSERT(out->len == sizeof prefix - 1 &&
                    memcmp(out->data, prefix, out->len) == 0);
    else
        FUZZ_ASSERT(out->len > sizeof prefix - 1);
    if (rc == SL_SCHEMA_INVALID || rc == SL_SCHEMA_SYNTAX) {
        FUZZ_ASSERT(memchr(err->field, 0, sizeof err->field) != NULL);
        FUZZ_ASSERT(memchr(err->msg, 0, sizeof err->msg) != NULL);
        FUZZ_ASSERT(err->msg[0] != '\0');
    }
    return rc;
}

/* The properties for one pair of schemas (reject, drop) and the first
 * with rules. */
static void check_pair(sl_schema *const pair[2], const sl_schema *with_rules,
                       const char *p, size_t size)
{
    const size_t pre = 6; /* strlen("PREFIX") */
    sl_buf a, b, c;
    sl_schema_error err;
    sl_buf_init(&a, 1 << 20);
    sl_buf_init(&b, 1 << 20);
    sl_buf_init(&c, 1 << 20);
    sl_schema_rc rcs[2];
    sl_buf first;
    sl_buf_init(&first, 1 << 20);
    for (int k = 0; k < 2; k++) {
        sl_schema_rc rc = rcs[k] = encode(pair[k], p, size, &a, &err);
        FUZZ_ASSERT(rc != SL_SCHEMA_NOMEM);
        if (rc != SL_SCHEMA_OK)
            continue;
        if (k == 0)
            FUZZ_ASSERT(sl_buf_append(&first, a.data, a.len) == 0);
        else if (rcs[0] == SL_SCHEMA_OK) /* drop = reject when nothing is unknown */
            FUZZ_ASSERT(first.len == a.len &&
                        memcmp(first.data, a.data, a.len) == 0);
        const char *enc = a.data + pre;
        size_t elen = a.len - pre;
        /* one object, valid JSON */
        FUZZ_ASSERT(enc[0] == '{' && enc[elen - 1] == '}');
        FUZZ_ASSERT(fuzz_json_valid(enc, elen, 0));
        /* compact: no whitespace outside strings */
        bool in_str = false;
        for (size_t i = 0; i < elen; i++) {
            if (in_str && enc[i] == '\\')
                i++;
            else if (enc[i] == '"')
                in_str = !in_str;
            else if (!in_str)
                FUZZ_ASSERT(enc[i] != ' ' && enc[i] != '\n' &&
                            enc[i] != '\t' && enc[i] != '\r');
        }
        /* deterministic */
        FUZZ_ASSERT(encode(pair[k], p, size, &b, &err) == SL_SCHEMA_OK);
        FUZZ_ASSERT(b.len == a.len && memcmp(a.data, b.data, a.len) == 0);
        /* idempotent, under both policies (nothing unknown is left) */
        for (int j = 0; j < 2; j++) {
            FUZZ_ASSERT(encode(pair[j], enc, elen, &c, &err) == SL_SCHEMA_OK);
            FUZZ_ASSERT(c.len == a.len && memcmp(a.data, c.data, a.len) == 0);
        }
    }
    /* what reject accepts, drop accepts; syntax errors do not depend on it */
    FUZZ_ASSERT(rcs[0] != SL_SCHEMA_OK || rcs[1] == SL_SCHEMA_OK);
    FUZZ_ASSERT((rcs[0] == SL_SCHEMA_SYNTAX) == (rcs[1] == SL_SCHEMA_SYNTAX));
    /* rules only refuse more, never change the bytes */
    sl_schema_rc rr = encode(with_rules, p, size, &a, &err);
    FUZZ_ASSERT(rr != SL_SCHEMA_NOMEM);
    FUZZ_ASSERT((rr == SL_SCHEMA_SYNTAX) == (rcs[0] == SL_SCHEMA_SYNTAX));
    if (rr == SL_SCHEMA_OK)
        FUZZ_ASSERT(rcs[0] == SL_SCHEMA_OK && first.len == a.len &&
                    memcmp(first.data, a.data, a.len) == 0);
    sl_buf_free(&first);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_buf_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    check_pair(schemas[0], ruled[0], p, size);
    check_pair(schemas[1], ruled[1], p, size);
    return 0;
}
