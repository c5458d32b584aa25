/* sl_addr: URL, listen address and CIDR rules. */
#include "sl_addr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

static bool host_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           c == '~' || c == '%';
}

/* "1".."65535" in [p, e); -1 otherwise, with *val the number read. */
static int parse_port(const char *p, const char *e, long *val)
{
    long v = 0;
    if (p == e || e - p > 6)
        return -1;
    for (const char *s = p; s < e; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (*s - '0');
    }
    *val = v;
    return v >= 1 && v <= 65535 ? 0 : -1;
}

int sl_addr_check_url(const char *v, char *why, size_t n)
{
    const char *sep = strstr(v, "://"), *s;
    long port = 0;
    for (s = v; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
            snprintf(why, n, "must not contain spaces or control characters");
            return -1;
        }
    if (!sep) {
        snprintf(why, n, "expected an http:// or https:// URL, got \"%.80s\"",
                 v);
        return -1;
    }
    size_t sl = (size_t)(sep - v);
    if (!((sl == 4 && !strncasecmp(v, "http", 4)) ||
          (sl == 5 && !strncasecmp(v, "https", 5)))) {
        snprintf(why, n, "unsupported scheme \"%.*s\" (use http:// or "
                 "https://)", (int)(sl < 20 ? sl : 20), v);
        return -1;
    }
    const char *auth = sep + 3, *end = auth + strcspn(auth, "/?#");
    const char *host = auth, *hend, *colon = NULL;
    if (memchr(auth, '@', (size_t)(end - auth))) {
        snprintf(why, n, "credentials in the URL are not supported (use "
                 "headers)");
        return -1;
    }
    if (*auth == '[') {
        hend = memchr(auth, ']', (size_t)(end - auth));
        if (!hend || hend == auth + 1) {
            snprintf(why, n, "invalid IPv6 host");
            return -1;
        }
        if (hend + 1 < end && hend[1] != ':') {
            snprintf(why, n, "unexpected characters after \"]\"");
            return -1;
        }
        colon = hend + 1 < end ? hend + 1 : NULL;
        host++;
    } else {
        colon = memchr(auth, ':', (size_t)(end - auth));
        hend = colon ? colon : end;
        for (s = host; s < hend; s++)
            if (!host_char(*s)) {
                snprintf(why, n, "invalid character '%c' in host", *s);
                return -1;
            }
    }
    if (hend == host) {
        snprintf(why, n, "missing host");
        return -1;
    }
    if (colon && parse_port(colon + 1, end, &port) != 0) {
        if (port > 65535 && colon + 1 < end && end - colon <= 7)
            snprintf(why, n, "port %ld out of range (1-65535)", port);
        else
            snprintf(why, n, "invalid port \"%.*s\" (1-65535)",
                     (int)(end - colon - 1 < 20 ? end - colon - 1 : 20),
                     colon + 1);
        return -1;
    }
    if (strchr(end, '#')) {
        snprintf(why, n, "a fragment (#...) is never sent; remove it");
        return -1;
    }
    return 0;
}

int sl_addr_parse_listen(const char *v, char **host, int *port, char *why,
                         size_t n)
{
    const char *h = v, *he, *colon;
    long p = 0;
    if (*v == '[') {
        he = strchr(v, ']');
        colon = he && he[1] == ':' ? he + 1 : NULL;
        h++;
    } else {
        colon = strrchr(v, ':');
        he = colon;
        if (colon && memchr(v, ':', (size_t)(colon - v))) {
            snprintf(why, n, "put an IPv6 address in brackets, as in "
                     "\"[::1]:8080\"");
            return -1;
        }
    }
    if (!colon || he == h || parse_port(colon + 1, colon + strlen(colon), &p)) {
        snprintf(why, n, "expected \"host:port\" or \"[v6addr]:port\" with a "
                 "port 1-65535, got \"%.80s\"", v);
        return -1;
    }
    if (host && !(*host = strndup(h, (size_t)(he - h)))) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    *port = (int)p;
    return 0;
}

int sl_addr_check_listen(const char *v, char *why, size_t n)
{
    int port;
    return sl_addr_parse_listen(v, NULL, &port, why, n);
}

/* 4 or 6 with the address in a, for an IP literal; 0 for a host name. */
static int ip_literal(const char *h, unsigned char a[16])
{
    if (inet_pton(AF_INET, h, a) == 1)
        return 4;
    return inet_pton(AF_INET6, h, a) == 1 ? 6 : 0;
}

int sl_addr_listen_clash(const char *h1, int p1, const char *h2, int p2)
{
    static const unsigned char zero[16];
    unsigned char a1[16], a2[16];
    if (p1 != p2)
        return 0;
    if (strcasecmp(h1, h2) == 0)
        return 1;
    int f1 = ip_literal(h1, a1), f2 = ip_literal(h2, a2);
    if (!f1 || !f2)
        return 0;
    if (f1 == f2 && memcmp(a1, a2, f1 == 4 ? 4 : 16) == 0)
        return 1;
    bool w1 = memcmp(a1, zero, f1 == 4 ? 4 : 16) == 0;
    bool w2 = memcmp(a2, zero, f2 == 4 ? 4 : 16) == 0;
    return (w1 && (f1 == 6 || f2 == 4)) || (w2 && (f2 == 6 || f1 == 4)) ? 2
                                                                         : 0;
}

int sl_addr_parse_cidr(const char *s, size_t len, sl_cidr *out)
{
    char addr[INET6_ADDRSTRLEN];
    const char *slash = memchr(s, '/', len);
    size_t alen = slash ? (size_t)(slash - s) : len;
    int v = 0;
    if (memchr(s, '\0', len) || alen == 0 || alen >= sizeof addr)
        return -1;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(out, 0, sizeof *out);
    int kind = ip_literal(addr, out->addr);
    if (kind == 0)
        return -1;
    out->family = kind == 4 ? AF_INET : AF_INET6;
    out->prefix = kind == 4 ? 32 : 128;
    if (!slash)
        return 0;
    const char *d = slash + 1, *e = s + len;
    if (d == e || e - d > 3)
        return -1;
    for (; d < e; d++) {
        if (*d < '0' || *d > '9')
            return -1;
        v = v * 10 + (*d - '0');
    }
    if (v > out->prefix)
        return -1;
    out->prefix = v;
    return 0;
}

static bool prefix_match(const unsigned char *a, const unsigned char *b,
                         int bits)
{
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, b, (size_t)whole) != 0)
        return false;
    if (!rest)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

bool sl_addr_cidr_match(const sl_cidr *c, const struct sockaddr *sa)
{
    const unsigned char *a;
    int family = sa->sa_family;
    if (family == AF_INET) {
        a = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        const struct in6_addr *v6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        a = v6->s6_addr;
        if (IN6_IS_ADDR_V4MAPPED(v6)) {
            a += 12;
            family = AF_INET;
        }
    } else {
        return false;
    }
    return family == c->family && prefix_match(a, c->addr, c->prefix);
}
