/* sl_config_tls: a connector's `tls` key beyond what its key table says:
 * the server name's form, the paths made relative to the connector file,
 * the checks across its keys and of its files, the sl_transport TLS
 * options they become, and what `sluice check` shows of them. Private to
 * the config module. */
#ifndef SL_CONFIG_TLS_H
#define SL_CONFIG_TLS_H

#include <stddef.h>
#include <stdio.h>

#include "sl_config.h"
#include "sl_config_parse.h"

/* tls.server_name: a DNS name (labels of letters, digits and '-', joined
 * by '.'), at most 253 characters. 0 if v is good, else -1 and why. */
int sl_config_check_server_name(const char *v, char *why, size_t n);

/* *path (malloc'd, NULL: unset) made relative to the directory of
 * ctx->file, the connector file, unless it is absolute or the file has no
 * directory part; out of memory is an error in ctx. */
void sl_config_tls_resolve(sl_config_parse_context *ctx, char **path);

/* After the connector keys: resolve c's tls paths against the directory
 * of ctx->file, report keys that need another (client_key without
 * client_cert, a password without a key to open), fill c->transport.tls
 * from them (c->transport already initialised), read the files
 * (sl_tls_files_check: each problem an error at its tls key) and keep in
 * c->warnings what check and the start warn of: a certificate expiring
 * within SL_TLS_FILES_WARN_DAYS, verify = false, tls on an http:// url. */
void sl_config_tls_after(sl_config_parse_context *ctx, sl_connector_conf *c);

/* Read the files of t as curl will (sl_tls_files_check) for connector c:
 * each error at the key path table.KEY ("tls.client_key",
 * "proxy.ca_file"), each warning (a certificate about to expire) in
 * c->warnings as "table.KEY: ...". `table` is a static string. */
void sl_config_tls_check_files(sl_config_parse_context *ctx,
                               sl_connector_conf *c,
                               const sl_transport_tls *t, const char *table);

/* The `sluice check` lines of c's TLS: where the CA comes from, verify,
 * the version, the client certificate's subject and expiry, server_name;
 * never the password. */
void sl_config_tls_print(const sl_connector_conf *c, FILE *out);

/* Free (and wipe the password of) c's tls strings. Accepts a zeroed c. */
void sl_config_tls_free(sl_connector_conf *c);

#endif
