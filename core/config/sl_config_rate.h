/* sl_config_rate: the connector key `rate_limit = { requests_per_s,
 * records_per_s, burst }` into c.rate_* (sl_pace paces by them). Private
 * to the config module. */
#ifndef SL_CONFIG_RATE_H
#define SL_CONFIG_RATE_H

#include "sl_config_parse.h"

/* The smallest rate accepted: one a day. Below it a limit is a typo (a
 * rate of 1e-9 would wait 31 years); the largest, 1e9: a number beyond
 * is no limit. */
#define SL_CONFIG_RATE_MIN (1.0 / 86400)
#define SL_CONFIG_RATE_MAX 1e9
#define SL_CONFIG_BURST_MAX 1e6

/* rate_limit (target: sl_config_connector_target): a table parsed with
 * key->sub that names at least one of the rates; absent, no limit (rates
 * 0, burst 1). */
void sl_config_parse_rate_limit(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target);

/* rate_limit.requests_per_s, .records_per_s, .burst: a finite number in
 * range (a rate SL_CONFIG_RATE_MIN .. SL_CONFIG_RATE_MAX, fractions
 * allowed; burst 1 .. SL_CONFIG_BURST_MAX) into the double at key->off;
 * absent or refused, key->def. */
void sl_config_parse_rate(sl_config_parse_context *ctx,
                          const sl_config_key *key, int idx, void *target);

#endif
