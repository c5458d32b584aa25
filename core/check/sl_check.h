/* sl_check: the check of one record. The record is validated and encoded
 * against the schema into one queue frame; the bottom of check/, used by
 * sl_transform (a transform's outputs) and sl_ingest (a body's records).
 * Inline: it runs once per record, between the scanner and the encoder,
 * and a call of its own costs ~2 % of a record's instructions
 * (bench/callgrind.sh). */
#ifndef SL_CHECK_H
#define SL_CHECK_H

#include "sl_buf.h"
#include "sl_frame.h"
#include "sl_json.h"
#include "sl_schema.h"

/* Check and encode one record (first token read from js) as one queue
 * frame appended to block. Returns SL_SCHEMA_OK; on anything else block is
 * left as it was, and err says why for SL_SCHEMA_INVALID (js->err for
 * SL_SCHEMA_SYNTAX); a frame that does not fit block's cap is
 * SL_SCHEMA_NOMEM. */
static inline sl_schema_rc sl_check_record(const sl_schema *schema,
                                           sl_json *js,
                                           const sl_json_token *first,
                                           sl_buf *block, sl_schema_error *err)
{
    size_t off = sl_frame_begin(block);
    if (off == (size_t)-1)
        return SL_SCHEMA_NOMEM;
    sl_schema_rc rc = sl_schema_encode(schema, js, first, block, err);
    if (rc == SL_SCHEMA_OK)
        sl_frame_end(block, off);
    else
        sl_buf_truncate(block, off);
    return rc;
}

#endif
