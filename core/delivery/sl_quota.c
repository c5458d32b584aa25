/* sl_quota: a pause until the destination's reset, and a floor of the
 * requests it still allows. */
#include "sl_quota.h"

#include <inttypes.h>
#include <stdlib.h>

#include "sl_log.h"
#include "sl_ratelimit.h"

struct sl_quota {
    const char *name;
    sl_stats *stats;
    uint64_t paused_until; /* mono ms; 0 = no pause */
    uint64_t started;      /* tickets given: the last one's seq */
    int counted;           /* `allowance` holds */
    uint64_t allowance;    /* requests that may still start */
};

sl_quota *sl_quota_new(const char *name, sl_stats *stats)
{
    sl_quota *q = calloc(1, sizeof *q);
    if (q) {
        q->name = name;
        q->stats = stats;
    }
    return q;
}

void sl_quota_free(sl_quota *q) { free(q); }

uint64_t sl_quota_wait_ms(const sl_quota *q, uint64_t now, size_t in_flight)
{
    if (q->paused_until > now)
        return q->paused_until - now;
    if (q->paused_until)
        return 0; /* the reset came: a new window */
    return q->counted && q->allowance == 0 && in_flight > 0
               ? SL_QUOTA_POLL_MS
               : 0;
}

uint64_t sl_quota_admit(sl_quota *q, uint64_t now, size_t in_flight,
                        sl_quota_ticket *t)
{
    uint64_t wait = sl_quota_wait_ms(q, now, in_flight);
    if (wait)
        return wait;
    if (q->paused_until) { /* a new window: no count */
        q->paused_until = 0;
        q->counted = 0;
    }
    if (q->counted && q->allowance > 0)
        q->allowance--;
    /* else, the count spent, nothing out: one request, whose answer has
     * seen every other */
    t->seq = ++q->started;
    t->out = in_flight;
    return 0;
}

static void pause_for(sl_quota *q, uint64_t now, uint64_t reset_ms)
{
    q->counted = 0; /* after the reset, the next answer says */
    if (reset_ms == 0)
        return; /* it resets now */
    if (q->paused_until <= now) {
        q->stats->quota_pauses++;
        sl_log_info("delivery", "%s: destination says quota exhausted; "
                    "pausing %" PRIu64 " s", q->name,
                    (reset_ms + 999) / 1000);
    }
    if (now + reset_ms > q->paused_until)
        q->paused_until = now + reset_ms;
}

void sl_quota_answer(sl_quota *q, const sl_http_client_response *res,
                     sl_quota_ticket t, uint64_t now, int64_t now_wall)
{
    if (t.seq == 0 || t.seq > q->started)
        return; /* none of ours */
    sl_ratelimit rl;
    sl_ratelimit_parse(res->headers, res->headers_len, now_wall, &rl);
    int paused = q->paused_until > now;
    if (!(rl.known & SL_RATELIMIT_REMAINING)) {
        if (!paused)
            q->counted = 0; /* nothing to go by: no count, no stall */
        return;
    }
    if (rl.remaining == 0) {
        pause_for(q, now, rl.known & SL_RATELIMIT_RESET
                              ? rl.reset_ms
                              : SL_QUOTA_DEFAULT_PAUSE_MS);
        return;
    }
    if (paused)
        return; /* the pause holds until its reset */
    /* not seen by this answer, perhaps: started since, or out then */
    uint64_t unseen = (q->started - t.seq) + t.out;
    uint64_t floor = rl.remaining > unseen ? rl.remaining - unseen : 0;
    if (!q->counted || floor > q->allowance)
        q->allowance = floor;
    q->counted = 1;
}
