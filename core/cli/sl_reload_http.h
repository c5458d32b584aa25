/* sl_reload_http: the HTTP intake's gateway keys as they run now
 * (listen, admin_listen, admin_keys, the limits, tls) and log_level, and
 * their change on a reload in two steps: prepare binds every new address
 * and builds the TLS context again from its files (every reload: a
 * rotated certificate is taken), and can fail without changing anything;
 * commit cannot fail.
 *
 * Ownership: the keys are borrowed from the configuration they came from
 * (the start's, or the last reload's: the gateway keeps it alive,
 * sl_reload_apply_configs_keep); the intake's TLS context is owned (the
 * intake borrows it; free this after the intake). */
#ifndef SL_RELOAD_HTTP_H
#define SL_RELOAD_HTTP_H

#include <openssl/ssl.h>

#include "sl_config.h"
#include "sl_intake_http.h"

typedef struct sl_reload_http sl_reload_http;
typedef struct sl_reload_http_change sl_reload_http_change;

/* cfg's keys (the start's) with tls its context (taken, may be NULL).
 * NULL out of memory (tls then still the caller's). */
sl_reload_http *sl_reload_http_new(const sl_config *cfg, SSL_CTX *tls);
void sl_reload_http_free(sl_reload_http *l); /* accepts NULL */

/* The last committed configuration (the start's, then each reload's):
 * every gateway key of it runs now (borrowed). What a reload is compared
 * with. */
const sl_config *sl_reload_http_keys(const sl_reload_http *l);

/* The intake's TLS context now (l's), or NULL: plain. */
SSL_CTX *sl_reload_http_tls(const sl_reload_http *l);

/* *o = the intake's options for c's keys, serving TLS with tls
 * (borrowed). At the start and in prepare. */
void sl_reload_http_opts(const sl_config *c, SSL_CTX *tls,
                         sl_intake_http_opts *o);

/* Phase 1: bind next's addresses that differ from l's, build next's TLS
 * context and admin keys. 0 with *out set, or -1 with the reason logged
 * (component reload) and nothing changed (*out NULL). */
int sl_reload_http_prepare(sl_reload_http *l, sl_intake_http *in,
                           const sl_config *next, sl_reload_http_change **out);

/* Phase 2: the intake serves next's keys (logged: what moved); l's keys
 * are next's (which must stay alive: sl_reload_apply_configs_keep).
 * Frees c. */
void sl_reload_http_commit(sl_reload_http *l, sl_intake_http *in,
                           sl_reload_http_change *c);

/* Drop c unapplied. Accepts NULL. */
void sl_reload_http_abort(sl_reload_http_change *c);

#endif
