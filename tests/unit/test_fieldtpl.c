/* Unit tests for sl_fieldtpl: the parse (every error), the check of a
 * record's values and the rendering (the percent-encoding table, raw
 * header values). */
#include <stdlib.h>
#include <string.h>

#include "sl_fieldtpl.h"
#include "sl_test.h"

static sl_schema *schema(void)
{
    char err[128];
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    CHECK(sl_schema_add(s, "id", SL_TYPE_STRING, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "n", SL_TYPE_INTEGER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "day", SL_TYPE_DATE, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "score", SL_TYPE_NUMBER, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "note", SL_TYPE_STRING, true, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "ok", SL_TYPE_BOOLEAN, false, err, sizeof err) == 0);
    CHECK(sl_schema_add(s, "a.b", SL_TYPE_STRING, false, err, sizeof err) == 0);
    return s;
}

#define BASE "https://api.example.com"
#define FROM (sizeof BASE - 1)

/* The error of parsing url in URL mode, "" when it parses. */
static const char *url_err(const char *url, sl_fieldtpl_mode mode)
{
    static char err[256];
    sl_schema *s = schema();
    sl_fieldtpl *t = NULL;
    err[0] = '\0';
    int rc = sl_fieldtpl_parse(url, mode, mode == SL_FIELDTPL_URL ? FROM : 0,
                               s, "the URL path", &t, err, sizeof err);
    CHECK((rc == 0) == (err[0] == '\0'));
    if (rc != 0)
        CHECK(t == NULL);
    sl_fieldtpl_free(t);
    sl_schema_free(s);
    return err;
}

static void test_parse_errors(void)
{
    sl_fieldtpl_mode U = SL_FIELDTPL_URL;
    CHECK_STR(url_err(BASE "/v1/users/{id}", U), "");
    CHECK_STR(url_err(BASE "/v1/users/{id", U),
              "position 33: '{' without a closing '}'");
    CHECK_STR(url_err(BASE "/v1/{id{n}}", U),
              "position 27: '{' without a closing '}'");
    CHECK_STR(url_err(BASE "/v1/users/id}", U),
              "position 35: '}' without an opening '{'");
    CHECK_STR(url_err(BASE "/v1/{}", U),
              "position 27: empty placeholder '{}'");
    CHECK_STR(url_err(BASE "/v1/{a:b}", U),
              "position 27: '{a:b}' is not a placeholder (a field name of "
              "letters, digits, '_', '-' and '.')");
    char longname[300] = BASE "/v1/{";
    memset(longname + strlen(longname), 'x', 130);
    strcat(longname, "}");
    CHECK_STR(url_err(longname, U),
              "position 27: placeholder name longer than 127 bytes");
    CHECK_STR(url_err(BASE "/v1/{nope}", U),
              "position 27: {nope}: no such field in the schema "
              "(placeholders name top-level fields)");
    CHECK_STR(url_err(BASE "/v1/{note}", U),
              "position 27: {note}: the field is nullable; a placeholder "
              "needs a value in every record");
    CHECK_STR(url_err(BASE "/v1/{score}", U),
              "position 27: {score}: a number field; placeholders take "
              "string, integer or date fields");
    CHECK_STR(url_err(BASE "/v1/{ok}", U),
              "position 27: {ok}: a boolean field; placeholders take "
              "string, integer or date fields");
    CHECK_STR(url_err("https://{id}.example.com/x", U),
              "position 8: placeholder {id} in the scheme, host or port; "
              "placeholders go in the path or the query");
    char many[512] = BASE "/";
    for (int i = 0; i < 17; i++)
        strcat(many, "{id}");
    CHECK_STR(url_err(many, U), "position 88: more than 16 placeholders");
    CHECK_STR(url_err(BASE "/{a.b}/{day}/{n}?q={id}&d={day}", U), "");
    /* header mode: a brace that is not {name} is text */
    sl_fieldtpl_mode H = SL_FIELDTPL_HEADER;
    CHECK_STR(url_err("{\"a\":1} {} { id } }{", H), "");
    CHECK_STR(url_err("user {nope}", H),
              "position 5: {nope}: no such field in the schema "
              "(placeholders name top-level fields)");
    CHECK_STR(url_err("{score}", H),
              "position 0: {score}: a number field; placeholders take "
              "string, integer or date fields");
}

static void test_no_placeholder(void)
{
    sl_fieldtpl *t = (sl_fieldtpl *)1;
    char err[128];
    CHECK(sl_fieldtpl_parse(BASE "/v1/users", SL_FIELDTPL_URL, FROM, NULL,
                            "", &t, err, sizeof err) == 0);
    CHECK(t == NULL);
    CHECK(sl_fieldtpl_parse("{\"x\":1}", SL_FIELDTPL_HEADER, 0, NULL, "", &t,
                            err, sizeof err) == 0);
    CHECK(t == NULL);
    /* syntax only: names unresolved, the first one known */
    CHECK(sl_fieldtpl_parse(BASE "/{zz}/{id}", SL_FIELDTPL_URL, FROM, NULL,
                            "", &t, err, sizeof err) == 0);
    CHECK(t != NULL);
    CHECK_STR(sl_fieldtpl_first_name(t), "zz");
    sl_fieldtpl_free(t);
}

/* text rendered for record rec; "BAD: field: msg" when refused. */
static const char *render(const char *text, sl_fieldtpl_mode mode,
                          const char *rec)
{
    static char got[8192];
    char err[256];
    sl_schema *s = schema();
    sl_fieldtpl *t = NULL;
    CHECK(sl_fieldtpl_parse(text, mode, mode == SL_FIELDTPL_URL ? FROM : 0, s,
                            mode == SL_FIELDTPL_URL ? "the URL"
                                                    : "header \"X-Id\"",
                            &t, err, sizeof err) == 0);
    CHECK(t != NULL);
    sl_buf out;
    sl_buf_init(&out, 0);
    sl_buf_append(&out, "<", 1);
    sl_schema_error why;
    sl_fieldtpl_rc rc = sl_fieldtpl_render(t, rec, strlen(rec), &out, &why);
    sl_schema_error why2;
    CHECK(sl_fieldtpl_check(t, rec, strlen(rec), &why2) == rc);
    if (rc == SL_FIELDTPL_OK) {
        snprintf(got, sizeof got, "%.*s", (int)out.len - 1, out.data + 1);
    } else {
        CHECK(out.len == 1);
        snprintf(got, sizeof got, "BAD: %s: %s", why.field, why.msg);
        CHECK_STR(why2.msg, why.msg);
    }
    sl_buf_free(&out);
    sl_fieldtpl_free(t);
    sl_schema_free(s);
    return got;
}

static const char *rec_id(const char *json_id)
{
    static char rec[8192];
    snprintf(rec, sizeof rec, "{\"id\":%s,\"n\":-42,\"day\":\"2024-02-29\","
             "\"score\":1.5,\"note\":null,\"ok\":true,\"a.b\":\"x\"}",
             json_id);
    return rec;
}

static void test_url_encoding(void)
{
    sl_fieldtpl_mode U = SL_FIELDTPL_URL;
    const char *u = BASE "/v1/users/{id}";
    CHECK_STR(render(u, U, rec_id("\"abc-1.2_3~\"")),
              BASE "/v1/users/abc-1.2_3~");
    CHECK_STR(render(u, U, rec_id("\"a b\"")), BASE "/v1/users/a%20b");
    CHECK_STR(render(u, U, rec_id("\"a/b\"")), BASE "/v1/users/a%2Fb");
    CHECK_STR(render(u, U, rec_id("\"a?b#c\"")), BASE "/v1/users/a%3Fb%23c");
    CHECK_STR(render(u, U, rec_id("\"100%\"")), BASE "/v1/users/100%25");
    CHECK_STR(render(u, U, rec_id("\"...\"")), BASE "/v1/users/...");
    CHECK_STR(render(u, U, rec_id("\"..\"")),
              "BAD: id: is \"..\", but a path segment of the URL cannot be "
              "\".\" or \"..\"");
    CHECK_STR(render(u, U, rec_id("\"\\u002e\"")),
              "BAD: id: is \".\", but a path segment of the URL cannot be "
              "\".\" or \"..\"");
    CHECK_STR(render(u, U, rec_id("\".\\u002E\"")),
              "BAD: id: is \"..\", but a path segment of the URL cannot be "
              "\".\" or \"..\"");
    CHECK_STR(render(BASE "/x?id={id}", U, rec_id("\"..\"")),
              BASE "/x?id=..");
    CHECK_STR(render(BASE "/x/{id}.json", U, rec_id("\"a.b\"")),
              BASE "/x/a.b.json");
    CHECK_STR(render(u, U, rec_id("\"+&=;:@!$'()*,\"")),
              BASE "/v1/users/%2B%26%3D%3B%3A%40%21%24%27%28%29%2A%2C");
    /* unicode, raw and escaped, gives the same UTF-8 bytes */
    CHECK_STR(render(u, U, rec_id("\"Jos\xc3\xa9\"")),
              BASE "/v1/users/Jos%C3%A9");
    CHECK_STR(render(u, U, rec_id("\"Jos\\u00e9\"")),
              BASE "/v1/users/Jos%C3%A9");
    CHECK_STR(render(u, U, rec_id("\"\\ud83d\\ude00\"")),
              BASE "/v1/users/%F0%9F%98%80");
    CHECK_STR(render(u, U, rec_id("\"q\\\"\\\\\\/\\n\"")),
              BASE "/v1/users/q%22%5C%2F%0A");
    CHECK_STR(render(BASE "/n/{n}/d/{day}", U, rec_id("\"x\"")),
              BASE "/n/-42/d/2024-02-29");
    CHECK_STR(render(BASE "/n/{n}", U, "{\"n\":7}"), BASE "/n/7");
    CHECK_STR(render(BASE "/{a.b}?user={id}&again={id}", U,
                     rec_id("\"a b&c=d\"")),
              BASE "/x?user=a%20b%26c%3Dd&again=a%20b%26c%3Dd");
    /* an empty value: refused in the path, fine in the query */
    CHECK_STR(render(u, U, rec_id("\"\"")),
              "BAD: id: is empty, but is a path segment of the URL");
    CHECK_STR(render(BASE "/x?id={id}", U, rec_id("\"\"")), BASE "/x?id=");
}

static void test_header_values(void)
{
    sl_fieldtpl_mode H = SL_FIELDTPL_HEADER;
    CHECK_STR(render("user {id}; {\"n\": {n}}", H, rec_id("\"a b/%\"")),
              "user a b/%; {\"n\": -42}");
    CHECK_STR(render("{id}", H, rec_id("\"Jos\\u00e9 \\\"q\\\"\"")),
              "Jos\xc3\xa9 \"q\"");
    const char *bad[] = {"\"a\\r\\nX-Evil: 1\"", "\"a\\nb\"", "\"a\\tb\"",
                         "\"\\u0000\"", "\"\\u001f\"", "\"\\u007F\"",
                         "\"a\x7f\"", "\"\\b\"", "\"\\f\""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_STR(render("{id}", H, rec_id(bad[i])),
                  "BAD: id: has a control character (CR, LF, tab, ...), "
                  "which cannot go in header \"X-Id\"");
    CHECK_STR(render("{id}", H, rec_id("\"\\u0020\\u00a0\"")),
              " \xc2\xa0");
    CHECK_STR(render("[{id}]", H, rec_id("\"\"")), "[]");
    char big[5000] = "\"";
    memset(big + 1, 'x', 4094);
    strcat(big, "\"");
    CHECK(strlen(render("{id}..", H, rec_id(big))) == 4096);
    CHECK_STR(render("{id}!!!", H, rec_id(big)),
              "BAD: id: makes header \"X-Id\" longer than 4096 bytes");
}

static void test_bad_records(void)
{
    sl_fieldtpl_mode U = SL_FIELDTPL_URL;
    const char *u = BASE "/v1/{id}";
    CHECK_STR(render(u, U, "{\"n\":1}"),
              "BAD: id: missing, but the URL needs it");
    CHECK_STR(render(u, U, "{\"id\":null}"),
              "BAD: id: missing, but the URL needs it");
    CHECK_STR(render(u, U, "{\"id\":12}"),
              "BAD: id: not a string, but the URL needs one");
    CHECK_STR(render(BASE "/{n}", U, "{\"n\":1.5}"),
              "BAD: n: not an integer, but the URL needs one");
    CHECK_STR(render(u, U, "[1]"), "BAD: : the record is not a JSON object");
    CHECK_STR(render(u, U, "{\"id\":"), "BAD: : the record is not a JSON object");
    CHECK_STR(render(u, U, ""), "BAD: : the record is not a JSON object");
    /* nested values are skipped; an escaped key is still found */
    CHECK_STR(render(u, U, "{\"x\":{\"id\":\"no\"},\"y\":[1,{}],"
                           "\"\\u0069d\":\"yes\"}"),
              BASE "/v1/yes");
}

static void test_output_cap(void)
{
    char err[128];
    sl_schema *s = schema();
    sl_fieldtpl *t = NULL;
    CHECK(sl_fieldtpl_parse(BASE "/{id}", SL_FIELDTPL_URL, FROM, s, "", &t,
                            err, sizeof err) == 0);
    sl_buf out;
    sl_buf_init(&out, 40);
    sl_buf_append(&out, "x", 1);
    sl_schema_error why;
    const char *rec = "{\"id\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}";
    CHECK(sl_fieldtpl_render(t, rec, strlen(rec), &out, &why) ==
          SL_FIELDTPL_NOMEM);
    CHECK(out.len == 1);
    sl_buf_free(&out);
    sl_fieldtpl_free(t);
    sl_schema_free(s);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"parse_errors", test_parse_errors},
        {"no_placeholder", test_no_placeholder},
        {"url_encoding", test_url_encoding},
        {"header_values", test_header_values},
        {"bad_records", test_bad_records},
        {"output_cap", test_output_cap},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
