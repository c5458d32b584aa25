/* Unit tests for sl_buf and sl_frame (framed blocks). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_frame.h"
#include "sl_test.h"

static void test_frame_cap(void)
{
    sl_buf b;
    sl_buf_init(&b, 8);
    CHECK(sl_frame_append(&b, "abcd", 4) == 0);
    CHECK(sl_frame_append(&b, "x", 1) == -1);
    CHECK(b.len == 8); /* unchanged by the failed frame */
    sl_buf_free(&b);
}

static void test_buf_cap_and_json_string(void)
{
    sl_buf b;
    sl_buf_init(&b, 16);
    CHECK(sl_buf_append(&b, "0123456789", 10) == 0);
    CHECK(sl_buf_append(&b, "0123456789", 10) == -1);
    CHECK(b.len == 10);
    CHECK(sl_buf_printf(&b, "%d", 123456) == 0);
    CHECK(sl_buf_printf(&b, "%d", 1) == -1);
    CHECK_STR(sl_buf_cstr(&b), "0123456789123456");
    sl_buf_free(&b);

    sl_buf_init(&b, 0);
    CHECK(sl_buf_json_string(&b, "a\"b\\c\n\x01", 7) == 0);
    CHECK_STR(sl_buf_cstr(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
    sl_buf_free(&b);

    /* a long printf goes through the slow path */
    sl_buf_init(&b, 0);
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(sl_buf_printf(&b, "<%s>", big) == 0);
    CHECK(b.len == 1001);
    sl_buf_free(&b);
}

/* The JSON string of s[0..n) as the spec says, byte by byte: the
 * reference sl_buf_json_string must match. */
static size_t reference_json(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\')
            o += (size_t)sprintf(out + o, "\\%c", c);
        else if (c == '\n')
            o += (size_t)sprintf(out + o, "\\n");
        else if (c == '\r')
            o += (size_t)sprintf(out + o, "\\r");
        else if (c == '\t')
            o += (size_t)sprintf(out + o, "\\t");
        else if (c < 0x20)
            o += (size_t)sprintf(out + o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o++] = '"';
    return o;
}

static void test_json_string_every_byte(void)
{
    /* each byte alone, and inside runs of plain bytes on both sides */
    unsigned char in[5];
    char want[64];
    for (int c = 0; c < 256; c++) {
        sl_buf b;
        sl_buf_init(&b, 0);
        in[0] = (unsigned char)c;
        size_t wl = reference_json(in, 1, want);
        CHECK(sl_buf_json_string(&b, (const char *)in, 1) == 0);
        CHECK(b.len == wl && memcmp(b.data, want, wl) == 0);
        sl_buf_reset(&b);
        memcpy(in, "ab", 2);
        in[2] = (unsigned char)c;
        memcpy(in + 3, "yz", 2);
        wl = reference_json(in, 5, want);
        CHECK(sl_buf_json_string(&b, (const char *)in, 5) == 0);
        CHECK(b.len == wl && memcmp(b.data, want, wl) == 0);
        sl_buf_free(&b);
    }
    /* empty, and an empty string with a NULL pointer */
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_buf_json_string(&b, NULL, 0) == 0);
    CHECK_STR(sl_buf_cstr(&b), "\"\"");
    sl_buf_free(&b);
}

static void test_json_string_cap(void)
{
    /* a string needing escapes at both ends and in the middle, under every
     * cap: it fits whole, or fails leaving the buffer as it was */
    const char *s = "\"lead\x01 plain text\\ more \n\xc3\xa9 tail\x1f";
    char want[128];
    size_t wl = reference_json((const unsigned char *)s, strlen(s), want);
    for (size_t cap = 3; cap <= wl + 3; cap++) {
        sl_buf b;
        sl_buf_init(&b, cap);
        CHECK(sl_buf_append(&b, "xyz", 3) == 0);
        int rc = sl_buf_json_string(&b, s, strlen(s));
        if (cap >= wl + 3) {
            CHECK(rc == 0 && b.len == wl + 3);
            CHECK(memcmp(b.data + 3, want, wl) == 0);
        } else {
            CHECK(rc == -1 && b.len == 3);
            CHECK(memcmp(b.data, "xyz", 3) == 0);
        }
        sl_buf_free(&b);
    }
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"frame_cap", test_frame_cap},
        {"buf_cap_and_json_string", test_buf_cap_and_json_string},
        {"json_string_every_byte", test_json_string_every_byte},
        {"json_string_cap", test_json_string_cap},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
