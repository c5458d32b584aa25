/* Unit tests for sl_config_tls: the form of tls.server_name (good names;
 * empty, oversized, hostile and URL-like ones refused), the paths made
 * relative to the connector file's directory, the keys that need
 * another, the transport filled from the keys, the warnings kept for
 * `sluice check` and the start, and a client_key_password of the wrong
 * type refused without its value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config_connector_rules.h"
#include "sl_config_keys.h"
#include "sl_config_tls.h"
#include "sl_test.h"
#include "sl_test_config.h"

static void test_server_name(void)
{
    char why[256], name[400];
    static const char *const good[] = {
        "a", "api.internal.test", "x-1.example.com", "123.example",
        "A.B.C", "10.0.0.1", NULL};
    for (const char *const *g = good; *g; g++)
        CHECK(sl_config_check_server_name(*g, why, sizeof why) == 0);
    static const char *const bad[] = {
        "", ".", "a..b", ".a", "a.", "-a", "a-", "a-.b", "a_b", "a b",
        "a:443", "https://a", "a/b", "a\tb", "\xc3\xa9.com", "*.example",
        "[::1]", "a\r\nHost: evil", NULL};
    for (const char *const *b = bad; *b; b++) {
        why[0] = '\0';
        CHECK(sl_config_check_server_name(*b, why, sizeof why) == -1);
        CHECK(why[0] != '\0');
    }
    /* 63-character labels are fine, 64 are not; 253 characters at most */
    memset(name, 'a', 63);
    name[63] = '\0';
    CHECK(sl_config_check_server_name(name, why, sizeof why) == 0);
    memset(name, 'a', 64);
    name[64] = '\0';
    CHECK(sl_config_check_server_name(name, why, sizeof why) == -1);
    size_t n = 0;
    while (n + 10 <= 253) {
        memcpy(name + n, "abcdefghi.", 10);
        n += 10;
    }
    memcpy(name + n, "abc", 3); /* 253 */
    name[n + 3] = '\0';
    CHECK(strlen(name) == 253);
    CHECK(sl_config_check_server_name(name, why, sizeof why) == 0);
    name[n + 3] = 'd';
    name[n + 4] = '\0';
    CHECK(sl_config_check_server_name(name, why, sizeof why) == -1);
    CHECK_CONTAINS(why, "1 to 253 characters");
    /* a long hostile value is cut in the message */
    char huge[4096];
    memset(huge, '%', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    CHECK(sl_config_check_server_name(huge, why, sizeof why) == -1);
    CHECK(strlen(why) < sizeof why);
}

/* A connector conf with the tls strings given (NULL: unset). */
static sl_connector_conf conf(const char *url, const char *ca,
                              const char *cert, const char *key,
                              const char *pass)
{
    sl_connector_conf c;
    memset(&c, 0, sizeof c);
    c.name = "crm";
    c.url = (char *)url;
    c.tls_ca_file = ca ? strdup(ca) : NULL;
    c.tls_client_cert = cert ? strdup(cert) : NULL;
    c.tls_client_key = key ? strdup(key) : NULL;
    c.tls_key_password = pass ? strdup(pass) : NULL;
    c.tls_verify = true;
    sl_transport_init(&c.transport);
    return c;
}

static void conf_free(sl_connector_conf *c)
{
    sl_config_tls_free(c);
    CHECK(c->tls_ca_file == NULL && c->tls_key_password == NULL);
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
}

static const char *after(sl_test_config *t, const char *file,
                         sl_connector_conf *c)
{
    memset(t, 0, sizeof *t);
    t->ctx.file = file;
    sl_config_tls_after(&t->ctx, c);
    return sl_test_config_close(t);
}

static void test_paths_relative_to_the_file(void)
{
    sl_test_config t;
    sl_connector_conf c = conf("https://h/", "pki/ca.pem", "/abs/c.pem",
                               "k.pem", NULL);
    const char *errs = after(&t, "conf/connectors/crm.lua", &c);
    CHECK_STR(c.tls_ca_file, "conf/connectors/pki/ca.pem");
    CHECK_STR(c.tls_client_cert, "/abs/c.pem");
    CHECK_STR(c.tls_client_key, "conf/connectors/k.pem");
    CHECK(c.transport.tls.ca_file == c.tls_ca_file);
    CHECK(c.transport.tls.client_key == c.tls_client_key);
    CHECK(c.transport.tls.verify == 1 && c.transport.tls.min_version == 12);
    /* the files do not exist: each said, at its key, with the connector */
    CHECK_CONTAINS(errs, "conf/connectors/crm.lua: tls.ca_file: cannot open "
                         "\"conf/connectors/pki/ca.pem\": No such file or "
                         "directory (connector crm)");
    CHECK_CONTAINS(errs, "tls.client_cert: cannot open \"/abs/c.pem\"");
    conf_free(&c);
    c = conf("https://h/", "ca.pem", NULL, NULL, NULL);
    after(&t, "crm.lua", &c); /* no directory: as written */
    CHECK_STR(c.tls_ca_file, "ca.pem");
    conf_free(&c);
    c = conf("https://h/", "ca.pem", NULL, NULL, NULL);
    after(&t, "/crm.lua", &c); /* the root directory */
    CHECK_STR(c.tls_ca_file, "/ca.pem");
    conf_free(&c);
}

static void test_keys_that_need_another(void)
{
    sl_test_config t;
    sl_connector_conf c = conf("https://h/", NULL, NULL, "/k.pem",
                               "secret-password-1");
    const char *errs = after(&t, "crm.lua", &c);
    CHECK_CONTAINS(errs, "tls.client_key: set, but tls.client_cert is not");
    CHECK_CONTAINS(errs, "tls.client_key_password: set, but there is no "
                         "tls.client_cert");
    CHECK(!strstr(errs, "secret-password-1"));
    CHECK(t.nproblems == 2); /* no file is read without a certificate */
    conf_free(&c);
}

static void test_warnings(void)
{
    sl_test_config t;
    sl_connector_conf c = conf("https://h/", NULL, NULL, NULL, NULL);
    c.tls_verify = false;
    c.tls_min_version = 1;
    const char *errs = after(&t, "crm.lua", &c);
    CHECK_STR(errs, "");
    CHECK(c.transport.tls.verify == 0 && c.transport.tls.min_version == 13);
    CHECK(c.nwarnings == 1);
    CHECK_CONTAINS(c.nwarnings ? c.warnings[0] : "", "connector crm "
                   "(crm.lua): tls.verify = false: the destination's "
                   "certificate and name are NOT checked");
    conf_free(&c);
    c = conf("http://h/", NULL, NULL, NULL, NULL);
    c.tls_server_name = strdup("api.test");
    after(&t, "crm.lua", &c);
    CHECK(c.nwarnings == 1);
    CHECK_CONTAINS(c.nwarnings ? c.warnings[0] : "", "tls is set, but url "
                   "is http://");
    CHECK_STR(c.transport.tls.server_name, "api.test");
    conf_free(&c);
    c = conf("http://h/", NULL, NULL, NULL, NULL); /* defaults: nothing */
    after(&t, "crm.lua", &c);
    CHECK(c.nwarnings == 0);
    conf_free(&c);
}

/* A password of the wrong type (a number: `client_key_password =
 * 8675309`) is refused, and the message does not show it, as it shows
 * the value of any other key of the wrong type. */
static void test_password_of_the_wrong_type(void)
{
    sl_test_config t;
    sl_config_connector_target ct;
    memset(&ct, 0, sizeof ct);
    const sl_config_key *tls = sl_test_config_key(sl_config_connector_keys,
                                                  "tls");
    CHECK(tls && tls->sub);
    if (!tls)
        return;
    if (sl_test_config_open(&t, "return {\n"
                                "  client_key_password = 8675309,\n"
                                "  client_cert = 42,\n"
                                "}") != 0) {
        CHECK(!"the text runs and returns a table");
        sl_test_config_close(&t);
        return;
    }
    sl_config_path_push(&t.ctx, "tls", 0);
    sl_config_parse_table(&t.ctx, 1, tls->sub, &ct);
    sl_config_path_pop(&t.ctx);
    const char *errs = sl_test_config_close(&t);
    CHECK_CONTAINS(errs, "tls.client_key_password: expected a string, got "
                         "number (value not shown)");
    CHECK(!strstr(errs, "8675309"));
    /* another key still shows what it got */
    CHECK_CONTAINS(errs, "tls.client_cert: expected a string, got number 42");
    CHECK(ct.c.tls_key_password == NULL);
    sl_config_tls_free(&ct.c);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"server_name", test_server_name},
        {"paths_relative_to_the_file", test_paths_relative_to_the_file},
        {"keys_that_need_another", test_keys_that_need_another},
        {"warnings", test_warnings},
        {"password_of_the_wrong_type", test_password_of_the_wrong_type},
        {NULL, NULL}};
    return sl_test_run(cases);
}
