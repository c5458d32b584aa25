/* sl_send_progress: the progress line of `sluice send`, drawn in place on
 * a terminal or written as plain lines elsewhere. */
#include "sl_send_progress.h"

#include <stdlib.h>
#include <string.h>

struct sl_send_progress {
    FILE *out;
    bool tty;
    int width;
    unsigned interval_ms;
    bool drawn;          /* something was shown */
    bool open_line;      /* a bar is on the line, not ended */
    uint64_t last_ms;
    sl_buf line;
};

int sl_send_progress_percent(const sl_send_progress_view *v)
{
    if (v->done)
        return 100;
    if (v->size <= 0)
        return v->size == 0 ? 100 : -1;
    uint64_t pct = v->bytes * 100 / (uint64_t)v->size;
    return pct > 99 ? 99 : (int)pct; /* 100 only once done */
}

int64_t sl_send_progress_eta_s(const sl_send_progress_view *v)
{
    if (v->done)
        return 0;
    if (v->size < 0 || v->bytes == 0 || v->elapsed_ms < 500)
        return -1;
    uint64_t left = (uint64_t)v->size > v->bytes
                        ? (uint64_t)v->size - v->bytes : 0;
    return (int64_t)((double)left * (double)v->elapsed_ms /
                     (double)v->bytes / 1000.0 + 0.5);
}

static uint64_t rate(const sl_send_progress_view *v)
{
    return v->elapsed_ms ? v->rows * 1000 / v->elapsed_ms : 0;
}

/* "1:05", "1:02:03" */
static void put_time(sl_buf *out, int64_t s)
{
    if (s >= 3600)
        sl_buf_printf(out, "%lld:%02lld:%02lld", (long long)(s / 3600),
                      (long long)(s / 60 % 60), (long long)(s % 60));
    else
        sl_buf_printf(out, "%lld:%02lld", (long long)(s / 60),
                      (long long)(s % 60));
}

/* The counts and rate, shared by both forms. */
static void put_counts(const sl_send_progress_view *v, sl_buf *out)
{
    sl_buf_printf(out, "rows %llu, %s %llu, rejected %llu",
                  (unsigned long long)v->rows,
                  v->acknowledged ? "acknowledged" : "accepted",
                  (unsigned long long)v->accepted,
                  (unsigned long long)v->rejected);
    if (v->delivery) {
        sl_buf_printf(out, ", delivered %llu",
                      (unsigned long long)v->delivered);
        if (v->dead)
            sl_buf_printf(out, ", dead-lettered %llu",
                          (unsigned long long)v->dead);
    }
    sl_buf_printf(out, ", %llu/s", (unsigned long long)rate(v));
}

static void put_eta(const sl_send_progress_view *v, sl_buf *out)
{
    int64_t eta = sl_send_progress_eta_s(v);
    if (v->done) {
        sl_buf_printf(out, ", took ");
        put_time(out, (int64_t)(v->elapsed_ms / 1000));
    } else if (eta >= 0) {
        sl_buf_printf(out, ", ETA ");
        put_time(out, eta);
    }
}

void sl_send_progress_bar(const sl_send_progress_view *v, int width,
                          sl_buf *out)
{
    if (width < 40)
        width = 40;
    size_t start = out->len;
    int pct = sl_send_progress_percent(v);
    sl_buf tail;
    sl_buf_init(&tail, 512);
    if (pct >= 0)
        sl_buf_printf(&tail, " %3d%% ", pct);
    else
        sl_buf_printf(&tail, " ");
    put_counts(v, &tail);
    put_eta(v, &tail);
    /* the bar takes what the text leaves, 10 to 30 columns */
    int room = width - 1 - (int)tail.len - 2;
    int bar = room > 30 ? 30 : room;
    if (pct >= 0 && bar >= 10) {
        int full = pct * bar / 100;
        sl_buf_putc(out, '[');
        for (int i = 0; i < bar; i++)
            sl_buf_putc(out, i < full ? '#' : '.');
        sl_buf_putc(out, ']');
    }
    sl_buf_append(out, tail.data, tail.len);
    sl_buf_free(&tail);
    if (out->len - start > (size_t)width - 1) /* never wrap the line */
        sl_buf_truncate(out, start + (size_t)width - 1);
}

void sl_send_progress_line(const sl_send_progress_view *v, sl_buf *out)
{
    int pct = sl_send_progress_percent(v);
    sl_buf_printf(out, "sluice send: ");
    if (pct >= 0)
        sl_buf_printf(out, "%d%%, ", pct);
    put_counts(v, out);
    put_eta(v, out);
}

sl_send_progress *sl_send_progress_new(FILE *out, bool tty, int width,
                                       unsigned interval_ms)
{
    sl_send_progress *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->out = out;
    p->tty = tty;
    p->width = width;
    p->interval_ms = interval_ms ? interval_ms : SL_SEND_PROGRESS_PLAIN_MS;
    sl_buf_init(&p->line, 4096);
    return p;
}

void sl_send_progress_free(sl_send_progress *p)
{
    if (!p)
        return;
    sl_buf_free(&p->line);
    free(p);
}

static void show(sl_send_progress *p, const sl_send_progress_view *v)
{
    sl_buf_reset(&p->line);
    if (p->tty) {
        sl_buf_putc(&p->line, '\r');
        sl_send_progress_bar(v, p->width, &p->line);
        sl_buf_append(&p->line, "\x1b[K", 3); /* erase what was longer */
        p->open_line = true;
    } else {
        sl_send_progress_line(v, &p->line);
        sl_buf_putc(&p->line, '\n');
    }
    fwrite(p->line.data, 1, p->line.len, p->out);
    fflush(p->out);
    p->drawn = true;
}

void sl_send_progress_update(sl_send_progress *p,
                             const sl_send_progress_view *v, uint64_t now_ms)
{
    unsigned every = p->tty ? SL_SEND_PROGRESS_TTY_MS : p->interval_ms;
    if (!p->drawn) {
        p->last_ms = now_ms; /* the first plain line after one interval */
        if (!p->tty) {
            p->drawn = true;
            return;
        }
    } else if (now_ms - p->last_ms < every) {
        return;
    }
    p->last_ms = now_ms;
    show(p, v);
}

void sl_send_progress_final(sl_send_progress *p,
                            const sl_send_progress_view *v)
{
    show(p, v);
    sl_send_progress_interrupt(p);
}

void sl_send_progress_interrupt(sl_send_progress *p)
{
    if (p->open_line) {
        fputc('\n', p->out);
        fflush(p->out);
        p->open_line = false;
    }
}
