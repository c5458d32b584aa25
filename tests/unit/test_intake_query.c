/* Unit tests for sl_intake_query: the dry_run parameter of a records
 * POST's query, and every other parameter ignored. */
#include <string.h>

#include "sl_intake_query.h"
#include "sl_test.h"

static const char path[] = "/v1/connectors/crm/records";

/* rc of sl_intake_query_dry_run on path + query; *dry and msg out. */
static int dry_of(const char *query, int *dry, char *msg, size_t msglen)
{
    char uri[256];
    strcpy(uri, path);
    strcat(uri, query);
    msg[0] = '\0';
    *dry = -1;
    return sl_intake_query_dry_run(uri, dry, msg, msglen);
}

static void test_true_and_false(void)
{
    static const struct {
        const char *query;
        int dry;
    } ok[] = {
        {"", 0}, {"?", 0}, {"?dry_run=true", 1}, {"?dry_run=1", 1},
        {"?dry_run=TRUE", 1}, {"?dry_run=false", 0}, {"?dry_run=0", 0},
        {"?a=1&dry_run=true&b", 1}, {"?dry_run=true#frag", 1},
        {"?x&&y=&dry_run=1", 1}, {"?dry_runs=maybe", 0},
        {"?dry=1&run=2", 0}, {"?Dry_Run=maybe", 0}, {"#?dry_run=1", 0},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int dry;
        char msg[160];
        CHECK(dry_of(ok[i].query, &dry, msg, sizeof msg) == 0);
        CHECK(dry == ok[i].dry);
        CHECK_STR(msg, "");
    }
}

static void test_bad_values(void)
{
    static const char *const bad[] = {
        "?dry_run=maybe", "?dry_run=", "?dry_run", "?dry_run=truex",
        "?dry_run=2", "?a=b&dry_run=yes",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int dry;
        char msg[160];
        CHECK(dry_of(bad[i], &dry, msg, sizeof msg) == -1);
        CHECK(dry == 0);
        CHECK_CONTAINS(msg, "query parameter dry_run must be true or false");
    }
    int dry;
    char msg[160];
    CHECK(dry_of("?dry_run=true&dry_run=true", &dry, msg, sizeof msg) == -1);
    CHECK(dry == 0);
    CHECK_STR(msg, "query parameter dry_run given twice");
    CHECK(dry_of("?dry_run=maybe", &dry, msg, sizeof msg) == -1);
    CHECK_CONTAINS(msg, "not \"maybe\"");
    /* a long value is cut in the message; a small buffer is not overrun */
    CHECK(dry_of("?dry_run=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                 &dry, msg, 16) == -1);
    CHECK(strlen(msg) == 15);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"true_and_false", test_true_and_false},
        {"bad_values", test_bad_values},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
