/* sl_httpconn: connection count, request deadline and JSON error pages
 * for evhttp connections. */
#include "sl_httpconn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "sl_buf.h"
#include "sl_log.h"
#include "sl_metrics.h"

#define SWEEP_MS 250        /* how often deadlines are checked */

typedef enum conn_state {
    C_NEW = 0,  /* accepted; evhttp has not finished setting it up */
    C_OPEN,     /* evcon known, close callback set */
} conn_state;

typedef struct conn {
    struct conn *prev, *next;
    sl_httpconn *g;
    struct bufferevent *bev;         /* evhttp's, created by us */
    struct evhttp_connection *evcon; /* once C_OPEN */
    struct evbuffer_cb_entry *watch;  /* on the input buffer */
    struct evbuffer_cb_entry *watch_out; /* on the output buffer */
    conn_state state;
    int fd;
    int busy;             /* a request handed over and not yet answered */
    int unwatched;        /* not found by its requests (out of memory
                             indexing it): never timed out */
    int answered_by_evhttp; /* its error page is queued: translate it */
    int translated;         /* done: what is queued now is ours */
    int tls;              /* accepted while opts.tls was set */
    unsigned timeout_s;   /* request_timeout_s when it was accepted */
    size_t max_body, max_header; /* evhttp's limits then (its own) */
    int handshaking;      /* TLS: the handshake is not done yet */
    long long accepted_ms;/* TLS: when it was accepted (the handshake's
                             clock) */
    long long started_ms; /* first byte of the request now arriving; 0 none */
    size_t bytes;         /* of that request so far */
    /* what an error page needs to be explained: the head of the request
     * as it arrives (evhttp parses it too, but says only 400 or 413) */
    int head_done;        /* the blank line after the headers was seen */
    unsigned lines;       /* of the head so far */
    size_t head_bytes;    /* request line and headers so far */
    size_t body_bytes;    /* after the head */
    long long declared;   /* Content-Length, -1 none */
    char line[48];        /* the start of the head's current line (enough
                             for any Content-Length) */
    size_t line_len;
} conn;

struct sl_httpconn {
    struct event_base *base;
    struct evhttp *http;
    struct evconnlistener *lev;
    sl_httpconn_opts o;
    conn *head;          /* every connection, newest first */
    size_t open;
    conn **byfd;         /* set-up connections by socket, for requests */
    size_t nbyfd;
    int paused;          /* the listener is disabled at the limit */
    struct event *setup; /* active: new connections to finish setting up */
    struct event *act;   /* active: error pages to translate */
    struct event *sweep; /* periodic: deadlines */
    unsigned long long slow_closed; /* logged at most once a second */
    long long slow_logged_ms;
    unsigned long long accepted, pauses, refused;
    unsigned long long tls_failed; /* handshakes failed or timed out */
    long long tls_logged_ms;       /* logged at most once a second */
    struct evhttp_bound_socket *retiring; /* http's, the old address: deleted
                                             once its backlog is accepted */
    struct event *retire;                 /* polls its backlog */
    int retire_ticks;
};

static long long now_ms(sl_httpconn *g)
{
    struct timeval tv;
    event_base_gettimeofday_cached(g->base, &tv);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void unlink_conn(sl_httpconn *g, conn *c)
{
    if (c->fd >= 0 && (size_t)c->fd < g->nbyfd && g->byfd[c->fd] == c)
        g->byfd[c->fd] = NULL;
    if (c->prev)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->open--;
}

static void update_listener(sl_httpconn *g)
{
    if (!g->lev)
        return;
    if (!g->paused && g->open >= g->o.max_connections) {
        if (evconnlistener_disable(g->lev) == 0) {
            g->paused = 1;
            g->pauses++;
            sl_log_news(SL_LOG_WARN, "intake",
                        "%zu HTTP connections open (max_connections): "
                        "not accepting new ones until one closes", g->open);
        }
    } else if (g->paused && g->open < g->o.max_connections) {
        if (evconnlistener_enable(g->lev) == 0) {
            g->paused = 0;
            sl_log_info("intake", "accepting HTTP connections again (%zu open)",
                    g->open);
        }
    }
}

static void unwatch(conn *c)
{
    if (c->watch)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->watch);
    if (c->watch_out)
        evbuffer_remove_cb_entry(bufferevent_get_output(c->bev), c->watch_out);
    c->watch = c->watch_out = NULL;
}

/* ---- TLS --------------------------------------------------------------- */

static int handshake_done(conn *c)
{
    SSL *ssl = bufferevent_openssl_get_ssl(c->bev);
    if (ssl && SSL_is_init_finished(ssl))
        c->handshaking = 0;
    return !c->handshaking;
}

/* A handshake that will not be done: counted, and logged (at most once a
 * second) with OpenSSL's reason, or `why`. */
static void tls_failed(sl_httpconn *g, conn *c, const char *why)
{
    char reason[160];
    const char *r = NULL;
    unsigned long e;
    /* the latest comes first: the one that says most */
    while ((e = bufferevent_get_openssl_error(c->bev)) != 0)
        if (!r)
            r = ERR_reason_error_string(e);
    if (!why) {
        snprintf(reason, sizeof reason, "%s", r ? r : "the client closed the "
                 "connection");
        why = reason;
    }
    c->handshaking = 0;
    char *host = NULL;
    ev_uint16_t port = 0;
    if (c->evcon)
        evhttp_connection_get_peer(c->evcon, &host, &port);
    long long now = now_ms(g);
    if (++g->tls_failed == 1 || now - g->tls_logged_ms >= 1000) {
        g->tls_logged_ms = now;
        sl_log_warn("intake", "HTTPS: TLS handshake with %s:%u failed: %s "
                "(%llu so far)", host ? host : "?", (unsigned)port, why,
                g->tls_failed);
    }
}

/* evhttp frees the connection (closed by either side, timed out, failed,
 * or by us): forget it. */
static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    conn *c = arg;
    sl_httpconn *g = c->g;
    if (c->handshaking && !handshake_done(c))
        tls_failed(g, c, NULL);
    unwatch(c);
    unlink_conn(g, c);
    free(c);
    update_listener(g);
}

static void forget_request(conn *c)
{
    c->started_ms = 0;
    c->bytes = c->head_bytes = c->body_bytes = 0;
    c->head_done = 0;
    c->lines = 0;
    c->line_len = 0;
    c->declared = -1;
}

/* One line of the head ended: note a Content-Length. */
static void head_line(conn *c)
{
    static const char cl[] = "content-length:";
    size_t n = sizeof cl - 1;
    if (c->lines > 0 && c->line_len > n) {
        size_t i = 0;
        while (i < n && (c->line[i] | 0x20) == cl[i])
            i++;
        if (i == n) {
            long long v = 0;
            for (i = n; i < c->line_len && c->line[i] == ' '; i++)
                ;
            for (; i < c->line_len && c->line[i] >= '0' && c->line[i] <= '9' &&
                   v < (1LL << 50); i++)
                v = v * 10 + (c->line[i] - '0');
            c->declared = v;
        }
    }
    c->lines++;
    c->line_len = 0;
}

/* Follow the head of a request through the bytes just added, a line at
 * a time. */
static void scan_head(conn *c, const char *p, size_t n)
{
    const char *end = p + n;
    while (p < end && !c->head_done) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        size_t room = sizeof c->line - c->line_len;
        size_t keep = len < room ? len : room;
        memcpy(c->line + c->line_len, p, keep);
        c->line_len += keep;
        c->head_bytes += len;
        if (!nl)
            return;
        c->head_bytes++;
        p = nl + 1;
        int blank = c->line_len == 0 ||
                    (c->line_len == 1 && c->line[0] == '\r');
        if (blank && c->lines > 0)
            c->head_done = 1;
        else
            head_line(c);
    }
    c->body_bytes += (size_t)(end - p);
}

/* Input arrived (or was consumed); runs before evhttp parses it. The
 * request's clock starts at its first byte. */
static void on_input(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                     void *arg)
{
    conn *c = arg;
    if (info->n_added == 0)
        return;
    if (c->started_ms == 0)
        c->started_ms = now_ms(c->g);
    c->bytes += info->n_added;
    if (c->head_done) {
        c->body_bytes += info->n_added;
        return;
    }
    /* the new bytes are at the end */
    struct evbuffer_ptr at;
    struct evbuffer_iovec v[8];
    if (evbuffer_ptr_set(buf, &at, info->orig_size, EVBUFFER_PTR_SET) != 0)
        return;
    int nv = evbuffer_peek(buf, (ev_ssize_t)info->n_added, &at, v, 8);
    size_t left = info->n_added;
    for (int k = 0; k < nv && k < 8 && left > 0; k++) {
        size_t take = v[k].iov_len < left ? v[k].iov_len : left;
        scan_head(c, v[k].iov_base, take);
        left -= take;
    }
}

/* ---- libevent's own error pages, in JSON --------------------------------- */

static void close_conn(conn *c)
{
    /* on_close runs inside and frees c */
    evhttp_connection_free(c->evcon);
}

/* The status and message of an answer evhttp gave with `status`. */
static int explain(const conn *c, int status, char *msg, size_t len)
{
    if (status == 400 && c->head_bytes > c->max_header) {
        snprintf(msg, len, "the request line and headers are larger than "
                 "max_header_bytes (%zu bytes)", c->max_header);
        return 431;
    }
    if (status == 400) {
        snprintf(msg, len, "malformed HTTP request (the request line or a "
                 "header)");
        return 400;
    }
    if (status == 413 && c->declared > (long long)c->max_body) {
        snprintf(msg, len, "the request body (Content-Length %lld) is larger "
                 "than max_body_bytes (%zu bytes); nothing of it was "
                 "accepted", c->declared, c->max_body);
        return 413;
    }
    if (status == 413 && c->body_bytes > c->max_body) {
        snprintf(msg, len, "the request body is larger than max_body_bytes "
                 "(%zu bytes); nothing of it was accepted", c->max_body);
        return 413;
    }
    if (status == 413) { /* evhttp's word for a broken chunk as well */
        snprintf(msg, len, "malformed chunked body; nothing of it was "
                 "accepted");
        return 400;
    }
    if (status == 417) {
        snprintf(msg, len, "unsupported Expect header; only 100-continue is "
                 "understood");
        return 417;
    }
    snprintf(msg, len, "the request could not be read (HTTP %d)", status);
    return status;
}

static const char *reason(int status)
{
    switch (status) {
    case 400: return "Bad Request";
    case 413: return "Payload Too Large";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
    }
}

/* evhttp answered a request it would not hand over (too large, malformed)
 * with its HTML page, which is in the output buffer, not yet written: the
 * same status line, a JSON body. evhttp closes the connection once it is
 * written, as it would have. */
static void translate(sl_httpconn *g, conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    char line[16], msg[256], body[512];
    size_t n = evbuffer_get_length(out);
    ev_ssize_t got = evbuffer_copyout(out, line, n < sizeof line - 1
                                                     ? n : sizeof line - 1);
    if (got < 12)
        return;
    line[got] = '\0';
    int major = 1, minor = 1, status = 0;
    if (sscanf(line, "HTTP/%d.%d %3d", &major, &minor, &status) != 3 ||
        status == 100)
        return;
    status = explain(c, status, msg, sizeof msg);
    g->refused++;
    c->translated = 1; /* evhttp closes the connection after this answer */
    int blen = snprintf(body, sizeof body, "{\"error\":\"%s\"}\n", msg);
    if (blen < 0 || (size_t)blen >= sizeof body)
        return;
    evbuffer_drain(out, n);
    if (evbuffer_add_printf(out, "HTTP/%d.%d %d %s\r\nContent-Type: "
                            "application/json\r\nContent-Length: %d\r\n"
                            "Connection: close\r\n\r\n%s", major, minor,
                            status, reason(status), blen, body) < 0)
        close_conn(c);
}

static void act(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_httpconn *g = arg;
    conn *c = g->head, *next;
    for (; c; c = next) {
        next = c->next;
        int answered = c->answered_by_evhttp;
        c->answered_by_evhttp = 0;
        if (answered && c->state == C_OPEN && !c->busy)
            translate(g, c); /* may free c */
    }
}

/* Output was queued. Ours is only ever queued for a request handed over
 * (busy); anything else is evhttp's own answer: translated at the next
 * turn of the loop, before it can be written. */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info,
                      void *arg)
{
    (void)buf;
    conn *c = arg;
    if (info->n_added == 0 || c->busy || c->state != C_OPEN ||
        c->answered_by_evhttp || c->translated)
        return;
    c->answered_by_evhttp = 1;
    event_active(c->g->act, EV_TIMEOUT, 0);
}

/* ---- connections ------------------------------------------------------ */

/* Make c findable from its requests. -1 when out of memory. */
static int index_conn(sl_httpconn *g, conn *c)
{
    if (c->fd < 0)
        return -1;
    if ((size_t)c->fd >= g->nbyfd) {
        size_t n = g->nbyfd ? g->nbyfd : 64;
        while (n <= (size_t)c->fd)
            n *= 2;
        conn **t = realloc(g->byfd, n * sizeof *t);
        if (!t)
            return -1;
        memset(t + g->nbyfd, 0, (n - g->nbyfd) * sizeof *t);
        g->byfd = t;
        g->nbyfd = n;
    }
    g->byfd[c->fd] = c;
    return 0;
}

/* The connection's bufferevent was made by new_bev; by the time the loop
 * turns, evhttp has set its callbacks (argument: the evhttp_connection),
 * or, if it failed while setting up (out of memory), freed it: then the
 * callbacks are NULL and only our reference keeps it. */
static void finish_setup(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_httpconn *g = arg;
    conn *c = g->head, *next;
    for (; c; c = next) {
        next = c->next;
        if (c->state != C_NEW)
            continue;
        bufferevent_data_cb rcb = NULL;
        bufferevent_event_cb ecb = NULL;
        void *cbarg = NULL;
        bufferevent_getcb(c->bev, &rcb, NULL, &ecb, &cbarg);
        if (!ecb || !cbarg) {
            /* evhttp gave up on it: its fd is closed already */
            bufferevent_disable(c->bev, EV_READ | EV_WRITE);
            unwatch(c);
            bufferevent_decref(c->bev);
            unlink_conn(g, c);
            free(c);
            continue;
        }
        c->evcon = cbarg;
        c->fd = (int)bufferevent_getfd(c->bev);
        c->state = C_OPEN;
        /* An answer must not wait for the client's delayed ACK: over TLS
         * evhttp's headers and body go out as separate records, and with
         * Nagle the second waited ~40 ms for the ACK of the first (716
         * requests/s on 32 connections, CPU idle). Failure only costs
         * that latency. */
        int one = 1;
        if (c->fd >= 0 && setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one,
                                     sizeof one) != 0)
            sl_log_debug("http", "TCP_NODELAY: %s", strerror(errno));
        if (c->tls) {
            c->handshaking = 1;
            c->accepted_ms = now_ms(g);
        }
        c->unwatched = index_conn(g, c) != 0;
        evhttp_connection_set_closecb(c->evcon, on_close, c);
        bufferevent_decref(c->bev); /* evhttp's reference remains */
    }
    update_listener(g);
}

/* The bufferevent of a new connection: plain, or TLS accepting. evhttp
 * sets its socket. NULL when out of memory. */
static struct bufferevent *make_bev(sl_httpconn *g, struct event_base *base)
{
    if (!g->o.tls)
        return bufferevent_socket_new(base, -1, 0);
    SSL *ssl = SSL_new(g->o.tls);
    struct bufferevent *bev =
        ssl ? bufferevent_openssl_socket_new(base, -1, ssl,
                                             BUFFEREVENT_SSL_ACCEPTING,
                                             BEV_OPT_CLOSE_ON_FREE)
            : NULL;
    if (!bev) {
        SSL_free(ssl); /* not taken on failure */
        return NULL;
    }
    /* a client that closes without close_notify has ended its stream, as
     * over plain TCP; its requests were whole or are refused anyway */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    return bev;
}

/* Out of memory on a TLS intake: evhttp must not make its own (plain)
 * bufferevent, which would speak HTTP in clear text. One end of a pair
 * has no socket to take: evhttp fails to set the connection up and
 * closes it at once ("cannot get connection"). (Freezing a socket
 * bufferevent's input would not do: its read callback unfreezes it.) */
static struct bufferevent *dead_bev(struct event_base *base)
{
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(base, 0, pair) != 0)
        return NULL;
    bufferevent_free(pair[1]);
    return pair[0];
}

/* evhttp_set_bevcb: a connection was accepted; its bufferevent. */
static struct bufferevent *new_bev(struct event_base *base, void *arg)
{
    sl_httpconn *g = arg;
    conn *c = calloc(1, sizeof *c);
    struct bufferevent *bev = c ? make_bev(g, base) : NULL;
    if (!c || !bev) {
        /* plain: evhttp makes its own; that connection is not watched */
        free(c);
        if (bev)
            bufferevent_free(bev);
        sl_log_warn("intake", "out of memory accepting an HTTP connection");
        return g->o.tls ? dead_bev(base) : NULL;
    }
    c->g = g;
    c->bev = bev;
    c->tls = g->o.tls != NULL;
    c->timeout_s = g->o.request_timeout_s;
    c->max_body = g->o.max_body_bytes;
    c->max_header = g->o.max_header_bytes;
    if (!(c->watch = evbuffer_add_cb(bufferevent_get_input(bev), on_input,
                                     c)) ||
        !(c->watch_out = evbuffer_add_cb(bufferevent_get_output(bev),
                                         on_output, c))) {
        bufferevent_free(bev); /* its buffers, and the watches, with it */
        free(c);
        return NULL;
    }
    c->bev = bev;
    c->fd = -1;
    forget_request(c);
    /* held until finish_setup, so that it cannot vanish before then */
    bufferevent_incref(bev);
    c->next = g->head;
    if (g->head)
        g->head->prev = c;
    g->head = c;
    g->open++;
    g->accepted++;
    event_active(g->setup, EV_TIMEOUT, 0);
    /* at the limit now: the listener's accept loop stops after this one
     * (it checks whether its callback disabled it) */
    update_listener(g);
    return bev;
}

/* ---- deadlines --------------------------------------------------------- */

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_httpconn *g = arg;
    long long now = now_ms(g);
    conn *c = g->head, *next;
    for (; c; c = next) {
        next = c->next;
        long long limit = (long long)c->timeout_s * 1000;
        if (c->state == C_OPEN && c->handshaking && !handshake_done(c) &&
            now - c->accepted_ms >= limit) {
            char why[128];
            snprintf(why, sizeof why, "not done within request_timeout_s "
                     "(%u s); connection closed", c->timeout_s);
            tls_failed(g, c, why);
            close_conn(c);
            continue;
        }
        if (c->state == C_OPEN && !c->busy && !c->unwatched &&
            c->started_ms && now - c->started_ms >= limit) {
            if (++g->slow_closed == 1 || now - g->slow_logged_ms >= 1000) {
                g->slow_logged_ms = now;
                sl_log_warn("intake", "HTTP client too slow: %zu bytes of a "
                        "request in %lld ms (request_timeout_s = %u); "
                        "connection closed (%llu so far)", c->bytes,
                        now - c->started_ms, c->timeout_s,
                        g->slow_closed);
            }
            close_conn(c);
        }
    }
}

/* ---- requests ---------------------------------------------------------- */

static conn *find(sl_httpconn *g, struct evhttp_connection *evcon)
{
    struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon)
                                    : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    if (fd < 0 || (size_t)fd >= g->nbyfd)
        return NULL;
    conn *c = g->byfd[fd];
    return c && c->evcon == evcon ? c : NULL;
}

static void on_answered(struct evhttp_request *req, void *arg)
{
    (void)req;
    conn *c = arg;
    c->busy = 0;
}

void sl_httpconn_request_done(sl_httpconn *g, struct evhttp_request *req)
{
    conn *c = find(g, evhttp_request_get_connection(req));
    if (!c)
        return;
    c->busy = 1;
    forget_request(c);
    /* called when the answer is written, before the connection is reused
     * or freed (on_close comes after it) */
    evhttp_request_set_on_complete_cb(req, on_answered, c);
}

/* ---- life -------------------------------------------------------------- */

static void take_opts(sl_httpconn *g, const sl_httpconn_opts *opts)
{
    g->o = *opts;
    if (g->o.max_connections == 0)
        g->o.max_connections = 1;
    if (g->o.request_timeout_s == 0)
        g->o.request_timeout_s = 1;
}

sl_httpconn *sl_httpconn_new(struct event_base *base, struct evhttp *http,
                             const sl_httpconn_opts *opts)
{
    sl_httpconn *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->base = base;
    g->http = http;
    take_opts(g, opts);
    struct timeval every = {0, SWEEP_MS * 1000};
    if (!(g->setup = event_new(base, -1, 0, finish_setup, g)) ||
        !(g->act = event_new(base, -1, 0, act, g)) ||
        !(g->sweep = event_new(base, -1, EV_PERSIST, sweep, g)) ||
        event_add(g->sweep, &every) != 0) {
        sl_httpconn_free(g);
        return NULL;
    }
    evhttp_set_bevcb(http, new_bev, g);
    return g;
}

void sl_httpconn_set_opts(sl_httpconn *g, const sl_httpconn_opts *opts)
{
    take_opts(g, opts);
    update_listener(g); /* a lower limit pauses, a higher one resumes */
}

void sl_httpconn_set_listener(sl_httpconn *g, struct evconnlistener *lev)
{
    g->lev = lev;
    g->paused = 0;
    if (lev)
        update_listener(g);
}

int sl_httpconn_metrics(const sl_httpconn *g, sl_buf *out)
{
    sl_metrics_http m = {.open = g->open, .accepted = g->accepted,
                         .slow_closed = g->slow_closed, .paused = g->pauses,
                         .refused = g->refused};
    return sl_metrics_prom(&sl_metrics_http_table, &m, 1, out);
}

unsigned long long sl_httpconn_tls_failures(const sl_httpconn *g)
{
    return g->tls_failed;
}

/* The retiring listener still accepts while connections wait in its
 * backlog (closing it would reset them); every 10 ms, for at most 1 s. */
static void on_retire(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_httpconn *g = arg;
    struct evconnlistener *lev =
        evhttp_bound_socket_get_listener(g->retiring);
    struct pollfd p = {.fd = evconnlistener_get_fd(lev), .events = POLLIN};
    if (poll(&p, 1, 0) > 0 && ++g->retire_ticks < 100) {
        struct timeval tick = {0, 10000};
        event_add(g->retire, &tick);
        return;
    }
    evhttp_del_accept_socket(g->http, g->retiring);
    g->retiring = NULL;
}

void sl_httpconn_retire(sl_httpconn *g, struct evhttp_bound_socket *old)
{
    if (g->retiring) { /* a move before the last one was done */
        evhttp_del_accept_socket(g->http, g->retiring);
        g->retiring = NULL;
    }
    if (!g->retire && !(g->retire = evtimer_new(g->base, on_retire, g))) {
        evhttp_del_accept_socket(g->http, old); /* out of memory: at once */
        return;
    }
    g->retiring = old;
    g->retire_ticks = 0;
    struct timeval now = {0, 0}; /* after what the loop has ready */
    event_add(g->retire, &now);
}

void sl_httpconn_free(sl_httpconn *g)
{
    if (!g)
        return;
    /* evhttp_free has closed every connection it had set up; what is left
     * never got that far */
    while (g->head) {
        conn *c = g->head;
        if (c->state == C_NEW)
            bufferevent_decref(c->bev);
        unlink_conn(g, c);
        free(c);
    }
    if (g->setup)
        event_free(g->setup);
    if (g->act)
        event_free(g->act);
    if (g->sweep)
        event_free(g->sweep);
    if (g->retire) /* g->retiring went with evhttp_free */
        event_free(g->retire);
    free(g->byfd);
    free(g);
}
