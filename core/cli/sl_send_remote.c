/* sl_send_remote: batches posted to a running gateway's intake, one
 * blocking libcurl easy handle kept alive across them. */
#include "sl_send_remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_config_load.h"
#include "sl_json.h"
#include "sl_retry.h"
#include "sl_send_merge.h"
#include "sl_time.h"
#include "sl_version.h"

#define CONNECT_TIMEOUT_S 10
#define REQUEST_TIMEOUT_S 300 /* the gateway answers once durable */
#define SPAN_DEPTH 64         /* the scan of a batch: record nesting */

struct sl_send_remote {
    const sl_connector_conf *cc;
    CURL *easy;
    struct curl_slist *headers; /* owned; the Authorization one holds a
                                   secret: wiped when freed */
    char *url;
    unsigned ms_per_s;          /* wait scale (tests) */
    int (*stop)(void *ud);      /* give up waiting; may be NULL */
    void *stop_ud;
    sl_buf resp;                /* the last answer's body */
    char retry_after[64];       /* the last answer's Retry-After */
    long status;                /* the last answer's status */
    char curl_err[CURL_ERROR_SIZE];
};

/* The element spans of a batch: [start, end) byte offsets. */
typedef struct spans {
    size_t *at;                 /* 2 per record */
    size_t n;
} spans;

/* ---- setting up ------------------------------------------------------- */

/* The address to connect to for a listen host: a wildcard means this
 * machine. `bracket` for an IPv6 literal. */
static const char *connect_host(const char *h, int *bracket)
{
    if (!h || !*h || strcmp(h, "0.0.0.0") == 0)
        h = "127.0.0.1";
    else if (strcmp(h, "::") == 0)
        h = "::1";
    *bracket = strchr(h, ':') != NULL;
    return h;
}

static char *make_url(const sl_config *cfg, const sl_connector_conf *cc)
{
    int br;
    const char *host = connect_host(cfg->listen_host, &br);
    int port = cfg->listen_port > 0 ? cfg->listen_port : 8080;
    const char *scheme = cfg->tls.cert ? "https" : "http";
    char *url = NULL;
    if (asprintf(&url, "%s://%s%s%s:%d/v1/connectors/%s/records", scheme,
                 br ? "[" : "", host, br ? "]" : "", port, cc->name) < 0)
        return NULL;
    return url;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    sl_buf *b = ud;
    return sl_buf_append(b, p, size * n) == 0 ? size * n : 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    sl_send_remote *r = ud;
    size_t len = size * n;
    static const char name[] = "retry-after:";
    if (len > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        size_t i = sizeof name - 1, j = len;
        while (i < j && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (j > i && (p[j - 1] == '\r' || p[j - 1] == '\n' ||
                         p[j - 1] == ' '))
            j--;
        size_t k = j - i < sizeof r->retry_after - 1
                       ? j - i : sizeof r->retry_after - 1;
        memcpy(r->retry_after, p + i, k);
        r->retry_after[k] = '\0';
    }
    return len;
}

static int add_header(sl_send_remote *r, const char *h)
{
    struct curl_slist *l = curl_slist_append(r->headers, h);
    if (!l)
        return -1;
    r->headers = l;
    return 0;
}

static int setup_headers(sl_send_remote *r, const sl_connector_conf *cc)
{
    char ua[64];
    snprintf(ua, sizeof ua, "User-Agent: sluice-send/%s", SL_VERSION);
    if (add_header(r, "Content-Type: application/json") != 0 ||
        add_header(r, "Expect:") != 0 || add_header(r, ua) != 0)
        return -1;
    if (cc->nintake_keys == 0)
        return 0;
    size_t n = strlen(cc->intake_keys[0]) + 32;
    char *h = malloc(n);
    if (!h)
        return -1;
    snprintf(h, n, "Authorization: Bearer %s", cc->intake_keys[0]);
    int rc = add_header(r, h);
    explicit_bzero(h, n);
    free(h);
    return rc;
}

/* Pin the gateway's own certificate: it is the only one trusted (no system
 * store), so the name it carries need not match the address connected to
 * (a wildcard listen is reached as 127.0.0.1). */
static int setup_tls(sl_send_remote *r, const sl_config *cfg, char *err,
                     size_t errlen)
{
    if (!cfg->tls.cert)
        return 0;
    if (cfg->tls.require_client_cert) {
        snprintf(err, errlen, "the gateway's intake requires a client "
                 "certificate (tls.require_client_cert) and sluice send has "
                 "none to present: stop the gateway to send in this "
                 "process, or post the records with a client that has one");
        return -1;
    }
    CURLcode rc = curl_easy_setopt(r->easy, CURLOPT_CAINFO, cfg->tls.cert);
    rc |= curl_easy_setopt(r->easy, CURLOPT_CAPATH, NULL);
    rc |= curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 1L);
    rc |= curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "this libcurl cannot verify the gateway's "
                 "certificate %s", cfg->tls.cert);
        return -1;
    }
    return 0;
}

sl_send_remote *sl_send_remote_new(const sl_config *cfg,
                                   const sl_connector_conf *cc, char *err,
                                   size_t errlen)
{
    sl_send_remote *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->cc = cc;
    r->ms_per_s = 1000;
    sl_buf_init(&r->resp, SL_SEND_REMOTE_MAX_ANSWER);
    snprintf(err, errlen, "out of memory");
    if (!(r->url = make_url(cfg, cc)) || !(r->easy = curl_easy_init()) ||
        setup_headers(r, cc) != 0)
        goto fail;
    if (setup_tls(r, cfg, err, errlen) != 0)
        goto fail;
    CURL *e = r->easy;
    CURLcode rc = curl_easy_setopt(e, CURLOPT_URL, r->url);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &r->resp);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->curl_err);
    rc |= curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
    rc |= curl_easy_setopt(e, CURLOPT_POST, 1L);
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "libcurl refused an option");
        goto fail;
    }
    return r;
fail:
    sl_send_remote_free(r);
    return NULL;
}

void sl_send_remote_free(sl_send_remote *r)
{
    if (!r)
        return;
    if (r->easy)
        curl_easy_cleanup(r->easy);
    for (struct curl_slist *l = r->headers; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(r->headers);
    sl_buf_free(&r->resp);
    free(r->url);
    free(r);
}

const char *sl_send_remote_url(const sl_send_remote *r) { return r->url; }

void sl_send_remote_set_time_scale(sl_send_remote *r, unsigned ms_per_s)
{
    r->ms_per_s = ms_per_s;
}

/* ---- one post and its retries ---------------------------------------- */

void sl_send_remote_set_stop(sl_send_remote *r, int (*stop)(void *ud),
                             void *ud)
{
    r->stop = stop;
    r->stop_ud = ud;
}

static int stopped(const sl_send_remote *r)
{
    return r->stop && r->stop(r->stop_ud);
}

/* Sleep s seconds (scaled); a signal that makes stop say so ends it.
 * 0, or -1 when stopped. */
static int wait_s(const sl_send_remote *r, double s)
{
    if (s > SL_SEND_REMOTE_MAX_WAIT_S)
        s = SL_SEND_REMOTE_MAX_WAIT_S;
    uint64_t ms = (uint64_t)(s * r->ms_per_s);
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        if (stopped(r))
            return -1;
    return stopped(r) ? -1 : 0;
}

/* 0.25 s doubling per try, at most 8 s. */
static double backoff_s(int tries)
{
    double s = 0.25;
    for (int i = 1; i < tries && s < 8; i++)
        s *= 2;
    return s;
}

/* POST body once. CURLE_OK with r->status and r->resp set, or the error. */
static CURLcode post_once(sl_send_remote *r, const char *body, size_t len)
{
    sl_buf_reset(&r->resp);
    r->retry_after[0] = '\0';
    r->curl_err[0] = '\0';
    r->status = 0;
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(r->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    CURLcode rc = curl_easy_perform(r->easy);
    if (rc == CURLE_OK)
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
    return rc;
}

/* Write {"error":"<msg>"} to answer. */
static void answer_error(sl_buf *answer, const char *msg)
{
    sl_buf_append(answer, "{\"error\":", 9);
    sl_buf_json_string(answer, msg, strlen(msg));
    sl_buf_putc(answer, '}');
}

/* The "error" member of the gateway's answer, unescaped, else the start
 * of the body as it came (printable bytes), into out. */
static void gateway_error(const sl_buf *resp, char *out, size_t n)
{
    sl_json s;
    sl_json_token k, v;
    sl_buf tmp;
    out[0] = '\0';
    sl_buf_init(&tmp, n - 1);
    sl_json_init(&s, resp->data, resp->len, 4);
    if (resp->len > 0 && sl_json_next(&s, &k) == SL_JSON_OBJECT_BEGIN) {
        while (sl_json_next(&s, &k) == SL_JSON_KEY) {
            if (sl_json_next(&s, &v) == SL_JSON_STRING && k.len == 5 &&
                memcmp(k.p, "error", 5) == 0 &&
                sl_json_unescape(v.p, v.len, &tmp) == 0) {
                snprintf(out, n, "%.*s", (int)tmp.len, tmp.data);
                sl_buf_free(&tmp);
                return;
            }
            if (sl_json_skip(&s, &v) != 0)
                break;
        }
    }
    sl_buf_free(&tmp);
    size_t j = 0;
    for (size_t i = 0; i < resp->len && j + 1 < n && i < 200; i++) {
        unsigned char c = (unsigned char)resp->data[i];
        out[j++] = c >= 0x20 && c < 0x7f ? (char)c : '.';
    }
    out[j] = '\0';
}

/* POST body until it has a final answer: 503/429 waited for and sent
 * again (Retry-After, else backoff) up to SL_SEND_REMOTE_BUSY_TRIES
 * times, no answer or a 5xx up to SL_SEND_REMOTE_CONN_TRIES. Returns the
 * status (r->resp its body) or -1 with {"error"} in answer. */
static int post(sl_send_remote *r, const char *body, size_t len,
                sl_buf *answer, int *retry_after_s)
{
    int busy = 0, failed = 0;
    char msg[512];
    for (;;) {
        CURLcode rc = post_once(r, body, len);
        if (rc == CURLE_WRITE_ERROR) {
            snprintf(msg, sizeof msg, "the gateway at %s answered with more "
                     "than %u bytes: not the intake's answer", r->url,
                     SL_SEND_REMOTE_MAX_ANSWER);
            answer_error(answer, msg);
            return -1;
        }
        int st = (int)r->status;
        if (rc == CURLE_OK && (st == 503 || st == 429)) {
            uint64_t ms = sl_retry_after_ms(r->retry_after,
                                            sl_time_wall_ms());
            *retry_after_s = (int)((ms + 999) / 1000);
            if (++busy >= SL_SEND_REMOTE_BUSY_TRIES ||
                wait_s(r, ms > 0 ? (double)ms / 1000 : backoff_s(busy)) != 0)
                return st;
            continue;
        }
        if (rc == CURLE_OK && st < 500)
            return st;
        if (++failed >= SL_SEND_REMOTE_CONN_TRIES ||
            wait_s(r, backoff_s(failed)) != 0) {
            char why[256];
            if (rc == CURLE_OK)
                gateway_error(&r->resp, why, sizeof why);
            snprintf(msg, sizeof msg, "the gateway at %s %s %s (%d tries)",
                     r->url, rc == CURLE_OK ? "failed:" : "cannot be reached:",
                     rc == CURLE_OK ? why
                     : r->curl_err[0] ? r->curl_err : curl_easy_strerror(rc),
                     failed);
            answer_error(answer, msg);
            return -1;
        }
    }
}

/* ---- a batch, halved while too large ---------------------------------- */

/* Where each record of the array starts and ends. 0, or -1 (not an array
 * of values, or out of memory) with the reason in err. */
static int find_spans(const char *p, size_t len, spans *sp, char *err,
                      size_t errlen)
{
    sl_json s;
    sl_json_token t;
    size_t cap = 0;
    sp->at = NULL;
    sp->n = 0;
    sl_json_init(&s, p, len, SPAN_DEPTH);
    if (sl_json_next(&s, &t) != SL_JSON_ARRAY_BEGIN) {
        snprintf(err, errlen, "a batch must be a JSON array");
        return -1;
    }
    for (;;) {
        sl_json_type ty = sl_json_next(&s, &t);
        if (ty == SL_JSON_ARRAY_END)
            break;
        const char *start = ty == SL_JSON_STRING ? t.p - 1 : t.p;
        if (ty == SL_JSON_ERROR || sl_json_skip(&s, &t) != 0) {
            snprintf(err, errlen, "a batch is not JSON: %s", s.err);
            return -1;
        }
        if (sp->n == cap) {
            size_t nc = cap ? cap * 2 : 256;
            size_t *na = realloc(sp->at, nc * 2 * sizeof *na);
            if (!na) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            sp->at = na;
            cap = nc;
        }
        sp->at[2 * sp->n] = (size_t)(start - p);
        sp->at[2 * sp->n + 1] = (size_t)(s.cur - p);
        sp->n++;
    }
    return 0;
}

typedef struct batch {
    const char *p;     /* the whole array */
    size_t len;
    spans sp;
    sl_send_merge sum;
} batch;

static int submit_range(sl_send_remote *r, batch *b, size_t i0, size_t n,
                        sl_buf *answer, int *retry_after_s);

/* Records [i0, i0+n) as an array of their own, posted. */
static int post_range(sl_send_remote *r, batch *b, size_t i0, size_t n,
                      sl_buf *answer, int *retry_after_s)
{
    if (i0 == 0 && n == b->sp.n)
        return post(r, b->p, b->len, answer, retry_after_s);
    size_t from = b->sp.at[2 * i0], to = b->sp.at[2 * (i0 + n - 1) + 1];
    sl_buf part;
    sl_buf_init(&part, 0);
    int st = -1;
    if (sl_buf_putc(&part, '[') == 0 &&
        sl_buf_append(&part, b->p + from, to - from) == 0 &&
        sl_buf_putc(&part, ']') == 0)
        st = post(r, part.data, part.len, answer, retry_after_s);
    else
        answer_error(answer, "out of memory");
    sl_buf_free(&part);
    return st;
}

static int final_error(sl_send_remote *r, int st, size_t i0, sl_buf *answer)
{
    char why[256], msg[768];
    const char *hint = "";
    gateway_error(&r->resp, why, sizeof why);
    if (st == 401 && r->cc->nintake_keys == 0)
        hint = "; the connector has no intake_keys here: the gateway runs "
               "another configuration";
    else if (st == 401)
        hint = "; the gateway accepts none of this configuration's "
               "intake_keys: it runs another configuration";
    else if (st == 404)
        hint = "; the gateway runs another configuration";
    int n_ = snprintf(msg, sizeof msg, "the gateway at %s refused the batch "
                      "(%d): %s%s", r->url, st, why, hint);
    if (i0 > 0 && n_ > 0 && (size_t)n_ < sizeof msg)
        snprintf(msg + n_, sizeof msg - (size_t)n_, "; the batch's first %zu "
                 "records were taken", i0);
    answer_error(answer, msg);
    return st;
}

static int submit_range(sl_send_remote *r, batch *b, size_t i0, size_t n,
                        sl_buf *answer, int *retry_after_s)
{
    int st = post_range(r, b, i0, n, answer, retry_after_s);
    char err[256];
    if (st == 413 && n > 1) {
        size_t h = n / 2;
        st = submit_range(r, b, i0, h, answer, retry_after_s);
        if (st == 200 || st == 422)
            st = submit_range(r, b, i0 + h, n - h, answer, retry_after_s);
        return st;
    }
    if (st == 413) { /* one record alone too large: it is rejected */
        char why[256], msg[400];
        gateway_error(&r->resp, why, sizeof why);
        snprintf(msg, sizeof msg, "larger than the gateway's limits (413: "
                 "%s)", why);
        if (sl_send_merge_reject(&b->sum, i0, msg) != 0) {
            answer_error(answer, "the answer is too large");
            return -1;
        }
        return 200;
    }
    if (st != 200 && st != 422)
        return st < 0 || st == 503 || st == 429
                   ? st : final_error(r, st, i0, answer);
    if (sl_send_merge_add(&b->sum, r->resp.data, r->resp.len, i0, n, err,
                           sizeof err) != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s (from %s)", err, r->url);
        answer_error(answer, msg);
        return -1;
    }
    return st;
}

int sl_send_remote_submit(void *ud, const char *json_array, size_t len,
                          sl_buf *answer, int *retry_after_s)
{
    sl_send_remote *r = ud;
    batch b = {.p = json_array, .len = len};
    char err[256];
    *retry_after_s = 0;
    if (find_spans(json_array, len, &b.sp, err, sizeof err) != 0) {
        free(b.sp.at);
        answer_error(answer, err);
        return 400;
    }
    /* a transform may make several records of a row */
    sl_send_merge_init(&b.sum, SL_SEND_REMOTE_MAX_ANSWER,
                       sl_config_has_transform(r->cc));
    int st = b.sp.n == 0 ? 200
                         : submit_range(r, &b, 0, b.sp.n, answer,
                                        retry_after_s);
    if (st == 200 || st == 422) {
        st = sl_send_merge_write(&b.sum, answer);
        if (st < 0)
            answer_error(answer, "the answer is too large");
    }
    sl_send_merge_free(&b.sum);
    free(b.sp.at);
    return st;
}
