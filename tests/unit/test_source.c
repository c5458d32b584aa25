/* Unit tests for sl_source and sl_jsonsplit: every format through one
 * record shape, NDJSON and JSON arrays split across chunks at every byte,
 * malformed, oversized and hostile input (truncated arrays, garbage
 * between elements, non-objects, NUL bytes, invalid UTF-8, CRLF, BOM,
 * empty files), sniffing standard input's format, reading real files. */
#include <stdint.h>
#include <stdlib.h>

#include "sl_buf.h"
#include "sl_jsonsplit.h"
#include "sl_source.h"
#include "sl_test.h"
#include "sl_test_dir.h"

/* What the reader gave: "L<line> <json>" or "L<line> ! <field>: <error> |
 * <raw>" per record (NUL shown as @, a cut raw ends with ~). */
static sl_buf seen;
static size_t stop_after; /* 0: never */
static size_t nrec;

static int collect(void *ud, const sl_source_rec *r)
{
    (void)ud;
    sl_buf_printf(&seen, "L%zu ", r->line);
    if (r->json) {
        CHECK(r->error == NULL);
        sl_buf_append(&seen, r->json, r->json_len);
    } else {
        CHECK(r->field != NULL);
        sl_buf_printf(&seen, "! %s: %s | ", r->field, r->error);
        for (size_t i = 0; i < r->raw_len; i++)
            sl_buf_putc(&seen, r->raw[i] ? r->raw[i] : '@');
        if (r->raw_cut)
            sl_buf_putc(&seen, '~');
    }
    sl_buf_putc(&seen, '\n');
    return stop_after && ++nrec >= stop_after;
}

static sl_schema *schema(void)
{
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    char err[128];
    CHECK(sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "name", SL_TYPE_STRING, true, err, sizeof err) == 0);
    return s;
}

static char ferr[600];

/* Feed text[0..n) cut at `cut` (0: whole) or one byte at a time (step
 * 1), as format f; the records land in seen, an error in ferr. */
static sl_source_rc run(sl_source_format f, size_t limit, const char *text,
                        size_t n, size_t cut, size_t step)
{
    sl_schema *sc = schema();
    sl_buf_reset(&seen);
    nrec = 0;
    ferr[0] = '\0';
    sl_source_options o = {.format = f, .record_bytes = limit};
    sl_source *s = sl_source_new(sc, &o, collect, NULL);
    CHECK(s != NULL);
    sl_source_rc rc = SL_SOURCE_OK;
    if (step) {
        for (size_t i = 0; i < n && rc == SL_SOURCE_OK; i += step)
            rc = sl_source_feed(s, text + i, n - i < step ? n - i : step);
    } else {
        rc = sl_source_feed(s, text, cut);
        if (rc == SL_SOURCE_OK)
            rc = sl_source_feed(s, text + cut, n - cut);
    }
    if (rc == SL_SOURCE_OK)
        rc = sl_source_finish(s);
    snprintf(ferr, sizeof ferr, "%s", sl_source_error(s));
    sl_source_free(s);
    sl_schema_free(sc);
    sl_buf_putc(&seen, '\0');
    return rc;
}

static const char *got(sl_source_format f, const char *text)
{
    sl_source_rc rc = run(f, 0, text, strlen(text), 0, 0);
    CHECK(rc == SL_SOURCE_OK);
    return seen.data;
}

/* The same records and result however the input is cut: at every byte
 * position in two pieces, and one byte at a time. */
static void check_cuts(sl_source_format f, size_t limit, const char *text,
                       size_t n)
{
    sl_source_rc want_rc = run(f, limit, text, n, 0, 0);
    char *want = strdup(seen.data);
    char *want_err = strdup(ferr);
    for (size_t cut = 0; cut <= n; cut++) {
        sl_source_rc rc = run(f, limit, text, n, cut, 0);
        CHECK(rc == want_rc);
        if (strcmp(seen.data, want) != 0 || strcmp(ferr, want_err) != 0) {
            fprintf(stderr, "cut at %zu of %zu:\n%s---\nwant:\n%s", cut, n,
                    seen.data, want);
            CHECK(0);
            break;
        }
    }
    CHECK(run(f, limit, text, n, 0, 1) == want_rc);
    CHECK_STR(seen.data, want);
    free(want);
    free(want_err);
}

static void test_delimiters(void)
{
    char d = 0;
    CHECK(sl_source_delimiter_parse(";", &d) == 0 && d == ';');
    CHECK(sl_source_delimiter_parse("tab", &d) == 0 && d == '\t');
    CHECK(sl_source_delimiter_parse("\\t", &d) == 0 && d == '\t');
    d = 'x';
    CHECK(sl_source_delimiter_parse("", &d) == -1);
    CHECK(sl_source_delimiter_parse(";;", &d) == -1);
    CHECK(sl_source_delimiter_parse("\"", &d) == -1);
    CHECK(sl_source_delimiter_parse("\n", &d) == -1);
    CHECK(sl_source_delimiter_parse("\r", &d) == -1);
    CHECK(d == 'x'); /* untouched when refused */
    CHECK(sl_source_takes_delimiter(SL_SOURCE_AUTO));
    CHECK(sl_source_takes_delimiter(SL_SOURCE_CSV));
    CHECK(sl_source_takes_delimiter(SL_SOURCE_TSV));
    CHECK(!sl_source_takes_delimiter(SL_SOURCE_NDJSON));
    CHECK(!sl_source_takes_delimiter(SL_SOURCE_JSON));
}

static void test_formats(void)
{
    CHECK_STR(got(SL_SOURCE_CSV, "id,name\r\n1,\"a, b\"\r\n2,\"x\r\ny\"\r\n3,z"),
              "L2 {\"id\":1,\"name\":\"a, b\"}\n"
              "L3 {\"id\":2,\"name\":\"x\\r\\ny\"}\n"
              "L5 {\"id\":3,\"name\":\"z\"}\n");
    CHECK_STR(got(SL_SOURCE_CSV, "id,name\n4x,a\n"),
              "L2 ! id: \"4x\" is not an integer | 4x,a\n");
    CHECK_STR(got(SL_SOURCE_TSV, "\xEF\xBB\xBFid\tname\n1\ta,b\n"),
              "L2 {\"id\":1,\"name\":\"a,b\"}\n");
    CHECK_STR(got(SL_SOURCE_NDJSON, "{\"id\":1}\n\n  \n{\"id\":2}\r\n"
                                     "{\"id\":3}\r{\"id\":4}"),
              "L1 {\"id\":1}\nL4 {\"id\":2}\nL5 {\"id\":3}\nL6 {\"id\":4}\n");
    CHECK_STR(got(SL_SOURCE_JSON, "\xEF\xBB\xBF[\n {\"id\":1},\n {\"id\":2,\n"
                                   "  \"name\":\"a,]}\\\"[{\"}\n]\n"),
              "L2 {\"id\":1}\nL3 {\"id\":2,\n  \"name\":\"a,]}\\\"[{\"}\n");
    CHECK_STR(got(SL_SOURCE_JSON, "[]"), "");
    CHECK_STR(got(SL_SOURCE_JSON, " \r\n[ ]\r\n "), "");
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"a\":[1,{\"b\":[]}]}]"),
              "L1 {\"a\":[1,{\"b\":[]}]}\n");
    /* an empty NDJSON file has no records; an empty array file is not an
     * array; neither has a CSV header */
    CHECK_STR(got(SL_SOURCE_NDJSON, ""), "");
    CHECK_STR(got(SL_SOURCE_NDJSON, "\xEF\xBB\xBF\n\n"), "");
    CHECK(run(SL_SOURCE_JSON, 0, "", 0, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "empty");
    CHECK(run(SL_SOURCE_JSON, 0, "\xEF\xBB\xBF \n", 5, 0, 0) ==
          SL_SOURCE_E_FORMAT);
    CHECK(run(SL_SOURCE_CSV, 0, "", 0, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK(run(SL_SOURCE_CSV, 0, "idx,name\n1,a\n", 13, 0, 0) ==
          SL_SOURCE_E_FORMAT);
    CHECK(strlen(ferr) > 0);
    CHECK_STR(seen.data, "");
}

static void test_array_malformed(void)
{
    /* not an array: refused before any record */
    CHECK(run(SL_SOURCE_JSON, 0, "\n{\"id\":1}", 9, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "not a JSON array: line 2 begins with '{'");
    CHECK_STR(seen.data, "");
    CHECK(run(SL_SOURCE_JSON, 0, "\0[]", 3, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "byte 0x00");
    /* truncated: the elements up to there, then the missing ] */
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1},\n{\"id\":2}"),
              "L1 {\"id\":1}\nL2 {\"id\":2}\n"
              "L2 ! : the file ends before the array's closing ] "
              "(truncated?) | \n");
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1},\n{\"id\":"),
              "L1 {\"id\":1}\n"
              "L2 ! : malformed JSON: unexpected end of input | {\"id\":\n"
              "L2 ! : the file ends before the array's closing ] "
              "(truncated?) | \n");
    CHECK_STR(got(SL_SOURCE_JSON, "["),
              "L1 ! : the file ends before the array's closing ] "
              "(truncated?) | \n");
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":\"abc"),
              "L1 ! : malformed JSON: unterminated string | {\"id\":\"abc\n"
              "L1 ! : the file ends before the array's closing ] "
              "(truncated?) | \n");
    /* garbage between elements rejects the element it follows only */
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1} xyz,\n{\"id\":2}]"),
              "L1 ! : malformed JSON: trailing characters after the "
              "document | {\"id\":1} xyz\nL2 {\"id\":2}\n");
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1}}, {\"id\":2}]"),
              "L1 ! : malformed JSON: trailing characters after the "
              "document | {\"id\":1}}\nL1 {\"id\":2}\n");
    /* non-objects */
    CHECK_STR(got(SL_SOURCE_JSON, "[1, \"a,b\", [1,2], null, true, {}]"),
              "L1 ! : the element is a number, not an object | 1\n"
              "L1 ! : the element is a string, not an object | \"a,b\"\n"
              "L1 ! : the element is an array, not an object | [1,2]\n"
              "L1 ! : the element is a null, not an object | null\n"
              "L1 ! : the element is a boolean, not an object | true\n"
              "L1 {}\n");
    /* empty elements, text after the end */
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1},,{\"id\":2},]"),
              "L1 {\"id\":1}\n"
              "L1 ! : empty element (a comma with no element before it) | \n"
              "L1 {\"id\":2}\n"
              "L1 ! : empty element (a comma with no element before it) | \n");
    CHECK_STR(got(SL_SOURCE_JSON, "[{\"id\":1}]\n\nmore [{\"id\":2}]\n"),
              "L1 {\"id\":1}\n"
              "L3 ! : text after the array's closing ] | more [{\"id\":2}]\n");
}

static void test_hostile(void)
{
    /* NUL bytes, invalid UTF-8, control characters in strings */
    static const char nul[] = "{\"id\":1,\"name\":\"a\0b\"}\n{\"id\":2}\n";
    CHECK(run(SL_SOURCE_NDJSON, 0, nul, sizeof nul - 1, 0, 0) == SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : malformed JSON:");
    CHECK_CONTAINS(seen.data, "a@b\"}\nL2 {\"id\":2}\n");
    static const char nul2[] = "[{\"id\":1}\0, {\"id\":2}]";
    CHECK(run(SL_SOURCE_JSON, 0, nul2, sizeof nul2 - 1, 0, 0) == SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : malformed JSON:");
    CHECK_CONTAINS(seen.data, "\nL1 {\"id\":2}\n");
    CHECK_CONTAINS(got(SL_SOURCE_NDJSON, "{\"name\":\"\xC3\x28\"}\n{\"id\":3}"),
                   "L1 ! : malformed JSON:");
    CHECK_CONTAINS(seen.data, "L2 {\"id\":3}");
    CHECK_CONTAINS(got(SL_SOURCE_JSON, "[{\"name\":\"\xED\xA0\x80\"},{}]"),
                   "L1 ! : malformed JSON:");
    CHECK_CONTAINS(seen.data, "L1 {}\n");
    CHECK_CONTAINS(got(SL_SOURCE_CSV, "id,name\n1,\"\xFF\"\n"), "L2 ! name:");
    /* NDJSON: a non-object line, a malformed line, two objects on a line */
    CHECK_STR(got(SL_SOURCE_NDJSON, "[{\"id\":1}]\n{\"id\":\n{}{}\n{}\n"),
              "L1 ! : the line is an array, not an object | [{\"id\":1}]\n"
              "L2 ! : malformed JSON: unexpected end of input | {\"id\":\n"
              "L3 ! : malformed JSON: trailing characters after the "
              "document | {}{}\nL4 {}\n");
    /* a line over the limit is cut, not buffered, and the next is read */
    size_t big = 100000;
    char *t = malloc(big + 64);
    memcpy(t, "{\"name\":\"", 9);
    memset(t + 9, 'x', big);
    memcpy(t + 9 + big, "\"}\n{\"id\":9}\n", 13);
    CHECK(run(SL_SOURCE_NDJSON, 64, t, big + 21, 0, 0) == SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : the line is over 64 bytes | {\"name\":");
    CHECK_CONTAINS(seen.data, "xxx~\nL2 {\"id\":9}\n");
    CHECK(strlen(seen.data) < 200);
    /* the same in an array, whose brackets in the cut part still count */
    t[0] = '[';
    memcpy(t + 1, "{\"name\":\"", 9);
    memset(t + 10, 'x', big);
    memcpy(t + 10 + big, "\",\"a\":[1,{}]},{\"id\":9}]", 23);
    CHECK(run(SL_SOURCE_JSON, 64, t, big + 33, 0, 0) == SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : the element is over 64 bytes |");
    CHECK_CONTAINS(seen.data, "xxx~\nL1 {\"id\":9}\n");
    /* deep nesting: followed without memory, rejected by sl_json */
    size_t deep = 50000;
    memset(t, 0, big + 64);
    t[0] = '[';
    memset(t + 1, '[', deep);
    memset(t + 1 + deep, ']', deep);
    memcpy(t + 1 + 2 * deep, ",{}]", 4);
    CHECK(run(SL_SOURCE_JSON, 2 * deep + 8, t, 2 * deep + 5, 0, 0) ==
          SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : malformed JSON:");
    CHECK_CONTAINS(seen.data, "]]]\nL1 {}\n");
    /* an unclosed string swallows the rest: one rejection, then the end */
    CHECK_CONTAINS(got(SL_SOURCE_JSON, "[{\"a\":\"x}, {\"id\":2}]"),
                   "the file ends before the array's closing ]");
    free(t);
}

static void test_chunks(void)
{
    static const char *arrays[] = {
        ("\xEF\xBB\xBF[\r\n{\"id\":1,\"name\":\"a,]}\\\\\\\"\"},\r\n"
         "{\"id\":2}  x ,\n[1],,\n\"s\"\r{\"n\":{\"m\":[{}]}}\n]\r\n tail"),
        "[{\"id\":1},\n{\"id\":",
        "  [ ]  ",
    };
    for (size_t i = 0; i < sizeof arrays / sizeof *arrays; i++)
        check_cuts(SL_SOURCE_JSON, 0, arrays[i], strlen(arrays[i]));
    static const char *lines[] = {
        "\xEF\xBB\xBF{\"id\":1}\r\n\r\n {\"a\":\"b\\n\"} \r{\"id\":\n[]\n{}",
        "\xEF\xBB\n{}",
        "\xEF{}\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        check_cuts(SL_SOURCE_NDJSON, 0, lines[i], strlen(lines[i]));
    const char *nd = "{\"id\":123456789}\n{\"id\":1}\n{\"name\":\"0123456789\"}";
    check_cuts(SL_SOURCE_NDJSON, 12, nd, strlen(nd));
    CHECK_CONTAINS(seen.data, "L1 ! : the line is over 12 bytes");
    CHECK_CONTAINS(seen.data, "L2 {\"id\":1}\nL3 ! : the line is over");
    const char *ar = "[{\"id\":123456789},{\"id\":1},{\"name\":\"0123456789\"}]";
    check_cuts(SL_SOURCE_JSON, 12, ar, strlen(ar));
    CHECK_CONTAINS(seen.data, "L1 {\"id\":1}\nL1 ! : the element is over");
    const char *csv = "\xEF\xBB\xBFid,name\r\n1,\"a\r\nb\"\r\nx,2\r\n3,c";
    check_cuts(SL_SOURCE_CSV, 0, csv, strlen(csv));
    /* the partial BOMs are data, so not valid JSON */
    CHECK_CONTAINS(seen.data, "L2 {\"id\":1");
    CHECK(run(SL_SOURCE_NDJSON, 0, "\xEF{}\n", 4, 0, 0) == SL_SOURCE_OK);
    CHECK_CONTAINS(seen.data, "L1 ! : malformed JSON:");
}

static void test_sniff(void)
{
    CHECK_STR(got(SL_SOURCE_AUTO, "\xEF\xBB\xBF \r\n [{\"id\":1}]"),
              "L2 {\"id\":1}\n");
    CHECK_STR(got(SL_SOURCE_AUTO, "\n\n{\"id\":1}\n{\"id\":2}"),
              "L3 {\"id\":1}\nL4 {\"id\":2}\n");
    check_cuts(SL_SOURCE_AUTO, 0, "\xEF\xBB\xBF\n [{},\n{}]", 12);
    CHECK(run(SL_SOURCE_AUTO, 0, "id,name\n1,a\n", 12, 0, 0) ==
          SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "give --format");
    CHECK_STR(seen.data, "");
    CHECK(run(SL_SOURCE_AUTO, 0, "  \n", 3, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "empty");
    /* a BB after a space is not a BOM */
    CHECK(run(SL_SOURCE_AUTO, 0, " \xBB[]", 4, 0, 0) == SL_SOURCE_E_FORMAT);
    /* whitespace without end is refused, not held */
    size_t n = (size_t)200 << 10;
    char *ws = malloc(n);
    memset(ws, ' ', n);
    CHECK(run(SL_SOURCE_AUTO, 0, ws, n, 0, 0) == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(ferr, "only whitespace");
    free(ws);
}

static void test_names(void)
{
    sl_source_format f;
    CHECK(sl_source_format_parse("JSONL", &f) == 0 && f == SL_SOURCE_NDJSON);
    CHECK(sl_source_format_parse("tsv", &f) == 0 && f == SL_SOURCE_TSV);
    CHECK(sl_source_format_parse("xml", &f) == -1);
    CHECK(sl_source_format_of_path("a/b.c/data.CSV") == SL_SOURCE_CSV);
    CHECK(sl_source_format_of_path("x.json") == SL_SOURCE_JSON);
    CHECK(sl_source_format_of_path("x.ndjson") == SL_SOURCE_NDJSON);
    CHECK(sl_source_format_of_path("a.csv/data") == SL_SOURCE_AUTO);
    CHECK(sl_source_format_of_path("data.") == SL_SOURCE_AUTO);
    CHECK(sl_source_format_of_path("-") == SL_SOURCE_AUTO);
    CHECK_STR(sl_source_format_name(SL_SOURCE_JSON), "json");
}

static void test_files(void)
{
    char dir[128], path[200];
    sl_test_dir_fresh(dir, sizeof dir, "source");
    sl_schema *sc = schema();
    sl_source_rc rc;
    char err[300];
    /* a file of many chunks: every record, bytes counted to the size */
    snprintf(path, sizeof path, "%s/data.ndjson", dir);
    sl_buf text;
    sl_buf_init(&text, 0);
    for (int i = 0; i < 5000; i++)
        sl_buf_printf(&text, "{\"id\":%d}\n", i);
    sl_test_put_file(path, text.data, text.len);
    sl_source_options o = {.chunk_bytes = 1000};
    sl_buf_reset(&seen);
    nrec = 0;
    sl_source *s = sl_source_open(path, sc, &o, collect, NULL, &rc, err,
                                  sizeof err);
    CHECK(s != NULL && rc == SL_SOURCE_OK);
    CHECK(sl_source_size(s) == (int64_t)text.len);
    CHECK(sl_source_format_used(s) == SL_SOURCE_NDJSON);
    int reads = 0;
    while ((rc = sl_source_read(s)) == SL_SOURCE_OK)
        reads++;
    CHECK(rc == SL_SOURCE_END);
    CHECK(reads > 40);
    CHECK(sl_source_bytes(s) == text.len);
    CHECK(sl_source_read(s) == SL_SOURCE_END);
    sl_buf_putc(&seen, '\0');
    CHECK_CONTAINS(seen.data, "L5000 {\"id\":4999}\n");
    sl_source_free(s);
    /* the callback stops the reader */
    stop_after = 3;
    nrec = 0;
    s = sl_source_open(path, sc, NULL, collect, NULL, &rc, err, sizeof err);
    while ((rc = sl_source_read(s)) == SL_SOURCE_OK)
        ;
    CHECK(rc == SL_SOURCE_E_STOPPED);
    CHECK(nrec == 3);
    sl_source_free(s);
    stop_after = 0;
    /* errors: no such file, a directory, a name without a format */
    snprintf(path, sizeof path, "%s/missing.csv", dir);
    CHECK(sl_source_open(path, sc, NULL, collect, NULL, &rc, err,
                         sizeof err) == NULL);
    CHECK(rc == SL_SOURCE_E_IO);
    CHECK_CONTAINS(err, "cannot open");
    snprintf(path, sizeof path, "%s/d.json", dir);
    CHECK(mkdir(path, 0700) == 0);
    CHECK(sl_source_open(path, sc, NULL, collect, NULL, &rc, err,
                         sizeof err) == NULL);
    CHECK(rc == SL_SOURCE_E_IO);
    snprintf(path, sizeof path, "%s/data.txt", dir);
    sl_test_put_file(path, "{}", 2);
    CHECK(sl_source_open(path, sc, NULL, collect, NULL, &rc, err,
                         sizeof err) == NULL);
    CHECK(rc == SL_SOURCE_E_FORMAT);
    CHECK_CONTAINS(err, "cannot tell the format");
    o.format = SL_SOURCE_NDJSON;
    s = sl_source_open(path, sc, &o, collect, NULL, &rc, err, sizeof err);
    CHECK(s != NULL);
    sl_source_free(s);
    sl_buf_free(&text);
    sl_schema_free(sc);
    sl_test_rm_rf(dir);
}

int main(void)
{
    sl_buf_init(&seen, 0);
    static const sl_test_case cases[] = {
        {"formats", test_formats},
        {"delimiters", test_delimiters},
        {"array_malformed", test_array_malformed},
        {"hostile", test_hostile},
        {"chunks", test_chunks},
        {"sniff", test_sniff},
        {"names", test_names},
        {"files", test_files},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_buf_free(&seen);
    return rc;
}
