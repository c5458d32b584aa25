/* fuzz_json: the pull scanner over arbitrary bytes. Each token is checked
 * to lie inside the input; strings are unescaped, numbers parsed; a second
 * pass skips every top-level container with sl_json_skip and must agree
 * with the token-by-token pass. */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "sl_buf.h"
#include "sl_json.h"

static int token_pass(const char *p, size_t len, int max_depth)
{
    sl_json js;
    sl_json_token t;
    char dst[256];
    sl_buf out;
    sl_buf_init(&out, 1 << 20);
    sl_json_init(&js, p, len, max_depth);
    int ok;
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_END || ty == SL_JSON_ERROR) {
            ok = ty == SL_JSON_END;
            /* stays where it is */
            FUZZ_ASSERT(sl_json_next(&js, &t) == ty);
            break;
        }
        FUZZ_ASSERT(t.p >= p && t.p + t.len <= p + len);
        FUZZ_ASSERT(js.depth >= 0 && js.depth <= SL_JSON_MAX_DEPTH);
        if (ty == SL_JSON_STRING || ty == SL_JSON_KEY) {
            size_t n = 0;
            sl_buf_reset(&out);
            FUZZ_ASSERT(sl_json_unescape(t.p, t.len, &out) == 0);
            FUZZ_ASSERT(out.len <= t.len);
            /* no escapes: the bytes are the string */
            if (!(t.flags & SL_JSON_F_ESCAPED))
                FUZZ_ASSERT(out.len == t.len &&
                            (!t.len || memcmp(out.data, t.p, t.len) == 0));
            if (sl_json_unescape_into(t.p, t.len, dst, sizeof dst, &n) == 0)
                FUZZ_ASSERT(n == out.len && (!n || memcmp(dst, out.data, n) == 0));
            else
                FUZZ_ASSERT(out.len > sizeof dst);
        } else if (ty == SL_JSON_NUMBER) {
            int64_t v;
            double d;
            if (t.flags & SL_JSON_F_INT)
                (void)sl_json_parse_int64(t.p, t.len, &v);
            (void)sl_json_parse_double(t.p, t.len, &d);
        }
        (void)sl_json_type_name(ty);
    }
    sl_buf_free(&out);
    return ok;
}

/* Top-level value taken with one sl_json_skip. */
static int skip_pass(const char *p, size_t len, int max_depth)
{
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, p, len, max_depth);
    sl_json_type ty = sl_json_next(&js, &t);
    if (ty == SL_JSON_ERROR || ty == SL_JSON_END)
        return 0;
    if (sl_json_skip(&js, &t) != 0)
        return 0;
    return sl_json_next(&js, &t) == SL_JSON_END;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    int ok = token_pass(p, size, 0);
    FUZZ_ASSERT(ok == fuzz_json_valid(p, size, 0));
    FUZZ_ASSERT(ok == skip_pass(p, size, 0));
    /* a lower depth limit can only refuse more */
    if (!ok)
        FUZZ_ASSERT(!token_pass(p, size, 4));
    return 0;
}
