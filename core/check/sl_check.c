/* sl_check: one record → one frame, through the schema. */
#include "sl_check.h"

#include "sl_frame.h"

sl_schema_rc sl_check_record(const sl_schema *schema, sl_json *js,
                             const sl_json_token *first, sl_buf *block,
                             sl_schema_error *err)
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
