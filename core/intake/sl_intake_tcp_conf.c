/* sl_intake_tcp_conf: see sl_intake_tcp_conf.h. */
#include "sl_intake_tcp_conf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sl_addr.h"
#include "sl_config_load.h"

struct sl_intake_tcp_conf {
    sl_tcp_conf conf; /* owned copy */
    sl_cidr *allow;
    size_t nallow;
};

static int dup_to(char **dst, const char *src)
{
    *dst = NULL;
    return src && !(*dst = strdup(src)) ? -1 : 0;
}

int sl_intake_tcp_conf_copy(sl_tcp_conf *dst, const sl_tcp_conf *src)
{
    *dst = *src;
    dst->allow = NULL;
    dst->nallow = 0;
    if (dup_to(&dst->listen, src->listen) != 0 ||
        dup_to(&dst->host, src->host) != 0 ||
        dup_to(&dst->connector, src->connector) != 0 ||
        dup_to(&dst->tls.cert, src->tls.cert) != 0 ||
        dup_to(&dst->tls.key, src->tls.key) != 0 ||
        dup_to(&dst->tls.client_ca, src->tls.client_ca) != 0 ||
        (src->nallow &&
         !(dst->allow = calloc(src->nallow, sizeof *dst->allow))))
        goto fail;
    for (; dst->nallow < src->nallow; dst->nallow++)
        if (dup_to(&dst->allow[dst->nallow], src->allow[dst->nallow]) != 0)
            goto fail;
    return 0;
fail:
    sl_config_tcp_clear(dst);
    return -1;
}

sl_intake_tcp_conf *sl_intake_tcp_conf_new(const sl_tcp_conf *src)
{
    sl_intake_tcp_conf *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    if (sl_intake_tcp_conf_copy(&p->conf, src) != 0 ||
        !(p->allow = calloc(src->nallow ? src->nallow : 1, sizeof *p->allow))) {
        sl_intake_tcp_conf_free(p);
        return NULL;
    }
    for (size_t i = 0; i < src->nallow; i++)
        if (sl_addr_parse_cidr(src->allow[i], strlen(src->allow[i]),
                               &p->allow[p->nallow]) == 0)
            p->nallow++;
    return p;
}

void sl_intake_tcp_conf_free(sl_intake_tcp_conf *p)
{
    if (!p)
        return;
    sl_config_tcp_clear(&p->conf);
    free(p->allow);
    free(p);
}

const sl_tcp_conf *sl_intake_tcp_conf_get(const sl_intake_tcp_conf *p)
{
    return &p->conf;
}

int sl_intake_tcp_conf_allows(const sl_intake_tcp_conf *p,
                              const struct sockaddr *sa)
{
    for (size_t i = 0; i < p->nallow; i++)
        if (sl_addr_cidr_match(&p->allow[i], sa))
            return 1;
    return 0;
}

void sl_intake_tcp_conf_peer(const struct sockaddr *sa, char *out, size_t n)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
        snprintf(out, n, "%s:%d", host, ntohs(s4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
        snprintf(out, n, "[%s]:%d", host, ntohs(s6->sin6_port));
    } else {
        snprintf(out, n, "?");
    }
}
