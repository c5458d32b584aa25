/* Unit tests for sl_openapi and sl_openapi_schema: the JSON Schema of
 * every field type and option (nullability, enum with null, bounds,
 * lengths, nested objects and arrays, the unknown-member policy, the
 * limits), the document's parts (paths, bodies, answers, security, the
 * transform case), hostile names escaped and mapped, the order by name,
 * and a full output buffer leaving nothing behind. Every document must
 * be well-formed JSON (sl_json reads it to its end). */
#include <stdint.h>
#include <stdlib.h>

#include "sl_config.h"
#include "sl_fieldtpl.h"
#include "sl_openapi.h"
#include "sl_openapi_schema.h"
#include "sl_schema.h"
#include "sl_test.h"
#include "sl_version.h"

static char got[65536];

/* Whether p[0..n) is one well-formed JSON document. */
static bool well_formed(const char *p, size_t n)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, p, n, 0);
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_END)
            return true;
        if (ty == SL_JSON_ERROR)
            return false;
    }
}

static void record_of(const sl_schema *s, int depth)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_openapi_schema_record(s, depth, &b) == 0);
    snprintf(got, sizeof got, "%.*s", (int)b.len, b.data ? b.data : "");
    CHECK(well_formed(b.data, b.len));
    sl_buf_free(&b);
}

static void add(sl_schema *s, const char *name, sl_schema_type type,
                bool nullable, const sl_schema_rules *r)
{
    char err[160];
    CHECK(sl_schema_add(s, name, type, nullable, err, sizeof err) == 0);
    if (r)
        CHECK(sl_schema_set_rules(s, sl_schema_nfields(s) - 1, r, err,
                                  sizeof err) == 0);
}

static void test_scalar_types(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "s", SL_TYPE_STRING, false, NULL);
    add(s, "i", SL_TYPE_INTEGER, false, NULL);
    add(s, "n", SL_TYPE_NUMBER, false, NULL);
    add(s, "b", SL_TYPE_BOOLEAN, false, NULL);
    add(s, "d", SL_TYPE_DATE, false, NULL);
    add(s, "t", SL_TYPE_DATETIME, false, NULL);
    add(s, "j", SL_TYPE_JSON, false, NULL);
    record_of(s, 32);
    CHECK_CONTAINS(got, "{\"type\":\"object\",\"properties\":{"
                        "\"s\":{\"type\":\"string\"},"
                        "\"i\":{\"type\":\"integer\","
                        "\"minimum\":-9223372036854775808,"
                        "\"maximum\":9223372036854775807},"
                        "\"n\":{\"type\":\"number\"},"
                        "\"b\":{\"type\":\"boolean\"},"
                        "\"d\":{\"type\":\"string\",\"format\":\"date\"},"
                        "\"t\":{\"type\":\"string\",\"format\":\"date-time\"},"
                        "\"j\":{\"not\":{\"type\":\"null\"},");
    CHECK_CONTAINS(got, "\"required\":[\"s\",\"i\",\"n\",\"b\",\"d\",\"t\","
                        "\"j\"],\"additionalProperties\":false,"
                        "\"maxProperties\":1024,");
    CHECK_CONTAINS(got, "\"x-sluice-record-bytes\":1048576,"
                        "\"x-sluice-string-bytes\":262144,"
                        "\"x-sluice-max-depth\":32}");
    sl_schema_free(s);
}

static void test_nullable_and_drop(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_DROP);
    add(s, "s", SL_TYPE_STRING, true, NULL);
    add(s, "d", SL_TYPE_DATE, true, NULL);
    add(s, "j", SL_TYPE_JSON, true, NULL);
    sl_schema_limits lim = {.record_bytes = 0, .string_bytes = 0, .fields = 0};
    sl_schema_set_limits(s, &lim);
    record_of(s, 0);
    CHECK_CONTAINS(got, "\"s\":{\"type\":[\"string\",\"null\"]}");
    CHECK_CONTAINS(got, "\"d\":{\"type\":[\"string\",\"null\"],"
                        "\"format\":\"date\"}");
    CHECK_CONTAINS(got, "\"j\":{\"description\":\"any JSON value\"}");
    /* nothing required, unknown members allowed, no limits to state */
    CHECK(!strstr(got, "\"required\""));
    CHECK(!strstr(got, "additionalProperties"));
    CHECK(!strstr(got, "maxProperties"));
    CHECK(!strstr(got, "x-sluice"));
    sl_schema_free(s);
}

static void test_rules(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_text vals[] = {{"new", 3}, {"d\xc3\xa9j\xc3\xa0", 6},
                             {"q\"\\\n", 4}, {"nul\0x", 5}};
    sl_schema_rules r = {.enum_values = vals, .nenum = 4};
    add(s, "state", SL_TYPE_STRING, false, &r);
    add(s, "opt", SL_TYPE_STRING, true, &r);
    sl_schema_rules len = {.has_min_length = true, .min_length = 2,
                           .has_max_length = true, .max_length = 64};
    add(s, "name", SL_TYPE_STRING, false, &len);
    sl_schema_rules ib = {.has_min = true, .imin = -5, .has_max = true,
                          .imax = 9};
    add(s, "qty", SL_TYPE_INTEGER, false, &ib);
    sl_schema_rules lo = {.has_min = true, .imin = 1};
    add(s, "pos", SL_TYPE_INTEGER, false, &lo);
    sl_schema_rules nb = {.has_min = true, .nmin = 0.1, .has_max = true,
                          .nmax = 1e300};
    add(s, "price", SL_TYPE_NUMBER, false, &nb);
    record_of(s, 8);
    CHECK_CONTAINS(got, "\"state\":{\"type\":\"string\",\"enum\":[\"new\","
                        "\"d\xc3\xa9j\xc3\xa0\",\"q\\\"\\\\\\n\","
                        "\"nul\\u0000x\"]}");
    /* nullable: null is among the values (the enum is not checked on it) */
    CHECK_CONTAINS(got, "\"opt\":{\"type\":[\"string\",\"null\"],\"enum\":["
                        "\"new\",\"d\xc3\xa9j\xc3\xa0\",\"q\\\"\\\\\\n\","
                        "\"nul\\u0000x\",null]}");
    CHECK_CONTAINS(got, "\"name\":{\"type\":\"string\",\"minLength\":2,"
                        "\"maxLength\":64}");
    CHECK_CONTAINS(got, "\"qty\":{\"type\":\"integer\",\"minimum\":-5,"
                        "\"maximum\":9}");
    CHECK_CONTAINS(got, "\"pos\":{\"type\":\"integer\",\"minimum\":1,"
                        "\"maximum\":9223372036854775807}");
    CHECK_CONTAINS(got, "\"price\":{\"type\":\"number\","
                        "\"minimum\":0.10000000000000001,"
                        "\"maximum\":1.0000000000000001e+300}");
    CHECK_CONTAINS(got, "\"x-sluice-max-depth\":8");
    sl_schema_free(s);
}

/* An order: an object with an optional member, an array of objects with
 * an array of strings inside, an array of nullable integers. */
static sl_schema *order_schema(void)
{
    char err[160];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema *addr = sl_schema_new(SL_UNKNOWN_DROP);
    add(addr, "zip", SL_TYPE_STRING, false, NULL);
    add(addr, "country", SL_TYPE_STRING, true, NULL);
    sl_schema_value av = {.type = SL_TYPE_OBJECT, .fields = addr};
    CHECK(sl_schema_add_value(s, "address", &av, err, sizeof err) == 0);

    sl_schema *line = sl_schema_new(SL_UNKNOWN_REJECT);
    add(line, "sku", SL_TYPE_STRING, false, NULL);
    sl_schema_rules three = {.has_max_length = true, .max_length = 3};
    sl_schema_value tag = {.type = SL_TYPE_STRING, .rules = &three};
    sl_schema_value tags = {.type = SL_TYPE_ARRAY, .nullable = true,
                            .items = &tag};
    CHECK(sl_schema_add_value(line, "tags", &tags, err, sizeof err) == 0);
    sl_schema_value lv = {.type = SL_TYPE_OBJECT, .fields = line};
    sl_schema_value lines = {.type = SL_TYPE_ARRAY, .items = &lv,
                             .min_items = 1, .max_items = 100};
    CHECK(sl_schema_add_value(s, "lines", &lines, err, sizeof err) == 0);

    sl_schema_value ni = {.type = SL_TYPE_INTEGER, .nullable = true};
    sl_schema_value nums = {.type = SL_TYPE_ARRAY, .items = &ni};
    CHECK(sl_schema_add_value(s, "nums", &nums, err, sizeof err) == 0);
    sl_schema_value empty = {.type = SL_TYPE_OBJECT,
                             .fields = sl_schema_new(SL_UNKNOWN_REJECT)};
    CHECK(sl_schema_add_value(s, "none", &empty, err, sizeof err) == 0);
    return s;
}

static void test_nested(void)
{
    sl_schema *s = order_schema();
    record_of(s, 32);
    CHECK_CONTAINS(got, "\"address\":{\"type\":\"object\",\"properties\":{"
                        "\"zip\":{\"type\":\"string\"},"
                        "\"country\":{\"type\":[\"string\",\"null\"]}},"
                        "\"required\":[\"zip\"],\"maxProperties\":1024}");
    CHECK_CONTAINS(got, "\"lines\":{\"type\":\"array\",\"items\":{"
                        "\"type\":\"object\",\"properties\":{"
                        "\"sku\":{\"type\":\"string\"},"
                        "\"tags\":{\"type\":[\"array\",\"null\"],\"items\":{"
                        "\"type\":\"string\",\"maxLength\":3}}},"
                        "\"required\":[\"sku\"],"
                        "\"additionalProperties\":false,"
                        "\"maxProperties\":1024},"
                        "\"minItems\":1,\"maxItems\":100}");
    CHECK_CONTAINS(got, "\"nums\":{\"type\":\"array\",\"items\":{\"type\":"
                        "[\"integer\",\"null\"],\"minimum\":");
    CHECK_CONTAINS(got, "\"none\":{\"type\":\"object\",\"properties\":{},"
                        "\"additionalProperties\":false,"
                        "\"maxProperties\":1024}");
    CHECK_CONTAINS(got, "\"required\":[\"address\",\"lines\",\"nums\","
                        "\"none\"],\"additionalProperties\":false");
    sl_schema_free(s);
}

static void test_hostile_field_names(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    /* sl_schema refuses names that need escaping; these do not, and
     * must still come out as they are, inside JSON strings */
    add(s, "$ref", SL_TYPE_STRING, false, NULL);
    add(s, "</script>", SL_TYPE_STRING, false, NULL);
    add(s, "a/b~c", SL_TYPE_STRING, false, NULL);
    add(s, "\xe2\x82\xac uro", SL_TYPE_STRING, false, NULL);
    record_of(s, 0);
    CHECK_CONTAINS(got, "\"$ref\":{\"type\":\"string\"},\"</script>\":{"
                        "\"type\":\"string\"},\"a/b~c\":{\"type\":\"string\"},"
                        "\"\xe2\x82\xac uro\":{");
    sl_schema_free(s);
}

static void test_full_buffer(void)
{
    sl_schema *s = order_schema();
    for (size_t cap = 1; cap < 1200; cap += 37) {
        sl_buf b;
        sl_buf_init(&b, cap);
        CHECK(sl_buf_append(&b, "x", 1) == 0);
        CHECK(sl_openapi_schema_record(s, 32, &b) == -1);
        CHECK(b.len == 1);
        sl_buf_free(&b);
    }
    sl_schema_free(s);
}

/* A connector as sl_config_load leaves one, with what the document uses. */
static sl_connector_conf conf_of(const char *name, sl_schema *s)
{
    return (sl_connector_conf){.name = (char *)name, .schema = s,
                               .limit_records = 100000, .limit_depth = 32,
                               .transform_ref = -2};
}

static size_t doc_len;

static void document(const sl_openapi_intake *in,
                     const sl_connector_conf *const *cs, size_t n)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_openapi_write(in, cs, n, &b) == 0);
    doc_len = b.len;
    snprintf(got, sizeof got, "%.*s", (int)b.len, b.data ? b.data : "");
    CHECK(b.len < sizeof got);
    CHECK(well_formed(b.data, b.len));
    sl_buf_free(&b);
}

static void test_document(void)
{
    sl_schema *s1 = order_schema(), *s2 = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s2, "id", SL_TYPE_INTEGER, false, NULL);
    char *keys[] = {"k1"};
    sl_connector_conf zeta = conf_of("zeta", s1), alpha = conf_of("alpha", s2);
    alpha.intake_keys = keys;
    alpha.nintake_keys = 1;
    const sl_connector_conf *cs[] = {&zeta, &alpha};
    sl_openapi_intake in = {.host = "127.0.0.1", .port = 8080,
                            .max_body_bytes = 8388608,
                            .max_decompressed_bytes = 67108864};
    document(&in, cs, 2);
    CHECK(strncmp(got, "{\"openapi\":\"3.1.0\",\"jsonSchemaDialect\":"
                       "\"https://json-schema.org/draft/2020-12/schema\","
                       "\"info\":{\"title\":\"sluice intake\",\"version\":\""
                       SL_VERSION "\"", 120) == 0);
    CHECK_CONTAINS(got, "\"servers\":[{\"url\":\"http://127.0.0.1:8080\"");
    /* by name: alpha's path first, whatever the order given */
    const char *pa = strstr(got, "\"/v1/connectors/alpha/records\":{\"post\":");
    const char *pz = strstr(got, "\"/v1/connectors/zeta/records\":{\"post\":");
    CHECK(pa && pz && pa < pz);
    CHECK_CONTAINS(got, "\"operationId\":\"post_alpha_records\"");
    CHECK_CONTAINS(got, "\"application/json\":{\"schema\":{\"oneOf\":["
                        "{\"$ref\":"
                        "\"#/components/schemas/alpha_record\"},{\"type\":"
                        "\"array\",\"items\":{\"$ref\":\"#/components/schemas/"
                        "alpha_record\"},\"maxItems\":100000,");
    CHECK_CONTAINS(got, "\"application/x-ndjson\":{\"schema\":{\"type\":"
                        "\"string\",\"contentMediaType\":"
                        "\"application/x-ndjson\"");
    CHECK_CONTAINS(got, "\"x-sluice-line-schema\":\"#/components/schemas/"
                        "zeta_record\"");
    CHECK_CONTAINS(got, "\"application/jsonl\":{");
    CHECK_CONTAINS(got, "\"x-sluice-max-body-bytes\":8388608,"
                        "\"x-sluice-max-decompressed-bytes\":67108864");
    CHECK_CONTAINS(got, "\"parameters\":[{\"$ref\":\"#/components/parameters/"
                        "dry_run\"},{\"$ref\":\"#/components/parameters/"
                        "Content-Encoding\"}]");
    CHECK_CONTAINS(got, "\"dry_run\":{\"name\":\"dry_run\",\"in\":\"query\"");
    CHECK_CONTAINS(got, "\"Content-Encoding\":{\"name\":\"Content-Encoding\","
                        "\"in\":\"header\"");
    /* keys: alpha has them (401, security), zeta has not */
    const char *sec = strstr(got, "\"security\":[{\"intake_key\":[]}]");
    CHECK(sec && sec < pz && !strstr(sec + 1, "\"security\":[{"));
    const char *u = strstr(got, "\"401\":{\"$ref\":\"#/components/responses/"
                                "unauthorized\"}");
    CHECK(u && u < pz && !strstr(u + 1, "\"401\":{"));
    CHECK_CONTAINS(got, "\"securitySchemes\":{\"intake_key\":{\"type\":"
                        "\"http\",\"scheme\":\"bearer\"");
    static const char *const codes[] = {
        "\"200\":{\"$ref\":\"#/components/responses/accepted\"}",
        "\"400\":{\"$ref\":\"#/components/responses/malformed\"}",
        "\"404\":{\"$ref\":\"#/components/responses/unknown_connector\"}",
        "\"413\":{\"$ref\":\"#/components/responses/too_large\"}",
        "\"415\":{\"$ref\":\"#/components/responses/unsupported\"}",
        "\"422\":{\"$ref\":\"#/components/responses/rejected\"}",
        "\"500\":{\"$ref\":\"#/components/responses/internal\"}",
        "\"503\":{\"$ref\":\"#/components/responses/unavailable\"}"};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        CHECK_CONTAINS(pz, codes[i]);
    CHECK_CONTAINS(got, "\"Retry-After\":{\"description\":");
    CHECK_CONTAINS(got, "\"alpha_record\":{\"type\":\"object\"");
    CHECK_CONTAINS(got, "\"zeta_record\":{\"type\":\"object\"");
    CHECK_CONTAINS(got, "\"IngestAnswer\":{\"type\":\"object\",\"required\":"
                        "[\"accepted\",\"rejected\"]");
    sl_schema_free(s1);
    sl_schema_free(s2);
}

static void test_transform_and_tls(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "id", SL_TYPE_INTEGER, false, NULL);
    sl_connector_conf c = conf_of("tr", s);
    c.transform_ref = 3;
    const sl_connector_conf *cs[] = {&c};
    sl_openapi_intake in = {.host = "::1", .port = 9443, .tls = true};
    document(&in, cs, 1);
    CHECK_CONTAINS(got, "\"url\":\"https://[::1]:9443\"");
    CHECK_CONTAINS(got, "\"x-sluice-transform\":true,"
                        "\"x-sluice-output-schema\":\"#/components/schemas/"
                        "tr_record\"");
    /* the body is not the record schema */
    CHECK(!strstr(got, "\"oneOf\""));
    CHECK_CONTAINS(got, "\"tr_record\":{\"type\":\"object\"");
    /* no limits given: none stated */
    CHECK(!strstr(got, "max-body-bytes"));
    sl_schema_free(s);
}

static void test_placeholders(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "id", SL_TYPE_STRING, false, NULL);
    sl_connector_conf plain = conf_of("plain", s), tpl = conf_of("tpl", s);
    char err[160];
    const char *url = "http://h/v1/users/{id}";
    CHECK(sl_fieldtpl_parse(url, SL_FIELDTPL_URL, 8, s, "the URL path",
                            &tpl.url_tpl, err, sizeof err) == 0);
    CHECK(tpl.url_tpl != NULL);
    const sl_connector_conf *cs[] = {&plain, &tpl};
    sl_openapi_intake in = {.host = "127.0.0.1", .port = 8080};
    document(&in, cs, 2);
    /* only tpl's operation says its values must fit the request */
    const char *x = strstr(got, "\"x-sluice-placeholders\":true");
    const char *pt = strstr(got, "\"/v1/connectors/tpl/records\"");
    CHECK(x && pt && x > pt &&
          !strstr(x + 1, "\"x-sluice-placeholders\""));
    sl_fieldtpl_free(tpl.url_tpl);
    sl_schema_free(s);
}

static void test_hostile_connector_name(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    add(s, "id", SL_TYPE_INTEGER, false, NULL);
    /* sl_config allows [A-Za-z_][A-Za-z0-9_-]*; the writer must not rely
     * on it */
    sl_connector_conf c = conf_of("a\"b/c d\\\xc3\xa9\n~", s);
    const sl_connector_conf *cs[] = {&c};
    sl_openapi_intake in = {.host = "0.0.0.0", .port = 80};
    document(&in, cs, 1);
    CHECK_CONTAINS(got,
                   "\"/v1/connectors/a%22b%2Fc%20d%5C%C3%A9%0A~/records\"");
    /* '"', '/', ' ', '\\', the two bytes of e-acute, '\n', '~': '_' */
    CHECK_CONTAINS(got, ",\"a_b_c_d______record\":{");
    CHECK_CONTAINS(got, "\"#/components/schemas/a_b_c_d______record\"");
    CHECK_CONTAINS(got, "\"operationId\":\"post_a_b_c_d______records\"");
    CHECK_CONTAINS(got, "\"summary\":\"Send records to connector "
                        "a\\\"b/c d\\\\\xc3\xa9\\n~\"");
    sl_schema_free(s);
}

static void test_no_connectors_and_full_buffer(void)
{
    sl_openapi_intake in = {.host = "127.0.0.1", .port = 8080};
    document(&in, NULL, 0);
    CHECK_CONTAINS(got, "\"paths\":{}");
    size_t whole = doc_len;
    sl_schema *s = order_schema();
    sl_connector_conf c = conf_of("orders", s);
    const sl_connector_conf *cs[] = {&c};
    document(&in, cs, 1);
    whole = doc_len;
    for (size_t cap = 1; cap < whole + 1; cap += whole / 40 + 1) {
        sl_buf b;
        sl_buf_init(&b, cap);
        CHECK(sl_openapi_write(&in, cs, 1, &b) == -1);
        CHECK(b.len == 0);
        sl_buf_free(&b);
    }
    sl_buf b;
    sl_buf_init(&b, whole + 1);
    CHECK(sl_openapi_write(&in, cs, 1, &b) == 0);
    sl_buf_free(&b);
    sl_schema_free(s);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"scalar_types", test_scalar_types},
        {"nullable_and_drop", test_nullable_and_drop},
        {"rules", test_rules},
        {"nested", test_nested},
        {"hostile_field_names", test_hostile_field_names},
        {"full_buffer", test_full_buffer},
        {"document", test_document},
        {"transform_and_tls", test_transform_and_tls},
        {"placeholders", test_placeholders},
        {"hostile_connector_name", test_hostile_connector_name},
        {"no_connectors_and_full_buffer", test_no_connectors_and_full_buffer},
        {NULL, NULL}};
    return sl_test_run(cases);
}
