/* sl_intake_tcp: NDJSON over raw TCP or TLS (libevent listener; each
 * connection read through sl_tlsio into a flat buffer whose whole lines
 * are handed on in place). */
#include "sl_intake_tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "sl_buf.h"
#include "sl_log.h"
#include "sl_intake_tcp_ack.h"
#include "sl_intake_tcp_conf.h"
#include "sl_intake_tcp_lines.h"
#include "sl_time.h"
#include "sl_tlsio.h"

#define CHUNK_MAX (256u << 10) /* bytes of whole lines handed on at once:
                                  well under the smallest spool (1 MiB), so
                                  a drained spool always takes a chunk */
#define RETRY_MS 50            /* back-pressure: look again this often */
#define READ_SMALL (16u << 10) /* one read() of a connection that trickles */
#define READ_BIG (64u << 10)   /* ... and of one that fills its reads */
#define BEHIND_RECORDS 65536   /* undelivered records past which reads are
                                  READ_SMALL again (see on_read) */


typedef struct conn {
    struct conn *prev, *next;
    sl_intake_tcp *t;
    evutil_socket_t fd;
    sl_tlsio *io;              /* reads and writes fd, plain or TLS */
    int read_wants_write;      /* TLS: a read waits for writability */
    struct event *rev;         /* readable (persistent; the idle timeout) */
    struct event *wev;         /* writable, while `out` holds answers */
    struct event *retry;
    struct event *line_ev;     /* line_timeout_s of the partial line (and
                                  of the TLS handshake) */
    uint64_t line_no;          /* k->lines when that clock started */
    struct evbuffer *out;      /* answers not yet written */
    sl_buf in;                 /* input; [off, len) not yet handed on */
    size_t off;
    int big;                   /* reads fill READ_SMALL: read READ_BIG */
    char peer[INET6_ADDRSTRLEN + 8];
    uint64_t lines;            /* lines taken so far */
    int skipping;              /* discarding an over-long line */
    int paused;                /* waiting for room in the spool */
    int checking;              /* a chunk is on the check threads: the
                                  lines held[held_off, + check_size) */
    int orphan;                /* freed while checking: the check's end
                                  frees the struct */
    sl_buf held;               /* the buffer that chunk is in: k->in's
                                  until then, the rest moved to a new in */
    size_t held_off, check_size;
    uint64_t check_t0;
    int closing;               /* the peer is done; free when answered */
    int flushing;              /* answered; free once the output is out */
    sl_intake_tcp_ack *acks;   /* with ack: the answers */
} conn;

struct sl_intake_tcp {
    struct event_base *base;
    sl_intake_tcp_conf *own;   /* its settings, owned */
    const sl_tcp_conf *conf;   /* in own */
    sl_connector *c;
    sl_intake_tcp_listen *listener; /* owned; NULL: none */
    conn *conns;
    size_t nconns;
    uint64_t refused;          /* connections turned away, for the log */
    SSL_CTX *tls;              /* a reference held; NULL: plain */
    unsigned long long tls_failed; /* handshakes failed or timed out */
};

static void process(conn *k);
static void conn_free(conn *k);
static void conn_finish(conn *k);
static void watch_line(conn *k);

/* ---- acks --------------------------------------------------------------- */

/* The connection is waiting for nothing of its own: no chunk on the check
 * threads, no room to wait for, no answer waiting for durability. */
static int idle(const conn *k)
{
    return !k->paused && !k->checking && !sl_intake_tcp_ack_waiting(k->acks);
}

/* sl_connector_durable_fn */
static void on_durable(void *ud, sl_connector *c, uint64_t lsn, int ok)
{
    (void)c;
    sl_intake_tcp *t = ud;
    uint64_t now = 0; /* read once, when something is answered */
    for (conn *k = t->conns, *next; k; k = next) {
        next = k->next;
        if (k->acks)
            sl_intake_tcp_ack_durable(k->acks, lsn, ok, &now);
        if (k->closing && idle(k))
            conn_finish(k);
    }
}

/* ---- reading ------------------------------------------------------------- */

/* Read events on (with the idle timeout restarted), or off. */
static void reading(conn *k, int on)
{
    if (on) {
        struct timeval idle = {(time_t)k->t->conf->idle_timeout_s, 0};
        event_add(k->rev, &idle);
        if (sl_tlsio_ready(k->io)) /* read already: no readiness */
            event_active(k->rev, EV_READ, 0);
    } else {
        event_del(k->rev);
    }
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *k = arg;
    k->paused = 0;
    process(k);
    if (k->paused || k->checking)
        return;
    if (k->closing) {
        if (idle(k))
            conn_finish(k);
        return;
    }
    reading(k, 1);
    watch_line(k);
}

static void pause_reading(conn *k)
{
    k->paused = 1;
    reading(k, 0);
    struct timeval tv = {0, RETRY_MS * 1000};
    evtimer_add(k->retry, &tv);
}

/* A line longer than max_line_bytes: logged as rejected (its start) and
 * skipped up to its newline. */
static void reject_long(conn *k, const char *start, size_t have)
{
    sl_intake_tcp *t = k->t;
    char rej[160];
    int n = snprintf(rej, sizeof rej, "\"field\":\"\",\"error\":\"line longer "
                     "than max_line_bytes (%zu)\"}", t->conf->max_line_bytes);
    uint64_t line = k->lines + 1;
    sl_connector_log_reject(t->c, k->peer, line, start, have, rej, (size_t)n);
    if (k->acks) {
        sl_intake_tcp_ack_begin(k->acks, line);
        sl_intake_tcp_ack_reject(k->acks, line, rej, (size_t)n);
        /* behind the answers still waiting for durability, in line order */
        sl_intake_tcp_ack_end(k->acks, line, 0, 1, sl_time_mono_us());
    }
}

/* The chunk of `size` bytes at k->off was taken: its lines counted, its
 * answers queued. */
static void taken(conn *k, size_t size, uint64_t ticket,
                  const sl_ingest_result *res, uint64_t t0)
{
    k->lines += res->lines;
    if (k->acks)
        sl_intake_tcp_ack_end(k->acks, k->lines, ticket, res->lines, t0);
    k->off += size;
}

/* sl_connector_reject_fn of a chunk on the check threads */
static void conn_reject(void *ud, uint64_t line, const char *rej, size_t rlen)
{
    conn *k = ud;
    if (!k->orphan)
        sl_intake_tcp_ack_reject(k->acks, line, rej, rlen);
}

/* The `size` bytes of whole lines at k->off go to the check threads in
 * the buffer they are in (no copy): it becomes k->held, and what follows
 * them (a partial line, lines past a chunk) moves to a fresh k->in. The
 * lines are taken when the check is back (on_streamed), one chunk of a
 * connection at a time. 0, or -1 when refused (nothing changed). */
static void on_streamed(void *ud, int st, uint64_t ticket,
                        const sl_ingest_result *res);

static int hand_over(conn *k, size_t size, uint64_t t0)
{
    sl_intake_tcp *t = k->t;
    sl_buf next;
    size_t rest = k->in.len - k->off - size;
    sl_buf_init(&next, k->in.max);
    if (rest && sl_buf_append(&next, k->in.data + k->off + size, rest) != 0)
        return -1;
    int st = sl_connector_post_stream(t->c, k->in.data + k->off, size,
                                      k->peer, k->lines + 1,
                                      k->acks ? conn_reject : NULL,
                                      on_streamed, k);
    if (st != 0) {
        sl_buf_free(&next);
        return -1;
    }
    k->held = k->in;
    k->held_off = k->off;
    k->in = next;
    k->off = 0;
    k->checking = 1;
    k->check_size = size;
    k->check_t0 = t0;
    return 0;
}

/* The chunk came back refused: its lines go back in front of what k->in
 * read since, to be handed on again. */
static void take_back(conn *k)
{
    size_t n = k->in.len - k->off;
    sl_buf back;
    sl_buf_init(&back, k->in.max);
    if (sl_buf_append(&back, k->held.data + k->held_off, k->check_size) ||
        (n && sl_buf_append(&back, k->in.data + k->off, n))) {
        /* out of memory: keep what was read since; the refused lines are
         * lost to this connection, and said so */
        sl_log_error("tcp", "%s: out of memory: %zu bytes from %s dropped, "
                     "not taken", k->t->conf->listen, k->check_size,
                     k->peer);
        sl_buf_free(&back);
        sl_buf_free(&k->held);
        return;
    }
    sl_buf_free(&k->held);
    sl_buf_free(&k->in);
    k->in = back;
    k->off = 0;
}

/* sl_connector_streamed_fn: the chunk on the check threads is back. */
static void on_streamed(void *ud, int st, uint64_t ticket,
                        const sl_ingest_result *res)
{
    conn *k = ud;
    k->checking = 0;
    if (k->orphan) { /* its records are spooled; nobody to answer */
        sl_buf_free(&k->held);
        free(k);
        return;
    }
    if (st != 200) { /* nothing taken: the same lines again later */
        take_back(k);
        pause_reading(k);
        return;
    }
    /* taken: count its lines (k->off moves on in the held buffer, which
     * then goes) */
    k->lines += res->lines;
    if (k->acks)
        sl_intake_tcp_ack_end(k->acks, k->lines, ticket, res->lines,
                              k->check_t0);
    sl_buf_free(&k->held);
    if (!k->closing) /* off while paused: on again */
        reading(k, 1);
    process(k);
    watch_line(k);
    if (k->closing && idle(k))
        conn_finish(k);
}

/* Hand on what k->in holds, chunk by chunk, while the spool takes it. */
static void process(conn *k)
{
    sl_intake_tcp *t = k->t;
    while (!k->paused && !k->checking) {
        size_t len = k->in.len - k->off;
        const char *data = k->in.data + k->off;
        if (len == 0)
            break;
        if (k->skipping) {
            const char *nl = memchr(data, '\n', len);
            if (!nl) {
                k->off += len;
                break;
            }
            k->off += (size_t)(nl - data) + 1;
            k->skipping = 0;
            k->lines++;
            continue;
        }
        size_t n = len < CHUNK_MAX ? len : CHUNK_MAX;
        int too_long;
        size_t size = sl_intake_tcp_lines_whole(t->conf->max_line_bytes,
                                         t->conf->ack, data, n, &too_long);
        if (size == 0 && !too_long && n < len) {
            /* the first line is longer than a chunk: it goes alone, as long
             * as it is within max_line_bytes (with its newline) */
            size_t most = t->conf->max_line_bytes + 1;
            n = len < most ? len : most;
            size = sl_intake_tcp_lines_whole(t->conf->max_line_bytes,
                                         t->conf->ack, data, n, &too_long);
        }
        if (too_long || (size == 0 && len > t->conf->max_line_bytes)) {
            reject_long(k, data, n);
            k->skipping = 1;
            continue;
        }
        if (size == 0)
            break; /* a partial line: wait for the rest */
        uint64_t ticket = 0, t0 = 0;
        sl_ingest_result res;
        if (k->acks) {
            sl_intake_tcp_ack_begin(k->acks, k->lines + 1);
            t0 = sl_time_mono_us();
        }
        if (sl_connector_checks_off_loop(t->c)) {
            if (hand_over(k, size, t0) != 0)
                pause_reading(k);
            break;
        }
        int st = sl_connector_ingest_stream(t->c, data, size, k->peer,
                                            k->lines + 1,
                                            k->acks ? sl_intake_tcp_ack_reject
                                                    : NULL,
                                            k->acks, &ticket, &res);
        if (st != 200) {
            /* the spool is full (or memory short): stop reading; the lines
             * stay in the buffer and are handed on again */
            pause_reading(k);
            break;
        }
        taken(k, size, ticket, &res, t0);
    }
    if (k->off == k->in.len) { /* all taken: start again at the front */
        k->off = 0;
        sl_buf_reset(&k->in);
    }
}

/* The peer is done sending: a last line without its newline is a whole
 * record; answer what is left, then close. */
static void on_eof(conn *k)
{
    k->closing = 1;
    reading(k, 0);
    size_t len = k->in.len - k->off;
    if (len && !k->skipping && k->in.data[k->in.len - 1] != '\n' &&
        sl_buf_putc(&k->in, '\n') != 0)
        sl_log_warn("tcp", "%s: the last line from %s (no newline) could not be "
                "taken", k->t->conf->listen, k->peer);
    process(k);
    if (idle(k))
        conn_finish(k);
}

/* A TLS handshake that will not be done: counted, logged (a flood
 * sparingly), the connection closed. */
static void tls_failed(conn *k, const char *why)
{
    sl_intake_tcp *t = k->t;
    if (t->tls_failed++ < 10 || t->tls_failed % 1000 == 0)
        sl_log_warn("tcp", "%s: TLS handshake with %s failed: %s (%llu so "
                "far)", t->conf->listen, k->peer, why, t->tls_failed);
    conn_free(k);
}

/* The handshake, as far as the socket allows; once done, the read
 * events read lines. Returns 0 when done, -1 when k was freed, 1 when
 * it waits. */
static int handshake(conn *k)
{
    int st = sl_tlsio_handshake(k->io);
    if (st == SL_TLSIO_ERROR) {
        tls_failed(k, sl_tlsio_error(k->io));
        return -1;
    }
    if (st == SL_TLSIO_AGAIN) {
        if (sl_tlsio_wants_write(k->io))
            event_add(k->wev, NULL);
        return 1;
    }
    evtimer_del(k->line_ev); /* its clock, from the connect, stops */
    return 0;
}

/* k's read event timed out (idle_timeout_s): a client silent in its
 * handshake or between lines is closed. */
static void on_silent(conn *k)
{
    sl_intake_tcp *t = k->t;
    if (sl_tlsio_handshaking(k->io)) {
        tls_failed(k, "silent during the handshake (idle_timeout_s)");
        return;
    }
    /* not while answers wait for the spool, nor while answers wait to be
     * written: the client is waiting on us then (a slow disk), not
     * silent; the timer comes round again. (Answers made durable in the
     * same turn of the loop as this timeout are in k->out, not yet
     * written: closing now would drop them.) */
    if (!idle(k) || evbuffer_get_length(k->out) > 0)
        return;
    sl_log_debug("tcp", "%s: closing %s, silent for %u s", t->conf->listen,
                k->peer, t->conf->idle_timeout_s);
    conn_free(k);
}

/* Room at the end of k->in for the next read, the partial line moved to
 * the front first: how many bytes to read, 0 when there is no room (out
 * of memory, or full). */
static size_t read_room(conn *k)
{
    sl_intake_tcp *t = k->t;
    if (k->off > 0) { /* keep the partial line at the front */
        size_t rest = k->in.len - k->off;
        memmove(k->in.data, k->in.data + k->off, rest);
        k->in.len = rest;
        k->off = 0;
    }
    /* a connection that fills its reads gets the big buffer; a long
     * partial line doubles it; at most a chunk and a line are held (the old
     * bufferevent watermark) */
    /* Delivery runs on this loop too: while it is behind, small reads keep
     * the loop's turns short so that its answers are seen and its next
     * batches sent often, rather than the intake filling the queue to its
     * cap (it still takes everything, only in smaller bites). */
    size_t target = k->big && sl_connector_undelivered(t->c) < BEHIND_RECORDS
                        ? READ_BIG : READ_SMALL;
    if (k->in.len > target / 2)
        target = 2 * k->in.len;
    /* a chunk and a line; the buffer may hold twice that while a refused
     * chunk is back in front of what was read meanwhile (take_back) */
    if (target > k->in.max / 2)
        target = k->in.max / 2;
    if (k->in.len >= target)
        return 0;
    size_t want = target - k->in.len;
    return want > 0 && sl_buf_reserve(&k->in, want) == 0 ? want : 0;
}

/* One read per readiness (with TLS, of what the records hold), into the
 * flat buffer k->in, whose whole lines are parsed in place: no FIONREAD,
 * no copy into a chain and back out. */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    conn *k = arg;
    if (what & EV_TIMEOUT) {
        on_silent(k);
        return;
    }
    if (sl_tlsio_handshaking(k->io) && handshake(k) != 0)
        return;
    size_t want = read_room(k);
    if (want == 0 && k->checking) {
        reading(k, 0); /* full: on again when the chunk is back */
        return;
    }
    if (want == 0) {
        pause_reading(k); /* out of memory (or full): try again */
        return;
    }
    ssize_t n = sl_tlsio_read(k->io, k->in.data + k->in.len, want);
    if (n == SL_TLSIO_AGAIN) {
        if (sl_tlsio_wants_write(k->io)) {
            k->read_wants_write = 1;
            event_add(k->wev, NULL);
        }
        return;
    }
    if (n < 0) {
        conn_free(k);
        return;
    }
    if (n == 0) {
        on_eof(k);
        return;
    }
    k->in.len += (size_t)n;
    if ((size_t)n == want)
        k->big = 1;
    process(k);
    watch_line(k);
    /* TLS records decrypted and not yet taken, or the end already read:
     * the socket will not say */
    if (!k->paused && !k->closing && sl_tlsio_ready(k->io))
        event_active(k->rev, EV_READ, 0);
}

/* A line must arrive whole within line_timeout_s of its first byte: the
 * clock starts when a partial line is left after what was whole was handed
 * on, and runs on while that same line is incomplete. Not while the spool
 * is full: the wait is then ours. */
static void watch_line(conn *k)
{
    int partial = !k->paused && !k->checking && !k->closing &&
                  (k->in.len > k->off || k->skipping);
    if (!partial) {
        evtimer_del(k->line_ev);
        return;
    }
    if (evtimer_pending(k->line_ev, NULL) && k->line_no == k->lines)
        return; /* the same line, still coming */
    struct timeval tv = {(time_t)k->t->conf->line_timeout_s, 0};
    k->line_no = k->lines;
    evtimer_add(k->line_ev, &tv);
}

/* The line is late: logged as rejected, and the connection closed once
 * the answers to the lines before it are out. */
static void on_line_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *k = arg;
    sl_intake_tcp *t = k->t;
    if (sl_tlsio_handshaking(k->io)) {
        char why[96];
        snprintf(why, sizeof why, "not done within line_timeout_s (%u s); "
                 "connection closed", t->conf->line_timeout_s);
        tls_failed(k, why);
        return;
    }
    char rej[160];
    int n = snprintf(rej, sizeof rej, "\"field\":\"\",\"error\":\"line not "
                     "whole within line_timeout_s (%u s); connection "
                     "closed\"}", t->conf->line_timeout_s);
    sl_log_warn("tcp", "%s: closing %s: a line not whole within %u s "
            "(line_timeout_s)", t->conf->listen, k->peer,
            t->conf->line_timeout_s);
    sl_connector_log_reject(t->c, k->peer, k->lines + 1, k->in.data + k->off,
                            k->in.len - k->off, rej, (size_t)n);
    k->closing = 1;
    reading(k, 0);
    k->in.len = k->off; /* the partial line is dropped */
    k->skipping = 0;
    if (idle(k))
        conn_finish(k);
}

/* ---- connections --------------------------------------------------------- */

/* The peer is done and everything is answered: close once the answers
 * have left (freeing now would drop what k->out still holds). */
static void conn_finish(conn *k)
{
    if (evbuffer_get_length(k->out) == 0)
        conn_free(k);
    else
        k->flushing = 1; /* on_write frees it */
}

/* Write what k->out holds, as far as the socket takes it. -1: the peer
 * is gone (k is freed). */
static int flush_out(conn *k)
{
    while (evbuffer_get_length(k->out) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(k->out, -1, NULL, &v, 1) < 1)
            break;
        ssize_t n = sl_tlsio_write(k->io, v.iov_base, v.iov_len);
        if (n == SL_TLSIO_AGAIN)
            return 0;
        if (n < 0) {
            conn_free(k);
            return -1;
        }
        evbuffer_drain(k->out, (size_t)n);
    }
    return 0;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    conn *k = arg;
    if (sl_tlsio_handshaking(k->io)) {
        /* the handshake waited for the socket to take its bytes */
        if (evbuffer_get_length(k->out) == 0)
            event_del(k->wev);
        if (handshake(k) == 0 && sl_tlsio_ready(k->io))
            event_active(k->rev, EV_READ, 0);
        return;
    }
    if (k->read_wants_write) {
        k->read_wants_write = 0;
        if (!k->paused && !k->closing)
            event_active(k->rev, EV_READ, 0);
    }
    if (flush_out(k) != 0)
        return;
    if (evbuffer_get_length(k->out) > 0)
        return;
    event_del(k->wev);
    if (k->flushing)
        conn_free(k);
}

static void conn_free(conn *k)
{
    sl_intake_tcp *t = k->t;
    if (k->prev)
        k->prev->next = k->next;
    else
        t->conns = k->next;
    if (k->next)
        k->next->prev = k->prev;
    t->nconns--;
    sl_intake_tcp_ack_free(k->acks);
    k->acks = NULL;
    if (k->retry)
        event_free(k->retry);
    if (k->line_ev)
        event_free(k->line_ev);
    if (k->rev)
        event_free(k->rev);
    if (k->wev)
        event_free(k->wev);
    if (k->out)
        evbuffer_free(k->out);
    sl_tlsio_free(k->io); /* close_notify, before the socket closes */
    if (k->fd >= 0)
        evutil_closesocket(k->fd);
    sl_buf_free(&k->in);
    if (k->checking) /* on_streamed frees it and the held chunk */
        k->orphan = 1;
    else
        free(k);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd,
                      struct sockaddr *sa, int socklen, void *arg)
{
    (void)l;
    (void)socklen;
    sl_intake_tcp *t = arg;
    char peer[INET6_ADDRSTRLEN + 8];
    sl_intake_tcp_conf_peer(sa, peer, sizeof peer);
    const char *why = !sl_intake_tcp_conf_allows(t->own, sa) ? "not in allow"
                      : t->nconns >= t->conf->max_connections
                          ? "max_connections open" : NULL;
    if (why) {
        /* a flood is logged, not echoed line by line */
        if (t->refused++ < 10 || t->refused % 1000 == 0)
            sl_log_warn("tcp", "%s: refused %s: %s (%llu refused so far)",
                    t->conf->listen, peer, why,
                    (unsigned long long)t->refused);
        evutil_closesocket(fd);
        return;
    }
    conn *k = calloc(1, sizeof *k);
    if (!k || evutil_make_socket_nonblocking(fd) != 0) {
        free(k);
        evutil_closesocket(fd);
        return;
    }
    k->t = t;
    k->fd = fd;
    snprintf(k->peer, sizeof k->peer, "%s", peer);
    /* acks (and TLS records) go out at once, not after the peer's
     * delayed ACK of the previous segment; failure only costs latency */
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        sl_log_debug("tcp", "%s: TCP_NODELAY: %s", peer, strerror(errno));
    sl_buf_init(&k->in, 2 * (CHUNK_MAX + t->conf->max_line_bytes));
    k->out = evbuffer_new();
    k->rev = event_new(t->base, fd, EV_READ | EV_PERSIST, on_read, k);
    k->wev = event_new(t->base, fd, EV_WRITE | EV_PERSIST, on_write, k);
    k->retry = evtimer_new(t->base, on_retry, k);
    k->line_ev = evtimer_new(t->base, on_line_timeout, k);
    k->io = sl_tlsio_new(fd, t->tls);
    /* linked in first, so that conn_free undoes all of it */
    k->next = t->conns;
    if (t->conns)
        t->conns->prev = k;
    t->conns = k;
    t->nconns++;
    if (t->conf->ack)
        k->acks = sl_intake_tcp_ack_new(t->c, k->out, k->wev);
    if (!k->out || !k->rev || !k->wev || !k->retry || !k->line_ev ||
        !k->io || (t->conf->ack && !k->acks)) {
        conn_free(k);
        return;
    }
    reading(k, 1);
    if (t->tls) {
        /* the handshake has line_timeout_s from the connect: a client that
         * connects and stalls, or sends part of its hello, is closed */
        struct timeval tv = {(time_t)t->conf->line_timeout_s, 0};
        evtimer_add(k->line_ev, &tv);
    }
}

sl_intake_tcp *sl_intake_tcp_new(struct event_base *base,
                                 const sl_tcp_conf *conf, sl_connector *c,
                                 SSL_CTX *tls, char *err, size_t errlen)
{
    sl_intake_tcp *t = calloc(1, sizeof *t);
    if (!t || !(t->own = sl_intake_tcp_conf_new(conf))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    t->base = base;
    t->conf = sl_intake_tcp_conf_get(t->own);
    if (sl_connector_add_durable_cb(c, on_durable, t) != 0) {
        snprintf(err, errlen, "too many intakes on connector %s",
                 conf->connector);
        goto fail;
    }
    t->c = c;
    sl_intake_tcp_set_tls(t, tls);
    return t;
fail:
    sl_intake_tcp_free(t);
    return NULL;
}

void sl_intake_tcp_set_tls(sl_intake_tcp *t, SSL_CTX *tls)
{
    /* connections accepted before hold their own reference (SSL_new) */
    if (tls)
        SSL_CTX_up_ref(tls);
    SSL_CTX_free(t->tls);
    t->tls = tls;
}

void sl_intake_tcp_take(sl_intake_tcp *t, sl_intake_tcp_listen *l)
{
    sl_intake_tcp_listen_free(t->listener);
    t->listener = l;
    sl_intake_tcp_listen_serve(l, on_accept, t);
}

sl_intake_tcp_listen *sl_intake_tcp_give(sl_intake_tcp *t)
{
    sl_intake_tcp_listen *l = t->listener;
    t->listener = NULL;
    return l;
}

void sl_intake_tcp_retire(sl_intake_tcp *t)
{
    if (t->listener)
        sl_intake_tcp_listen_retire(t->listener);
}

void sl_intake_tcp_close_listener(sl_intake_tcp *t)
{
    if (t && t->listener)
        sl_intake_tcp_listen_close(t->listener);
}

int sl_intake_tcp_listening(const sl_intake_tcp *t)
{
    return t->listener && sl_intake_tcp_listen_up(t->listener);
}

int sl_intake_tcp_done(const sl_intake_tcp *t)
{
    return (!t->listener || !sl_intake_tcp_listen_open(t->listener)) &&
           t->nconns == 0;
}

const sl_tcp_conf *sl_intake_tcp_settings(const sl_intake_tcp *t)
{
    return t->conf;
}

void sl_intake_tcp_free(sl_intake_tcp *t)
{
    if (!t)
        return;
    if (t->c)
        sl_connector_remove_durable_cb(t->c, on_durable, t);
    sl_intake_tcp_listen_free(t->listener);
    while (t->conns)
        conn_free(t->conns);
    SSL_CTX_free(t->tls);
    sl_intake_tcp_conf_free(t->own);
    free(t);
}

size_t sl_intake_tcp_connections(const sl_intake_tcp *t) { return t->nconns; }

unsigned long long sl_intake_tcp_tls_failures(const sl_intake_tcp *t)
{
    return t->tls_failed;
}
