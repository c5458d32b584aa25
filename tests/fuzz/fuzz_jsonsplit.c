/* fuzz_jsonsplit: bytes through sl_jsonsplit, as a JSON array or as
 * NDJSON, with the default or a small element limit. The first byte picks
 * the options; the rest is the file. Every accepted element must be one
 * valid JSON object no longer than the limit, lines must never go back,
 * and feeding the file whole, one byte at a time and cut at a point the
 * input picks must give the same elements and the same result. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_jsonsplit.h"

typedef struct logger {
    sl_buf *log;
    size_t max_bytes;
    size_t last_line;
} logger;

/* One line per element: its line, whether cut, the object or reason, the
 * raw text. */
static int log_item(void *ud, const sl_jsonsplit_item *it)
{
    logger *lg = ud;
    FUZZ_ASSERT(it->line >= 1 && it->line >= lg->last_line);
    lg->last_line = it->line;
    FUZZ_ASSERT((it->json == NULL) != (it->error == NULL));
    if (it->json) {
        FUZZ_ASSERT(it->json_len >= 2 && it->json[0] == '{');
        FUZZ_ASSERT(it->json_len <= lg->max_bytes);
        FUZZ_ASSERT(fuzz_json_valid(it->json, it->json_len, 0) == 1);
        FUZZ_ASSERT(!it->raw_cut);
    }
    FUZZ_ASSERT(it->raw_len <= lg->max_bytes);
    sl_buf_printf(lg->log, "%zu %d ", it->line, it->raw_cut);
    if (it->json)
        sl_buf_append(lg->log, it->json, it->json_len);
    else
        sl_buf_printf(lg->log, "! %s", it->error);
    sl_buf_putc(lg->log, '|');
    sl_buf_append(lg->log, it->raw, it->raw_len);
    sl_buf_putc(lg->log, '\n');
    return 0;
}

/* Split data[0..n) in pieces of `step` bytes (0: in two at `cut`); the
 * result and the log. */
static sl_jsonsplit_rc run(bool array, size_t max_bytes, const uint8_t *data,
                           size_t n, size_t step, size_t cut, sl_buf *log)
{
    logger lg = {.log = log,
                 .max_bytes = max_bytes ? max_bytes
                                        : SL_JSONSPLIT_DEF_MAX_BYTES};
    sl_jsonsplit *js = sl_jsonsplit_new(array, max_bytes, log_item, &lg);
    FUZZ_ASSERT(js != NULL);
    sl_jsonsplit_rc rc = SL_JSONSPLIT_OK;
    if (step == 0) {
        rc = sl_jsonsplit_feed(js, data, cut);
        if (rc == SL_JSONSPLIT_OK)
            rc = sl_jsonsplit_feed(js, data + cut, n - cut);
    } else {
        for (size_t i = 0; i < n && rc == SL_JSONSPLIT_OK; i += step)
            rc = sl_jsonsplit_feed(js, data + i, n - i < step ? n - i : step);
    }
    if (rc == SL_JSONSPLIT_OK)
        rc = sl_jsonsplit_finish(js);
    FUZZ_ASSERT(sl_jsonsplit_line(js) >= lg.last_line);
    sl_buf_printf(log, "rc %d %s\n", (int)rc, sl_jsonsplit_error(js));
    sl_jsonsplit_free(js);
    return rc;
}

static void same(const sl_buf *a, const sl_buf *b)
{
    if (a->len != b->len || memcmp(a->data, b->data, a->len) != 0)
        fprintf(stderr, "one way:\n%.*s\nanother:\n%.*s\n", (int)a->len,
                a->data, (int)b->len, b->data);
    FUZZ_ASSERT(a->len == b->len && memcmp(a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t opt = data[0];
    data++;
    size--;
    bool array = (opt & 1) != 0;
    size_t max_bytes = opt & 2 ? 24 : 0;
    sl_buf a, b, c;
    sl_buf_init(&a, 0);
    sl_buf_init(&b, 0);
    sl_buf_init(&c, 0);
    sl_jsonsplit_rc ra = run(array, max_bytes, data, size, 0, size, &a);
    sl_jsonsplit_rc rb = run(array, max_bytes, data, size, 1, 0, &b);
    sl_jsonsplit_rc rc = run(array, max_bytes, data, size, 0,
                             size ? (opt * 7u) % size : 0, &c);
    FUZZ_ASSERT(ra == rb && ra == rc);
    same(&a, &b);
    same(&a, &c);
    sl_buf_free(&a);
    sl_buf_free(&b);
    sl_buf_free(&c);
    return 0;
}
