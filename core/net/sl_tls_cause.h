/* sl_tls_cause: why a transfer's TLS failed, in a word an operator can
 * look up and a sentence that says what to do. Pure: it reads what curl
 * reported (the CURLcode, the X509 verify result, the error text) and
 * decides nothing else. */
#ifndef SL_TLS_CAUSE_H
#define SL_TLS_CAUSE_H

#include <curl/curl.h>

typedef enum sl_tls_cause {
    SL_TLS_CAUSE_NONE = 0,          /* not a TLS failure */
    SL_TLS_CAUSE_UNKNOWN_CA,        /* server's chain ends at a CA we do
                                       not trust (or is self-signed) */
    SL_TLS_CAUSE_CERT_EXPIRED,      /* server's certificate expired */
    SL_TLS_CAUSE_CERT_NOT_YET_VALID,
    SL_TLS_CAUSE_NAME_MISMATCH,     /* certificate is not for the URL's host */
    SL_TLS_CAUSE_CLIENT_CERT_REQUIRED, /* server wants a client certificate
                                          and we sent none */
    SL_TLS_CAUSE_CLIENT_CERT_REJECTED, /* server refused the one we sent */
    SL_TLS_CAUSE_PROTOCOL_VERSION,  /* no TLS version both sides accept */
    SL_TLS_CAUSE_LOCAL_FILES,       /* our CA file, certificate or key
                                       could not be used */
    SL_TLS_CAUSE_OTHER_HANDSHAKE,   /* any other TLS failure */
    SL_TLS_CAUSE_COUNT
} sl_tls_cause;

/* What curl reported about one failed transfer. */
typedef struct sl_tls_cause_input {
    CURLcode code;          /* the transfer's result (not CURLE_OK) */
    long verify_result;     /* CURLINFO_SSL_VERIFYRESULT (X509_V_ERR_*) */
    const char *error;      /* curl's error text; NULL is "" */
    int have_client_cert;   /* the transfer presented a client certificate */
    sl_tls_cause previous;  /* the cause of the last failed attempt to the
                               same destination, or SL_TLS_CAUSE_NONE */
} sl_tls_cause_input;

/* The cause of a failed transfer; SL_TLS_CAUSE_NONE when it is not a TLS
 * failure (a refused connection, a timeout, a reset mid-response). A
 * send or receive error that names no TLS alert counts as `previous` when
 * that says the server refuses our certificate: with TLS 1.3 the server
 * checks it after the client has finished its handshake, and its alert
 * sometimes loses the race with our request (curl then reports a reset). */
sl_tls_cause sl_tls_cause_classify(const sl_tls_cause_input *in);

/* The cause of an HTTP answer that is a TLS refusal in disguise:
 * nginx with ssl_verify_client completes the handshake without a
 * client certificate (or with one it does not accept) and answers
 * 400 "No required SSL certificate was sent" (its 496) or 400 "The SSL
 * certificate error" (495); 495 and 496 themselves mean the same. Such an
 * answer is about the connection, never about the records: retried, not
 * permanent. SL_TLS_CAUSE_NONE for any other answer. `body` (len bytes,
 * not terminated) may be NULL when len is 0. */
sl_tls_cause sl_tls_cause_of_answer(long status, const char *body,
                                    size_t len, int have_client_cert);

/* The cause's key ("unknown_ca", ... "other_handshake"; "none"), for logs
 * and the metric's label. Static storage. */
const char *sl_tls_cause_key(sl_tls_cause c);

/* What the cause means and what to do, in plain words. Static storage. */
const char *sl_tls_cause_explain(sl_tls_cause c);

#endif
