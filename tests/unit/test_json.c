/* Unit tests for sl_json: grammar errors with their offsets, UTF-8 and
 * escapes, tokens, skip, and the token-to-value helpers. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_json.h"
#include "sl_test.h"

/* Scan a whole document; NULL when valid, else the error (offset in *off). */
static const char *scan_doc(const char *doc, size_t len, int depth,
                            size_t *off)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, doc, len, depth);
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_ERROR) {
            *off = js.err_off;
            return js.err;
        }
        if (ty == SL_JSON_END)
            return NULL;
    }
}

#define EXPECT_ERR(doc, msg, off)                                           \
    do {                                                                    \
        size_t o_ = 99999;                                                  \
        const char *m_ = scan_doc(doc, sizeof(doc) - 1, 0, &o_);            \
        CHECK_STR(m_, msg);                                                 \
        CHECK(o_ == (size_t)(off));                                         \
    } while (0)

#define EXPECT_OK(doc)                                                      \
    do {                                                                    \
        size_t o_ = 0;                                                      \
        const char *m_ = scan_doc(doc, sizeof(doc) - 1, 0, &o_);            \
        if (m_)                                                             \
            fprintf(stderr, "  %s at %zu\n", m_, o_);                       \
        CHECK(m_ == NULL);                                                  \
    } while (0)

static void test_structure_errors(void)
{
    EXPECT_ERR("", "unexpected end of input", 0);
    EXPECT_ERR("   ", "unexpected end of input", 3);
    EXPECT_ERR("[", "unexpected end of input", 1);
    EXPECT_ERR("{\"a\"", "unexpected end of input", 4);
    EXPECT_ERR("{\"a\":", "unexpected end of input", 5);
    EXPECT_ERR("[1,]", "trailing comma before ']'", 3);
    EXPECT_ERR("{\"a\":1,}", "trailing comma before '}'", 7);
    EXPECT_ERR("{\"a\":1 , }", "trailing comma before '}'", 9);
    EXPECT_ERR("[,1]", "expected a value", 1);
    EXPECT_ERR("[1 2]", "expected ',' or ']'", 3);
    EXPECT_ERR("[1}", "expected ',' or ']'", 2);
    EXPECT_ERR("{\"a\":1]", "expected ',' or '}'", 6);
    EXPECT_ERR("{\"a\":1 \"b\":2}", "expected ',' or '}'", 7);
    EXPECT_ERR("{\"a\" 1}", "expected ':' after object key", 5);
    EXPECT_ERR("{\"a\"::1}", "expected a value", 5);
    EXPECT_ERR("{1:2}", "expected a string key", 1);
    EXPECT_ERR("{\"a\":1,,}", "expected a string key", 7);
    EXPECT_ERR("]", "expected a value", 0);
    EXPECT_ERR("{} x", "trailing characters after the document", 3);
    EXPECT_ERR("1 2", "trailing characters after the document", 2);
    EXPECT_ERR("\xEF\xBB\xBF{}", "byte order mark not allowed", 0);
}

static void test_literal_and_number_errors(void)
{
    EXPECT_ERR("01", "leading zeros are not allowed", 1);
    EXPECT_ERR("[-01]", "leading zeros are not allowed", 3);
    EXPECT_ERR("-", "expected a digit after '-'", 1);
    EXPECT_ERR("[-x]", "expected a digit after '-'", 2);
    EXPECT_ERR("1.", "expected a digit after '.'", 2);
    EXPECT_ERR("[1.e5]", "expected a digit after '.'", 3);
    EXPECT_ERR(".5", "expected a value", 0);
    EXPECT_ERR("+1", "expected a value", 0);
    EXPECT_ERR("1e", "expected a digit in exponent", 2);
    EXPECT_ERR("1e+", "expected a digit in exponent", 3);
    EXPECT_ERR("[1E-x]", "expected a digit in exponent", 4);
    EXPECT_ERR("0x10", "trailing characters after the document", 1);
    EXPECT_ERR("tru", "invalid literal", 0);
    EXPECT_ERR("truex", "invalid literal", 0);
    EXPECT_ERR("[nul]", "invalid literal", 1);
    EXPECT_ERR("[True]", "expected a value", 1);
    EXPECT_ERR("hello", "expected a value", 0);
    EXPECT_ERR("NaN", "NaN and Infinity are not JSON", 0);
    EXPECT_ERR("[Infinity]", "NaN and Infinity are not JSON", 1);
    EXPECT_ERR("-Infinity", "NaN and Infinity are not JSON", 0);
}

static void test_string_errors(void)
{
    EXPECT_ERR("\"abc", "unterminated string", 0);
    EXPECT_ERR("[\"abc\\\"]", "unterminated string", 1);
    EXPECT_ERR("\"ab\\", "unterminated string", 0);
    EXPECT_ERR("[\"a\tb\"]", "control character in string", 3);
    EXPECT_ERR("\"a\nb\"", "control character in string", 2);
    EXPECT_ERR("\"\x1f\"", "control character in string", 1);
    EXPECT_ERR("\"\\x\"", "invalid escape in string", 1);
    EXPECT_ERR("\"ab\\'\"", "invalid escape in string", 3);
    EXPECT_ERR("\"\\u12G4\"", "invalid \\u escape (expected 4 hex digits)", 1);
    EXPECT_ERR("\"\\u12\"", "invalid \\u escape (expected 4 hex digits)", 1);
    EXPECT_ERR("\"\\uD800\"", "lone surrogate in \\u escape", 1);
    EXPECT_ERR("\"\\udbff\"", "lone surrogate in \\u escape", 1);
    EXPECT_ERR("\"\\uDC00\"", "lone surrogate in \\u escape", 1);
    EXPECT_ERR("\"\\uD800\\u0041\"", "lone surrogate in \\u escape", 1);
    EXPECT_ERR("\"ab\\uD800x\"", "lone surrogate in \\u escape", 3);
    EXPECT_ERR("\"\\uD83D\\uD83D\"", "lone surrogate in \\u escape", 1);
    EXPECT_ERR("\"\\uD800\\uZZZZ\"", "invalid \\u escape (expected 4 hex digits)",
               7);
    /* UTF-8: overlongs, encoded surrogates, > U+10FFFF, truncated, stray */
    EXPECT_ERR("\"\xC0\xAF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xC1\xBF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xE0\x80\xAF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xF0\x80\x80\xAF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"ok\xED\xA0\x80\"", "invalid UTF-8 in string", 3);
    EXPECT_ERR("\"\xED\xBF\xBF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xF4\x90\x80\x80\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xF5\x80\x80\x80\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xFF\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"ab\xE2\x82\"", "invalid UTF-8 in string", 3);
    EXPECT_ERR("\"\xE2\x82", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xF0\x9F\x98\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\x80\"", "invalid UTF-8 in string", 1);
    EXPECT_ERR("\"\xC3\xA9\xC3(\"", "invalid UTF-8 in string", 3);
}

static void test_valid_documents(void)
{
    EXPECT_OK("0");
    EXPECT_OK("-0");
    EXPECT_OK("null");
    EXPECT_OK("\"\"");
    EXPECT_OK(" \t\r\n{ \"a\" : [ ] , \"b\" : { } , \"c\" : [ 1 , 2 ] } \n");
    EXPECT_OK("[0.5,-1.25e+10,1E-2,123456789012345678901234567890]");
    EXPECT_OK("\"h\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80\"");
    EXPECT_OK("\"\xF4\x8F\xBF\xBF\xED\x9F\xBF\xEE\x80\x80\xC2\x80\"");
    EXPECT_OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uD83D\\uDE00\\u0000\"");
    EXPECT_OK("{\"\\u00e9\":1}");
}

static void test_tokens(void)
{
    const char doc[] = "{\"a\":[1,-0.5e2,true,false,null,\"x\\ny\"],\"b\":{}}";
    static const sl_json_type want[] = {
        SL_JSON_OBJECT_BEGIN, SL_JSON_KEY,       SL_JSON_ARRAY_BEGIN,
        SL_JSON_NUMBER,       SL_JSON_NUMBER,    SL_JSON_TRUE,
        SL_JSON_FALSE,        SL_JSON_NULL,      SL_JSON_STRING,
        SL_JSON_ARRAY_END,    SL_JSON_KEY,       SL_JSON_OBJECT_BEGIN,
        SL_JSON_OBJECT_END,   SL_JSON_OBJECT_END, SL_JSON_END};
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, doc, sizeof doc - 1, 0);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        sl_json_type ty = sl_json_next(&js, &t);
        CHECK(ty == want[i]);
        CHECK(t.type == ty);
        if (i == 1) {
            CHECK(t.len == 1 && t.p == doc + 2 && t.flags == 0);
        } else if (i == 3) {
            CHECK(t.len == 1 && t.p[0] == '1' && t.flags == SL_JSON_F_INT);
        } else if (i == 4) {
            CHECK(t.len == 6 && memcmp(t.p, "-0.5e2", 6) == 0);
            CHECK(t.flags == SL_JSON_F_EXP);
        } else if (i == 5) {
            CHECK(t.len == 4 && memcmp(t.p, "true", 4) == 0);
        } else if (i == 8) {
            CHECK(t.len == 4 && memcmp(t.p, "x\\ny", 4) == 0);
            CHECK(t.flags == SL_JSON_F_ESCAPED);
        }
    }
    /* a fraction alone is neither INT nor EXP */
    sl_json js2;
    sl_json_init(&js2, "1.5", 3, 0);
    CHECK(sl_json_next(&js2, &t) == SL_JSON_NUMBER && t.flags == 0);
    /* END and ERROR are sticky */
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    sl_json_init(&js, "[1,,2]", 6, 0);
    while (sl_json_next(&js, &t) != SL_JSON_ERROR)
        ;
    CHECK(js.err_off == 3);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ERROR);
    CHECK(t.p == js.start + 3);
    CHECK_STR(js.err, "expected a value");
}

static void test_depth(void)
{
    size_t off = 0;
    CHECK(scan_doc("[[[1]]]", 7, 3, &off) == NULL);
    CHECK_STR(scan_doc("[[[1]]]", 7, 2, &off),
              "nesting deeper than the depth limit");
    CHECK(off == 2);
    CHECK_STR(scan_doc("{\"a\":{\"b\":1}}", 13, 1, &off),
              "nesting deeper than the depth limit");
    CHECK(off == 5);

    /* 10,000 '[' fails at the ceiling instead of recursing or overflowing */
    size_t n = 10000;
    char *deep = malloc(2 * n);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    CHECK_STR(scan_doc(deep, 2 * n, 0, &off),
              "nesting deeper than the depth limit");
    CHECK(off == SL_JSON_MAX_DEPTH);
    CHECK(scan_doc(deep + n - SL_JSON_MAX_DEPTH, 2 * SL_JSON_MAX_DEPTH, 0,
                   &off) == NULL);
    free(deep);
}

/* The 8-bytes-at-a-time string path must find a special byte at every
 * position of a word, and run to the end of a long string. */
static void test_long_strings(void)
{
    char doc[64];
    size_t off = 0;
    for (size_t k = 0; k < 24; k++) {
        doc[0] = '"';
        memset(doc + 1, 'a', k);
        doc[1 + k] = '\x01';
        doc[2 + k] = '"';
        CHECK_STR(scan_doc(doc, k + 3, 0, &off), "control character in string");
        CHECK(off == 1 + k);
        doc[1 + k] = '\xC3'; /* cut sequence */
        CHECK_STR(scan_doc(doc, k + 3, 0, &off), "invalid UTF-8 in string");
        CHECK(off == 1 + k);
        doc[1 + k] = '"'; /* string ends early: trailing quote */
        CHECK_STR(scan_doc(doc, k + 3, 0, &off),
                  "trailing characters after the document");
        CHECK(off == 2 + k);
    }

    size_t n = 1 << 20;
    char *big = malloc(n + 2);
    big[0] = '"';
    for (size_t i = 1; i <= n; i++)
        big[i] = (char)('a' + i % 26);
    big[n + 1] = '"';
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, big, n + 2, 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_STRING);
    CHECK(t.len == n && t.p == big + 1);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);
    big[n - 3] = '\xED'; /* an encoded surrogate near the end */
    big[n - 2] = '\xA0';
    big[n - 1] = '\x80';
    CHECK_STR(scan_doc(big, n + 2, 0, &off), "invalid UTF-8 in string");
    CHECK(off == n - 3);
    memset(big + n - 3, 'x', 3);
    CHECK_STR(scan_doc(big, n + 1, 0, &off), "unterminated string");
    CHECK(off == 0);
    free(big);
}

static void test_skip(void)
{
    const char doc[] = "[1,{\"a\":[2,{\"b\":3}],\"c\":\"}\"},[[]],4]";
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, doc, sizeof doc - 1, 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    CHECK(sl_json_next(&js, &t) == SL_JSON_NUMBER);
    CHECK(sl_json_skip(&js, &t) == 0); /* a scalar: nothing to do */
    CHECK(sl_json_next(&js, &t) == SL_JSON_OBJECT_BEGIN);
    CHECK(sl_json_skip(&js, &t) == 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    CHECK(sl_json_skip(&js, &t) == 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_NUMBER && t.p[0] == '4');
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_END);
    CHECK(sl_json_next(&js, &t) == SL_JSON_END);

    sl_json_init(&js, "[{\"a\":[1,}]", 11, 0);
    CHECK(sl_json_next(&js, &t) == SL_JSON_ARRAY_BEGIN);
    CHECK(sl_json_next(&js, &t) == SL_JSON_OBJECT_BEGIN);
    CHECK(sl_json_skip(&js, &t) == -1);
    CHECK_STR(js.err, "expected a value");
    CHECK(js.err_off == 9);
}

static void test_unescape(void)
{
    const char esc[] = "q\\\"b\\\\s\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\\uD83D\\uDE00z";
    const char want[] = "q\"b\\s/\b\f\n\r\t\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80z";
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_json_unescape(esc, sizeof esc - 1, &b) == 0);
    CHECK(b.len == sizeof want - 1 && memcmp(b.data, want, b.len) == 0);
    sl_buf_free(&b);

    /* the cap is judged on the decoded size, not the escaped one */
    sl_buf_init(&b, 4);
    CHECK(sl_json_unescape("\\u00e9ab", 8, &b) == 0);
    CHECK(b.len == 4 && memcmp(b.data, "\xC3\xA9" "ab", 4) == 0);
    CHECK(sl_json_unescape("x", 1, &b) == -1);
    CHECK(b.len == 4);
    sl_buf_free(&b);
    sl_buf_init(&b, 3);
    CHECK(sl_json_unescape("\\u00e9ab", 8, &b) == -1);
    CHECK(b.len == 0);
    sl_buf_free(&b);

    char out[8];
    size_t n = 0;
    CHECK(sl_json_unescape_into("\\u0041\\n", 8, out, 2, &n) == 0);
    CHECK(n == 2 && out[0] == 'A' && out[1] == '\n');
    CHECK(sl_json_unescape_into("abc", 3, out, 2, &n) == -1);
    CHECK(sl_json_unescape_into("plain", 5, out, 8, &n) == 0 && n == 5);
}

static void test_parse_int64(void)
{
    int64_t v = 7;
#define INT_OK(lit, want)                                                   \
    do {                                                                    \
        v = 7;                                                              \
        CHECK(sl_json_parse_int64(lit, sizeof(lit) - 1, &v) == 0);          \
        CHECK(v == (want));                                                 \
    } while (0)
    INT_OK("0", 0);
    INT_OK("-0", 0);
    INT_OK("42", 42);
    INT_OK("-17", -17);
    INT_OK("9223372036854775807", INT64_MAX);
    INT_OK("-9223372036854775808", INT64_MIN);
    INT_OK("1000000000000000000", 1000000000000000000LL);
    v = 7;
    CHECK(sl_json_parse_int64("9223372036854775808", 19, &v) == -1);
    CHECK(sl_json_parse_int64("-9223372036854775809", 20, &v) == -1);
    CHECK(sl_json_parse_int64("10000000000000000000", 20, &v) == -1);
    CHECK(sl_json_parse_int64("99999999999999999999", 20, &v) == -1);
    CHECK(sl_json_parse_int64("", 0, &v) == -1);
    CHECK(sl_json_parse_int64("-", 1, &v) == -1);
    CHECK(sl_json_parse_int64("1.5", 3, &v) == -1);
    CHECK(v == 7); /* unchanged on error */
#undef INT_OK
}

static void test_parse_double(void)
{
    double d = 0;
    CHECK(sl_json_parse_double("1.5", 3, &d) == 0 && d == 1.5);
    CHECK(sl_json_parse_double("-2.5e3", 6, &d) == 0 && d == -2500.0);
    /* tokens are not NUL-terminated: only len bytes count */
    CHECK(sl_json_parse_double("12345", 2, &d) == 0 && d == 12.0);
    CHECK(sl_json_parse_double("1.7976931348623157e308", 22, &d) == 0);
    CHECK(isfinite(d));
    CHECK(sl_json_parse_double("1e400", 5, &d) == -1);
    CHECK(sl_json_parse_double("-1e400", 6, &d) == -1);
    CHECK(sl_json_parse_double("1.8e308", 7, &d) == -1);
    CHECK(sl_json_parse_double("1e-400", 6, &d) == 0 && d == 0.0);
    CHECK(sl_json_parse_double("inf", 3, &d) == -1);
    CHECK(sl_json_parse_double("nan", 3, &d) == -1);
    CHECK(sl_json_parse_double("0x10", 4, &d) == -1);
    CHECK(sl_json_parse_double("", 0, &d) == -1);
    char lit[600];
    memset(lit, '1', sizeof lit);
    CHECK(sl_json_parse_double(lit, 512, &d) == -1); /* 1.1e511 */
    lit[0] = '0';
    lit[1] = '.';
    CHECK(sl_json_parse_double(lit, 512, &d) == 0 && d > 0.1 && d < 0.2);
    /* longer literals are rounded as a whole, not refused */
    CHECK(sl_json_parse_double(lit, 513, &d) == 0 && d > 0.1 && d < 0.2);
    CHECK(sl_json_parse_double(lit, 600, &d) == 0 && d == strtod(lit, NULL));
}

/* A long literal built from pieces, parsed; -1 when it is not finite. */
static int parse_long(double *d, const char *head, char fill, size_t n,
                      const char *tail)
{
    static char lit[4096];
    size_t h = strlen(head), t = strlen(tail);
    if (h + n + t > sizeof lit)
        return -2;
    memcpy(lit, head, h);
    memset(lit + h, fill, n);
    memcpy(lit + h + n, tail, t);
    return sl_json_parse_double(lit, h + n + t, d);
}

static void test_parse_double_long(void)
{
    double d = -1;
    /* finite values, written long: found by the OpenAPI differential test
       (test_openapi_diff), which ajv accepts and sluice refused */
    CHECK(parse_long(&d, "0.", '0', 600, "1") == 0 && d == 0.0); /* 1e-601 */
    CHECK(parse_long(&d, "0.", '0', 300, "1") == 0 && d == 1e-301);
    CHECK(parse_long(&d, "1.", '0', 600, "") == 0 && d == 1.0);
    CHECK(parse_long(&d, "-1.", '0', 600, "") == 0 && d == -1.0);
    CHECK(parse_long(&d, "1", '0', 1000, "e-1000") == 0 && d == 1.0);
    CHECK(parse_long(&d, "0.", '0', 2000, "25E+2001") == 0 && d == 2.5);
    CHECK(parse_long(&d, "-0.", '0', 700, "") == 0 && d == 0.0 && signbit(d));
    CHECK(parse_long(&d, "0", '0', 0, "e99999999999999999999") == 0 &&
          d == 0.0);
    CHECK(parse_long(&d, "1", '0', 308, "") == 0 && d == 1e308);
    CHECK(parse_long(&d, "1", '0', 600, "e-300") == 0 && d == 1e300);
    CHECK(parse_long(&d, "1.5", '0', 600, "e-99999999999999") == 0 &&
          d == 0.0);
    /* not finite */
    CHECK(parse_long(&d, "1", '0', 309, "") == -1);
    CHECK(parse_long(&d, "-9", '9', 600, "") == -1);
    CHECK(parse_long(&d, "1.", '0', 600, "e99999999999999999999") == -1);
    /* not a number */
    CHECK(parse_long(&d, "1.", '0', 600, "e") == -1);
    CHECK(parse_long(&d, "1.", '0', 600, "e+") == -1);
    CHECK(parse_long(&d, "1.", '0', 600, ".5") == -1);
    CHECK(parse_long(&d, "--", '1', 600, "") == -1);
    CHECK(parse_long(&d, "", '-', 600, "") == -1);
    CHECK(parse_long(&d, "", '.', 600, "") == -1);
    /* rounded to nearest as the whole literal: 1 + 2^-53 is halfway
       between 1 and the next double; exactly halfway it goes to the even
       one (1), a 1 in digit 900 (past the 800 kept) puts it above */
    const char *half = "1.00000000000000011102230246251565404236316680908203125";
    double up = 1.0 + 0x1p-52;
    CHECK(parse_long(&d, half, '0', 900, "") == 0 && d == 1.0);
    CHECK(parse_long(&d, half, '0', 900, "1") == 0 && d == up);
    CHECK(parse_long(&d, half, '0', 900, "1e0") == 0 && d == up);
    CHECK(parse_long(&d, "1.0000000000000001110223024625156540423631668090"
                     "8203124", '9', 900, "") == 0 && d == 1.0);
    /* the halfway point between the largest double and 2^1024 (2^1024 -
       2^970), written out: exactly halfway rounds to even, which is
       infinite; a hair below it is the largest double */
    static const char max_half[] =
        "179769313486231580793728971405303415079934132710037826936173"
        "778980444968292764750946649017977587207096330286416692887910"
        "946555547851940402630657488671505820681908902000708383676273"
        "854845817711531764475730270069855571366959622842914819860834"
        "936475292719074168444365510704342711559699508093042880177904"
        "174497792";
    char head[400];
    CHECK(strlen(max_half) == 309);
    snprintf(head, sizeof head, "%s.", max_half);
    CHECK(parse_long(&d, head, '0', 600, "") == -1);
    head[308] = '1'; /* ...7791. */
    CHECK(parse_long(&d, head, '9', 600, "") == 0 && d == DBL_MAX);
    head[309] = '\0';
    CHECK(parse_long(&d, head, '9', 600, "") == -1); /* an integer: 1e908 */
}

static void test_type_names(void)
{
    CHECK_STR(sl_json_type_name(SL_JSON_STRING), "string");
    CHECK_STR(sl_json_type_name(SL_JSON_NUMBER), "number");
    CHECK_STR(sl_json_type_name(SL_JSON_TRUE), "boolean");
    CHECK_STR(sl_json_type_name(SL_JSON_FALSE), "boolean");
    CHECK_STR(sl_json_type_name(SL_JSON_NULL), "null");
    CHECK_STR(sl_json_type_name(SL_JSON_OBJECT_BEGIN), "object");
    CHECK_STR(sl_json_type_name(SL_JSON_ARRAY_BEGIN), "array");
}

/* Random bytes and mutated documents: never crash, always an answer, and
 * an error offset inside the input. Run under ASan. */
static void test_random_input(void)
{
    const char base[] =
        "[{\"id\":1,\"s\":\"a\\u00e9\\uD83D\\uDE00\xC3\xA9\",\"n\":-1.5e3},"
        "[true,false,null],{\"x\":{\"y\":[0]}}]";
    char doc[sizeof base + 8];
    uint32_t r = 12345;
    int errors = 0, oks = 0;
    for (int it = 0; it < 20000; it++) {
        size_t len = sizeof base - 1;
        memcpy(doc, base, len);
        int nmut = 1 + it % 3;
        for (int m = 0; m < nmut && len > 0; m++) {
            r = r * 1103515245u + 12345u;
            size_t at = (r >> 8) % len;
            r = r * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(r >> 16);
            switch (it % 4) {
            case 0: doc[at] = (char)c; break;
            case 1: doc[at] = "[]{}\",:\\0-e.tfn \x80\xC3\xED"[c % 19]; break;
            case 2: len = at; break; /* truncate */
            default:
                memmove(doc + at, doc + at + 1, len - at - 1);
                len--;
            }
        }
        /* exact-size heap copy so ASan sees any read past the end */
        char *p = malloc(len ? len : 1);
        memcpy(p, doc, len);
        size_t off = 0;
        const char *err = scan_doc(p, len, 0, &off);
        if (err) {
            errors++;
            CHECK(off <= len);
        } else {
            oks++;
        }
        free(p);
    }
    CHECK(errors > 1000 && oks > 10);

    /* plain random bytes, biased towards JSON punctuation */
    for (int it = 0; it < 5000; it++) {
        r = r * 1103515245u + 12345u;
        size_t len = (r >> 16) % 64;
        char *p = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) {
            r = r * 1103515245u + 12345u;
            unsigned char c = (unsigned char)(r >> 16);
            p[i] = (c & 1) ? "[]{}\",:0123456789-.etrufalsn "[c % 30]
                           : (char)(r >> 24);
        }
        size_t off = 0;
        if (scan_doc(p, len, 0, &off))
            CHECK(off <= len);
        free(p);
    }
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"structure_errors", test_structure_errors},
        {"literal_and_number_errors", test_literal_and_number_errors},
        {"string_errors", test_string_errors},
        {"valid_documents", test_valid_documents},
        {"tokens", test_tokens},
        {"depth", test_depth},
        {"long_strings", test_long_strings},
        {"skip", test_skip},
        {"unescape", test_unescape},
        {"parse_int64", test_parse_int64},
        {"parse_double", test_parse_double},
        {"parse_double_long", test_parse_double_long},
        {"type_names", test_type_names},
        {"random_input", test_random_input},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
