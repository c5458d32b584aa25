/* Unit tests for sl_schema_rules through sl_schema: each field rule (enum,
 * min/max, min_length/max_length) at and past its edges on both sides,
 * on escaped strings, at the int64 edges and past double precision, on
 * null; the messages; sl_schema_set_rules' refusals (rules unchanged);
 * and that rules change neither the encoding nor the fingerprint. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "sl_schema.h"
#include "sl_test.h"

static char got[4096];       /* last encoding (or "") */
static sl_schema_error gerr; /* last error */

static sl_schema_rc enc(const sl_schema *s, const char *doc, size_t len)
{
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_buf_init(&out, 0);
    memset(&gerr, 0, sizeof gerr);
    sl_json_init(&js, doc, len, 0);
    sl_json_next(&js, &t);
    sl_schema_rc rc = sl_schema_encode(s, &js, &t, &out, &gerr);
    if (rc == SL_SCHEMA_OK || rc == SL_SCHEMA_INVALID)
        CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    if (rc != SL_SCHEMA_OK)
        CHECK(out.len == 0);
    snprintf(got, sizeof got, "%.*s", (int)out.len, out.data ? out.data : "");
    sl_buf_free(&out);
    return rc;
}

/* A schema of one field "v" with rules r (which must be taken). */
static sl_schema *ruled(sl_schema_type type, bool nullable,
                        const sl_schema_rules *r)
{
    char err[160] = "";
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(s != NULL);
    CHECK(sl_schema_add(s, "v", type, nullable, err, sizeof err) == 0);
    if (sl_schema_set_rules(s, 0, r, err, sizeof err) != 0) {
        fprintf(stderr, "rules refused: %s\n", err);
        sl_test_failed_checks++;
    }
    return s;
}

/* {"v":<val>} must be accepted byte for byte (msg NULL) or rejected for
 * field v with msg. */
static void expect_at(const sl_schema *s, const char *val, const char *msg,
                      int line)
{
    char doc[2048];
    int n = snprintf(doc, sizeof doc, "{\"v\":%s}", val);
    sl_schema_rc rc = enc(s, doc, (size_t)n);
    bool ok = msg ? rc == SL_SCHEMA_INVALID && !strcmp(gerr.field, "v") &&
                        !strcmp(gerr.msg, msg)
                  : rc == SL_SCHEMA_OK && !strcmp(got, doc);
    if (!ok) {
        fprintf(stderr, "line %d: %s: rc %d field \"%s\" msg \"%s\"\n"
                        "  want %s\n", line, val, (int)rc, gerr.field,
                gerr.msg, msg ? msg : "accepted");
        sl_test_failed_checks++;
    }
}
#define EXPECT(s, val, msg) expect_at(s, val, msg, __LINE__)

static void test_enum(void)
{
    static const sl_schema_text stages[] = {
        {"new", 3}, {"done", 4}, {"caf\xc3\xa9", 5}, {"", 0}, {"a\0b", 3}};
    sl_schema *s = ruled(SL_TYPE_STRING, false,
                         &(sl_schema_rules){.enum_values = stages,
                                            .nenum = 5});
    EXPECT(s, "\"new\"", NULL);
    EXPECT(s, "\"done\"", NULL);
    EXPECT(s, "\"\"", NULL);
    EXPECT(s, "\"caf\xc3\xa9\"", NULL);
    /* compared decoded: escapes spell the same value */
    EXPECT(s, "\"\\u006eew\"", NULL);
    EXPECT(s, "\"d\\u006F\\u006e\\u0065\"", NULL);
    EXPECT(s, "\"caf\\u00e9\"", NULL);
    EXPECT(s, "\"a\\u0000b\"", NULL);
    EXPECT(s, "\"\\/new\"", "\"\\/new\" is not one of the enum values "
                            "(\"new\", \"done\", \"caf\xc3\xa9\", \"\", "
                            "\"a\\u0000b\")");
    /* a neighbour on each side: a prefix, a longer one, a case change */
    EXPECT(s, "\"ne\"", "\"ne\" is not one of the enum values (\"new\", "
                        "\"done\", \"caf\xc3\xa9\", \"\", \"a\\u0000b\")");
    EXPECT(s, "\"news\"", "\"news\" is not one of the enum values (\"new\", "
                          "\"done\", \"caf\xc3\xa9\", \"\", \"a\\u0000b\")");
    EXPECT(s, "\"New\"", "\"New\" is not one of the enum values (\"new\", "
                         "\"done\", \"caf\xc3\xa9\", \"\", \"a\\u0000b\")");
    EXPECT(s, "\"a\"", "\"a\" is not one of the enum values (\"new\", "
                       "\"done\", \"caf\xc3\xa9\", \"\", \"a\\u0000b\")");
    /* escaped and longer than every value: not decoded past that */
    EXPECT(s, "\"\\u006eew\\u006eew\"",
           "\"\\u006eew\\u006eew\" is not one of the enum values (\"new\", "
           "\"done\", \"caf\xc3\xa9\", \"\", \"a\\u0000b\")");
    /* the type comes first */
    EXPECT(s, "3", "expected string, got number");
    sl_schema_free(s);

    /* the brief's example, and a long value clipped in the message */
    static const sl_schema_text two[] = {{"new", 3}, {"done", 4}};
    s = ruled(SL_TYPE_STRING, true,
              &(sl_schema_rules){.enum_values = two, .nenum = 2});
    EXPECT(s, "\"pending\"", "\"pending\" is not one of the enum values "
                             "(\"new\", \"done\")");
    EXPECT(s, "null", NULL); /* nullable null: no rule applies */
    char val[200], want[300];
    memset(val, 'x', sizeof val);
    val[0] = '"';
    val[100] = '"';
    val[101] = '\0';
    snprintf(want, sizeof want, "\"%.40s...\" is not one of the enum values "
             "(\"new\", \"done\")", val + 1);
    EXPECT(s, val, want);
    sl_schema_free(s);

    /* 256 values: the list is cut, and says how many are left out */
    static sl_schema_text many[SL_SCHEMA_RULES_ENUM_MAX];
    static char names[SL_SCHEMA_RULES_ENUM_MAX][8];
    for (int i = 0; i < SL_SCHEMA_RULES_ENUM_MAX; i++) {
        int n = snprintf(names[i], sizeof names[i], "v%03d", i);
        many[i] = (sl_schema_text){names[i], (size_t)n};
    }
    s = ruled(SL_TYPE_STRING, false,
              &(sl_schema_rules){.enum_values = many,
                                 .nenum = SL_SCHEMA_RULES_ENUM_MAX});
    EXPECT(s, "\"v000\"", NULL);
    EXPECT(s, "\"v255\"", NULL);
    EXPECT(s, "\"v\\u0032\\u0035\\u0035\"", NULL);
    CHECK(enc(s, "{\"v\":\"v256\"}", 12) == SL_SCHEMA_INVALID);
    CHECK_CONTAINS(gerr.msg, "\"v256\" is not one of the enum values "
                             "(\"v000\", \"v001\", ");
    CHECK_CONTAINS(gerr.msg, " more)");
    CHECK(strlen(gerr.msg) < sizeof gerr.msg - 1); /* cut by us, not snprintf */
    sl_schema_free(s);

    /* quotes and backslashes in a value are shown escaped */
    static const sl_schema_text odd[] = {{"say \"hi\"", 8}, {"a\\b", 3}};
    s = ruled(SL_TYPE_STRING, false,
              &(sl_schema_rules){.enum_values = odd, .nenum = 2});
    EXPECT(s, "\"say \\\"hi\\\"\"", NULL);
    EXPECT(s, "\"a\\\\b\"", NULL);
    EXPECT(s, "\"say hi\"", "\"say hi\" is not one of the enum values "
                            "(\"say \\\"hi\\\"\", \"a\\\\b\")");
    sl_schema_free(s);
}

static void test_integer_bounds(void)
{
    sl_schema *s = ruled(SL_TYPE_INTEGER, false,
                         &(sl_schema_rules){.has_min = true, .imin = 1,
                                            .has_max = true, .imax = 100});
    EXPECT(s, "1", NULL);
    EXPECT(s, "100", NULL);
    EXPECT(s, "0", "0 is less than min (1)");
    EXPECT(s, "-0", "-0 is less than min (1)");
    EXPECT(s, "101", "101 is greater than max (100)");
    EXPECT(s, "-9223372036854775808", "-9223372036854775808 is less than "
                                      "min (1)");
    EXPECT(s, "9223372036854775807", "9223372036854775807 is greater than "
                                     "max (100)");
    EXPECT(s, "1.5", "expected integer, got number 1.5"); /* type first */
    EXPECT(s, "\"5\"", "expected integer, got string");
    sl_schema_free(s);

    /* exact past 2^53, where a double would round both to one value */
    s = ruled(SL_TYPE_INTEGER, false,
              &(sl_schema_rules){.has_min = true,
                                 .imin = -9007199254740992LL,
                                 .has_max = true,
                                 .imax = 9007199254740992LL});
    EXPECT(s, "9007199254740992", NULL);
    EXPECT(s, "-9007199254740992", NULL);
    EXPECT(s, "9007199254740993", "9007199254740993 is greater than max "
                                  "(9007199254740992)");
    EXPECT(s, "-9007199254740993", "-9007199254740993 is less than min "
                                   "(-9007199254740992)");
    sl_schema_free(s);

    /* the int64 edges as bounds */
    s = ruled(SL_TYPE_INTEGER, false,
              &(sl_schema_rules){.has_min = true, .imin = INT64_MIN + 1,
                                 .has_max = true, .imax = INT64_MAX - 1});
    EXPECT(s, "-9223372036854775807", NULL);
    EXPECT(s, "9223372036854775806", NULL);
    EXPECT(s, "-9223372036854775808", "-9223372036854775808 is less than "
                                      "min (-9223372036854775807)");
    EXPECT(s, "9223372036854775807", "9223372036854775807 is greater than "
                                     "max (9223372036854775806)");
    EXPECT(s, "9223372036854775808", "integer out of range (64-bit)");
    sl_schema_free(s);

    /* one side only; min = max */
    s = ruled(SL_TYPE_INTEGER, true,
              &(sl_schema_rules){.has_min = true, .imin = 0});
    EXPECT(s, "0", NULL);
    EXPECT(s, "9223372036854775807", NULL);
    EXPECT(s, "-1", "-1 is less than min (0)");
    EXPECT(s, "null", NULL);
    sl_schema_free(s);
    s = ruled(SL_TYPE_INTEGER, false,
              &(sl_schema_rules){.has_min = true, .imin = 7,
                                 .has_max = true, .imax = 7});
    EXPECT(s, "7", NULL);
    EXPECT(s, "6", "6 is less than min (7)");
    EXPECT(s, "8", "8 is greater than max (7)");
    EXPECT(s, "null", "null is not allowed");
    sl_schema_free(s);
}

static void test_number_bounds(void)
{
    sl_schema *s = ruled(SL_TYPE_NUMBER, false,
                         &(sl_schema_rules){.has_min = true, .nmin = 0.1,
                                            .has_max = true,
                                            .nmax = 100000});
    EXPECT(s, "0.1", NULL);
    EXPECT(s, "1e-1", NULL);
    EXPECT(s, "100000", NULL);
    EXPECT(s, "1e5", NULL);
    EXPECT(s, "100000.0", NULL);
    EXPECT(s, "1e9", "1e9 is greater than max (100000)");
    EXPECT(s, "100000.00000001", "100000.00000001 is greater than max "
                                 "(100000)");
    EXPECT(s, "0.09999999999999999", "0.09999999999999999 is less than min "
                                     "(0.1)");
    EXPECT(s, "-1e308", "-1e308 is less than min (0.1)");
    EXPECT(s, "0", "0 is less than min (0.1)");
    EXPECT(s, "1e400", "number out of range"); /* the type comes first */
    EXPECT(s, "0.00000000000000000000000000000000000001",
           "0.000000000000000000000000000000... is less than min (0.1)");
    sl_schema_free(s);

    s = ruled(SL_TYPE_NUMBER, true,
              &(sl_schema_rules){.has_min = true, .nmin = 0});
    EXPECT(s, "0", NULL);
    EXPECT(s, "-0", NULL);   /* -0 == 0 */
    EXPECT(s, "-0.0", NULL);
    EXPECT(s, "1.7976931348623157e308", NULL);
    EXPECT(s, "-5e-324", "-5e-324 is less than min (0)");
    EXPECT(s, "null", NULL);
    sl_schema_free(s);

    s = ruled(SL_TYPE_NUMBER, false,
              &(sl_schema_rules){.has_max = true, .nmax = -2.5});
    EXPECT(s, "-2.5", NULL);
    EXPECT(s, "-25e-1", NULL);
    EXPECT(s, "-2.4999", "-2.4999 is greater than max (-2.5)");
    sl_schema_free(s);
}

static void test_lengths(void)
{
    sl_schema *s = ruled(SL_TYPE_STRING, false,
                         &(sl_schema_rules){.has_min_length = true,
                                            .min_length = 2,
                                            .has_max_length = true,
                                            .max_length = 3});
    EXPECT(s, "\"ab\"", NULL);
    EXPECT(s, "\"abc\"", NULL);
    EXPECT(s, "\"a\"", "1 character, fewer than min_length (2)");
    EXPECT(s, "\"\"", "0 characters, fewer than min_length (2)");
    EXPECT(s, "\"abcd\"", "4 characters, more than max_length (3)");
    /* code points, not bytes: é is two bytes, one character */
    EXPECT(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", NULL);
    EXPECT(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"",
           "4 characters, more than max_length (3)");
    EXPECT(s, "\"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\"", NULL); /* 2 emoji */
    EXPECT(s, "\"\xf0\x9f\x98\x80\"", "1 character, fewer than min_length "
                                      "(2)");
    /* escapes count as what they decode to; a surrogate pair is one */
    EXPECT(s, "\"\\u00e9\\u00e9\\u00e9\"", NULL);
    EXPECT(s, "\"\\u00e9\\u00e9\\u00e9\\u00e9\"",
           "4 characters, more than max_length (3)");
    EXPECT(s, "\"\\ud83d\\ude00\\uD83D\\uDE00\"", NULL);
    EXPECT(s, "\"\\ud83d\\ude00\"", "1 character, fewer than min_length "
                                    "(2)");
    EXPECT(s, "\"\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\\ud83d\\ude00\"",
           "4 characters, more than max_length (3)");
    EXPECT(s, "\"\\n\\t\"", NULL);
    EXPECT(s, "\"\\\\\"", "1 character, fewer than min_length (2)");
    EXPECT(s, "\"a\\\"b\\/\"", "4 characters, more than max_length (3)");
    EXPECT(s, "\"\\uDBFF\\uDFFFx\"", NULL); /* U+10FFFF and x */
    sl_schema_free(s);

    /* the brief's examples; a long value is counted whole */
    s = ruled(SL_TYPE_STRING, false,
              &(sl_schema_rules){.has_max_length = true, .max_length = 64});
    char val[128];
    memset(val, 'n', sizeof val);
    val[0] = '"';
    val[65] = '"';
    val[66] = '\0';
    EXPECT(s, val, NULL);
    memset(val + 65, 'n', 6);
    val[71] = '"';
    val[72] = '\0';
    EXPECT(s, val, "70 characters, more than max_length (64)");
    sl_schema_free(s);
    s = ruled(SL_TYPE_STRING, false,
              &(sl_schema_rules){.has_min_length = true, .min_length = 1});
    EXPECT(s, "\"\"", "0 characters, fewer than min_length (1)");
    EXPECT(s, "\"x\"", NULL);
    sl_schema_free(s);

    /* max_length 0: only the empty string */
    s = ruled(SL_TYPE_STRING, true,
              &(sl_schema_rules){.has_max_length = true, .max_length = 0});
    EXPECT(s, "\"\"", NULL);
    EXPECT(s, "null", NULL);
    EXPECT(s, "\"\\u0000\"", "1 character, more than max_length (0)");
    sl_schema_free(s);

    /* with an enum: the enum is checked first */
    static const sl_schema_text vals[] = {{"ok", 2}, {"toolong", 7}};
    s = ruled(SL_TYPE_STRING, false,
              &(sl_schema_rules){.enum_values = vals, .nenum = 2,
                                 .has_max_length = true, .max_length = 4});
    EXPECT(s, "\"ok\"", NULL);
    EXPECT(s, "\"toolong\"", "7 characters, more than max_length (4)");
    EXPECT(s, "\"no\"", "\"no\" is not one of the enum values (\"ok\", "
                        "\"toolong\")");
    sl_schema_free(s);
}

/* sl_schema_set_rules refuses what makes no sense, and then keeps the
 * rules the field had. */
static void test_set_rules_refusals(void)
{
    char err[160];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(s, "n", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "s", SL_TYPE_STRING, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "b", SL_TYPE_BOOLEAN, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "x", SL_TYPE_NUMBER, false, err, sizeof err) == 0);
    CHECK(sl_schema_set_rules(s, 0, &(sl_schema_rules){.has_max = true,
                                                       .imax = 5},
                              err, sizeof err) == 0);
    static const sl_schema_text one[] = {{"a", 1}};
    static const sl_schema_text dup[] = {{"a", 1}, {"b", 1}, {"a", 1}};
    static const sl_schema_text bad[] = {{"\xc3", 1}};
    static const sl_schema_text big[] = {{NULL, SL_SCHEMA_RULES_VALUE_MAX + 1}};
    static const struct {
        size_t field;
        sl_schema_rules r;
        const char *msg;
    } cases[] = {
        {9, {.has_min = true}, "no field 9"},
        {2, {.has_min = true}, "field \"b\": no rules for this type"},
        {0, {.enum_values = one, .nenum = 1},
         "field \"n\": enum, min_length and max_length are only for "
         "strings"},
        {0, {.has_max_length = true}, "field \"n\": enum, min_length and "
                                      "max_length are only for strings"},
        {1, {.has_min = true}, "field \"s\": min and max are only for "
                               "integers and numbers"},
        {0, {.has_min = true, .imin = 6, .has_max = true, .imax = 5},
         "field \"n\": min is greater than max"},
        {3, {.has_min = true, .nmin = 1.5, .has_max = true, .nmax = 1.25},
         "field \"x\": min is greater than max"},
        {3, {.has_min = true, .nmin = NAN}, "field \"x\": min and max must "
                                           "be finite"},
        {3, {.has_max = true, .nmax = INFINITY}, "field \"x\": min and max "
                                                "must be finite"},
        {1, {.has_min_length = true, .min_length = 3,
             .has_max_length = true, .max_length = 2},
         "field \"s\": min_length is greater than max_length"},
        {1, {.has_max_length = true,
             .max_length = SL_SCHEMA_RULES_LENGTH_MAX + 1},
         "field \"s\": min_length and max_length are at most 67108864"},
        {1, {.enum_values = dup, .nenum = 3},
         "field \"s\": enum value 3 is value 1 again"},
        {1, {.enum_values = bad, .nenum = 1},
         "field \"s\": enum value 1 is not valid UTF-8"},
        {1, {.enum_values = big, .nenum = 1},
         "field \"s\": enum value 1 is longer than 1024 bytes"},
        {1, {.enum_values = one, .nenum = SL_SCHEMA_RULES_ENUM_MAX + 1},
         "field \"s\": more than 256 enum values"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        CHECK(sl_schema_set_rules(s, cases[i].field, &cases[i].r, err,
                                  sizeof err) == -1);
        CHECK_STR(err, cases[i].msg);
    }
    /* field n kept its max 5 through the refusals */
    const char *rec = "{\"n\":6,\"s\":\"\",\"b\":true,\"x\":1}";
    CHECK(enc(s, rec, strlen(rec)) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "6 is greater than max (5)");
    /* NULL or empty rules remove them */
    CHECK(sl_schema_set_rules(s, 0, &(sl_schema_rules){0}, err,
                              sizeof err) == 0);
    CHECK(enc(s, rec, strlen(rec)) == SL_SCHEMA_OK);
    CHECK(sl_schema_set_rules(s, 0, &(sl_schema_rules){.has_min = true,
                                                       .imin = 7},
                              err, sizeof err) == 0);
    CHECK(enc(s, rec, strlen(rec)) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "6 is less than min (7)");
    CHECK(sl_schema_set_rules(s, 0, NULL, err, sizeof err) == 0);
    CHECK(enc(s, rec, strlen(rec)) == SL_SCHEMA_OK);
    sl_schema_free(s);
}

/* Rules leave the encoding and the fingerprint alone, wherever the field
 * stands in the record and however its key is written. */
static void test_encoding_and_fingerprint(void)
{
    char err[160], fp_plain[17], fp_ruled[17];
    static const sl_schema_text stages[] = {{"lead", 4}, {"customer", 8}};
    sl_schema *plain = sl_schema_new(SL_UNKNOWN_DROP);
    sl_schema *rules = sl_schema_new(SL_UNKNOWN_DROP);
    sl_schema *both[2] = {plain, rules};
    for (int k = 0; k < 2; k++) {
        CHECK(sl_schema_add(both[k], "id", SL_TYPE_INTEGER, false, err,
                            sizeof err) == 0);
        CHECK(sl_schema_add(both[k], "stage", SL_TYPE_STRING, false, err,
                            sizeof err) == 0);
        CHECK(sl_schema_add(both[k], "qty", SL_TYPE_NUMBER, true, err,
                            sizeof err) == 0);
    }
    CHECK(sl_schema_set_rules(rules, 0, &(sl_schema_rules){.has_min = true,
                                                           .imin = 1},
                              err, sizeof err) == 0);
    CHECK(sl_schema_set_rules(rules, 1,
                              &(sl_schema_rules){.enum_values = stages,
                                                 .nenum = 2,
                                                 .has_max_length = true,
                                                 .max_length = 8},
                              err, sizeof err) == 0);
    CHECK(sl_schema_set_rules(rules, 2, &(sl_schema_rules){.has_max = true,
                                                           .nmax = 10},
                              err, sizeof err) == 0);
    sl_schema_fingerprint(plain, fp_plain);
    sl_schema_fingerprint(rules, fp_ruled);
    CHECK_STR(fp_ruled, fp_plain);

    static const char *const recs[] = {
        "{\"id\":1,\"stage\":\"lead\",\"qty\":10}",
        "{ \"qty\" : 1e1 , \"st\\u0061ge\" : \"cust\\u006fmer\", \"id\":2 }",
        "{\"x\":[1],\"id\":3,\"stage\":\"lead\"}",
    };
    static const char *const want[] = {
        "{\"id\":1,\"stage\":\"lead\",\"qty\":10}",
        "{\"id\":2,\"stage\":\"cust\\u006fmer\",\"qty\":1e1}",
        "{\"id\":3,\"stage\":\"lead\",\"qty\":null}",
    };
    for (size_t i = 0; i < 3; i++) {
        char a[sizeof got];
        CHECK(enc(plain, recs[i], strlen(recs[i])) == SL_SCHEMA_OK);
        snprintf(a, sizeof a, "%s", got);
        CHECK(enc(rules, recs[i], strlen(recs[i])) == SL_SCHEMA_OK);
        CHECK_STR(got, a);
        CHECK_STR(got, want[i]);
    }
    /* the field named is the schema's, also through an escaped key */
    const char *bad = "{\"st\\u0061ge\":\"prospect\",\"id\":0}";
    CHECK(enc(rules, bad, strlen(bad)) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "stage");
    CHECK_STR(gerr.msg, "\"prospect\" is not one of the enum values "
                        "(\"lead\", \"customer\")");
    bad = "{\"stage\":\"lead\",\"id\":0}";
    CHECK(enc(rules, bad, strlen(bad)) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "id");
    CHECK_STR(gerr.msg, "0 is less than min (1)");
    sl_schema_free(plain);
    sl_schema_free(rules);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"enum", test_enum},
        {"integer_bounds", test_integer_bounds},
        {"number_bounds", test_number_bounds},
        {"lengths", test_lengths},
        {"set_rules_refusals", test_set_rules_refusals},
        {"encoding_and_fingerprint", test_encoding_and_fingerprint},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
