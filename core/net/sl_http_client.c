/* sl_http_client: libcurl multi on libevent, after curl's hiperfifo.c: a
 * socket callback (re)arms one persistent event per socket, a timer
 * callback arms one timer, and both feed curl_multi_socket_action; finished
 * transfers are found through CURLINFO_PRIVATE. Errors fail the transfer,
 * never the process. */
#include "sl_http_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>

#include "sl_buf.h"
#include "sl_log.h"

typedef struct xfer {
    struct xfer *next_free;   /* free-list link while pooled */
    struct xfer *prev, *next; /* running list */
    CURL *easy;
    sl_http_client_done_fn done;
    void *ud;
    sl_buf resp;              /* response body, capped at keep */
    size_t keep;
    int truncated;            /* bytes past keep were dropped */
    sl_buf hdrs;              /* response header lines, when wanted */
    int want_headers;
    char retry_after[128];
    int has_retry_after;
    char errbuf[CURL_ERROR_SIZE];
    struct curl_slist *route; /* CURLOPT_CONNECT_TO of tls.server_name */
} xfer;

struct sl_http_client {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    struct sock_ev *socks;    /* per-socket events, for cleanup */
    xfer *running;            /* list of running transfers */
    size_t nrunning;
    xfer *pool;               /* idle transfers with reusable easy handles */
    size_t npool;
};

/* Per-socket state, attached with curl_multi_assign. */
typedef struct sock_ev {
    struct sock_ev *prev, *next; /* sl_http_client.socks list */
    struct event *ev;
    curl_socket_t fd;
} sock_ev;

static void sock_ev_free(sl_http_client *h, sock_ev *se)
{
    if (se->prev)
        se->prev->next = se->next;
    else
        h->socks = se->next;
    if (se->next)
        se->next->prev = se->prev;
    if (se->ev)
        event_free(se->ev);
    free(se);
}

static void check_done(sl_http_client *h);

static void on_socket_event(evutil_socket_t fd, short what, void *arg)
{
    sl_http_client *h = arg;
    int flags = 0, running = 0;
    if (what & EV_READ)
        flags |= CURL_CSELECT_IN;
    if (what & EV_WRITE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, fd, flags, &running);
    check_done(h);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    sl_http_client *h = arg;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

/* CURLMOPT_TIMERFUNCTION: -1 deletes the timer, anything else (0 included)
 * arms it. */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    sl_http_client *h = userp;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    evtimer_add(h->timer, &tv);
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: one persistent event per socket. */
static int socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
    (void)easy;
    sl_http_client *h = userp;
    sock_ev *se = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (se) {
            sock_ev_free(h, se);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST;
    if (what & CURL_POLL_IN)
        kind |= EV_READ;
    if (what & CURL_POLL_OUT)
        kind |= EV_WRITE;
    if (!se) {
        se = calloc(1, sizeof *se);
        if (!se)
            return -1;
        se->fd = s;
        se->next = h->socks;
        if (h->socks)
            h->socks->prev = se;
        h->socks = se;
        curl_multi_assign(h->multi, s, se);
    } else {
        event_free(se->ev);
    }
    se->ev = event_new(h->base, s, kind, on_socket_event, h);
    if (!se->ev || event_add(se->ev, NULL) != 0)
        return -1;
    return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
    xfer *x = ud;
    size_t n = size * nmemb;
    size_t room = x->keep - x->resp.len;
    if (n > room)
        x->truncated = 1;
    if (sl_buf_append(&x->resp, ptr, n < room ? n : room) != 0)
        x->truncated = 1; /* out of memory: what was kept so far */
    return n; /* the rest is read and dropped, not an error */
}

static size_t header_cb(char *line, size_t size, size_t nitems, void *ud)
{
    xfer *x = ud;
    size_t n = size * nitems;
    static const char name[] = "retry-after:";
    if (x->want_headers) {
        if (n >= 5 && memcmp(line, "HTTP/", 5) == 0)
            sl_buf_reset(&x->hdrs); /* a new response (after 1xx) */
        else if (n > 2)
            sl_buf_append(&x->hdrs, line, n); /* capped: extra lines drop */
    }
    if (n > sizeof name - 1 && strncasecmp(line, name, sizeof name - 1) == 0) {
        const char *v = line + sizeof name - 1;
        const char *e = line + n;
        while (v < e && (*v == ' ' || *v == '\t'))
            v++;
        while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
            e--;
        size_t vl = (size_t)(e - v);
        if (vl >= sizeof x->retry_after)
            vl = sizeof x->retry_after - 1;
        memcpy(x->retry_after, v, vl);
        x->retry_after[vl] = '\0';
        x->has_retry_after = 1;
    }
    return n;
}

static void xfer_release(sl_http_client *h, xfer *x)
{
    /* unlink from running */
    if (x->prev)
        x->prev->next = x->next;
    else
        h->running = x->next;
    if (x->next)
        x->next->prev = x->prev;
    h->nrunning--;
    sl_buf_free(&x->resp);
    sl_buf_free(&x->hdrs);
    if (h->npool < 64) {
        /* reset first: curl must not see the route after it is freed */
        curl_easy_reset(x->easy);
        curl_slist_free_all(x->route);
        x->route = NULL;
        x->next_free = h->pool;
        h->pool = x;
        h->npool++;
    } else {
        curl_easy_cleanup(x->easy);
        curl_slist_free_all(x->route);
        free(x);
    }
}

static void finish(sl_http_client *h, CURL *easy, CURLcode code)
{
    xfer *x = NULL;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    curl_multi_remove_handle(h->multi, easy);
    if (!x)
        return;
    sl_http_client_response r;
    memset(&r, 0, sizeof r);
    r.curl_code = code;
    if (code == CURLE_OK)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &r.status);
    r.error = code == CURLE_OK ? ""
              : x->errbuf[0] ? x->errbuf
                             : curl_easy_strerror(code);
    r.body = x->resp.data ? x->resp.data : "";
    r.body_len = x->resp.len;
    r.truncated = x->truncated;
    r.retry_after = x->has_retry_after ? x->retry_after : NULL;
    sl_buf keep_hdrs = x->hdrs;
    sl_buf_init(&x->hdrs, 0);
    r.headers = keep_hdrs.data ? keep_hdrs.data : "";
    r.headers_len = keep_hdrs.len;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME, &r.seconds);
    if (code != CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_SSL_VERIFYRESULT, &r.tls_verify_result);
        curl_easy_getinfo(easy, CURLINFO_PROXY_SSL_VERIFYRESULT,
                          &r.proxy_tls_verify_result);
    }
    sl_http_client_done_fn done = x->done;
    void *ud = x->ud;
    /* The callback may start new transfers; hand it a response whose
     * storage stays alive until it returns. */
    sl_buf keep = x->resp;
    sl_buf_init(&x->resp, 0);
    char errcopy[CURL_ERROR_SIZE];
    if (code != CURLE_OK) {
        snprintf(errcopy, sizeof errcopy, "%s", r.error);
        r.error = errcopy;
    }
    char ra[128];
    if (r.retry_after) {
        snprintf(ra, sizeof ra, "%s", r.retry_after);
        r.retry_after = ra;
    }
    xfer_release(h, x);
    done(ud, &r);
    sl_buf_free(&keep);
    sl_buf_free(&keep_hdrs);
}

static void check_done(sl_http_client *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left))) {
        if (msg->msg == CURLMSG_DONE)
            finish(h, msg->easy_handle, msg->data.result);
    }
}

sl_http_client *sl_http_client_new(struct event_base *base, char *err, size_t errlen)
{
    sl_http_client *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->base = base;
    h->multi = curl_multi_init();
    if (!h->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        goto fail;
    }
    h->timer = evtimer_new(base, on_timer, h);
    if (!h->timer) {
        snprintf(err, errlen, "cannot create timer event");
        goto fail;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    /* Keep enough idle connections for every connector's concurrency. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 256L);
    /* HTTP/2: concurrent transfers to one host share its connection as
     * streams (curl's default since 7.62, set because delivery counts on
     * it); CURLOPT_PIPEWAIT makes them wait for that connection rather
     * than open their own. No cap on connections per host: HTTP/1.1
     * needs one per batch in flight. */
    curl_multi_setopt(h->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    return h;
fail:
    if (h->multi)
        curl_multi_cleanup(h->multi);
    free(h);
    return NULL;
}

void sl_http_client_free(sl_http_client *h)
{
    if (!h)
        return;
    while (h->running) {
        xfer *x = h->running;
        curl_multi_remove_handle(h->multi, x->easy);
        xfer_release(h, x);
    }
    while (h->pool) {
        xfer *x = h->pool;
        h->pool = x->next_free;
        curl_easy_cleanup(x->easy);
        free(x);
    }
    /* Cleaning the multi closes pooled connections; events of sockets it
     * did not report removed are freed after it. */
    curl_multi_cleanup(h->multi);
    while (h->socks)
        sock_ev_free(h, h->socks);
    event_free(h->timer);
    free(h);
}

static xfer *xfer_get(sl_http_client *h)
{
    xfer *x = h->pool;
    if (x) {
        h->pool = x->next_free;
        h->npool--;
    } else {
        x = calloc(1, sizeof *x);
        if (!x)
            return NULL;
        x->easy = curl_easy_init();
        if (!x->easy) {
            free(x);
            return NULL;
        }
    }
    x->has_retry_after = 0;
    x->errbuf[0] = '\0';
    sl_buf_init(&x->resp, SL_HTTP_CLIENT_BODY_KEEP);
    sl_buf_init(&x->hdrs, SL_HTTP_CLIENT_BODY_KEEP);
    x->keep = SL_HTTP_CLIENT_BODY_KEEP;
    x->truncated = 0;
    x->want_headers = 0;
    return x;
}

static CURLcode setup_easy(xfer *x, const sl_http_client_request *req)
{
    CURL *e = x->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "sluice/0.1");
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     req->timeout_ms > 0 && req->timeout_ms < 10000
                         ? req->timeout_ms : 10000L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
    if (req->body_len > 0 || strcmp(req->method, "GET") != 0) {
        /* POSTFIELDS with an explicit size sends Content-Length, never
         * chunked; CUSTOMREQUEST keeps that body for PUT and PATCH. */
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        if (strcmp(req->method, "POST") != 0)
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
    }
    CURLcode rc = sl_transport_apply(e, req->transport, req->url);
    if (rc == CURLE_OK)
        rc = sl_transport_route(e, req->transport, req->url, &x->route);
    return rc;
}

int sl_http_client_send(sl_http_client *h, const sl_http_client_request *req, sl_http_client_done_fn done,
                 void *ud)
{
    xfer *x = xfer_get(h);
    if (!x)
        return -1;
    x->done = done;
    x->ud = ud;
    x->want_headers = req->want_headers;
    if (req->max_body) {
        x->keep = req->max_body;
        sl_buf_init(&x->resp, req->max_body);
    }
    x->prev = NULL;
    x->next = h->running;
    if (h->running)
        h->running->prev = x;
    h->running = x;
    h->nrunning++;
    CURLcode rc = setup_easy(x, req);
    if (rc != CURLE_OK) {
        sl_log_warn("http", "%s: transport option refused: %s", req->url,
                    curl_easy_strerror(rc));
        xfer_release(h, x);
        return -1;
    }
    CURLMcode mc = curl_multi_add_handle(h->multi, x->easy);
    if (mc != CURLM_OK) {
        sl_log_warn("http", "curl_multi_add_handle: %s", curl_multi_strerror(mc));
        xfer_release(h, x);
        return -1;
    }
    return 0;
}

size_t sl_http_client_running(const sl_http_client *h) { return h->nrunning; }
