/* Unit tests for sl_attempt_log: the answer body a failed attempt's line
 * quotes has every secret-looking header value of the request taken out
 * (whole, and its credentials after a scheme word), also where the quote
 * is cut through the value, also when repeated or at the ends; ordinary
 * headers and short values are left; hostile bodies (NULs, line breaks,
 * more than the cap) stay one bounded line; a dead letter's kept copy
 * masked in place, also where it is cut. */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sl_attempt_log.h"
#include "sl_test.h"

static struct curl_slist *hdrs(void)
{
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Authorization: Bearer tok-0123456789");
    h = curl_slist_append(h, "X-Api-Key:   key-abcdef  ");
    h = curl_slist_append(h, "X-Source: sluice-prod");
    h = curl_slist_append(h, "X-Token: abc"); /* too short to mask */
    h = curl_slist_append(h, "no colon here");
    return h;
}

static const char *red(const struct curl_slist *h, const char *body,
                       size_t outlen)
{
    static char out[512];
    return sl_attempt_log_redact(h, body, strlen(body), out,
                                 outlen < sizeof out ? outlen : sizeof out);
}

static void test_secrets_taken_out(void)
{
    struct curl_slist *h = hdrs();
    CHECK_STR(red(h, "{\"error\":\"bad token tok-0123456789\"}", 512),
              "{\"error\":\"bad token ****\"}");
    CHECK_STR(red(h, "got: Bearer tok-0123456789", 512), "got: ****");
    CHECK_STR(red(h, "key-abcdefkey-abcdef", 512), "********");
    CHECK_STR(red(h, "from sluice-prod with abc", 512),
              "from sluice-prod with abc");
    /* cut through the value: the value is still matched whole */
    CHECK_STR(red(h, "0123456789tok-0123456789", 15), "0123456789****");
    CHECK_STR(red(h, "0123456789tok-0123456789", 12), "0123456789*");
    CHECK_STR(red(h, "tok-012345678", 512), "tok-012345678"); /* not it */
    curl_slist_free_all(h);
}

static void test_hostile_bodies(void)
{
    char out[201];
    const char body[] = "a\0b\r\nc";
    CHECK_STR(sl_attempt_log_redact(NULL, body, sizeof body - 1, out,
                                    sizeof out), "a b  c");
    char *big = malloc(100000);
    memset(big, 'x', 100000);
    CHECK(strlen(sl_attempt_log_redact(NULL, big, 100000, out, sizeof out))
          == 200);
    free(big);
    CHECK_STR(sl_attempt_log_redact(NULL, NULL, 0, out, sizeof out), "");
    CHECK(sl_attempt_log_redact(NULL, "x", 1, out, 0) == out);
    /* more secret headers than the table holds: the first 32 are used */
    struct curl_slist *h = NULL;
    char line[64];
    for (int i = 0; i < 40; i++) {
        snprintf(line, sizeof line, "X-Key-%d: secret-value-%02d", i, i);
        h = curl_slist_append(h, line);
    }
    CHECK_STR(sl_attempt_log_redact(h, "secret-value-00 secret-value-31",
                                    31, out, sizeof out), "**** ****");
    curl_slist_free_all(h);
}

static void test_mask_in_place(void)
{
    struct curl_slist *h = hdrs();
    const char src[] = "{\"got\":\"Bearer tok-0123456789\",\"k\":\"key-abcdef\"}";
    char dst[sizeof src];
    memcpy(dst, src, sizeof src);
    sl_attempt_log_mask(h, src, sizeof src - 1, dst, sizeof src - 1);
    CHECK_STR(dst, "{\"got\":\"*********************\",\"k\":\"**********\"}");
    /* a copy cut inside a value: what is kept of it is masked */
    char cut[16];
    memcpy(cut, "got tok-0123456789", 15);
    cut[15] = '\0';
    sl_attempt_log_mask(h, "got tok-0123456789", 18, cut, 15);
    CHECK_STR(cut, "got ***********");
    sl_attempt_log_mask(NULL, src, sizeof src - 1, dst, 0);
    curl_slist_free_all(h);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"secrets_taken_out", test_secrets_taken_out},
        {"hostile_bodies", test_hostile_bodies},
        {"mask_in_place", test_mask_in_place},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
