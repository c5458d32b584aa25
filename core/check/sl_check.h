/* sl_check: the check of one record. The record is validated and encoded
 * against the schema into one queue frame; the bottom of check/, used by
 * sl_transform (a transform's outputs) and sl_ingest (a body's records). */
#ifndef SL_CHECK_H
#define SL_CHECK_H

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_schema.h"

/* Check and encode one record (first token read from js) as one queue
 * frame appended to block. Returns SL_SCHEMA_OK; on anything else block is
 * left as it was, and err says why for SL_SCHEMA_INVALID (js->err for
 * SL_SCHEMA_SYNTAX); a frame that does not fit block's cap is
 * SL_SCHEMA_NOMEM. */
sl_schema_rc sl_check_record(const sl_schema *schema, sl_json *js,
                             const sl_json_token *first, sl_buf *block,
                             sl_schema_error *err);

#endif
