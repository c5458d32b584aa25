/* Unit tests for sl_transport_route (tls.server_name): no name, no route;
 * the CONNECT_TO line for IPv4, IPv6, named hosts, default and explicit
 * ports; the URL curl then requests has the name as its host while the
 * connection goes to the URL's address (a transfer to a closed port on
 * 127.0.0.1, refused there, never resolved); a malformed URL is
 * refused without a route. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <curl/curl.h>

#include "sl_test.h"
#include "sl_transport.h"

static sl_transport named(const char *name)
{
    sl_transport t;
    sl_transport_init(&t);
    t.tls.server_name = name;
    return t;
}

/* The route line made for url with server name `name` (static buffer). */
static const char *route_of(const char *url, const char *name, CURLcode *rc)
{
    static char line[512];
    CURL *e = curl_easy_init();
    struct curl_slist *route = (struct curl_slist *)1;
    sl_transport t = named(name);
    curl_easy_setopt(e, CURLOPT_URL, url);
    *rc = sl_transport_route(e, &t, url, &route);
    snprintf(line, sizeof line, "%s", route ? route->data : "(none)");
    CHECK(!route || !route->next);
    curl_easy_cleanup(e);
    curl_slist_free_all(route);
    return line;
}

static void test_no_name_no_route(void)
{
    CURL *e = curl_easy_init();
    struct curl_slist *route = (struct curl_slist *)1;
    sl_transport t;
    sl_transport_init(&t);
    CHECK(sl_transport_route(e, &t, "https://h/", &route) == CURLE_OK);
    CHECK(route == NULL);
    route = (struct curl_slist *)1;
    CHECK(sl_transport_route(e, NULL, "https://h/", &route) == CURLE_OK);
    CHECK(route == NULL);
    curl_easy_cleanup(e);
}

static void test_route_lines(void)
{
    CURLcode rc;
    CHECK_STR(route_of("https://10.1.2.3/v1?x=1", "api.test", &rc),
              "api.test:443:10.1.2.3:443");
    CHECK(rc == CURLE_OK);
    CHECK_STR(route_of("https://10.1.2.3:8443/v1", "api.test", &rc),
              "api.test:8443:10.1.2.3:8443");
    CHECK_STR(route_of("http://localhost/in", "api.test", &rc),
              "api.test:80:localhost:80");
    CHECK_STR(route_of("https://[::1]:9443/in", "api.test", &rc),
              "api.test:9443:[::1]:9443");
    CHECK(rc == CURLE_OK);
    CHECK_STR(route_of("not a url", "api.test", &rc), "(none)");
    CHECK(rc == CURLE_URL_MALFORMAT);
    CHECK_STR(route_of("https://h/", "bad name with spaces", &rc), "(none)");
    CHECK(rc == CURLE_URL_MALFORMAT);
}

/* A port on 127.0.0.1 that nothing listens on. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&a, &len) == 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_requested_url_has_the_name(void)
{
    char url[128], *effective = NULL;
    int port = closed_port();
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/events?a=b", port);
    CURL *e = curl_easy_init();
    struct curl_slist *route = NULL;
    sl_transport t = named("api.internal.test");
    curl_easy_setopt(e, CURLOPT_URL, url);
    CHECK(sl_transport_apply(e, &t, url) == CURLE_OK);
    CHECK(sl_transport_route(e, &t, url, &route) == CURLE_OK);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    /* refused by 127.0.0.1, where nothing listens: api.internal.test was
     * never looked up (that would be CURLE_COULDNT_RESOLVE_HOST) */
    CURLcode rc = curl_easy_perform(e);
    CHECK(rc == CURLE_COULDNT_CONNECT);
    CHECK(curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &effective) ==
          CURLE_OK);
    char want[128];
    snprintf(want, sizeof want, "http://api.internal.test:%d/v1/events?a=b",
             port);
    CHECK_STR(effective, want);
    curl_easy_cleanup(e);
    curl_slist_free_all(route);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    static const sl_test_case cases[] = {
        {"no_name_no_route", test_no_name_no_route},
        {"route_lines", test_route_lines},
        {"requested_url_has_the_name", test_requested_url_has_the_name},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    curl_global_cleanup();
    return rc;
}
