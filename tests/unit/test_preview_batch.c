/* Unit tests for sl_preview_batch: records cut into the batches delivery
 * cuts (max records, max bytes, one per request for body "object"; body
 * templates with each request's $count and $batch_id), each
 * request numbered with its records; a per-record URL filled, and a
 * record whose value cannot fill it reported as not made; gzip sizes;
 * headers_fn run on a real loop with req.preview = true, its error
 * reported with the request (the body still shown). Connectors are
 * loaded from files as the gateway loads them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "sl_config_load.h"
#include "sl_http_client.h"
#include "sl_luaruntime.h"
#include "sl_luastd.h"
#include "sl_preview_batch.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char dir[128];

/* The connector "c" of a file with `keys` (Lua table members). */
static sl_config *load(const char *keys)
{
    char text[4096], path[256];
    snprintf(text, sizeof text, "return {\n  name = 'c',\n"
             "  schema = { { name = 'id', type = 'string' } },\n%s}\n", keys);
    snprintf(path, sizeof path, "%s/c.lua", dir);
    sl_test_put_file(path, text, strlen(text));
    snprintf(path, sizeof path, "%s/sluice.lua", dir);
    const char *gw = "return { listen = '127.0.0.1:8080', state_dir = 'var', "
                     "connectors = { 'c.lua' } }\n";
    sl_test_put_file(path, gw, strlen(gw));
    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *cfg = sl_config_load(path, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "load: %s\n", errs.msgs[i]);
    sl_config_errors_free(&errs);
    CHECK(cfg != NULL && cfg->nconnectors == 1);
    return cfg;
}

/* What the callback saw: each request as one line of text. */
typedef struct seen {
    size_t n;
    char lines[8][4096];
} seen;

static void on_req(void *ud, const sl_preview_batch_req *r)
{
    seen *s = ud;
    if (s->n >= 8)
        return;
    char *o = s->lines[s->n++];
    size_t cap = sizeof s->lines[0];
    int len = snprintf(o, cap, "%zu/%zu [%zu+%zu] %s %s |", r->k, r->m,
                       r->first, r->n, r->method, r->url ? r->url : "-");
    for (const struct curl_slist *h = r->headers; h; h = h->next)
        len += snprintf(o + len, cap - (size_t)len, " %s;", h->data);
    snprintf(o + len, cap - (size_t)len, " | %.*s | %zu %zu | %s",
             (int)r->body_len, r->body, r->body_len, r->wire_len,
             r->err ? r->err : "ok");
}

static const char *const RECS[] = {"{\"id\":\"a\"}", "{\"id\":\"bb\"}",
                                   "{\"id\":\"c/d\"}", "{\"id\":\"\"}",
                                   "{\"id\":\"e\"}"};
static const size_t LENS[] = {10, 11, 12, 9, 10};

static void test_batches_by_records_and_bytes(void)
{
    sl_config *cfg = load("  url = 'http://h/in',\n"
                          "  idempotency_header = false,\n"
                          "  batch = { max_records = 2 },\n");
    if (!cfg)
        return;
    seen s = {0};
    char why[128];
    CHECK(sl_preview_batch_run(&cfg->connectors[0], RECS, LENS, 5, NULL, NULL,
                               on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 3);
    CHECK_STR(s.lines[0], "1/3 [0+2] POST http://h/in | Content-Type: "
              "application/json; Expect:; | [{\"id\":\"a\"},{\"id\":\"bb\"}] "
              "| 24 24 | ok");
    CHECK_CONTAINS(s.lines[1], "2/3 [2+2] POST");
    CHECK_CONTAINS(s.lines[2], "3/3 [4+1] POST");
    CHECK_CONTAINS(s.lines[2], "| [{\"id\":\"e\"}] | 12 12 | ok");
    sl_config_free(cfg);

    /* 1024 bytes a body: two records of 600 do not fit, 600 and 400 do */
    static char big[3][601];
    const char *recs[3] = {big[0], big[1], big[2]};
    size_t lens[3] = {600, 600, 400};
    for (int i = 0; i < 3; i++) {
        memset(big[i], 'x', 600);
        memcpy(big[i], "{\"id\":\"", 7);
        memcpy(big[i] + lens[i] - 2, "\"}", 2);
    }
    cfg = load("  url = 'http://h/in',\n"
               "  batch = { max_records = 10, max_bytes = 1024 },\n");
    if (!cfg)
        return;
    memset(&s, 0, sizeof s);
    CHECK(sl_preview_batch_run(&cfg->connectors[0], recs, lens, 3, NULL, NULL,
                               on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 2);
    CHECK_CONTAINS(s.lines[0], "1/2 [0+1]");
    CHECK_CONTAINS(s.lines[0], "Idempotency-Key: c-0000000000000000-0-1;");
    CHECK_CONTAINS(s.lines[1], "2/2 [1+2]");
    CHECK_CONTAINS(s.lines[1], "| 1003 1003 | ok");
    sl_config_free(cfg);
}

static void test_per_record_url_and_gzip(void)
{
    sl_config *cfg = load("  url = 'http://h/u/{id}',\n  method = 'PUT',\n"
                          "  body = 'object',\n  compression = 'gzip',\n"
                          "  idempotency_header = false,\n"
                          "  headers = { ['X-Id'] = '{id}' },\n");
    if (!cfg)
        return;
    seen s = {0};
    char why[128];
    CHECK(sl_preview_batch_run(&cfg->connectors[0], RECS, LENS, 5, NULL, NULL,
                               on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 5);
    CHECK_STR(s.lines[2], "3/5 [2+1] PUT http://h/u/c%2Fd | Content-Type: "
              "application/json; Content-Encoding: gzip; Expect:; "
              "X-Id: c/d; | {\"id\":\"c/d\"} | 12 32 | ok");
    /* an empty value cannot be a path segment: not made, body shown */
    CHECK_CONTAINS(s.lines[3], "4/5 [3+1] PUT - | | {\"id\":\"\"} | 9 ");
    CHECK_CONTAINS(s.lines[3], "empty");
    CHECK_CONTAINS(s.lines[4], "PUT http://h/u/e |");
    sl_config_free(cfg);
}

/* Body templates are the batch's: $count and $batch_id per request. */
static void test_templates(void)
{
    sl_config *cfg = load(
        "  url = 'http://h/in',\n  batch = { max_records = 3 },\n"
        "  body = { form = 'array', template = "
        "'{\"n\": $count, \"id\": $batch_id, \"data\": $records}',\n"
        "           record_template = '{\"p\": $record}' },\n");
    if (!cfg)
        return;
    seen s = {0};
    char why[128];
    CHECK(sl_preview_batch_run(&cfg->connectors[0], RECS, LENS, 4, NULL, NULL,
                               on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 2);
    CHECK_CONTAINS(s.lines[0], "| {\"n\":3,\"id\":\"c-0000000000000000-0-3\","
                   "\"data\":[{\"p\":{\"id\":\"a\"}},{\"p\":{\"id\":\"bb\"}},"
                   "{\"p\":{\"id\":\"c/d\"}}]} |");
    CHECK_CONTAINS(s.lines[1], "| {\"n\":1,\"id\":\"c-0000000000000000-0-1\","
                   "\"data\":[{\"p\":{\"id\":\"\"}}]} |");
    sl_config_free(cfg);
}

typedef struct lua_world {
    struct event_base *base;
    sl_http_client *http;
    sl_luaruntime *rt;
} lua_world;

static int world_open(lua_world *w, const sl_connector_conf *c)
{
    char err[256];
    w->base = event_base_new();
    w->http = w->base ? sl_http_client_new(w->base, err, sizeof err) : NULL;
    w->rt = w->http ? sl_luaruntime_new(c->L, w->base, w->http, 0, err,
                                        sizeof err)
                    : NULL;
    CHECK(w->rt && sl_luastd_open_loop(c->L, err, sizeof err) == 0);
    return w->rt ? 0 : -1;
}

static void world_close(lua_world *w)
{
    sl_http_client_free(w->http);
    sl_luaruntime_free(w->rt);
    if (w->base)
        event_base_free(w->base);
}

static void test_headers_fn(void)
{
    sl_config *cfg = load(
        "  url = 'http://h/in',\n  idempotency_header = false,\n"
        "  batch = { max_records = 3 },\n"
        "  headers = { Authorization = 'Bearer s' },\n"
        "  headers_fn = function(req)\n"
        "    if req.records == 2 then error('two: ' .. req.body) end\n"
        "    sluice.sleep(1)\n"
        "    return { ['X-Preview'] = tostring(req.preview),\n"
        "             ['X-N'] = req.records, Authorization = false }\n"
        "  end,\n");
    lua_world w = {0};
    if (!cfg || world_open(&w, &cfg->connectors[0]) != 0)
        goto out;
    seen s = {0};
    char why[128];
    CHECK(sl_preview_batch_run(&cfg->connectors[0], RECS, LENS, 5, w.base,
                               w.rt, on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 2);
    CHECK_CONTAINS(s.lines[0], "1/2 [0+3] POST http://h/in |");
    CHECK_CONTAINS(s.lines[0], " X-Preview: true;");
    CHECK_CONTAINS(s.lines[0], " X-N: 3;");
    CHECK(strstr(s.lines[0], "Authorization") == NULL);
    CHECK_CONTAINS(s.lines[0], "| ok");
    CHECK_CONTAINS(s.lines[1], "2/2 [3+2] POST http://h/in | | ");
    CHECK_CONTAINS(s.lines[1], "headers_fn: ");
    CHECK_CONTAINS(s.lines[1], "c.lua:9: two: [{\"id\":\"\"},{\"id\":\"e\"}]");
out:
    world_close(&w);
    sl_config_free(cfg);
}

static void test_nothing(void)
{
    sl_config *cfg = load("  url = 'http://h/in',\n");
    if (!cfg)
        return;
    seen s = {0};
    char why[128];
    CHECK(sl_preview_batch_run(&cfg->connectors[0], RECS, LENS, 0, NULL, NULL,
                               on_req, &s, why, sizeof why) == 0);
    CHECK(s.n == 0);
    sl_config_free(cfg);
}

int main(void)
{
    sl_test_dir_fresh(dir, sizeof dir, "preview-batch");
    static const sl_test_case cases[] = {
        {"batches_by_records_and_bytes", test_batches_by_records_and_bytes},
        {"per_record_url_and_gzip", test_per_record_url_and_gzip},
        {"templates", test_templates},
        {"headers_fn", test_headers_fn},
        {"nothing", test_nothing},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
