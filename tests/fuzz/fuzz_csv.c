/* fuzz_csv: CSV text through sl_csv against a schema with every type
 * (nullable and not, a json field), under both unknown-field policies and
 * small limits. The first byte picks the options; the rest is the file.
 * Every accepted row must be one valid JSON object; feeding the file
 * whole, one byte at a time and cut at a point the input picks must give
 * the same rows and the same result. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_csv.h"
#include "sl_schema.h"

static const struct {
    const char *name;
    sl_schema_type type;
    bool nullable;
} fields[] = {
    {"s", SL_TYPE_STRING, false},  {"sn", SL_TYPE_STRING, true},
    {"i", SL_TYPE_INTEGER, false}, {"in", SL_TYPE_INTEGER, true},
    {"n", SL_TYPE_NUMBER, true},   {"b", SL_TYPE_BOOLEAN, true},
    {"d", SL_TYPE_DATE, true},     {"t", SL_TYPE_DATETIME, true},
    {"j", SL_TYPE_JSON, true},
};

static sl_schema *schemas[2];

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

/* One line per row: its line, number and record or reason and raw. */
static int log_row(void *ud, const sl_csv_row *row)
{
    sl_buf *log = ud;
    FUZZ_ASSERT(row->line >= 1 && row->number >= 1);
    FUZZ_ASSERT((row->json == NULL) != (row->error == NULL));
    if (row->json) {
        FUZZ_ASSERT(row->json_len >= 2 && row->json[0] == '{');
        FUZZ_ASSERT(fuzz_json_valid(row->json, row->json_len, 0) == 1);
        FUZZ_ASSERT(memchr(row->json, '\n', row->json_len) == NULL);
    }
    sl_buf_printf(log, "%zu %zu %d ", row->line, row->number, row->raw_cut);
    if (row->json)
        sl_buf_append(log, row->json, row->json_len);
    else
        sl_buf_printf(log, "%s %s", row->field, row->error);
    sl_buf_putc(log, '|');
    sl_buf_append(log, row->raw, row->raw_len);
    sl_buf_putc(log, '\n');
    return 0;
}

/* Read data[0..n) in pieces of `step` bytes (0: whole; a cut at `cut`
 * first when step is 0 and cut <= n); the result and the log. */
static sl_csv_rc run(const sl_schema *s, const sl_csv_options *o,
                     const uint8_t *data, size_t n, size_t step, size_t cut,
                     sl_buf *log)
{
    sl_csv *r = sl_csv_new(s, o, log_row, log);
    FUZZ_ASSERT(r != NULL);
    sl_csv_rc rc = SL_CSV_OK;
    if (step == 0) {
        rc = sl_csv_feed(r, data, cut);
        if (rc == SL_CSV_OK)
            rc = sl_csv_feed(r, data + cut, n - cut);
    } else {
        for (size_t i = 0; i < n && rc == SL_CSV_OK; i += step)
            rc = sl_csv_feed(r, data + i, n - i < step ? n - i : step);
    }
    if (rc == SL_CSV_OK)
        rc = sl_csv_finish(r);
    sl_buf_printf(log, "rc %d %s\n", (int)rc, sl_csv_error(r));
    sl_csv_free(r);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!schemas[0]) {
        schemas[0] = make(SL_UNKNOWN_REJECT);
        schemas[1] = make(SL_UNKNOWN_DROP);
    }
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    sl_csv_options o = {
        .delimiter = opt & 1 ? '\t' : ',',
        .keep_unknown = (opt & 2) != 0,
        .cell_bytes = opt & 4 ? 16 : 0,
        .row_bytes = opt & 8 ? 64 : 0,
        .columns = opt & 16 ? 4 : 0,
    };
    const sl_schema *s = schemas[(opt >> 5) & 1];
    sl_buf a, b, c;
    sl_buf_init(&a, 0);
    sl_buf_init(&b, 0);
    sl_buf_init(&c, 0);
    sl_csv_rc ra = run(s, &o, data, size, 0, size, &a);
    sl_csv_rc rb = run(s, &o, data, size, 1, 0, &b);
    sl_csv_rc rc = run(s, &o, data, size, 0, size ? (opt * 7u) % size : 0,
                       &c);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0 ||
        a.len != c.len || memcmp(a.data, c.data, a.len) != 0)
        fprintf(stderr, "whole:\n%.*s\nbytes:\n%.*s\ncut:\n%.*s\n",
                (int)a.len, a.data, (int)b.len, b.data, (int)c.len, c.data);
    FUZZ_ASSERT(ra == rb && ra == rc);
    FUZZ_ASSERT(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    FUZZ_ASSERT(a.len == c.len && memcmp(a.data, c.data, a.len) == 0);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_buf_free(&c);
    return 0;
}
