/* sl_frame: building framed blocks. */
#include "sl_frame.h"

#include <stdint.h>
#include <string.h>

size_t sl_frame_begin(sl_buf *block)
{
    uint32_t zero = 0;
    size_t off = block->len;
    /* once per record: the inline reserve, not a call to sl_buf_append */
    if (sl_buf_reserve(block, sizeof zero) != 0)
        return (size_t)-1;
    memcpy(block->data + off, &zero, sizeof zero);
    block->len = off + sizeof zero;
    return off;
}

void sl_frame_end(sl_buf *block, size_t off)
{
    uint32_t len = (uint32_t)(block->len - off - sizeof len);
    memcpy(block->data + off, &len, sizeof len);
}

int sl_frame_append(sl_buf *block, const char *rec, size_t len)
{
    size_t off = sl_frame_begin(block);
    if (off == (size_t)-1)
        return -1;
    if (sl_buf_append(block, rec, len) != 0) {
        sl_buf_truncate(block, off);
        return -1;
    }
    sl_frame_end(block, off);
    return 0;
}
