/* Unit tests for sl_proxy: proxy URLs (good, malformed, hostile), their
 * masked form, the environment's choice per scheme (lowercase first, then
 * uppercase, then all_proxy) and no_proxy entries. */
#include <stdlib.h>
#include <string.h>

#include "sl_proxy.h"
#include "sl_test.h"

static int check(const char *url)
{
    char why[256];
    return sl_proxy_check_url(url, why, sizeof why);
}

static void test_check_good(void)
{
    const char *good[] = {
        "http://127.0.0.1:3128",         "http://proxy.example.com:3128/",
        "HTTP://Proxy.Example.com:8080", "https://proxy:443",
        "socks5h://10.0.0.1:1080",       "socks5://[::1]:1080",
        "socks4://h:1080",               "socks4a://h:1080",
        "http://user:pa%40ss@h:3128",    "http://user@h:3128",
        "http://:pw@h:3128",             NULL};
    for (int i = 0; good[i]; i++) {
        char why[256] = "";
        int rc = sl_proxy_check_url(good[i], why, sizeof why);
        if (rc != 0)
            fprintf(stderr, "%s: %s\n", good[i], why);
        CHECK(rc == 0);
    }
}

/* The reason for url, which must be refused. */
static const char *reason(const char *url, char *why, size_t n)
{
    why[0] = '\0';
    CHECK(sl_proxy_check_url(url, why, n) == -1);
    return why;
}

static void test_check_bad(void)
{
    char why[256];
    CHECK_CONTAINS(reason("", why, sizeof why), "empty");
    CHECK_CONTAINS(reason("proxy:3128", why, sizeof why), "no scheme");
    CHECK_CONTAINS(reason("user:pw@proxy:3128", why, sizeof why),
                   "no scheme");
    CHECK_CONTAINS(reason("ftp://h:21", why, sizeof why),
                   "unsupported proxy scheme \"ftp\"");
    CHECK_CONTAINS(reason("socks6://h:1", why, sizeof why), "unsupported");
    long port = 0;
    char *d = sl_proxy_add_default_port("http://u:p@h", &port);
    CHECK_STR(d, "http://u:p@h:1080");
    CHECK(port == 1080);
    free(d);
    d = sl_proxy_add_default_port("HTTPS://h/", &port);
    CHECK_STR(d, "HTTPS://h:443/");
    CHECK(port == 443);
    free(d);
    d = sl_proxy_add_default_port("socks5h://[fe80::1]", &port);
    CHECK_STR(d, "socks5h://[fe80::1]:1080");
    free(d);
    CHECK(sl_proxy_add_default_port("http://h:3128", &port) == NULL);
    CHECK(sl_proxy_add_default_port("h", &port) == NULL);
    CHECK(sl_proxy_add_default_port("http://", &port) == NULL);
    CHECK(sl_proxy_add_default_port("http://a b", &port) == NULL);
    CHECK_CONTAINS(reason("http://h", why, sizeof why), "no port");
    CHECK_CONTAINS(reason("http://h:0", why, sizeof why), "port 0");
    CHECK_CONTAINS(reason("http://h:65536", why, sizeof why), "not a valid");
    CHECK_CONTAINS(reason("http://h:x", why, sizeof why), "not a valid");
    CHECK_CONTAINS(reason("http://:3128", why, sizeof why), "");
    CHECK_CONTAINS(reason("http://h:3128/p", why, sizeof why), "no path");
    CHECK_CONTAINS(reason("http://h:3128?q", why, sizeof why), "no query");
    CHECK_CONTAINS(reason("http://h:3128/#f", why, sizeof why), "no query");
    CHECK_CONTAINS(reason("http://h :3128", why, sizeof why), "spaces");
    CHECK_CONTAINS(reason("http://h:3128\r\nX: y", why, sizeof why),
                   "control characters");
    CHECK_CONTAINS(reason("http://h\x7f:3128", why, sizeof why), "control");
    CHECK_CONTAINS(reason("://h:3128", why, sizeof why), "no scheme");
    CHECK_CONTAINS(reason("http://[::1:3128", why, sizeof why), "not a valid");
    /* a reason never shows the password */
    const char *secret[] = {"ftp://u:hunter2@h:1", "http://u:hunter2@h",
                            "http://u:hunter2@h:1/p", "http://u:hunter2@:1",
                            "http://u:hunter2@h:99999", NULL};
    for (int i = 0; secret[i]; i++)
        CHECK(!strstr(reason(secret[i], why, sizeof why), "hunter2"));
}

static void test_check_hostile(void)
{
    char why[256];
    size_t big = SL_PROXY_URL_MAX + 100;
    char *s = malloc(big + 1);
    CHECK(s != NULL);
    if (!s)
        return;
    memcpy(s, "http://", 7);
    memset(s + 7, 'a', big - 12);
    memcpy(s + big - 5, ":3128", 5);
    s[big] = '\0';
    CHECK_CONTAINS(reason(s, why, sizeof why), "longer than 2048");
    /* just under the limit: a host curl takes or refuses, never a crash */
    s[SL_PROXY_URL_MAX - 5] = '\0';
    memcpy(s + SL_PROXY_URL_MAX - 10, ":3128", 5);
    (void)check(s);
    free(s);
    /* every byte value after the scheme is refused or accepted cleanly */
    for (int c = 1; c < 256; c++) {
        char url[32];
        snprintf(url, sizeof url, "http://h%c:3128", c);
        int rc = sl_proxy_check_url(url, why, sizeof why);
        if (c <= 0x20 || c == 0x7f)
            CHECK(rc == -1);
    }
    /* a tiny reason buffer is cut, not overrun */
    char tiny[8];
    CHECK(sl_proxy_check_url("ftp://h:1", tiny, sizeof tiny) == -1);
    CHECK(strlen(tiny) < sizeof tiny);
}

static const char *mask(const char *url, char *out, size_t n)
{
    sl_proxy_mask(url, out, n);
    return out;
}

static void test_mask(void)
{
    char out[128];
    CHECK_STR(mask("http://user:pass@host:3128", out, sizeof out),
              "http://user:***@host:3128");
    CHECK_STR(mask("http://host:3128", out, sizeof out), "http://host:3128");
    CHECK_STR(mask("http://token@host:3128", out, sizeof out),
              "http://***@host:3128");
    CHECK_STR(mask("http://user:@host:3128", out, sizeof out),
              "http://user:@host:3128");
    CHECK_STR(mask("user:pass@host:3128", out, sizeof out),
              "user:***@host:3128");
    /* '@', ':' and '/' inside the password: all of it hidden */
    CHECK_STR(mask("http://u:p@ss:w/rd#x@host:3128", out, sizeof out),
              "http://u:***@host:3128");
    CHECK_STR(mask("user:pa://ss@host:1", out, sizeof out),
              "user:***@host:1");
    CHECK_STR(mask("socks5h://u:p@h:1080", out, sizeof out),
              "socks5h://u:***@h:1080");
    /* control characters cannot break a log line */
    CHECK_STR(mask("http://h\r\n\x1b[31m:1", out, sizeof out),
              "http://h???[31m:1");
    CHECK_STR(mask("", out, sizeof out), "");
    /* cut with "...", never past the buffer, the secret still hidden */
    CHECK_STR(mask("http://user:secret@host:3128", out, 12), "http://u...");
    CHECK_STR(mask("http://user:secret@host:3128", out, 16),
              "http://user:...");
    CHECK(strlen(mask("http://u:p@h:1", out, 3)) == 2);
    CHECK(strlen(mask("http://u:p@h:1", out, 1)) == 0);
    char big[5000];
    memset(big, 'x', sizeof big - 1);
    memcpy(big, "http://u:", 9);
    big[sizeof big - 20] = '@';
    big[sizeof big - 1] = '\0';
    mask(big, out, sizeof out);
    CHECK_STR(out, "http://u:***@xxxxxxxxxxxxxxxxxx");
}

/* A fake environment: "NAME=value" pairs, NULL-terminated. */
static const char *fake_getenv(void *ud, const char *name)
{
    size_t len = strlen(name);
    for (const char *const *e = ud; *e; e++)
        if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
            return *e + len + 1;
    return NULL;
}

static const char *env_var(const char *const *env, bool https,
                           const char **value)
{
    return sl_proxy_env(fake_getenv, (void *)env, https, value);
}

static void test_env(void)
{
    const char *v = NULL;
    const char *none[] = {"PATH=/bin", NULL};
    CHECK(env_var(none, false, &v) == NULL && v == NULL);
    CHECK(env_var(none, true, &v) == NULL);
    const char *upper[] = {"HTTP_PROXY=http://up:1", NULL};
    CHECK_STR(env_var(upper, false, &v), "HTTP_PROXY");
    CHECK_STR(v, "http://up:1");
    CHECK(env_var(upper, true, &v) == NULL); /* not for https:// */
    const char *both[] = {"HTTP_PROXY=http://up:1", "http_proxy=http://lo:1",
                          "HTTPS_PROXY=http://ups:1",
                          "https_proxy=http://los:1", NULL};
    CHECK_STR(env_var(both, false, &v), "http_proxy");
    CHECK_STR(v, "http://lo:1");
    CHECK_STR(env_var(both, true, &v), "https_proxy");
    CHECK_STR(v, "http://los:1");
    const char *all[] = {"ALL_PROXY=socks5h://a:1", "all_proxy=socks5://b:1",
                         "HTTPS_PROXY=http://s:1", NULL};
    CHECK_STR(env_var(all, false, &v), "all_proxy");
    CHECK_STR(v, "socks5://b:1");
    CHECK_STR(env_var(all, true, &v), "HTTPS_PROXY");
    const char *upper_all[] = {"ALL_PROXY=socks5h://a:1", NULL};
    CHECK_STR(env_var(upper_all, true, &v), "ALL_PROXY");
    /* an empty variable is not set */
    const char *empty[] = {"http_proxy=", "HTTP_PROXY=http://up:1", NULL};
    CHECK_STR(env_var(empty, false, &v), "HTTP_PROXY");
    const char *np[] = {"NO_PROXY=b", "no_proxy=a", NULL};
    CHECK_STR(sl_proxy_env_no_proxy(fake_getenv, (void *)np, &v), "no_proxy");
    CHECK_STR(v, "a");
    const char *np_upper[] = {"NO_PROXY=b", NULL};
    CHECK_STR(sl_proxy_env_no_proxy(fake_getenv, (void *)np_upper, &v),
              "NO_PROXY");
    CHECK(sl_proxy_env_no_proxy(fake_getenv, (void *)none, &v) == NULL);
    /* the process environment */
    setenv("SL_TEST_PROXY_X", "1", 1);
    CHECK_STR(sl_proxy_getenv(NULL, "SL_TEST_PROXY_X"), "1");
    unsetenv("SL_TEST_PROXY_X");
    CHECK(sl_proxy_getenv(NULL, "SL_TEST_PROXY_X") == NULL);
}

static int entry(const char *s)
{
    char why[256];
    return sl_proxy_check_no_proxy_entry(s, strlen(s), why, sizeof why);
}

static void test_no_proxy_entry(void)
{
    const char *good[] = {"internal.example.com", ".example.com", "localhost",
                          "10.0.0.0/8", "192.168.1.7", "::1", "fe80::/10",
                          "*", "a-b_c.d", NULL};
    for (int i = 0; good[i]; i++)
        CHECK(entry(good[i]) == 0);
    const char *bad[] = {"", ".", "host:80", "10.0.0.0/33", "a b", "a,b",
                         "*.example.com", "exa\nmple", "http://h", "[::1]",
                         "10.0.0.0/", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(entry(bad[i]) == -1);
    char why[256];
    CHECK(sl_proxy_check_no_proxy_entry("a\0b", 3, why, sizeof why) == -1);
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(entry(longname) == -1);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"check_good", test_check_good},
        {"check_bad", test_check_bad},
        {"check_hostile", test_check_hostile},
        {"mask", test_mask},
        {"env", test_env},
        {"no_proxy_entry", test_no_proxy_entry},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
