/* sl_addr: the address rules — destination URLs, "host:port" listen
 * addresses, and the CIDR blocks of allow lists (parsed once, matched per
 * connection). No name is ever resolved. */
#ifndef SL_ADDR_H
#define SL_ADDR_H

#include <stdbool.h>
#include <stddef.h>

struct sockaddr;

/* An http:// or https:// URL sluice can send to: host, optional port
 * 1-65535, path and query; no spaces or control characters, credentials
 * or fragment. 0, or -1 with the reason in why. */
int sl_addr_check_url(const char *v, char *why, size_t n);

/* "host:port" or "[v6addr]:port" (port 1-65535) into *host (malloc'd,
 * the caller frees it; NULL host: only checked) and *port. 0, or -1 with
 * the reason in why. */
int sl_addr_parse_listen(const char *v, char **host, int *port, char *why,
                         size_t n);
int sl_addr_check_listen(const char *v, char *why, size_t n);

/* Whether two listen addresses would want the same socket: 1 the same
 * address and port, 2 one is a wildcard ("0.0.0.0", "::") that takes the
 * port of the other too (dual-stack "::" takes IPv4 as well), 0 no. Host
 * names are compared as written. */
int sl_addr_listen_clash(const char *h1, int p1, const char *h2, int p2);

/* An IPv4 or IPv6 address with an optional prefix length ("10.0.0.0/8",
 * "::1"). */
typedef struct sl_cidr {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;              /* bits: 0..32 or 0..128 */
} sl_cidr;

/* Parse s[0..len) (no NUL inside). 0, or -1 if it is not such a block. */
int sl_addr_parse_cidr(const char *s, size_t len, sl_cidr *out);

/* Whether the peer address sa is inside the block; an IPv4-mapped IPv6
 * peer (::ffff:a.b.c.d) counts as the IPv4 address. */
bool sl_addr_cidr_match(const sl_cidr *c, const struct sockaddr *sa);

#endif
