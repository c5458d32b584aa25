/* sl_preview: the request a connector sends for one record, written for a
 * person (`sluice check`): the method, the URL with its placeholders
 * filled, the headers every attempt carries (secret-looking values
 * masked) and the body, each made by the code that makes what is sent
 * (sl_batch, sl_fieldtpl, sl_attempt_headers, sl_gzip). Nothing is sent
 * and no Lua runs. */
#ifndef SL_PREVIEW_H
#define SL_PREVIEW_H

#include <stddef.h>
#include <stdio.h>

#include "sl_config.h"

/* Whether the preview masks the value of header `name` of connector c:
 * a secret-looking name (sl_config_header_is_secret), except c's
 * idempotency header, whose value is a batch's key. */
int sl_preview_header_masked(const sl_connector_conf *c, const char *name);

/* Write to out, indented by four spaces, the request connector c sends
 * for the one encoded record rec[0..len) (a compact JSON object in schema
 * order, as sl_schema_encode writes it). The idempotency key is the one a
 * first batch of a new spool gets. Returns 0, or -1 with the reason in
 * why (the record's value cannot fill the URL or a header, out of
 * memory); then out may hold part of the request. */
int sl_preview_request(const sl_connector_conf *c, const char *rec,
                       size_t len, FILE *out, char *why, size_t whylen);

/* sluice check's part for connector c: a record made up from the schema
 * (sl_schema_sample), checked and encoded as an intake would, and the
 * request it becomes (sl_preview_request), under a heading. When the
 * schema's rules admit no made-up record, or out of memory, says so in
 * out instead. */
void sl_preview_connector(const sl_connector_conf *c, FILE *out);

#endif
