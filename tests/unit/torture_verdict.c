/* Torture tests for sl_verdict (sl_torture.h): reading what response_fn
 * returned with each allocation failing in turn, Lua's included (the
 * state's allocator is this file's, so its allocations are wrapped too):
 * -1 with a reason, the stack as it was, nothing leaked; and applying a
 * partial verdict with each allocation failing: FAILED with the graves
 * and the current piece as they were, else the records refused and
 * picked. */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "sl_batch.h"
#include "sl_graves.h"
#include "sl_test.h"
#include "sl_torture.h"
#include "sl_verdict.h"

/* lua_Alloc on the wrapped realloc and free. */
static void *alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, nsize);
}

static const char ANSWER[] =
    "return { outcome = 'success', retry_after_s = 2, reason = 'some', "
    "failed = { { index = 4, reason = 'bad email' }, "
    "{ index = 2, retry = true, reason = 429 }, "
    "{ index = 1, reason = string.rep('x', 300) } } }";

static void test_read(void)
{
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        lua_State *L = lua_newstate(alloc, NULL);
        CHECK(L != NULL);
        if (!L)
            return;
        luaL_openlibs(L);
        CHECK(luaL_dostring(L, ANSWER) == LUA_OK);
        int top = lua_gettop(L);
        sl_verdict v;
        char err[256] = "";
        sl_torture_arm(n, true);
        int rc = sl_verdict_read(L, 1, 5, &v, err, sizeof err);
        unsigned long failed = sl_torture_disarm();
        CHECK(lua_gettop(L) == top);
        if (failed == 0) {
            CHECK(rc == 0 && v.nfailed == 3 && v.outcome == SL_VERDICT_SUCCESS);
            CHECK(v.nfailed == 3 && v.failed[1].pos == 1 && v.failed[1].retry);
            CHECK(v.nfailed == 3 && strcmp(v.failed[1].reason, "429") == 0);
            sl_verdict_free(&v);
            lua_close(L);
            break;
        }
        CHECK(rc == -1);
        CHECK_CONTAINS(err, "memory");
        CHECK(v.failed == NULL && v.reason == NULL);
        lua_close(L);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    SL_TORTURE_CHECK_LIVE(live0, n);
    sl_torture_report(n, "sl_verdict_read");
}

static const char *const RECS[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}",
                                   "{\"i\":3}", "{\"i\":4}"};
static const size_t LENS[] = {7, 7, 7, 7, 7};

static void test_apply(void)
{
    sl_connector_conf c = {.name = "crm", .body = SL_BODY_ARRAY,
                           .batch_max_records = 100,
                           .batch_max_bytes = 1 << 20};
    sl_verdict_item items[] = {{0, 0, "a"}, {1, 1, "b"}, {2, 0, "c"},
                               {4, 1, "d"}};
    sl_verdict v = {.outcome = SL_VERDICT_SUCCESS, .failed = items,
                    .nfailed = 4, .retry_after_s = -1};
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        sl_batch *b = sl_batch_new(&c);
        CHECK(b && sl_batch_take_records(b, RECS, LENS, 5) == 1);
        CHECK(sl_batch_build(b) == 0);
        sl_graves *g = NULL;
        sl_stats st = {0};
        sl_graves_piece grave = {.status = 200, .attempts = 1,
                                 .response = "{}", .response_len = 2,
                                 .key = sl_batch_key(b)};
        sl_verdict_ctx x = {b, &g, &grave, &st, NULL};
        char why[256], ra[32];
        sl_torture_arm(n, true);
        sl_verdict_act act = sl_verdict_apply(&v, &x, why, sizeof why, ra,
                                              sizeof ra);
        unsigned long failed = sl_torture_disarm();
        sl_batch_piece p = sl_batch_current(b);
        /* a log line that cannot be made changes nothing: done anyway */
        CHECK(act == SL_VERDICT_ACT_RETRY || (failed && act ==
                                              SL_VERDICT_ACT_FAILED));
        if (act == SL_VERDICT_ACT_RETRY) {
            CHECK(sl_graves_records(g) == 2 && st.dead_lettered == 2);
            CHECK(p.picked && p.n == 2 && st.delivered == 1 &&
                  st.records_retried == 2);
        } else { /* as it was */
            CHECK(sl_graves_records(g) == 0);
            CHECK(!p.picked && p.n == 5);
            CHECK(st.delivered == 0 && st.dead_lettered == 0);
        }
        sl_graves_free(g);
        if (failed == 0) {
            sl_batch_free(b);
            break;
        }
        sl_batch_free(b);
        SL_TORTURE_CHECK_LIVE(live0, n);
    }
    SL_TORTURE_CHECK_LIVE(live0, n);
    sl_torture_report(n, "sl_verdict_apply");
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"read", test_read},
        {"apply", test_apply},
        {NULL, NULL}};
    return sl_test_run(cases);
}
