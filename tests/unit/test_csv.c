/* Unit tests for sl_csv and sl_csv_cell: RFC 4180 reading, every type's
 * conversion and its errors, line numbers across quoted newlines, the
 * header against the schema, chunk boundaries at every byte (the same
 * rows however the input is cut) and hostile input. */
#include <stdint.h>
#include <stdlib.h>

#include "sl_buf.h"
#include "sl_csv.h"
#include "sl_csv_cell.h"
#include "sl_test.h"

/* What the reader gave: one line per row, "L<line> <json>" or
 * "L<line> ! <field>: <error> | <raw>". */
static sl_buf seen;

static int collect(void *ud, const sl_csv_row *row)
{
    (void)ud;
    CHECK(row->number > 0);
    sl_buf_printf(&seen, "L%zu ", row->line);
    if (row->json) {
        CHECK(row->error == NULL);
        sl_buf_append(&seen, row->json, row->json_len);
    } else {
        sl_buf_printf(&seen, "! %s: %s | ", row->field, row->error);
        for (size_t i = 0; i < row->raw_len; i++) /* NUL shown as @ */
            sl_buf_putc(&seen, row->raw[i] ? row->raw[i] : '@');
    }
    sl_buf_putc(&seen, '\n');
    return 0;
}

static sl_schema *people(sl_unknown_policy policy)
{
    sl_schema *s = sl_schema_new(policy);
    char err[128];
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "score", SL_TYPE_NUMBER, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "ok", SL_TYPE_BOOLEAN, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "born", SL_TYPE_DATE, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "tags", SL_TYPE_JSON, true, err, sizeof err) == 0);
    return s;
}

/* Read text[0..n) cut into pieces: step 0 = whole, k = k bytes at a
 * time, -1 = random cuts (seeded). Returns the reader's result; the rows
 * are in `seen`, a header error in herr. */
static char herr[400];
static sl_csv_rc read_cut(const sl_schema *s, const sl_csv_options *o,
                          const char *text, size_t n, long step,
                          unsigned seed)
{
    sl_buf_reset(&seen);
    herr[0] = '\0';
    sl_csv *r = sl_csv_new(s, o, collect, NULL);
    CHECK(r != NULL);
    sl_csv_rc rc = SL_CSV_OK;
    size_t i = 0;
    while (i < n && rc == SL_CSV_OK) {
        size_t k = n - i;
        if (step > 0 && (size_t)step < k)
            k = (size_t)step;
        else if (step < 0) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % (k < 7 ? k : 7);
        }
        rc = sl_csv_feed(r, text + i, k);
        i += k;
    }
    if (rc == SL_CSV_OK)
        rc = sl_csv_finish(r);
    snprintf(herr, sizeof herr, "%s", sl_csv_error(r));
    sl_csv_free(r);
    sl_buf_putc(&seen, '\0');
    return rc;
}

static const char *read_all(const sl_schema *s, const char *text)
{
    CHECK(read_cut(s, NULL, text, strlen(text), 0, 0) == SL_CSV_OK);
    return seen.data;
}

static void test_rfc4180(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    CHECK_STR(read_all(s, "id,name\r\n1,\"a, b\"\r\n2,\"say \"\"hi\"\"\"\r\n"),
              "L2 {\"id\":1,\"name\":\"a, b\"}\n"
              "L3 {\"id\":2,\"name\":\"say \\\"hi\\\"\"}\n");
    /* embedded CRLF and LF, no trailing newline, empty last cell */
    CHECK_STR(read_all(s, "id,name,score\n1,\"x\r\ny\",1.5\n2,\"p\nq\nr\","
                          "\n3,z,"),
              "L2 {\"id\":1,\"name\":\"x\\r\\ny\",\"score\":1.5}\n"
              "L4 {\"id\":2,\"name\":\"p\\nq\\nr\",\"score\":null}\n"
              "L7 {\"id\":3,\"name\":\"z\",\"score\":null}\n");
    /* a BOM, blank lines, spaces kept, CR-only line ends */
    CHECK_STR(read_all(s, "\xEF\xBB\xBFid,name\n\n1, a \n\n\n2,b"),
              "L3 {\"id\":1,\"name\":\" a \"}\nL6 {\"id\":2,\"name\":\"b\"}\n");
    CHECK_STR(read_all(s, "id,name\r1,a\r\r2,\"b\rc\"\r3,d"),
              "L2 {\"id\":1,\"name\":\"a\"}\n"
              "L4 {\"id\":2,\"name\":\"b\\rc\"}\n"
              "L6 {\"id\":3,\"name\":\"d\"}\n");
    /* a header only; unicode */
    CHECK_STR(read_all(s, "id,name\n"), "");
    CHECK_STR(read_all(s, "id,name\n7,\"Zoë 東京\"\n"),
              "L2 {\"id\":7,\"name\":\"Zoë 東京\"}\n");
    /* TSV */
    sl_csv_options tsv = {.delimiter = '\t'};
    const char *t = "id\tname\n1\ta,b\n2\t\"x\ty\"\n";
    CHECK(read_cut(s, &tsv, t, strlen(t), 0, 0) == SL_CSV_OK);
    CHECK_STR(seen.data, "L2 {\"id\":1,\"name\":\"a,b\"}\n"
                         "L3 {\"id\":2,\"name\":\"x\\ty\"}\n");
    sl_schema_free(s);
}

static void test_empty_and_null(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    CHECK_STR(read_all(s, "id,name,score,ok\n1,,,\n2,\"\",\"\",\"\"\n,a,,\n"),
              "L2 {\"id\":1,\"name\":null,\"score\":null,\"ok\":null}\n"
              "L3 {\"id\":2,\"name\":\"\",\"score\":null,\"ok\":null}\n"
              "L4 ! id: empty cell (null) is not allowed | ,a,,\n");
    sl_schema_free(s);
}

static void test_types(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    CHECK_STR(read_all(s, "id,score,ok,born,tags\n"
                          "-7,-2e3,TRUE,2024-02-30,\"{ \"\"a\"\": [1, 2] }\"\n"
                          "0,42,0,x,\"\"\"s\"\"\"\n"
                          "9223372036854775807,1.5,False,,null\n"),
              "L2 {\"id\":-7,\"score\":-2e3,\"ok\":true,\"born\":\"2024-02-30\","
              "\"tags\":{\"a\":[1,2]}}\n"
              "L3 {\"id\":0,\"score\":42,\"ok\":false,\"born\":\"x\","
              "\"tags\":\"s\"}\n"
              "L4 {\"id\":9223372036854775807,\"score\":1.5,\"ok\":false,"
              "\"born\":null,\"tags\":null}\n");
    static const struct {
        const char *row, *want;
    } bad[] = {
        {"4x,,,", "id: \"4x\" is not an integer"},
        {"42.0,,,", "id: \"42.0\" is not an integer"},
        {"4e1,,,", "id: \"4e1\" is not an integer"},
        {"+4,,,", "id: \"+4\" is not an integer"},
        {"042,,,", "id: \"042\" is not an integer"},
        {" 42,,,", "id: \" 42\" is not an integer (it has spaces around it)"},
        {"9223372036854775808,,,", "is not an integer (out of the 64-bit"},
        {"1,.5,,", "score: \".5\" is not a number"},
        {"1,1.,,", "score: \"1.\" is not a number"},
        {"1,NaN,,", "score: \"NaN\" is not a number"},
        {"1,1e999,,", "score: \"1e999\" is not a number (out of range)"},
        {"1,,yes,", "ok: \"yes\" is not a boolean (true, false, 1 or 0)"},
        {"1,,2,", "ok: \"2\" is not a boolean"},
        {"1,,,{a:1}", "tags: cell is not JSON"},
        {"1,,,\"[1,\"", "tags: cell is not JSON"},
        {"1,,,\"1 2\"", "tags: cell is not JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char text[256];
        snprintf(text, sizeof text, "id,score,ok,tags\n%s\n", bad[i].row);
        CHECK(read_cut(s, NULL, text, strlen(text), 0, 0) == SL_CSV_OK);
        CHECK_CONTAINS(seen.data, bad[i].want);
        CHECK(strncmp(seen.data, "L2 ! ", 5) == 0);
    }
    sl_schema_free(s);
}

static void test_cell_direct(void)
{
    sl_buf out;
    char why[128];
    sl_buf_init(&out, 0);
    sl_csv_cell c = {"a\"\\\x01\t\xc3\xa9", 7, false};
    CHECK(sl_csv_cell_append(SL_TYPE_STRING, false, &c, &out, why,
                             sizeof why) == 0);
    CHECK(sl_buf_cstr(&out) && strcmp(out.data,
                                      "\"a\\\"\\\\\\u0001\\t\xc3\xa9\"") == 0);
    sl_buf_reset(&out);
    sl_csv_cell nul = {"a\0b", 3, false}, bad = {"\xff", 1, false};
    CHECK(sl_csv_cell_append(SL_TYPE_STRING, true, &nul, &out, why,
                             sizeof why) == -1);
    CHECK_CONTAINS(why, "NUL");
    CHECK(sl_csv_cell_append(SL_TYPE_INTEGER, true, &bad, &out, why,
                             sizeof why) == -1);
    CHECK_CONTAINS(why, "UTF-8");
    CHECK(out.len == 0);
    sl_buf_free(&out);
    sl_buf_init(&out, 3); /* the cap: -2, out unchanged */
    sl_csv_cell big = {"12345", 5, false};
    CHECK(sl_csv_cell_append(SL_TYPE_INTEGER, true, &big, &out, why,
                             sizeof why) == -2);
    CHECK(out.len == 0);
    sl_buf_free(&out);
}

static void test_header(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    CHECK(read_cut(s, NULL, "id,extra\n1,2\n", 13, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "column 2 \"extra\" is not a field of the schema");
    CHECK_STR(seen.data, "");
    CHECK(read_cut(s, NULL, "name\nx\n", 7, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "no column for field \"id\", which is not nullable");
    CHECK(read_cut(s, NULL, "id,name,id\n", 11, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "columns 1 and 3 are both named \"id\"");
    CHECK(read_cut(s, NULL, "\n\n", 2, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "no header row");
    CHECK(read_cut(s, NULL, "", 0, 0, 0) == SL_CSV_E_HEADER);
    CHECK(read_cut(s, NULL, "i\"d\n1\n", 6, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "line 1: the header row: malformed CSV");
    /* keep_unknown: kept as strings */
    sl_csv_options keep = {.keep_unknown = true};
    CHECK(read_cut(s, &keep, "id,extra\n1,2\n", 13, 0, 0) == SL_CSV_OK);
    CHECK_STR(seen.data, "L2 {\"id\":1,\"extra\":\"2\"}\n");
    /* and a non-nullable field without a column is the transform's to
     * fill: the rows are read, the schema check judges its output */
    CHECK(read_cut(s, &keep, "name\nx\n", 7, 0, 0) == SL_CSV_OK);
    CHECK_STR(seen.data, "L2 {\"name\":\"x\"}\n");
    sl_schema_free(s);
    s = people(SL_UNKNOWN_DROP);
    CHECK_STR(read_all(s, "extra,id\n2,1\n"), "L2 {\"id\":1}\n");
    sl_schema_free(s);
}

static void test_row_errors_and_lines(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    const char *text = "id,name\n"          /* 1 */
                       "1,\"a\nb\nc\"\n"     /* 2-4 */
                       "2\n"                 /* 5: one cell */
                       "3,x,y\n"             /* 6: three */
                       "4,a\"b\n"            /* 7: stray quote */
                       "5,\"q\"z\n"          /* 8: text after quote */
                       "6,\"m\nn\"o\n"       /* 9-10: bad on line 10 */
                       "7,ok\n"              /* 11 */
                       "8,\"open\nend";      /* 12-13: never closed */
    CHECK_STR(read_all(s, text),
              "L2 {\"id\":1,\"name\":\"a\\nb\\nc\"}\n"
              "L5 ! : row has 1 cell, the header has 2 | 2\n"
              "L6 ! : row has 3 cells, the header has 2 | 3,x,y\n"
              "L7 ! name: malformed CSV: a quote inside an unquoted cell "
              "(quote the cell and write the quote as \"\") | 4,a\"b\n"
              "L8 ! name: malformed CSV: text after the closing quote of a "
              "quoted cell (a quote inside one is written \"\") | 5,\"q\"z\n"
              "L9 ! name: malformed CSV (on line 10): text after the closing "
              "quote of a quoted cell (a quote inside one is written \"\") | "
              "6,\"m\nn\"o\n"
              "L11 {\"id\":7,\"name\":\"ok\"}\n"
              "L12 ! name: malformed CSV: a quoted cell is not closed (the "
              "file ends inside it) | 8,\"open\nend\n");
    sl_schema_free(s);
}

/* Every way of cutting the input gives the same rows. */
static void test_chunks(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    const char *text = "\xEF\xBB\xBFid,name,score,ok,tags\r\n"
                       "1,\"a,\r\nb\",1.5,true,\"{\"\"k\"\":[1]}\"\r\n"
                       "\r\n"
                       "2,\"\",,0,\r\n"
                       "x,y,z,w,v\r\n"
                       "3,\"q\"z,1,1,\r\n"
                       "4,\"\xc3\xa9\",,,\r\n"
                       "5,\"end\"";
    size_t n = strlen(text);
    CHECK(read_cut(s, NULL, text, n, 0, 0) == SL_CSV_OK);
    char *want = strdup(seen.data);
    CHECK_CONTAINS(want, "L2 {\"id\":1,\"name\":\"a,\\r\\nb\"");
    CHECK_CONTAINS(want, "L7 ! name: malformed");
    CHECK_CONTAINS(want, "L9 ! : row has 2 cells, the header has 5 | "
                         "5,\"end\"");
    for (long step = 1; step <= 9; step++) {
        CHECK(read_cut(s, NULL, text, n, step, 0) == SL_CSV_OK);
        CHECK_STR(seen.data, want);
    }
    for (unsigned seed = 1; seed <= 200; seed++) {
        CHECK(read_cut(s, NULL, text, n, -1, seed) == SL_CSV_OK);
        CHECK_STR(seen.data, want);
    }
    /* one cut at every byte position */
    for (size_t cut = 0; cut <= n; cut++) {
        sl_buf_reset(&seen);
        sl_csv *r = sl_csv_new(s, NULL, collect, NULL);
        CHECK(sl_csv_feed(r, text, cut) == SL_CSV_OK);
        CHECK(sl_csv_feed(r, text + cut, n - cut) == SL_CSV_OK);
        CHECK(sl_csv_finish(r) == SL_CSV_OK);
        sl_csv_free(r);
        sl_buf_putc(&seen, '\0');
        CHECK_STR(seen.data, want);
    }
    free(want);
    sl_schema_free(s);
}

static void test_hostile(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    sl_csv_options lim = {.cell_bytes = 1000, .row_bytes = 3000,
                          .columns = 8};
    /* a 64 MiB quoted cell: rejected, never held whole */
    size_t big = (size_t)64 << 20;
    char *chunk = malloc(1 << 16);
    memset(chunk, 'x', 1 << 16);
    for (int i = 0; i < 4096; i += 64)
        chunk[i] = '\n';
    sl_buf_reset(&seen);
    sl_csv *r = sl_csv_new(s, &lim, collect, NULL);
    CHECK(sl_csv_feed(r, "id,name\n1,\"", 11) == SL_CSV_OK);
    for (size_t i = 0; i < big; i += 1 << 16)
        CHECK(sl_csv_feed(r, chunk, 1 << 16) == SL_CSV_OK);
    CHECK(sl_csv_feed(r, "\"\n2,ok\n", 7) == SL_CSV_OK);
    CHECK(sl_csv_finish(r) == SL_CSV_OK);
    sl_csv_free(r);
    sl_buf_putc(&seen, '\0');
    CHECK_CONTAINS(seen.data, "L2 ! name: cell is longer than 1000 bytes");
    CHECK_CONTAINS(seen.data, "\nL65539 {\"id\":2,\"name\":\"ok\"}\n");
    /* the same, never closed */
    r = sl_csv_new(s, &lim, collect, NULL);
    sl_buf_reset(&seen);
    CHECK(sl_csv_feed(r, "id,name\n1,\"", 11) == SL_CSV_OK);
    for (int i = 0; i < 64; i++)
        CHECK(sl_csv_feed(r, chunk, 1 << 16) == SL_CSV_OK);
    CHECK(sl_csv_finish(r) == SL_CSV_OK);
    sl_csv_free(r);
    sl_buf_putc(&seen, '\0');
    CHECK_CONTAINS(seen.data, "L2 ! name: malformed CSV: a quoted cell is "
                              "not closed");
    free(chunk);
    /* a long row of short cells, many columns */
    char text[8192];
    size_t n = (size_t)snprintf(text, sizeof text, "id,name\n1,");
    for (int i = 0; i < 2000; i++)
        text[n++] = i % 2 ? ',' : 'a';
    memcpy(text + n, "\n2,b\n", 6);
    n += 5;
    CHECK(read_cut(s, &lim, text, n, 0, 0) == SL_CSV_OK);
    CHECK_CONTAINS(seen.data, "L2 ! : row has more than 8 cells");
    CHECK_CONTAINS(seen.data, "L3 {\"id\":2,\"name\":\"b\"}");
    memset(text, ',', 20);
    memcpy(text + 20, "\n", 2);
    CHECK(read_cut(s, &lim, text, 21, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "more than 8 cells");
    /* a row over its limit in cells under theirs */
    n = (size_t)snprintf(text, sizeof text, "id,name,score\n1,");
    memset(text + n, 'a', 900);
    n += 900;
    text[n++] = ',';
    memset(text + n, 'b', 900);
    n += 900;
    memcpy(text + n, "\n", 2);
    lim.row_bytes = 1500;
    CHECK(read_cut(s, &lim, text, n + 1, 0, 0) == SL_CSV_OK);
    CHECK_CONTAINS(seen.data, "L2 ! : row is longer than 1500 bytes");
    /* NUL bytes and invalid UTF-8 */
    static const char nul[] = "id,name\n1,a\0b\n2,\xc3\x28\n"
                              "3,\"\xed\xa0\x80\"\n";
    CHECK(read_cut(s, NULL, nul, sizeof nul - 1, 0, 0) == SL_CSV_OK);
    CHECK_CONTAINS(seen.data, "L2 ! name: cell holds a NUL byte | 1,a@b\n");
    CHECK_CONTAINS(seen.data, "L3 ! name: cell is not valid UTF-8");
    CHECK_CONTAINS(seen.data, "L4 ! name: cell is not valid UTF-8");
    CHECK(read_cut(s, NULL, "i\xff\n", 4, 0, 0) == SL_CSV_E_HEADER);
    CHECK_CONTAINS(herr, "not valid UTF-8");
    sl_schema_free(s);
}

static int stop_at_two(void *ud, const sl_csv_row *row)
{
    (void)ud;
    return row->number == 2;
}

static void test_lines(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    static const struct {
        const char *text;
        size_t lines;
    } cases[] = {{"id\n1", 2},      {"id\n1\n", 2},   {"id\r\n1\r\n", 2},
                 {"id\r1\r", 2},    {"id\r\r\n\n1", 4}, {"id\n\"\n\"", 3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t step = 1; step <= 2; step++) {
            sl_csv *r = sl_csv_new(s, NULL, NULL, NULL);
            const char *t = cases[i].text;
            size_t n = strlen(t);
            for (size_t k = 0; k < n; k += step)
                sl_csv_feed(r, t + k, n - k < step ? n - k : step);
            CHECK(sl_csv_finish(r) == SL_CSV_OK);
            if (sl_csv_lines(r) != cases[i].lines)
                fprintf(stderr, "case %zu step %zu: %zu lines\n", i, step,
                        sl_csv_lines(r));
            CHECK(sl_csv_lines(r) == cases[i].lines);
            sl_csv_free(r);
        }
    }
    sl_schema_free(s);
}

static void test_stop(void)
{
    sl_schema *s = people(SL_UNKNOWN_REJECT);
    sl_csv *r = sl_csv_new(s, NULL, stop_at_two, NULL);
    CHECK(sl_csv_feed(r, "id\n1\n2\n3\n", 9) == SL_CSV_E_STOPPED);
    CHECK(sl_csv_rows(r) == 2);
    CHECK(sl_csv_finish(r) == SL_CSV_E_STOPPED);
    sl_csv_free(r);
    sl_csv_free(NULL);
    sl_schema_free(s);
}

int main(void)
{
    sl_buf_init(&seen, 0);
    static const sl_test_case cases[] = {
        {"rfc4180", test_rfc4180},
        {"empty_and_null", test_empty_and_null},
        {"types", test_types},
        {"cell_direct", test_cell_direct},
        {"header", test_header},
        {"row_errors_and_lines", test_row_errors_and_lines},
        {"chunks", test_chunks},
        {"hostile", test_hostile},
        {"lines", test_lines},
        {"stop", test_stop},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_buf_free(&seen);
    return rc;
}
