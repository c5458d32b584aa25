/* sl_proxy: the rules of forward proxies -- a proxy URL's check, its
 * masked form for everything sluice shows, the environment variables
 * that name a proxy (as curl and most tools read them, uppercase too) and
 * the entries of a no_proxy list. Nothing is resolved or connected here. */
#ifndef SL_PROXY_H
#define SL_PROXY_H

#include <stdbool.h>
#include <stddef.h>

/* A longer proxy URL (or no_proxy list) is refused. */
#define SL_PROXY_URL_MAX 2048

/* Whether v is a proxy URL sluice can use: scheme http, https, socks4,
 * socks4a, socks5 or socks5h (any case), optional user[:password]@, a
 * host, a port 1-65535, no path but "/", no query or fragment, no spaces
 * or control characters, at most SL_PROXY_URL_MAX bytes. 0, or -1 with
 * the reason in why (n bytes); the reason never shows the password. */
int sl_proxy_check_url(const char *v, char *why, size_t n);

/* curl's port for a proxy URL that names none: 443 for https://, 1080
 * for every other scheme (CURLOPT_PROXYPORT). When v parses as a URL with
 * a host and no port, a malloc'd copy of v with that port written in
 * (the caller frees it) and the port in *port; else NULL (v has a port,
 * is no URL, or out of memory) and v is to be checked as it is. */
char *sl_proxy_add_default_port(const char *v, long *port);

/* v as it may be shown: the password of user:password@ replaced by "***"
 * (a user part without a password is replaced whole), control
 * characters as '?', cut to n - 1 bytes ending in "..." when longer.
 * Works on any text, URL or not; out always ends with NUL (n > 0). */
void sl_proxy_mask(const char *v, char *out, size_t n);

/* How a variable is read: its value, or NULL when it is not set. ud is
 * the caller's (NULL for the process environment with getenv). */
typedef const char *(*sl_proxy_getenv_fn)(void *ud, const char *name);

/* The process environment, for sl_proxy_env* (ud unused). */
const char *sl_proxy_getenv(void *ud, const char *name);

/* The variable that names the proxy for requests to http:// (https
 * false) or https:// URLs: the first set and not empty of http_proxy,
 * HTTP_PROXY (https_proxy, HTTPS_PROXY), then all_proxy, ALL_PROXY -- the
 * lowercase one first, as curl reads them. Returns the variable's name (a
 * static string) with its value in *value, or NULL when none is set. */
const char *sl_proxy_env(sl_proxy_getenv_fn fn, void *ud, bool https,
                         const char **value);

/* The same for no_proxy, then NO_PROXY. */
const char *sl_proxy_env_no_proxy(sl_proxy_getenv_fn fn, void *ud,
                                  const char **value);

/* One entry of a no_proxy list, s[0..len): "*" (every host), a host name
 * or domain (a leading "." allowed: ".example.com"), an IPv4 or IPv6
 * address, or a CIDR block ("10.0.0.0/8"). 0, or -1 with the reason. */
int sl_proxy_check_no_proxy_entry(const char *s, size_t len, char *why,
                                  size_t n);

#endif
