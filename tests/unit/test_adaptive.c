/* Unit tests for sl_adaptive on a real event base: attempts in line in
 * order, the one given back always goes, cutting only with a free slot
 * and fewer than twice the limit outstanding, which answers are back
 * pressure (429, 503, 504, timeouts, failed connections; not 500, a TLS
 * failure, out of memory), a `status.success` code as a sample, the cuts
 * counted, and the owner woken from the loop after each answer. */
#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "sl_adaptive.h"
#include "sl_status_lists.h"
#include "sl_test.h"

static int woken;
static void wake(void *ud)
{
    (void)ud;
    woken++;
}

static sl_http_client_response ok(double s)
{
    return (sl_http_client_response){.status = 200, .seconds = s,
                                     .error = "", .body = ""};
}

static sl_http_client_response failed(long status, CURLcode code)
{
    return (sl_http_client_response){.status = status, .curl_code = code,
                                     .error = "boom", .body = ""};
}

/* Raise the limit of a to at least `want`: fast answers, each window one
 * 10 ms round trip, the limit reached. *now moves on. */
static void grow(sl_adaptive *a, uint64_t *now, unsigned want)
{
    sl_http_client_response r = ok(0.010);
    for (int i = 0; i < 1000 && sl_adaptive_limit(a) < want; i++) {
        *now += 10;
        sl_adaptive_answer(a, &r, 0, sl_adaptive_limit(a), *now);
    }
}

static void test_line(void)
{
    struct event_base *base = event_base_new();
    sl_connector_conf conf = {.name = "t", .max_concurrency = 4};
    sl_stats stats = {0};
    sl_adaptive *a = sl_adaptive_new(base, &conf, &stats, wake, NULL);
    int items[5];
    CHECK(a && sl_adaptive_limit(a) == 1);
    /* a slot is free: go; none: in line, in order */
    CHECK(sl_adaptive_hold(a, &items[0], 0) == 0);
    CHECK(sl_adaptive_may_cut(a, 0, 0));
    CHECK(!sl_adaptive_may_cut(a, 1, 1));
    CHECK(sl_adaptive_hold(a, &items[1], 1) == 1);
    CHECK(sl_adaptive_hold(a, &items[2], 1) == 1);
    CHECK(!sl_adaptive_may_cut(a, 0, 2)); /* the line goes first */
    CHECK(sl_adaptive_next(a, 1) == NULL);  /* no slot */
    CHECK(sl_adaptive_next(a, 0) == &items[1]);
    /* the one given back goes, whatever busy says */
    CHECK(sl_adaptive_hold(a, &items[1], 5) == 0);
    /* another comes behind the one still in line */
    CHECK(sl_adaptive_hold(a, &items[3], 0) == 1);
    CHECK(sl_adaptive_next(a, 0) == &items[2]);
    CHECK(sl_adaptive_hold(a, &items[2], 0) == 0);
    CHECK(sl_adaptive_next(a, 0) == &items[3]);
    CHECK(sl_adaptive_hold(a, &items[3], 0) == 0);
    CHECK(sl_adaptive_next(a, 0) == NULL); /* empty */
    /* outstanding batches: fewer than twice the limit */
    uint64_t now = 1000;
    grow(a, &now, 3);
    CHECK(sl_adaptive_limit(a) == 3);
    CHECK(sl_adaptive_may_cut(a, 0, 5));
    CHECK(!sl_adaptive_may_cut(a, 0, 6));
    CHECK(!sl_adaptive_may_cut(a, 3, 0));
    grow(a, &now, 100);
    CHECK(sl_adaptive_limit(a) == 4); /* max_concurrency */
    /* a line as long as twice the ceiling still holds every one */
    int many[8];
    for (int i = 0; i < 8; i++)
        CHECK(sl_adaptive_hold(a, &many[i], 4) == 1);
    for (int i = 0; i < 8; i++) {
        CHECK(sl_adaptive_next(a, 0) == &many[i]);
        CHECK(sl_adaptive_hold(a, &many[i], 0) == 0);
    }
    CHECK(stats.concurrency_decreases == 0);
    sl_adaptive_free(a);
    sl_adaptive_free(NULL);
    sl_adaptive_freed(NULL);
    event_base_free(base);
}

static void test_signals(void)
{
    struct event_base *base = event_base_new();
    sl_status_lists *lists = sl_status_lists_new();
    sl_status_lists_add(lists, 409, SL_STATUS_LIST_SUCCESS);
    sl_status_lists_add(lists, 503, SL_STATUS_LIST_PERMANENT);
    sl_connector_conf conf = {.name = "t", .max_concurrency = 64,
                              .status = lists};
    static const struct {
        long status;
        CURLcode code;
        int tls;
        int cuts;
    } cases[] = {
        {429, CURLE_OK, 0, 1},
        {503, CURLE_OK, 0, 1}, /* in status.permanent: still overload */
        {504, CURLE_OK, 0, 1},
        {0, CURLE_OPERATION_TIMEDOUT, 0, 1},
        {0, CURLE_COULDNT_CONNECT, 0, 1},
        {0, CURLE_RECV_ERROR, 0, 1},
        {0, CURLE_GOT_NOTHING, 0, 1},
        {500, CURLE_OK, 0, 0},
        {502, CURLE_OK, 0, 0},
        {400, CURLE_OK, 0, 0},
        {413, CURLE_OK, 0, 0},
        {0, CURLE_OUT_OF_MEMORY, 0, 0}, /* it could not even start */
        {0, CURLE_SSL_CONNECT_ERROR, 1, 0},
        {0, CURLE_PEER_FAILED_VERIFICATION, 1, 0},
        {503, CURLE_OK, 1, 0},          /* a TLS failure as an answer */
        {0, CURLE_URL_MALFORMAT, 0, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sl_stats stats = {0};
        sl_adaptive *a = sl_adaptive_new(base, &conf, &stats, wake, NULL);
        uint64_t now = 0;
        grow(a, &now, 20);
        unsigned before = sl_adaptive_limit(a);
        sl_http_client_response r = failed(cases[i].status, cases[i].code);
        woken = 0;
        sl_adaptive_answer(a, &r, cases[i].tls, before, now + 1);
        CHECK(stats.concurrency_decreases == (uint64_t)cases[i].cuts);
        CHECK(sl_adaptive_limit(a) ==
              (cases[i].cuts ? before * 9 / 10 : before));
        /* the owner is woken from the loop, not inside the call */
        CHECK(woken == 0);
        event_base_loop(base, EVLOOP_NONBLOCK);
        CHECK(woken == 1);
        sl_adaptive_free(a);
    }
    /* a 409 in status.success is a delivered answer: the limit grows on
     * it as on a 200 */
    sl_stats stats = {0};
    sl_adaptive *a = sl_adaptive_new(base, &conf, &stats, wake, NULL);
    sl_http_client_response r = {.status = 409, .seconds = 0.01, .body = ""};
    uint64_t now = 0;
    for (int i = 0; i < 30; i++) {
        now += 10;
        sl_adaptive_answer(a, &r, 0, sl_adaptive_limit(a), now);
    }
    CHECK(sl_adaptive_limit(a) > 10);
    /* a hostile time: NaN, negative, huge: no sample, no crash */
    double bad[] = {0.0 / 0.0, -1, 1e300};
    for (int i = 0; i < 3; i++) {
        r.seconds = bad[i];
        sl_adaptive_answer(a, &r, 0, 64, now += 10);
    }
    CHECK(sl_adaptive_limit(a) >= 1 && sl_adaptive_limit(a) <= 64);
    sl_adaptive_free(a);
    sl_status_lists_free(lists);
    event_base_free(base);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"line", test_line},
        {"signals", test_signals},
        {NULL, NULL}};
    return sl_test_run(cases);
}
