/* sl_intake_tcp_ack: a connection's ack answers, in line order. */
#include "sl_intake_tcp_ack.h"

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sl_buf.h"
#include "sl_time.h"

typedef struct pending {       /* a chunk's answers waiting for durability */
    struct pending *next;
    uint64_t ticket;
    uint64_t t0_us;            /* monotonic: the chunk handed on */
    size_t nlines;
    size_t len;
    char text[];               /* "ok\n" / "error {...}\n" per line */
} pending;

struct sl_intake_tcp_ack {
    sl_connector *c;
    struct evbuffer *out;
    struct event *wev;
    pending *head, *tail;
    sl_buf answer;             /* the chunk being answered */
    uint64_t ans_line;         /* next line number to answer */
};

sl_intake_tcp_ack *sl_intake_tcp_ack_new(sl_connector *c,
                                         struct evbuffer *out,
                                         struct event *wev)
{
    sl_intake_tcp_ack *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->c = c;
    a->out = out;
    a->wev = wev;
    sl_buf_init(&a->answer, 0);
    return a;
}

void sl_intake_tcp_ack_free(sl_intake_tcp_ack *a)
{
    if (!a)
        return;
    while (a->head) {
        pending *p = a->head;
        a->head = p->next;
        free(p);
    }
    sl_buf_free(&a->answer);
    free(a);
}

/* Answers leave through out, written whenever the socket takes them. */
static void write_answers(sl_intake_tcp_ack *a, const char *text, size_t len)
{
    if (!len || evbuffer_add(a->out, text, len) != 0)
        return;
    if (!event_pending(a->wev, EV_WRITE, NULL))
        event_add(a->wev, NULL);
}

/* nlines answers of a chunk handed on at t0, queued at `now`: one
 * observation per line. */
static void observe(sl_intake_tcp_ack *a, uint64_t t0, uint64_t now,
                    size_t nlines)
{
    sl_connector_observe_request(a->c, SL_CONNECTOR_INTAKE_TCP_ACK,
                                 now > t0 ? now - t0 : 0, nlines);
}

void sl_intake_tcp_ack_begin(sl_intake_tcp_ack *a, uint64_t first_line)
{
    sl_buf_reset(&a->answer);
    a->ans_line = first_line;
}

void sl_intake_tcp_ack_reject(void *ud, uint64_t line, const char *rej,
                              size_t rlen)
{
    sl_intake_tcp_ack *a = ud;
    /* only non-blank lines are answered; blank ones between are rare and
     * answered "ok" too: a reader counts answers per line it sent */
    while (a->ans_line < line) {
        sl_buf_append(&a->answer, "ok\n", 3);
        a->ans_line++;
    }
    sl_buf_printf(&a->answer, "error {\"line\":%llu,",
                  (unsigned long long)line);
    sl_buf_append(&a->answer, rej, rlen);
    sl_buf_putc(&a->answer, '\n');
    a->ans_line = line + 1;
}

void sl_intake_tcp_ack_end(sl_intake_tcp_ack *a, uint64_t last_line,
                           uint64_t ticket, size_t nlines, uint64_t t0)
{
    while (a->ans_line <= last_line) {
        sl_buf_append(&a->answer, "ok\n", 3);
        a->ans_line++;
    }
    /* answers go out in line order: a chunk with nothing to wait for
     * (all rejected) still waits behind the chunks before it */
    if (ticket == 0 && a->tail)
        ticket = a->tail->ticket;
    pending *p = ticket ? malloc(sizeof *p + a->answer.len) : NULL;
    if (!p) {
        /* nothing to wait for, or cannot wait: answer now (with malloc
         * failed, the records are spooled, only not yet durable — what
         * durability "os" promises) */
        write_answers(a, a->answer.data, a->answer.len);
        observe(a, t0, sl_time_mono_us(), nlines);
        return;
    }
    p->next = NULL;
    p->ticket = ticket;
    p->t0_us = t0;
    p->nlines = nlines;
    p->len = a->answer.len;
    memcpy(p->text, a->answer.data, a->answer.len);
    if (a->tail)
        a->tail->next = p;
    else
        a->head = p;
    a->tail = p;
}

void sl_intake_tcp_ack_durable(sl_intake_tcp_ack *a, uint64_t lsn, int ok,
                               uint64_t *now)
{
    pending **pp = &a->head;
    a->tail = NULL;
    while (*pp) {
        pending *p = *pp;
        int due = ok ? p->ticket <= lsn : p->ticket > lsn;
        if (!due) {
            a->tail = p;
            pp = &p->next;
            continue;
        }
        if (ok) {
            write_answers(a, p->text, p->len);
        } else {
            static const char e[] = "error {\"error\":\"not accepted: the "
                                    "spool could not be written\"}\n";
            for (size_t i = 0; i < p->nlines; i++)
                write_answers(a, e, sizeof e - 1);
        }
        if (!*now)
            *now = sl_time_mono_us();
        observe(a, p->t0_us, *now, p->nlines);
        *pp = p->next;
        free(p);
    }
}

int sl_intake_tcp_ack_waiting(const sl_intake_tcp_ack *a)
{
    return a && a->head != NULL;
}
