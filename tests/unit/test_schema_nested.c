/* Unit tests for the nested types of sl_schema (object, array, json): the
 * field list rules, encoding bytes in schema order at every level, paths in
 * rejections, item counts, unknown-field policies below the record, the
 * limits at every level, the fingerprint and hostile input. */
#include <stdint.h>
#include <stdlib.h>

#include "sl_schema.h"
#include "sl_test.h"

static char got[1 << 16];     /* last encoding (or "") */
static sl_schema_error gerr;  /* last error */

static sl_schema_rc enc_depth(const sl_schema *s, const char *doc, int depth)
{
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_buf_init(&out, 0);
    CHECK(sl_buf_append(&out, "PRE", 3) == 0);
    memset(&gerr, 0, sizeof gerr);
    sl_json_init(&js, doc, strlen(doc), depth);
    sl_json_next(&js, &t);
    sl_schema_rc rc = sl_schema_encode(s, &js, &t, &out, &gerr);
    if (rc == SL_SCHEMA_OK || rc == SL_SCHEMA_INVALID)
        CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    CHECK(out.len >= 3 && memcmp(out.data, "PRE", 3) == 0);
    if (rc != SL_SCHEMA_OK)
        CHECK(out.len == 3);
    snprintf(got, sizeof got, "%.*s", (int)out.len - 3, out.data + 3);
    sl_buf_free(&out);
    return rc;
}

static sl_schema_rc enc(const sl_schema *s, const char *doc)
{
    return enc_depth(s, doc, 0);
}

#define ADD(s, name, type, nullable) \
    CHECK(sl_schema_add(s, name, type, nullable, err, sizeof err) == 0)
#define ADDV(s, name, ...)                                                  \
    CHECK(sl_schema_add_value(s, name, &(sl_schema_value){__VA_ARGS__}, err, \
                              sizeof err) == 0)

/* The order of the documentation: an address object, a lines array of
 * objects with their own tags array, a json meta. */
static sl_schema *order_schema(sl_unknown_policy policy)
{
    char err[256];
    sl_schema *addr = sl_schema_new(policy);
    ADD(addr, "street", SL_TYPE_STRING, false);
    ADD(addr, "zip", SL_TYPE_STRING, false);
    ADD(addr, "city", SL_TYPE_STRING, true);
    sl_schema *line = sl_schema_new(policy);
    ADD(line, "sku", SL_TYPE_STRING, false);
    ADD(line, "qty", SL_TYPE_INTEGER, false);
    ADDV(line, "tags", .type = SL_TYPE_ARRAY, .nullable = true,
         .items = &(sl_schema_value){.type = SL_TYPE_STRING});
    sl_schema *s = sl_schema_new(policy);
    ADD(s, "id", SL_TYPE_INTEGER, false);
    ADDV(s, "address", .type = SL_TYPE_OBJECT, .fields = addr);
    ADDV(s, "lines", .type = SL_TYPE_ARRAY, .min_items = 1, .max_items = 3,
         .items = &(sl_schema_value){.type = SL_TYPE_OBJECT, .fields = line});
    ADDV(s, "meta", .type = SL_TYPE_JSON, .nullable = true);
    return s;
}

static void test_encode_order(void)
{
    sl_schema *s = order_schema(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_depth(s) == 3);
    /* shuffled keys at every level, whitespace everywhere */
    CHECK(enc(s, "{ \"meta\" : { \"b\" : [ 1 , 2.50 , \"x y\" , { } , [ ] ,"
                 " null ] , \"a\" : true } ,\n \"lines\" : [ { \"qty\" : 2 ,"
                 " \"sku\" : \"A-1\" } , {\"tags\":[\"red\", \"big\"],"
                 "\"sku\":\"B\\u00e9\",\"qty\":-1} ] , \"address\" : "
                 "{ \"zip\" : \"10115\" , \"street\" : \"Main St 1\" } ,"
                 " \"id\" : 7 }") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":7,\"address\":{\"street\":\"Main St 1\",\"zip\":"
                   "\"10115\",\"city\":null},\"lines\":[{\"sku\":\"A-1\","
                   "\"qty\":2,\"tags\":null},{\"sku\":\"B\\u00e9\",\"qty\":-1,"
                   "\"tags\":[\"red\",\"big\"]}],\"meta\":{\"b\":[1,2.50,"
                   "\"x y\",{},[],null],\"a\":true}}");
    /* already compact and in order: the same bytes */
    const char *same = "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\","
                       "\"city\":\"c\"},\"lines\":[{\"sku\":\"k\",\"qty\":1,"
                       "\"tags\":[]}],\"meta\":\"x\"}";
    CHECK(enc(s, same) == SL_SCHEMA_OK);
    CHECK_STR(got, same);
    /* missing nullable nested fields and null values */
    CHECK(enc(s, "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},"
                 "\"lines\":[{\"sku\":\"k\",\"qty\":1,\"tags\":null}]}") ==
          SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\","
                   "\"city\":null},\"lines\":[{\"sku\":\"k\",\"qty\":1,"
                   "\"tags\":null}],\"meta\":null}");
    sl_schema_free(s);
}

static void test_paths(void)
{
    sl_schema *s = order_schema(SL_UNKNOWN_REJECT);
    struct {
        const char *doc, *field, *msg;
    } cases[] = {
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":10115},\"lines\":[]}",
         "address.zip", "expected string, got number"},
        {"{\"id\":1,\"address\":{\"street\":\"s\"},\"lines\":[{}]}",
         "address.zip", "required field is missing"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\",\"x\":1}}",
         "address.x", "unknown field (not in the schema)"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\",\"\\u0078\":1}}",
         "address.x", "unknown field (not in the schema)"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"street\":\"t\"}}",
         "address.street", "duplicate field"},
        {"{\"id\":1,\"address\":null}", "address", "null is not allowed"},
        {"{\"id\":1,\"address\":[]}", "address", "expected object, got array"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":1},{\"sku\":\"c\","
         "\"qty\":1},{\"sku\":\"d\",\"qty\":\"1\"}]}",
         "lines", "4 items, more than max_items (3)"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[{\"sku\":\"a\",\"qty\":1},{\"sku\":\"b\",\"qty\":1},{\"qty\":1}]}",
         "lines[2].sku", "required field is missing"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[{\"sku\":\"a\",\"qty\":1.5}]}",
         "lines[0].qty", "expected integer, got number 1.5"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[{\"sku\":\"a\",\"qty\":1,\"tags\":[\"x\",null]}]}",
         "lines[0].tags[1]", "null is not allowed"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[{\"sku\":\"a\",\"qty\":1,\"tags\":{}}]}",
         "lines[0].tags", "expected array, got object"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":[]}",
         "lines", "0 items, fewer than min_items (1)"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"}}", "lines",
         "required field is missing"},
        {"{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},\"lines\":"
         "[7]}", "lines[0]", "expected object, got number"},
        /* the first problem in input order */
        {"{\"address\":{\"zip\":1},\"id\":\"x\"}", "address.zip",
         "expected string, got number"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_schema_rc rc = enc(s, cases[i].doc);
        if (rc != SL_SCHEMA_INVALID || strcmp(gerr.field, cases[i].field) ||
            strcmp(gerr.msg, cases[i].msg)) {
            fprintf(stderr, "case %zu: rc %d field \"%s\" msg \"%s\"\n", i,
                    (int)rc, gerr.field, gerr.msg);
            sl_test_failed_checks++;
        }
    }
    sl_schema_free(s);

    /* a.b.c at depth 3 */
    char err[256];
    sl_schema *b = sl_schema_new(SL_UNKNOWN_REJECT);
    ADD(b, "c", SL_TYPE_BOOLEAN, false);
    sl_schema *a = sl_schema_new(SL_UNKNOWN_REJECT);
    ADDV(a, "b", .type = SL_TYPE_OBJECT, .fields = b);
    sl_schema *r = sl_schema_new(SL_UNKNOWN_REJECT);
    ADDV(r, "a", .type = SL_TYPE_OBJECT, .fields = a);
    CHECK(enc(r, "{\"a\":{\"b\":{\"c\":\"yes\"}}}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "a.b.c");
    CHECK_STR(gerr.msg, "expected boolean, got string");
    CHECK(enc(r, "{\"a\":{\"b\":{\"c\":true}}}") == SL_SCHEMA_OK);
    sl_schema_free(r);
}

static void test_items_edges(void)
{
    char err[256];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    ADDV(s, "v", .type = SL_TYPE_ARRAY, .min_items = 2, .max_items = 3,
         .items = &(sl_schema_value){.type = SL_TYPE_INTEGER, .nullable = true});
    CHECK(enc(s, "{\"v\":[1]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "1 items, fewer than min_items (2)");
    CHECK_STR(gerr.field, "v");
    CHECK(enc(s, "{\"v\":[1, null]}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"v\":[1,null]}");
    CHECK(enc(s, "{\"v\":[1,2,3]}") == SL_SCHEMA_OK);
    CHECK(enc(s, "{\"v\":[1,2,3,4]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "4 items, more than max_items (3)");
    /* past max_items the items are only counted, not checked */
    CHECK(enc(s, "{\"v\":[1,2,3,\"x\",{\"y\":[]}]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "5 items, more than max_items (3)");
    /* but still scanned */
    CHECK(enc(s, "{\"v\":[1,2,3,{\"y\" []}]}") == SL_SCHEMA_SYNTAX);
    CHECK(enc(s, "{\"v\":null}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "null is not allowed");
    sl_schema_free(s);

    /* arrays of arrays; an empty array; a huge one */
    s = sl_schema_new(SL_UNKNOWN_DROP);
    ADDV(s, "m", .type = SL_TYPE_ARRAY,
         .items = &(sl_schema_value){
             .type = SL_TYPE_ARRAY, .max_items = 2,
             .items = &(sl_schema_value){.type = SL_TYPE_NUMBER}});
    CHECK(enc(s, "{\"m\":[ [1, 2], [], [3.5] ], \"x\": [1]}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"m\":[[1,2],[],[3.5]]}");
    CHECK(enc(s, "{\"m\":[[1],[1,2,3]]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "m[1]");
    CHECK(enc(s, "{\"m\":[[1],[1,\"2\"]]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "m[1][1]");
    CHECK(enc(s, "{\"m\":[]}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"m\":[]}");
    size_t n = 200000;
    char *big = malloc(n * 4 + 32), *w = big;
    w += sprintf(w, "{\"m\":[");
    for (size_t i = 0; i < n; i++)
        w += sprintf(w, "%s[]", i ? "," : "");
    strcpy(w, "]}");
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_json_init(&js, big, strlen(big), 0);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &gerr) == SL_SCHEMA_OK);
    CHECK(out.len == strlen(big) && memcmp(out.data, big, out.len) == 0);
    sl_buf_free(&out);
    free(big);
    sl_schema_free(s);
}

static void test_json_type(void)
{
    char err[256];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    ADD(s, "j", SL_TYPE_JSON, false);
    ADD(s, "k", SL_TYPE_STRING, true);
    const char *vals[][2] = {
        {"1", "1"}, {"-0.5e+10", "-0.5e+10"}, {"\"a\\n\\u00e9 b\"", "\"a\\n\\u00e9 b\""},
        {"true", "true"}, {"false", "false"}, {"[]", "[]"}, {"{}", "{}"},
        {"[ [ [ ] ] , { } ]", "[[[]],{}]"},
        {"{ \"z\" : 1 , \"a\" : [ null , \"x\" ] }", "{\"z\":1,\"a\":[null,\"x\"]}"},
        {"\t[\r\n1\n]\n", "[1]"},
    };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char doc[256], want[256];
        snprintf(doc, sizeof doc, "{\"j\": %s }", vals[i][0]);
        snprintf(want, sizeof want, "{\"j\":%s,\"k\":null}", vals[i][1]);
        CHECK(enc(s, doc) == SL_SCHEMA_OK);
        CHECK_STR(got, want);
    }
    CHECK(enc(s, "{\"j\":null}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "null is not allowed");
    CHECK(enc(s, "{\"k\":\"x\"}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "required field is missing");
    CHECK_STR(gerr.field, "j");
    CHECK(enc(s, "{\"j\":[1,}") == SL_SCHEMA_SYNTAX);
    CHECK(enc(s, "{\"j\":[1 2]}") == SL_SCHEMA_SYNTAX);
    /* limits.string_bytes holds inside json values, keys too */
    sl_schema_set_limits(s, &(sl_schema_limits){.string_bytes = 3});
    CHECK(enc(s, "{\"j\":[\"abc\",{\"abc\":1}]}") == SL_SCHEMA_OK);
    CHECK(enc(s, "{\"j\":[\"abc\",\"abcd\"]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.msg, "string is 4 bytes, more than limits.string_bytes (3)");
    CHECK_STR(gerr.field, "j");
    CHECK(enc(s, "{\"j\":{\"abcd\":1}}") == SL_SCHEMA_INVALID);
    /* the record's depth limit is the scanner's */
    CHECK(enc_depth(s, "{\"j\":[[[[1]]]]}", 5) == SL_SCHEMA_OK);
    CHECK(enc_depth(s, "{\"j\":[[[[[1]]]]]}", 5) == SL_SCHEMA_SYNTAX);
    sl_schema_free(s);
}

static void test_policies_and_limits(void)
{
    sl_schema *s = order_schema(SL_UNKNOWN_DROP);
    CHECK(enc(s, "{\"x\":{\"deep\":[1]},\"id\":1,\"address\":{\"street\":\"s\","
                 "\"y\":[1,{}],\"zip\":\"z\"},\"lines\":[{\"sku\":\"k\","
                 "\"qty\":1,\"z\":null}]}") == SL_SCHEMA_OK);
    CHECK_STR(got, "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\","
                   "\"city\":null},\"lines\":[{\"sku\":\"k\",\"qty\":1,"
                   "\"tags\":null}],\"meta\":null}");
    /* limits.fields: members of each object, unknown ones counted */
    sl_schema_set_limits(s, &(sl_schema_limits){.fields = 4});
    CHECK(enc(s, "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\",\"a\":1,"
                 "\"b\":2,\"c\":3},\"lines\":[{\"sku\":\"k\",\"qty\":1}]}") ==
          SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "address");
    CHECK_STR(gerr.msg, "more than limits.fields (4) members");
    /* limits.string_bytes: every string at every level */
    sl_schema_set_limits(s, &(sl_schema_limits){.string_bytes = 2});
    CHECK(enc(s, "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},"
                 "\"lines\":[{\"sku\":\"k\",\"qty\":1,\"tags\":[\"ab\","
                 "\"abc\"]}]}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "lines[0].tags[1]");
    CHECK_STR(gerr.msg, "string is 3 bytes, more than limits.string_bytes (2)");
    /* limits.record_bytes: the record as received */
    const char *rec = "{\"id\":1,\"address\":{\"street\":\"s\",\"zip\":\"z\"},"
                      "\"lines\":[{\"sku\":\"k\",\"qty\":1}]}";
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = strlen(rec)});
    CHECK(enc(s, rec) == SL_SCHEMA_OK);
    sl_schema_set_limits(s, &(sl_schema_limits){.record_bytes = strlen(rec) - 1});
    CHECK(enc(s, rec) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "");
    CHECK_CONTAINS(gerr.msg, "more than limits.record_bytes");
    sl_schema_free(s);
}

/* After a rejected or malformed record the next one follows. */
static void test_recovery_and_cap(void)
{
    sl_schema *s = order_schema(SL_UNKNOWN_REJECT);
    const char *doc = "[{\"id\":1,\"address\":{\"zip\":[1,{\"a\":[]}]},"
                      "\"lines\":[{\"sku\":[[]]}]},"
                      "{\"id\":2,\"address\":{\"street\":\"s\",\"zip\":\"z\"},"
                      "\"lines\":[{\"sku\":\"k\",\"qty\":1}]}]";
    sl_json js;
    sl_json_token t;
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_json_init(&js, doc, strlen(doc), 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    sl_json_next(&js, &t);
    CHECK(sl_schema_encode(s, &js, &t, &out, &gerr) == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "address.zip");
    CHECK(out.len == 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_OBJECT_BEGIN);
    CHECK(sl_schema_encode(s, &js, &t, &out, &gerr) == SL_SCHEMA_OK);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_END);
    size_t full = out.len;
    sl_buf_free(&out);
    /* every cap below the encoding: NOMEM, out as it was, scanner after
     * the record */
    for (size_t cap = 1; cap < full; cap++) {
        const char *one = doc + 1 + strcspn(doc + 1, "}") ; /* unused */
        (void)one;
        const char *rec = strstr(doc, "{\"id\":2");
        sl_buf_init(&out, cap);
        sl_json_init(&js, rec, strlen(rec) - 1, 0);
        sl_json_next(&js, &t);
        sl_schema_rc rc = sl_schema_encode(s, &js, &t, &out, &gerr);
        CHECK(rc == SL_SCHEMA_NOMEM);
        CHECK(out.len == 0);
        CHECK(sl_json_next(&js, &t) == SL_JSON_END);
        sl_buf_free(&out);
    }
    sl_schema_free(s);
}

static void test_add_rules(void)
{
    char err[256];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    /* fields are taken even on error: ASan finds a leak otherwise */
    CHECK(sl_schema_add(s, "o", SL_TYPE_OBJECT, false, err, sizeof err) == -1);
    CHECK_STR(err, "field \"o\": type object needs fields");
    CHECK(sl_schema_add(s, "a", SL_TYPE_ARRAY, false, err, sizeof err) == -1);
    CHECK_STR(err, "field \"a\": type array needs items");
    CHECK(sl_schema_add_value(s, "x", &(sl_schema_value){
                                          .type = SL_TYPE_STRING,
                                          .fields = sl_schema_new(0)},
                              err, sizeof err) == -1);
    CHECK_STR(err, "field \"x\": fields are only for type object, not string");
    CHECK(sl_schema_add_value(s, "x", &(sl_schema_value){
                                          .type = SL_TYPE_JSON, .max_items = 2},
                              err, sizeof err) == -1);
    CHECK_CONTAINS(err, "are only for type array, not json");
    CHECK(sl_schema_add_value(s, "x", &(sl_schema_value){
                                          .type = SL_TYPE_ARRAY, .min_items = 3,
                                          .max_items = 2,
                                          .items = &(sl_schema_value){
                                              .type = SL_TYPE_OBJECT,
                                              .fields = sl_schema_new(0)}},
                              err, sizeof err) == -1);
    CHECK_STR(err, "field \"x\": min_items (3) is greater than max_items (2)");
    CHECK(sl_schema_nfields(s) == 0);
    /* 8 levels deep, not 9 */
    sl_schema *inner = sl_schema_new(0);
    ADD(inner, "leaf", SL_TYPE_STRING, false);
    for (int d = 1; d < 8; d++) {
        sl_schema *up = sl_schema_new(0);
        ADDV(up, "o", .type = SL_TYPE_OBJECT, .fields = inner);
        inner = up;
    }
    CHECK(sl_schema_depth(inner) == 7);
    ADDV(s, "deep", .type = SL_TYPE_OBJECT, .fields = inner);
    CHECK(sl_schema_depth(s) == 8);
    CHECK(enc(s, "{\"deep\":{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":{\"o\":"
                 "{\"leaf\":1}}}}}}}}}") == SL_SCHEMA_INVALID);
    CHECK_STR(gerr.field, "deep.o.o.o.o.o.o.o.leaf");
    sl_schema *top = sl_schema_new(0);
    CHECK(sl_schema_add_value(top, "over", &(sl_schema_value){
                                               .type = SL_TYPE_OBJECT,
                                               .fields = s},
                              err, sizeof err) == -1);
    CHECK_STR(err, "field \"over\": nesting deeper than 8 levels");
    /* arrays count as levels */
    sl_schema_value chain[10];
    for (int i = 0; i < 10; i++)
        chain[i] = (sl_schema_value){.type = i < 9 ? SL_TYPE_ARRAY
                                                   : SL_TYPE_INTEGER,
                                     .items = i < 9 ? &chain[i + 1] : NULL};
    CHECK(sl_schema_add_value(top, "a8", &chain[1], err, sizeof err) == 0);
    CHECK(sl_schema_add_value(top, "a9", &chain[0], err, sizeof err) == -1);
    CHECK_STR(err, "field \"a9\": nesting deeper than 8 levels");
    /* at most 512 fields, nested ones counted */
    sl_schema *wide = sl_schema_new(0);
    for (int i = 0; i < 500; i++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", i);
        ADD(wide, name, SL_TYPE_STRING, true);
    }
    sl_schema *t2 = sl_schema_new(0);
    for (int i = 0; i < 12; i++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", i);
        ADD(t2, name, SL_TYPE_STRING, true);
    }
    CHECK(sl_schema_add_value(t2, "w", &(sl_schema_value){
                                           .type = SL_TYPE_OBJECT,
                                           .fields = wide},
                              err, sizeof err) == -1);
    CHECK_STR(err, "too many fields (at most 512, those of nested objects "
                   "counted)");
    sl_schema_free(t2);
    sl_schema_free(top);
}

static void test_fingerprint(void)
{
    char err[256], fa[17], fb[17];
    /* a flat schema's fingerprint is the one of before nested types (the
     * schema locks of existing state directories) */
    sl_schema *flat = sl_schema_new(SL_UNKNOWN_REJECT);
    ADD(flat, "id", SL_TYPE_INTEGER, false);
    ADD(flat, "email", SL_TYPE_STRING, false);
    ADD(flat, "name", SL_TYPE_STRING, true);
    ADD(flat, "amount", SL_TYPE_NUMBER, true);
    ADD(flat, "active", SL_TYPE_BOOLEAN, false);
    ADD(flat, "created_at", SL_TYPE_DATETIME, false);
    sl_schema_fingerprint(flat, fa);
    CHECK_STR(fa, "eb015a90edd37254");
    sl_schema_free(flat);

    /* each nested difference changes it */
    const char *fps[8];
    char buf[8][17];
    for (int k = 0; k < 8; k++) {
        sl_schema *line = sl_schema_new(k == 1 ? SL_UNKNOWN_DROP
                                               : SL_UNKNOWN_REJECT);
        ADD(line, k == 2 ? "SKU" : "sku", k == 3 ? SL_TYPE_JSON
                                                  : SL_TYPE_STRING, k == 4);
        sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
        ADDV(s, "lines", .type = SL_TYPE_ARRAY, .min_items = k == 5,
             .max_items = k == 6 ? 9 : 0,
             .items = &(sl_schema_value){.type = SL_TYPE_OBJECT,
                                         .nullable = k == 7, .fields = line});
        sl_schema_fingerprint(s, buf[k]);
        fps[k] = buf[k];
        for (int j = 0; j < k; j++)
            CHECK(strcmp(fps[j], fps[k]) != 0);
        if (k == 0) {
            sl_buf b;
            sl_buf_init(&b, 0);
            CHECK(sl_schema_field_shape(s, 0, &b) == 0);
            CHECK(sl_buf_putc(&b, '\0') == 0);
            CHECK_STR(b.data, "[object not-null {sku string not-null}]");
            sl_buf_free(&b);
        }
        sl_schema_free(s);
    }
    /* an object is not an array of one */
    sl_schema *o = sl_schema_new(0), *in = sl_schema_new(0);
    ADD(in, "a", SL_TYPE_STRING, false);
    ADDV(o, "x", .type = SL_TYPE_OBJECT, .fields = in);
    sl_schema_fingerprint(o, fa);
    sl_schema_free(o);
    o = sl_schema_new(0);
    in = sl_schema_new(0);
    ADD(in, "a", SL_TYPE_STRING, false);
    ADDV(o, "x", .type = SL_TYPE_ARRAY,
         .items = &(sl_schema_value){.type = SL_TYPE_OBJECT, .fields = in});
    sl_schema_fingerprint(o, fb);
    CHECK(strcmp(fa, fb) != 0);
    sl_buf b;
    sl_buf_init(&b, 0);
    ADDV(o, "y", .type = SL_TYPE_ARRAY, .min_items = 1, .max_items = 10,
         .items = &(sl_schema_value){.type = SL_TYPE_INTEGER, .nullable = true});
    CHECK(sl_schema_field_shape(o, 1, &b) == 0);
    CHECK(sl_buf_putc(&b, '\0') == 0);
    CHECK_STR(b.data, "[1..10 integer nullable]");
    const sl_schema_node *n = sl_schema_field(o, 1);
    CHECK(sl_schema_node_type(n) == SL_TYPE_ARRAY);
    CHECK(sl_schema_node_min_items(n) == 1 && sl_schema_node_max_items(n) == 10);
    CHECK(sl_schema_node_type(sl_schema_node_items(n)) == SL_TYPE_INTEGER);
    CHECK(sl_schema_node_nullable(sl_schema_node_items(n)));
    CHECK(sl_schema_node_fields(n) == NULL);
    CHECK(sl_schema_node_fields(sl_schema_node_items(sl_schema_field(o, 0))) !=
          NULL);
    sl_buf_free(&b);
    sl_schema_free(o);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"encode_order", test_encode_order},
        {"paths", test_paths},
        {"items_edges", test_items_edges},
        {"json_type", test_json_type},
        {"policies_and_limits", test_policies_and_limits},
        {"recovery_and_cap", test_recovery_and_cap},
        {"add_rules", test_add_rules},
        {"fingerprint", test_fingerprint},
        {NULL, NULL}};
    return sl_test_run(cases);
}
