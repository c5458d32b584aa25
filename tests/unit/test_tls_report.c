/* Unit tests for sl_tls_report: a TLS failure is logged once per cause,
 * again when the cause changes (with the count of attempts before), once
 * when an answer comes again; every TLS failure is counted by cause and
 * nothing else is. The log (stderr) is read back from a temporary file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_test.h"
#include "sl_tls_report.h"

#define URL "https://127.0.0.1:8443/in"

static FILE *logf;
static int saved_stderr = -1;

/* From now on stderr goes to a fresh temporary file. */
static void capture(void)
{
    fflush(stderr);
    logf = tmpfile();
    saved_stderr = dup(2);
    dup2(fileno(logf), 2);
}

/* Stop capturing; the lines written meanwhile, malloc'd. */
static char *captured(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    long n = ftell(logf);
    char *s = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    rewind(logf);
    if (s && n > 0 && fread(s, 1, (size_t)n, logf) != (size_t)n)
        s[0] = '\0';
    fclose(logf);
    return s;
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static size_t lines(const char *s) { return count(s, "\n"); }

static const sl_http_client_response wrong_ca = {
    .curl_code = CURLE_PEER_FAILED_VERIFICATION, .tls_verify_result = 20,
    .error = "SSL certificate problem: unable to get local issuer "
             "certificate", .body = ""};
static const sl_http_client_response expired = {
    .curl_code = CURLE_PEER_FAILED_VERIFICATION, .tls_verify_result = 10,
    .error = "SSL certificate problem: certificate has expired", .body = ""};
static const sl_http_client_response refused = {
    .curl_code = CURLE_COULDNT_CONNECT,
    .error = "Failed to connect to 127.0.0.1 port 8443: Connection refused",
    .body = ""};
static const sl_http_client_response cert_required = {
    .curl_code = CURLE_RECV_ERROR,
    .error = "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL "
             "routines::tlsv13 alert certificate required, errno 0",
    .body = ""};
static const sl_http_client_response reset = {
    .curl_code = CURLE_SEND_ERROR,
    .error = "Send failure: Connection reset by peer", .body = ""};
static const sl_http_client_response bad_write_retry = {
    .curl_code = CURLE_SEND_ERROR,
    .error = "SSL_write() error: error:0A00007F:SSL routines::bad write "
             "retry", .body = ""};
static const sl_http_client_response answer_500 = {.status = 500,
                                                   .body = ""};
static const sl_http_client_response answer_200 = {.status = 200,
                                                   .body = ""};

#define N(c) (stats.tls_failures[SL_TLS_CAUSE_##c - 1])

static void test_once_per_cause_then_recovered(void)
{
    sl_stats stats = {0};
    sl_tls_report *r = sl_tls_report_new("crm", 0, &stats);
    CHECK(r != NULL);
    if (!r)
        return;
    capture();
    for (int i = 0; i < 3; i++)
        CHECK(sl_tls_report_attempt(r, URL, &wrong_ca) == 1);
    char *one = captured();
    CHECK(lines(one) == 1);
    CHECK_CONTAINS(one, "\"level\":\"warn\"");
    CHECK_CONTAINS(one, "crm: TLS to 127.0.0.1 failed: unknown_ca: the "
                        "destination's certificate is signed by a CA");
    CHECK_CONTAINS(one, "set tls.ca_file");
    CHECK_CONTAINS(one, "curl: SSL certificate problem: unable to get "
                        "local issuer certificate");
    CHECK(N(UNKNOWN_CA) == 3);
    CHECK(sl_tls_report_cause(r) == SL_TLS_CAUSE_UNKNOWN_CA);

    /* another cause: one line, with how many failed with the first */
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &expired) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &expired) == 1);
    /* not a TLS failure: neither counted nor logged here, and the cause
       stays */
    CHECK(sl_tls_report_attempt(r, URL, &refused) == 0);
    CHECK(sl_tls_report_attempt(r, URL, &expired) == 1);
    char *two = captured();
    CHECK(lines(two) == 1);
    CHECK_CONTAINS(two, "TLS to 127.0.0.1 failed: cert_expired: ");
    CHECK_CONTAINS(two, "before, 3 attempts failed with unknown_ca");
    CHECK(N(CERT_EXPIRED) == 3 && N(UNKNOWN_CA) == 3);

    /* any answer: TLS works; said once */
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &answer_500) == 0);
    CHECK(sl_tls_report_attempt(r, URL, &answer_200) == 0);
    CHECK(sl_tls_report_attempt(r, URL, &answer_200) == 0);
    char *three = captured();
    CHECK(lines(three) == 1);
    CHECK_CONTAINS(three, "\"level\":\"info\"");
    CHECK_CONTAINS(three, "crm: TLS to 127.0.0.1 recovered after 6 failed "
                          "attempts");
    CHECK(sl_tls_report_cause(r) == SL_TLS_CAUSE_NONE);

    /* the same cause after recovery is news again */
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &wrong_ca) == 1);
    char *four = captured();
    CHECK(lines(four) == 1);
    CHECK_CONTAINS(four, "failed: unknown_ca: ");
    CHECK(!strstr(four, "before,"));
    CHECK(N(UNKNOWN_CA) == 4);
    uint64_t total = 0;
    for (size_t i = 0; i < SL_TLS_CAUSE_COUNT - 1; i++)
        total += stats.tls_failures[i];
    CHECK(total == 7);
    free(one);
    free(two);
    free(three);
    free(four);
    sl_tls_report_free(r);
}

/* A reset right after the server refused our certificate is that refusal
 * (TLS 1.3's race); a reset before any refusal is a transport error. */
static void test_reset_counts_as_the_refusal(void)
{
    sl_stats stats = {0};
    sl_tls_report *r = sl_tls_report_new("crm", 0, &stats);
    CHECK(r != NULL);
    if (!r)
        return;
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &reset) == 0);
    CHECK(sl_tls_report_attempt(r, URL, &cert_required) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &reset) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &cert_required) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &bad_write_retry) == 1);
    char *s = captured();
    CHECK(lines(s) == 1);
    CHECK_CONTAINS(s, "failed: client_cert_required: ");
    CHECK_CONTAINS(s, "set tls.client_cert and tls.client_key");
    CHECK(N(CLIENT_CERT_REQUIRED) == 4);
    free(s);
    sl_tls_report_free(r);

    /* with a certificate sent, the same alert is a refusal of it */
    memset(&stats, 0, sizeof stats);
    r = sl_tls_report_new("crm", 1, &stats);
    CHECK(r != NULL);
    if (!r)
        return;
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &cert_required) == 1);
    s = captured();
    CHECK_CONTAINS(s, "failed: client_cert_rejected: ");
    CHECK(N(CLIENT_CERT_REJECTED) == 1);
    free(s);
    sl_tls_report_free(r);
}

/* A URL curl cannot read is named as it is; a long curl text still makes
 * one whole line. */
static void test_odd_url_and_long_text(void)
{
    sl_stats stats = {0};
    sl_tls_report *r = sl_tls_report_new("crm", 0, &stats);
    CHECK(r != NULL);
    if (!r)
        return;
    char big[CURL_ERROR_SIZE];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sl_http_client_response res = wrong_ca;
    res.error = big;
    capture();
    CHECK(sl_tls_report_attempt(r, "not a url", &res) == 1);
    char *s = captured();
    CHECK(lines(s) == 1);
    CHECK_CONTAINS(s, "TLS to not a url failed: unknown_ca");
    free(s);
    sl_tls_report_free(r);
    sl_tls_report_free(NULL);
}

/* nginx's 400 for a missing client certificate is a TLS failure: counted,
 * logged by cause, not a recovery; a plain 400 is an answer. */
static void test_nginx_400(void)
{
    static const char page[] = "<center>No required SSL certificate was "
                               "sent</center>";
    sl_http_client_response nginx = {.status = 400, .body = page,
                                     .body_len = sizeof page - 1};
    sl_http_client_response plain = {.status = 400, .body = "{}",
                                     .body_len = 2};
    sl_stats stats = {0};
    sl_tls_report *r = sl_tls_report_new("crm", 0, &stats);
    CHECK(r != NULL);
    if (!r)
        return;
    capture();
    CHECK(sl_tls_report_attempt(r, URL, &nginx) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &nginx) == 1);
    CHECK(sl_tls_report_attempt(r, URL, &plain) == 0);
    char *s = captured();
    CHECK(lines(s) == 2);
    CHECK_CONTAINS(s, "crm: TLS to 127.0.0.1 failed: client_cert_required: ");
    CHECK_CONTAINS(s, "the destination answered HTTP 400 \\\"No required SSL "
                      "certificate was sent\\\"");
    CHECK_CONTAINS(s, "recovered after 2 failed attempts");
    CHECK(N(CLIENT_CERT_REQUIRED) == 2);
    free(s);
    sl_tls_report_free(r);
}

int main(void)
{
    sl_log_set_level(SL_LOG_INFO);
    static const sl_test_case cases[] = {
        {"once_per_cause_then_recovered", test_once_per_cause_then_recovered},
        {"reset_counts_as_the_refusal", test_reset_counts_as_the_refusal},
        {"odd_url_and_long_text", test_odd_url_and_long_text},
        {"nginx_400", test_nginx_400},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
