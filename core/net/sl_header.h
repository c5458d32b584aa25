/* sl_header: the rules for HTTP header names and values that sluice
 * accepts from an operator — static headers in a connector file, headers
 * returned by headers_fn, headers of sluice.http.request — kept in one
 * place so that all three agree (a delivery attempt's header list is
 * sl_attempt_headers, in delivery/). */
#ifndef SL_HEADER_H
#define SL_HEADER_H

#include <stdbool.h>
#include <stddef.h>

/* A non-empty RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~. */
bool sl_header_name_ok(const char *name);

/* Headers sluice sets itself and a connector may not: Content-Type,
 * Content-Length, Host, Transfer-Encoding (case-insensitive). */
bool sl_header_reserved(const char *name);

/* The len bytes of a value contain no CR, LF or NUL. */
bool sl_header_value_ok(const char *value, size_t len);

#endif
