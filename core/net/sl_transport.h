/* sl_transport: how a connector reaches its destination -- the TLS it
 * trusts and presents, the proxy it goes through and the HTTP version it
 * speaks -- and the curl options that say so on one transfer.
 *
 * Every string is borrowed (the connector's configuration owns it) and
 * must outlive the transfers that use the transport. A zeroed struct is
 * not the default: start from sl_transport_init. */
#ifndef SL_TRANSPORT_H
#define SL_TRANSPORT_H

#include <curl/curl.h>

typedef enum sl_transport_http {
    SL_TRANSPORT_HTTP_AUTO = 0, /* HTTP/2 when offered over TLS, else 1.1 */
    SL_TRANSPORT_HTTP_1_1,
    SL_TRANSPORT_HTTP_2         /* also over http:// (prior knowledge) */
} sl_transport_http;

typedef struct sl_transport_tls {
    const char *ca_file;      /* PEM bundle to trust instead of the system's */
    const char *ca_path;      /* directory of hashed CA certificates */
    const char *client_cert;  /* PEM certificate to present (mTLS) */
    const char *client_key;   /* its PEM private key */
    const char *key_password; /* the key's passphrase, or NULL */
    const char *server_name;  /* name to ask for (SNI) and verify, or NULL */
    int verify;               /* 1: verify the peer and its name (default) */
    int min_version;          /* 0: library default, 12: TLS 1.2, 13: 1.3 */
} sl_transport_tls;

typedef struct sl_transport {
    sl_transport_tls tls;
    const char *proxy_http;   /* proxy of requests to http:// URLs;
                                 NULL or "": none */
    const char *proxy_https;  /* proxy of requests to https:// URLs */
    const char *no_proxy;     /* curl's NOPROXY list (hosts, domains,
                                 CIDR) that bypasses the proxy, or NULL */
    const char *proxy_ca_file;/* PEM bundle that an https:// proxy is
                                 verified against; NULL: the system's */
    sl_transport_http http_version;
} sl_transport;

/* Defaults: system CA store, verification on, no proxy, HTTP "auto". */
void sl_transport_init(sl_transport *t);

/* Whether the libcurl in use can reuse (and so share among concurrent
 * transfers) an HTTP/2 connection made with prior knowledge over http://;
 * before 8.0.0 it cannot, and sl_transport_apply gives each such transfer
 * a connection of its own. */
int sl_transport_h2c_reuses(void);

/* Set t's options on `easy` for a transfer to `url` (already set as
 * CURLOPT_URL). t may be NULL: the defaults. Returns CURLE_OK, or the first
 * option curl refused (the transfer must not start then). */
CURLcode sl_transport_apply(CURL *easy, const sl_transport *t, const char *url);

/* tls.server_name for a transfer to `url`: curl has no SNI override, so
 * the URL's host is replaced by server_name (which is then asked for in
 * SNI, verified in the certificate and sent as Host) and
 * CURLOPT_CONNECT_TO "server_name:port:host:port" still connects to the
 * URL's own host and port. Sets CURLOPT_URL (curl copies it) and
 * CURLOPT_CONNECT_TO to *route, a list the caller owns and must keep until
 * the transfer is over (curl_slist_free_all). Without a server name, or
 * t NULL, does nothing: *route NULL. Returns CURLE_OK, CURLE_URL_MALFORMAT
 * or CURLE_OUT_OF_MEMORY (then *route is NULL). */
CURLcode sl_transport_route(CURL *easy, const sl_transport *t,
                            const char *url, struct curl_slist **route);

#endif
