/* sl_health: a connector's state from its attempts and its intake. */
#include "sl_health.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sl_health {
    uint64_t degraded_after_ms;
    int64_t fail_since;       /* first failure of the current streak; 0 */
    int64_t blocked_since;    /* first refusal since the spool took
                                 records; 0 */
    int64_t delivering_since; /* start of the current delivering time */
    int64_t error_at;         /* of last_error; 0 none */
    char last_error[SL_HEALTH_ERROR_MAX];
};

sl_health *sl_health_new(uint64_t degraded_after_ms, int64_t now)
{
    sl_health *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->degraded_after_ms = degraded_after_ms;
    h->delivering_since = now;
    return h;
}

void sl_health_free(sl_health *h) { free(h); }

void sl_health_set_degraded_after(sl_health *h, uint64_t degraded_after_ms)
{
    h->degraded_after_ms = degraded_after_ms;
}

static int degraded(const sl_health *h, int64_t now)
{
    return h->fail_since && now - h->fail_since >= 0 &&
           (uint64_t)(now - h->fail_since) >= h->degraded_after_ms;
}

/* The end of curl's message when it is a plain phrase ("Connection
 * refused"): the OS's words, without hosts or ports. NULL otherwise. */
static const char *os_words(const char *error, size_t *len)
{
    const char *p = error ? strrchr(error, ':') : NULL;
    if (!p || p[1] != ' ')
        return NULL;
    p += 2;
    size_t n = strlen(p);
    if (n == 0 || n > 48)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              p[i] == ' '))
            return NULL;
    *len = n;
    return p;
}

/* last_error for a failed answer: never the body, the URL or a header. */
static void describe(sl_health *h, const sl_http_client_response *res,
                     int tls_failed)
{
    char *e = h->last_error;
    size_t n = sizeof h->last_error, wlen;
    const char *words = os_words(res->error, &wlen);
    if (res->status && tls_failed)
        snprintf(e, n, "TLS failure (HTTP %ld)", res->status);
    else if (res->status)
        snprintf(e, n, "HTTP %ld", res->status);
    else if (words)
        snprintf(e, n, "%s%s (%.*s)", tls_failed ? "TLS: " : "",
                 curl_easy_strerror(res->curl_code), (int)wlen, words);
    else if (res->curl_code != CURLE_OK)
        snprintf(e, n, "%s%s", tls_failed ? "TLS: " : "",
                 curl_easy_strerror(res->curl_code));
    else
        snprintf(e, n, "no answer");
}

void sl_health_attempt(sl_health *h, const sl_http_client_response *res,
                       int tls_failed, int64_t now)
{
    if (!h)
        return;
    if (res->status >= 200 && res->status < 300 && !tls_failed) {
        if (degraded(h, now))
            h->delivering_since = now;
        h->fail_since = 0;
        return;
    }
    if (!h->fail_since)
        h->fail_since = now ? now : 1;
    describe(h, res, tls_failed);
    h->error_at = now;
}

void sl_health_refused(sl_health *h, const char *why, int64_t now)
{
    if (!h)
        return;
    if (!h->blocked_since)
        h->blocked_since = now ? now : 1;
    snprintf(h->last_error, sizeof h->last_error, "%s", why);
    h->error_at = now;
}

void sl_health_unblocked(sl_health *h, int64_t now)
{
    if (!h->blocked_since)
        return;
    h->blocked_since = 0;
    if (!degraded(h, now))
        h->delivering_since = now;
}

int sl_health_blocked(const sl_health *h) { return h->blocked_since != 0; }

sl_health_state sl_health_state_at(const sl_health *h, int64_t now,
                                   int64_t *since)
{
    sl_health_state s = SL_HEALTH_DELIVERING;
    int64_t t = h->delivering_since;
    if (h->blocked_since) {
        s = SL_HEALTH_BLOCKED;
        t = h->blocked_since;
    } else if (degraded(h, now)) {
        s = SL_HEALTH_DEGRADED;
        t = h->fail_since + (int64_t)h->degraded_after_ms;
    }
    if (since)
        *since = t;
    return s;
}

const char *sl_health_last_error(const sl_health *h, int64_t *at)
{
    if (at)
        *at = h->error_at;
    return h->last_error;
}

const char *sl_health_state_name(sl_health_state s)
{
    static const char *const names[] = {"delivering", "degraded", "blocked"};
    return (unsigned)s < SL_HEALTH_STATE_COUNT ? names[s] : "unknown";
}
