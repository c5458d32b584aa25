/* sl_aimd: the adaptive concurrency limit (see sl_aimd.h). The constants
 * are Vector's defaults, found by simulation there. */
#include "sl_aimd.h"

#include <math.h>
#include <stdlib.h>

#define EWMA_ALPHA 0.4      /* weight of a window in the long-run mean */
#define DEVIATION_SCALE 2.5 /* RTT deviations that are not a rise */
#define DECREASE_RATIO 0.9  /* a cut keeps this much of the limit */

struct sl_aimd {
    unsigned limit, max;
    /* the long run: EWMA of the windows' mean RTT and its variance */
    int primed;          /* it has a first sample */
    double mean, var;
    double last_window;  /* mean RTT of the last window that ended */
    /* the window */
    uint64_t window_end; /* mono ms */
    double sum;          /* RTTs of its successful answers */
    size_t n;
    int reached;         /* in flight reached the limit */
    int pressure;        /* an answer was back pressure */
    uint64_t cut_until;  /* back pressure before this does not cut */
};

sl_aimd *sl_aimd_new(unsigned max)
{
    sl_aimd *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->limit = 1;
    a->max = max ? max : 1;
    return a;
}

void sl_aimd_free(sl_aimd *a) { free(a); }

unsigned sl_aimd_limit(const sl_aimd *a) { return a->limit; }
double sl_aimd_rtt_ms(const sl_aimd *a) { return a->mean; }
double sl_aimd_window_rtt_ms(const sl_aimd *a) { return a->last_window; }

/* A new window from now, about one mean RTT long. */
static void restart(sl_aimd *a, uint64_t now)
{
    a->window_end = now + (uint64_t)a->mean;
    a->sum = 0;
    a->n = 0;
    a->reached = 0;
    a->pressure = 0;
}

static void ewma(sl_aimd *a, double x)
{
    double diff = x - a->mean, inc = EWMA_ALPHA * diff;
    a->mean += inc;
    a->var = (1 - EWMA_ALPHA) * (a->var + diff * inc);
}

static void cut(sl_aimd *a)
{
    unsigned to = (unsigned)floor(a->limit * DECREASE_RATIO);
    a->limit = to >= 1 ? to : 1;
}

/* The window is over: decide, then start the next. */
static sl_aimd_change window_done(sl_aimd *a, uint64_t now)
{
    sl_aimd_change ch = SL_AIMD_SAME;
    double cur = a->n ? a->sum / (double)a->n : 0;
    double threshold = sqrt(a->var) * DEVIATION_SCALE;
    if (a->limit < a->max && a->reached && !a->pressure && a->n &&
        cur <= a->mean) {
        a->limit++;
        ch = SL_AIMD_UP;
    } else if (a->limit > 1 && a->n && cur > a->mean + threshold) {
        cut(a);
        ch = SL_AIMD_DOWN_RTT;
    }
    if (a->n) {
        a->last_window = cur;
        ewma(a, cur);
    }
    restart(a, now);
    return ch;
}

sl_aimd_change sl_aimd_answer(sl_aimd *a, uint64_t now_ms, double rtt_ms,
                              sl_aimd_signal signal, size_t in_flight)
{
    if (in_flight >= a->limit)
        a->reached = 1;
    if (signal == SL_AIMD_SUCCESS && rtt_ms >= 0 &&
        rtt_ms <= SL_AIMD_RTT_MAX_MS) { /* NaN fails both */
        a->sum += rtt_ms;
        a->n++;
    }
    if (signal == SL_AIMD_BACK_PRESSURE) {
        a->pressure = 1;
        if (a->limit > 1 && now_ms >= a->cut_until) {
            cut(a);
            /* what was sent before the cut answers within a round trip */
            a->cut_until = now_ms + (uint64_t)ceil(a->mean);
            restart(a, now_ms);
            a->pressure = 1; /* no increase in the window after a cut */
            return SL_AIMD_DOWN_BACK_PRESSURE;
        }
    }
    if (!a->primed) {
        if (!a->n)
            return SL_AIMD_SAME;
        a->primed = 1;
        a->mean = a->last_window = a->sum / (double)a->n;
        restart(a, now_ms);
        return SL_AIMD_SAME;
    }
    return now_ms >= a->window_end ? window_done(a, now_ms) : SL_AIMD_SAME;
}
