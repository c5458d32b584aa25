/* sl_intake_tcp_conf: a TCP listener's settings as the listener owns them
 * (a deep copy of its sl_tcp_conf: a reload frees the configuration it
 * came from while connections accepted with it are still served), its
 * allow list parsed, and the checks of a peer at accept. */
#ifndef SL_INTAKE_TCP_CONF_H
#define SL_INTAKE_TCP_CONF_H

#include <stddef.h>

#include "sl_config.h"

struct sockaddr;
typedef struct sl_intake_tcp_conf sl_intake_tcp_conf;

/* A copy of src (src is not kept). NULL out of memory. Allow entries
 * that do not parse (the checker refuses them) allow nothing. */
sl_intake_tcp_conf *sl_intake_tcp_conf_new(const sl_tcp_conf *src);
void sl_intake_tcp_conf_free(sl_intake_tcp_conf *p); /* accepts NULL */

/* The settings; valid until sl_intake_tcp_conf_free. */
const sl_tcp_conf *sl_intake_tcp_conf_get(const sl_intake_tcp_conf *p);

/* Is the peer sa in the allow list? 1 or 0. */
int sl_intake_tcp_conf_allows(const sl_intake_tcp_conf *p,
                              const struct sockaddr *sa);

/* *dst = a deep copy of src, whose strings dst owns (free them with
 * sl_config_tcp_clear). 0, or -1 out of memory with *dst zeroed. */
int sl_intake_tcp_conf_copy(sl_tcp_conf *dst, const sl_tcp_conf *src);

/* "1.2.3.4:5678", "[::1]:5678" or "?" for sa, into out (n bytes). */
void sl_intake_tcp_conf_peer(const struct sockaddr *sa, char *out, size_t n);

#endif
