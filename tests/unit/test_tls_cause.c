/* Unit tests for sl_tls_cause, with what curl 7.88.1 / OpenSSL 3.0.19
 * really reported (code, CURLINFO_SSL_VERIFYRESULT, error text) against
 * the Python test destination with certificates from tests/integration/
 * pki.py, over TLS 1.2 and 1.3 — and texts that must not be taken for a
 * TLS failure. */
#include <string.h>

#include "sl_test.h"
#include "sl_tls_cause.h"

typedef struct seen {
    CURLcode code;
    long verify;
    int have_cert;
    const char *error;
    sl_tls_cause want;
} seen;

static const seen observed[] = {
    /* server certificate signed by another CA */
    {CURLE_PEER_FAILED_VERIFICATION, 20, 0,
     "SSL certificate problem: unable to get local issuer certificate",
     SL_TLS_CAUSE_UNKNOWN_CA},
    /* expired yesterday */
    {CURLE_PEER_FAILED_VERIFICATION, 10, 0,
     "SSL certificate problem: certificate has expired",
     SL_TLS_CAUSE_CERT_EXPIRED},
    /* valid from the day after tomorrow */
    {CURLE_PEER_FAILED_VERIFICATION, 9, 0,
     "SSL certificate problem: certificate is not yet valid",
     SL_TLS_CAUSE_CERT_NOT_YET_VALID},
    /* certificate for DNS:other.example, URL https://127.0.0.1: curl
       checks the name itself and leaves the verify result at 1 */
    {CURLE_PEER_FAILED_VERIFICATION, 1, 0,
     "SSL: no alternative certificate subject name matches target host "
     "name '127.0.0.1'",
     SL_TLS_CAUSE_NAME_MISMATCH},
    /* client certificate required, none sent, TLS 1.2 */
    {CURLE_SSL_CONNECT_ERROR, 1, 0,
     "OpenSSL/3.0.19: error:0A000410:SSL routines::sslv3 alert handshake "
     "failure",
     SL_TLS_CAUSE_CLIENT_CERT_REQUIRED},
    /* client certificate required, none sent, TLS 1.3: after the
       handshake, on reading */
    {CURLE_RECV_ERROR, 0, 0,
     "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A00045C:SSL routines::"
     "tlsv13 alert certificate required, errno 0",
     SL_TLS_CAUSE_CLIENT_CERT_REQUIRED},
    /* a client certificate from a CA the server does not trust, 1.2 */
    {CURLE_SSL_CONNECT_ERROR, 1, 1,
     "OpenSSL/3.0.19: error:0A000418:SSL routines::tlsv1 alert unknown ca",
     SL_TLS_CAUSE_CLIENT_CERT_REJECTED},
    /* the same over 1.3 */
    {CURLE_RECV_ERROR, 0, 1,
     "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A000418:SSL routines::"
     "tlsv1 alert unknown ca, errno 0",
     SL_TLS_CAUSE_CLIENT_CERT_REJECTED},
    /* an expired client certificate, 1.3: "certificate expired" is the
       server speaking of ours, not of its own */
    {CURLE_RECV_ERROR, 0, 1,
     "OpenSSL SSL_read: OpenSSL/3.0.19: error:0A000415:SSL routines::"
     "sslv3 alert certificate expired, errno 0",
     SL_TLS_CAUSE_CLIENT_CERT_REJECTED},
    /* server at most 1.2, client at least 1.3; and the other way round */
    {CURLE_SSL_CONNECT_ERROR, 1, 0,
     "OpenSSL/3.0.19: error:0A00042E:SSL routines::tlsv1 alert protocol "
     "version",
     SL_TLS_CAUSE_PROTOCOL_VERSION},
    /* tls.ca_file missing */
    {CURLE_SSL_CACERT_BADFILE, 1, 0,
     "error setting certificate file: /nonexistent.pem",
     SL_TLS_CAUSE_LOCAL_FILES},
    /* tls.client_cert missing */
    {CURLE_SSL_CERTPROBLEM, 1, 0,
     "could not load PEM client certificate from /nonexistent.pem, OpenSSL "
     "error error:80000002:system library::No such file or directory, (no "
     "key found, wrong pass phrase, or wrong file format?)",
     SL_TLS_CAUSE_LOCAL_FILES},
    /* a key that is not the certificate's */
    {CURLE_SSL_CERTPROBLEM, 1, 1,
     "unable to set private key file: '/tmp/b/bcl.key' type PEM",
     SL_TLS_CAUSE_LOCAL_FILES},
    /* https:// to a plain HTTP server */
    {CURLE_SSL_CONNECT_ERROR, 1, 0,
     "OpenSSL/3.0.19: error:0A00010B:SSL routines::wrong version number",
     SL_TLS_CAUSE_OTHER_HANDSHAKE},
};

static void test_observed(void)
{
    for (size_t i = 0; i < sizeof observed / sizeof *observed; i++) {
        const seen *s = &observed[i];
        sl_tls_cause_input in = {s->code, s->verify, s->error, s->have_cert,
                                 SL_TLS_CAUSE_NONE};
        sl_tls_cause got = sl_tls_cause_classify(&in);
        if (got != s->want)
            fprintf(stderr, "case %zu: got %s, want %s\n", i,
                    sl_tls_cause_key(got), sl_tls_cause_key(s->want));
        CHECK(got == s->want);
    }
}

/* Without a telling verify result the text decides; with one, the text
   does not matter. */
static void test_verify_result_first(void)
{
    sl_tls_cause_input in = {CURLE_PEER_FAILED_VERIFICATION, 18, "whatever",
                             0, SL_TLS_CAUSE_NONE};
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_UNKNOWN_CA);
    in.verify_result = 19;
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_UNKNOWN_CA);
    in.verify_result = 62; /* X509_V_ERR_HOSTNAME_MISMATCH */
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_NAME_MISMATCH);
    in.verify_result = 1;
    in.error = "SSL certificate problem: self-signed certificate";
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_UNKNOWN_CA);
    in.error = "SSL: certificate subject name 'a' does not match target "
               "host name 'b'";
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_NAME_MISMATCH);
    in.error = "SSL certificate problem: certificate revoked";
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_OTHER_HANDSHAKE);
    in.error = NULL;
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_OTHER_HANDSHAKE);
}

/* With TLS 1.3, 2 to 7 attempts in 100 without a client certificate (and
   with a refused one) end in a reset before the alert is read; while the
   last cause was the server refusing ours, that is the same refusal. */
static void test_reset_after_refusal(void)
{
    static const char *const resets[] = {
        "Send failure: Connection reset by peer",
        "getpeername() failed with errno 107: Transport endpoint is not "
        "connected",
    };
    for (size_t i = 0; i < 2; i++) {
        sl_tls_cause_input in = {CURLE_SEND_ERROR, 0, resets[i], 0,
                                 SL_TLS_CAUSE_NONE};
        CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_NONE);
        in.previous = SL_TLS_CAUSE_CLIENT_CERT_REQUIRED;
        CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REQUIRED);
        in.previous = SL_TLS_CAUSE_CLIENT_CERT_REJECTED;
        CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
        in.previous = SL_TLS_CAUSE_UNKNOWN_CA;
        CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_NONE);
    }
}

/* Failures that are not about TLS stay NONE: they are logged and retried
   as the transport errors they are. */
static void test_not_tls(void)
{
    static const struct {
        CURLcode code;
        const char *error;
    } plain[] = {
        {CURLE_COULDNT_CONNECT, "Failed to connect to 127.0.0.1 port 9: "
                                "Connection refused"},
        {CURLE_OPERATION_TIMEDOUT, "Operation timed out after 1000 "
                                   "milliseconds with 0 bytes received"},
        {CURLE_GOT_NOTHING, "Empty reply from server"},
        {CURLE_RECV_ERROR, "Recv failure: Connection reset by peer"},
        {CURLE_RECV_ERROR, "OpenSSL SSL_read: OpenSSL/3.0.19: error:"
                           "0A000126:SSL routines::unexpected eof while "
                           "reading, errno 0"},
        {CURLE_COULDNT_RESOLVE_HOST, "Could not resolve host: nowhere"},
        {CURLE_OUT_OF_MEMORY, "cannot start request"},
        {CURLE_OK, ""},
    };
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        sl_tls_cause_input in = {plain[i].code, 0, plain[i].error, 0,
                                 SL_TLS_CAUSE_NONE};
        CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_NONE);
    }
}

/* With a certificate sent, a bare "handshake failure" says nothing about
   it; without one, every certificate alert means "send one". */
static void test_alerts_and_the_certificate(void)
{
    const char *hf = "OpenSSL/3.0.19: error:0A000410:SSL routines::sslv3 "
                     "alert handshake failure";
    const char *bc = "OpenSSL/3.0.19: error:0A000412:SSL routines::sslv3 "
                     "alert bad certificate";
    sl_tls_cause_input in = {CURLE_SSL_CONNECT_ERROR, 1, hf, 1,
                             SL_TLS_CAUSE_NONE};
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_OTHER_HANDSHAKE);
    in.error = bc;
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
    in.have_client_cert = 0;
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REQUIRED);
    in.code = CURLE_SSL_CLIENTCERT;
    in.error = "";
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REQUIRED);
    in.have_client_cert = 1;
    CHECK(sl_tls_cause_classify(&in) == SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
}

/* Every cause has a key (distinct, a Prometheus label value) and words
   that name what to change. */
static void test_keys_and_words(void)
{
    for (int i = 0; i < SL_TLS_CAUSE_COUNT; i++) {
        const char *k = sl_tls_cause_key((sl_tls_cause)i);
        CHECK(k && *k);
        for (const char *p = k; *p; p++)
            CHECK((*p >= 'a' && *p <= 'z') || *p == '_');
        for (int j = 0; j < i; j++)
            CHECK(strcmp(k, sl_tls_cause_key((sl_tls_cause)j)) != 0);
        CHECK(strlen(sl_tls_cause_explain((sl_tls_cause)i)) > 10);
    }
    CHECK_STR(sl_tls_cause_key(SL_TLS_CAUSE_UNKNOWN_CA), "unknown_ca");
    CHECK_STR(sl_tls_cause_key(SL_TLS_CAUSE_COUNT), "none");
    CHECK_STR(sl_tls_cause_key((sl_tls_cause)-1), "none");
    CHECK_CONTAINS(sl_tls_cause_explain(SL_TLS_CAUSE_UNKNOWN_CA),
                   "tls.ca_file");
    CHECK_CONTAINS(sl_tls_cause_explain(SL_TLS_CAUSE_CLIENT_CERT_REQUIRED),
                   "tls.client_cert");
    CHECK_CONTAINS(sl_tls_cause_explain(SL_TLS_CAUSE_NAME_MISMATCH),
                   "tls.server_name");
}

/* nginx with ssl_verify_client answers 400 with these pages (nginx
   1.22.1, observed): a TLS refusal, not a verdict on the records. */
static void test_nginx_answers(void)
{
    static const char required[] =
        "<html>\n<head><title>400 No required SSL certificate was sent"
        "</title></head>\n<body>\n<center><h1>400 Bad Request</h1></center>"
        "\n<center>No required SSL certificate was sent</center>\n<hr><center>"
        "nginx/1.22.1</center>\n</body>\n</html>\n";
    static const char rejected[] =
        "<html>\n<head><title>400 The SSL certificate error</title></head>\n"
        "<body>\n<center><h1>400 Bad Request</h1></center>\n<center>The SSL "
        "certificate error</center>\n<hr><center>nginx/1.22.1</center>\n"
        "</body>\n</html>\n";
    CHECK(sl_tls_cause_of_answer(400, required, sizeof required - 1, 0) ==
          SL_TLS_CAUSE_CLIENT_CERT_REQUIRED);
    /* sent one, and still "required": it was not good enough */
    CHECK(sl_tls_cause_of_answer(400, required, sizeof required - 1, 1) ==
          SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
    CHECK(sl_tls_cause_of_answer(400, rejected, sizeof rejected - 1, 1) ==
          SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
    CHECK(sl_tls_cause_of_answer(496, "", 0, 0) ==
          SL_TLS_CAUSE_CLIENT_CERT_REQUIRED);
    CHECK(sl_tls_cause_of_answer(495, NULL, 0, 1) ==
          SL_TLS_CAUSE_CLIENT_CERT_REJECTED);
    /* the same words with another status, cut short, or past the first
       KiB: an ordinary answer */
    CHECK(sl_tls_cause_of_answer(200, required, sizeof required - 1, 0) ==
          SL_TLS_CAUSE_NONE);
    CHECK(sl_tls_cause_of_answer(500, rejected, sizeof rejected - 1, 0) ==
          SL_TLS_CAUSE_NONE);
    CHECK(sl_tls_cause_of_answer(400, required, 50, 0) == SL_TLS_CAUSE_NONE);
    static char late[2048];
    memset(late, ' ', sizeof late);
    memcpy(late + 1500, "No required SSL certificate was sent", 36);
    CHECK(sl_tls_cause_of_answer(400, late, sizeof late, 0) ==
          SL_TLS_CAUSE_NONE);
    CHECK(sl_tls_cause_of_answer(400, "{\"error\":\"bad record\"}", 24, 0) ==
          SL_TLS_CAUSE_NONE);
    CHECK(sl_tls_cause_of_answer(400, NULL, 0, 0) == SL_TLS_CAUSE_NONE);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"observed", test_observed},
        {"verify_result_first", test_verify_result_first},
        {"reset_after_refusal", test_reset_after_refusal},
        {"not_tls", test_not_tls},
        {"alerts_and_the_certificate", test_alerts_and_the_certificate},
        {"keys_and_words", test_keys_and_words},
        {"nginx_answers", test_nginx_answers},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
