/* Torture tests for sl_json (sl_torture.h): the scanner, skip and the
 * token helpers never allocate, shown by counting over a large hostile
 * document and its malformed variants with every allocation failing; and
 * sl_json_unescape into an sl_buf, whose growth is failed at each
 * allocation in turn: it fails with the buffer as it was, or succeeds with
 * the right bytes, and leaks nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_test.h"
#include "sl_torture.h"

/* ---- documents ---------------------------------------------------------- */

/* A string body (between quotes) with every escape, raw multi-byte UTF-8
 * and plain runs, `reps` times. */
static void put_nasty_string(sl_buf *b, size_t reps)
{
    static const char piece[] =
        "plain text \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u0000 \\u001f "
        "\\u00e9 \\u20ac \\uD83D\\uDE00 \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 ";
    for (size_t i = 0; i < reps; i++)
        CHECK(sl_buf_append(b, piece, sizeof piece - 1) == 0);
}

/* A valid document of a few MiB that walks every corner of the grammar:
 * nesting to the ceiling, long strings with escapes, numbers of every
 * form (some out of int64 and double range), literals, empty strings and
 * keys, a wide object. */
static void build_hostile(sl_buf *b)
{
    CHECK(sl_buf_append(b, " [\n", 3) == 0);
    for (int d = 0; d < SL_JSON_MAX_DEPTH - 2; d++) { /* the array is one */
        const char *open = d % 2 ? "{\"\\u006b\":" : "[";
        CHECK(sl_buf_append(b, open, strlen(open)) == 0);
    }
    CHECK(sl_buf_append(b, "\"deep\"", 6) == 0);
    for (int d = SL_JSON_MAX_DEPTH - 3; d >= 0; d--)
        CHECK(sl_buf_putc(b, d % 2 ? '}' : ']') == 0);
    static const char *const scalars[] = {
        "0", "-0", "1", "-1", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "123456789012345678901234567890", "1.5",
        "-0.0e+0", "1e308", "1e400", "1.7976931348623157e308", "4.9e-324",
        "1e-400", "1E+2", "2.5E-3", "true", "false", "null", "\"\"",
        "{}", "[]", "{\"\":\"\"}", "[[], {}, [[]]]"};
    for (int k = 0; k < 200; k++)
        for (size_t i = 0; i < sizeof scalars / sizeof scalars[0]; i++) {
            CHECK(sl_buf_append(b, ",\t", 2) == 0);
            CHECK(sl_buf_append(b, scalars[i], strlen(scalars[i])) == 0);
        }
    CHECK(sl_buf_append(b, ",{", 2) == 0);
    for (int i = 0; i < 5000; i++) {
        CHECK(sl_buf_printf(b, "%s\"key%d\\n\" : [%d, \"", i ? ", " : "", i, i) == 0);
        put_nasty_string(b, (size_t)i % 3);
        CHECK(sl_buf_append(b, "\"]", 2) == 0);
    }
    CHECK(sl_buf_append(b, "},\"", 3) == 0);
    put_nasty_string(b, 20000); /* about 2 MiB */
    CHECK(sl_buf_append(b, "\"]\r\n", 4) == 0);
}

/* What one scan saw, to tell that it really ran. */
typedef struct scan_result {
    sl_json_type last;   /* SL_JSON_END or SL_JSON_ERROR */
    size_t tokens;
    size_t strings_decoded;
    size_t numbers_parsed;
    int skip_rc;
} scan_result;

/* Every token; every string and key decoded into a fixed buffer; every
 * number parsed; then the top-level value skipped in a second scanner. */
static scan_result scan_all(const char *p, size_t len, int depth)
{
    static char dst[1 << 16];
    scan_result r = {0};
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, p, len, depth);
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        r.tokens++;
        if (ty == SL_JSON_END || ty == SL_JSON_ERROR) {
            r.last = ty;
            break;
        }
        size_t n;
        int64_t i;
        double d;
        if ((ty == SL_JSON_STRING || ty == SL_JSON_KEY) &&
            sl_json_unescape_into(t.p, t.len, dst, sizeof dst, &n) == 0)
            r.strings_decoded++;
        if (ty == SL_JSON_NUMBER) {
            if (t.flags & SL_JSON_F_INT)
                r.numbers_parsed += sl_json_parse_int64(t.p, t.len, &i) == 0;
            r.numbers_parsed += sl_json_parse_double(t.p, t.len, &d) == 0;
        }
    }
    sl_json_init(&js, p, len, depth);
    sl_json_type ty = sl_json_next(&js, &t);
    r.skip_rc = ty == SL_JSON_ERROR ? -1 : sl_json_skip(&js, &t);
    if (r.skip_rc == 0 && sl_json_next(&js, &t) != SL_JSON_END)
        r.skip_rc = 1;
    return r;
}

/* ---- the scanner never allocates ---------------------------------------- */

/* Scan doc (and again with depth 4) with every allocation failing: no
 * allocation is even attempted, and the result is that of an unarmed
 * scan. Returns the armed full-depth result. */
static scan_result scan_without_memory(const char *p, size_t len)
{
    scan_result free_run = scan_all(p, len, 0);
    sl_torture_arm(1, true);
    scan_result r = scan_all(p, len, 0);
    scan_result shallow = scan_all(p, len, 4);
    unsigned long calls = sl_torture_calls();
    CHECK(sl_torture_disarm() == 0);
    CHECK(calls == 0);
    CHECK(r.last == free_run.last && r.tokens == free_run.tokens);
    CHECK(r.strings_decoded == free_run.strings_decoded);
    CHECK(r.numbers_parsed == free_run.numbers_parsed);
    CHECK(r.skip_rc == free_run.skip_rc);
    CHECK(shallow.last == SL_JSON_ERROR); /* too deep for 4 */
    return r;
}

static void test_scanner_never_allocates(void)
{
    sl_buf doc;
    sl_buf_init(&doc, 0);
    build_hostile(&doc);
    long live0 = sl_torture_live();

    scan_result r = scan_without_memory(doc.data, doc.len);
    CHECK(r.last == SL_JSON_END && r.skip_rc == 0);
    CHECK(r.tokens > 30000);
    CHECK(r.strings_decoded > 10000);
    CHECK(r.numbers_parsed > 5000);

    /* malformed: too deep, a byte order mark, a lone surrogate, overlong
     * UTF-8, a raw control character, a truncated document, trailing
     * bytes: each an error, none allocating */
    static const char *const bad[] = {
        "\xEF\xBB\xBF[]", "[\"\\uD800\"]", "[\"\xC0\xAF\"]",
        "[\"a\nb\"]", "{\"a\":1,}", "[1] x", "[\"\\u12\"]", "-", "01",
        "[1e]", "{\"a\" 1}", "\"\xF4\x90\x80\x80\"", "[nul]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(scan_without_memory(bad[i], strlen(bad[i])).last == SL_JSON_ERROR);
    char deep[300];
    memset(deep, '[', sizeof deep);
    CHECK(scan_without_memory(deep, sizeof deep).last == SL_JSON_ERROR);
    /* every prefix of the hostile document's first 3 KiB ends in error */
    for (size_t n = 0; n < 3072; n++)
        CHECK(scan_without_memory(doc.data, n).last == SL_JSON_ERROR);

    CHECK(sl_torture_live() == live0);
    sl_buf_free(&doc);
}

/* ---- sl_json_unescape into a growing buffer ----------------------------- */

static const char PREFIX[] = "PREFIX";

/* The body of one string token: `reps` nasty pieces. */
static void string_body(sl_buf *b, size_t reps)
{
    sl_buf_init(b, 0);
    put_nasty_string(b, reps);
}

/* Unescape the body into a buffer holding PREFIX, failing allocation n
 * (sticky or not): either -1 with the buffer exactly as it was (same
 * bytes, same storage), or 0 with PREFIX + want. Returns the number of
 * allocations failed (0: the clean run, which must succeed). */
static unsigned long unescape_once(const sl_buf *body, const sl_buf *want,
                                   unsigned long n, bool sticky)
{
    sl_buf out;
    sl_buf_init(&out, 0);
    CHECK(sl_buf_append(&out, PREFIX, sizeof PREFIX - 1) == 0);
    char *data0 = out.data;
    size_t cap0 = out.cap;

    sl_torture_arm(n, sticky);
    int rc = sl_json_unescape(body->data, body->len, &out);
    unsigned long failed = sl_torture_disarm();

    if (rc == 0) {
        CHECK(out.len == sizeof PREFIX - 1 + want->len);
        CHECK(memcmp(out.data, PREFIX, sizeof PREFIX - 1) == 0);
        CHECK(memcmp(out.data + sizeof PREFIX - 1, want->data, want->len) == 0);
    } else {
        CHECK(rc == -1);
        CHECK(failed > 0); /* no cap here: only memory can refuse */
        CHECK(out.data == data0 && out.cap == cap0);
        CHECK(out.len == sizeof PREFIX - 1);
        CHECK(memcmp(out.data, PREFIX, sizeof PREFIX - 1) == 0);
    }
    sl_buf_free(&out);
    return failed;
}

/* Each allocation in turn, sticky and transient, for a body of `reps`
 * pieces; returns the clean run's n. */
static unsigned long unescape_torture(size_t reps, bool sticky)
{
    sl_buf body, want;
    string_body(&body, reps);
    sl_buf_init(&want, 0);
    CHECK(sl_json_unescape(body.data, body.len, &want) == 0);
    long live0 = sl_torture_live();
    unsigned long n = 1;
    while (n < SL_TORTURE_MAX_N && unescape_once(&body, &want, n, sticky) > 0) {
        SL_TORTURE_CHECK_LIVE(live0, n);
        n++;
    }
    CHECK(n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "unescape %zu bytes, %s", body.len,
                      sticky ? "sticky" : "transient");
    CHECK(sl_torture_live() == live0);
    sl_buf_free(&body);
    sl_buf_free(&want);
    return n;
}

static void test_unescape_alloc_failure(void)
{
    /* 5 KiB: past the first 256 bytes, so unescaping must grow the buffer;
     * its decoded form does not fit either, so the retry allocates too */
    CHECK(unescape_torture(60, true) == 2);
    CHECK(unescape_torture(60, false) == 2);
    /* 3 pieces: escaped too long for the room left, decoded short enough;
     * the failed growth is survived without memory (the retry fits) */
    CHECK(unescape_torture(3, true) == 2);
}

/* Unescape every string and key of `doc` into `out` (which grows to a few
 * MiB); stop at the first refusal. Returns 0 when all went in, -1 when one
 * was refused, which left `out` as it was before that string. */
static int unescape_strings(const sl_buf *doc, sl_buf *out)
{
    sl_json js;
    sl_json_token t;
    sl_json_type ty;
    sl_json_init(&js, doc->data, doc->len, 0);
    while ((ty = sl_json_next(&js, &t)) != SL_JSON_END) {
        CHECK(ty != SL_JSON_ERROR);
        if (ty == SL_JSON_ERROR)
            return -1;
        if (ty != SL_JSON_STRING && ty != SL_JSON_KEY)
            continue;
        size_t before = out->len;
        if (sl_json_unescape(t.p, t.len, out) != 0) {
            CHECK(out->len == before);
            return -1;
        }
    }
    return 0;
}

/* The whole hostile document's strings into one buffer, allocation n
 * failing: what went in before the refusal is exactly the start of what
 * goes in without failures. */
static void test_unescape_document(void)
{
    sl_buf doc, want, out;
    sl_buf_init(&doc, 0);
    sl_buf_init(&want, 0);
    build_hostile(&doc);
    CHECK(unescape_strings(&doc, &want) == 0);
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_buf_init(&out, 0);
        sl_torture_arm(n, true);
        int rc = unescape_strings(&doc, &out);
        unsigned long failed = sl_torture_disarm();
        if (failed == 0) {
            CHECK(rc == 0);
            CHECK(out.len == want.len &&
                  memcmp(out.data, want.data, want.len) == 0);
            sl_buf_free(&out);
            break;
        }
        CHECK(rc == -1);
        CHECK(out.len < want.len);
        CHECK(out.len == 0 || memcmp(out.data, want.data, out.len) == 0);
        sl_buf_free(&out);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    CHECK(n > 5 && n < SL_TORTURE_MAX_N); /* 256 bytes to MiBs: growths */
    sl_torture_report(n, "unescape every string of the document");
    CHECK(sl_torture_live() == live0);
    sl_buf_free(&want);
    sl_buf_free(&doc);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"scanner_never_allocates", test_scanner_never_allocates},
        {"unescape_alloc_failure", test_unescape_alloc_failure},
        {"unescape_document", test_unescape_document},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    if (sl_torture_live() != 0) {
        fprintf(stderr, "%ld blocks still allocated at exit\n", sl_torture_live());
        rc = rc ? rc : 1;
    }
    return rc;
}
