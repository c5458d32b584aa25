/* sl_sink: a printing HTTP destination. */
#include "sl_sink.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "sl_json.h"

typedef struct sink {
    const sl_sink_opts *opts;
    unsigned long seq;
    unsigned long long records;
} sink;

size_t sl_sink_count_records(const char *body, size_t len, int ndjson)
{
    if (len == 0)
        return 0;
    if (ndjson) {
        size_t n = 0;
        const char *p = body, *end = body + len;
        while (p < end) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            for (const char *q = p; q < le; q++)
                if (*q != ' ' && *q != '\t' && *q != '\r') {
                    n++;
                    break;
                }
            p = nl ? nl + 1 : end;
        }
        return n;
    }
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, body, len, 0);
    if (sl_json_next(&js, &t) != SL_JSON_ARRAY_BEGIN)
        return 1;
    size_t n = 0;
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_ARRAY_END || ty == SL_JSON_ERROR || ty == SL_JSON_END)
            break;
        if (sl_json_skip(&js, &t) != 0)
            break;
        n++;
    }
    return n;
}

static const char *method_name(enum evhttp_cmd_type c)
{
    switch (c) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    case EVHTTP_REQ_TRACE: return "TRACE";
    case EVHTTP_REQ_CONNECT: return "CONNECT";
    case EVHTTP_REQ_PATCH: return "PATCH";
    default: return "?";
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    sink *s = arg;
    FILE *out = s->opts->out;
    struct evkeyvalq *hdrs = evhttp_request_get_input_headers(req);
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
    const char *ct = evhttp_find_header(hdrs, "Content-Type");
    int ndjson = ct && strncasecmp(ct, "application/x-ndjson", 20) == 0;
    size_t nrec = body ? sl_sink_count_records(body, len, ndjson) : 0;
    s->seq++;
    s->records += nrec;
    fprintf(out, "#%lu %s %s  %zu record%s, %zu bytes  (total %llu records)\n",
            s->seq, method_name(evhttp_request_get_command(req)),
            evhttp_request_get_uri(req), nrec, nrec == 1 ? "" : "s", len,
            s->records);
    for (struct evkeyval *h = hdrs->tqh_first; h; h = h->next.tqe_next)
        fprintf(out, "    %s: %s\n", h->key, h->value);
    if (s->opts->show_body && len && body) {
        size_t show = len > 4096 ? 4096 : len;
        fprintf(out, "    body: %.*s%s\n", (int)show, body,
                show < len ? " ..." : "");
    }
    fflush(out);
    struct evbuffer *ob = evhttp_request_get_output_buffer(req);
    evbuffer_add_printf(ob, "{\"received\":%zu}\n", nrec);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "application/json");
    evhttp_send_reply(req, s->opts->status, s->opts->status < 300 ? "OK" : "Error",
                      NULL);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

int sl_sink_run(const sl_sink_opts *opts)
{
    int rc = 1;
    sink s = {.opts = opts};
    struct event *sigint = NULL, *sigterm = NULL;
    struct evhttp *http = NULL;
    struct event_base *base = event_base_new();
    if (!base) {
        fprintf(stderr, "sluice sink: cannot create the event loop\n");
        return 1;
    }
    if (!(http = evhttp_new(base)))
        goto out;
    evhttp_set_max_body_size(http, 256 * 1024 * 1024);
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
                                         EVHTTP_REQ_PUT | EVHTTP_REQ_PATCH |
                                         EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(http, on_request, &s);
    if (!evhttp_bind_socket_with_handle(http, opts->host,
                                        (ev_uint16_t)opts->port)) {
        fprintf(stderr, "sluice sink: cannot listen on %s:%d: %s\n", opts->host,
                opts->port, strerror(errno));
        goto out;
    }
    sigint = evsignal_new(base, SIGINT, on_signal, base);
    sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    if (!sigint || !sigterm || evsignal_add(sigint, NULL) != 0 ||
        evsignal_add(sigterm, NULL) != 0)
        goto out;
    fprintf(opts->out, "sluice sink: listening on %s:%d, answering %d\n",
            opts->host, opts->port, opts->status);
    fflush(opts->out);
    event_base_dispatch(base);
    fprintf(opts->out, "sluice sink: %lu requests, %llu records\n", s.seq,
            s.records);
    rc = 0;
out:
    if (sigint)
        event_free(sigint);
    if (sigterm)
        event_free(sigterm);
    if (http)
        evhttp_free(http);
    event_base_free(base);
    return rc;
}
