/* Unit tests for sl_addr: CIDR blocks (parsed strictly, matched against
 * IPv4, IPv6 and IPv4-mapped peers), listen addresses and their clashes,
 * destination URLs. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "sl_addr.h"
#include "sl_test.h"

static int parse(const char *s, sl_cidr *c)
{
    return sl_addr_parse_cidr(s, strlen(s), c);
}

static int in_block(const char *block, const char *peer)
{
    sl_cidr c;
    CHECK(parse(block, &c) == 0);
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    if (inet_pton(AF_INET, peer, &v4->sin_addr) == 1)
        v4->sin_family = AF_INET;
    else if (inet_pton(AF_INET6, peer, &v6->sin6_addr) == 1)
        v6->sin6_family = AF_INET6;
    else
        CHECK(!"peer address");
    return sl_addr_cidr_match(&c, (struct sockaddr *)&ss);
}

static void test_cidr_parse(void)
{
    sl_cidr c;
    CHECK(parse("10.0.0.0/8", &c) == 0 && c.family == AF_INET && c.prefix == 8);
    CHECK(parse("::1", &c) == 0 && c.family == AF_INET6 && c.prefix == 128);
    CHECK(parse("192.168.1.7", &c) == 0 && c.prefix == 32);
    CHECK(parse("0.0.0.0/0", &c) == 0 && c.prefix == 0);
    CHECK(parse("fe80::/10", &c) == 0 && c.prefix == 10);
    const char *bad[] = {"", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129",
                         "10.0.0.0/8x", "10.0.0.0/0008", "10.0.0", "host",
                         "10.0.0.0 /8", "1.2.3.4/-1", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(parse(bad[i], &c) == -1);
    CHECK(sl_addr_parse_cidr("10.0.0.1\0/8", 11, &c) == -1); /* NUL inside */
}

static void test_cidr_match(void)
{
    CHECK(in_block("127.0.0.0/8", "127.1.2.3"));
    CHECK(!in_block("127.0.0.0/8", "128.0.0.1"));
    CHECK(in_block("10.1.2.3", "10.1.2.3"));
    CHECK(!in_block("10.1.2.3", "10.1.2.4"));
    CHECK(in_block("192.168.0.0/23", "192.168.1.255")); /* a partial byte */
    CHECK(!in_block("192.168.0.0/23", "192.168.2.0"));
    CHECK(in_block("0.0.0.0/0", "8.8.8.8"));
    CHECK(in_block("::1", "::1"));
    CHECK(!in_block("::1", "::2"));
    CHECK(in_block("fe80::/10", "febf::1"));
    CHECK(!in_block("fe80::/10", "fec0::1"));
    /* a v4-mapped peer is its IPv4 address, never an IPv6 block's */
    CHECK(in_block("127.0.0.0/8", "::ffff:127.0.0.1"));
    CHECK(!in_block("::/0", "::ffff:127.0.0.1"));
    CHECK(!in_block("127.0.0.1", "::1"));
}

static void test_listen(void)
{
    char why[200], *host = NULL;
    int port = 0;
    CHECK(sl_addr_parse_listen("127.0.0.1:8080", &host, &port, why,
                               sizeof why) == 0);
    CHECK_STR(host, "127.0.0.1");
    CHECK(port == 8080);
    free(host);
    host = NULL;
    CHECK(sl_addr_parse_listen("[::1]:5170", &host, &port, why, sizeof why) == 0);
    CHECK_STR(host, "::1");
    free(host);
    CHECK(sl_addr_check_listen("::1:5170", why, sizeof why) == -1);
    CHECK_CONTAINS(why, "brackets");
    CHECK(sl_addr_check_listen("host:0", why, sizeof why) == -1);
    CHECK(sl_addr_check_listen("host:65536", why, sizeof why) == -1);
    CHECK(sl_addr_check_listen("host", why, sizeof why) == -1);
    CHECK(sl_addr_listen_clash("127.0.0.1", 80, "127.0.0.1", 80) == 1);
    CHECK(sl_addr_listen_clash("127.0.0.1", 80, "127.0.0.1", 81) == 0);
    CHECK(sl_addr_listen_clash("0.0.0.0", 80, "127.0.0.1", 80) == 2);
    CHECK(sl_addr_listen_clash("::", 80, "127.0.0.1", 80) == 2);
    CHECK(sl_addr_listen_clash("0.0.0.0", 80, "::1", 80) == 0);
    CHECK(sl_addr_listen_clash("LocalHost", 80, "localhost", 80) == 1);
    CHECK(sl_addr_listen_clash("localhost", 80, "127.0.0.1", 80) == 0);
}

static void test_url(void)
{
    char why[200];
    CHECK(sl_addr_check_url("http://127.0.0.1:9000/v1/x?y=1", why,
                            sizeof why) == 0);
    CHECK(sl_addr_check_url("https://[::1]/in", why, sizeof why) == 0);
    const char *bad[] = {"ftp://x/", "http://", "http://u:p@h/",
                         "http://h:99999/", "http://h/#frag", "http://h /",
                         "http://[::1/", "http://h^/", "h/path", NULL};
    for (int i = 0; bad[i]; i++)
        CHECK(sl_addr_check_url(bad[i], why, sizeof why) == -1);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"cidr_parse", test_cidr_parse},
        {"cidr_match", test_cidr_match},
        {"listen", test_listen},
        {"url", test_url},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
