/* sl_histogram: fixed buckets and their Prometheus samples. */
#include "sl_histogram.h"

#include <inttypes.h>
#include <stdio.h>

#include "sl_buf.h"

static const uint64_t latency_le[] = {
    1000,    2500,    5000,     10000,    25000,    50000,    100000,
    250000,  500000,  1000000,  2500000,  5000000,  10000000, 30000000,
    60000000,
};
static const uint64_t records_le[] = {
    1, 5, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 50000,
};
static const uint64_t bytes_le[] = {
    1024,    4096,     16384,    65536,    262144,
    1048576, 4194304,  16777216, 67108864,
};

#define SPEC(t, sc) {t, sizeof t / sizeof t[0], sc}
const sl_histogram_spec sl_histogram_latency_us = SPEC(latency_le, 1000000);
const sl_histogram_spec sl_histogram_records = SPEC(records_le, 1);
const sl_histogram_spec sl_histogram_bytes = SPEC(bytes_le, 1);

_Static_assert(sizeof latency_le / sizeof latency_le[0] <=
                   SL_HISTOGRAM_MAX_BUCKETS, "latency buckets fit");

void sl_histogram_observe(sl_histogram *h, const sl_histogram_spec *s,
                          uint64_t v)
{
    sl_histogram_observe_n(h, s, v, 1);
}

void sl_histogram_observe_n(sl_histogram *h, const sl_histogram_spec *s,
                            uint64_t v, uint64_t n)
{
    size_t i = 0;
    while (i < s->n && v > s->le[i])
        i++;
    h->buckets[i] += n;
    h->count += n;
    h->sum += v * n;
}

/* v/scale as a decimal without trailing zeros (scale a power of ten). */
static void decimal(char *out, size_t len, uint64_t v, uint64_t scale)
{
    char frac[24];
    size_t digits = 0;
    uint64_t f = scale > 1 ? v % scale : 0;
    for (uint64_t s = scale; s > 1 && digits < sizeof frac - 1; s /= 10)
        digits++;
    for (size_t k = digits; k-- > 0; f /= 10)
        frac[k] = (char)('0' + f % 10);
    while (digits > 0 && frac[digits - 1] == '0')
        digits--;
    frac[digits] = '\0';
    snprintf(out, len, "%" PRIu64 "%s%s", scale > 1 ? v / scale : v,
             digits ? "." : "", frac);
}

int sl_histogram_prom(const sl_histogram *h, const sl_histogram_spec *s,
                      const char *name, const char *labels, sl_buf *out)
{
    size_t len0 = out->len;
    const char *sep = *labels ? "," : "";
    uint64_t cum = 0;
    char num[48];
    for (size_t i = 0; i <= s->n; i++) {
        cum += h->buckets[i];
        if (i < s->n)
            decimal(num, sizeof num, s->le[i], s->scale);
        if (sl_buf_printf(out, "%s_bucket{%s%sle=\"%s\"} %" PRIu64 "\n", name,
                          labels, sep, i < s->n ? num : "+Inf", cum) != 0)
            goto fail;
    }
    decimal(num, sizeof num, h->sum, s->scale);
    const char *lo = *labels ? "{" : "", *lc = *labels ? "}" : "";
    if (sl_buf_printf(out, "%s_sum%s%s%s %s\n%s_count%s%s%s %" PRIu64 "\n",
                      name, lo, labels, lc, num, name, lo, labels, lc,
                      h->count) != 0)
        goto fail;
    return 0;
fail:
    sl_buf_truncate(out, len0);
    return -1;
}
