/* Unit tests for sl_health: the state from attempts and refusals, its
 * "since", and a last_error that never carries a body, URL or host. */
#include <stdlib.h>
#include <string.h>

#include "sl_health.h"
#include "sl_test.h"

static sl_http_client_response answer(long status)
{
    return (sl_http_client_response){.status = status, .error = "",
                                     .body = "secret body token=abc"};
}

static void test_degraded_after_threshold(void)
{
    sl_health *h = sl_health_new(60000, 1000);
    int64_t since;
    CHECK(sl_health_state_at(h, 1000, &since) == SL_HEALTH_DELIVERING);
    CHECK(since == 1000);
    CHECK_STR(sl_health_last_error(h, NULL), "");
    sl_http_client_response r = answer(503);
    sl_health_attempt(h, &r, 0, 2000);
    CHECK(sl_health_state_at(h, 61999, &since) == SL_HEALTH_DELIVERING);
    CHECK(since == 1000);
    CHECK(sl_health_state_at(h, 62000, &since) == SL_HEALTH_DEGRADED);
    CHECK(since == 62000);
    CHECK_STR(sl_health_last_error(h, NULL), "HTTP 503");
    r = answer(200);
    sl_health_attempt(h, &r, 0, 70000);
    CHECK(sl_health_state_at(h, 70000, &since) == SL_HEALTH_DELIVERING);
    CHECK(since == 70000);
    int64_t at;
    CHECK_STR(sl_health_last_error(h, &at), "HTTP 503");
    CHECK(at == 2000);
    /* a short streak does not move "since" */
    r = answer(500);
    sl_health_attempt(h, &r, 0, 80000);
    r = answer(204);
    sl_health_attempt(h, &r, 0, 81000);
    CHECK(sl_health_state_at(h, 200000, &since) == SL_HEALTH_DELIVERING);
    CHECK(since == 70000);
    sl_health_attempt(NULL, &r, 0, 1); /* no health: nothing */
    sl_health_free(h);
    sl_health_free(NULL);
}

static void test_blocked_wins_and_ends(void)
{
    sl_health *h = sl_health_new(1000, 0);
    sl_http_client_response r = answer(502);
    sl_health_attempt(h, &r, 0, 10);
    sl_health_refused(h, "spool full", 20);
    sl_health_refused(h, "spool full", 30);
    int64_t since;
    CHECK(sl_health_blocked(h));
    CHECK(sl_health_state_at(h, 5000, &since) == SL_HEALTH_BLOCKED);
    CHECK(since == 20);
    CHECK_STR(sl_health_last_error(h, NULL), "spool full");
    sl_health_unblocked(h, 6000); /* still failing for long: degraded */
    CHECK(!sl_health_blocked(h));
    CHECK(sl_health_state_at(h, 6000, &since) == SL_HEALTH_DEGRADED);
    CHECK(since == 1010);
    sl_health_free(h);
}

static void test_transport_texts(void)
{
    sl_health *h = sl_health_new(1000, 0);
    sl_http_client_response r = {
        .status = 0, .curl_code = CURLE_COULDNT_CONNECT, .body = "",
        .error = "Failed to connect to db.internal port 8443 after 0 ms: "
                 "Connection refused"};
    sl_health_attempt(h, &r, 0, 1);
    const char *e = sl_health_last_error(h, NULL);
    CHECK_CONTAINS(e, "Connection refused");
    CHECK(!strstr(e, "db.internal") && !strstr(e, "8443"));
    /* a tail that is not a plain phrase is left out */
    r.error = "Could not resolve host: tok3n.example.com";
    r.curl_code = CURLE_COULDNT_RESOLVE_HOST;
    sl_health_attempt(h, &r, 0, 2);
    e = sl_health_last_error(h, NULL);
    CHECK(!strstr(e, "tok3n"));
    CHECK(strlen(e) > 0);
    r = answer(400);
    sl_health_attempt(h, &r, 1, 3);
    CHECK_STR(sl_health_last_error(h, NULL), "TLS failure (HTTP 400)");
    r = (sl_http_client_response){.status = 0, .error = NULL, .body = ""};
    sl_health_attempt(h, &r, 0, 4);
    CHECK_STR(sl_health_last_error(h, NULL), "no answer");
    CHECK_STR(sl_health_state_name(SL_HEALTH_BLOCKED), "blocked");
    CHECK_STR(sl_health_state_name(SL_HEALTH_STATE_COUNT), "unknown");
    sl_health_free(h);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"degraded_after_threshold", test_degraded_after_threshold},
        {"blocked_wins_and_ends", test_blocked_wins_and_ends},
        {"transport_texts", test_transport_texts},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
