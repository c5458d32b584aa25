/* sl_transport: a connector's transport options as curl options. */
#include "sl_transport.h"

#include <string.h>

void sl_transport_init(sl_transport *t)
{
    memset(t, 0, sizeof *t);
    t->tls.verify = 1;
    t->http_version = SL_TRANSPORT_HTTP_AUTO;
}

static long ssl_version(int min_version)
{
    switch (min_version) {
    case 12: return CURL_SSLVERSION_TLSv1_2;
    case 13: return CURL_SSLVERSION_TLSv1_3;
    default: return CURL_SSLVERSION_DEFAULT;
    }
}

static long http_version(sl_transport_http v, const char *url)
{
    switch (v) {
    case SL_TRANSPORT_HTTP_1_1: return CURL_HTTP_VERSION_1_1;
    case SL_TRANSPORT_HTTP_2:
        return strncmp(url, "https:", 6) == 0
                   ? CURL_HTTP_VERSION_2TLS
                   : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    default: return CURL_HTTP_VERSION_2TLS;
    }
}

#define SET(opt, val)                                                        \
    do {                                                                     \
        CURLcode rc_ = curl_easy_setopt(easy, opt, val);                     \
        if (rc_ != CURLE_OK)                                                 \
            return rc_;                                                      \
    } while (0)

static CURLcode apply_tls(CURL *easy, const sl_transport_tls *tls)
{
    if (tls->ca_file)
        SET(CURLOPT_CAINFO, tls->ca_file);
    if (tls->ca_path)
        SET(CURLOPT_CAPATH, tls->ca_path);
    if (tls->client_cert)
        SET(CURLOPT_SSLCERT, tls->client_cert);
    if (tls->client_key)
        SET(CURLOPT_SSLKEY, tls->client_key);
    if (tls->key_password)
        SET(CURLOPT_KEYPASSWD, tls->key_password);
    SET(CURLOPT_SSL_VERIFYPEER, tls->verify ? 1L : 0L);
    SET(CURLOPT_SSL_VERIFYHOST, tls->verify ? 2L : 0L);
    SET(CURLOPT_SSLVERSION, ssl_version(tls->min_version));
    return CURLE_OK;
}

CURLcode sl_transport_apply(CURL *easy, const sl_transport *t, const char *url)
{
    sl_transport def;
    if (!t) {
        sl_transport_init(&def);
        t = &def;
    }
    CURLcode rc = apply_tls(easy, &t->tls);
    if (rc != CURLE_OK)
        return rc;
    /* "" turns off curl's own reading of the proxy environment: the
     * connector's configuration has already decided. */
    SET(CURLOPT_PROXY, t->proxy ? t->proxy : "");
    if (t->no_proxy)
        SET(CURLOPT_NOPROXY, t->no_proxy);
    SET(CURLOPT_HTTP_VERSION, http_version(t->http_version, url));
    /* concurrent transfers to one HTTP/2 host wait for its connection and
     * share it rather than opening one each */
    SET(CURLOPT_PIPEWAIT, 1L);
    return CURLE_OK;
}
