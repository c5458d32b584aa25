/* Unit tests for sl_schema: field list rules, every type at its edges,
 * nullability, unknown-field policies, encoding bytes, error recovery
 * between records, the output cap and hostile input. */
#include <stdint.h>
#include <stdlib.h>

#include "sl_schema.h"
#include "sl_test.h"

static sl_schema *one_field(sl_schema_type type, bool nullable)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    char err[128];
    sl_schema_add(s, "v", type, nullable, err, sizeof err);
    return s;
}

/* The realistic record of the benchmark. */
static sl_schema *contact_schema(sl_unknown_policy policy)
{
    sl_schema *s = sl_schema_new(policy);
    char err[128];
    sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err);
    sl_schema_add(s, "email", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err);
    sl_schema_add(s, "amount", SL_TYPE_NUMBER, true, err, sizeof err);
    sl_schema_add(s, "active", SL_TYPE_BOOLEAN, false, err, sizeof err);
    sl_schema_add(s, "created_at", SL_TYPE_DATETIME, false, err, sizeof err);
    return s;
}

static char got[4096];        /* last encoding (or "") */
static sl_schema_error gerr;  /* last error */

/* Encode a document holding one record. The scanner must stand after the
 * record afterwards (END next) unless the JSON was malformed. */
static sl_schema_rc enc(const sl_schema *s, const char *doc)
{
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_buf_init(&out, 0);
    memset(&gerr, 0, sizeof gerr);
    sl_json_init(&js, doc, strlen(doc), 0);
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

/* One field "v" of `type`: the value `val` must pass, or fail with `msg`. */
static void value_ok(sl_schema_type type, const char *val, int line)
{
    char doc[512];
    snprintf(doc, sizeof doc, "{\"v\":%s}", val);
    sl_schema *s = one_field(type, false);
    if (enc(s, doc) != SL_SCHEMA_OK || strcmp(got, doc) != 0) {
        fprintf(stderr, "line %d: %s %s rejected: %s\n", line,
                sl_schema_type_name(type), val, gerr.msg);
        sl_test_failed_checks++;
    }
    sl_schema_free(s);
}

static void value_bad(sl_schema_type type, const char *val, const char *msg, int line)
{
    char doc[512];
    snprintf(doc, sizeof doc, "{\"v\":%s}", val);
    sl_schema *s = one_field(type, false);
    sl_schema_rc rc = enc(s, doc);
    if (rc != SL_SCHEMA_INVALID || strcmp(gerr.msg, msg) != 0 ||
        strcmp(gerr.field, "v") != 0) {
        fprintf(stderr, "line %d: %s %s: rc %d field \"%s\" msg \"%s\"\n"
                        "  want \"%s\"\n",
                line, sl_schema_type_name(type), val, (int)rc, gerr.field, gerr.msg,
                msg);
        sl_test_failed_checks++;
    }
    sl_schema_free(s);
}

#define OK(type, val) value_ok(type, val, __LINE__)
#define BAD(type, val, msg) value_bad(type, val, msg, __LINE__)

static void test_type_names(void)
{
    static const char *names[] = {"string", "integer", "number",
                                  "boolean", "date", "datetime",
                                  "object", "array", "json"};
    for (int i = 0; i < SL_TYPE__COUNT; i++) {
        CHECK_STR(sl_schema_type_name((sl_schema_type)i), names[i]);
        CHECK(sl_schema_type_from_name(names[i]) == i);
    }
    CHECK(sl_schema_type_from_name("int") == -1);
    CHECK(sl_schema_type_from_name("String") == -1);
    CHECK(sl_schema_type_from_name(NULL) == -1);
}

static void test_add_rules(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_DROP);
    char err[200], name[200];
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "id", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_STR(err, "duplicate field \"id\"");
    CHECK(sl_schema_add(s, "", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_STR(err, "field name is empty");
    memset(name, 'a', 128);
    name[128] = '\0';
    CHECK(sl_schema_add(s, name, SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is longer than 127 bytes");
    name[127] = '\0';
    CHECK(sl_schema_add(s, name, SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "a\"b", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_STR(err, "field name \"a?b\" contains a character that needs escaping "
                   "in JSON (control character, quote or backslash)");
    CHECK(sl_schema_add(s, "a\\b", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "needs escaping");
    CHECK(sl_schema_add(s, "a\nb", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "needs escaping");
    CHECK(sl_schema_add(s, "a\xC3", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is not valid UTF-8");
    CHECK(sl_schema_add(s, "x", (sl_schema_type)99, true, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "unknown type");
    CHECK(sl_schema_add(s, "caf\xC3\xA9", SL_TYPE_DATE, true, err, sizeof err) == 0);
    CHECK(sl_schema_nfields(s) == 3);
    CHECK_STR(sl_schema_field_name(s, 2), "caf\xC3\xA9");
    CHECK(sl_schema_field_type(s, 2) == SL_TYPE_DATE);
    CHECK(sl_schema_field_nullable(s, 2));
    CHECK(!sl_schema_field_nullable(s, 0));
    CHECK(sl_schema_policy(s) == SL_UNKNOWN_DROP);
    sl_schema_free(s);
    sl_schema_free(NULL);

    s = sl_schema_new(SL_UNKNOWN_REJECT);
    for (int i = 0; i < SL_SCHEMA_MAX_FIELDS; i++) {
        snprintf(name, sizeof name, "f%d", i);
        CHECK(sl_schema_add(s, name, SL_TYPE_STRING, true, err, sizeof err) == 0);
    }
    CHECK(sl_schema_add(s, "one_more", SL_TYPE_STRING, true, err, sizeof err) ==
          -1);
    CHECK_STR(err, "too many fields (at most 512)");
    CHECK(sl_schema_add(s, "f300", SL_TYPE_STRING, true, err, sizeof err) == -1);
    CHECK_STR(err, "duplicate field \"f300\"");
    sl_schema_free(s);
}

static void test_fingerprint(void)
{
    sl_schema *a = contact_schema(SL_UNKNOWN_REJECT);
    sl_schema *b = contact_schema(SL_UNKNOWN_REJECT);
    sl_schema *c = contact_schema(SL_UNKNOWN_DROP);
    char fa[17], fb[17], fc[17];
    sl_schema_fingerprint(a, fa);
    sl_schema_fingerprint(b, fb);
    sl_schema_fingerprint(c, fc);
    CHECK(strlen(fa) == 16 && strspn(fa, "0123456789abcdef") == 16);
    CHECK_STR(fa, fb);
    CHECK(strcmp(fa, fc) != 0);
    char err[64];
    sl_schema_add(b, "extra", SL_TYPE_STRING, true, err, sizeof err);
    sl_schema_fingerprint(b, fb);
    CHECK(strcmp(fa, fb) != 0);

    /* nullability, type and order all count */
    sl_schema *x = one_field(SL_TYPE_STRING, false);
    sl_schema *y = one_field(SL_TYPE_STRING, true);
    sl_schema *z = one_field(SL_TYPE_DATE, false);
    char fx[17], fy[17], fz[17];
    sl_schema_fingerprint(x, fx);
    sl_schema_fingerprint(y, fy);
    sl_schema_fingerprint(z, fz);
    CHECK(strcmp(fx, fy) != 0 && strcmp(fx, fz) != 0);
    sl_schema *p = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema *q = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_add(p, "a", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(p, "b", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(q, "b", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(q, "a", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_fingerprint(p, fx);
    sl_schema_fingerprint(q, fy);
    CHECK(strcmp(fx, fy) != 0);
    /* pinned: a change of the canonical form must be deliberate */
    sl_schema *e = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_fingerprint(e, fz);
    CHECK_STR(fz, "16c0967e776485a8");
    sl_schema_free(e);
    sl_schema_free(p);
    sl_schema_free(q);
    sl_schema_free(x);
    sl_schema_free(y);
    sl_schema_free(z);
    sl_schema_free(a);
    sl_schema_free(b);
    sl_schema_free(c);
}

static void test_encode_in_order(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    const char *rec = "{\"id\":42,\"email\":\"a@example.com\",\"name\":\"Ann\","
                      "\"amount\":12.50,\"active\":true,"
                      "\"created_at\":\"2024-05-01T12:00:00Z\"}";
    CHECK(enc(s, rec) == SL_SCHEMA_OK);
    CHECK_STR(got, rec);
    /* whitespace goes, literals stay as written */
    CHECK(enc(s, " {\n \"id\" : -0 , \"email\":\"x\", \"name\" : null,"
                 "\"amount\": 1E+2 ,\"active\":false,\"created_at\":"
                 "\"2024-05-01t12:00:00.5z\" }\n") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":-0,\"email\":\"x\",\"name\":null,\"amount\":1E+2,"
                   "\"active\":false,\"created_at\":\"2024-05-01t12:00:00.5z\"}");
    sl_schema_free(s);
}

static void test_encode_out_of_order(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    CHECK(enc(s, "{\"created_at\":\"2024-05-01T12:00:00+05:30\",\"active\":true,"
                 "\"email\":\"b@x.org\",\"id\":7}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":7,\"email\":\"b@x.org\",\"name\":null,\"amount\":null,"
                   "\"active\":true,\"created_at\":\"2024-05-01T12:00:00+05:30\"}");
    sl_schema_free(s);

    /* more than 16 fields: misplaced keys go through the hash */
    s = sl_schema_new(SL_UNKNOWN_REJECT);
    char err[64], name[16], doc[2048], want[2048];
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof name, "k%02d", i);
        sl_schema_add(s, name, SL_TYPE_INTEGER, false, err, sizeof err);
    }
    size_t d = 0, w = 0;
    for (int i = 39; i >= 0; i--)
        d += (size_t)snprintf(doc + d, sizeof doc - d, "%c\"k%02d\":%d",
                              i == 39 ? '{' : ',', i, i);
    snprintf(doc + d, sizeof doc - d, "}");
    for (int i = 0; i < 40; i++)
        w += (size_t)snprintf(want + w, sizeof want - w, "%c\"k%02d\":%d",
                              i == 0 ? '{' : ',', i, i);
    snprintf(want + w, sizeof want - w, "}");
    CHECK(enc(s, doc) == SL_SCHEMA_OK);
    CHECK_STR(got, want);
    CHECK(enc(s, "{\"k05\":1,\"k40\":2}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "k40");
    CHECK(enc(s, "{\"k05\":1,\"k31\":2,\"k05\":3}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "k05");
    CHECK_STR(gerr.msg, "duplicate field");
    sl_schema_free(s);
}

static void test_strings_verbatim(void)
{
    sl_schema *s = one_field(SL_TYPE_STRING, false);
    const char *doc = "{\"v\":\"a\\\"b\\u00e9\\n\\uD83D\\uDE00\xC3\xA9\\/\"}";
    CHECK(enc(s, doc) == SL_SCHEMA_OK);
    CHECK_STR(got, doc);
    CHECK(enc(s, "{\"v\":\"\"}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"v\":\"\"}");
    sl_schema_free(s);
}

static void test_escaped_keys(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    CHECK(enc(s, "{\"\\u0069d\":1,\"em\\u0061il\":\"e\",\"active\":true,"
                 "\"created\\u005fat\":\"2024-01-01T00:00:00Z\"}") ==
          SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":1,\"email\":\"e\",\"name\":null,\"amount\":null,"
                   "\"active\":true,\"created_at\":\"2024-01-01T00:00:00Z\"}");
    /* an unknown escaped key is reported decoded */
    CHECK(enc(s, "{\"id\":1,\"n\\u00e9\":2}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "n\xC3\xA9");
    CHECK_STR(gerr.msg, "unknown field (not in the schema)");
    /* escaped keys meet duplicates too */
    CHECK(enc(s, "{\"id\":1,\"\\u0069d\":2}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "id");
    CHECK_STR(gerr.msg, "duplicate field");
    sl_schema_free(s);
}

static void test_nullability(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    char err[64];
    sl_schema_add(s, "req", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema_add(s, "opt", SL_TYPE_INTEGER, true, err, sizeof err);
    CHECK(enc(s, "{\"req\":\"r\"}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"req\":\"r\",\"opt\":null}");
    CHECK(enc(s, "{\"req\":\"r\",\"opt\":null}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"req\":\"r\",\"opt\":null}");
    CHECK(enc(s, "{\"opt\":3}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "req");
    CHECK_STR(gerr.msg, "required field is missing");
    CHECK(enc(s, "{\"req\":null,\"opt\":3}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "req");
    CHECK_STR(gerr.msg, "null is not allowed");
    CHECK(enc(s, "{}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "required field is missing");
    sl_schema_free(s);

    s = sl_schema_new(SL_UNKNOWN_DROP); /* no fields at all */
    CHECK(enc(s, "{}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{}");
    CHECK(enc(s, "{\"a\":[1]}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{}");
    sl_schema_free(s);
}

static void test_unknown_and_duplicate(void)
{
    const char *doc = "{\"id\":1,\"x\":{\"y\":[1,{\"z\":\"}\"}]},\"email\":\"e\","
                      "\"active\":false,\"created_at\":\"2024-01-01T00:00:00Z\","
                      "\"more\":[[],{}]}";
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    CHECK(enc(s, doc) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "x");
    CHECK_STR(gerr.msg, "unknown field (not in the schema)");
    CHECK(enc(s, "{\"id\":1,\"id\":2}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "id");
    CHECK_STR(gerr.msg, "duplicate field");
    sl_schema_free(s);

    s = contact_schema(SL_UNKNOWN_DROP);
    CHECK(enc(s, doc) == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":1,\"email\":\"e\",\"name\":null,\"amount\":null,"
                   "\"active\":false,\"created_at\":\"2024-01-01T00:00:00Z\"}");
    CHECK(enc(s, "{\"id\":1,\"x\":{\"y\":}") == SL_SCHEMA_SYNTAX);
    sl_schema_free(s);
}

static void test_record_not_object(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    CHECK(enc(s, "[1,{\"a\":2}]") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "");
    CHECK_STR(gerr.msg, "record must be a JSON object, got array");
    CHECK(enc(s, "5") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "record must be a JSON object, got number");
    CHECK(enc(s, "\"x\"") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "record must be a JSON object, got string");
    CHECK(enc(s, "null") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "record must be a JSON object, got null");
    sl_schema_free(s);
}

static void test_type_mismatch(void)
{
    BAD(SL_TYPE_STRING, "5", "expected string, got number");
    BAD(SL_TYPE_STRING, "{\"a\":[1]}", "expected string, got object");
    BAD(SL_TYPE_STRING, "[]", "expected string, got array");
    BAD(SL_TYPE_STRING, "true", "expected string, got boolean");
    BAD(SL_TYPE_INTEGER, "\"5\"", "expected integer, got string");
    BAD(SL_TYPE_NUMBER, "\"1.5\"", "expected number, got string");
    BAD(SL_TYPE_NUMBER, "false", "expected number, got boolean");
    BAD(SL_TYPE_BOOLEAN, "\"true\"", "expected boolean, got string");
    BAD(SL_TYPE_BOOLEAN, "1", "expected boolean, got number");
    BAD(SL_TYPE_DATE, "20240101", "expected date, got number");
    BAD(SL_TYPE_DATETIME, "[\"2024-01-01T00:00:00Z\"]",
        "expected datetime, got array");
    BAD(SL_TYPE_STRING, "null", "null is not allowed");
}

static void test_integer(void)
{
    OK(SL_TYPE_INTEGER, "0");
    OK(SL_TYPE_INTEGER, "-0");
    OK(SL_TYPE_INTEGER, "9223372036854775807");
    OK(SL_TYPE_INTEGER, "-9223372036854775808");
    OK(SL_TYPE_INTEGER, "1000000000000000000");
    BAD(SL_TYPE_INTEGER, "9223372036854775808", "integer out of range (64-bit)");
    BAD(SL_TYPE_INTEGER, "-9223372036854775809", "integer out of range (64-bit)");
    BAD(SL_TYPE_INTEGER, "10000000000000000000", "integer out of range (64-bit)");
    BAD(SL_TYPE_INTEGER, "1.5", "expected integer, got number 1.5");
    BAD(SL_TYPE_INTEGER, "1e3", "expected integer, got number 1e3");
    BAD(SL_TYPE_INTEGER, "1.0", "expected integer, got number 1.0");
    BAD(SL_TYPE_INTEGER, "0.12345678901234567890123456789012345",
        "expected integer, got number 0.123456789012345678901234567890...");
}

static void test_number(void)
{
    OK(SL_TYPE_NUMBER, "0");
    OK(SL_TYPE_NUMBER, "-12.5");
    OK(SL_TYPE_NUMBER, "1e308");
    OK(SL_TYPE_NUMBER, "1.7976931348623157e308");
    OK(SL_TYPE_NUMBER, "1e-400"); /* underflows to 0: finite */
    OK(SL_TYPE_NUMBER, "99999999999999999999999999");
    BAD(SL_TYPE_NUMBER, "1e400", "number out of range");
    BAD(SL_TYPE_NUMBER, "-1e400", "number out of range");
    BAD(SL_TYPE_NUMBER, "1.8e308", "number out of range");
    char lit[420];
    memset(lit, '9', 400); /* 400 digits, no exponent: 1e400 */
    lit[400] = '\0';
    BAD(SL_TYPE_NUMBER, lit, "number out of range");
    lit[0] = '0';
    lit[1] = '.'; /* 0.999...: long but small */
    OK(SL_TYPE_NUMBER, lit);
}

static void test_boolean(void)
{
    OK(SL_TYPE_BOOLEAN, "true");
    OK(SL_TYPE_BOOLEAN, "false");
    BAD(SL_TYPE_BOOLEAN, "0", "expected boolean, got number");
}

static void test_date(void)
{
    OK(SL_TYPE_DATE, "\"2024-02-29\"");
    OK(SL_TYPE_DATE, "\"2000-02-29\"");
    OK(SL_TYPE_DATE, "\"0000-01-01\"");
    OK(SL_TYPE_DATE, "\"9999-12-31\"");
    OK(SL_TYPE_DATE, "\"2024-04-30\"");
    OK(SL_TYPE_DATE, "\"\\u0032024-01-01\""); /* escape spells a digit */
    BAD(SL_TYPE_DATE, "\"2024-02-30\"",
        "invalid date \"2024-02-30\": day out of range for month");
    BAD(SL_TYPE_DATE, "\"2023-02-29\"",
        "invalid date \"2023-02-29\": day out of range for month");
    BAD(SL_TYPE_DATE, "\"1900-02-29\"",
        "invalid date \"1900-02-29\": day out of range for month");
    BAD(SL_TYPE_DATE, "\"2024-04-31\"",
        "invalid date \"2024-04-31\": day out of range for month");
    BAD(SL_TYPE_DATE, "\"2024-01-00\"",
        "invalid date \"2024-01-00\": day out of range for month");
    BAD(SL_TYPE_DATE, "\"2024-13-01\"",
        "invalid date \"2024-13-01\": month out of range");
    BAD(SL_TYPE_DATE, "\"2024-00-10\"",
        "invalid date \"2024-00-10\": month out of range");
    BAD(SL_TYPE_DATE, "\"2024-1-01\"",
        "invalid date \"2024-1-01\" (expected YYYY-MM-DD)");
    BAD(SL_TYPE_DATE, "\"2024-01-01T00:00:00Z\"",
        "invalid date \"2024-01-01T00:00:00Z\" (expected YYYY-MM-DD)");
    BAD(SL_TYPE_DATE, "\"\"", "invalid date \"\" (expected YYYY-MM-DD)");
    BAD(SL_TYPE_DATE, "\"2024\\n01-01\"",
        "invalid date \"2024\\n01-01\" (expected YYYY-MM-DD)");
    BAD(SL_TYPE_DATE, "\"12345678901234567890123456789012345678901234567890\"",
        "invalid date \"1234567890123456789012345678901234567890...\" "
        "(expected YYYY-MM-DD)");
}

static void test_datetime(void)
{
    OK(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00Z\"");
    OK(SL_TYPE_DATETIME, "\"2024-05-01t12:00:00z\"");
    OK(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00+05:30\"");
    OK(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00-00:00\"");
    OK(SL_TYPE_DATETIME, "\"2024-05-01T23:59:59.123456789-23:59\"");
    OK(SL_TYPE_DATETIME, "\"2016-12-31T23:59:60Z\""); /* leap second */
    OK(SL_TYPE_DATETIME, "\"2024-02-29T00:00:00.1Z\"");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00\"",
        "invalid datetime \"2024-05-01T12:00:00\": missing timezone offset "
        "(Z or \xC2\xB1HH:MM)");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00.5\"",
        "invalid datetime \"2024-05-01T12:00:00.5\": missing timezone offset "
        "(Z or \xC2\xB1HH:MM)");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T24:00:00Z\"",
        "invalid datetime \"2024-05-01T24:00:00Z\": hour out of range");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T23:60:00Z\"",
        "invalid datetime \"2024-05-01T23:60:00Z\": minute out of range");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T23:59:61Z\"",
        "invalid datetime \"2024-05-01T23:59:61Z\": second out of range");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00.1234567890Z\"",
        "invalid datetime \"2024-05-01T12:00:00.1234567890Z\": fraction of a "
        "second must have 1 to 9 digits");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00.Z\"",
        "invalid datetime \"2024-05-01T12:00:00.Z\": fraction of a second "
        "must have 1 to 9 digits");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00+24:00\"",
        "invalid datetime \"2024-05-01T12:00:00+24:00\": offset hour out of "
        "range");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00+05:60\"",
        "invalid datetime \"2024-05-01T12:00:00+05:60\": offset minute out of "
        "range");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00+0530\"",
        "invalid datetime \"2024-05-01T12:00:00+0530\": invalid timezone "
        "offset (expected Z or \xC2\xB1HH:MM)");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00 Z\"",
        "invalid datetime \"2024-05-01T12:00:00 Z\": invalid timezone offset "
        "(expected Z or \xC2\xB1HH:MM)");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T12:00:00Zx\"",
        "invalid datetime \"2024-05-01T12:00:00Zx\": unexpected characters "
        "after the timezone offset");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01 12:00:00Z\"",
        "invalid datetime \"2024-05-01 12:00:00Z\": expected 'T' between "
        "date and time");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01T1:00:00Z\"",
        "invalid datetime \"2024-05-01T1:00:00Z\": expected time as HH:MM:SS");
    BAD(SL_TYPE_DATETIME, "\"2024-02-30T00:00:00Z\"",
        "invalid datetime \"2024-02-30T00:00:00Z\": day out of range for "
        "month");
    BAD(SL_TYPE_DATETIME, "\"2024-05-01\"",
        "invalid datetime \"2024-05-01\": missing time (expected "
        "YYYY-MM-DDTHH:MM:SS)");
    BAD(SL_TYPE_DATETIME, "\"yesterday\"",
        "invalid datetime \"yesterday\": expected YYYY-MM-DDTHH:MM:SS with Z "
        "or \xC2\xB1HH:MM");
}

/* Records in an array, as the intake drives them: a bad one in the middle
 * is reported and skipped, the ones after it still encode. */
static void test_array_of_records(void)
{
    const char doc[] =
        "[{\"id\":1,\"email\":\"a\",\"active\":true,"
        "\"created_at\":\"2024-01-01T00:00:00Z\"},"
        "{\"id\":\"two\",\"x\":{\"deep\":[1,2,{\"y\":\"]}\"}]},\"email\":\"b\"},"
        "{\"id\":3,\"email\":\"c\",\"active\":false,"
        "\"created_at\":\"2024-01-03T00:00:00Z\"},"
        "7,"
        "{\"created_at\":\"2024-01-05T00:00:00Z\",\"active\":true,"
        "\"email\":\"e\",\"id\":5}]";
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_schema_error err;
    int idx = 0, rcs[8];
    sl_buf errs;
    sl_buf_init(&errs, 0);
    sl_buf_init(&out, 0);
    sl_json_init(&js, doc, sizeof doc - 1, 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    while (sl_json_next(&js, &t) != SL_JSON_ARRAY_END && idx < 8) {
        rcs[idx] = sl_schema_encode(s, &js, &t, &out, &err);
        if (rcs[idx] == SL_SCHEMA_OK)
            sl_buf_putc(&out, '\n');
        else
            sl_buf_printf(&errs, "%d %s: %s\n", idx, err.field, err.msg);
        idx++;
    }
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    CHECK(idx == 5);
    CHECK(rcs[0] == SL_SCHEMA_OK && rcs[1] == SL_SCHEMA_INVALID &&
          rcs[2] == SL_SCHEMA_OK && rcs[3] == SL_SCHEMA_INVALID &&
          rcs[4] == SL_SCHEMA_OK);
    CHECK_STR(sl_buf_cstr(&errs), "1 id: expected integer, got string\n"
                    "3 : record must be a JSON object, got number\n");
    CHECK_STR(sl_buf_cstr(&out),
              "{\"id\":1,\"email\":\"a\",\"name\":null,\"amount\":null,"
              "\"active\":true,\"created_at\":\"2024-01-01T00:00:00Z\"}\n"
              "{\"id\":3,\"email\":\"c\",\"name\":null,\"amount\":null,"
              "\"active\":false,\"created_at\":\"2024-01-03T00:00:00Z\"}\n"
              "{\"id\":5,\"email\":\"e\",\"name\":null,\"amount\":null,"
              "\"active\":true,\"created_at\":\"2024-01-05T00:00:00Z\"}\n");
    sl_buf_free(&errs);
    sl_buf_free(&out);
    sl_schema_free(s);
}

static void test_output_cap(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_REJECT);
    const char *rec = "{\"id\":42,\"email\":\"a@example.com\",\"name\":\"Ann\","
                      "\"amount\":12.5,\"active\":true,"
                      "\"created_at\":\"2024-05-01T12:00:00Z\"}";
    size_t n = strlen(rec);
    sl_json js;
    sl_json_token t;
    sl_schema_error err;
    sl_buf out;
    sl_buf_init(&out, n + 2); /* "ab" + the record fits; one byte less not */
    sl_buf_append(&out, "ab", 2);
    sl_json_init(&js, rec, n - 1, 0); /* cut: malformed */
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_SYNTAX);
    CHECK_CONTAINS(err.msg, "malformed JSON at byte");
    CHECK(out.len == 2);
    sl_json_init(&js, "{\"id\":\"x\"}", 10, 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_INVALID);
    CHECK(out.len == 2);
    sl_json_init(&js, rec, n, 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_OK);
    CHECK(out.len == n + 2 && memcmp(out.data, "ab", 2) == 0 &&
          memcmp(out.data + 2, rec, n) == 0);
    out.max = n + 1; /* "ab" + record is one byte over */
    out.len = 2;
    sl_json_init(&js, rec, n, 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_NOMEM);
    CHECK(out.len == 2 && memcmp(out.data, "ab", 2) == 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END); /* record was consumed */
    sl_buf_free(&out);
    sl_schema_free(s);
}

static void test_hostile(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_DROP);
    size_t n = 10000;
    char *doc = malloc(n + 64);
    /* 10,000 '[' as a record and as a value: an error, not a crash */
    memset(doc, '[', n);
    doc[n] = '\0';
    CHECK(enc(s, doc) == SL_SCHEMA_SYNTAX);
    CHECK_CONTAINS(gerr.msg, "nesting deeper than the depth limit");
    memcpy(doc, "{\"x\":", 5);
    CHECK(enc(s, doc) == SL_SCHEMA_SYNTAX);
    memcpy(doc, "{\"id\":", 6);
    CHECK(enc(s, doc) == SL_SCHEMA_SYNTAX);
    free(doc);

    /* without limits, a 1 MB string value is copied whole */
    sl_schema_set_limits(s, &(sl_schema_limits){0});
    size_t big = 1 << 20;
    const char *tail = "\",\"active\":true,\"created_at\":\"2024-01-01T00:00:00Z\"}";
    doc = malloc(big + 128);
    size_t k = (size_t)sprintf(doc, "{\"id\":1,\"email\":\"");
    memset(doc + k, 'm', big);
    strcpy(doc + k + big, tail);
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_schema_error err;
    sl_buf_init(&out, 0);
    sl_json_init(&js, doc, strlen(doc), 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_OK);
    CHECK(out.len == strlen(doc) + strlen(",\"name\":null,\"amount\":null"));
    doc[k + big / 2] = '\x01';
    sl_buf_reset(&out);
    sl_json_init(&js, doc, strlen(doc), 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &err) == SL_SCHEMA_SYNTAX);
    CHECK(js.err_off == k + big / 2);
    CHECK(out.len == 0);
    sl_buf_free(&out);
    free(doc);
    sl_schema_free(s);
}

/* Every accepted output must itself be a valid record that encodes to the
 * same bytes. */
static void check_roundtrip(const sl_schema *s, const char *p, size_t n)
{
    sl_json js;
    sl_json_token t;
    sl_buf again;
    sl_schema_error err;
    sl_buf_init(&again, 0);
    sl_json_init(&js, p, n, 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &again, &err) == SL_SCHEMA_OK);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    CHECK(again.len == n && memcmp(again.data, p, n) == 0);
    sl_buf_free(&again);
}

/* Pseudo-random mutations of a valid batch: every record gets OK, INVALID
 * or SYNTAX, nothing crashes (run under ASan), OK output round-trips. */
/* record_bytes, string_bytes and fields: each rejects the record with a
 * message naming the limit, leaves the scanner after the record, and is
 * exact at its boundary. */
static void test_limits(void)
{
    sl_schema *s = contact_schema(SL_UNKNOWN_DROP);
    const char *ok = "{\"id\":1,\"email\":\"abcdefgh\",\"active\":true,"
                     "\"created_at\":\"2024-01-01T00:00:00Z\"}";
    size_t n = strlen(ok);
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = n});
    CHECK(enc(s, ok) == SL_SCHEMA_OK);
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = n - 1});
    CHECK(enc(s, ok) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "");
    char want[128];
    snprintf(want, sizeof want, "record is %zu bytes, more than "
             "limits.record_bytes (%zu)", n, n - 1);
    CHECK_STR(gerr.msg, want);
    /* whitespace counts: it is what was received */
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = n});
    CHECK(enc(s, "{ \"id\":1,\"email\":\"abcdefgh\",\"active\":true,"
                 "\"created_at\":\"2024-01-01T00:00:00Z\"}") == SL_SCHEMA_INVALID);

    /* strings: between the quotes, as received */
    sl_schema_set_limits(s, &(sl_schema_limits){.string_bytes = 20});
    CHECK(enc(s, ok) == SL_SCHEMA_OK);
    CHECK(enc(s, "{\"id\":1,\"email\":\"abcdefghijklmnopqrstu\",\"active\":true,"
                 "\"created_at\":\"2024-01-01T00:00:00Z\"}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "email");
    CHECK_STR(gerr.msg, "string is 21 bytes, more than limits.string_bytes (20)");
    /* escapes count as written: 4 characters sent as 24 bytes */
    CHECK(enc(s, "{\"id\":1,\"email\":\"\\u00e9\\u00e9\\u00e9\\u00e9\","
                 "\"active\":true,\"created_at\":\"2024-01-01T00:00:00Z\"}") ==
          SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "string is 24 bytes, more than limits.string_bytes (20)");
    /* string fields only: a date-time (20 bytes) is bounded by its form */
    sl_schema_set_limits(s, &(sl_schema_limits){.string_bytes = 19});
    CHECK(enc(s, ok) == SL_SCHEMA_OK);
    CHECK(enc(s, "{\"id\":1,\"email\":\"a\",\"active\":true,\"created_at\":"
                 "\"2024-01-01T00:00:00.000000000000000000000000Z\"}") ==
          SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "created_at");
    CHECK_CONTAINS(gerr.msg, "invalid datetime");
    /* an unknown (dropped) member's string is bounded by record_bytes only */
    sl_schema_set_limits(s, &(sl_schema_limits){.string_bytes = 20});
    CHECK(enc(s, "{\"zz\":\"0123456789012345678901234567890\",\"id\":1,\"email\":\"a\","
                 "\"active\":true,\"created_at\":\"2024-01-01T00:00:00Z\"}") ==
          SL_SCHEMA_OK);

    /* members, unknown ones included */
    sl_schema_set_limits(s, &(sl_schema_limits){.fields = 4});
    CHECK(enc(s, ok) == SL_SCHEMA_OK);
    CHECK(enc(s, "{\"id\":1,\"email\":\"a\",\"zz\":[1,{\"a\":2}],\"active\":true,"
                 "\"created_at\":\"2024-01-01T00:00:00Z\"}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "");
    CHECK_STR(gerr.msg, "more than limits.fields (4) members");
    /* 100,000 members: rejected at the fifth, the scanner after the record */
    size_t many = 100000;
    char *doc = malloc(many * 12 + 16), *p = doc;
    *p++ = '{';
    for (size_t i = 0; i < many; i++)
        p += sprintf(p, "%s\"k%zu\":1", i ? "," : "", i);
    strcpy(p, "}");
    CHECK(enc(s, doc) == SL_SCHEMA_INVALID);
    free(doc);

    /* the defaults */
    sl_schema *d = contact_schema(SL_UNKNOWN_DROP);
    const sl_schema_limits *l = sl_schema_get_limits(d);
    CHECK(l->record_bytes == SL_SCHEMA_DEF_RECORD_BYTES &&
          l->string_bytes == SL_SCHEMA_DEF_STRING_BYTES &&
          l->fields == SL_SCHEMA_DEF_FIELDS);
    sl_schema_free(d);
    sl_schema_free(s);
}

static void test_mutations(void)
{
    const char base[] =
        "[{\"id\":1,\"email\":\"a\\u00e9@x.org\",\"name\":\"\xC3\xA9l\\\"o\","
        "\"amount\":-1.5e3,\"active\":true,"
        "\"created_at\":\"2024-02-29T23:59:60.5+05:30\"},"
        "{\"created_at\":\"2024-01-01T00:00:00Z\",\"active\":false,"
        "\"email\":\"b\",\"id\":-9223372036854775808,\"amount\":null},"
        "{\"id\":3,\"email\":\"c\",\"zz\":{\"q\":[1,2]},\"active\":true,"
        "\"created_at\":\"2024-01-01T00:00:00z\"}]";
    sl_schema *schemas[2] = {contact_schema(SL_UNKNOWN_REJECT),
                             contact_schema(SL_UNKNOWN_DROP)};
    char doc[sizeof base + 8];
    uint32_t r = 2463534242u;
    int counts[4] = {0, 0, 0, 0};
    sl_buf out;
    sl_buf_init(&out, 0);
    for (int it = 0; it < 6000; it++) {
        const sl_schema *s = schemas[it & 1];
        size_t len = sizeof base - 1;
        memcpy(doc, base, len);
        for (int m = 0; m < 1 + (it >> 1) % 3 && len > 0; m++) {
            r ^= r << 13, r ^= r >> 17, r ^= r << 5;
            size_t at = r % len;
            unsigned char c = (unsigned char)(r >> 24);
            switch ((r >> 20) % 4) {
            case 0: doc[at] = (char)c; break;
            case 1: doc[at] = "[]{}\",:\\u0-9e.tn \x80\xED"[c % 20]; break;
            case 2: memmove(doc + at, doc + at + 1, len - at - 1); len--; break;
            default: len = at + (len - at) / 2; /* truncate */
            }
        }
        char *p = malloc(len ? len : 1); /* exact size for ASan */
        memcpy(p, doc, len);
        sl_json js;
        sl_json_token t;
        sl_schema_error err;
        sl_json_init(&js, p, len, 0);
        if (sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN) {
            while (sl_json_next(&js, &t) != SL_JSON_ARRAY_END) {
                size_t before = out.len;
                sl_schema_rc rc = sl_schema_encode(s, &js, &t, &out, &err);
                CHECK(rc == SL_SCHEMA_OK || rc == SL_SCHEMA_INVALID ||
                      rc == SL_SCHEMA_SYNTAX);
                counts[rc]++;
                if (rc == SL_SCHEMA_OK)
                    check_roundtrip(s, out.data + before, out.len - before);
                else
                    CHECK(out.len == before && err.msg[0] != '\0');
                if (rc == SL_SCHEMA_SYNTAX) {
                    CHECK(js.err != NULL && js.err_off <= len);
                    break;
                }
            }
        }
        sl_buf_reset(&out);
        free(p);
    }
    CHECK(counts[SL_SCHEMA_OK] > 1000 && counts[SL_SCHEMA_INVALID] > 500 &&
          counts[SL_SCHEMA_SYNTAX] > 500);
    sl_buf_free(&out);
    sl_schema_free(schemas[0]);
    sl_schema_free(schemas[1]);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"type_names", test_type_names},
        {"add_rules", test_add_rules},
        {"fingerprint", test_fingerprint},
        {"encode_in_order", test_encode_in_order},
        {"encode_out_of_order", test_encode_out_of_order},
        {"strings_verbatim", test_strings_verbatim},
        {"escaped_keys", test_escaped_keys},
        {"nullability", test_nullability},
        {"unknown_and_duplicate", test_unknown_and_duplicate},
        {"record_not_object", test_record_not_object},
        {"type_mismatch", test_type_mismatch},
        {"integer", test_integer},
        {"number", test_number},
        {"boolean", test_boolean},
        {"date", test_date},
        {"datetime", test_datetime},
        {"array_of_records", test_array_of_records},
        {"output_cap", test_output_cap},
        {"hostile", test_hostile},
        {"limits", test_limits},
        {"mutations", test_mutations},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
