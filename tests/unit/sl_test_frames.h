/* sl_test_frames: test helper that joins the records of a framed block
 * (sl_frame frames) as "rec|rec|", for comparing what was queued. */
#ifndef SL_TEST_FRAMES_H
#define SL_TEST_FRAMES_H

#include <stdint.h>
#include <string.h>

#include "sl_buf.h"

static inline void sl_test_join_frames(const sl_buf *block, char *out,
                                       size_t cap)
{
    size_t w = 0;
    for (size_t off = 0; off < block->len;) {
        uint32_t len;
        memcpy(&len, block->data + off, 4);
        if (w + len + 2 < cap) {
            memcpy(out + w, block->data + off + 4, len);
            w += len;
            out[w++] = '|';
        }
        off += 4 + len;
    }
    out[w] = '\0';
}

#endif
