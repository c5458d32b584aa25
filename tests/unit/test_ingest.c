/* Unit tests for sl_ingest: body forms, rejections, malformed input. */
#include <stdint.h>
#include <string.h>

#include "sl_ingest.h"
#include "sl_frame.h"
#include "sl_test.h"
#include "sl_test_frames.h"

static sl_schema *schema(void)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    return s;
}

typedef struct run {
    sl_buf block, rejects;
    sl_ingest_result res;
    int rc;
    char records[1024]; /* frames joined with '|' */
} run;

static void ingest_lim(run *r, sl_ingest_format fmt, const char *body,
                       const sl_ingest_limits *lim)
{
    sl_schema *s = schema();
    sl_buf_init(&r->block, 0);
    sl_buf_init(&r->rejects, 0);
    r->rc = sl_ingest(s, NULL, fmt, body, strlen(body), lim, &r->block,
                      &r->rejects, &r->res);
    sl_test_join_frames(&r->block, r->records, sizeof r->records);
    sl_buf_cstr(&r->rejects);
    sl_schema_free(s);
}

static void ingest(run *r, sl_ingest_format fmt, const char *body)
{
    ingest_lim(r, fmt, body, NULL);
}

static void done(run *r)
{
    sl_buf_free(&r->block);
    sl_buf_free(&r->rejects);
}

static void test_array_mixed(void)
{
    run r;
    ingest(&r, SL_INGEST_JSON,
           "[{\"id\":1},{\"id\":\"2\"},{\"name\":\"x\",\"id\":3},{\"id\":4,\"zz\":1}]");
    CHECK(r.rc == 0 && !r.res.malformed);
    CHECK(r.res.accepted == 2 && r.res.rejected == 2 && r.res.listed == 2);
    CHECK_STR(r.records, "{\"id\":1,\"name\":null}|{\"id\":3,\"name\":\"x\"}|");
    CHECK_CONTAINS(r.rejects.data, "{\"index\":1,\"field\":\"id\",\"error\":\"expected integer, got string\"}");
    CHECK_CONTAINS(r.rejects.data, "{\"index\":3,\"field\":\"zz\"");
    done(&r);
}

static void test_single_object_and_empty(void)
{
    run r;
    ingest(&r, SL_INGEST_JSON, " {\"id\":7} \n");
    CHECK(r.res.accepted == 1);
    CHECK_STR(r.records, "{\"id\":7,\"name\":null}|");
    done(&r);

    ingest(&r, SL_INGEST_JSON, "[]");
    CHECK(r.rc == 0 && !r.res.malformed && r.res.accepted == 0 &&
          r.res.rejected == 0);
    done(&r);

    ingest(&r, SL_INGEST_JSON, "");
    CHECK(r.res.malformed);
    CHECK_STR(r.res.error, "empty body");
    done(&r);

    ingest(&r, SL_INGEST_JSON, "42");
    CHECK(!r.res.malformed && r.res.accepted == 0 && r.res.rejected == 1);
    CHECK_CONTAINS(r.rejects.data, "record must be a JSON object");
    done(&r);
}

static void test_malformed_rejects_everything(void)
{
    run r;
    /* two good records, then a syntax error: nothing is accepted */
    ingest(&r, SL_INGEST_JSON, "[{\"id\":1},{\"id\":2},{\"id\":3,}]");
    CHECK(r.rc == 0 && r.res.malformed);
    CHECK(r.res.accepted == 0 && r.block.len == 0 && r.rejects.len == 0);
    CHECK(r.res.error_offset == 27); /* the trailing comma */
    done(&r);

    ingest(&r, SL_INGEST_JSON, "[{\"id\":1}] x");
    CHECK(r.res.malformed && r.res.error_offset == 11);
    done(&r);

    ingest(&r, SL_INGEST_JSON, "{\"id\":1} {\"id\":2}");
    CHECK(r.res.malformed && r.block.len == 0);
    done(&r);
}

static void test_ndjson_lines(void)
{
    run r;
    ingest(&r, SL_INGEST_NDJSON,
           "{\"id\":1}\n\n{\"id\":2,}\r\n  \n{\"id\":3} trailing\n{\"id\":\"4\"}\n{\"id\":5}");
    CHECK(r.rc == 0 && !r.res.malformed);
    CHECK(r.res.accepted == 2 && r.res.rejected == 3);
    CHECK_STR(r.records, "{\"id\":1,\"name\":null}|{\"id\":5,\"name\":null}|");
    CHECK(r.res.lines == 7); /* the blank ones and the last, unterminated */
    CHECK_CONTAINS(r.rejects.data, "{\"index\":1,\"field\":\"\",\"error\":\"malformed JSON at byte 8 of the line");
    CHECK_CONTAINS(r.rejects.data, "{\"index\":2,\"field\":\"\",\"error\":\"malformed JSON at byte");
    CHECK_CONTAINS(r.rejects.data, "{\"index\":3,\"field\":\"id\"");
    done(&r);
}

static void test_listing_is_capped(void)
{
    sl_buf body;
    sl_buf_init(&body, 0);
    sl_buf_putc(&body, '[');
    for (int i = 0; i < SL_INGEST_MAX_LISTED + 50; i++)
        sl_buf_printf(&body, "%s{\"id\":\"bad\"}", i ? "," : "");
    sl_buf_append(&body, ",{\"id\":1}]", 10);
    run r;
    ingest(&r, SL_INGEST_JSON, sl_buf_cstr(&body));
    CHECK(r.res.accepted == 1);
    CHECK(r.res.rejected == SL_INGEST_MAX_LISTED + 50);
    CHECK(r.res.listed == SL_INGEST_MAX_LISTED);
    done(&r);
    sl_buf_free(&body);
}

/* More records than limits.records: nothing accepted, in both forms; at
 * the limit everything is. Blank lines do not count. */
static void test_records_limit(void)
{
    run r;
    sl_ingest_limits lim = {.records = 3};
    ingest_lim(&r, SL_INGEST_JSON, "[{\"id\":1},{\"id\":2},{\"id\":3}]", &lim);
    CHECK(r.rc == 0 && !r.res.too_many && r.res.accepted == 3);
    done(&r);
    ingest_lim(&r, SL_INGEST_JSON,
               "[{\"id\":1},{\"id\":2},{\"id\":3},{\"id\":4}]", &lim);
    CHECK(r.rc == 0 && r.res.too_many && !r.res.malformed);
    CHECK(r.res.accepted == 0 && r.res.rejected == 0);
    CHECK(r.block.len == 0 && r.rejects.len == 0);
    done(&r);
    ingest_lim(&r, SL_INGEST_NDJSON, "{\"id\":1}\n\n{\"id\":2}\n  \n{\"id\":3}\n",
               &lim);
    CHECK(r.rc == 0 && !r.res.too_many && r.res.accepted == 3);
    done(&r);
    ingest_lim(&r, SL_INGEST_NDJSON,
               "{\"id\":1}\n{\"id\":\"x\"}\n{\"id\":3}\n{\"id\":4}", &lim);
    CHECK(r.rc == 0 && r.res.too_many);
    CHECK(r.res.accepted == 0 && r.res.rejected == 0 && r.block.len == 0);
    done(&r);
}

/* limits.depth applies to the body: an array of records is one level */
static void test_depth_limit(void)
{
    run r;
    sl_ingest_limits lim = {.depth = 2};
    ingest_lim(&r, SL_INGEST_JSON, "[{\"id\":1}]", &lim);
    CHECK(r.rc == 0 && r.res.accepted == 1);
    done(&r);
    ingest_lim(&r, SL_INGEST_JSON, "[{\"id\":1,\"x\":[1]}]", &lim);
    CHECK(r.rc == 0 && r.res.malformed);
    CHECK_CONTAINS(r.res.error, "nesting deeper than the depth limit");
    done(&r);
    ingest_lim(&r, SL_INGEST_NDJSON, "{\"id\":1,\"x\":{\"y\":[1]}}\n{\"id\":2}\n",
               &lim);
    CHECK(r.rc == 0 && r.res.accepted == 1 && r.res.rejected == 1);
    CHECK_CONTAINS(r.rejects.data, "nesting deeper than the depth limit");
    done(&r);
}

static void test_block_cap_restores(void)
{
    sl_schema *s = schema();
    sl_buf block, rejects;
    sl_buf_init(&block, 40);
    sl_buf_init(&rejects, 0);
    sl_ingest_result res;
    const char *body = "[{\"id\":1},{\"id\":2},{\"id\":3}]";
    CHECK(sl_ingest(s, NULL, SL_INGEST_JSON, body, strlen(body), NULL, &block, &rejects,
                    &res) == -1);
    CHECK(block.len == 0 && res.accepted == 0);
    sl_buf_free(&block);
    sl_buf_free(&rejects);
    sl_schema_free(s);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"array_mixed", test_array_mixed},
        {"single_object_and_empty", test_single_object_and_empty},
        {"malformed_rejects_everything", test_malformed_rejects_everything},
        {"ndjson_lines", test_ndjson_lines},
        {"listing_is_capped", test_listing_is_capped},
        {"block_cap_restores", test_block_cap_restores},
        {"records_limit", test_records_limit},
        {"depth_limit", test_depth_limit},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
