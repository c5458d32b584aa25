/* sl_intake_post: a POST of records, answered at once, after the check
 * threads, or once durable. */
#include "sl_intake_post.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "sl_err.h"
#include "sl_intake_body.h"
#include "sl_intake_query.h"
#include "sl_intake_reply.h"
#include "sl_time.h"

/* A request whose records are spooled but not yet durable: answered when
 * the connector reports its ticket durable (or failed). */
typedef struct waiting {
    struct waiting *next;
    struct evhttp_request *req;
    uint64_t ticket;
    sl_connector *c;   /* the connector posted to (its latency histogram) */
    uint64_t t0_us;    /* when the request was read (sl_time_mono_us) */
    size_t len;
    char answer[]; /* the JSON answer, sent with 200 */
} waiting;

typedef struct wait_list {
    sl_connector *c;
    waiting *head, *tail;
} wait_list;

/* A request whose body is on the check threads. */
typedef struct checking {
    struct checking *prev, *next;
    sl_intake_post *p;
    struct evhttp_request *req;
    sl_connector *c;
    uint64_t t0_us;
    int dry;
    sl_buf body; /* the inflated body it was given, or empty */
} checking;

struct sl_intake_post {
    wait_list *waits; /* one per connector added */
    size_t n;
    checking *checks;
    sl_buf answer;    /* reused per request */
    sl_buf inflated;  /* a gzip body, inflated (capped) */
    size_t max_inflated;
};

sl_intake_post *sl_intake_post_new(size_t max_inflated)
{
    sl_intake_post *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    sl_buf_init(&p->answer, 0);
    sl_buf_init(&p->inflated, 0);
    p->max_inflated = max_inflated;
    return p;
}

void sl_intake_post_set_max_inflated(sl_intake_post *p, size_t max_inflated)
{
    p->max_inflated = max_inflated;
}

static wait_list *waits_of(sl_intake_post *p, const sl_connector *c)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->waits[i].c == c)
            return &p->waits[i];
    return NULL;
}

/* Keep the answer until the spool says the records are durable. 0, or -1
 * (out of memory: then the records are spooled but the caller is answered
 * at once, which is what durability "os" would do). */
static int wait_for(sl_intake_post *p, struct evhttp_request *req,
                    sl_connector *c, uint64_t ticket, uint64_t t0_us,
                    const sl_buf *answer)
{
    wait_list *l = waits_of(p, c);
    waiting *w = l ? malloc(sizeof *w + answer->len + 1) : NULL;
    if (!w)
        return -1;
    w->next = NULL;
    w->req = req;
    w->ticket = ticket;
    w->c = c;
    w->t0_us = t0_us;
    w->len = answer->len;
    memcpy(w->answer, answer->data, answer->len);
    w->answer[w->len] = '\n';
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    return 0;
}

static void answer_waiting(waiting *w, int ok, const char *why)
{
    sl_connector_observe_request(w->c, SL_CONNECTOR_INTAKE_HTTP,
                                 sl_time_mono_us() - w->t0_us, 1);
    if (ok) {
        sl_intake_reply(w->req, 200, "application/json", w->answer,
                        w->len + 1);
        return;
    }
    char msg[512];
    snprintf(msg, sizeof msg, "{\"error\":\"the records could not be "
             "written to the spool (%s); nothing of this request was "
             "accepted\"}\n", why);
    evhttp_add_header(evhttp_request_get_output_headers(w->req),
                      "Retry-After", "5");
    sl_intake_reply(w->req, 503, "application/json", msg, strlen(msg));
}

/* sl_connector_durable_fn */
static void on_durable(void *ud, sl_connector *c, uint64_t lsn, int ok)
{
    wait_list *l = waits_of(ud, c);
    if (!l)
        return;
    while (l->head && (ok ? l->head->ticket <= lsn : l->head->ticket > lsn)) {
        waiting *w = l->head;
        l->head = w->next;
        if (!l->head)
            l->tail = NULL;
        answer_waiting(w, ok, ok ? "" : "disk error; see the log");
        free(w);
    }
    if (!ok) {
        /* the failed ones are at the tail; the rest stay waiting */
        waiting **pp = &l->head;
        l->tail = NULL;
        while (*pp) {
            waiting *w = *pp;
            if (w->ticket > lsn) {
                *pp = w->next;
                answer_waiting(w, 0, "disk error; see the log");
                free(w);
            } else {
                l->tail = w;
                pp = &w->next;
            }
        }
    }
}

int sl_intake_post_add(sl_intake_post *p, sl_connector *c, char *err,
                       size_t errlen)
{
    wait_list *w = realloc(p->waits, (p->n + 1) * sizeof *w);
    if (!w)
        return sl_err_fail(err, errlen, "out of memory");
    p->waits = w;
    if (sl_connector_add_durable_cb(c, on_durable, p) != 0)
        return sl_err_fail(err, errlen, "too many intakes on one connector");
    w[p->n++] = (wait_list){.c = c};
    return 0;
}

/* The answer `code` of a post read at t0_us: kept until durable, or sent
 * now (and timed, unless a dry run). */
static void finish(sl_intake_post *p, struct evhttp_request *req,
                   sl_connector *c, uint64_t t0_us, int dry, int code,
                   const sl_buf *answer, int retry_after, uint64_t ticket)
{
    if (code == 200 && ticket > 0 &&
        wait_for(p, req, c, ticket, t0_us, answer) == 0)
        return; /* answered and timed by answer_waiting */
    if (retry_after > 0) {
        char v[16];
        snprintf(v, sizeof v, "%d", retry_after);
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Retry-After", v);
    }
    if (answer != &p->answer) {
        sl_buf_reset(&p->answer);
        sl_buf_append(&p->answer, answer->data, answer->len);
    }
    sl_intake_reply_json(req, code, &p->answer);
    if (!dry)
        sl_connector_observe_request(c, SL_CONNECTOR_INTAKE_HTTP,
                                     sl_time_mono_us() - t0_us, 1);
}

static void unlink_check(sl_intake_post *p, checking *k)
{
    if (k->prev)
        k->prev->next = k->next;
    else
        p->checks = k->next;
    if (k->next)
        k->next->prev = k->prev;
}

static void free_check(checking *k)
{
    sl_buf_free(&k->body);
    free(k);
}

/* sl_connector_posted_fn */
static void on_posted(void *ud, int code, const sl_buf *answer,
                      int retry_after, uint64_t ticket)
{
    checking *k = ud;
    sl_intake_post *p = k->p;
    unlink_check(p, k);
    finish(p, k->req, k->c, k->t0_us, k->dry, code, answer, retry_after,
           ticket);
    free_check(k);
}

/* Hand data[0..len) to the check threads; the answer comes to on_posted
 * (or is sent now when it cannot be handed over). */
static void post_off_loop(sl_intake_post *p, struct evhttp_request *req,
                          sl_connector *c, uint64_t t0_us, int dry, int fmt,
                          const char *data, size_t len)
{
    checking *k = calloc(1, sizeof *k);
    int retry_after = 0;
    sl_buf_reset(&p->answer);
    if (!k) {
        sl_intake_reply_error(req, 500, "out of memory", &p->answer);
        return;
    }
    *k = (checking){.p = p, .req = req, .c = c, .t0_us = t0_us, .dry = dry};
    if (p->inflated.data && data >= p->inflated.data &&
        data < p->inflated.data + p->inflated.cap) { /* it keeps the body */
        k->body = p->inflated;
        sl_buf_init(&p->inflated, 0);
    }
    if ((k->next = p->checks))
        p->checks->prev = k;
    p->checks = k;
    int code = sl_connector_post(c, (sl_ingest_format)fmt, data, len, dry,
                                 on_posted, k, &p->answer, &retry_after);
    if (code != 0) {
        unlink_check(p, k);
        finish(p, req, c, t0_us, dry, code, &p->answer, retry_after, 0);
        free_check(k);
    }
}

/* 0 when the request may post (its key, its query); otherwise it has
 * been answered. *dry: a dry run. */
static int admit(sl_intake_post *p, struct evhttp_request *req,
                 sl_connector *c, int *dry)
{
    char msg[200];
    int bad_query = sl_intake_query_dry_run(evhttp_request_get_uri(req), dry,
                                            msg, sizeof msg) != 0;
    if (*dry) /* on every answer from here on; the body is a real one's */
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "Sluice-Dry-Run", "true");
    const char *authz = evhttp_find_header(evhttp_request_get_input_headers(req),
                                           "Authorization");
    sl_auth_rc arc = sl_connector_authorize(c, authz);
    if (arc != SL_AUTH_OK) {
        /* the key itself is never echoed or logged */
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "WWW-Authenticate", "Bearer realm=\"sluice\"");
        sl_intake_reply_error(req, 401,
                              arc == SL_AUTH_MISSING
                                  ? "this connector needs an intake key: "
                                    "send Authorization: Bearer <key>"
                                  : "wrong intake key",
                              &p->answer);
        return -1;
    }
    if (bad_query) {
        sl_intake_reply_error(req, 400, msg, &p->answer);
        return -1;
    }
    return 0;
}

void sl_intake_post_handle(sl_intake_post *p, struct evhttp_request *req,
                           sl_connector *c)
{
    uint64_t t0 = sl_time_mono_us();
    int dry = 0, fmt;
    const char *data;
    size_t len;
    char msg[200];
    if (admit(p, req, c, &dry) != 0) {
        if (!dry)
            sl_connector_observe_request(c, SL_CONNECTOR_INTAKE_HTTP,
                                         sl_time_mono_us() - t0, 1);
        return;
    }
    int st = sl_intake_body_read(req, &p->inflated, p->max_inflated, &fmt,
                                 &data, &len, msg, sizeof msg);
    if (st) {
        sl_intake_reply_error(req, st, msg, &p->answer);
        if (!dry)
            sl_connector_observe_request(c, SL_CONNECTOR_INTAKE_HTTP,
                                         sl_time_mono_us() - t0, 1);
        return;
    }
    if (sl_connector_checks_off_loop(c)) {
        post_off_loop(p, req, c, t0, dry, fmt, data, len);
        return;
    }
    int retry_after = 0;
    uint64_t ticket = 0;
    sl_buf_reset(&p->answer);
    int code = dry ? sl_connector_ingest_dry(c, (sl_ingest_format)fmt, data,
                                             len, &p->answer, &retry_after)
                   : sl_connector_ingest(c, (sl_ingest_format)fmt, data, len,
                                         &p->answer, &retry_after, &ticket);
    if (p->inflated.cap > ((size_t)8 << 20))
        sl_buf_free(&p->inflated); /* a big one is not kept around */
    finish(p, req, c, t0, dry, code, &p->answer, retry_after, ticket);
}

void sl_intake_post_free(sl_intake_post *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        wait_list *l = &p->waits[i];
        sl_connector_remove_durable_cb(l->c, on_durable, p);
        /* not durable by now (the gateway syncs before closing): say so */
        while (l->head) {
            waiting *w = l->head;
            l->head = w->next;
            answer_waiting(w, 0, "shutting down");
            free(w);
        }
    }
    while (p->checks) { /* evhttp frees their requests with the connections */
        checking *k = p->checks;
        p->checks = k->next;
        free_check(k);
    }
    free(p->waits);
    sl_buf_free(&p->inflated);
    sl_buf_free(&p->answer);
    free(p);
}
