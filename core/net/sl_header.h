/* sl_header: the rules for HTTP header names and values that sluice
 * accepts from an operator — static headers in a connector file, headers
 * returned by headers_fn, headers of sluice.http.request — kept in one
 * place so that all three agree; and the header list of a delivery
 * attempt, built from them. */
#ifndef SL_HEADER_H
#define SL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_config.h"

struct curl_slist;
struct lua_State;

/* A non-empty RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~. */
bool sl_header_name_ok(const char *name);

/* Headers sluice sets itself and a connector may not: Content-Type,
 * Content-Length, Host, Transfer-Encoding (case-insensitive). */
bool sl_header_reserved(const char *name);

/* The len bytes of a value contain no CR, LF or NUL. */
bool sl_header_value_ok(const char *value, size_t len);

/* A delivery attempt's request headers for connector `c`, in this order:
 * the Content-Type of c's body form, "Expect:" (curl would otherwise wait
 * for 100-continue on larger bodies), c->idempotency_header set to `key`
 * (only with a key and that header configured), c's static headers, and,
 * with `co`, the headers of headers_fn's table at the top of co's stack
 * (string or integer values; false leaves that header out). A name in the
 * table overrides the idempotency and static headers of the same name
 * (case-insensitive). Returns a new list that the caller frees with
 * curl_slist_free_all; NULL with the reason in why (a bad name or value in
 * the table, a line past 8 KiB, out of memory). co's stack is left as it
 * was (the table stays at the top) and nothing is allocated in Lua. */
struct curl_slist *sl_header_list(const sl_connector_conf *c, const char *key,
                                  struct lua_State *co, char *why,
                                  size_t whylen);

#endif
