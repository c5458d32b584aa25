/* sl_attempt_stats: a delivery attempt's counters and histograms. */
#include "sl_attempt_stats.h"

void sl_attempt_stats_sent(sl_stats *st, unsigned attempt, size_t records,
                           size_t bytes)
{
    st->requests++;
    if (attempt > 1)
        st->retries++;
    sl_histogram_observe(&st->dist.batch_records, &sl_histogram_records,
                         records);
    sl_histogram_observe(&st->dist.batch_bytes, &sl_histogram_bytes, bytes);
}

sl_stats_net sl_attempt_stats_cause(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_CONNECT:
        return SL_STATS_NET_CONNECT;
    case CURLE_OPERATION_TIMEDOUT:
        return SL_STATS_NET_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SL_STATS_NET_DNS;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
    case CURLE_USE_SSL_FAILED:
        return SL_STATS_NET_TLS;
    default:
        return SL_STATS_NET_OTHER;
    }
}

void sl_attempt_stats_answered(sl_stats *st, const sl_http_client_response *res,
                               int64_t wall_ms)
{
    double us = res->seconds > 0 ? res->seconds * 1e6 : 0;
    sl_histogram_observe(&st->dist.attempt_latency, &sl_histogram_latency_us,
                         us < 1e15 ? (uint64_t)us : UINT64_C(1000000000000000));
    long code = res->status;
    if (code >= SL_STATS_CODE_MIN &&
        code < SL_STATS_CODE_MIN + SL_STATS_CODES) {
        st->dist.responses[code - SL_STATS_CODE_MIN]++;
        if (code >= 200 && code < 300 && wall_ms > 0)
            st->dist.last_delivery_ms = (uint64_t)wall_ms;
    } else if (code == 0 && res->curl_code != CURLE_OK) {
        st->dist.transport[sl_attempt_stats_cause(res->curl_code)]++;
    }
}
