/* fuzz_ndjson: sl_ingest over the input as an NDJSON stream and as a JSON
 * body (object or array). The counts must add up to the records in the
 * input, every framed record must be one valid JSON object, the rejection
 * list must be valid JSON, and a JSON body is malformed exactly when the
 * scanner refuses it. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_frame.h"
#include "sl_ingest.h"

static sl_schema *schema;
static sl_schema *tight; /* the same fields, small limits */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[128];
    (void)argc;
    (void)argv;
    schema = sl_schema_new(SL_UNKNOWN_REJECT);
    FUZZ_ASSERT(schema != NULL);
    FUZZ_ASSERT(sl_schema_add(schema, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(schema, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(schema, "x", SL_TYPE_NUMBER, true, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(schema, "ok", SL_TYPE_BOOLEAN, true, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(schema, "at", SL_TYPE_DATETIME, true, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(schema, "day", SL_TYPE_DATE, true, err, sizeof err) == 0);
    tight = sl_schema_new(SL_UNKNOWN_DROP);
    FUZZ_ASSERT(tight != NULL);
    FUZZ_ASSERT(sl_schema_add(tight, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    FUZZ_ASSERT(sl_schema_add(tight, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    sl_schema_set_limits(tight, &(sl_schema_limits){
                                    .record_bytes = 64, .string_bytes = 8,
                                    .fields = 3});
    return 0;
}

/* Walk the frames of a block; each must be one valid JSON object. Returns
 * the number of frames. */
static size_t check_frames(const sl_buf *block, size_t from)
{
    size_t n = 0, off = from;
    while (off < block->len) {
        uint32_t flen;
        FUZZ_ASSERT(block->len - off >= sizeof flen);
        memcpy(&flen, block->data + off, sizeof flen);
        off += sizeof flen;
        FUZZ_ASSERT(flen >= 2 && flen <= block->len - off);
        const char *rec = block->data + off;
        FUZZ_ASSERT(rec[0] == '{' && rec[flen - 1] == '}');
        FUZZ_ASSERT(memchr(rec, '\n', flen) == NULL); /* one line each */
        FUZZ_ASSERT(fuzz_json_valid(rec, flen, 0));
        off += flen;
        n++;
    }
    return n;
}

static void check_rejects(const sl_buf *rejects, size_t from,
                          const sl_ingest_result *res)
{
    sl_buf arr;
    sl_buf_init(&arr, 0);
    FUZZ_ASSERT(sl_buf_putc(&arr, '[') == 0);
    if (rejects->len > from)
        FUZZ_ASSERT(sl_buf_append(&arr, rejects->data + from,
                                  rejects->len - from) == 0);
    FUZZ_ASSERT(sl_buf_putc(&arr, ']') == 0);
    FUZZ_ASSERT(fuzz_json_valid(arr.data, arr.len, 0));
    sl_buf_free(&arr);
    size_t want = res->rejected < SL_INGEST_MAX_LISTED ? res->rejected
                                                         : SL_INGEST_MAX_LISTED;
    FUZZ_ASSERT(res->listed == want);
}

static int blank(const char *p, const char *e)
{
    for (; p < e; p++)
        if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
            return 0;
    return 1;
}

/* Records in a JSON body as the scanner sees it: array elements, or 1. */
static size_t json_records(const char *p, size_t len)
{
    sl_json js;
    sl_json_token t;
    size_t n = 0;
    sl_json_init(&js, p, len, 0);
    if (sl_json_next(&js, &t) != SL_JSON_ARRAY_BEGIN)
        return 1;
    while (sl_json_next(&js, &t) != SL_JSON_ARRAY_END) {
        FUZZ_ASSERT(sl_json_skip(&js, &t) == 0);
        n++;
    }
    return n;
}

static void run_ndjson(const char *p, size_t len)
{
    static const char mark[] = "MARK";
    sl_buf block, rejects;
    sl_ingest_result res;
    sl_buf_init(&block, 0);
    sl_buf_init(&rejects, 0);
    /* what is already in the buffers stays */
    FUZZ_ASSERT(sl_buf_append(&block, mark, 4) == 0 &&
                sl_buf_append(&rejects, mark, 4) == 0);
    FUZZ_ASSERT(sl_ingest(schema, NULL, SL_INGEST_NDJSON, p, len, NULL, &block,
                          &rejects, &res) == 0);
    FUZZ_ASSERT(memcmp(block.data, mark, 4) == 0 &&
                memcmp(rejects.data, mark, 4) == 0);
    FUZZ_ASSERT(!res.malformed && res.dropped == 0);
    FUZZ_ASSERT(check_frames(&block, 4) == res.accepted);
    check_rejects(&rejects, 4, &res);

    size_t lines = 0, valid = 0;
    for (const char *q = p, *end = p + len; q < end;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl : end;
        if (!blank(q, le)) {
            lines++;
            valid += fuzz_json_valid(q, (size_t)(le - q), 0);
        }
        q = nl ? nl + 1 : end;
    }
    FUZZ_ASSERT(res.accepted + res.rejected == lines);
    FUZZ_ASSERT(res.accepted <= valid);
    sl_buf_free(&block);
    sl_buf_free(&rejects);
}

static void run_json(const char *p, size_t len)
{
    sl_buf block, rejects;
    sl_ingest_result res;
    sl_buf_init(&block, 0);
    sl_buf_init(&rejects, 0);
    FUZZ_ASSERT(sl_ingest(schema, NULL, SL_INGEST_JSON, p, len, NULL, &block,
                          &rejects, &res) == 0);
    int valid = fuzz_json_valid(p, len, 0);
    FUZZ_ASSERT(res.malformed == !valid);
    if (res.malformed) {
        FUZZ_ASSERT(res.error != NULL && res.error_offset <= len);
        FUZZ_ASSERT(block.len == 0 && rejects.len == 0);
        FUZZ_ASSERT(res.accepted == 0 && res.rejected == 0 && res.listed == 0);
    } else {
        FUZZ_ASSERT(check_frames(&block, 0) == res.accepted);
        check_rejects(&rejects, 0, &res);
        FUZZ_ASSERT(res.accepted + res.rejected == json_records(p, len));
    }
    sl_buf_free(&block);
    sl_buf_free(&rejects);
}

/* Small limits: more than 5 lines is refused whole and leaves the buffers
 * as they were; otherwise every line is counted, and each record taken is
 * within the limits (its encoding holds at most 2 members, each string at
 * most 8 bytes, so it is short). */
static void run_limited(const char *p, size_t len)
{
    sl_ingest_limits lim = {.depth = 4, .records = 5};
    sl_buf block, rejects;
    sl_ingest_result res;
    sl_buf_init(&block, 0);
    sl_buf_init(&rejects, 0);
    FUZZ_ASSERT(sl_ingest(tight, NULL, SL_INGEST_NDJSON, p, len, &lim, &block,
                          &rejects, &res) == 0);
    size_t lines = 0;
    for (const char *q = p, *end = p + len; q < end;) {
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        const char *le = nl ? nl : end;
        lines += !blank(q, le);
        q = nl ? nl + 1 : end;
    }
    if (lines > 5) {
        FUZZ_ASSERT(res.too_many && res.accepted == 0 && res.rejected == 0);
        FUZZ_ASSERT(block.len == 0 && rejects.len == 0);
    } else {
        FUZZ_ASSERT(!res.too_many);
        FUZZ_ASSERT(res.accepted + res.rejected == lines);
        FUZZ_ASSERT(check_frames(&block, 0) == res.accepted);
        check_rejects(&rejects, 0, &res);
        /* {"id":<= 20 digits,"name":"<= 8 bytes"} */
        FUZZ_ASSERT(block.len <= res.accepted * (4 + 2 + 5 + 20 + 8 + 10 + 1));
    }
    sl_buf_free(&block);
    sl_buf_free(&rejects);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run_ndjson((const char *)data, size);
    run_json((const char *)data, size);
    run_limited((const char *)data, size);
    return 0;
}
