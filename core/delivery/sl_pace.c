/* sl_pace: two token buckets; tokens are doubles so that fractional rates
 * (100 per minute) need no rounding, and may go below 0 (debt). */
#include "sl_pace.h"

#include <math.h>
#include <stdlib.h>

typedef struct bucket {
    double per_ms;   /* tokens added per ms; 0: no limit */
    double cap;      /* tokens it holds at most */
    double tokens;   /* at `last`; below 0 is debt */
    uint64_t last;
} bucket;

struct sl_pace {
    bucket requests, records;
};

static int rate_ok(double r)
{
    return r == 0 || (isfinite(r) && r > 0);
}

static void bucket_init(bucket *b, double per_s, double cap, uint64_t now)
{
    b->per_ms = per_s / 1000.0;
    b->cap = cap;
    b->tokens = cap;
    b->last = now;
}

sl_pace *sl_pace_new(double requests_per_s, double records_per_s,
                     double burst, uint64_t now)
{
    if (!rate_ok(requests_per_s) || !rate_ok(records_per_s) ||
        (requests_per_s == 0 && records_per_s == 0) || !isfinite(burst) ||
        !(burst >= 1))
        return NULL;
    sl_pace *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (requests_per_s > 0)
        bucket_init(&p->requests, requests_per_s, burst, now);
    if (records_per_s > 0)
        bucket_init(&p->records, records_per_s, records_per_s * burst, now);
    return p;
}

void sl_pace_free(sl_pace *p)
{
    free(p);
}

/* The bucket's tokens at `now` (a clock that went back adds none). */
static double tokens_at(const bucket *b, uint64_t now)
{
    double t = b->tokens;
    if (now > b->last)
        t += (double)(now - b->last) * b->per_ms;
    return t < b->cap ? t : b->cap;
}

static uint64_t bucket_wait(const bucket *b, uint64_t now, double cost)
{
    if (b->per_ms == 0)
        return 0;
    double need = cost < b->cap ? cost : b->cap; /* a full bucket lets a
                                                    bigger attempt go */
    double have = tokens_at(b, now);
    if (have >= need)
        return 0;
    /* less a hair: 0.98 + 0.02 tokens is 1, not just under it */
    double ms = ceil((need - have) / b->per_ms - 1e-6);
    return ms < (double)SL_PACE_WAIT_MAX_MS ? (uint64_t)ms
                                            : SL_PACE_WAIT_MAX_MS;
}

static void bucket_take(bucket *b, uint64_t now, double cost)
{
    if (b->per_ms == 0)
        return;
    b->tokens = tokens_at(b, now) - cost;
    if (now > b->last)
        b->last = now;
}

uint64_t sl_pace_wait_ms(const sl_pace *p, uint64_t now, size_t records)
{
    uint64_t a = bucket_wait(&p->requests, now, 1);
    uint64_t b = bucket_wait(&p->records, now, (double)records);
    return a > b ? a : b;
}

void sl_pace_take(sl_pace *p, uint64_t now, size_t records)
{
    bucket_take(&p->requests, now, 1);
    bucket_take(&p->records, now, (double)records);
}

uint64_t sl_pace_hold(const sl_pace *p, uint64_t now, size_t records,
                      uint64_t *since, uint64_t *delayed)
{
    uint64_t wait = p ? sl_pace_wait_ms(p, now, records) : 0;
    if (wait && !*since) {
        *since = now + 1;
        (*delayed)++;
    }
    return wait;
}

void sl_pace_release(sl_pace *p, uint64_t now, size_t records,
                     uint64_t *since, uint64_t *waited_ms)
{
    if (*since)
        *waited_ms += now + 1 - *since;
    *since = 0;
    sl_pace_take(p, now, records);
}
