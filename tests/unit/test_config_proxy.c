/* Unit tests for sl_config_proxy: the proxy and no_proxy keys with
 * malformed and hostile values (no message shows a password), and their
 * resolution with a fake environment: the key wins, false ignores the
 * environment, each scheme takes its variable, no_proxy follows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_config_keys.h"
#include "sl_config_proxy.h"
#include "sl_test.h"
#include "sl_test_config.h"

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* A fake environment: "NAME=value" pairs, NULL-terminated. */
static void free_warnings(sl_connector_conf *c)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    c->warnings = NULL;
    c->nwarnings = 0;
}

static const char *fake_getenv(void *ud, const char *name)
{
    size_t len = strlen(name);
    for (const char *const *e = ud; e && *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

/* Run text (it returns the connector's keys), call the proxy and no_proxy
 * parsers as the table walker does, then resolve with env. Returns the
 * problems. */
static const char *run(const char *text, const char *const *env,
                       sl_config_connector_target *ct)
{
    static sl_test_config t;
    static const char *const names[] = {"proxy", "no_proxy"};
    memset(ct, 0, sizeof *ct);
    sl_transport_init(&ct->c.transport);
    if (sl_test_config_open(&t, text) != 0) {
        CHECK(!"the text runs and returns a table");
        return sl_test_config_close(&t);
    }
    for (size_t i = 0; i < 2; i++) {
        const sl_config_key *key =
            sl_test_config_key(sl_config_connector_keys, names[i]);
        CHECK(key && key->custom);
        if (!key)
            continue;
        lua_getfield(t.ctx.L, 1, key->name);       /* t v */
        sl_config_path_push(&t.ctx, key->name, 0);
        key->custom(&t.ctx, key, lua_isnil(t.ctx.L, -1) ? 0 : 2, ct);
        sl_config_path_pop(&t.ctx);
        CHECK(lua_gettop(t.ctx.L) == 2);           /* stack as it was */
        lua_pop(t.ctx.L, 1);                       /* t */
    }
    sl_config_proxy_resolve(&t.ctx, &ct->c, fake_getenv, (void *)env);
    CHECK(t.ctx.depth == 0);
    return sl_test_config_close(&t);
}

static void test_key(void)
{
    sl_config_connector_target ct;
    CHECK_STR(run("return { proxy = 'http://u:pw@127.0.0.1:3128', "
                  "no_proxy = { 'internal.example.com', '10.0.0.0/8' } }",
                  NULL, &ct), "");
    CHECK_STR(ct.c.transport.proxy_http, "http://u:pw@127.0.0.1:3128");
    CHECK_STR(ct.c.transport.proxy_https, "http://u:pw@127.0.0.1:3128");
    CHECK_STR(ct.c.transport.no_proxy, "internal.example.com,10.0.0.0/8");
    CHECK(ct.c.proxy_https.source == SL_PROXY_FROM_KEY);
    CHECK(ct.c.no_proxy.source == SL_PROXY_FROM_KEY);
    sl_config_proxy_free(&ct.c);
    CHECK(ct.c.proxy_http.value == NULL && ct.c.no_proxy.value == NULL);

    /* the key wins over the environment, its no_proxy too */
    const char *env[] = {"HTTPS_PROXY=http://env:1", "no_proxy=x", NULL};
    CHECK_STR(run("return { proxy = 'socks5h://s:1080' }", env, &ct), "");
    CHECK_STR(ct.c.transport.proxy_https, "socks5h://s:1080");
    CHECK(ct.c.transport.no_proxy == NULL);
    sl_config_proxy_free(&ct.c);

    /* false: nothing, whatever the environment says */
    CHECK_STR(run("return { proxy = false }", env, &ct), "");
    CHECK(ct.c.transport.proxy_http == NULL);
    CHECK(ct.c.transport.proxy_https == NULL);
    CHECK(ct.c.proxy_http.source == SL_PROXY_FROM_OFF);
    sl_config_proxy_free(&ct.c);
    CHECK_CONTAINS(run("return { proxy = false, no_proxy = { 'a' } }", NULL,
                       &ct), "t.lua:1: no_proxy: set, but proxy = false");
    sl_config_proxy_free(&ct.c);
}

static void test_env(void)
{
    sl_config_connector_target ct;
    const char *env[] = {"HTTP_PROXY=http://up:3128",
                         "https_proxy=lo.example:8443", "NO_PROXY=a,.b",
                         NULL};
    CHECK_STR(run("return {}", env, &ct), "");
    CHECK_STR(ct.c.transport.proxy_http, "http://up:3128");
    CHECK_STR(ct.c.proxy_http.var, "HTTP_PROXY");
    /* without a scheme, http:// as curl reads it */
    CHECK_STR(ct.c.transport.proxy_https, "http://lo.example:8443");
    CHECK_STR(ct.c.proxy_https.var, "https_proxy");
    CHECK_STR(ct.c.transport.no_proxy, "a,.b");
    CHECK_STR(ct.c.no_proxy.var, "NO_PROXY");
    sl_config_proxy_free(&ct.c);

    /* nothing set: no proxy, no no_proxy (even if only it is set) */
    const char *only_np[] = {"no_proxy=a", NULL};
    CHECK_STR(run("return {}", only_np, &ct), "");
    CHECK(ct.c.transport.proxy_http == NULL);
    CHECK(ct.c.transport.no_proxy == NULL);
    CHECK(ct.c.proxy_http.source == SL_PROXY_FROM_NONE);
    sl_config_proxy_free(&ct.c);

    /* the key's no_proxy with the environment's proxy */
    const char *all[] = {"ALL_PROXY=socks5h://a:1080", "no_proxy=zzz", NULL};
    CHECK_STR(run("return { no_proxy = { 'c' } }", all, &ct), "");
    CHECK_STR(ct.c.transport.proxy_http, "socks5h://a:1080");
    CHECK_STR(ct.c.transport.no_proxy, "c");
    sl_config_proxy_free(&ct.c);
}

static void test_env_hostile(void)
{
    sl_config_connector_target ct;
    const char *bad[] = {"HTTPS_PROXY=ftp://u:hunter2@h:21",
                         "http_proxy=http://u:hunter2@h", NULL};
    const char *msgs = run("return {}", bad, &ct);
    CHECK_CONTAINS(msgs, "proxy: environment variable HTTPS_PROXY=\""
                         "ftp://u:***@h:21\": unsupported proxy scheme");
    CHECK_CONTAINS(msgs, "or false to ignore the environment");
    CHECK(strstr(msgs, "hunter2") == NULL);
    CHECK(count_lines(msgs) == 1);
    /* a variable without a port is taken as curl takes it, and warned of */
    CHECK_STR(ct.c.transport.proxy_http, "http://u:hunter2@h:1080");
    CHECK(ct.c.nwarnings == 1);
    CHECK(ct.c.nwarnings == 1 &&
          strstr(ct.c.warnings[0], "http_proxy=\"http://u:***@h\" names no "
                                   "port: port 1080 is used") &&
          !strstr(ct.c.warnings[0], "hunter2"));
    free_warnings(&ct.c);
    sl_config_proxy_free(&ct.c);

    /* https:// proxies default to 443; all_proxy for both schemes warns
     * once; a bracketed IPv6 host and a path keep their places */
    const char *all[] = {"all_proxy=https://[::1]/", NULL};
    msgs = run("return {}", all, &ct);
    CHECK_STR(msgs, "");
    CHECK_STR(ct.c.transport.proxy_http, "https://[::1]:443/");
    CHECK_STR(ct.c.transport.proxy_https, "https://[::1]:443/");
    CHECK(ct.c.nwarnings == 1);
    free_warnings(&ct.c);
    sl_config_proxy_free(&ct.c);

    const char *ctl[] = {"http_proxy=http://h:1\r\nX: 1",
                         "no_proxy=a\nb", NULL};
    msgs = run("return {}", ctl, &ct);
    CHECK_CONTAINS(msgs, "http_proxy=\"http://h:1??X: 1\": must not contain "
                         "spaces or control characters");
    CHECK(strchr(msgs, '\r') == NULL);
    sl_config_proxy_free(&ct.c);
    const char *ctl_np[] = {"http_proxy=http://h:1", "no_proxy=a\nb", NULL};
    CHECK_CONTAINS(run("return {}", ctl_np, &ct),
                   "no_proxy: environment variable no_proxy: control "
                   "character in it");
    sl_config_proxy_free(&ct.c);
}

static void test_key_hostile(void)
{
    sl_config_connector_target ct;
    const char *msgs = run("return { proxy = 'ftp://u:hunter2@h:21' }", NULL,
                           &ct);
    CHECK_STR(msgs, "t.lua:1: proxy: \"ftp://u:***@h:21\": unsupported proxy "
                    "scheme \"ftp\" (use http, https, socks5h, socks5, "
                    "socks4a or socks4)\n");
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = 'http://u:hunter2@h:1\\0x' }", NULL, &ct);
    CHECK_CONTAINS(msgs, "contains a NUL byte");
    CHECK(strstr(msgs, "hunter2") == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = 'http://u:hunter2@' .. string.rep('h', 5000) "
               ".. ':1' }", NULL, &ct);
    CHECK_CONTAINS(msgs, "longer than 2048");
    CHECK(strstr(msgs, "hunter2") == NULL);
    CHECK(strlen(msgs) < 400);
    sl_config_proxy_free(&ct.c);
    CHECK_CONTAINS(run("return { proxy = true }", NULL, &ct),
                   "expected a proxy URL (\"http://proxy.example.com:3128\"), "
                   "a table { url = ..., user = ..., password = ... } or "
                   "false, got boolean true");
    CHECK_CONTAINS(run("return { proxy = '' }", NULL, &ct), "empty");
    CHECK(ct.c.transport.proxy_http == NULL);
}

static void test_table_form(void)
{
    sl_config_connector_target ct;
    /* credentials as they are: percent-encoded into the URL */
    CHECK_STR(run("return { proxy = { url = 'http://h:3128', "
                  "user = 'doe@corp:x', password = 'p@ss:w/rd%41 #?' } }",
                  NULL, &ct), "");
    CHECK_STR(ct.c.transport.proxy_https,
              "http://doe%40corp%3Ax:p%40ss%3Aw%2Frd%2541%20%23%3F@h:3128");
    CHECK_STR(ct.c.transport.proxy_http, ct.c.transport.proxy_https);
    CHECK(ct.c.proxy_https.source == SL_PROXY_FROM_KEY);
    sl_config_proxy_free(&ct.c);
    CHECK_STR(run("return { proxy = { url = 'socks5h://h:1080', user = 'u' "
                  "} }", NULL, &ct), "");
    CHECK_STR(ct.c.transport.proxy_http, "socks5h://u@h:1080");
    sl_config_proxy_free(&ct.c);
    CHECK_STR(run("return { proxy = { url = 'http://h:3128' } }", NULL, &ct),
              "");
    CHECK_STR(ct.c.transport.proxy_http, "http://h:3128");
    sl_config_proxy_free(&ct.c);

    const char *msgs = run("return { proxy = {\n"
                           "  url = 'http://u:hunter2@h:3128',\n"
                           "  user = 'u', password = 'hunter2' } }", NULL,
                           &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: proxy.url: credentials go in user and "
                         "password, not in url\n");
    CHECK(strstr(msgs, "hunter2") == NULL);
    CHECK(ct.c.transport.proxy_http == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = { url = 'http://h:3128',\n"
               "  password = 'hunter2' } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "proxy.password: needs user\n");
    CHECK(strstr(msgs, "hunter2") == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = { url = 'http://h:3128', user = 'u',\n"
               "  password = 20242025 } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: proxy.password: expected a string, got a "
                         "number (value not shown)\n");
    CHECK(strstr(msgs, "20242025") == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = { url = 'http://h:3128', user = 'u',\n"
               "  password = '', passwrd = 'hunter2' } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "proxy.password: empty (value not shown)");
    CHECK_CONTAINS(msgs, "passwrd");
    CHECK(strstr(msgs, "hunter2") == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = { url = 'http://h:3128', user = 'u\\0v', "
               "password = string.rep('x', 1025) } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "proxy.user: contains a NUL byte (value not shown)");
    CHECK_CONTAINS(msgs, "proxy.password: longer than 1024 bytes");
    sl_config_proxy_free(&ct.c);
    CHECK_CONTAINS(run("return { proxy = { user = 'u' } }", NULL, &ct),
                   "proxy.url: missing (required)");
    CHECK_CONTAINS(run("return { proxy = { url = 'ftp://h:1' } }", NULL, &ct),
                   "proxy.url: unsupported proxy scheme \"ftp\"");
    /* credentials so long that the URL passes the limit */
    msgs = run("return { proxy = { url = 'http://h:3128', user = "
               "string.rep('@', 1000), password = string.rep('p', 1000) } }",
               NULL, &ct);
    CHECK_CONTAINS(msgs, "proxy: with user and password: ");
    CHECK_CONTAINS(msgs, "longer than 2048");
    CHECK(ct.c.transport.proxy_http == NULL);
    CHECK(ct.c.proxy_http.source == SL_PROXY_FROM_NONE);
    sl_config_proxy_free(&ct.c);
}

static void test_proxy_ca_file(void)
{
    sl_config_connector_target ct;
    const char *msgs = run("return { proxy = { url = 'http://h:3128',\n"
                           "  ca_file = 'corp.pem' } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: proxy.ca_file: only for an https:// "
                         "proxy");
    CHECK(ct.c.proxy_ca_file == NULL);
    sl_config_proxy_free(&ct.c);
    msgs = run("return { proxy = { url = 'https://h:3129',\n"
               "  ca_file = '/nonexistent/corp.pem' } }", NULL, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: proxy.ca_file: ");
    CHECK_CONTAINS(msgs, "/nonexistent/corp.pem");
    CHECK_CONTAINS(msgs, "No such file or directory");
    sl_config_proxy_free(&ct.c);
    CHECK_CONTAINS(run("return { proxy = { url = 'https://h:3129', "
                       "ca_file = '' } }", NULL, &ct), "proxy.ca_file: ");
    sl_config_proxy_free(&ct.c);
}

static void test_no_proxy_hostile(void)
{
    sl_config_connector_target ct;
    const char *msgs = run("return { proxy = 'http://h:1', no_proxy = {\n"
                           "  'host:80',\n"
                           "  '10.0.0.0/33',\n"
                           "  'a b',\n"
                           "  7,\n"
                           "  '*',\n"
                           "  'ok.example.com',\n"
                           "} }", NULL, &ct);
    CHECK_CONTAINS(msgs, "t.lua:2: no_proxy[1]: \"host:80\" is not an IP "
                         "address (an entry takes no port");
    CHECK_CONTAINS(msgs, "t.lua:3: no_proxy[2]: \"10.0.0.0/33\" is not a "
                         "CIDR block");
    CHECK_CONTAINS(msgs, "t.lua:4: no_proxy[3]: invalid character ' '");
    CHECK_CONTAINS(msgs, "t.lua:5: no_proxy[4]: expected a host, domain or "
                         "CIDR block as a string, got number 7");
    CHECK_CONTAINS(msgs, "t.lua:6: no_proxy[5]: \"*\" bypasses the proxy for "
                         "every host; list it alone");
    CHECK(count_lines(msgs) == 5);
    CHECK(ct.c.transport.no_proxy == NULL);
    sl_config_proxy_free(&ct.c);
    CHECK_STR(run("return { proxy = 'http://h:1', no_proxy = { '*' } }", NULL,
                  &ct), "");
    CHECK_STR(ct.c.transport.no_proxy, "*");
    sl_config_proxy_free(&ct.c);
    CHECK_CONTAINS(run("return { no_proxy = {} }", NULL, &ct),
                   "list 1 to 256 hosts, domains or CIDR blocks (0 given)");
    CHECK_CONTAINS(run("local t = {} for i = 1, 257 do t[i] = 'h' .. i end "
                       "return { no_proxy = t }", NULL, &ct), "(257 given)");
    CHECK_CONTAINS(run("return { no_proxy = { a = 'b' } }", NULL, &ct),
                   "expected a list like");
    sl_config_proxy_free(&ct.c);
    /* many good entries join without a limit of their own */
    CHECK_STR(run("local t = {} for i = 1, 256 do t[i] = string.rep('h', 200) "
                  ".. i end return { proxy = 'http://h:1', no_proxy = t }",
                  NULL, &ct), "");
    CHECK(ct.c.transport.no_proxy &&
          strlen(ct.c.transport.no_proxy) > 256 * 200);
    sl_config_proxy_free(&ct.c);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"key", test_key},
        {"env", test_env},
        {"env_hostile", test_env_hostile},
        {"key_hostile", test_key_hostile},
        {"no_proxy_hostile", test_no_proxy_hostile},
        {"table_form", test_table_form},
        {"proxy_ca_file", test_proxy_ca_file},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
