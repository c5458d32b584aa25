/* Unit tests for sl_schema_sample: the made-up record of each type, fitted
 * to each rule (and accepted by sl_schema_encode, byte for byte), nested
 * objects and arrays, rules no sample can meet (the encoder says why),
 * sl_schema_rules_get reading rules back, and a full output buffer. */
#include <stdint.h>
#include <stdlib.h>

#include "sl_schema.h"
#include "sl_schema_sample.h"
#include "sl_test.h"

static char got[8192];
static sl_schema_error gerr;

/* The sample of s into `got`; then encoded, which must give it back
 * unchanged (want_ok) or reject it (gerr says why). */
static void sample(const sl_schema *s, bool want_ok)
{
    sl_buf text, out;
    sl_json js;
    sl_json_token t;
    sl_buf_init(&text, 0);
    sl_buf_init(&out, 0);
    CHECK(sl_schema_sample_record(s, &text) == 0);
    snprintf(got, sizeof got, "%.*s", (int)text.len, text.data);
    sl_json_init(&js, text.data, text.len, 0);
    sl_json_next(&js, &t);
    memset(&gerr, 0, sizeof gerr);
    sl_schema_rc rc = sl_schema_encode(s, &js, &t, &out, &gerr);
    CHECK((rc == SL_SCHEMA_OK) == want_ok);
    if (rc == SL_SCHEMA_OK)
        CHECK(out.len == text.len && !memcmp(out.data, text.data, text.len));
    sl_buf_free(&text);
    sl_buf_free(&out);
}

static void add(sl_schema *s, const char *name, sl_schema_type type,
                const sl_schema_rules *r)
{
    char err[160];
    CHECK(sl_schema_add(s, name, type, false, err, sizeof err) == 0);
    if (r)
        CHECK(sl_schema_set_rules(s, sl_schema_nfields(s) - 1, r, err,
                                  sizeof err) == 0);
}

static void test_scalars(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "id", SL_TYPE_INTEGER, NULL);
    add(s, "email", SL_TYPE_STRING, NULL);
    add(s, "amount", SL_TYPE_NUMBER, NULL);
    add(s, "ok", SL_TYPE_BOOLEAN, NULL);
    add(s, "day", SL_TYPE_DATE, NULL);
    add(s, "at", SL_TYPE_DATETIME, NULL);
    add(s, "raw", SL_TYPE_JSON, NULL);
    char err[160];
    CHECK(sl_schema_add(s, "note", SL_TYPE_STRING, true, err, sizeof err) == 0);
    sample(s, true);
    CHECK_STR(got, "{\"id\":1,\"email\":\"email-1\",\"amount\":1.5,\"ok\":true,"
                   "\"day\":\"2026-01-31\",\"at\":\"2026-01-31T12:00:00Z\","
                   "\"raw\":{},\"note\":\"note-1\"}");
    sl_schema_free(s);
}

static void test_rules(void)
{
    sl_schema_text e[] = {{"b\"q", 3}, {"a", 1}};
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "st", SL_TYPE_STRING, &(sl_schema_rules){.enum_values = e,
                                                    .nenum = 2});
    add(s, "short", SL_TYPE_STRING,
        &(sl_schema_rules){.has_max_length = true, .max_length = 2});
    add(s, "long", SL_TYPE_STRING,
        &(sl_schema_rules){.has_min_length = true, .min_length = 9});
    add(s, "lo", SL_TYPE_INTEGER, &(sl_schema_rules){.has_min = true,
                                                     .imin = 10});
    add(s, "hi", SL_TYPE_INTEGER, &(sl_schema_rules){.has_max = true,
                                                     .imax = INT64_MIN});
    add(s, "in", SL_TYPE_INTEGER, &(sl_schema_rules){
        .has_min = true, .imin = -3, .has_max = true, .imax = 3});
    add(s, "x", SL_TYPE_NUMBER, &(sl_schema_rules){.has_min = true,
                                                   .nmin = 2.25});
    add(s, "y", SL_TYPE_NUMBER, &(sl_schema_rules){.has_max = true,
                                                   .nmax = -1e300});
    sample(s, true);
    CHECK_STR(got, "{\"st\":\"b\\\"q\",\"short\":\"sh\",\"long\":\"long-1xxx\","
                   "\"lo\":10,\"hi\":-9223372036854775808,\"in\":1,"
                   "\"x\":2.25,\"y\":-1e+300}");
    sl_schema_free(s);
}

static void test_rules_read_back(void)
{
    sl_schema_text e[] = {{"x", 1}};
    sl_schema_rules r, in = {.enum_values = e, .nenum = 1,
                             .has_max_length = true, .max_length = 4};
    char err[160];
    sl_schema_rules_set *set =
        sl_schema_rules_new(SL_SCHEMA_RULES_STRING, &in, err, sizeof err);
    CHECK(set != NULL);
    sl_schema_rules_get(set, &r);
    CHECK(r.nenum == 1 && r.enum_values[0].len == 1 &&
          r.enum_values[0].p[0] == 'x');
    CHECK(r.has_max_length && r.max_length == 4 && !r.has_min_length);
    CHECK(!r.has_min && !r.has_max);
    sl_schema_rules_free(set);
    in = (sl_schema_rules){.has_min = true, .imin = 5};
    set = sl_schema_rules_new(SL_SCHEMA_RULES_INTEGER, &in, err, sizeof err);
    sl_schema_rules_get(set, &r);
    CHECK(r.has_min && r.imin == 5 && !r.has_max && r.nenum == 0);
    sl_schema_rules_free(set);
    in = (sl_schema_rules){.has_max = true, .nmax = 0.5};
    set = sl_schema_rules_new(SL_SCHEMA_RULES_NUMBER, &in, err, sizeof err);
    sl_schema_rules_get(set, &r);
    CHECK(!r.has_min && r.has_max && r.nmax == 0.5);
    sl_schema_rules_free(set);
}

/* An object field "o" {a integer, deep {b string}} and an array "l" of
 * min_items 3 of arrays (max 1) of strings. */
static void test_nested(void)
{
    char err[160];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_DROP);
    sl_schema *deep = sl_schema_new(SL_UNKNOWN_DROP);
    sl_schema *o = sl_schema_new(SL_UNKNOWN_DROP);
    CHECK(sl_schema_add(deep, "b", SL_TYPE_STRING, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(o, "a", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add_value(o, "deep", &(sl_schema_value){
        .type = SL_TYPE_OBJECT, .fields = deep}, err, sizeof err) == 0);
    CHECK(sl_schema_add_value(s, "o", &(sl_schema_value){
        .type = SL_TYPE_OBJECT, .fields = o}, err, sizeof err) == 0);
    sl_schema_value str = {.type = SL_TYPE_STRING};
    sl_schema_value inner = {.type = SL_TYPE_ARRAY, .items = &str,
                             .max_items = 1};
    CHECK(sl_schema_add_value(s, "l", &(sl_schema_value){
        .type = SL_TYPE_ARRAY, .items = &inner, .min_items = 3},
        err, sizeof err) == 0);
    sample(s, true);
    CHECK_STR(got, "{\"o\":{\"a\":1,\"deep\":{\"b\":\"b-1\"}},"
                   "\"l\":[[\"l-1\"],[\"l-1\"],[\"l-1\"]]}");
    sl_schema_free(s);
}

/* Rules a made-up value cannot meet: a min_length past the padding's cap
 * is not padded so far, and the encoder says why. */
static void test_unmet(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "huge", SL_TYPE_STRING, &(sl_schema_rules){
        .has_min_length = true, .min_length = SL_SCHEMA_SAMPLE_PAD_MAX + 10});
    sample(s, false);
    CHECK_STR(gerr.field, "huge");
    CHECK_CONTAINS(gerr.msg, "fewer than min_length");
    sl_schema_free(s);
}

static void test_full_buffer(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "email", SL_TYPE_STRING, NULL);
    sl_buf out;
    sl_buf_init(&out, 8);
    CHECK(sl_buf_append(&out, "[", 1) == 0);
    CHECK(sl_schema_sample_record(s, &out) == -1);
    CHECK(out.len == 1); /* cut back */
    sl_buf_free(&out);
    sl_schema_free(s);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"scalars", test_scalars},
        {"rules", test_rules},
        {"rules_read_back", test_rules_read_back},
        {"nested", test_nested},
        {"unmet", test_unmet},
        {"full_buffer", test_full_buffer},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
