/* Shared by the libFuzzer targets: whole-document checks with sl_json and
 * a hard failure that libFuzzer records as a crash with its input. */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "sl_json.h"

/* An invariant broke: say which, then abort so libFuzzer saves the input. */
#define FUZZ_ASSERT(cond)                                                   \
    do {                                                                    \
        if (!(cond)) {                                                      \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,      \
                    __LINE__, #cond);                                       \
            abort();                                                        \
        }                                                                   \
    } while (0)

/* Scan p[0..len) to its end. Returns 1 for one complete, valid document,
 * 0 for malformed input. Never reads outside the buffer (ASan checks). */
static inline int fuzz_json_valid(const char *p, size_t len, int max_depth)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, p, len, max_depth);
    for (size_t n = 0;; n++) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_END)
            return 1;
        if (ty == SL_JSON_ERROR) {
            FUZZ_ASSERT(js.err != NULL && js.err_off <= len);
            return 0;
        }
        FUZZ_ASSERT(n <= len); /* every token consumes input */
    }
}

#endif
