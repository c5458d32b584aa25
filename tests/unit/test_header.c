/* Unit tests for sl_header: the one set of header rules (an attempt's
 * header list: test_attempt_headers.c). */
#include <string.h>

#include "sl_header.h"
#include "sl_test.h"

static void test_names(void)
{
    CHECK(sl_header_name_ok("X-Api-Key"));
    CHECK(sl_header_name_ok("x!#$%&'*+-.^_`|~9"));
    CHECK(!sl_header_name_ok(""));
    CHECK(!sl_header_name_ok("X Api"));
    CHECK(!sl_header_name_ok("X:Api"));
    CHECK(!sl_header_name_ok("X-\xc3\xa9"));
    CHECK(!sl_header_name_ok("X\r\nInjected"));
}

static void test_reserved(void)
{
    CHECK(sl_header_reserved("content-type"));
    CHECK(sl_header_reserved("CONTENT-LENGTH"));
    CHECK(sl_header_reserved("Host"));
    CHECK(sl_header_reserved("transfer-encoding"));
    CHECK(!sl_header_reserved("Authorization"));
    CHECK(!sl_header_reserved("Content-Typ"));
}

static void test_values(void)
{
    CHECK(sl_header_value_ok("Bearer abc", 10));
    CHECK(sl_header_value_ok("", 0));
    CHECK(!sl_header_value_ok("a\r\nX-Evil: 1", 12));
    CHECK(!sl_header_value_ok("a\nb", 3));
    CHECK(!sl_header_value_ok("a\0b", 3)); /* an embedded NUL */
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"names", test_names},
        {"reserved", test_reserved},
        {"values", test_values},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
