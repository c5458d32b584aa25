/* sl_config_keys: every configuration key, declared once in a table that
 * parses (sl_config_parse.c), defaults and documents it (the reference of
 * sl_config_print.c). Private to the config module. */
#ifndef SL_CONFIG_KEYS_H
#define SL_CONFIG_KEYS_H

#include "sl_config_parse.h"

/* The gateway file's table, into a sl_config_gateway_target. */
extern const sl_config_key sl_config_gateway_keys[];
/* A connector file's table, into a sl_config_connector_target. */
extern const sl_config_key sl_config_connector_keys[];
/* One element of a connector's schema, into a sl_config_field. */
extern const sl_config_key sl_config_field_keys[];

/* The names of enum keys' values, NULL-terminated, by value. */
extern const char *const sl_config_body_choices[];       /* sl_body_form */
extern const char *const sl_config_compression_choices[]; /* sl_compression */
extern const char *const sl_config_unknown_choices[];    /* sl_unknown_policy */
extern const char *const sl_config_durability_choices[]; /* sl_durability */
extern const char *const sl_config_on_permanent_choices[]; /* SL_ON_* */
extern const char *const sl_config_tls_versions[]; /* tls.min_version */
extern const char *const sl_config_http_version_choices[]; /* sl_transport_http */

#endif
