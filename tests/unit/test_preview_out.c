/* Unit tests for sl_preview_out and the masking it shares with sluice
 * check (sl_preview_header_masked): secret-looking values are "****"
 * unless shown, the idempotency header never is; lines curl sends nothing
 * for are left out and "Name;" is an empty value; the body is written
 * exactly, with its end line; the JSON form escapes what it must. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sl_preview.h"
#include "sl_preview_out.h"
#include "sl_test.h"

static char *text;
static size_t text_len;

static sl_preview_out out_to(FILE **f, int json, int show)
{
    free(text);
    text = NULL;
    *f = open_memstream(&text, &text_len);
    CHECK(*f != NULL);
    return (sl_preview_out){.out = *f, .json = json, .show_secrets = show};
}

static struct curl_slist *headers(void)
{
    static const char *const lines[] = {
        "Content-Type: application/json", "Expect:", "Idempotency-Key: k-1",
        "Authorization: Bearer s3cret", "X-Api-Key: k3y", "X-Gone:",
        "X-Empty;", "X-Plain: v: w", NULL};
    struct curl_slist *l = NULL;
    for (const char *const *p = lines; *p; p++)
        l = curl_slist_append(l, *p);
    return l;
}

static void test_masked_names(void)
{
    sl_connector_conf c = {.idempotency_header = "Idempotency-Key"};
    CHECK(sl_preview_header_masked(&c, "Authorization"));
    CHECK(sl_preview_header_masked(&c, "x-api-KEY"));
    CHECK(sl_preview_header_masked(&c, "X-Body-Signature"));
    CHECK(sl_preview_header_masked(&c, "Cookie"));
    CHECK(!sl_preview_header_masked(&c, "idempotency-key"));
    CHECK(!sl_preview_header_masked(&c, "X-Source"));
    sl_connector_conf none = {0};
    CHECK(sl_preview_header_masked(&none, "Idempotency-Key")); /* "key" */
}

static void test_text_request(void)
{
    sl_connector_conf c = {.idempotency_header = "Idempotency-Key"};
    struct curl_slist *h = headers();
    const char body[] = "{\"a\":1}\n{\"b\":\"\\u0000\"}\n";
    sl_preview_batch_req r = {.k = 2, .m = 3, .first = 4, .n = 2,
                              .method = "POST", .url = "http://h/p?q=1",
                              .headers = h, .body = body,
                              .body_len = sizeof body - 1,
                              .wire_len = sizeof body - 1};
    FILE *f;
    sl_preview_out o = out_to(&f, 0, 0);
    sl_preview_out_request(&o, &c, &r, 7, 9);
    fclose(f);
    CHECK_STR(text, "### request 2 of 3 (records 5..6, lines 7..9)\n"
              "POST http://h/p?q=1\n"
              "Content-Type: application/json\n"
              "Idempotency-Key: k-1\n"
              "Authorization: ****\n"
              "X-Api-Key: ****\n"
              "X-Empty: \n"
              "X-Plain: v: w\n"
              "Content-Length: 23\n"
              "\n"
              "{\"a\":1}\n{\"b\":\"\\u0000\"}\n"
              "\n--- end of body (23 bytes)\n");
    o = out_to(&f, 0, 1);
    sl_preview_out_request(&o, &c, &r, 7, 9);
    fclose(f);
    CHECK_CONTAINS(text, "\nAuthorization: Bearer s3cret\nX-Api-Key: k3y\n");

    /* compressed, and a request that cannot be made */
    c.compression = SL_COMPRESSION_GZIP;
    r.wire_len = 40;
    r.headers = NULL;
    r.url = NULL;
    r.err = "field \"id\": is empty";
    o = out_to(&f, 0, 0);
    sl_preview_out_request(&o, &c, &r, 7, 7);
    fclose(f);
    CHECK_STR(text, "### request 2 of 3 (records 5..6, lines 7..7)\n"
              "POST (no URL)\n"
              "(not made: field \"id\": is empty)\n"
              "\n"
              "{\"a\":1}\n{\"b\":\"\\u0000\"}\n"
              "\n--- end of body (23 bytes, sent gzip-compressed: 40 "
              "bytes)\n");
    curl_slist_free_all(h);
}

static void test_json_request(void)
{
    sl_connector_conf c = {.idempotency_header = "Idempotency-Key",
                           .compression = SL_COMPRESSION_GZIP};
    struct curl_slist *h = headers();
    const char body[] = "[\"\xc3\xa9\\n\",\"tab\t\"]";
    sl_preview_batch_req r = {.k = 1, .m = 1, .first = 0, .n = 1,
                              .method = "PUT", .url = "http://h/\"x\"",
                              .headers = h, .body = body,
                              .body_len = sizeof body - 1, .wire_len = 30};
    FILE *f;
    sl_preview_out o = out_to(&f, 1, 0);
    sl_preview_out_request(&o, &c, &r, 3, 3);
    fclose(f);
    CHECK_STR(text,
              "{\"kind\":\"request\",\"request\":1,\"of\":1,\"records\":[1,1],"
              "\"lines\":[3,3],\"method\":\"PUT\",\"url\":\"http://h/\\\"x\\\"\","
              "\"headers\":[[\"Content-Type\",\"application/json\"],"
              "[\"Idempotency-Key\",\"k-1\"],[\"Authorization\",\"****\"],"
              "[\"X-Api-Key\",\"****\"],[\"X-Empty\",\"\"],"
              "[\"X-Plain\",\"v: w\"],[\"Content-Length\",\"30\"]],"
              "\"body\":\"[\\\"\xc3\xa9\\\\n\\\",\\\"tab\\t\\\"]\","
              "\"body_bytes\":15,\"sent_bytes\":30,\"compression\":\"gzip\","
              "\"error\":null}\n");
    r.err = "headers_fn: boom";
    r.headers = NULL;
    o = out_to(&f, 1, 0);
    sl_preview_out_request(&o, &c, &r, 3, 3);
    fclose(f);
    CHECK_CONTAINS(text, "\"headers\":[],\"body\":");
    CHECK_CONTAINS(text, "\"error\":\"headers_fn: boom\"}\n");
    curl_slist_free_all(h);
}

static void test_rejections_and_summary(void)
{
    FILE *f;
    sl_preview_out o = out_to(&f, 0, 0);
    sl_preview_out_rejected(&o, 12, "id", "expected integer, got string");
    sl_preview_out_rejected(&o, 13, "", "not an object");
    sl_preview_out_rejected(&o, 15, "\x1b[2J\xc3\xa9", "unknown\r\x7f");
    sl_preview_out_dropped(&o, 14);
    sl_preview_out_counts n = {.read = 1, .accepted = 1, .requests = 1};
    sl_preview_out_summary(&o, &n);
    n = (sl_preview_out_counts){3, 5, 1, 1, 2, 1};
    sl_preview_out_summary(&o, &n);
    fclose(f);
    CHECK_STR(text, "line 12: id: expected integer, got string\n"
              "line 13: not an object\n"
              "line 15: \\x1b[2J\xc3\xa9: unknown\\x0d\\x7f\n"
              "line 14: dropped by the transform\n"
              "### 1 record read: 1 accepted, 0 rejected, 0 dropped by the "
              "transform; 1 request, nothing sent\n"
              "### 3 records read: 5 accepted, 1 rejected, 1 dropped by the "
              "transform; 2 requests (1 not made), nothing sent\n");
    o = out_to(&f, 1, 0);
    sl_preview_out_rejected(&o, 12, "a\"b", "bad\n");
    sl_preview_out_dropped(&o, 14);
    sl_preview_out_summary(&o, &n);
    fclose(f);
    CHECK_STR(text, "{\"kind\":\"rejected\",\"line\":12,\"field\":\"a\\\"b\","
              "\"error\":\"bad\\n\"}\n"
              "{\"kind\":\"dropped\",\"line\":14}\n"
              "{\"kind\":\"summary\",\"read\":3,\"accepted\":5,\"rejected\":1,"
              "\"dropped\":1,\"requests\":2,\"failed\":1}\n");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"masked_names", test_masked_names},
        {"text_request", test_text_request},
        {"json_request", test_json_request},
        {"rejections_and_summary", test_rejections_and_summary},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    free(text);
    return rc;
}
