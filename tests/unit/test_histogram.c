/* Unit tests for sl_histogram: bucket edges (a bound is inclusive), the
 * +Inf bucket, n observations at once, cumulative text byte for byte,
 * seconds from microseconds, labels or none, and a buffer too small
 * leaving the text as it was. */
#include <stdint.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_histogram.h"
#include "sl_test.h"

static const uint64_t le3[] = {10, 100, 1000};
static const sl_histogram_spec spec3 = {le3, 3, 1};
static const uint64_t le_us[] = {1000, 2500000};
static const sl_histogram_spec spec_us = {le_us, 2, 1000000};

static void test_edges(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    sl_histogram_observe(&h, &spec3, 0);
    sl_histogram_observe(&h, &spec3, 10);  /* on the bound: in it */
    sl_histogram_observe(&h, &spec3, 11);
    sl_histogram_observe(&h, &spec3, 1000);
    sl_histogram_observe(&h, &spec3, 1001); /* above every bound */
    sl_histogram_observe(&h, &spec3, UINT64_MAX / 2);
    CHECK(h.buckets[0] == 2 && h.buckets[1] == 1 && h.buckets[2] == 1 &&
          h.buckets[3] == 2);
    CHECK(h.count == 6);
    CHECK(h.sum == 0 + 10 + 11 + 1000 + 1001 + UINT64_MAX / 2);
}

/* n observations at once are n single ones (n = 0: none). */
static void test_observe_n(void)
{
    sl_histogram one, many;
    memset(&one, 0, sizeof one);
    memset(&many, 0, sizeof many);
    for (int i = 0; i < 7; i++)
        sl_histogram_observe(&one, &spec3, 50);
    sl_histogram_observe(&one, &spec3, 5000);
    sl_histogram_observe_n(&many, &spec3, 50, 7);
    sl_histogram_observe_n(&many, &spec3, 5000, 1);
    sl_histogram_observe_n(&many, &spec3, 10, 0);
    CHECK(memcmp(&one, &many, sizeof one) == 0);
    CHECK(many.count == 8 && many.buckets[1] == 7 && many.buckets[3] == 1 &&
          many.sum == 7 * 50 + 5000);
}

static void test_text_exact(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    sl_histogram_observe(&h, &spec3, 5);
    sl_histogram_observe(&h, &spec3, 50);
    sl_histogram_observe(&h, &spec3, 5000);
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_histogram_prom(&h, &spec3, "x_records", "connector=\"a\"",
                            &b) == 0);
    CHECK_STR(sl_buf_cstr(&b),
              "x_records_bucket{connector=\"a\",le=\"10\"} 1\n"
              "x_records_bucket{connector=\"a\",le=\"100\"} 2\n"
              "x_records_bucket{connector=\"a\",le=\"1000\"} 2\n"
              "x_records_bucket{connector=\"a\",le=\"+Inf\"} 3\n"
              "x_records_sum{connector=\"a\"} 5055\n"
              "x_records_count{connector=\"a\"} 3\n");
    sl_buf_free(&b);
}

static void test_seconds_no_labels(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    sl_histogram_observe(&h, &spec_us, 1500);      /* 1.5 ms */
    sl_histogram_observe(&h, &spec_us, 2000000);   /* 2 s */
    sl_buf b;
    sl_buf_init(&b, 0);
    CHECK(sl_histogram_prom(&h, &spec_us, "lat_seconds", "", &b) == 0);
    CHECK_STR(sl_buf_cstr(&b),
              "lat_seconds_bucket{le=\"0.001\"} 0\n"
              "lat_seconds_bucket{le=\"2.5\"} 2\n"
              "lat_seconds_bucket{le=\"+Inf\"} 2\n"
              "lat_seconds_sum 2.0015\n"
              "lat_seconds_count 2\n");
    sl_buf_free(&b);
    /* empty: every bucket 0, sum 0 */
    memset(&h, 0, sizeof h);
    sl_buf_init(&b, 0);
    CHECK(sl_histogram_prom(&h, &spec_us, "e", "", &b) == 0);
    CHECK_CONTAINS(sl_buf_cstr(&b), "e_bucket{le=\"+Inf\"} 0\ne_sum 0\n"
                                    "e_count 0\n");
    sl_buf_free(&b);
}

static void test_builtin_specs(void)
{
    const sl_histogram_spec *s[] = {&sl_histogram_latency_us,
                                    &sl_histogram_records,
                                    &sl_histogram_bytes};
    for (size_t k = 0; k < 3; k++) {
        CHECK(s[k]->n > 0 && s[k]->n <= SL_HISTOGRAM_MAX_BUCKETS);
        for (size_t i = 1; i < s[k]->n; i++)
            CHECK(s[k]->le[i] > s[k]->le[i - 1]);
    }
}

/* Every cap up to past the whole text: -1 and what was there kept, or
 * the whole text. */
static void test_out_of_room(void)
{
    sl_histogram h;
    memset(&h, 0, sizeof h);
    sl_histogram_observe(&h, &sl_histogram_latency_us, 12345);
    sl_buf whole;
    sl_buf_init(&whole, 0);
    CHECK(sl_histogram_prom(&h, &sl_histogram_latency_us, "l", "c=\"x\"",
                            &whole) == 0);
    for (size_t max = 1; max <= whole.len + 2; max++) {
        sl_buf b;
        sl_buf_init(&b, max);
        CHECK(sl_buf_putc(&b, '@') == 0);
        int rc = sl_histogram_prom(&h, &sl_histogram_latency_us, "l",
                                   "c=\"x\"", &b);
        CHECK(rc == 0 ? b.len == whole.len + 1 : rc == -1 && b.len == 1);
        sl_buf_free(&b);
    }
    sl_buf_free(&whole);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"edges", test_edges},
        {"observe_n", test_observe_n},
        {"text_exact", test_text_exact},
        {"seconds_no_labels", test_seconds_no_labels},
        {"builtin_specs", test_builtin_specs},
        {"out_of_room", test_out_of_room},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
