/* Unit tests for sl_send_remote (and sl_send_merge) against an HTTP
 * server on 127.0.0.1 in a thread of this process, written on raw
 * sockets so that it can answer anything (a wrong body, a huge one):
 * 200 and 422 answers read and checked, keep-alive, the intake key,
 * 503 with Retry-After retried, a refused connection, 413 halving with
 * the answers merged, a malformed and an oversized answer, 401/404. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sl_send_merge.h"
#include "sl_send_remote.h"
#include "sl_test.h"

/* ---- the server --------------------------------------------------------- */

typedef struct srv srv;
/* Write the whole answer (status line on) for request `body` to out. */
typedef void (*srv_fn)(srv *s, const char *body, size_t len, sl_buf *out);

struct srv {
    int fd, port;
    pthread_t th;
    atomic_int stop;
    srv_fn fn;
    int requests, connections;
    char auth[256];          /* the last Authorization header */
    char ctype[128];         /* the last Content-Type */
    char last_body[4096];
    int script[64];          /* answers for answer_script */
    int nscript;
};

static size_t records_in(const char *b, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += b[i] == '{';
    return n;
}

static void header_value(const char *head, const char *name, char *out,
                         size_t n)
{
    const char *p = strcasestr(head, name);
    out[0] = '\0';
    if (!p)
        return;
    p += strlen(name);
    while (*p == ' ')
        p++;
    size_t k = strcspn(p, "\r\n");
    snprintf(out, n, "%.*s", (int)k, p);
}

/* One connection: requests until the client closes. */
static void serve_conn(srv *s, int c)
{
    sl_buf in, out;
    sl_buf_init(&in, 64u << 20);
    sl_buf_init(&out, 64u << 20);
    char tmp[65536];
    for (;;) {
        char *end;
        while (!(end = in.len ? memmem(in.data, in.len, "\r\n\r\n", 4)
                              : NULL)) {
            ssize_t k = read(c, tmp, sizeof tmp);
            if (k <= 0)
                goto done;
            sl_buf_append(&in, tmp, (size_t)k);
        }
        size_t head = (size_t)(end - in.data) + 4;
        char hv[64];
        sl_buf_putc(&in, '\0');
        in.len--;
        header_value(in.data, "\r\ncontent-length:", hv, sizeof hv);
        size_t clen = (size_t)strtoul(hv, NULL, 10);
        header_value(in.data, "\r\nauthorization:", s->auth, sizeof s->auth);
        header_value(in.data, "\r\ncontent-type:", s->ctype, sizeof s->ctype);
        while (in.len < head + clen) {
            ssize_t k = read(c, tmp, sizeof tmp);
            if (k <= 0)
                goto done;
            sl_buf_append(&in, tmp, (size_t)k);
        }
        snprintf(s->last_body, sizeof s->last_body, "%.*s", (int)clen,
                 in.data + head);
        s->requests++;
        sl_buf_reset(&out);
        s->fn(s, in.data + head, clen, &out);
        for (size_t off = 0; off < out.len;) {
            ssize_t k = write(c, out.data + off, out.len - off);
            if (k <= 0)
                goto done;
            off += (size_t)k;
        }
        memmove(in.data, in.data + head + clen, in.len - head - clen);
        in.len -= head + clen;
    }
done:
    close(c);
    sl_buf_free(&in);
    sl_buf_free(&out);
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    while (!atomic_load(&s->stop)) {
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        s->connections++;
        serve_conn(s, c);
    }
    return NULL;
}

static int listen_any(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t al = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void srv_start(srv *s, srv_fn fn)
{
    memset(s, 0, sizeof *s);
    s->fn = fn;
    s->fd = listen_any(&s->port);
    CHECK(s->fd >= 0);
    pthread_create(&s->th, NULL, srv_main, s);
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->fd);
}

static void reply(sl_buf *out, int status, const char *extra,
                  const char *body)
{
    sl_buf_printf(out, "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                  "Content-Length: %zu\r\n%s\r\n%s", status, strlen(body),
                  extra ? extra : "", body);
}

/* ---- the answers -------------------------------------------------------- */

/* Accepts every record but those holding "bad", which it rejects. */
static void answer_records(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s;
    sl_buf body;
    sl_buf_init(&body, 0);
    size_t n = 0, bad = 0;
    sl_buf rej;
    sl_buf_init(&rej, 0);
    for (size_t i = 0; i < len; i++) {
        if (b[i] != '{')
            continue;
        const char *e = memchr(b + i, '}', len - i);
        if (e && memmem(b + i, (size_t)(e - b - i), "bad", 3)) {
            sl_buf_printf(&rej, "%s{\"index\":%zu,\"field\":\"id\","
                          "\"error\":\"bad \\\"one\\\"\"}",
                          bad ? "," : "", n);
            bad++;
        }
        n++;
    }
    sl_buf_printf(&body, "{\"accepted\":%zu,\"rejected\":[%s]}", n - bad,
                  rej.len ? sl_buf_cstr(&rej) : "");
    reply(out, n > bad || n == 0 ? 200 : 422, NULL, sl_buf_cstr(&body));
    sl_buf_free(&body);
    sl_buf_free(&rej);
}

/* 413 for a body of more than 2 records, else answer_records. */
static void answer_small(srv *s, const char *b, size_t len, sl_buf *out)
{
    if (records_in(b, len) > 2)
        reply(out, 413, NULL, "{\"error\":\"body too large\"}");
    else
        answer_records(s, b, len, out);
}

static void answer_413(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    reply(out, 413, NULL, "{\"error\":\"body too large\"}");
}

/* The script's statuses in order (503s with Retry-After: 1), then 200. */
static void answer_script(srv *s, const char *b, size_t len, sl_buf *out)
{
    int i = s->requests - 1;
    if (i < s->nscript && s->script[i] != 200)
        reply(out, s->script[i], "Retry-After: 1\r\n",
              "{\"error\":\"busy\"}");
    else
        answer_records(s, b, len, out);
}

static void answer_garbage(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    reply(out, 200, NULL, "<html>hello</html>");
}

static void answer_bad_index(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    reply(out, 200, NULL, "{\"accepted\":1,\"rejected\":[{\"index\":7,"
          "\"field\":\"id\",\"error\":\"x\"}]}");
}

static void answer_huge(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    size_t n = SL_SEND_REMOTE_MAX_ANSWER + 1000;
    sl_buf_printf(out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
    sl_buf_printf(out, "{\"accepted\":1,\"rejected\":[],\"x\":\"");
    while (out->len < n + 60)
        sl_buf_putc(out, 'a');
}

static void answer_401(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    reply(out, 401, "WWW-Authenticate: Bearer realm=\"sluice\"\r\n",
          "{\"error\":\"wrong intake key\"}");
}

static void answer_404(srv *s, const char *b, size_t len, sl_buf *out)
{
    (void)s, (void)b, (void)len;
    reply(out, 404, NULL, "{\"error\":\"no connector \\\"crm\\\"\"}");
}

/* ---- fixtures ----------------------------------------------------------- */

static char key0[] = "k-0123456789abcdef";
static char *keys[] = {key0};

typedef struct fix {
    sl_config cfg;
    sl_connector_conf cc;
    sl_send_remote *r;
    sl_buf answer;
    int retry;
} fix;

static void fix_open(fix *f, int port, int with_key)
{
    memset(f, 0, sizeof *f);
    f->cfg.listen_host = "127.0.0.1";
    f->cfg.listen_port = port;
    f->cc.name = "crm";
    if (with_key) {
        f->cc.intake_keys = keys;
        f->cc.nintake_keys = 1;
    }
    char err[256];
    f->r = sl_send_remote_new(&f->cfg, &f->cc, err, sizeof err);
    CHECK(f->r != NULL);
    if (f->r)
        sl_send_remote_set_time_scale(f->r, 1);
    sl_buf_init(&f->answer, SL_SEND_REMOTE_MAX_ANSWER);
}

static int fix_submit(fix *f, const char *batch)
{
    sl_buf_reset(&f->answer);
    int st = sl_send_remote_submit(f->r, batch, strlen(batch), &f->answer,
                                   &f->retry);
    sl_buf_cstr(&f->answer);
    return st;
}

static void fix_close(fix *f)
{
    sl_send_remote_free(f->r);
    sl_buf_free(&f->answer);
}

/* ---- tests -------------------------------------------------------------- */

static void test_url(void)
{
    sl_config cfg = {.listen_host = "0.0.0.0", .listen_port = 9000};
    sl_connector_conf cc = {.name = "crm"};
    char err[256];
    sl_send_remote *r = sl_send_remote_new(&cfg, &cc, err, sizeof err);
    CHECK_STR(sl_send_remote_url(r),
              "http://127.0.0.1:9000/v1/connectors/crm/records");
    sl_send_remote_free(r);
    cfg.listen_host = "::";
    r = sl_send_remote_new(&cfg, &cc, err, sizeof err);
    CHECK_STR(sl_send_remote_url(r),
              "http://[::1]:9000/v1/connectors/crm/records");
    sl_send_remote_free(r);
    cfg.tls.cert = "/nonexistent/cert.pem";
    cfg.listen_host = "localhost";
    r = sl_send_remote_new(&cfg, &cc, err, sizeof err);
    CHECK_STR(sl_send_remote_url(r),
              "https://localhost:9000/v1/connectors/crm/records");
    sl_send_remote_free(r);
    cfg.tls.require_client_cert = true;
    CHECK(sl_send_remote_new(&cfg, &cc, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "requires a client certificate");
}

static void test_ok_keepalive_key(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_records);
    fix_open(&f, s.port, 1);
    CHECK(fix_submit(&f, "[{\"id\":1},{\"id\":2}]") == 200);
    CHECK_STR(f.answer.data, "{\"accepted\":2,\"rejected\":[]}");
    CHECK(fix_submit(&f, "[{\"id\":3}]") == 200);
    CHECK_STR(f.answer.data, "{\"accepted\":1,\"rejected\":[]}");
    CHECK(s.requests == 2);
    CHECK(s.connections == 1); /* kept alive */
    CHECK_STR(s.auth, "Bearer k-0123456789abcdef");
    CHECK_STR(s.ctype, "application/json");
    CHECK_STR(s.last_body, "[{\"id\":3}]");
    /* an empty batch asks nothing */
    CHECK(fix_submit(&f, "[]") == 200);
    CHECK_STR(f.answer.data, "{\"accepted\":0,\"rejected\":[]}");
    CHECK(s.requests == 2);
    fix_close(&f);
    srv_stop(&s);
}

static void test_422(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_records);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":\"bad\"},{\"id\":\"bad2\"}]") == 422);
    CHECK_STR(f.answer.data, "{\"accepted\":0,\"rejected\":["
              "{\"index\":0,\"field\":\"id\",\"error\":\"bad \\\"one\\\"\"},"
              "{\"index\":1,\"field\":\"id\",\"error\":\"bad \\\"one\\\"\"}]}");
    CHECK_STR(s.auth, ""); /* no intake key, no header */
    fix_close(&f);
    srv_stop(&s);
}

static void test_503_then_200(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_script);
    s.script[0] = 503;
    s.script[1] = 429;
    s.nscript = 2;
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":1}]") == 200);
    CHECK(s.requests == 3);
    CHECK_STR(f.answer.data, "{\"accepted\":1,\"rejected\":[]}");
    fix_close(&f);
    srv_stop(&s);
}

static void test_503_gives_up(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_script);
    for (int i = 0; i < 64; i++)
        s.script[i] = 503;
    s.nscript = 64;
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":1}]") == 503);
    CHECK(s.requests == SL_SEND_REMOTE_BUSY_TRIES);
    CHECK(f.retry == 1); /* the gateway's Retry-After, for the caller */
    fix_close(&f);
    srv_stop(&s);
}

static void test_refused(void)
{
    int port;
    int fd = listen_any(&port);
    close(fd); /* nobody listens there now */
    fix f;
    fix_open(&f, port, 0);
    CHECK(fix_submit(&f, "[{\"id\":1}]") == -1);
    CHECK_CONTAINS(f.answer.data, "cannot be reached");
    CHECK_CONTAINS(f.answer.data, "(5 tries)");
    fix_close(&f);
}

static void test_413_halves(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_small);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0}, {\"id\":1},{\"id\":2},\n{\"id\":\"bad\"},"
                         "{\"id\":4}]") == 200);
    CHECK_STR(f.answer.data, "{\"accepted\":4,\"rejected\":[{\"index\":3,"
              "\"field\":\"id\",\"error\":\"bad \\\"one\\\"\"}]}");
    /* 5 -> 413; 2 ok; 3 -> 413; 1 ok; 2 ok */
    CHECK(s.requests == 5);
    CHECK_STR(s.last_body, "[{\"id\":\"bad\"},{\"id\":4}]");
    fix_close(&f);
    srv_stop(&s);
}

static void test_413_single(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_413);
    fix_open(&f, s.port, 0);
    /* each record alone is too large: both rejected, nothing fails */
    CHECK(fix_submit(&f, "[{\"id\":0},{\"id\":1}]") == 422);
    CHECK_STR(f.answer.data, "{\"accepted\":0,\"rejected\":["
              "{\"index\":0,\"field\":\"\",\"error\":\"larger than the "
              "gateway's limits (413: body too large)\"},"
              "{\"index\":1,\"field\":\"\",\"error\":\"larger than the "
              "gateway's limits (413: body too large)\"}]}");
    CHECK(s.requests == 3); /* both, then each alone */
    fix_close(&f);
    srv_stop(&s);
}

static void test_malformed_answer(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_garbage);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0}]") == -1);
    CHECK_CONTAINS(f.answer.data, "not the intake's JSON");
    fix_close(&f);
    srv_stop(&s);
    srv_start(&s, answer_bad_index);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0},{\"id\":1}]") == -1);
    CHECK_CONTAINS(f.answer.data, "index is not one of the records");
    fix_close(&f);
    srv_stop(&s);
}

static void test_huge_answer(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_huge);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0}]") == -1);
    CHECK_CONTAINS(f.answer.data, "answered with more than");
    CHECK(s.requests == 1); /* not retried */
    fix_close(&f);
    srv_stop(&s);
}

static void test_final_4xx(void)
{
    srv s;
    fix f;
    srv_start(&s, answer_401);
    fix_open(&f, s.port, 1);
    CHECK(fix_submit(&f, "[{\"id\":0}]") == 401);
    CHECK_CONTAINS(f.answer.data, "(401): wrong intake key");
    CHECK_CONTAINS(f.answer.data, "accepts none of this configuration");
    CHECK(s.requests == 1);
    fix_close(&f);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0}]") == 401);
    CHECK_CONTAINS(f.answer.data, "has no intake_keys here");
    fix_close(&f);
    srv_stop(&s);
    srv_start(&s, answer_404);
    fix_open(&f, s.port, 0);
    CHECK(fix_submit(&f, "[{\"id\":0}]") == 404);
    CHECK_CONTAINS(f.answer.data, "refused the batch (404): no connector \\\"crm\\\"");
    fix_close(&f);
    srv_stop(&s);
}

static void test_not_an_array(void)
{
    fix f;
    fix_open(&f, 1, 0);
    CHECK(fix_submit(&f, "{\"id\":0}") == 400);
    CHECK_CONTAINS(f.answer.data, "must be a JSON array");
    CHECK(fix_submit(&f, "[{\"id\":0},") == 400);
    fix_close(&f);
}

/* sl_send_merge on its own: hostile answers. */
static void test_answer_parse(void)
{
    static const char *bad[] = {
        "", "[]", "{}", "{\"accepted\":1}", "{\"rejected\":[]}",
        "{\"accepted\":-1,\"rejected\":[]}",
        "{\"accepted\":1.5,\"rejected\":[]}",
        "{\"accepted\":1,\"rejected\":{}}",
        "{\"accepted\":1,\"rejected\":[1]}",
        "{\"accepted\":1,\"rejected\":[{\"field\":\"a\"}]}",
        "{\"accepted\":0,\"rejected\":[{\"index\":\"0\"}]}",
        "{\"accepted\":5,\"rejected\":[]}",
        "{\"accepted\":1,\"rejected\":[]} x",
        "{\"accepted\":1,\"rejected\":[],\"rejected_truncated\":1}",
        NULL};
    for (int i = 0; bad[i]; i++) {
        sl_send_merge a;
        char err[256];
        sl_send_merge_init(&a, 1 << 20, false);
        CHECK(sl_send_merge_add(&a, bad[i], strlen(bad[i]), 0, 2, err,
                                 sizeof err) == -1);
        CHECK_CONTAINS(err, "not the intake's JSON");
        sl_send_merge_free(&a);
    }
    sl_send_merge a;
    sl_buf out;
    char err[256];
    sl_send_merge_init(&a, 1 << 20, false);
    sl_buf_init(&out, 0);
    const char *one = "{\"accepted\":1,\"dropped\":1,\"rejected\":[{\"error\":"
                      "\"e\",\"index\":1,\"x\":{\"y\":[1]}}],\"later\":[1]}";
    const char *two = "{\"accepted\":0,\"rejected\":[{\"index\":0}],"
                      "\"rejected_total\":3,\"rejected_truncated\":true}";
    CHECK(sl_send_merge_add(&a, one, strlen(one), 0, 3, err, sizeof err) == 0);
    CHECK(sl_send_merge_add(&a, two, strlen(two), 3, 3, err, sizeof err) == 0);
    CHECK(sl_send_merge_write(&a, &out) == 200);
    CHECK_STR(sl_buf_cstr(&out), "{\"accepted\":1,\"dropped\":1,\"rejected\":["
              "{\"error\":\"e\",\"index\":1,\"x\":{\"y\":[1]}},{\"index\":3}],"
              "\"rejected_total\":4,\"rejected_truncated\":true}");
    sl_send_merge_free(&a);
    sl_buf_free(&out);

    /* a transform's outputs: more accepted (and rejected) than sent */
    const char *fan = "{\"accepted\":5,\"rejected\":[{\"index\":1},"
                      "{\"index\":1}]}";
    sl_send_merge_init(&a, 1 << 20, false);
    CHECK(sl_send_merge_add(&a, fan, strlen(fan), 0, 2, err, sizeof err) ==
          -1);
    CHECK_CONTAINS(err, "exceed");
    sl_send_merge_free(&a);
    sl_send_merge_init(&a, 1 << 20, true);
    sl_buf_init(&out, 0);
    CHECK(sl_send_merge_add(&a, fan, strlen(fan), 4, 2, err, sizeof err) == 0);
    CHECK(sl_send_merge_write(&a, &out) == 200);
    CHECK_STR(sl_buf_cstr(&out), "{\"accepted\":5,\"rejected\":[{\"index\":5},"
              "{\"index\":5}]}");
    /* an index past the post's records is refused all the same */
    const char *past = "{\"accepted\":1,\"rejected\":[{\"index\":2}]}";
    CHECK(sl_send_merge_add(&a, past, strlen(past), 0, 2, err, sizeof err) ==
          -1);
    sl_send_merge_free(&a);
    sl_buf_free(&out);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const sl_test_case cases[] = {
        {"url", test_url},
        {"ok_keepalive_key", test_ok_keepalive_key},
        {"422", test_422},
        {"503_then_200", test_503_then_200},
        {"503_gives_up", test_503_gives_up},
        {"refused", test_refused},
        {"413_halves", test_413_halves},
        {"413_single", test_413_single},
        {"malformed_answer", test_malformed_answer},
        {"huge_answer", test_huge_answer},
        {"final_4xx", test_final_4xx},
        {"not_an_array", test_not_an_array},
        {"answer_parse", test_answer_parse},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    curl_global_cleanup();
    return rc;
}
