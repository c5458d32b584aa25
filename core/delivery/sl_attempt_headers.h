/* sl_attempt_headers: a delivery attempt's request headers, built from a
 * connector's configuration and, with headers_fn, the table it returned
 * (names and values checked by sl_header's rules). */
#ifndef SL_ATTEMPT_HEADERS_H
#define SL_ATTEMPT_HEADERS_H

#include <stddef.h>

#include "sl_config.h"

struct curl_slist;
struct lua_State;

/* A delivery attempt's request headers for connector `c`, in this order:
 * the Content-Type of c's body form, "Content-Encoding: gzip" with
 * compression, "Expect:" (curl would otherwise wait
 * for 100-continue on larger bodies), c->idempotency_header set to `key`
 * (only with a key and that header configured), c's static headers (their
 * {field} placeholders filled from record rec[0..rec_len), the request's
 * one record; with rec NULL sent as written), and,
 * with `co`, the headers of headers_fn's table at the top of co's stack
 * (string or integer values; false leaves that header out; a
 * Content-Encoding is refused, with or without compression). A name in the
 * table overrides the idempotency and static headers of the same name
 * (case-insensitive). Returns a new list that the caller frees with
 * sl_attempt_headers_free; NULL with the reason in why (a bad name or
 * value in the table, a line past 8 KiB, a record's value that
 * sl_fieldtpl refuses, out of memory). co's stack is
 * left as it was (the table stays at the top) and nothing is allocated in
 * Lua. */
struct curl_slist *sl_attempt_headers_new(const sl_connector_conf *c,
                                          const char *key, const char *rec,
                                          size_t rec_len,
                                          struct lua_State *co, char *why,
                                          size_t whylen);

/* Free a list from sl_attempt_headers_new (curl_slist_free_all). Accepts
 * NULL. */
void sl_attempt_headers_free(struct curl_slist *list);

#endif
