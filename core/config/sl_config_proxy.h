/* sl_config_proxy: a connector's proxy -- the keys proxy and no_proxy, and
 * their resolution with the environment (http_proxy, HTTPS_PROXY, ...) at
 * load into the connector's transport. Private to the config module. */
#ifndef SL_CONFIG_PROXY_H
#define SL_CONFIG_PROXY_H

#include "sl_config.h"
#include "sl_config_parse.h"
#include "sl_proxy.h"

/* Custom parsers (sl_config_key.custom; target: an
 * sl_config_connector_target). proxy: a proxy URL (sl_proxy_check_url),
 * false, or a table of key->sub (url, user, password: the URL without
 * credentials, which are percent-encoded into it), into c.proxy_http and
 * c.proxy_https (absent: FROM_NONE, resolved later). no_proxy: a list of
 * 1 to 256 entries (sl_proxy_check_no_proxy_entry), joined with "," into
 * c.no_proxy. Messages show a proxy URL masked (sl_proxy_mask). */
void sl_config_parse_proxy(sl_config_parse_context *ctx,
                           const sl_config_key *key, int idx, void *target);
/* proxy.user, proxy.password: a string of 1 to 1024 bytes without NUL,
 * borrowed into the const char * at key->off; no message shows it. */
void sl_config_parse_proxy_secret(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target);
/* proxy.url (sl_config_key.check): a proxy URL without credentials. */
int sl_config_check_proxy_bare_url(const char *v, char *why, size_t n);
void sl_config_parse_no_proxy(sl_config_parse_context *ctx,
                              const sl_config_key *key, int idx,
                              void *target);

/* After the keys and sl_config_connector_after (the loader calls it; not
 * that function, which this module's parsers depend on): a scheme
 * without the key takes its variable from the
 * environment (read through fn, ud), checked like the key (a value
 * without a scheme is http://, as curl reads it); no_proxy without the
 * key comes from the environment when a proxy does; then c->transport
 * points to the settings. Every problem is reported through ctx, naming
 * the variable. */
void sl_config_proxy_resolve(sl_config_parse_context *ctx,
                             sl_connector_conf *c, sl_proxy_getenv_fn fn,
                             void *ud);

/* Free what the settings own and zero them. */
void sl_config_proxy_free(sl_connector_conf *c);

#endif
