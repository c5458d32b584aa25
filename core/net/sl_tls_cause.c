/* sl_tls_cause: a failed transfer's TLS cause from curl's code, the X509
 * verify result and the error text. The texts matched are those curl
 * 7.88 with OpenSSL 3.0 writes (tests/unit/test_tls_cause.c has them as
 * observed against a real server); the verify result decides first
 * where there is one, because it does not depend on wording. */
#include "sl_tls_cause.h"

#include <string.h>

#include <openssl/x509_vfy.h>

static const struct {
    const char *key;
    const char *words;
} causes[SL_TLS_CAUSE_COUNT] = {
    [SL_TLS_CAUSE_NONE] = {"none", "not a TLS failure"},
    [SL_TLS_CAUSE_UNKNOWN_CA] =
        {"unknown_ca",
         "the destination's certificate is signed by a CA this connector "
         "does not trust (or is self-signed); set tls.ca_file to that CA's "
         "certificate"},
    [SL_TLS_CAUSE_CERT_EXPIRED] =
        {"cert_expired",
         "the destination's certificate has expired; it must be renewed "
         "there (or a clock is wrong, here or there)"},
    [SL_TLS_CAUSE_CERT_NOT_YET_VALID] =
        {"cert_not_yet_valid",
         "the destination's certificate is not valid yet; a clock is wrong, "
         "here or where the certificate was made"},
    [SL_TLS_CAUSE_NAME_MISMATCH] =
        {"name_mismatch",
         "the destination's certificate is not for the host in the URL; use "
         "a name it was issued for in the URL, or set tls.server_name"},
    [SL_TLS_CAUSE_CLIENT_CERT_REQUIRED] =
        {"client_cert_required",
         "the destination wants a client certificate and this connector "
         "sent none; set tls.client_cert and tls.client_key (a 'handshake "
         "failure' alert may also mean that no cipher is shared)"},
    [SL_TLS_CAUSE_CLIENT_CERT_REJECTED] =
        {"client_cert_rejected",
         "the destination refused this connector's client certificate "
         "(signed by a CA it does not trust, expired or revoked); check "
         "tls.client_cert with the destination's owner"},
    [SL_TLS_CAUSE_PROTOCOL_VERSION] =
        {"protocol_version",
         "the destination and this connector share no TLS version; compare "
         "tls.min_version with what the destination offers"},
    [SL_TLS_CAUSE_LOCAL_FILES] =
        {"local_files",
         "this connector's own TLS files could not be used (tls.ca_file, "
         "tls.ca_path, tls.client_cert, tls.client_key or the key's "
         "password); `sluice check` says which"},
    [SL_TLS_CAUSE_OTHER_HANDSHAKE] =
        {"other_handshake",
         "the TLS handshake failed for another reason, in curl's words "
         "(\"wrong version number\": the destination does not speak TLS "
         "there; use http:// or the right port)"},
};

const char *sl_tls_cause_key(sl_tls_cause c)
{
    return (unsigned)c < SL_TLS_CAUSE_COUNT ? causes[c].key : "none";
}

const char *sl_tls_cause_explain(sl_tls_cause c)
{
    return (unsigned)c < SL_TLS_CAUSE_COUNT ? causes[c].words
                                            : causes[0].words;
}

static int has(const char *text, const char *word)
{
    return strcasestr(text, word) != NULL;
}

/* The server's certificate failed our check: by the X509 verify result.
 * NONE when the result says nothing (curl leaves 1, "unspecified", when
 * it stopped before asking OpenSSL, e.g. at the host name). */
static sl_tls_cause by_verify_result(long v)
{
    switch (v) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_CERT_UNTRUSTED:
        return SL_TLS_CAUSE_UNKNOWN_CA;
    case X509_V_ERR_CERT_HAS_EXPIRED:
        return SL_TLS_CAUSE_CERT_EXPIRED;
    case X509_V_ERR_CERT_NOT_YET_VALID:
        return SL_TLS_CAUSE_CERT_NOT_YET_VALID;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
        return SL_TLS_CAUSE_NAME_MISMATCH;
    default:
        return SL_TLS_CAUSE_NONE;
    }
}

/* CURLE_PEER_FAILED_VERIFICATION without a telling verify result. */
static sl_tls_cause by_verify_text(const char *e)
{
    if (has(e, "no alternative certificate subject name") ||
        has(e, "does not match target host"))
        return SL_TLS_CAUSE_NAME_MISMATCH;
    if (has(e, "local issuer") || has(e, "self-signed") ||
        has(e, "self signed") || has(e, "get issuer"))
        return SL_TLS_CAUSE_UNKNOWN_CA;
    if (has(e, "certificate has expired"))
        return SL_TLS_CAUSE_CERT_EXPIRED;
    if (has(e, "not yet valid"))
        return SL_TLS_CAUSE_CERT_NOT_YET_VALID;
    return SL_TLS_CAUSE_OTHER_HANDSHAKE;
}

/* Alerts a server sends about the client's certificate (OpenSSL names
 * them "sslv3 alert ..." or "tlsv1 alert ..." / "tlsv13 alert ..."). */
static int client_cert_alert(const char *e)
{
    static const char *const alerts[] = {
        "alert certificate required", "alert handshake failure",
        "alert bad certificate",      "alert certificate unknown",
        "alert unknown ca",           "alert certificate expired",
        "alert certificate revoked",  "alert unsupported certificate",
        "alert access denied",
    };
    for (size_t i = 0; i < sizeof alerts / sizeof *alerts; i++)
        if (has(e, alerts[i]))
            return 1;
    return 0;
}

/* A failed handshake or a TLS alert read or written after it. */
static sl_tls_cause by_alert(const sl_tls_cause_input *in, const char *e)
{
    if (has(e, "alert protocol version") || has(e, "unsupported protocol") ||
        has(e, "no protocols available"))
        return SL_TLS_CAUSE_PROTOCOL_VERSION;
    if (client_cert_alert(e)) {
        if (!in->have_client_cert)
            return SL_TLS_CAUSE_CLIENT_CERT_REQUIRED;
        /* with a certificate sent, "handshake failure" says nothing
           about it */
        return has(e, "alert handshake failure")
                   ? SL_TLS_CAUSE_OTHER_HANDSHAKE
                   : SL_TLS_CAUSE_CLIENT_CERT_REJECTED;
    }
    return SL_TLS_CAUSE_OTHER_HANDSHAKE;
}

/* Does body[0..len) contain `word`? */
static int body_has(const char *body, size_t len, const char *word)
{
    size_t w = strlen(word);
    for (size_t i = 0; body && i + w <= len; i++)
        if (memcmp(body + i, word, w) == 0)
            return 1;
    return 0;
}

sl_tls_cause sl_tls_cause_of_answer(long status, const char *body,
                                    size_t len, int have_client_cert)
{
    /* nginx's error pages; only the first bytes are looked at */
    if (len > 1024)
        len = 1024;
    int required = status == 496 ||
                   (status == 400 &&
                    body_has(body, len, "No required SSL certificate was "
                                        "sent"));
    int rejected = status == 495 ||
                   (status == 400 &&
                    body_has(body, len, "The SSL certificate error"));
    if (required)
        return have_client_cert ? SL_TLS_CAUSE_CLIENT_CERT_REJECTED
                                : SL_TLS_CAUSE_CLIENT_CERT_REQUIRED;
    return rejected ? SL_TLS_CAUSE_CLIENT_CERT_REJECTED : SL_TLS_CAUSE_NONE;
}

sl_tls_cause sl_tls_cause_classify(const sl_tls_cause_input *in)
{
    const char *e = in->error ? in->error : "";
    sl_tls_cause c;
    switch (in->code) {
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
        return SL_TLS_CAUSE_LOCAL_FILES;
    case CURLE_PEER_FAILED_VERIFICATION:
        c = by_verify_result(in->verify_result);
        return c != SL_TLS_CAUSE_NONE ? c : by_verify_text(e);
    case CURLE_SSL_CLIENTCERT:
        return in->have_client_cert ? SL_TLS_CAUSE_CLIENT_CERT_REJECTED
                                    : SL_TLS_CAUSE_CLIENT_CERT_REQUIRED;
    case CURLE_SSL_CONNECT_ERROR:
        return by_alert(in, e);
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
        return SL_TLS_CAUSE_OTHER_HANDSHAKE;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
        if (has(e, " alert "))
            return by_alert(in, e);
        if (in->previous == SL_TLS_CAUSE_CLIENT_CERT_REQUIRED ||
            in->previous == SL_TLS_CAUSE_CLIENT_CERT_REJECTED)
            return in->previous;
        return SL_TLS_CAUSE_NONE;
    default:
        return SL_TLS_CAUSE_NONE;
    }
}
