/* sl_transport: a connector's transport options as curl options. */
#include "sl_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
        return strncasecmp(url, "https:", 6) == 0
                   ? CURL_HTTP_VERSION_2TLS
                   : CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
    default: return CURL_HTTP_VERSION_2TLS;
    }
}

int sl_transport_h2c_reuses(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
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
    /* "" turns off curl's own reading of the proxy environment (and of
     * no_proxy): the connector's configuration has already decided, for
     * each scheme. */
    const char *proxy = strncasecmp(url, "https:", 6) == 0 ? t->proxy_https
                                                           : t->proxy_http;
    SET(CURLOPT_PROXY, proxy ? proxy : "");
    SET(CURLOPT_NOPROXY, t->no_proxy ? t->no_proxy : "");
    if (t->proxy_ca_file)
        SET(CURLOPT_PROXY_CAINFO, t->proxy_ca_file);
    long version = http_version(t->http_version, url);
    SET(CURLOPT_HTTP_VERSION, version);
    /* libcurl before 8.0.0 breaks a prior-knowledge HTTP/2 connection
     * when it reuses it ("Error in the HTTP2 framing layer" on every
     * transfer after the first; curl issue 10634, fixed by curl PR
     * 10643): there each such transfer has a connection of its own */
    long fresh = version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE &&
                 !sl_transport_h2c_reuses();
    SET(CURLOPT_FRESH_CONNECT, fresh);
    SET(CURLOPT_FORBID_REUSE, fresh);
    /* concurrent transfers to one HTTP/2 host wait for its connection and
     * share it rather than opening one each; only where HTTP/2 can be
     * spoken: with it on plain http:// (curl 7.88) a transfer waits for
     * the whole previous one, and concurrency is lost */
    int may_multiplex =
        (version == CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE && !fresh) ||
        (version == CURL_HTTP_VERSION_2TLS &&
         strncasecmp(url, "https:", 6) == 0);
    SET(CURLOPT_PIPEWAIT, may_multiplex ? 1L : 0L);
    return CURLE_OK;
}

/* The route of a transfer to the URL in h with its host set to `name`:
 * "name:port:host:port". NULL when h has no host (or out of memory). */
static char *route_line(CURLU *h, const char *name)
{
    char *host = NULL, *port = NULL, *line = NULL;
    if (curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(h, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
            CURLUE_OK &&
        asprintf(&line, "%s:%s:%s:%s", name, port, host, port) < 0)
        line = NULL;
    curl_free(host);
    curl_free(port);
    return line;
}

CURLcode sl_transport_route(CURL *easy, const sl_transport *t,
                            const char *url, struct curl_slist **route)
{
    *route = NULL;
    if (!t || !t->tls.server_name)
        return CURLE_OK;
    CURLcode rc = CURLE_URL_MALFORMAT;
    char *line = NULL, *renamed = NULL;
    CURLU *h = curl_url();
    if (!h)
        return CURLE_OUT_OF_MEMORY;
    if (curl_url_set(h, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto done;
    rc = CURLE_OUT_OF_MEMORY;
    if (!(line = route_line(h, t->tls.server_name)))
        goto done;
    rc = CURLE_URL_MALFORMAT; /* a name curl does not take as a host */
    if (curl_url_set(h, CURLUPART_HOST, t->tls.server_name, 0) != CURLUE_OK)
        goto done;
    rc = CURLE_OUT_OF_MEMORY;
    if (curl_url_get(h, CURLUPART_URL, &renamed, 0) != CURLUE_OK)
        goto done;
    if (!(*route = curl_slist_append(NULL, line)))
        goto done;
    if ((rc = curl_easy_setopt(easy, CURLOPT_URL, renamed)) == CURLE_OK)
        rc = curl_easy_setopt(easy, CURLOPT_CONNECT_TO, *route);
    if (rc != CURLE_OK) {
        curl_slist_free_all(*route);
        *route = NULL;
    }
done:
    curl_free(renamed);
    free(line);
    curl_url_cleanup(h);
    return rc;
}
