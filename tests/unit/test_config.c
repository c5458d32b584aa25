/* Unit tests for sl_config (gateway and connector files, tcp listeners,
 * every error class with its file:line message, the Lua functions and
 * limits a connector keeps) and sl_luasrc (key lines). Fixtures live in
 * tests/unit/data/config/. The sandbox itself is in test_luahost.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config.h"
#include "sl_config_load.h"
#include "sl_config_print.h"
#include "sl_luahost.h"
#include "sl_luasrc.h"
#include "sl_test.h"

#define DATA SLUICE_TEST_DATA "/config/"

/* All messages, one per line, in one string (static; valid until the next
 * call). */
static const char *joined(const sl_config_errors *e)
{
    static char buf[16384];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n && n < sizeof buf; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s\n", e->msgs[i]);
    return buf;
}

/* Load a gateway file; messages are returned joined, *cfg gets the result. */
static const char *load_gateway(const char *path, sl_config **cfg)
{
    sl_config_errors e;
    sl_config_errors_init(&e);
    sl_config *c = sl_config_load(path, &e);
    const char *msgs = joined(&e);
    for (size_t i = 0; i < e.n; i++)
        CHECK(strchr(e.msgs[i], '\n') == NULL); /* one line each */
    CHECK((c == NULL) == (e.n > 0));
    sl_config_errors_free(&e);
    if (cfg)
        *cfg = c;
    else
        sl_config_free(c);
    return msgs;
}

/* Load one connector fixture through a temporary gateway file that names
 * it by absolute path. Returns the messages; the config is freed. */
static const char *load_connector(const char *fixture, sl_config **cfg)
{
    char dir[] = "/tmp/sl_test_config.XXXXXX", gw[64];
    static char msgs[16384];
    if (!mkdtemp(dir)) {
        CHECK(!"mkdtemp");
        return "";
    }
    snprintf(gw, sizeof gw, "%s/sluice.lua", dir);
    FILE *f = fopen(gw, "w");
    CHECK(f != NULL);
    if (!f)
        return "";
    fprintf(f, "return { connectors = { \"%s%s\" } }\n", DATA, fixture);
    fclose(f);
    snprintf(msgs, sizeof msgs, "%s", load_gateway(gw, cfg));
    unlink(gw);
    rmdir(dir);
    return msgs;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- loading what ships ----------------------------------------------- */

static void test_shipped_conf_loads(void)
{
    sl_config *c;
    setenv("CRM_TOKEN", "s3cr3t-from-env", 1);
    const char *msgs = load_gateway(SLUICE_SOURCE_DIR "/conf/sluice.lua", &c);
    unsetenv("CRM_TOKEN");
    CHECK_STR(msgs, "");
    CHECK(c != NULL);
    if (!c)
        return;
    CHECK_STR(c->listen, "127.0.0.1:8080");
    CHECK_STR(c->listen_host, "127.0.0.1");
    CHECK(c->listen_port == 8080);
    CHECK_STR(c->state_dir, SLUICE_SOURCE_DIR "/conf/var");
    CHECK(c->max_body_bytes == 8u << 20);
    CHECK(c->nconnectors == 8); /* + bulk_contacts, hubspot_contacts,
                                   oauth2_example, rest_users,
                                   saas_events, signed_webhooks */
    const sl_connector_conf *crm = sl_config_connector(c, "crm_contacts");
    CHECK(crm != NULL);
    if (crm) {
        CHECK_STR(crm->file, SLUICE_SOURCE_DIR "/conf/connectors/crm_contacts.lua");
        CHECK_STR(crm->url, "http://127.0.0.1:9000/v1/contacts");
        CHECK_STR(crm->method, "POST");
        CHECK(crm->body == SL_BODY_ARRAY);
        CHECK(crm->nheaders == 2);
        CHECK_STR(crm->headers[0].name, "Authorization"); /* name order */
        CHECK_STR(crm->headers[0].value, "Bearer s3cr3t-from-env");
        CHECK_STR(crm->headers[1].name, "X-Source");
        CHECK(sl_schema_nfields(crm->schema) == 7);
        CHECK_STR(sl_schema_field_name(crm->schema, 3), "amount");
        CHECK(sl_schema_field_type(crm->schema, 3) == SL_TYPE_NUMBER);
        CHECK(sl_schema_field_nullable(crm->schema, 3));
        CHECK(sl_schema_field_type(crm->schema, 5) == SL_TYPE_DATETIME);
        CHECK(sl_schema_field_type(crm->schema, 6) == SL_TYPE_DATE);
        CHECK(sl_schema_policy(crm->schema) == SL_UNKNOWN_REJECT);
        CHECK(crm->batch_max_records == 500);
        CHECK(crm->batch_max_bytes == 1048576);
        CHECK(crm->batch_max_delay_ms == 200);
    }
    CHECK(crm && !crm->body_template && !crm->record_template);
    const sl_connector_conf *hs = sl_config_connector(c, "hubspot_contacts");
    CHECK(hs != NULL);
    if (hs) {
        CHECK(hs->body == SL_BODY_ARRAY);
        CHECK(hs->body_template != NULL && hs->record_template != NULL);
        CHECK(hs->batch_max_records == 100);
    }
    const sl_connector_conf *ev = sl_config_connector(c, "events");
    CHECK(ev != NULL);
    if (ev) {
        CHECK_STR(ev->method, "POST"); /* written "post" */
        CHECK(ev->body == SL_BODY_NDJSON);
        CHECK(ev->concurrency == 1);
        CHECK(sl_schema_policy(ev->schema) == SL_UNKNOWN_DROP);
    }
    const sl_connector_conf *rest = sl_config_connector(c, "rest_users");
    CHECK(rest != NULL);
    if (rest) {
        CHECK_STR(rest->url, "https://api.example.com/v1/users/{id}");
        CHECK(rest->body == SL_BODY_OBJECT);
        CHECK(rest->url_tpl != NULL);
        CHECK(rest->nheaders == 2 && rest->header_tpls &&
              rest->header_tpls[0] == NULL && rest->header_tpls[1] != NULL);
        CHECK(rest->record_tpls && rest->record_tpls[0] == rest->url_tpl &&
              rest->record_tpls[1] && !rest->record_tpls[2]);
    }
    CHECK(crm == NULL || (crm->url_tpl == NULL && crm->record_tpls == NULL &&
                          crm->header_tpls == NULL));
    CHECK(sl_config_connector(c, "nope") == NULL);
    CHECK(c->ntcp == 1);
    if (c->ntcp == 1) {
        CHECK_STR(c->tcp[0].listen, "127.0.0.1:5170");
        CHECK_STR(c->tcp[0].connector, "events");
    }
    sl_config_free(c);
}

static void test_shipped_conf_default_token(void)
{
    sl_config *c;
    unsetenv("CRM_TOKEN");
    CHECK_STR(load_gateway(SLUICE_SOURCE_DIR "/conf/sluice.lua", &c), "");
    const sl_connector_conf *crm = sl_config_connector(c, "crm_contacts");
    CHECK(crm && crm->nheaders == 2);
    if (crm && crm->nheaders == 2)
        CHECK_STR(crm->headers[0].value, "Bearer demo-token");
    sl_config_free(c);
}

static void test_print(void)
{
    sl_config *c;
    char *out = NULL;
    size_t len = 0;
    setenv("CRM_TOKEN", "s3cr3t-from-env", 1);
    load_gateway(SLUICE_SOURCE_DIR "/conf/sluice.lua", &c);
    unsetenv("CRM_TOKEN");
    if (!c)
        return;
    FILE *f = open_memstream(&out, &len);
    sl_config_print(c, f);
    fclose(f);
    CHECK_CONTAINS(out, "connector crm_contacts (");
    CHECK_CONTAINS(out, "POST http://127.0.0.1:9000/v1/contacts");
    CHECK_CONTAINS(out, "array (Content-Type: application/json)");
    CHECK_CONTAINS(out, "ndjson (Content-Type: application/x-ndjson)");
    CHECK_CONTAINS(out, "    Authorization: ****\n");
    CHECK_CONTAINS(out, "    X-Source: sluice\n");
    CHECK(strstr(out, "s3cr3t") == NULL);
    CHECK_CONTAINS(out, "max 500 records, max 1048576 bytes, max delay 200 ms");
    CHECK_CONTAINS(out, "    field       type      nullable\n"
                        "    id          integer   no\n");
    CHECK_CONTAINS(out, "    created_at  datetime  no\n"
                        "    birthday    date      yes\n");
    CHECK_CONTAINS(out, "    record_template {\"properties\":$record}\n"
                        "    template        {\"inputs\":$records}\n");
    CHECK_CONTAINS(out, "  response_fn     yes (responses.lua:");
    CHECK_CONTAINS(out, "  concurrency     adaptive (1 to 16)\n");
    CHECK_CONTAINS(out, "  connectors      8\n"
                        "  tcp 127.0.0.1:5170 -> events (ack off; allow "
                        "127.0.0.1, ::1; lines up to 1048576 bytes, whole "
                        "within 30 s; idle 60 s; 1024 connections)\n");
    free(out);
    sl_config_free(c);
    CHECK(sl_config_header_is_secret("X-Api-Key"));
    CHECK(sl_config_header_is_secret("x-auth-TOKEN"));
    CHECK(sl_config_header_is_secret("Cookie"));
    CHECK(!sl_config_header_is_secret("X-Source"));
}

static void test_defaults(void)
{
    sl_config *c;
    CHECK_STR(load_connector("ok_minimal.lua", &c), "");
    if (!c)
        return;
    const sl_connector_conf *k = &c->connectors[0];
    CHECK_STR(c->listen, "127.0.0.1:8080");
    CHECK(c->listen_port == 8080);
    CHECK(strncmp(c->state_dir, "/tmp/sl_test_config.", 20) == 0);
    CHECK(c->max_body_bytes == 8388608);
    CHECK_STR(k->name, "minimal");
    CHECK_STR(k->method, "POST");
    CHECK(k->body == SL_BODY_ARRAY);
    CHECK(k->compression == SL_COMPRESSION_NONE && k->compression_level == 6);
    CHECK(k->nheaders == 0);
    CHECK(k->batch_max_records == 500 && k->batch_max_bytes == 1048576 &&
          k->batch_max_delay_ms == 200);
    CHECK(k->timeout_ms == 10000 && k->concurrency == 4);
    CHECK(k->retry_base_ms == 200 && k->retry_max_ms == 30000);
    CHECK(k->queue_max_bytes == (size_t)64 << 20);
    CHECK(k->durability == 0 && k->on_permanent == SL_ON_PERMANENT_BISECT);
    CHECK(!k->ordered && k->retry_max_elapsed_s == 86400);
    CHECK(k->spool_max_bytes == (size_t)1 << 30 &&
          k->spool_segment_bytes == (size_t)64 << 20);
    CHECK(k->idempotency_header &&
          strcmp(k->idempotency_header, "Idempotency-Key") == 0);
    CHECK(k->limit_record_bytes == (size_t)1 << 20 &&
          k->limit_string_bytes == (size_t)256 << 10 &&
          k->limit_fields == 1024 && k->limit_depth == 32 &&
          k->limit_records == 100000);
    CHECK(c->max_header_bytes == 65536 && c->max_connections == 1024 &&
          c->idle_timeout_s == 60 && c->request_timeout_s == 30);
    CHECK(sl_schema_policy(k->schema) == SL_UNKNOWN_REJECT);
    CHECK(!sl_schema_field_nullable(k->schema, 0));
    CHECK(k->L != NULL); /* kept for every connector */
    CHECK(k->transform_ref == LUA_NOREF && k->headers_fn_ref == LUA_NOREF);
    CHECK(k->lua_max_instructions == 1000000);
    CHECK(k->lua_max_memory == (size_t)64 << 20);
    CHECK(c->ntcp == 0 && c->tcp == NULL);
    sl_config_free(c);
}

static void test_gateway_ok(void)
{
    sl_config *c;
    CHECK_STR(load_gateway(DATA "gw_ok.lua", &c), "");
    if (!c)
        return;
    CHECK_STR(c->listen_host, "::1");
    CHECK(c->listen_port == 9999);
    CHECK_STR(c->state_dir, "/var/lib/sluice");
    CHECK(c->nconnectors == 1); /* matched twice, loaded once */
    sl_config_free(c);
}

/* ---- one test per error class ------------------------------------------ */

static void test_err_typo(void)
{
    CHECK_CONTAINS(load_connector("bad_typo.lua", NULL),
                   "bad_typo.lua:8: hedaers: unknown key (did you mean "
                   "\"headers\"?)\n");
}

static void test_err_unknown_type(void)
{
    const char *m = load_connector("bad_type.lua", NULL);
    CHECK_CONTAINS(m, "bad_type.lua:7: schema[3].type: unknown type \"integr\" "
                      "(did you mean \"integer\"? valid: string, integer, "
                      "number, boolean, date, datetime, object, array, json)\n");
    CHECK_CONTAINS(m, "bad_type.lua:8: schema[4].type: unknown type "
                      "\"timestamp\" (valid: string, integer, number, "
                      "boolean, date, datetime, object, array, json)\n");
}

static void test_err_duplicate_field(void)
{
    CHECK_CONTAINS(load_connector("bad_dup_field.lua", NULL),
                   "bad_dup_field.lua:8: schema[4].name: duplicate field "
                   "\"email\"\n");
}

static void test_err_url(void)
{
    CHECK_CONTAINS(load_connector("bad_url_scheme.lua", NULL),
                   "bad_url_scheme.lua:3: url: unsupported scheme \"ftp\" "
                   "(use http:// or https://)\n");
    CHECK_CONTAINS(load_connector("bad_url_nohost.lua", NULL),
                   "bad_url_nohost.lua:3: url: missing host\n");
    CHECK_CONTAINS(load_connector("bad_url_port.lua", NULL),
                   "bad_url_port.lua:3: url: port 70000 out of range "
                   "(1-65535)\n");
}

static void test_err_method(void)
{
    CHECK_CONTAINS(load_connector("bad_method.lua", NULL),
                   "bad_method.lua:4: method: invalid value \"GET\" (valid: "
                   "POST, PUT, PATCH)\n");
}

static void test_err_missing(void)
{
    /* the line of the file's `return` */
    CHECK_CONTAINS(load_connector("bad_missing_name.lua", NULL),
                   "bad_missing_name.lua:2: name: missing (required)\n");
    CHECK_CONTAINS(load_connector("bad_missing_schema.lua", NULL),
                   "bad_missing_schema.lua:1: schema: missing (required)\n");
}

static void test_err_lua_type(void)
{
    const char *m = load_connector("bad_lua_type.lua", NULL);
    CHECK_CONTAINS(m, "bad_lua_type.lua:4: schema[1].nullable: expected a "
                      "boolean, got string \"yes\"\n");
    CHECK_CONTAINS(m, "bad_lua_type.lua:5: timeout_ms: expected an integer, "
                      "got string \"10s\"\n");
    CHECK_CONTAINS(m, "bad_lua_type.lua:6: batch.max_records: expected an "
                      "integer, got number 2.5\n");
    CHECK_CONTAINS(m, "bad_lua_type.lua:7: headers: expected a table of "
                      "name = value strings, got string");
    CHECK(count_lines(m) == 4);
}

static void test_err_syntax(void)
{
    CHECK_CONTAINS(load_connector("bad_syntax.lua", NULL),
                   "bad_syntax.lua:4: '}' expected (to close '{' at line 1) "
                   "near 'schema'\n");
}

static void test_err_env(void)
{
    unsetenv("SLUICE_TEST_SURELY_UNSET_VAR");
    CHECK_CONTAINS(load_connector("bad_env.lua", NULL),
                   "bad_env.lua:2: environment variable "
                   "SLUICE_TEST_SURELY_UNSET_VAR is not set\n");
}

static void test_err_batch_key(void)
{
    CHECK_CONTAINS(load_connector("bad_batch_key.lua", NULL),
                   "bad_batch_key.lua:7: batch.max_delay: unknown key (did "
                   "you mean \"max_delay_ms\"?)\n");
}

static void test_err_range(void)
{
    const char *m = load_connector("bad_range.lua", NULL);
    CHECK_CONTAINS(m, "bad_range.lua:5: batch.max_records: 0 is out of range "
                      "(1..100000)\n");
    CHECK_CONTAINS(m, "bad_range.lua:5: batch.max_bytes: 100 is out of range "
                      "(1024..67108864 bytes)\n");
    CHECK_CONTAINS(m, "bad_range.lua:6: concurrency: 65 is out of range "
                      "(1..64, or \"adaptive\")\n");
    CHECK_CONTAINS(m, "bad_range.lua:7: timeout_ms: 99 is out of range "
                      "(100..600000 ms)\n");
}

static void test_err_many_in_one_file(void)
{
    const char *m = load_connector("bad_many.lua", NULL);
    /* all of them, in line order */
    CHECK_CONTAINS(m, "bad_many.lua:3: name: invalid name \"many problems\"");
    CHECK_CONTAINS(m, ":3: name: invalid name \"many problems\" (letters, "
                      "digits, \"_\" and \"-\", not starting with a digit or "
                      "\"-\", at most 64 characters)\n"
                      DATA "bad_many.lua:5: methd: unknown key (did you mean "
                      "\"method\"?)\n"
                      DATA "bad_many.lua:7: schema[1].nulable: unknown key "
                      "(did you mean \"nullable\"?)\n"
                      DATA "bad_many.lua:8: schema[2].name: duplicate "
                      "field \"id\"\n"
                      DATA "bad_many.lua:9: schema[3].name: missing "
                      "(required)\n"
                      DATA "bad_many.lua:11: body: invalid value \"json\" "
                      "(did you mean \"ndjson\"? valid: array, object, "
                      "ndjson)\n"
                      DATA "bad_many.lua:13: headers[\"Content-Type\"]: set "
                      "by sluice; remove it\n"
                      DATA "bad_many.lua:14: headers[\"X-Bad\"]: header "
                      "values must not contain CR, LF or NUL\n");
    CHECK(count_lines(m) == 8);
}

static void test_err_duplicate_connector(void)
{
    CHECK_STR(load_gateway(DATA "gw_dup_names.lua", NULL),
              DATA "dup_name_b.lua:3: name: duplicate connector name "
              "\"same\" (also in " DATA "dup_name_a.lua)\n");
}

static void test_err_memory_cap(void)
{
    CHECK_STR(load_connector("bad_memory.lua", NULL),
              DATA "bad_memory.lua: memory limit of 32 MiB exceeded\n");
}

static void test_err_instruction_budget(void)
{
    CHECK_CONTAINS(load_connector("bad_loop.lua", NULL),
                   "bad_loop.lua:4: instruction limit exceeded\n");
}

static void test_err_no_os_execute_no_io(void)
{
    const char *pwned = "/tmp/sluice_test_config_pwned";
    unlink(pwned);
    CHECK_CONTAINS(load_connector("bad_os_execute.lua", NULL),
                   "bad_os_execute.lua:1: attempt to call a nil value "
                   "(field 'execute')\n");
    CHECK(access(pwned, F_OK) != 0); /* not executed */
    CHECK_CONTAINS(load_connector("bad_io_open.lua", NULL),
                   "bad_io_open.lua:1: attempt to index a nil value "
                   "(global 'io')\n");
}

static void test_err_not_a_table(void)
{
    CHECK_CONTAINS(load_connector("bad_not_table.lua", NULL),
                   "bad_not_table.lua:2: the file must return a table, got "
                   "string\n");
}

static void test_err_gateway(void)
{
    const char *m = load_gateway(DATA "gw_unknown_key.lua", NULL);
    CHECK_CONTAINS(m, "gw_unknown_key.lua:3: conectors: unknown key (did you "
                      "mean \"connectors\"?)\n");
    CHECK_CONTAINS(m, "gw_unknown_key.lua:4: max_body_bytes: 512 is out of "
                      "range (1024..1073741824 bytes)\n");
    /* the default pattern finds nothing next to the fixture */
    CHECK_CONTAINS(m, "gw_unknown_key.lua:1: connectors: no connector files "
                      "found (looked for \"connectors/*.lua\" in ");

    m = load_gateway(DATA "gw_nomatch.lua", NULL);
    CHECK_CONTAINS(m, "gw_nomatch.lua:2: listen: expected \"host:port\" or "
                      "\"[v6addr]:port\" with a port 1-65535, got "
                      "\"localhost\"\n");
    CHECK_CONTAINS(m, "gw_nomatch.lua:5: connectors[2]: no such file: " DATA
                      "no_such_file.lua\n");
    CHECK(strstr(m, "nothing_here") == NULL); /* a wildcard may match nothing */
    CHECK(count_lines(m) == 2);

    CHECK_CONTAINS(load_gateway(DATA "gw_empty_glob.lua", NULL),
                   "gw_empty_glob.lua:1: connectors: no connector files found "
                   "(looked for \"nothing_here/*.lua\" in ");
    CHECK_CONTAINS(load_gateway(DATA "does_not_exist.lua", NULL),
                   "does_not_exist.lua: cannot open: No such file or "
                   "directory\n");
}

/* ---- tcp listeners ------------------------------------------------------- */

static void test_tcp_ok(void)
{
    sl_config *c;
    char *out = NULL;
    size_t len = 0;
    CHECK_STR(load_gateway(DATA "gw_tcp_ok.lua", &c), "");
    if (!c)
        return;
    CHECK(c->ntcp == 3);
    if (c->ntcp != 3) {
        sl_config_free(c);
        return;
    }
    const sl_tcp_conf *t = &c->tcp[0]; /* every key */
    CHECK_STR(t->listen, "[::1]:5170");
    CHECK_STR(t->host, "::1");
    CHECK(t->port == 5170);
    CHECK_STR(t->connector, "minimal");
    CHECK(t->ack);
    CHECK(t->nallow == 5);
    if (t->nallow == 5) {
        CHECK_STR(t->allow[0], "10.0.0.0/8");
        CHECK_STR(t->allow[1], "192.168.1.7");
        CHECK_STR(t->allow[4], "0.0.0.0/0");
    }
    CHECK(t->max_line_bytes == 64 && t->idle_timeout_s == 86400 &&
          t->max_connections == 1);
    t = &c->tcp[1]; /* the defaults */
    CHECK_STR(t->host, "127.0.0.1");
    CHECK(t->port == 5171);
    CHECK(!t->ack);
    CHECK(t->nallow == 2);
    if (t->nallow == 2) {
        CHECK_STR(t->allow[0], "127.0.0.0/8");
        CHECK_STR(t->allow[1], "::1");
    }
    CHECK(t->max_line_bytes == 1048576 && t->idle_timeout_s == 60 &&
          t->line_timeout_s == 30 && t->max_connections == 1024);
    /* a wildcard on another port than the HTTP intake's is fine */
    CHECK_STR(c->tcp[2].host, "0.0.0.0");
    FILE *f = open_memstream(&out, &len);
    sl_config_print(c, f);
    fclose(f);
    CHECK_CONTAINS(out, "  connectors      1\n"
                        "  tcp [::1]:5170 -> minimal (ack on; allow "
                        "10.0.0.0/8, 192.168.1.7, ::1, fd00::/8, 0.0.0.0/0; "
                        "lines up to 64 bytes, whole within 5 s; idle 86400 "
                        "s; 1 connection)\n"
                        "  tcp 127.0.0.1:5171 -> minimal (ack off; allow "
                        "127.0.0.0/8, ::1; lines up to 1048576 bytes, whole "
                        "within 30 s; idle 60 s; 1024 connections)\n");
    free(out);
    sl_config_free(c);
}

static void test_err_tcp(void)
{
    /* every message in full: the gateway file's own problems in line
     * order, then the connectors that no file defines */
    CHECK_STR(load_gateway(DATA "gw_tcp_bad.lua", NULL),
              DATA "gw_tcp_bad.lua:7: tcp[2].listen: \"127.0.0.1:5170\" is "
              "already the address of tcp[1]\n"
              DATA "gw_tcp_bad.lua:8: tcp[3].listen: \"127.0.0.1:8080\" is "
              "the address of the HTTP intake (listen)\n"
              DATA "gw_tcp_bad.lua:9: tcp[4].listen: \"0.0.0.0:5170\" takes "
              "port 5170 on every address, also that of tcp[1] "
              "(\"127.0.0.1:5170\")\n"
              DATA "gw_tcp_bad.lua:10: tcp[5].listen: expected \"host:port\" "
              "or \"[v6addr]:port\" with a port 1-65535, got \"localhost\"\n"
              DATA "gw_tcp_bad.lua:11: tcp[6].listen: missing (required)\n"
              DATA "gw_tcp_bad.lua:12: tcp[7].connector: missing (required)\n"
              DATA "gw_tcp_bad.lua:14: tcp[8].allow[2]: \"10.0.0.0/33\" is "
              "not an address or CIDR block\n"
              DATA "gw_tcp_bad.lua:14: tcp[8].allow[3]: expected an address "
              "or CIDR block as a string, got number 10\n"
              DATA "gw_tcp_bad.lua:14: tcp[8].allow[4]: \"::1/129\" is not an "
              "address or CIDR block\n"
              DATA "gw_tcp_bad.lua:14: tcp[8].allow[5]: \"1.2.3.4/\" is not "
              "an address or CIDR block\n"
              DATA "gw_tcp_bad.lua:15: tcp[8].allow[6]: \"1.2.3.4/-1\" is not "
              "an address or CIDR block\n"
              DATA "gw_tcp_bad.lua:15: tcp[8].allow[7]: \" 1.2.3.4\" is not "
              "an address or CIDR block\n"
              DATA "gw_tcp_bad.lua:16: tcp[9].allow: list at least one "
              "address; leave allow out for loopback only\n"
              DATA "gw_tcp_bad.lua:17: tcp[10].ack: expected a boolean, got "
              "string \"yes\"\n"
              DATA "gw_tcp_bad.lua:18: tcp[10].max_line_bytes: 63 is out of "
              "range (64..67108864 bytes)\n"
              DATA "gw_tcp_bad.lua:18: tcp[10].idle_timeout_s: 0 is out of "
              "range (1..86400 s)\n"
              DATA "gw_tcp_bad.lua:18: tcp[10].max_connections: 65537 is out "
              "of range (1..65536)\n"
              DATA "gw_tcp_bad.lua:19: tcp[11].max_conections: unknown key "
              "(did you mean \"max_connections\"?)\n"
              DATA "gw_tcp_bad.lua:20: tcp[12].connector: invalid name \"bad "
              "name\" (letters, digits, \"_\" and \"-\", not starting with a "
              "digit or \"-\", at most 64 characters)\n"
              DATA "gw_tcp_bad.lua:20: tcp[12].listen: \"[::]:8080\" takes "
              "port 8080 on every address, also that of the HTTP intake "
              "(listen \"127.0.0.1:8080\")\n"
              DATA "gw_tcp_bad.lua:10: tcp[5].connector: unknown connector "
              "\"minmal\" (did you mean \"minimal\"? known: minimal)\n"
              DATA "gw_tcp_bad.lua:11: tcp[6].connector: unknown connector "
              "\"nosuch\" (known: minimal)\n");
}

static void test_err_tcp_hostile(void)
{
    const char *m = load_gateway(DATA "gw_tcp_hostile.lua", NULL);
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:5: tcp[1]: expected a table like "
                      "{ listen = \"127.0.0.1:5170\", connector = \"events\" "
                      "}, got string \"127.0.0.1:5170\"\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:7: tcp[2].max_line_bytes: expected "
                      "an integer, got number 1e+300\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:7: tcp[2].idle_timeout_s: "
                      "9223372036854775807 is out of range (1..86400 s)\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:8: tcp[2].max_connections: -1 is "
                      "out of range (1..65536)\n");
    /* 10,000 characters: cut to 60 in the message */
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:10: tcp[3].allow[1]: \"1111111111"
                      "11111111111111111111111111111111111111111111111111...\" "
                      "is not an address or CIDR block\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:10: tcp[3].allow[2]: \"1.2.3.4?/8\" "
                      "is not an address or CIDR block\n"); /* a NUL inside */
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:10: tcp[3].allow[3]: expected an "
                      "address or CIDR block as a string, got table\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:11: tcp[4].listen: expected "
                      "\"host:port\" or \"[v6addr]:port\" with a port "
                      "1-65535, got \"127.0.0.1:99999");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:11: tcp[4].connector: invalid name "
                      "\"cccc");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:12: tcp[5].allow: expected a list "
                      "like { \"127.0.0.1\", \"10.0.0.0/8\" }, found the key "
                      "string \"n\"\n");
    CHECK_CONTAINS(m, "gw_tcp_hostile.lua:12: tcp[5]: unexpected key (number "
                      "1); keys are names, as in listen = ...\n");
    CHECK(count_lines(m) == 11);
    CHECK(strlen(m) < 4000); /* nothing is shown whole */

    m = load_gateway(DATA "gw_tcp_notlist.lua", NULL); /* key order varies */
    CHECK_CONTAINS(m, DATA "gw_tcp_notlist.lua:4: tcp: expected a list like "
                      "{ { listen = \"127.0.0.1:5170\", connector = \"events\" "
                      "} }, found the key string \"");
    CHECK(count_lines(m) == 1);
    CHECK_STR(load_gateway(DATA "gw_tcp_many.lua", NULL),
              DATA "gw_tcp_many.lua:8: tcp: 65 listeners; at most 64 are "
              "allowed\n");
}

static void test_tcp_reference(void)
{
    char *ref = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&ref, &len);
    sl_config_print_reference(f);
    fclose(f);
    CHECK_CONTAINS(ref, "| `tcp` | list of tables | none | 0 to 64 listeners; "
                        "see `tcp[n].*` below |");
    CHECK_CONTAINS(ref, "| `tcp[n].listen` | string | **required** |");
    CHECK_CONTAINS(ref, "| `tcp[n].connector` | string | **required** |");
    CHECK_CONTAINS(ref, "| `tcp[n].ack` | boolean | `false` |");
    CHECK_CONTAINS(ref, "| `tcp[n].allow` | list of strings | "
                        "`{ \"127.0.0.0/8\", \"::1\" }` |");
    CHECK_CONTAINS(ref, "| `tcp[n].max_line_bytes` | integer | 1048576 (1 MiB) "
                        "| 64 bytes .. 64 MiB |");
    CHECK_CONTAINS(ref, "| `tcp[n].idle_timeout_s` | integer | 60 | 1 .. 86400 "
                        "s |");
    CHECK_CONTAINS(ref, "| `tcp[n].max_connections` | integer | 1024 | 1 .. "
                        "65536 |");
    free(ref);
}

/* ---- Lua functions and limits of a connector ---------------------------- */

/* Call the function at `ref` of k->L with a record {id, tag} and ctx
 * {index}, under the connector's budget; returns the error ("" if none)
 * and the result's tag in *tag. */
static const char *call_transform(const sl_connector_conf *k, long long id,
                                  const char *tag, char *out, size_t outlen)
{
    static char err[512];
    lua_State *L = k->L;
    err[0] = out[0] = '\0';
    lua_rawgeti(L, LUA_REGISTRYINDEX, k->transform_ref); /* fn */
    lua_createtable(L, 0, 2);                             /* fn rec */
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "id");
    lua_pushstring(L, tag);
    lua_setfield(L, -2, "tag");
    lua_createtable(L, 0, 1);                             /* fn rec ctx */
    lua_pushinteger(L, 3);
    lua_setfield(L, -2, "index");
    if (sl_luahost_pcall(L, 2, 1, k->lua_max_instructions, err, sizeof err) ==
        LUA_OK) {                                         /* rec' */
        CHECK(lua_type(L, -1) == LUA_TTABLE);
        lua_getfield(L, -1, "tag");                       /* rec' tag */
        if (lua_type(L, -1) == LUA_TSTRING)
            snprintf(out, outlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 2);                                    /* */
    }
    CHECK(lua_gettop(L) == 0);
    return err;
}

static void test_lua_functions(void)
{
    sl_config *c;
    char tag[64];
    CHECK_STR(load_connector("lua_fns.lua", &c), "");
    if (!c)
        return;
    const sl_connector_conf *k = &c->connectors[0];
    CHECK(k->L != NULL);
    CHECK(k->transform_ref != LUA_NOREF && k->headers_fn_ref != LUA_NOREF);
    CHECK(k->lua_max_instructions == 5000);
    CHECK(k->lua_max_memory == (size_t)2 << 20);
    /* the stored function runs, with the upvalues of its file */
    CHECK_STR(call_transform(k, 7, "ab", tag, sizeof tag), "");
    CHECK_STR(tag, "x-AB@3");
    /* an error names the connector file and line */
    CHECK_STR(call_transform(k, -1, "ab", tag, sizeof tag),
              DATA "lua_fns.lua:11: negative id -1");
    /* the per-call budget and the memory cap, set from `lua` */
    CHECK_STR(call_transform(k, 1, "spin", tag, sizeof tag),
              DATA "lua_fns.lua:12: instruction limit exceeded");
    CHECK_STR(call_transform(k, 1, "hog", tag, sizeof tag),
              "memory limit of 2 MiB exceeded");
    /* and the state goes on working */
    CHECK_STR(call_transform(k, 8, "cd", tag, sizeof tag), "");
    CHECK_STR(tag, "x-CD@3");
    /* headers_fn */
    char err[256];
    lua_rawgeti(k->L, LUA_REGISTRYINDEX, k->headers_fn_ref); /* fn */
    lua_createtable(k->L, 0, 1);                             /* fn req */
    lua_pushinteger(k->L, 2);
    lua_setfield(k->L, -2, "attempt");
    CHECK(sl_luahost_pcall(k->L, 1, 1, k->lua_max_instructions, err,
                           sizeof err) == LUA_OK);           /* hdrs */
    lua_getfield(k->L, -1, "X-Attempt");                     /* hdrs v */
    CHECK_STR(lua_tostring(k->L, -1), "2");
    lua_pop(k->L, 2);                                        /* */
    sl_config_free(c);
}

static void test_lua_print(void)
{
    sl_config *c;
    char *out = NULL;
    size_t len = 0;
    CHECK_STR(load_connector("lua_fns.lua", &c), "");
    if (!c)
        return;
    FILE *f = open_memstream(&out, &len);
    sl_config_print(c, f);
    fclose(f);
    CHECK_CONTAINS(out, "  spool           max 1073741824 (1 GiB), segments of "
                        "67108864 (64 MiB), cache 8388608 (8 MiB)\n"
                        "  intake_keys     none: the intake is open to anyone "
                        "who can reach it\n"
                        "  transform       yes (lua_fns.lua:10)\n"
                        "  headers_fn      yes (lua_fns.lua:17)\n"
                        "  response_fn     yes (lua_fns.lua:20)\n"
                        "  max_response_bytes 4096 (4 KiB) of an answer "
                        "shown to response_fn\n"
                        "  lua             max 5000 instructions per call, "
                        "max 2 MiB\n");
    CHECK(lua_gettop(c->connectors[0].L) == 0);
    free(out);
    sl_config_free(c);
    CHECK_STR(load_connector("lua_cfn.lua", &c), "");
    if (!c)
        return;
    f = open_memstream(&out, &len);
    sl_config_print(c, f);
    fclose(f);
    CHECK_CONTAINS(out, "  transform       no\n"
                        "  headers_fn      yes (a C function)\n"
                        "  response_fn     no\n"
                        "  max_response_bytes 1048576 (1 MiB) of an answer "
                        "shown to response_fn\n"
                        "  lua             max 1000000 instructions per call, "
                        "max 64 MiB\n");
    free(out);
    sl_config_free(c);
}

static void test_err_lua_keys(void)
{
    const char *m = load_connector("bad_lua_fn.lua", NULL);
    CHECK_CONTAINS(m, "bad_lua_fn.lua:5: transform: expected a function, got "
                      "string \"function(rec) return rec end\"\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:6: headers_fn: expected a function, got "
                      "table\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:8: response_fn: expected a function, "
                      "got boolean true\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:9: max_response_bytes: 100 is out of "
                      "range (1024..67108864 bytes)\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:7: lua.max_instructions: 10 is out of "
                      "range (1000..1000000000)\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:7: lua.max_memory_mb: 5000 is out of "
                      "range (1..4096 MiB)\n");
    CHECK_CONTAINS(m, "bad_lua_fn.lua:7: lua.max_mem: unknown key (did you "
                      "mean \"max_memory_mb\"?)\n");
    CHECK(count_lines(m) == 7);
    CHECK_STR(load_connector("bad_lua_table.lua", NULL),
              DATA "bad_lua_table.lua:5: lua: expected a table, got number "
              "64\n");
    m = load_connector("bad_lua_mem.lua", NULL);
    CHECK_CONTAINS(m, "bad_lua_mem.lua:8: lua.max_memory_mb: the file's Lua "
                      "state holds ");
    CHECK_CONTAINS(m, " bytes once loaded, more than the limit of 1 MiB\n");
    CHECK(count_lines(m) == 1);
}

/* limits.* reach the connector and its schema; bad values are named */
static void test_limits_keys(void)
{
    sl_config *cfg = NULL;
    CHECK_STR(load_connector("limits_keys.lua", &cfg), "");
    if (cfg) {
        const sl_connector_conf *k = &cfg->connectors[0];
        CHECK(k->limit_record_bytes == 4096 && k->limit_string_bytes == 100 &&
              k->limit_fields == 8 && k->limit_depth == 4 &&
              k->limit_records == 50);
        const sl_schema_limits *l = sl_schema_get_limits(k->schema);
        CHECK(l->record_bytes == 4096 && l->string_bytes == 100 &&
              l->fields == 8);
        sl_config_free(cfg);
    }
    const char *m = load_connector("bad_limits_keys.lua", NULL);
    CHECK_CONTAINS(m, "bad_limits_keys.lua:5: limits.record_bytes: 10 is out "
                      "of range");
    CHECK_CONTAINS(m, "limits.string_bytes: expected");
    CHECK_CONTAINS(m, "limits.fields: 0 is out of range");
    CHECK_CONTAINS(m, "limits.depth: 129 is out of range");
    CHECK_CONTAINS(m, "limits.record: unknown key");
    CHECK(count_lines(m) == 5);
}

static void test_delivery_keys(void)
{
    sl_config *cfg = NULL;
    CHECK_STR(load_connector("delivery_keys.lua", &cfg), "");
    if (cfg) {
        const sl_connector_conf *k = &cfg->connectors[0];
        CHECK(k->durability == 1 && k->ordered);
        CHECK(k->on_permanent == SL_ON_PERMANENT_DEAD_LETTER);
        CHECK(k->idempotency_header == NULL);
        CHECK(k->retry_max_elapsed_s == 0);
        CHECK(k->spool_max_bytes == 8388608 &&
              k->spool_segment_bytes == 1048576);
        sl_config_free(cfg);
    }
    const char *m = load_connector("bad_delivery_keys.lua", NULL);
    CHECK_CONTAINS(m, "bad_delivery_keys.lua:5: durability: invalid value "
                      "\"disk\" (valid: fsync, os, memory)\n");
    CHECK_CONTAINS(m, "bad_delivery_keys.lua:6: on_permanent: invalid "
                      "value \"drop\" (valid: bisect, dead_letter)\n");
    CHECK_CONTAINS(m, "bad_delivery_keys.lua:7: idempotency_header: expected a "
                      "header name or false, got number 5\n");
    CHECK_CONTAINS(m, "spool.segment_bytes: 4194304 is greater than "
                      "spool.max_bytes (1048576)\n");
    CHECK_CONTAINS(m, "bad_delivery_keys.lua:9: retry.max_elapsed_s: -1 is out "
                      "of range");
    CHECK(count_lines(m) == 5);
    m = load_connector("bad_intake_keys.lua", NULL);
    CHECK_CONTAINS(m, "bad_intake_keys.lua:5: intake_keys[1]: a key of 12 "
                      "characters; use 16 to 1024 (value not shown)\n");
    CHECK_CONTAINS(m, "intake_keys[2]: expected a string, got a number\n");
    CHECK_CONTAINS(m, "intake_keys[3]: character 4 is not a visible ASCII "
                      "character (no spaces or control characters; value not "
                      "shown)\n");
    CHECK_CONTAINS(m, "intake_keys[5]: the same key as intake_keys[4]\n");
    CHECK(count_lines(m) == 4);
    CHECK(!strstr(m, "short-secret") && !strstr(m, "dup-key"));
    CHECK_CONTAINS(load_connector("bad_idem_reserved.lua", NULL),
                   "bad_idem_reserved.lua:5: idempotency_header: "
                   "\"Content-Length\" is a header sluice sets itself\n");
}

/* ---- key lines ------------------------------------------------------------ */

static int line_of(const char *src, const char *k1, long i, const char *k2)
{
    sl_luasrc *s = sl_luasrc_new(src, strlen(src));
    sl_luasrc_seg path[3] = {{k1, 0}, {NULL, i}, {k2, 0}};
    size_t n = i ? (k2 ? 3 : 2) : 1;
    int line = sl_luasrc_line(s, path, n, NULL);
    sl_luasrc_free(s);
    return line;
}

static void test_luasrc(void)
{
    const char *src =
        "-- name = 'comment'\n"                              /* 1 */
        "local s = [[\n name = 'long string'\n]]\n"          /* 2-4 */
        "local function f(x) return { name = x } end\n"      /* 5 */
        "return {\n"                                         /* 6 */
        "  url = f('a, b'), ['X-Key'] = 1,\n"                /* 7 */
        "  schema = {\n"                                     /* 8 */
        "    { name = 'id', type = 'integer' },\n"           /* 9 */
        "    { name = 'x',\n"                                /* 10 */
        "      type = 'string' },\n"                         /* 11 */
        "  },\n"                                             /* 12 */
        "  transform = function(r) local a, b = 1, 2 return r end,\n" /* 13 */
        "  name = 'n',\n"                                    /* 14 */
        "}\n";
    CHECK(line_of(src, "name", 0, NULL) == 14);
    CHECK(line_of(src, "X-Key", 0, NULL) == 7);
    CHECK(line_of(src, "schema", 2, "type") == 11);
    CHECK(line_of(src, "schema", 2, NULL) == 10);
    CHECK(line_of(src, "schema", 3, NULL) == 8);  /* deepest found */
    CHECK(line_of(src, "missing", 0, NULL) == 6); /* the return */
    const char *viavar = "local c = {\n  name = 'x',\n  url = 'y',\n}\n"
                         "return c\n";
    CHECK(line_of(viavar, "url", 0, NULL) == 3);
    CHECK(line_of("return 'x'\n", "url", 0, NULL) == 1);
    CHECK(line_of("", "url", 0, NULL) == 0);
}

/* ---- the reference in docs/connectors.md is the generated one --------- */

static void test_reference_in_docs(void)
{
    char *ref = NULL, *doc = NULL;
    size_t rlen = 0, dlen = 0;
    FILE *f = open_memstream(&ref, &rlen);
    sl_config_print_reference(f);
    fclose(f);
    CHECK_CONTAINS(ref, "| `batch.max_records` | integer | 500 | 1 .. 100000 |");
    CHECK_CONTAINS(ref, "| `name` | string | **required** |");
    f = fopen(SLUICE_SOURCE_DIR "/docs/connectors.md", "r");
    CHECK(f != NULL);
    if (f) {
        FILE *m = open_memstream(&doc, &dlen);
        int c;
        while ((c = getc(f)) != EOF)
            putc(c, m);
        fclose(m);
        fclose(f);
        if (!strstr(doc, ref)) {
            fprintf(stderr, "docs/connectors.md does not contain the output "
                    "of sl_config_print_reference(); it is:\n%s", ref);
            CHECK(!"docs/connectors.md reference is stale");
        }
    }
    free(doc);
    free(ref);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"shipped_conf_loads", test_shipped_conf_loads},
        {"shipped_conf_default_token", test_shipped_conf_default_token},
        {"print", test_print},
        {"defaults", test_defaults},
        {"gateway_ok", test_gateway_ok},
        {"err_typo", test_err_typo},
        {"err_unknown_type", test_err_unknown_type},
        {"err_duplicate_field", test_err_duplicate_field},
        {"err_url", test_err_url},
        {"err_method", test_err_method},
        {"err_missing", test_err_missing},
        {"err_lua_type", test_err_lua_type},
        {"err_syntax", test_err_syntax},
        {"err_env", test_err_env},
        {"err_batch_key", test_err_batch_key},
        {"err_range", test_err_range},
        {"err_many_in_one_file", test_err_many_in_one_file},
        {"err_duplicate_connector", test_err_duplicate_connector},
        {"err_memory_cap", test_err_memory_cap},
        {"err_instruction_budget", test_err_instruction_budget},
        {"err_no_os_execute_no_io", test_err_no_os_execute_no_io},
        {"err_not_a_table", test_err_not_a_table},
        {"err_gateway", test_err_gateway},
        {"tcp_ok", test_tcp_ok},
        {"err_tcp", test_err_tcp},
        {"err_tcp_hostile", test_err_tcp_hostile},
        {"tcp_reference", test_tcp_reference},
        {"lua_functions", test_lua_functions},
        {"lua_print", test_lua_print},
        {"err_lua_keys", test_err_lua_keys},
        {"delivery_keys", test_delivery_keys},
        {"limits_keys", test_limits_keys},
        {"luasrc", test_luasrc},
        {"reference_in_docs", test_reference_in_docs},
        {NULL, NULL}};
    return sl_test_run(cases);
}
