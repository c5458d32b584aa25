/* Unit tests for sl_unsettled: appends settled durable in order, dropped
 * from the tail on a failure, the ring growing past its first size. */
#include <stdint.h>

#include "sl_test.h"
#include "sl_unsettled.h"

static void test_durable_in_order(void)
{
    sl_unsettled *u = sl_unsettled_new();
    CHECK(u != NULL);
    CHECK(sl_unsettled_durable(u, 100) == 0);
    CHECK(sl_unsettled_push(u, 10, 3) == 0);
    CHECK(sl_unsettled_push(u, 20, 5) == 0);
    CHECK(sl_unsettled_push(u, 30, 7) == 0);
    CHECK(sl_unsettled_records(u) == 15);
    CHECK(sl_unsettled_durable(u, 9) == 0);
    CHECK(sl_unsettled_durable(u, 20) == 8);
    CHECK(sl_unsettled_durable(u, 20) == 0);
    CHECK(sl_unsettled_records(u) == 7);
    CHECK(sl_unsettled_durable(u, UINT64_MAX) == 7);
    CHECK(sl_unsettled_records(u) == 0);
    sl_unsettled_free(u);
    sl_unsettled_free(NULL);
}

static void test_failed_from_the_tail(void)
{
    sl_unsettled *u = sl_unsettled_new();
    CHECK(sl_unsettled_push(u, 10, 1) == 0);
    CHECK(sl_unsettled_push(u, 20, 2) == 0);
    CHECK(sl_unsettled_push(u, 30, 4) == 0);
    CHECK(sl_unsettled_failed(u, 10) == 6); /* 20 and 30 dropped */
    CHECK(sl_unsettled_records(u) == 1);
    CHECK(sl_unsettled_failed(u, 10) == 0);
    /* after a failure the spool hands out tickets from its write position
     * again: above what is left */
    CHECK(sl_unsettled_push(u, 15, 8) == 0);
    CHECK(sl_unsettled_durable(u, 15) == 9);
    CHECK(sl_unsettled_failed(u, 0) == 0);
    sl_unsettled_free(u);
}

static void test_growth_wraps(void)
{
    sl_unsettled *u = sl_unsettled_new();
    uint64_t t = 0, want = 0;
    /* wrap the ring, then grow it while wrapped */
    for (int i = 0; i < 10; i++)
        CHECK(sl_unsettled_push(u, ++t, 1) == 0);
    CHECK(sl_unsettled_durable(u, 8) == 8);
    for (int i = 0; i < 1000; i++)
        CHECK(sl_unsettled_push(u, ++t, 2) == 0);
    want = 2 + 2000;
    CHECK(sl_unsettled_records(u) == want);
    CHECK(sl_unsettled_durable(u, 10) == 2);
    CHECK(sl_unsettled_failed(u, t - 10) == 20);
    CHECK(sl_unsettled_durable(u, t) == 2000 - 20);
    CHECK(sl_unsettled_records(u) == 0);
    sl_unsettled_free(u);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"durable_in_order", test_durable_in_order},
        {"failed_from_the_tail", test_failed_from_the_tail},
        {"growth_wraps", test_growth_wraps},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
