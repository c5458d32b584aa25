/* sl_retry: the classes of a destination's answers and the backoff with
 * full jitter between attempts. */
#include "sl_retry.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <curl/curl.h>

#define DAY_MS 86400000ull

sl_retry_class sl_retry_classify(long status)
{
    if (status >= 200 && status < 300)
        return SL_RETRY_DELIVERED;
    if (status == 401 || status == 403)
        return SL_RETRY_AUTH;
    if (status == 413)
        return SL_RETRY_TOO_LARGE;
    /* 407 comes from sluice's proxy, not the destination: its
     * credentials are wrong until an operator fixes them, which says
     * nothing about the records */
    if (status == 0 || status == 407 || status == 408 || status == 429 ||
        status >= 500)
        return SL_RETRY_LATER;
    return SL_RETRY_PERMANENT;
}

sl_retry_class sl_retry_classify_with(const sl_status_lists *o, long status,
                                      sl_status_list *list)
{
    sl_status_list in = o ? sl_status_lists_get(o, status)
                          : SL_STATUS_LIST_NONE;
    if (list)
        *list = in;
    switch (in) {
    case SL_STATUS_LIST_SUCCESS:
        return SL_RETRY_DELIVERED;
    case SL_STATUS_LIST_RETRY:
        return SL_RETRY_LATER;
    case SL_STATUS_LIST_PERMANENT:
        return SL_RETRY_PERMANENT;
    default:
        return sl_retry_classify(status);
    }
}

uint64_t sl_retry_after_ms(const char *v, int64_t now_wall_ms)
{
    if (!v || !*v)
        return 0;
    char *end;
    unsigned long long s = strtoull(v, &end, 10);
    if (end != v && *end == '\0')
        return s > 86400 ? DAY_MS : s * 1000ull;
    time_t t = curl_getdate(v, NULL);
    time_t now = (time_t)(now_wall_ms / 1000);
    if (t == (time_t)-1 || t <= now)
        return 0;
    return t - now > 86400 ? DAY_MS : (uint64_t)(t - now) * 1000ull;
}

uint64_t sl_retry_backoff_ms(const sl_retry_policy *p, unsigned attempt,
                             const char *retry_after,
                             uint64_t *retry_after_ms)
{
    uint64_t cap = p->max_ms, ceil = p->base_ms;
    for (unsigned i = 1; i < attempt && ceil < cap; i++)
        ceil = ceil > cap / 2 ? cap : ceil * 2; /* no overflow */
    if (ceil > cap)
        ceil = cap;
    uint64_t wait = 0;
    if (ceil) {
        uint64_t r = p->random(p->random_ud);
        wait = ceil == UINT64_MAX ? r : r % (ceil + 1);
    }
    uint64_t ra = sl_retry_after_ms(retry_after,
                                    p->clock->wall_ms(p->clock->ud));
    if (ra > wait)
        wait = ra;
    *retry_after_ms = ra;
    return wait;
}

void sl_retry_ran_out(char *why, size_t whylen, unsigned max_elapsed_s,
                      const sl_status_lists *o, long status,
                      const char *error, const char *tls)
{
    char cause[48] = "";
    if (tls)
        snprintf(cause, sizeof cause, "TLS %s: ", tls);
    if (status)
        snprintf(why, whylen, "retry time (max_elapsed_s = %u) ran out; "
                 "last: %sHTTP %ld%s%s%.200s", max_elapsed_s, cause, status,
                 !tls && sl_status_lists_get(o, status) == SL_STATUS_LIST_RETRY
                     ? " (status.retry)" : "",
                 error && *error ? ": " : "", error ? error : "");
    else
        snprintf(why, whylen, "retry time (max_elapsed_s = %u) ran out; "
                 "last: %s%.200s", max_elapsed_s, cause, error);
}

uint64_t sl_retry_xorshift(void *state)
{
    uint64_t *s = state, x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}
