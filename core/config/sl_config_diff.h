/* sl_config_diff: what differs between two loads of the configuration —
 * for a reload's account ("crm: headers, batch") and its decisions (a
 * schema that changed is refused, a state_dir cannot move). Compares
 * values only; secrets (intake keys, TLS passwords) are compared, never
 * written. */
#ifndef SL_CONFIG_DIFF_H
#define SL_CONFIG_DIFF_H

#include "sl_buf.h"
#include "sl_config.h"

/* Append to `out` the names of the key groups in which connector `a`
 * and `b` differ, comma-separated ("url, headers, batch"); the groups:
 * url, method, headers, body, batch, timeout, concurrency, rate_limit,
 * retry, status, ordered, idempotency, durability, intake_keys, limits,
 * lua, tls, proxy, health, schema; when none of them does but the file's text
 * does (file_hash: a function's body, a template, a status list, a
 * comment), "file". Returns how many differ (0: the same text) or -1 when
 * out is full. */
int sl_config_diff_connector(const sl_connector_conf *a,
                             const sl_connector_conf *b, sl_buf *out);

/* Does the schema differ (fields, types, nullability, policy)? 1 or 0. */
int sl_config_diff_schema(const sl_connector_conf *a,
                          const sl_connector_conf *b);

/* Gateway keys, as sl_config_diff_connector: listen, state_dir, limits
 * (max_* and the timeouts), tls, tcp, admin, log_level. Connectors are not compared. */
int sl_config_diff_gateway(const sl_config *a, const sl_config *b,
                           sl_buf *out);

/* Does TCP listener a differ from b in any key (listen, connector, ack,
 * allow, limits, timeouts, tls paths)? 1 or 0. */
int sl_config_diff_tcp(const sl_tcp_conf *a, const sl_tcp_conf *b);

#endif
