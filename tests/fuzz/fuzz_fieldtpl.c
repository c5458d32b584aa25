/* fuzz_fieldtpl: a {field} template (URL or header mode) parsed against a
 * fixed schema, then checked and rendered for a record: first the input
 * as it is, then its encoding by the schema (what the spool holds). The
 * input is "<mode byte><template>\n<record>". A parse error names a
 * position inside the text; check and render agree; a refused render
 * leaves the buffer as it was; a rendered URL has no brace and no byte a
 * URL cannot carry that its template did not have; a rendered header no
 * CR, LF or NUL that its template did not have. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_fieldtpl.h"
#include "sl_schema.h"

static sl_schema *schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const struct {
        const char *name;
        sl_schema_type type;
        bool nullable;
    } fields[] = {{"id", SL_TYPE_STRING, false}, {"n", SL_TYPE_INTEGER, false},
                  {"d", SL_TYPE_DATE, false},    {"x", SL_TYPE_NUMBER, false},
                  {"s", SL_TYPE_STRING, true},   {"a.b", SL_TYPE_STRING, false}};
    char err[128];
    (void)argc;
    (void)argv;
    schema = sl_schema_new(SL_UNKNOWN_DROP);
    FUZZ_ASSERT(schema != NULL);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        FUZZ_ASSERT(sl_schema_add(schema, fields[i].name, fields[i].type,
                                  fields[i].nullable, err, sizeof err) == 0);
    return 0;
}

static int has_byte(const char *p, size_t n, int (*bad)(unsigned char))
{
    for (size_t i = 0; i < n; i++)
        if (bad((unsigned char)p[i]))
            return 1;
    return 0;
}

static int url_bad(unsigned char c) { return c <= 0x20 || c >= 0x7f; }
static int header_bad(unsigned char c) { return c == '\r' || c == '\n' || !c; }
static int brace(unsigned char c) { return c == '{' || c == '}'; }

static void render(const sl_fieldtpl *t, sl_fieldtpl_mode mode,
                   const char *text, const char *rec, size_t len)
{
    sl_schema_error why, why2;
    sl_buf out;
    sl_buf_init(&out, 1u << 20);
    sl_buf_append(&out, "<", 1);
    sl_fieldtpl_rc rc = sl_fieldtpl_render(t, rec, len, &out, &why);
    sl_fieldtpl_rc rc2 = sl_fieldtpl_check(t, rec, len, &why2);
    if (rc != SL_FIELDTPL_NOMEM)
        FUZZ_ASSERT(rc == rc2);
    if (rc != SL_FIELDTPL_OK) {
        FUZZ_ASSERT(out.len == 1);
        FUZZ_ASSERT(rc != SL_FIELDTPL_BAD || why.msg[0]);
    } else if (mode == SL_FIELDTPL_URL) {
        FUZZ_ASSERT(!has_byte(out.data + 1, out.len - 1, brace));
        if (!has_byte(text, strlen(text), url_bad))
            FUZZ_ASSERT(!has_byte(out.data + 1, out.len - 1, url_bad));
    } else if (!has_byte(text, strlen(text), header_bad)) {
        FUZZ_ASSERT(!has_byte(out.data + 1, out.len - 1, header_bad));
    }
    sl_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    sl_fieldtpl_mode mode = data[0] & 1 ? SL_FIELDTPL_HEADER : SL_FIELDTPL_URL;
    const char *p = (const char *)data + 1;
    size_t n = size - 1;
    const char *nl = memchr(p, '\n', n);
    size_t tlen = nl ? (size_t)(nl - p) : n;
    char *text = malloc(tlen + 1);
    FUZZ_ASSERT(text != NULL);
    memcpy(text, p, tlen);
    text[tlen] = '\0';
    size_t from = (data[0] >> 1) % 8;
    if (from > strlen(text))
        from = strlen(text);
    char err[256] = "";
    sl_fieldtpl *t = NULL;
    int prc = sl_fieldtpl_parse(text, mode, from, schema, "the URL", &t, err,
                                sizeof err);
    if (prc != 0) {
        FUZZ_ASSERT(t == NULL && err[0]);
        if (!strncmp(err, "position ", 9))
            FUZZ_ASSERT(strtoul(err + 9, NULL, 10) < strlen(text));
    }
    if (t && nl) {
        const char *rec = nl + 1;
        size_t len = n - tlen - 1;
        render(t, mode, text, rec, len);
        sl_json js;
        sl_json_token tok;
        sl_schema_error e;
        sl_buf enc;
        sl_buf_init(&enc, 1u << 20);
        sl_json_init(&js, rec, len, 0);
        if (sl_json_next(&js, &tok) != SL_JSON_ERROR &&
            sl_schema_encode(schema, &js, &tok, &enc, &e) == SL_SCHEMA_OK)
            render(t, mode, text, enc.data, enc.len);
        sl_buf_free(&enc);
    }
    sl_fieldtpl_free(t);
    free(text);
    return 0;
}
