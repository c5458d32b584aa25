/* sl_send_progress: what `sluice send` shows while it works. On a
 * terminal, one line redrawn in place ("\r", at most 10 times a second):
 * a bar of the bytes read, the percentage, rows read, accepted, rejected,
 * delivered, rows/s and the time left by the bytes still to read;
 * otherwise a plain line every `interval_ms` and one at the end. The
 * rendering is apart from the timing, so that tests can read both. */
#ifndef SL_SEND_PROGRESS_H
#define SL_SEND_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_buf.h"

#define SL_SEND_PROGRESS_TTY_MS 100    /* least time between two redraws */
#define SL_SEND_PROGRESS_PLAIN_MS 5000 /* default time between plain lines */

/* The numbers shown. */
typedef struct sl_send_progress_view {
    uint64_t rows;      /* rows read (accepted + rejected + in hand) */
    uint64_t accepted;  /* taken by the connector */
    uint64_t rejected;  /* by the reader or the connector's checks */
    uint64_t delivered; /* answered 2xx by the destination (0 when not
                           known: through a gateway) */
    uint64_t dead;      /* dead-lettered */
    uint64_t bytes;     /* bytes read of the input */
    int64_t size;       /* its size; -1 unknown (a pipe) */
    uint64_t elapsed_ms;
    bool done;          /* everything read: 100 % */
    bool delivery;      /* show delivered and dead-lettered */
    bool acknowledged;  /* through a gateway: `accepted` are the rows it
                           acknowledged, shown so */
} sl_send_progress_view;

/* Percent of the input read, 0..100, or -1 when unknown. */
int sl_send_progress_percent(const sl_send_progress_view *v);

/* Seconds left by the rate of reading so far, or -1 when unknown. */
int64_t sl_send_progress_eta_s(const sl_send_progress_view *v);

/* Append the terminal line (no "\r" or line end), fitting `width`
 * columns (at least 40 are used), to out. */
void sl_send_progress_bar(const sl_send_progress_view *v, int width,
                          sl_buf *out);

/* Append the plain line (no line end) to out. */
void sl_send_progress_line(const sl_send_progress_view *v, sl_buf *out);

struct sl_send_progress;
typedef struct sl_send_progress sl_send_progress;

/* Progress written to out (borrowed), as a bar when tty (of `width`
 * columns), else plain lines every interval_ms (0: the default). NULL
 * on allocation failure. */
sl_send_progress *sl_send_progress_new(FILE *out, bool tty, int width,
                                       unsigned interval_ms);
void sl_send_progress_free(sl_send_progress *p); /* accepts NULL */

/* Show v if it is time to (now_ms: a monotonic clock). */
void sl_send_progress_update(sl_send_progress *p,
                             const sl_send_progress_view *v, uint64_t now_ms);

/* Show v now; a bar then ends its line (so that what follows starts on
 * its own). */
void sl_send_progress_final(sl_send_progress *p,
                            const sl_send_progress_view *v);

/* Before writing something else to the same stream: a bar's line is
 * ended, so that the text does not mix with it (the next update redraws
 * it below). */
void sl_send_progress_interrupt(sl_send_progress *p);

#endif
