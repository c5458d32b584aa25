/* sl_config_print: the configuration shown to a person: what `sluice
 * check` prints, and the Markdown reference of every key (`sluice keys`,
 * docs/connectors.md), written from the same tables that parse them. */
#ifndef SL_CONFIG_PRINT_H
#define SL_CONFIG_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include "sl_config.h"

/* Print what `sluice check` shows: per connector its method, URL, body form,
 * batching, header names (secret-looking values masked) and schema table. */
void sl_config_print(const sl_config *c, FILE *out);

/* Its two parts: the gateway with its TCP listeners, and one connector
 * (a blank line, then its block). */
void sl_config_print_gateway(const sl_config *c, FILE *out);
void sl_config_print_connector(const sl_connector_conf *c, FILE *out);

/* Whether a header's value should be masked when shown: its name contains
 * authorization, token, secret, key, signature, password or cookie
 * (case-insensitive). */
bool sl_config_header_is_secret(const char *name);

/* A proxy setting as shown, into buf (n bytes; returned): the value
 * masked (sl_proxy_mask) and its origin, "http://u:***@proxy:3128
 * (environment HTTPS_PROXY)", "... (connector key <key>)", "none (proxy =
 * false: ...)" or "none". */
const char *sl_config_print_proxy(const sl_proxy_setting *s, const char *key,
                                  char *buf, size_t n);

/* Write the reference of every connector key (name, type, default,
 * description) as Markdown, from the same table that parses them. */
void sl_config_print_reference(FILE *out);

#endif
