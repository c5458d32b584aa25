/* Torture tests for sl_schema (sl_torture.h): building a schema with each
 * allocation failing in turn (sl_schema_new NULL, or sl_schema_add -1 with
 * the schema unchanged and still usable), and checking + encoding a batch
 * of records into one sl_buf whose growth fails in turn (NOMEM with the
 * buffer as it was and the scanner after the record, the other records
 * unaffected); and that encoding into a buffer with room allocates
 * nothing, as sl_schema.h promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_schema.h"
#include "sl_test.h"
#include "sl_torture.h"

/* ---- building ----------------------------------------------------------- */

#define SCALAR_TYPES 6   /* string .. datetime: the types sl_schema_add takes */
#define BUILD_FIELDS 40 /* past LINEAR_MAX (16): the name index is built too */

static void field_name(size_t i, char out[8])
{
    /* i < BUILD_FIELDS; the modulo tells gcc -O1 (the TSan build) so */
    snprintf(out, 8, "f%02u", (unsigned)(i % 100));
}

static sl_schema_type field_type(size_t i)
{
    return (sl_schema_type)(i % SCALAR_TYPES);
}
static bool field_nullable(size_t i) { return i % 4 == 1; }

static const char *const sample[SCALAR_TYPES] = {
    "\"x\\u00e9\"", "-7", "1.5e3", "true", "\"2024-02-29\"",
    "\"2024-02-29T23:59:60+01:00\""};

/* One record for the BUILD_FIELDS schema: every field but the nullable
 * ones at multiples of 8, in reverse order (the index finds them). */
static void build_record(sl_buf *doc)
{
    sl_buf_init(doc, 0);
    CHECK(sl_buf_putc(doc, '{') == 0);
    for (size_t k = 0; k < BUILD_FIELDS; k++) {
        size_t i = BUILD_FIELDS - 1 - k;
        char name[8];
        if (field_nullable(i) && i % 8 == 1)
            continue;
        field_name(i, name);
        CHECK(sl_buf_printf(doc, "%s\"%s\": %s", doc->len > 1 ? ", " : "",
                            name, sample[field_type(i)]) == 0);
    }
    CHECK(sl_buf_putc(doc, '}') == 0);
}

/* Encode the one record of doc with s into out (appended); the result. */
static sl_schema_rc encode_doc(const sl_schema *s, const sl_buf *doc,
                               sl_buf *out)
{
    sl_json js;
    sl_json_token t;
    sl_schema_error err;
    sl_json_init(&js, doc->data, doc->len, 0);
    sl_json_next(&js, &t);
    sl_schema_rc rc = sl_schema_encode(s, &js, &t, out, &err);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    return rc;
}

/* Add fields [from, BUILD_FIELDS); the index of the first refused (with
 * its message in err), or BUILD_FIELDS. */
static size_t add_fields(sl_schema *s, size_t from, char *err, size_t errlen)
{
    for (size_t i = from; i < BUILD_FIELDS; i++) {
        char name[8];
        field_name(i, name);
        if (sl_schema_add(s, name, field_type(i), field_nullable(i), err,
                          errlen) != 0)
            return i;
    }
    return BUILD_FIELDS;
}

static void test_build(void)
{
    char err[128], fp_ref[17], fp[17];
    sl_buf doc, want, got;
    build_record(&doc);
    sl_buf_init(&want, 0);
    sl_schema *ref = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(ref && add_fields(ref, 0, err, sizeof err) == BUILD_FIELDS);
    sl_schema_fingerprint(ref, fp_ref);
    CHECK(encode_doc(ref, &doc, &want) == SL_SCHEMA_OK);
    sl_schema_free(ref);

    long live0 = sl_torture_live();
    unsigned long n = 1, failures = 0;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_torture_arm(n, true);
        sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
        err[0] = '\0';
        size_t k = s ? add_fields(s, 0, err, sizeof err) : 0;
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) { /* the clean run */
            CHECK(s && k == BUILD_FIELDS);
            sl_schema_free(s);
            break;
        }
        failures++;
        if (s) {
            /* refused with the schema as it was: the fields before k,
             * and the rest can still be added */
            CHECK(k < BUILD_FIELDS);
            CHECK_STR(err, "out of memory");
            CHECK(sl_schema_nfields(s) == k);
            for (size_t i = 0; i < k && i < sl_schema_nfields(s); i++) {
                char name[8];
                field_name(i, name);
                CHECK_STR(sl_schema_field_name(s, i), name);
            }
            CHECK(add_fields(s, k, err, sizeof err) == BUILD_FIELDS);
            sl_schema_fingerprint(s, fp);
            CHECK_STR(fp, fp_ref);
            sl_buf_init(&got, 0);
            CHECK(encode_doc(s, &doc, &got) == SL_SCHEMA_OK);
            CHECK(got.len == want.len &&
                  memcmp(got.data, want.data, got.len) == 0);
            sl_buf_free(&got);
        }
        sl_schema_free(s);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    /* the schema, 4 growths of the field array, an index per field past 16 */
    CHECK(failures == 1 + 4 + (BUILD_FIELDS - 16));
    CHECK(n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "new + add %d fields", BUILD_FIELDS);
    CHECK(sl_torture_live() == live0);
    sl_buf_free(&want);

    sl_buf_free(&doc);
}

/* ---- encoding a batch --------------------------------------------------- */

#define BATCH 300

static const struct {
    const char *name;
    sl_schema_type type;
    bool nullable;
} batch_fields[] = {
    {"s", SL_TYPE_STRING, false},   {"sn", SL_TYPE_STRING, true},
    {"i", SL_TYPE_INTEGER, false},  {"in", SL_TYPE_INTEGER, true},
    {"n", SL_TYPE_NUMBER, false},   {"nn", SL_TYPE_NUMBER, true},
    {"b", SL_TYPE_BOOLEAN, false},  {"bn", SL_TYPE_BOOLEAN, true},
    {"d", SL_TYPE_DATE, false},     {"dn", SL_TYPE_DATE, true},
    {"t", SL_TYPE_DATETIME, false}, {"tn", SL_TYPE_DATETIME, true},
};
#define NBATCH_FIELDS (sizeof batch_fields / sizeof batch_fields[0])

static sl_schema *batch_schema(sl_unknown_policy policy)
{
    char err[128];
    sl_schema *s = sl_schema_new(policy);
    CHECK(s != NULL);
    for (size_t i = 0; s && i < NBATCH_FIELDS; i++)
        CHECK(sl_schema_add(s, batch_fields[i].name, batch_fields[i].type,
                            batch_fields[i].nullable, err, sizeof err) == 0);
    return s;
}

/* Record i of the batch, one of ten kinds: compact in schema order (the
 * copy path), spaced, reversed, nullable fields missing, an unknown
 * field, a wrong type, an escaped key, not an object, a required field
 * missing, a long string. */
static void put_record(sl_buf *doc, size_t i)
{
    const char *sep = (i % 10 == 1) ? " , " : ",";
    const char *colon = (i % 10 == 1) ? " : " : ":";
    size_t kind = i % 10;
    if (kind == 7) {
        CHECK(sl_buf_printf(doc, "%zu", i) == 0);
        return;
    }
    CHECK(sl_buf_putc(doc, '{') == 0);
    int first = 1;
    for (size_t k = 0; k < NBATCH_FIELDS; k++) {
        size_t f = kind == 2 ? NBATCH_FIELDS - 1 - k : k;
        if ((kind == 3 && batch_fields[f].nullable) || (kind == 8 && f == 4))
            continue;
        const char *val = sample[batch_fields[f].type];
        char num[32];
        if (batch_fields[f].type == SL_TYPE_INTEGER) {
            snprintf(num, sizeof num, "%zu", i);
            val = num;
        }
        if (kind == 5 && f == 2)
            val = "\"not a number\"";
        const char *key = kind == 6 && f == 0 ? "\\u0073" /* "s" */
                                              : batch_fields[f].name;
        CHECK(sl_buf_printf(doc, "%s\"%s\"%s", first ? "" : sep, key,
                            colon) == 0);
        if (kind == 9 && f == 0) {
            CHECK(sl_buf_putc(doc, '"') == 0);
            for (size_t r = 0; r < 40 + i; r++)
                CHECK(sl_buf_printf(doc, "long \\\"text\\\" ") == 0);
            CHECK(sl_buf_putc(doc, '"') == 0);
        } else {
            CHECK(sl_buf_append(doc, val, strlen(val)) == 0);
        }
        first = 0;
    }
    if (kind == 4)
        CHECK(sl_buf_printf(doc, ",\"extra%zu\":[1,{\"x\":null}]", i) == 0);
    CHECK(sl_buf_putc(doc, '}') == 0);
}

static void build_batch(sl_buf *doc)
{
    sl_buf_init(doc, 0);
    CHECK(sl_buf_putc(doc, '[') == 0);
    for (size_t i = 0; i < BATCH; i++) {
        if (i)
            CHECK(sl_buf_putc(doc, ',') == 0);
        put_record(doc, i);
    }
    CHECK(sl_buf_putc(doc, ']') == 0);
}

static const char PREFIX[] = "PREFIX";

/* What encoding the batch gave. */
typedef struct batch_result {
    sl_schema_rc rc[BATCH];
    size_t off[BATCH], len[BATCH]; /* each OK record's bytes in out */
    char msg[BATCH][sizeof(sl_schema_error) + 2]; /* INVALID: field: msg */
    int ended;                     /* the array and the document ended */
} batch_result;

/* Encode every element of the batch into out (holding PREFIX), checking
 * that a refused record leaves out exactly as it was. */
static void encode_batch(const sl_schema *s, const sl_buf *doc, sl_buf *out,
                         batch_result *r)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, doc->data, doc->len, 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    for (size_t i = 0; i < BATCH; i++) {
        sl_schema_error err;
        sl_json_next(&js, &t);
        size_t before = out->len;
        r->rc[i] = sl_schema_encode(s, &js, &t, out, &err);
        r->off[i] = before;
        r->len[i] = out->len - before;
        r->msg[i][0] = '\0';
        if (r->rc[i] != SL_SCHEMA_OK)
            CHECK(out->len == before);
        if (r->rc[i] == SL_SCHEMA_INVALID)
            snprintf(r->msg[i], sizeof r->msg[i], "%s: %s", err.field, err.msg);
    }
    r->ended = sl_json_next(&js, &t) == SL_JSON_ARRAY_END &&
               sl_json_next(&js, &t) == SL_JSON_END;
}

/* One run with allocation n failing; returns the allocations failed. */
static unsigned long batch_once(const sl_schema *s, const sl_buf *doc,
                                const batch_result *ref, const sl_buf *ref_out,
                                unsigned long n, bool sticky, batch_result *r)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    CHECK(sl_buf_append(&out, PREFIX, sizeof PREFIX - 1) == 0);
    sl_torture_arm(n, sticky);
    encode_batch(s, doc, &out, r);
    unsigned long failed = sl_torture_disarm();

    /* every record as without failures, except OK ones refused for
     * memory; out holds PREFIX and the accepted ones' bytes, in order */
    CHECK(r->ended);
    size_t at = sizeof PREFIX - 1, nomem = 0;
    CHECK(memcmp(out.data, PREFIX, at) == 0);
    for (size_t i = 0; i < BATCH; i++) {
        if (r->rc[i] == SL_SCHEMA_NOMEM) {
            CHECK(ref->rc[i] == SL_SCHEMA_OK && failed > 0);
            nomem++;
            continue;
        }
        CHECK(r->rc[i] == ref->rc[i]);
        CHECK_STR(r->msg[i], ref->msg[i]);
        if (r->rc[i] == SL_SCHEMA_OK && ref->rc[i] == SL_SCHEMA_OK) {
            CHECK(r->off[i] == at && r->len[i] == ref->len[i]);
            CHECK(memcmp(out.data + at, ref_out->data + ref->off[i],
                         ref->len[i]) == 0);
            at += r->len[i];
        }
    }
    CHECK(out.len == at);
    CHECK((nomem > 0) == (failed > 0)); /* only memory refuses here */
    if (!sticky && failed)
        CHECK(nomem == 1); /* one failed growth, one refused record */
    sl_buf_free(&out);
    return failed;
}

static void batch_torture(sl_unknown_policy policy, bool sticky)
{
    static batch_result ref, r;
    sl_buf doc, ref_out;
    build_batch(&doc);
    sl_schema *s = batch_schema(policy);
    sl_buf_init(&ref_out, 0);
    CHECK(sl_buf_append(&ref_out, PREFIX, sizeof PREFIX - 1) == 0);
    encode_batch(s, &doc, &ref_out, &ref);
    CHECK(ref.ended);
    size_t ok = 0, invalid = 0;
    for (size_t i = 0; i < BATCH; i++) {
        ok += ref.rc[i] == SL_SCHEMA_OK;
        invalid += ref.rc[i] == SL_SCHEMA_INVALID;
    }
    CHECK(ok + invalid == BATCH);
    CHECK(invalid == (policy == SL_UNKNOWN_REJECT ? 4 : 3) * BATCH / 10);

    long live0 = sl_torture_live();
    unsigned long n = 1;
    while (n < SL_TORTURE_MAX_N &&
           batch_once(s, &doc, &ref, &ref_out, n, sticky, &r) > 0) {
        SL_TORTURE_CHECK_LIVE(live0, n);
        n++;
    }
    CHECK(n > 5 && n < SL_TORTURE_MAX_N); /* 256 bytes to 64+ KiB */
    sl_torture_report(n, "encode %d records, unknown fields %s, %s", BATCH,
                      policy == SL_UNKNOWN_REJECT ? "reject" : "drop",
                      sticky ? "sticky" : "transient");
    CHECK(sl_torture_live() == live0);

    /* with room reserved, encoding allocates nothing at all */
    sl_buf big;
    sl_buf_init(&big, 0);
    CHECK(sl_buf_reserve(&big, ref_out.len) == 0);
    CHECK(sl_buf_append(&big, PREFIX, sizeof PREFIX - 1) == 0);
    sl_torture_arm(1, true);
    encode_batch(s, &doc, &big, &r);
    CHECK(sl_torture_calls() == 0);
    CHECK(sl_torture_disarm() == 0);
    CHECK(big.len == ref_out.len &&
          memcmp(big.data, ref_out.data, big.len) == 0);

    sl_buf_free(&big);
    sl_buf_free(&ref_out);
    sl_schema_free(s);
    sl_buf_free(&doc);
}

static void test_encode_reject_sticky(void)
{
    batch_torture(SL_UNKNOWN_REJECT, true);
}

static void test_encode_drop_sticky(void)
{
    batch_torture(SL_UNKNOWN_DROP, true);
}

static void test_encode_reject_transient(void)
{
    batch_torture(SL_UNKNOWN_REJECT, false);
}

/* ---- a nested schema ----------------------------------------------------- */

/* {id, address: {zip, geo?: {lat}}, lines: [1..5 {sku, tags?: [string]}]},
 * built with allocation n failing: refused with the schema as it was and
 * nothing leaked (every field list handed over is freed), or built whole;
 * then one record encoded (the encoder allocates only out's growth). */
static int build_nested(sl_schema **out, char *err, size_t errlen)
{
    sl_schema *geo = sl_schema_new(SL_UNKNOWN_REJECT),
              *addr = sl_schema_new(SL_UNKNOWN_REJECT),
              *line = sl_schema_new(SL_UNKNOWN_REJECT),
              *s = sl_schema_new(SL_UNKNOWN_REJECT);
    int fails = 0;
    *out = s;
    if (!geo || !addr || !line || !s) {
        sl_schema_free(geo);
        sl_schema_free(addr);
        sl_schema_free(line);
        return -1;
    }
    fails += sl_schema_add(geo, "lat", SL_TYPE_NUMBER, false, err, errlen) != 0;
    fails += sl_schema_add(addr, "zip", SL_TYPE_STRING, false, err, errlen) != 0;
    fails += sl_schema_add_value(addr, "geo", &(sl_schema_value){
                                     .type = SL_TYPE_OBJECT, .nullable = true,
                                     .fields = geo}, err, errlen) != 0;
    fails += sl_schema_add(line, "sku", SL_TYPE_STRING, false, err, errlen) != 0;
    fails += sl_schema_add_value(line, "tags", &(sl_schema_value){
                                     .type = SL_TYPE_ARRAY, .nullable = true,
                                     .items = &(sl_schema_value){
                                         .type = SL_TYPE_STRING}},
                                 err, errlen) != 0;
    fails += sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, errlen) != 0;
    fails += sl_schema_add_value(s, "address", &(sl_schema_value){
                                     .type = SL_TYPE_OBJECT, .fields = addr},
                                 err, errlen) != 0;
    fails += sl_schema_add_value(s, "lines", &(sl_schema_value){
                                     .type = SL_TYPE_ARRAY, .min_items = 1,
                                     .max_items = 5,
                                     .items = &(sl_schema_value){
                                         .type = SL_TYPE_OBJECT,
                                         .fields = line}},
                                 err, errlen) != 0;
    return fails ? -1 : 0;
}

static void test_nested(void)
{
    static const char doc[] =
        "{ \"lines\": [ {\"tags\": [\"x\", \"y\"], \"sku\": \"a\"}, "
        "{\"sku\": \"b\"} ], \"address\": {\"geo\": {\"lat\": 1.5}, "
        "\"zip\": \"10115\"}, \"id\": 7 }";
    static const char want[] =
        "{\"id\":7,\"address\":{\"zip\":\"10115\",\"geo\":{\"lat\":1.5}},"
        "\"lines\":[{\"sku\":\"a\",\"tags\":[\"x\",\"y\"]},{\"sku\":\"b\","
        "\"tags\":null}]}";
    char err[128], fp_ref[17], fp[17];
    sl_schema *ref;
    CHECK(build_nested(&ref, err, sizeof err) == 0);
    sl_schema_fingerprint(ref, fp_ref);
    sl_schema_free(ref);
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_schema *s;
        sl_torture_arm(n, true);
        int rc = build_nested(&s, err, sizeof err);
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) {
            CHECK(rc == 0);
            sl_schema_fingerprint(s, fp);
            CHECK_STR(fp, fp_ref);
            /* encoding, with out's growth failing in turn */
            for (unsigned long m = 1; m < SL_TORTURE_MAX_N; m++) {
                sl_buf out;
                sl_json js;
                sl_json_token t;
                sl_schema_error e;
                sl_buf_init(&out, 0);
                sl_json_init(&js, doc, strlen(doc), 0);
                sl_json_next(&js, &t);
                sl_torture_arm(m, false);
                sl_schema_rc erc = sl_schema_encode(s, &js, &t, &out, &e);
                unsigned long f2 = sl_torture_disarm();
                CHECK(sl_json_next(&js, &t) == SL_JSON_END);
                if (f2 == 0) {
                    CHECK(erc == SL_SCHEMA_OK);
                    CHECK(out.len == strlen(want) &&
                          memcmp(out.data, want, out.len) == 0);
                    sl_buf_free(&out);
                    break;
                }
                CHECK(erc == SL_SCHEMA_NOMEM && out.len == 0);
                sl_buf_free(&out);
            }
            sl_schema_free(s);
            break;
        }
        CHECK(rc != 0);
        sl_schema_free(s);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    CHECK(n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "build a nested schema and encode one record");
    CHECK(sl_torture_live() == live0);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"build", test_build},
        {"encode_reject_sticky", test_encode_reject_sticky},
        {"encode_drop_sticky", test_encode_drop_sticky},
        {"encode_reject_transient", test_encode_reject_transient},
        {"nested", test_nested},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    if (sl_torture_live() != 0) {
        fprintf(stderr, "%ld blocks still allocated at exit\n", sl_torture_live());
        rc = rc ? rc : 1;
    }
    return rc;
}
