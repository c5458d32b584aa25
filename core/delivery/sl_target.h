/* sl_target: where one request of a connector goes — its URL as written,
 * or, with {field} placeholders (body "object"), rendered from the one
 * record the request carries, whose values are checked for the headers'
 * placeholders too. */
#ifndef SL_TARGET_H
#define SL_TARGET_H

#include <stddef.h>

#include "sl_batch.h"
#include "sl_buf.h"
#include "sl_config.h"

typedef enum sl_target_rc {
    SL_TARGET_OK = 0,
    SL_TARGET_BAD,   /* the record cannot make a request: dead-letter it */
    SL_TARGET_NOMEM  /* out of memory: try again later */
} sl_target_rc;

/* The record of the current piece of `recs` (a batch of connector c),
 * whose values fill c's placeholders (*len bytes, inside the batch); NULL
 * when c has none (c->record_tpls NULL). */
const char *sl_target_record(const sl_connector_conf *c, const sl_batch *recs,
                             size_t *len);

/* The URL of c's request for the current piece of `recs`. Without
 * placeholders *url is c->url, and nothing is read. Otherwise every
 * template of c->record_tpls must accept the record's values (a header
 * value without a control character, a path segment not empty: the
 * intake already refuses such records, this catches those of an older
 * configuration); then, with placeholders in the URL, it is rendered
 * into buf (reset first, NUL-terminated) and *url points into it, else
 * *url is c->url. SL_TARGET_BAD with the reason in why ("field \"id\":
 * is empty, ..."), SL_TARGET_NOMEM: *url is c->url then. */
sl_target_rc sl_target_url(const sl_connector_conf *c, const sl_batch *recs,
                           sl_buf *buf, const char **url, char *why,
                           size_t whylen);

#endif
