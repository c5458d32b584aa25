/* sl_proxy: proxy URL rules, masking, the proxy environment variables. */
#include "sl_proxy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "sl_addr.h"

static const char *const schemes[] = {"http",   "https",  "socks4",
                                      "socks4a", "socks5", "socks5h", NULL};

static bool known_scheme(const char *s, size_t len)
{
    for (const char *const *k = schemes; *k; k++)
        if (strlen(*k) == len && strncasecmp(*k, s, len) == 0)
            return true;
    return false;
}

/* The parts curl's URL parser finds; each NULL when absent. */
typedef struct url_parts {
    char *host, *port, *path, *query, *fragment;
} url_parts;

static void parts_free(url_parts *p)
{
    curl_free(p->host);
    curl_free(p->port);
    curl_free(p->path);
    curl_free(p->query);
    curl_free(p->fragment);
}

/* Parse v with curl (any scheme); 0, or -1 with why. */
static int parse_parts(const char *v, url_parts *p, char *why, size_t n)
{
    CURLU *u = curl_url();
    memset(p, 0, sizeof *p);
    if (!u) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    CURLUcode rc = curl_url_set(u, CURLUPART_URL, v, CURLU_NON_SUPPORT_SCHEME);
    if (rc != CURLUE_OK) {
        /* curl's text names what is wrong, never the input */
        snprintf(why, n, "not a valid URL (%s)", curl_url_strerror(rc));
        curl_url_cleanup(u);
        return -1;
    }
    curl_url_get(u, CURLUPART_HOST, &p->host, 0);
    curl_url_get(u, CURLUPART_PORT, &p->port, 0);
    curl_url_get(u, CURLUPART_PATH, &p->path, 0);
    curl_url_get(u, CURLUPART_QUERY, &p->query, 0);
    curl_url_get(u, CURLUPART_FRAGMENT, &p->fragment, 0);
    curl_url_cleanup(u);
    return 0;
}

int sl_proxy_check_url(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    if (len == 0) {
        snprintf(why, n, "empty; write a URL like http://proxy.example.com:"
                 "3128, or false for no proxy");
        return -1;
    }
    if (len > SL_PROXY_URL_MAX) {
        snprintf(why, n, "%zu bytes, longer than %d", len, SL_PROXY_URL_MAX);
        return -1;
    }
    for (const char *s = v; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
            snprintf(why, n, "must not contain spaces or control characters "
                     "(character %zu)", (size_t)(s - v) + 1);
            return -1;
        }
    const char *sep = strstr(v, "://");
    size_t sl = sep ? (size_t)(sep - v) : 0;
    if (!sep || sl == 0 || strcspn(v, ":/@") < sl) {
        snprintf(why, n, "no scheme; write it: http://proxy.example.com:3128 "
                 "(or https://, socks5h://, socks5://, socks4a://, "
                 "socks4://)");
        return -1;
    }
    if (!known_scheme(v, sl)) {
        snprintf(why, n, "unsupported proxy scheme \"%.*s\" (use http, "
                 "https, socks5h, socks5, socks4a or socks4)",
                 (int)(sl < 16 ? sl : 16), v);
        return -1;
    }
    url_parts p;
    if (parse_parts(v, &p, why, n) != 0)
        return -1;
    int rc = -1;
    if (!p.host || !*p.host)
        snprintf(why, n, "no host");
    else if (!p.port)
        snprintf(why, n, "no port; write it, as in %.*s://proxy.example.com:"
                 "3128", (int)sl, v);
    else if (strcmp(p.port, "0") == 0)
        snprintf(why, n, "port 0 (use 1-65535)");
    else if (p.path && strcmp(p.path, "/") != 0 && *p.path)
        snprintf(why, n, "a proxy URL has no path");
    else if (p.query || p.fragment)
        snprintf(why, n, "a proxy URL has no query or fragment");
    else
        rc = 0;
    parts_free(&p);
    return rc;
}

char *sl_proxy_add_default_port(const char *v, long *port)
{
    char why[8];
    url_parts p;
    const char *sep = strstr(v, "://");
    if (!sep || parse_parts(v, &p, why, sizeof why) != 0)
        return NULL;
    bool bare = p.host && *p.host && !p.port;
    parts_free(&p);
    if (!bare)
        return NULL;
    const char *auth = sep + 3;
    const char *host = strrchr(auth, '@');
    host = host ? host + 1 : auth;
    size_t end = (size_t)(host - v) + strcspn(host, "/?#");
    *port = strncasecmp(v, "https://", 8) == 0 ? 443 : 1080;
    size_t len = strlen(v);
    char *out = malloc(len + 8);
    if (!out)
        return NULL;
    snprintf(out, len + 8, "%.*s:%ld%s", (int)end, v, *port, v + end);
    return out;
}

/* Where the user part ends (its last '@') within v's authority, which
 * starts at `auth`; NULL when there is none. The last '@' of the whole
 * rest, not the first before a '/': a password with a stray '/' or '#' is
 * hidden too. */
static const char *userinfo_end(const char *auth)
{
    return strrchr(auth, '@');
}

void sl_proxy_mask(const char *v, char *out, size_t n)
{
    if (n == 0)
        return;
    const char *sep = strstr(v, "://");
    if (sep && strcspn(v, ":/@") < (size_t)(sep - v))
        sep = NULL; /* a "://" after the user part is no scheme's */
    const char *auth = sep ? sep + 3 : v;
    const char *at = userinfo_end(auth);
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    size_t o = 0;
    bool cut = false;
    for (const char *s = v; *s && !cut; s++) {
        const char *piece = NULL;
        char c = *s;
        if (at && s == (colon ? colon + 1 : auth) && s < at) {
            piece = "***"; /* the secret part, skipped to the '@' */
            s = at - 1;
        }
        size_t plen = piece ? strlen(piece) : 1;
        if (o + plen >= n) {
            cut = true;
            break;
        }
        if (piece) {
            memcpy(out + o, piece, plen);
        } else {
            out[o] = ((unsigned char)c < 0x20 || c == 0x7f) ? '?' : c;
        }
        o += plen;
    }
    if (cut && n > 4) {
        o = o > n - 4 ? n - 4 : o;
        memcpy(out + o, "...", 3);
        o += 3;
    } else if (cut) {
        o = n - 1;
    }
    out[o] = '\0';
}

const char *sl_proxy_getenv(void *ud, const char *name)
{
    (void)ud;
    return getenv(name);
}

/* The first variable of names[] that is set and not empty. */
static const char *first_set(sl_proxy_getenv_fn fn, void *ud,
                             const char *const *names, const char **value)
{
    for (const char *const *k = names; *k; k++) {
        const char *v = fn(ud, *k);
        if (v && *v) {
            *value = v;
            return *k;
        }
    }
    *value = NULL;
    return NULL;
}

const char *sl_proxy_env(sl_proxy_getenv_fn fn, void *ud, bool https,
                         const char **value)
{
    static const char *const http_vars[] = {"http_proxy", "HTTP_PROXY",
                                            "all_proxy", "ALL_PROXY", NULL};
    static const char *const https_vars[] = {"https_proxy", "HTTPS_PROXY",
                                             "all_proxy", "ALL_PROXY", NULL};
    return first_set(fn, ud, https ? https_vars : http_vars, value);
}

const char *sl_proxy_env_no_proxy(sl_proxy_getenv_fn fn, void *ud,
                                  const char **value)
{
    static const char *const vars[] = {"no_proxy", "NO_PROXY", NULL};
    return first_set(fn, ud, vars, value);
}

static bool name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int sl_proxy_check_no_proxy_entry(const char *s, size_t len, char *why,
                                  size_t n)
{
    sl_cidr cidr;
    if (len == 0) {
        snprintf(why, n, "empty entry");
        return -1;
    }
    if (len > 253) {
        snprintf(why, n, "%zu bytes, longer than a host name can be (253)",
                 len);
        return -1;
    }
    if (len == 1 && s[0] == '*')
        return 0;
    if (memchr(s, ':', len) || memchr(s, '/', len)) {
        if (sl_addr_parse_cidr(s, len, &cidr) == 0)
            return 0;
        bool slash = memchr(s, '/', len) != NULL;
        snprintf(why, n, slash ? "\"%.*s\" is not a CIDR block (an address, "
                 "\"/\" and a prefix length, as in 10.0.0.0/8)"
                 : "\"%.*s\" is not an IP address (an entry takes no port: "
                 "it covers every port)", (int)(len < 80 ? len : 80), s);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if (!name_char(s[i])) {
            if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                snprintf(why, n, "control character at byte %zu", i + 1);
            else
                snprintf(why, n, "invalid character '%c' in \"%.*s\" (a host "
                         "name, a domain like .example.com, an address, a "
                         "CIDR block or \"*\")", s[i],
                         (int)(len < 80 ? len : 80), s);
            return -1;
        }
    if (len == 1 && s[0] == '.') {
        snprintf(why, n, "\".\" names no host");
        return -1;
    }
    return 0;
}
