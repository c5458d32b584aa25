/* sl_http_client: outbound HTTP on the event loop. libcurl's multi
 * interface driven by libevent (curl_multi_socket_action with socket and
 * timer callbacks): no blocking call, no thread per request; connections
 * are pooled and kept alive by the multi handle. */
#ifndef SL_HTTP_CLIENT_H
#define SL_HTTP_CLIENT_H

#include <stddef.h>

#include <curl/curl.h>

#include "sl_transport.h"

struct event_base;
struct sl_http_client;
typedef struct sl_http_client sl_http_client;

/* What to send. Every pointer is borrowed and must stay valid until the
 * completion callback has run. */
typedef struct sl_http_client_request {
    const char *method;            /* "POST", "PUT", "PATCH", "GET", ... */
    const char *url;
    const struct curl_slist *headers; /* "Name: value" lines, may be NULL */
    const char *body;              /* may be NULL when body_len is 0 */
    size_t body_len;               /* sent with Content-Length */
    long timeout_ms;               /* whole transfer; 0 = none */
    int want_headers;              /* collect the response's header lines */
    size_t max_body;               /* response body bytes kept, at most;
                                      0: SL_HTTP_CLIENT_BODY_KEEP */
    const sl_transport *transport; /* TLS, proxy, HTTP version; NULL: the
                                      defaults */
} sl_http_client_request;

/* The outcome. Valid only during the callback. */
typedef struct sl_http_client_response {
    long status;            /* HTTP status; 0 when the transfer failed */
    CURLcode curl_code;     /* CURLE_OK unless the transfer failed */
    const char *error;      /* transport error text, "" when none */
    const char *body;       /* first bytes of the response body */
    size_t body_len;        /* at most the request's max_body */
    int truncated;          /* the body was longer: the rest was read and
                               dropped */
    const char *retry_after;/* Retry-After header value, or NULL */
    double seconds;         /* total time of the transfer */
    const char *headers;    /* with want_headers: the final response's
                               header lines, "Name: value\r\n" each */
    size_t headers_len;
    long tls_verify_result; /* CURLINFO_SSL_VERIFYRESULT: the X509_V_ERR_*
                               code of a failed certificate check, else 0 */
    long proxy_tls_verify_result; /* the same of an https:// proxy's
                               certificate (CURLINFO_PROXY_SSL_VERIFYRESULT):
                               non-zero when the TLS that failed was the
                               proxy's, not the destination's */
} sl_http_client_response;

#define SL_HTTP_CLIENT_BODY_KEEP 65536

typedef void (*sl_http_client_done_fn)(void *ud, const sl_http_client_response *res);

/* A client on `base`. Returns NULL with a message in err on failure. */
sl_http_client *sl_http_client_new(struct event_base *base, char *err, size_t errlen);

/* Abort every transfer still running (their callbacks are not called) and
 * free the client. Accepts NULL. */
void sl_http_client_free(sl_http_client *h);

/* Start a transfer; `done` runs once, later, from the event loop (never
 * from inside this call). Returns 0, or -1 if it could not be started
 * (then `done` is never called). */
int sl_http_client_send(sl_http_client *h, const sl_http_client_request *req, sl_http_client_done_fn done,
                 void *ud);

/* Transfers running now. */
size_t sl_http_client_running(const sl_http_client *h);

#endif
