/* Unit tests for sl_http_client's body cap: a request's max_body keeps
 * at most that many bytes of the answer and says the rest was cut
 * (`truncated`); 0 keeps SL_HTTP_CLIENT_BODY_KEEP as before; a body of
 * exactly the cap is whole. Against a destination in the same loop
 * (libevent's evhttp on 127.0.0.1). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "sl_http_client.h"
#include "sl_test.h"

typedef struct answer {
    int done;
    long status;
    size_t len;
    int truncated;
    int intact;          /* the bytes kept are the body's first bytes */
} answer;

/* GET /<n>: n bytes of a repeating pattern. */
static void on_request(struct evhttp_request *req, void *arg)
{
    (void)arg;
    size_t n = strtoul(evhttp_request_get_uri(req) + 1, NULL, 10);
    struct evbuffer *out = evbuffer_new();
    char chunk[4096];
    for (size_t i = 0; i < sizeof chunk; i++)
        chunk[i] = (char)('a' + i % 26);
    for (size_t left = n; left > 0;) {
        size_t k = left < sizeof chunk ? left : sizeof chunk;
        evbuffer_add(out, chunk, k);
        left -= k;
    }
    evhttp_send_reply(req, 200, "OK", out);
    evbuffer_free(out);
}

static void on_done(void *ud, const sl_http_client_response *res)
{
    answer *a = ud;
    a->done = 1;
    a->status = res->status;
    a->len = res->body_len;
    a->truncated = res->truncated;
    a->intact = 1;
    for (size_t i = 0; i < res->body_len; i++)
        if (res->body[i] != (char)('a' + (i % 4096) % 26))
            a->intact = 0;
}

typedef struct world {
    struct event_base *base;
    struct evhttp *http;
    int port;
    sl_http_client *client;
} world;

static int world_open(world *w)
{
    memset(w, 0, sizeof *w);
    char err[256];
    w->base = event_base_new();
    w->http = evhttp_new(w->base);
    struct evhttp_bound_socket *s =
        evhttp_bind_socket_with_handle(w->http, "127.0.0.1", 0);
    if (!s)
        return -1;
    struct sockaddr_in sin;
    socklen_t slen = sizeof sin;
    getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&sin,
                &slen);
    w->port = ntohs(sin.sin_port);
    evhttp_set_gencb(w->http, on_request, NULL);
    w->client = sl_http_client_new(w->base, err, sizeof err);
    return w->client ? 0 : -1;
}

static void world_close(world *w)
{
    sl_http_client_free(w->client);
    if (w->http)
        evhttp_free(w->http);
    event_base_free(w->base);
}

/* GET n bytes keeping at most max_body: the answer. */
static answer get(world *w, size_t n, size_t max_body)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/%zu", w->port, n);
    sl_http_client_request req = {.method = "GET", .url = url,
                                  .timeout_ms = 5000, .max_body = max_body};
    answer a = {0};
    CHECK(sl_http_client_send(w->client, &req, on_done, &a) == 0);
    for (int i = 0; i < 5000 && !a.done; i++)
        event_base_loop(w->base, EVLOOP_ONCE);
    CHECK(a.done && a.status == 200);
    return a;
}

static void test_body_cap(void)
{
    world w;
    CHECK(world_open(&w) == 0);
    answer a = get(&w, 5000, 1024);
    CHECK(a.len == 1024 && a.truncated && a.intact);
    a = get(&w, 1024, 1024); /* exactly the cap: whole */
    CHECK(a.len == 1024 && !a.truncated && a.intact);
    a = get(&w, 10, 1024);
    CHECK(a.len == 10 && !a.truncated && a.intact);
    a = get(&w, 0, 1024);
    CHECK(a.len == 0 && !a.truncated);
    /* the default is what it always was */
    a = get(&w, 100000, 0);
    CHECK(a.len == SL_HTTP_CLIENT_BODY_KEEP && a.truncated && a.intact);
    a = get(&w, SL_HTTP_CLIENT_BODY_KEEP, 0);
    CHECK(a.len == SL_HTTP_CLIENT_BODY_KEEP && !a.truncated);
    /* larger than the default, for response_fn */
    a = get(&w, 3 << 20, 2 << 20);
    CHECK(a.len == 2 << 20 && a.truncated && a.intact);
    /* a pooled handle does not keep the last request's cap */
    a = get(&w, 100000, 0);
    CHECK(a.len == SL_HTTP_CLIENT_BODY_KEEP && a.truncated);
    world_close(&w);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"body_cap", test_body_cap},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
