/* Unit tests for sl_config_errors: the list of messages a configuration
 * load reports (order kept, growth, reuse after free). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config_errors.h"
#include "sl_test.h"

static void test_empty(void)
{
    sl_config_errors e;
    memset(&e, 0xab, sizeof e);
    sl_config_errors_init(&e);
    CHECK(e.n == 0 && e.cap == 0 && e.msgs == NULL);
    sl_config_errors_free(&e); /* nothing to free */
    CHECK(e.n == 0 && e.msgs == NULL);
}

static void test_add_formats(void)
{
    sl_config_errors e;
    sl_config_errors_init(&e);
    sl_config_errors_add(&e, "%s:%d: %s", "gw.lua", 3, "listen: bad");
    sl_config_errors_add(&e, "%s", "100% literal, no format");
    sl_config_errors_add(&e, "%%s stays");
    CHECK(e.n == 3);
    CHECK_STR(e.msgs[0], "gw.lua:3: listen: bad");
    CHECK_STR(e.msgs[1], "100% literal, no format");
    CHECK_STR(e.msgs[2], "%s stays");
    sl_config_errors_free(&e);
}

/* Past the first allocation (16) and several doublings, in order. */
static void test_growth_keeps_order(void)
{
    sl_config_errors e;
    char want[32];
    sl_config_errors_init(&e);
    for (int i = 0; i < 1000; i++)
        sl_config_errors_add(&e, "problem %d", i);
    CHECK(e.n == 1000);
    CHECK(e.cap >= e.n);
    for (int i = 0; i < 1000; i += 111) {
        snprintf(want, sizeof want, "problem %d", i);
        CHECK_STR(e.msgs[i], want);
    }
    CHECK_STR(e.msgs[999], "problem 999");
    sl_config_errors_free(&e);
    CHECK(e.n == 0 && e.cap == 0 && e.msgs == NULL);
}

/* A message is kept whole however long, and bytes a file could hold
 * (quotes, controls already replaced by the parser or not) are copied as
 * they are. */
static void test_long_and_odd_messages(void)
{
    sl_config_errors e;
    size_t len = 200000;
    char *big = malloc(len + 1);
    CHECK(big != NULL);
    if (!big)
        return;
    memset(big, 'x', len);
    big[len] = '\0';
    sl_config_errors_init(&e);
    sl_config_errors_add(&e, "%s", big);
    sl_config_errors_add(&e, "%s", "\"quoted\"\t\x01\x7f");
    sl_config_errors_add(&e, "%s", "");
    CHECK(e.n == 3);
    CHECK(strlen(e.msgs[0]) == len);
    CHECK_STR(e.msgs[1], "\"quoted\"\t\x01\x7f");
    CHECK_STR(e.msgs[2], "");
    sl_config_errors_free(&e);
    free(big);
}

static void test_reuse_after_free(void)
{
    sl_config_errors e;
    sl_config_errors_init(&e);
    sl_config_errors_add(&e, "first");
    sl_config_errors_free(&e);
    sl_config_errors_add(&e, "second");
    CHECK(e.n == 1);
    CHECK_STR(e.msgs[0], "second");
    sl_config_errors_free(&e);
    sl_config_errors_free(&e); /* twice is fine */
    CHECK(e.n == 0);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"empty", test_empty},
        {"add_formats", test_add_formats},
        {"growth_keeps_order", test_growth_keeps_order},
        {"long_and_odd_messages", test_long_and_odd_messages},
        {"reuse_after_free", test_reuse_after_free},
        {NULL, NULL}};
    return sl_test_run(cases);
}
