/* sl_config_gateway_rules: what the gateway file's values must be beyond
 * what the gateway key table (sl_config_keys.c) says: the custom parsers
 * and checks that table names, the struct its keys fill, and the checks
 * across keys once all are read. Private to the config module. */
#ifndef SL_CONFIG_GATEWAY_RULES_H
#define SL_CONFIG_GATEWAY_RULES_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_config_parse.h"

/* What the gateway keys fill. */
typedef struct sl_config_gateway_target {
    sl_config g;            /* the gateway keys and the listeners (owned
                               until copied whole into the loaded config;
                               file and connectors stay unset) */
    const char *dir;        /* the gateway file's directory */
    char **patterns;        /* owned; connector file patterns as written */
    long *pattern_index;    /* their 1-based positions in `connectors` */
    size_t npatterns, cappatterns;
} sl_config_gateway_target;

/* A string key that must not be empty (sl_config_key.check): 0, or -1
 * with the reason in why (n bytes). */
int sl_config_check_nonempty(const char *v, char *why, size_t n);

/* Custom parsers (sl_config_key.custom) of the gateway keys, with the
 * contract of those in sl_config_connector_rules.h. */

/* connectors: a list of file names or glob patterns into `patterns`;
 * absent, every .lua file in the folder connectors. */
void sl_config_parse_connectors(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target);
/* tcp: a list of up to 64 listener tables, each parsed with key->sub into
 * g.tcp (an element that is not a table keeps an empty slot, so that the
 * n-th listener stays tcp[n]), its listen address split into host and
 * port. */
void sl_config_parse_tcp(sl_config_parse_context *ctx,
                         const sl_config_key *key, int idx, void *target);
/* A listener's allow: 1 to 1024 addresses or CIDR blocks (target:
 * sl_tcp_conf); absent, loopback only. */
void sl_config_parse_allow(sl_config_parse_context *ctx,
                           const sl_config_key *key, int idx, void *target);

/* admin_keys: sl_config_parse_key_list into g.admin_keys. */
void sl_config_parse_admin_keys(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target);
/* After the gateway keys (target: sl_config_gateway_target): the listen
 * address split into host and port, no two sockets on one address, the
 * intakes' TLS files made relative to the gateway file's directory and
 * checked (readable, PEM, the key matching its certificate), and state_dir
 * made relative to that directory. */
void sl_config_gateway_after(sl_config_parse_context *ctx, void *target);

#endif
