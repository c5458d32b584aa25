/* Unit tests for sl_buf and sl_frame (framed blocks). */
#include <stdint.h>
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

int main(void)
{
    static const sl_test_case cases[] = {
        {"frame_cap", test_frame_cap},
        {"buf_cap_and_json_string", test_buf_cap_and_json_string},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
