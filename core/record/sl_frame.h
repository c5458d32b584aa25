/* sl_frame: records travel from the intake to the spool in "framed
 * blocks": a sequence of [u32 length, host byte order][record bytes]
 * frames, as the intake builds them for one request. */
#ifndef SL_FRAME_H
#define SL_FRAME_H

#include <stddef.h>

#include "sl_buf.h"

/* Append one record frame to a block. Returns 0, or -1 when the block's
 * cap is reached (block unchanged). */
int sl_frame_append(sl_buf *block, const char *rec, size_t len);

/* Start a frame whose record is appended next; returns its offset, or
 * (size_t)-1 when the cap is reached. Finish with sl_frame_end. */
size_t sl_frame_begin(sl_buf *block);
void sl_frame_end(sl_buf *block, size_t off);

#endif
