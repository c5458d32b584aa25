/* sl_histogram: a fixed-bucket histogram of uint64_t observations (a
 * latency in microseconds, a size in records or bytes) and its
 * Prometheus text: cumulative `_bucket{le="..."}` samples, `_sum` and
 * `_count`. The bucket bounds are a static table (sl_histogram_spec) the
 * histogram points to; an observation is a few compares and adds, no
 * allocation. A plain struct, so that an owner can embed it in its
 * counters and copy it. */
#ifndef SL_HISTOGRAM_H
#define SL_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

struct sl_buf;

#define SL_HISTOGRAM_MAX_BUCKETS 16

/* The buckets: upper bounds (inclusive) in ascending order, at most
 * SL_HISTOGRAM_MAX_BUCKETS (a +Inf bucket comes on top), and the unit:
 * observations are divided by `scale` in the text (1000000 for
 * microseconds shown as seconds, 1 for counts). */
typedef struct sl_histogram_spec {
    const uint64_t *le;
    size_t n;
    uint64_t scale;
} sl_histogram_spec;

typedef struct sl_histogram {
    uint64_t buckets[SL_HISTOGRAM_MAX_BUCKETS + 1]; /* per bucket, not
                                    cumulative; [n] is above the last bound */
    uint64_t count; /* observations */
    uint64_t sum;   /* their sum, in the spec's unit */
} sl_histogram;

/* Latencies in microseconds, 1 ms to 60 s; sizes in records 1 to 50000;
 * sizes in bytes 1 KiB to 64 MiB. */
extern const sl_histogram_spec sl_histogram_latency_us;
extern const sl_histogram_spec sl_histogram_records;
extern const sl_histogram_spec sl_histogram_bytes;

/* Count v (in s's unit) in h. */
void sl_histogram_observe(sl_histogram *h, const sl_histogram_spec *s,
                          uint64_t v);

/* Count v (in s's unit) n times in h: n observations of the same value
 * (a chunk of lines answered together), at the cost of one. */
void sl_histogram_observe_n(sl_histogram *h, const sl_histogram_spec *s,
                            uint64_t v, uint64_t n);

/* Append the samples of family `name` for h: name_bucket{labels,le="B"}
 * for each bound and +Inf (cumulative), name_sum{labels}, name_count{labels}.
 * `labels`: label pairs as written (connector="crm"), or "" for none; the
 * caller has escaped their values. No # HELP / # TYPE (the caller writes
 * them once per family). 0, or -1 when out could not grow (then left as
 * it was). */
int sl_histogram_prom(const sl_histogram *h, const sl_histogram_spec *s,
                      const char *name, const char *labels,
                      struct sl_buf *out);

#endif
