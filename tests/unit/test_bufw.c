/* Unit tests for sl_bufw: text written, and the first failure sticking. */
#include <string.h>

#include "sl_bufw.h"
#include "sl_test.h"

static void test_writes(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_bufw o = {&b, 0};
    sl_bufw_put(&o, "{\"k\":");
    sl_bufw_str(&o, "a\"\n\0z", 5);
    sl_bufw_putf(&o, ",\"n\":%d}", 42);
    CHECK(!o.failed);
    CHECK_STR(sl_buf_cstr(&b), "{\"k\":\"a\\\"\\n\\u0000z\",\"n\":42}");
    sl_buf_free(&b);
}

static void test_cap_sticks(void)
{
    sl_buf b;
    sl_buf_init(&b, 8);
    sl_bufw o = {&b, 0};
    sl_bufw_put(&o, "12345");
    sl_bufw_put(&o, "6789"); /* over the cap */
    CHECK(o.failed);
    CHECK(b.len == 5);
    sl_bufw_put(&o, "x"); /* would fit, but the writer has failed */
    sl_bufw_putf(&o, "%d", 1);
    sl_bufw_str(&o, "", 0);
    CHECK(b.len == 5);
    CHECK_STR(sl_buf_cstr(&b), "12345");
    sl_buf_free(&b);
}

static void test_putf_limit(void)
{
    char big[600];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_bufw o = {&b, 0};
    sl_bufw_putf(&o, "%.511s", big); /* 511 bytes: the most */
    CHECK(!o.failed && b.len == 511);
    sl_bufw_putf(&o, "%.512s", big);
    CHECK(o.failed && b.len == 511); /* nothing of it written */
    sl_buf_free(&b);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"writes", test_writes},
        {"cap_sticks", test_cap_sticks},
        {"putf_limit", test_putf_limit},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
