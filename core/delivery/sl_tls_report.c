/* sl_tls_report: TLS failures logged by change of cause, counted by
 * cause. */
#include "sl_tls_report.h"

#include <stdio.h>
#include <stdlib.h>

#include <curl/curl.h>

#include "sl_log.h"

struct sl_tls_report {
    const char *name;       /* the connector's, borrowed */
    sl_stats *stats;        /* borrowed */
    int have_client_cert;
    sl_tls_cause cause;     /* of the last TLS failure; NONE: none since
                               the last answer */
    unsigned with_cause;    /* attempts failed with `cause` in a row */
    unsigned since_answer;  /* TLS failures since the last answer */
};

sl_tls_report *sl_tls_report_new(const char *name, int have_client_cert,
                                 sl_stats *stats)
{
    sl_tls_report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->name = name;
    r->stats = stats;
    r->have_client_cert = have_client_cert;
    return r;
}

void sl_tls_report_free(sl_tls_report *r)
{
    free(r);
}

sl_tls_cause sl_tls_report_cause(const sl_tls_report *r)
{
    return r->cause;
}

/* The URL's host into buf, by curl's own URL parser; the URL itself when
 * it cannot be read. */
static const char *host_of(const char *url, char *buf, size_t len)
{
    CURLU *u = curl_url();
    char *host = NULL;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        snprintf(buf, len, "%s", host);
    else
        snprintf(buf, len, "%s", url);
    curl_free(host);
    curl_url_cleanup(u);
    return buf;
}

static void log_cause(const sl_tls_report *r, const char *url,
                      const sl_http_client_response *res, sl_tls_cause prev,
                      unsigned prev_attempts)
{
    char host[256], detail[CURL_ERROR_SIZE + 64], before[96] = "";
    host_of(url, host, sizeof host);
    if (res->status) /* nginx's words for it (sl_tls_cause_of_answer) */
        snprintf(detail, sizeof detail, "the destination answered HTTP %ld "
                 "\"%s\"", res->status,
                 r->cause == SL_TLS_CAUSE_CLIENT_CERT_REQUIRED
                     ? "No required SSL certificate was sent"
                     : "The SSL certificate error");
    else
        snprintf(detail, sizeof detail, "curl: %s", res->error);
    if (prev == SL_TLS_CAUSE_NONE)
        snprintf(before, sizeof before, "records stay in the spool and are "
                 "retried (said again when the cause changes)");
    else
        snprintf(before, sizeof before, "before, %u attempt%s failed with %s",
                 prev_attempts, prev_attempts == 1 ? "" : "s",
                 sl_tls_cause_key(prev));
    if (res->proxy_tls_verify_result) /* the proxy's, not the host's */
        sl_log_news(SL_LOG_WARN, "delivery",
                    "%s: TLS to the https:// proxy (requests to "
                    "%s) failed: %s: the proxy's certificate does not verify; "
                    "set the connector's proxy.ca_file to its CA (tls.* is "
                    "for the destination); %s; %s", r->name, host,
                    sl_tls_cause_key(r->cause), detail, before);
    else
        sl_log_news(SL_LOG_WARN, "delivery",
                    "%s: TLS to %s failed: %s: %s; %s; %s",
                    r->name, host, sl_tls_cause_key(r->cause),
                    sl_tls_cause_explain(r->cause), detail, before);
}

/* Count a TLS failure of cause c; log it when the cause is new. 1. */
static int failed(sl_tls_report *r, const char *url,
                  const sl_http_client_response *res, sl_tls_cause c)
{
    r->stats->tls_failures[c - 1]++;
    r->since_answer++;
    if (c == r->cause) {
        r->with_cause++;
        return 1;
    }
    sl_tls_cause prev = r->cause;
    unsigned prev_attempts = r->with_cause;
    r->cause = c;
    r->with_cause = 1;
    log_cause(r, url, res, prev, prev_attempts);
    return 1;
}

int sl_tls_report_attempt(sl_tls_report *r, const char *url,
                          const sl_http_client_response *res)
{
    sl_tls_cause c;
    if (res->status != 0) {
        c = sl_tls_cause_of_answer(res->status, res->body, res->body_len,
                                   r->have_client_cert);
        if (c != SL_TLS_CAUSE_NONE)
            return failed(r, url, res, c);
        if (r->since_answer > 0) {
            char host[256];
            sl_log_info("delivery", "%s: TLS to %s recovered after %u "
                        "failed attempt%s", r->name,
                        host_of(url, host, sizeof host), r->since_answer,
                        r->since_answer == 1 ? "" : "s");
        }
        r->cause = SL_TLS_CAUSE_NONE;
        r->with_cause = r->since_answer = 0;
        return 0;
    }
    sl_tls_cause_input in = {res->curl_code, res->tls_verify_result,
                             res->error, r->have_client_cert, r->cause};
    c = sl_tls_cause_classify(&in);
    return c == SL_TLS_CAUSE_NONE ? 0 : failed(r, url, res, c);
}
