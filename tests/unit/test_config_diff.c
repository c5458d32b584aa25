/* Unit tests for sl_config_diff: each key group of a connector and of the
 * gateway reported by name when it differs, nothing when two loads of the
 * same files are compared, secrets compared but never written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_config_diff.h"
#include "sl_config_load.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char dir[128];

static const char *BASE =
    "  url = 'http://127.0.0.1:9/in',\n"
    "  schema = { { name = 'id', type = 'integer' },\n"
    "             { name = 'email', type = 'string' } },\n";

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

/* The configuration of a gateway file with `gw_extra` and one connector
 * "crm" with BASE and `extra` keys. */
static sl_config *load(const char *gw_extra, const char *extra)
{
    char text[4096], path[256];
    snprintf(text, sizeof text, "return {\n  name = 'crm',\n%s%s}\n", BASE,
             extra);
    put("crm.lua", text);
    snprintf(text, sizeof text, "return {\n  listen = '127.0.0.1:8080',\n"
             "  state_dir = 'var',\n  connectors = { 'crm.lua' },\n%s}\n",
             gw_extra);
    put("sluice.lua", text);
    snprintf(path, sizeof path, "%s/sluice.lua", dir);
    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *c = sl_config_load(path, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "load: %s\n", errs.msgs[i]);
    sl_config_errors_free(&errs);
    CHECK(c != NULL);
    return c;
}

/* The groups connector crm differs in between BASE+a and BASE+b. */
static const char *groups(const char *a, const char *b, int *n)
{
    static char out[1024];
    sl_config *x = load("", a), *y = load("", b);
    out[0] = '\0';
    *n = -2;
    if (x && y) {
        sl_buf buf;
        sl_buf_init(&buf, 4096);
        *n = sl_config_diff_connector(&x->connectors[0], &y->connectors[0],
                                      &buf);
        snprintf(out, sizeof out, "%s", buf.len ? sl_buf_cstr(&buf) : "");
        sl_buf_free(&buf);
    }
    sl_config_free(x);
    sl_config_free(y);
    return out;
}

static void test_same_files_no_difference(void)
{
    int n;
    CHECK_STR(groups("  headers = { ['X-A'] = '1' },\n",
                     "  headers = { ['X-A'] = '1' },\n", &n), "");
    CHECK(n == 0);
}

static void test_each_group_named(void)
{
    static const struct {
        const char *a, *b, *want;
    } cases[] = {
        {"", "  headers = { ['X-A'] = '1' },\n", "headers"},
        {"  headers = { ['X-A'] = '1' },\n", "  headers = { ['X-A'] = '2' },\n",
         "headers"},
        {"", "  method = 'PUT',\n", "method"},
        {"", "  batch = { max_records = 7 },\n", "batch"},
        {"", "  timeout_ms = 1234,\n", "timeout"},
        {"", "  concurrency = 2,\n", "concurrency"},
        {"", "  retry = { base_ms = 5 },\n", "retry"},
        {"", "  rate_limit = { requests_per_s = 3 },\n", "rate_limit"},
        {"", "  ordered = true,\n", "ordered"},
        {"", "  durability = 'memory',\n", "durability"},
        {"", "  intake_keys = { 'secret-key-1234567890' },\n", "intake_keys"},
        {"", "  limits = { fields = 10 },\n", "limits"},
        {"", "  body = 'ndjson',\n", "body"},
        {"", "  transform = function(r) return r end,\n", "lua"},
        {"", "  unknown_fields = 'drop',\n", "schema"},
        {"  transform = function(r) return r end,\n",
         "  transform = function(r) r.x = nil; return r end,\n", "file"},
        {"", "-- a comment\n", "file"},
        {"", "  headers = { ['X-A'] = '1' },\n  batch = { max_records = 7 },\n",
         "headers, batch"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n;
        const char *got = groups(cases[i].a, cases[i].b, &n);
        if (strcmp(got, cases[i].want) != 0)
            fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, got,
                    cases[i].want);
        CHECK_STR(got, cases[i].want);
        CHECK(n == (strchr(cases[i].want, ',') ? 2 : 1));
        /* a secret is compared, never written */
        CHECK(strstr(got, "secret") == NULL);
    }
}

static void test_schema_difference(void)
{
    sl_config *x = load("", ""), *y = load("", "");
    CHECK(x && y);
    if (!x || !y)
        goto done;
    CHECK(sl_config_diff_schema(&x->connectors[0], &y->connectors[0]) == 0);
    sl_config_free(y);
    y = load("", "  unknown_fields = 'drop',\n");
    CHECK(y && sl_config_diff_schema(&x->connectors[0], &y->connectors[0]) == 1);
done:
    sl_config_free(x);
    sl_config_free(y);
}

static void test_gateway_groups(void)
{
    sl_config *x = load("", ""), *y = load("  max_body_bytes = 4096,\n", "");
    sl_buf buf;
    sl_buf_init(&buf, 4096);
    CHECK(x && y);
    if (x && y) {
        CHECK(sl_config_diff_gateway(x, x, &buf) == 0);
        CHECK(sl_config_diff_gateway(x, y, &buf) == 1);
        CHECK_STR(sl_buf_cstr(&buf), "limits");
    }
    sl_config_free(y);
    y = load("  tcp = { { listen = '127.0.0.1:9999', connector = 'crm' } },\n",
             "");
    sl_buf_reset(&buf);
    if (x && y) {
        CHECK(sl_config_diff_gateway(x, y, &buf) == 1);
        CHECK_STR(sl_buf_cstr(&buf), "tcp");
    }
    sl_buf_free(&buf);
    sl_config_free(x);
    sl_config_free(y);
}

static void test_full_buffer(void)
{
    sl_config *x = load("", ""), *y = load("", "  method = 'PUT',\n");
    sl_buf tiny;
    sl_buf_init(&tiny, 2); /* "method" does not fit */
    if (x && y)
        CHECK(sl_config_diff_connector(&x->connectors[0], &y->connectors[0],
                                       &tiny) == -1);
    sl_buf_free(&tiny);
    sl_config_free(x);
    sl_config_free(y);
}

int main(void)
{
    sl_test_dir_fresh(dir, sizeof dir, "config-diff");
    static const sl_test_case cases[] = {
        {"same_files_no_difference", test_same_files_no_difference},
        {"each_group_named", test_each_group_named},
        {"schema_difference", test_schema_difference},
        {"gateway_groups", test_gateway_groups},
        {"full_buffer", test_full_buffer},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
