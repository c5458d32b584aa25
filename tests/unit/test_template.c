/* Unit tests for sl_template: accepted templates and their compact parts,
 * strings with `$` and escapes kept byte for byte, every refusal with its
 * message, hostile input (deep nesting, too large, NUL bytes, invalid
 * UTF-8, many placeholders) and rendering into valid JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_template.h"
#include "sl_test.h"

/* The compiled form written back with placeholder names: "{"a":$records}". */
static char *show(const sl_template *t)
{
    static char out[200000];
    size_t n, w = 0;
    const sl_template_part *p = sl_template_parts(t, &n);
    for (size_t i = 0; i < n; i++) {
        memcpy(out + w, p[i].lit, p[i].len);
        w += p[i].len;
        const char *name = sl_template_slot_name(p[i].slot);
        memcpy(out + w, name, strlen(name));
        w += strlen(name);
    }
    out[w] = '\0';
    return out;
}

/* Compile `text` (len bytes) as `kind`: the compact form, or "ERR: msg". */
static const char *compile_len(const char *text, size_t len,
                               sl_template_kind kind)
{
    static char res[200000];
    char err[512] = "";
    sl_template *t = sl_template_new(text, len, kind, err, sizeof err);
    if (!t) {
        CHECK(err[0] != '\0');
        snprintf(res, sizeof res, "ERR: %s", err);
        return res;
    }
    snprintf(res, sizeof res, "%s", show(t));
    sl_template_free(t);
    return res;
}

static const char *compile(const char *text, sl_template_kind kind)
{
    return compile_len(text, strlen(text), kind);
}

#define ARRAY SL_TEMPLATE_FOR_ARRAY
#define OBJECT SL_TEMPLATE_FOR_OBJECT
#define RECORD SL_TEMPLATE_FOR_RECORD

static void test_accepted(void)
{
    CHECK_STR(compile("{\"inputs\": $records, \"source\": \"sluice\"}", ARRAY),
              "{\"inputs\":$records,\"source\":\"sluice\"}");
    CHECK_STR(compile("{\"batch\": $records}", ARRAY), "{\"batch\":$records}");
    CHECK_STR(compile("$records", ARRAY), "$records");
    CHECK_STR(compile(" \t\r\n$records\n", ARRAY), "$records");
    CHECK_STR(compile("[$records]", ARRAY), "[$records]");
    CHECK_STR(compile("{\"data\": $record}", OBJECT), "{\"data\":$record}");
    CHECK_STR(compile("{\"properties\": $record}", RECORD),
              "{\"properties\":$record}");
    CHECK_STR(compile("{\"id\": $batch_id, \"n\": $count, \"again\": "
                      "[$batch_id, $count], \"items\": $records}", ARRAY),
              "{\"id\":$batch_id,\"n\":$count,\"again\":[$batch_id,$count],"
              "\"items\":$records}");
    CHECK_STR(compile("{\"id\":$batch_id,\"one\":$record}", OBJECT),
              "{\"id\":$batch_id,\"one\":$record}");
    /* every kind of value around the slot */
    CHECK_STR(compile("{ \"a\" : [ 1 , -2.5e+3 , true , false , null , {} , "
                      "[ ] , \"\" ] ,\n\t\"r\" : $records , \"z\" : { \"y\" : "
                      "[ [ 0 ] ] } }", ARRAY),
              "{\"a\":[1,-2.5e+3,true,false,null,{},[],\"\"],\"r\":$records,"
              "\"z\":{\"y\":[[0]]}}");
}

static void test_strings_kept(void)
{
    /* placeholders inside strings, keys or values, are literal text */
    CHECK_STR(compile("{\"$records\": \"$records and $recs\", \"v\": $records}",
                      ARRAY),
              "{\"$records\":\"$records and $recs\",\"v\":$records}");
    /* escapes as written, spaces inside strings kept */
    CHECK_STR(compile("{ \"q\\\"$x\" : \"a  \\\\\" , \"u\": \"\\u00e9 \\/ \\n\","
                      " \"r\": $records }", ARRAY),
              "{\"q\\\"$x\":\"a  \\\\\",\"u\":\"\\u00e9 \\/ \\n\","
              "\"r\":$records}");
    CHECK_STR(compile("[\"a\\\\\", $records, \"\\\"$\"]", ARRAY),
              "[\"a\\\\\",$records,\"\\\"$\"]");
    /* raw UTF-8 in strings, byte for byte */
    CHECK_STR(compile("{\"n\\u00e9\": \"Zo\xc3\xab \xe2\x98\x83\", \"r\": "
                      "$records}", ARRAY),
              "{\"n\\u00e9\":\"Zo\xc3\xab \xe2\x98\x83\",\"r\":$records}");
    /* "$records" as the whole text is a string: no placeholder */
    CHECK_STR(compile("\"$records\"", ARRAY), "ERR: needs $records exactly "
              "once");
}

static void test_refused(void)
{
    CHECK_STR(compile("{\"inputs\": $recs}", ARRAY),
              "ERR: position 11: unknown placeholder $recs (valid: $records, "
              "$batch_id, $count)");
    CHECK_STR(compile("{\"data\": $rec}", OBJECT),
              "ERR: position 9: unknown placeholder $rec (valid: $record, "
              "$batch_id, $count)");
    CHECK_STR(compile("[$, $records]", ARRAY),
              "ERR: position 1: unknown placeholder $ (valid: $records, "
              "$batch_id, $count)");
    CHECK_STR(compile("[$records1]", ARRAY),
              "ERR: position 1: unknown placeholder $records1 (valid: "
              "$records, $batch_id, $count)");
    CHECK_STR(compile("[$records, $records]", ARRAY),
              "ERR: position 11: $records appears twice (it must appear "
              "exactly once)");
    CHECK_STR(compile("{\"a\": 1}", ARRAY), "ERR: needs $records exactly once");
    CHECK_STR(compile("{\"a\": $batch_id}", OBJECT),
              "ERR: needs $record exactly once");
    CHECK_STR(compile("{\"a\": 1}", RECORD), "ERR: needs $record exactly once");
    CHECK_STR(compile("{\"data\": $records}", OBJECT),
              "ERR: position 9: $records cannot be used here (valid: $record, "
              "$batch_id, $count)");
    CHECK_STR(compile("{\"data\": $record}", ARRAY),
              "ERR: position 9: $record cannot be used here (valid: $records, "
              "$batch_id, $count)");
    CHECK_STR(compile("{\"p\": $record, \"id\": $batch_id}", RECORD),
              "ERR: position 21: $batch_id cannot be used here (valid: "
              "$record)");
    CHECK_STR(compile("[$count, $record]", RECORD),
              "ERR: position 1: $count cannot be used here (valid: $record)");
    CHECK_STR(compile("[$record, $record]", RECORD),
              "ERR: position 10: $record appears twice (it must appear "
              "exactly once)");
    /* not where a value stands */
    CHECK_STR(compile("{$records: 1}", ARRAY),
              "ERR: position 1: placeholder $records where a key must stand");
    CHECK_STR(compile("{\"a\": 1, $records}", ARRAY),
              "ERR: position 9: placeholder $records where a key must stand");
    CHECK_STR(compile("{\"a\" $records}", ARRAY),
              "ERR: position 5: not valid JSON: expected ':' after object key");
    CHECK_STR(compile("[1 $records]", ARRAY),
              "ERR: position 3: not valid JSON: expected ',' or ']'");
    CHECK_STR(compile("[-$count, $records]", ARRAY),
              "ERR: position 2: placeholder $count must stand alone as a "
              "value");
    CHECK_STR(compile("[1$count, $records]", ARRAY),
              "ERR: position 2: placeholder $count must stand alone as a "
              "value");
    CHECK_STR(compile("[$count.5, $records]", ARRAY),
              "ERR: position 7: not valid JSON: expected ',' or ']'");
    CHECK_STR(compile("[true$count, $records]", ARRAY),
              "ERR: position 1: not valid JSON: invalid literal");
    /* not JSON */
    CHECK_STR(compile("{\"a\": $records,}", ARRAY),
              "ERR: position 15: not valid JSON: trailing comma before '}'");
    CHECK_STR(compile("{\"a\": $records} x", ARRAY),
              "ERR: position 16: not valid JSON: trailing characters after "
              "the document");
    CHECK_STR(compile("{\"a\": $records}{}", ARRAY),
              "ERR: position 15: not valid JSON: trailing characters after "
              "the document");
    CHECK_STR(compile("{\"a\": $records", ARRAY),
              "ERR: position 14: not valid JSON: unexpected end of input");
    CHECK_STR(compile("[\"a, $records]", ARRAY),
              "ERR: position 1: not valid JSON: unterminated string");
    CHECK_STR(compile("{'a': $records}", ARRAY),
              "ERR: position 1: not valid JSON: expected a string key");
    CHECK_STR(compile("[NaN, $records]", ARRAY),
              "ERR: position 1: not valid JSON: NaN and Infinity are not "
              "JSON");
    CHECK_STR(compile("[01, $records]", ARRAY),
              "ERR: position 2: not valid JSON: leading zeros are not "
              "allowed");
    CHECK_STR(compile("", ARRAY), "ERR: is empty; write JSON with $records");
    CHECK_STR(compile("   ", ARRAY),
              "ERR: position 3: not valid JSON: unexpected end of input");
    /* lines and columns once the text has several lines */
    CHECK_STR(compile("{\n  \"inputs\": $recs\n}", ARRAY),
              "ERR: position 14 (line 2, column 13): unknown placeholder "
              "$recs (valid: $records, $batch_id, $count)");
    CHECK_STR(compile("{\n  \"a\": $records,\n}", ARRAY),
              "ERR: position 19 (line 3, column 1): not valid JSON: trailing "
              "comma before '}'");
}

static void test_hostile(void)
{
    static char big[SL_TEMPLATE_MAX_BYTES + 2];
    /* too large, by one byte */
    memset(big, ' ', sizeof big);
    memcpy(big, "$records", 8);
    CHECK_STR(compile_len(big, SL_TEMPLATE_MAX_BYTES + 1, ARRAY),
              "ERR: is 65537 bytes; at most 65536");
    CHECK_STR(compile_len(big, SL_TEMPLATE_MAX_BYTES, ARRAY), "$records");
    /* nesting: 32 levels are fine, 33 are not */
    char deep[200];
    size_t n = 0;
    for (int i = 0; i < 32; i++)
        deep[n++] = '[';
    memcpy(deep + n, "$records", 8);
    n += 8;
    for (int i = 0; i < 32; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    CHECK(strncmp(compile(deep, ARRAY), "ERR", 3) != 0);
    memmove(deep + 1, deep, n + 1);
    deep[0] = '[';
    strcat(deep, "]");
    CHECK_STR(compile(deep, ARRAY),
              "ERR: position 32: nesting deeper than 32 levels");
    /* NUL bytes, outside and inside strings */
    CHECK_STR(compile_len("[$records,\0]", 12, ARRAY),
              "ERR: position 10: not valid JSON: expected a value");
    CHECK_STR(compile_len("[\"a\0b\", $records]", 17, ARRAY),
              "ERR: position 3: not valid JSON: control character in string");
    CHECK_STR(compile_len("$records\0", 9, ARRAY),
              "ERR: position 8: not valid JSON: trailing characters after "
              "the document");
    /* invalid UTF-8, a lone surrogate, a byte order mark */
    CHECK_STR(compile("[\"\xc3\x28\", $records]", ARRAY),
              "ERR: position 2: not valid JSON: invalid UTF-8 in string");
    CHECK_STR(compile("[\"\xff\", $records]", ARRAY),
              "ERR: position 2: not valid JSON: invalid UTF-8 in string");
    CHECK_STR(compile("[\"\\ud800\", $records]", ARRAY),
              "ERR: position 2: not valid JSON: lone surrogate in \\u "
              "escape");
    CHECK_STR(compile("\xef\xbb\xbf$records", ARRAY),
              "ERR: position 0: not valid JSON: byte order mark not allowed");
    CHECK_STR(compile("[\xff, $records]", ARRAY),
              "ERR: position 1: not valid JSON: expected a value");
    /* thousands of placeholders, just under the cap */
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_buf_putc(&b, '[');
    while (b.len < SL_TEMPLATE_MAX_BYTES - 20)
        sl_buf_append(&b, "$count,$batch_id,", 17);
    sl_buf_append(&b, "$records]", 9);
    char err[256] = "";
    sl_template *t = sl_template_new(b.data, b.len, ARRAY, err, sizeof err);
    CHECK(t != NULL);
    if (t) {
        size_t np;
        sl_template_parts(t, &np);
        CHECK(np == sl_template_uses(t, SL_TEMPLATE_COUNT) +
                        sl_template_uses(t, SL_TEMPLATE_BATCH_ID) + 2);
        CHECK(sl_template_uses(t, SL_TEMPLATE_RECORDS) == 1);
        CHECK(sl_template_uses(t, SL_TEMPLATE_COUNT) > 3000);
    }
    sl_template_free(t);
    sl_buf_free(&b);
    /* a $ followed by a long name is shown cut */
    char longname[120] = "[$";
    memset(longname + 2, 'x', 100);
    strcpy(longname + 102, ", $records]");
    CHECK_CONTAINS(compile(longname, ARRAY),
                   "unknown placeholder $xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... "
                   "(valid:");
}

/* Whether the n bytes at p are one valid JSON document. */
static int valid_json(const char *p, size_t n)
{
    sl_json s;
    sl_json_token t;
    sl_json_init(&s, p, n, 0);
    sl_json_type ty;
    while ((ty = sl_json_next(&s, &t)) != SL_JSON_END)
        if (ty == SL_JSON_ERROR)
            return 0;
    return 1;
}

static void test_render(void)
{
    char err[256] = "";
    const char *text =
        "{ \"id\": $batch_id, \"n\": $count, \"inputs\": $records }";
    sl_template *t = sl_template_new(text, strlen(text), ARRAY, err,
                                     sizeof err);
    CHECK(t != NULL);
    if (!t) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK(sl_template_literal_bytes(t) == strlen("{\"id\":,\"n\":,\"inputs\":}"));
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_template_values v = {.main = "[{\"a\":1},{\"a\":2}]", .main_len = 17,
                            .batch_id = "crm-00ab-1f-2", .count = 2};
    CHECK(sl_template_render(t, &v, &out) == 0);
    sl_buf_putc(&out, '\0');
    CHECK_STR(out.data, "{\"id\":\"crm-00ab-1f-2\",\"n\":2,"
              "\"inputs\":[{\"a\":1},{\"a\":2}]}");
    CHECK(valid_json(out.data, out.len - 1));
    /* a batch id that needs escaping is escaped */
    sl_buf_reset(&out);
    v.batch_id = "a\"b\\c";
    CHECK(sl_template_render(t, &v, &out) == 0);
    sl_buf_putc(&out, '\0');
    CHECK_CONTAINS(out.data, "\"id\":\"a\\\"b\\\\c\"");
    /* out of room: the buffer is as it was */
    sl_buf small;
    sl_buf_init(&small, 20);
    sl_buf_append(&small, "keep", 4);
    CHECK(sl_template_render(t, &v, &small) == -1);
    CHECK(small.len == 4 && memcmp(small.data, "keep", 4) == 0);
    sl_buf_free(&small);
    sl_buf_free(&out);
    sl_template_free(t);
    sl_template_free(NULL);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"accepted", test_accepted},
        {"strings_kept", test_strings_kept},
        {"refused", test_refused},
        {"hostile", test_hostile},
        {"render", test_render},
        {NULL, NULL}};
    return sl_test_run(cases);
}
