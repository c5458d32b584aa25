/* sl_config_status: a connector's `status` key — lists of HTTP status
 * codes whose class the operator sets (success, retry, permanent) — read
 * into c.status. Private to the config module. */
#ifndef SL_CONFIG_STATUS_H
#define SL_CONFIG_STATUS_H

#include "sl_config_parse.h"

/* At most this many codes in one list (there are 500 codes). */
#define SL_CONFIG_STATUS_LIST_MAX 500

/* The keys of `status`: success, retry, permanent. */
extern const sl_config_key sl_config_status_keys[];

/* status.success, status.retry, status.permanent (key->name says which;
 * target: sl_config_connector_target): a list of 1 to
 * SL_CONFIG_STATUS_LIST_MAX integers 100..599, each into c.status
 * (allocated by the first list given, owned by the connector). A code in
 * two lists (or twice in one) is reported naming both; absent, nothing. */
void sl_config_parse_status_list(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);

#endif
