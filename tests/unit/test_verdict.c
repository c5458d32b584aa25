/* Unit tests for sl_verdict: what response_fn returns read into the C
 * struct (nil, every field, items sorted by index), every hostile shape
 * refused with its path and nothing raised (wrong types, unknown keys,
 * indexes out of range, twice, fractions, a list longer than the piece,
 * a huge hash part, metamethods that would raise, reasons cut), and the
 * verdict applied to a batch: refused records to the graves with
 * "item <i> of batch <key>: <reason>", retried ones picked, the counts;
 * retry, permanent, default, and a failure settled into a retry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "sl_batch.h"
#include "sl_graves.h"
#include "sl_test.h"
#include "sl_verdict.h"

/* Run `src` (a chunk returning one value) and read it as the verdict
 * about a piece of n records: 0 or -1 as sl_verdict_read, err filled. */
static int read_src(lua_State *L, const char *src, size_t n, sl_verdict *v,
                    char *err, size_t errlen)
{
    err[0] = '\0';
    if (luaL_dostring(L, src) != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
        lua_settop(L, 0);
        return -2;
    }
    int top = lua_gettop(L);
    int rc = sl_verdict_read(L, top, n, v, err, errlen);
    CHECK(lua_gettop(L) == top); /* the stack as it was */
    lua_settop(L, 0);
    return rc;
}

/* The refusal of `src` about n records contains `want`. */
static void refused(lua_State *L, const char *src, size_t n,
                    const char *want)
{
    sl_verdict v;
    char err[512];
    int rc = read_src(L, src, n, &v, err, sizeof err);
    CHECK(rc == -1);
    if (rc != -1)
        fprintf(stderr, "  accepted: %s\n", src);
    CHECK_CONTAINS(err, want);
    CHECK(v.failed == NULL && v.nfailed == 0 && v.reason == NULL);
}

static void test_good(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    sl_verdict v;
    char err[512];
    CHECK(read_src(L, "return nil", 3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_DEFAULT && v.nfailed == 0 &&
          v.retry_after_s < 0 && !v.reason);
    sl_verdict_free(&v);
    /* no results at all is nil too; extra results are ignored */
    CHECK(read_src(L, "return", 3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_DEFAULT);
    CHECK(read_src(L, "return nil, 'x', {}", 3, &v, err, sizeof err) == 0);
    CHECK(read_src(L, "return {}", 3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_DEFAULT && v.nfailed == 0);
    CHECK(read_src(L, "return { outcome = 'retry', retry_after_s = 2.5, "
                      "reason = 'busy' }", 3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_RETRY && v.retry_after_s == 2.5);
    CHECK_STR(v.reason, "busy");
    sl_verdict_free(&v);
    CHECK(read_src(L, "return { outcome = 'permanent' }", 3, &v, err,
                   sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_PERMANENT && !v.reason);
    /* items: sorted by index, reasons (a number made a string, none
     * given), retry flags, 3.0 an integer; a day at most */
    CHECK(read_src(L, "return { outcome = 'success', retry_after_s = 1e9, "
                      "failed = { { index = 3, reason = 'bad email' }, "
                      "{ index = 1.0, retry = true, reason = 429 }, "
                      "{ index = 2, retry = false } } }",
                   3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_SUCCESS && v.nfailed == 3);
    CHECK(v.retry_after_s == 86400);
    if (v.nfailed == 3) {
        CHECK(v.failed[0].pos == 0 && v.failed[0].retry);
        CHECK_STR(v.failed[0].reason, "429");
        CHECK(v.failed[1].pos == 1 && !v.failed[1].retry);
        CHECK_STR(v.failed[1].reason, "refused by the destination");
        CHECK(v.failed[2].pos == 2 && !v.failed[2].retry);
        CHECK_STR(v.failed[2].reason, "bad email");
    }
    sl_verdict_free(&v);
    CHECK(v.failed == NULL && v.nfailed == 0);
    /* a reason is cut at SL_VERDICT_REASON_MAX bytes and at a NUL */
    CHECK(read_src(L, "return { failed = { { index = 1, reason = "
                      "string.rep('x', 5000) } }, reason = 'a\\0b' }",
                   1, &v, err, sizeof err) == 0);
    CHECK(v.nfailed == 1 &&
          strlen(v.failed[0].reason) == SL_VERDICT_REASON_MAX);
    CHECK_STR(v.reason, "a");
    sl_verdict_free(&v);
    /* metamethods never run: only raw fields count */
    CHECK(read_src(L, "return setmetatable({}, { __index = function() "
                      "error('boom') end, __len = function() error('x') "
                      "end })", 3, &v, err, sizeof err) == 0);
    CHECK(v.outcome == SL_VERDICT_DEFAULT);
    CHECK(read_src(L, "return { failed = setmetatable({ { index = 1 } }, "
                      "{ __index = function() error('boom') end }) }",
                   3, &v, err, sizeof err) == 0);
    CHECK(v.nfailed == 1);
    sl_verdict_free(&v);
    /* every record of the piece may be listed */
    CHECK(read_src(L, "local f = {} for i = 1, 500 do f[i] = { index = i } "
                      "end return { failed = f }", 500, &v, err,
                   sizeof err) == 0);
    CHECK(v.nfailed == 500 && v.failed[499].pos == 499);
    sl_verdict_free(&v);
    lua_close(L);
}

static void test_hostile(void)
{
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    refused(L, "return 'ok'", 3, "expected nil or a table { outcome = ..., "
                                 "failed = ... }, got string");
    refused(L, "return true", 3, "got boolean");
    refused(L, "return 200", 3, "got number");
    refused(L, "return print", 3, "got function");
    refused(L, "return { outcom = 'retry' }", 3,
            "the answer: unknown key \"outcom\" (outcome, failed, "
            "retry_after_s, reason)");
    refused(L, "return { retry_after = 5 }", 3, "unknown key "
                                               "\"retry_after\"");
    refused(L, "return { [1] = 'x' }", 3, "the answer: keys must be "
                                          "strings");
    refused(L, "return { outcome = 'ok' }", 3, "outcome: expected "
            "\"success\", \"retry\" or \"permanent\", got \"ok\"");
    refused(L, "return { outcome = 1 }", 3, "outcome: expected "
            "\"success\", \"retry\" or \"permanent\", got number");
    refused(L, "return { reason = {} }", 3, "reason: expected a string, "
                                            "got table");
    refused(L, "return { retry_after_s = -1 }", 3,
            "retry_after_s: expected a number of seconds 0 or more, got -1");
    refused(L, "return { retry_after_s = 0/0 }", 3, "retry_after_s: "
                                                    "expected a number");
    refused(L, "return { retry_after_s = math.huge }", 3,
            "retry_after_s: expected a number of seconds 0 or more, got inf");
    refused(L, "return { retry_after_s = '5' }", 3,
            "retry_after_s: expected a number of seconds, got string");
    refused(L, "return { failed = 'all' }", 3, "failed: expected a list of "
            "{ index = n, reason = ... }, got string");
    refused(L, "return { failed = { a = 1 } }", 3,
            "failed: expected a list (keys 1 to n only)");
    refused(L, "return { failed = { { index = 1 }, x = 2 } }", 3,
            "failed: expected a list (keys 1 to n only)");
    refused(L, "return { failed = { [1] = { index = 1 }, [3] = "
               "{ index = 2 } } }", 3, "failed");
    refused(L, "return { failed = { 1, 2 } }", 3,
            "failed[1]: expected a table { index = n, reason = ... }, got "
            "number");
    refused(L, "return { failed = { {} } }", 3,
            "failed[1].index: expected an integer, got nil");
    refused(L, "return { failed = { { index = '2' } } }", 3,
            "failed[1].index: expected an integer, got string");
    refused(L, "return { failed = { { index = 1.5 } } }", 3,
            "failed[1].index: expected an integer, got a fraction");
    refused(L, "return { failed = { { index = 1 }, { index = 0 } } }", 3,
            "failed[2].index: 0 is out of range (the piece has 3 records)");
    refused(L, "return { failed = { { index = 4 } } }", 3,
            "failed[1].index: 4 is out of range (the piece has 3 records)");
    refused(L, "return { failed = { { index = -1 } } }", 1,
            "failed[1].index: -1 is out of range (the piece has 1 record)");
    refused(L, "return { failed = { { index = math.maxinteger } } }", 3,
            "is out of range");
    refused(L, "return { failed = { { index = 2 }, { index = 1 }, "
               "{ index = 2 } } }", 3, "failed[3].index: 2 is listed twice");
    refused(L, "return { failed = { { index = 1, reason = {} } } }", 3,
            "failed[1].reason: expected a string, got table");
    refused(L, "return { failed = { { index = 1, retry = 'yes' } } }", 3,
            "failed[1].retry: expected true or false, got string");
    refused(L, "return { failed = { { index = 1, retry = 1 } } }", 3,
            "failed[1].retry: expected true or false, got number");
    refused(L, "return { failed = { { index = 1, retyr = true } } }", 3,
            "failed[1]: unknown key \"retyr\" (index, reason, retry)");
    /* a list longer than the piece: refused before anything is read */
    refused(L, "local f = {} for i = 1, 100000 do f[i] = { index = 1 } end "
               "return { failed = f }", 5,
            "failed: 100000 items, more than the piece's 5 records");
    /* a huge hash part beside a short list: found without reading it all */
    refused(L, "local f = { { index = 1 } } for i = 1, 100000 do "
               "f['k' .. i] = i end return { failed = f }", 5,
            "failed: expected a list (keys 1 to n only)");
    lua_close(L);
}

/* ---- applying ------------------------------------------------------- */

static const char *const RECS[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}",
                                   "{\"i\":3}", "{\"i\":4}"};
static const size_t LENS[] = {7, 7, 7, 7, 7};

typedef struct world {
    sl_connector_conf c;
    sl_batch *recs;
    sl_graves *graves;
    sl_stats stats;
    sl_graves_piece grave;
    sl_verdict_ctx x;
} world;

static void world_open(world *w, long status)
{
    memset(w, 0, sizeof *w);
    w->c = (sl_connector_conf){.name = "crm", .body = SL_BODY_ARRAY,
                               .batch_max_records = 100,
                               .batch_max_bytes = 1 << 20};
    w->recs = sl_batch_new(&w->c);
    CHECK(sl_batch_take_records(w->recs, RECS, LENS, 5) == 1);
    CHECK(sl_batch_build(w->recs) == 0);
    w->grave = (sl_graves_piece){.status = status, .attempts = 1,
                                 .response = "{\"items\":[]}",
                                 .response_len = 12, .url = "http://x/",
                                 .key = sl_batch_key(w->recs)};
    w->x = (sl_verdict_ctx){w->recs, &w->graves, &w->grave, &w->stats,
                            NULL};
}

static void world_close(world *w)
{
    sl_graves_free(w->graves);
    sl_batch_free(w->recs);
}

static sl_verdict_item item(size_t pos, int retry, const char *reason)
{
    return (sl_verdict_item){pos, retry, (char *)reason};
}

static void test_apply_partial(void)
{
    world w;
    world_open(&w, 200);
    sl_verdict_item items[] = {item(1, 0, "bad email"), item(2, 1, "429"),
                               item(4, 1, "429")};
    sl_verdict v = {.outcome = SL_VERDICT_DEFAULT, .failed = items,
                    .nfailed = 3, .retry_after_s = 1.2};
    char why[256], ra[32];
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_RETRY);
    CHECK_STR(ra, "2"); /* whole seconds, rounded up */
    CHECK(w.stats.delivered == 2 && w.stats.dead_lettered == 1 &&
          w.stats.records_retried == 2 && w.stats.failures == 0);
    CHECK(sl_graves_records(w.graves) == 1 && sl_graves_pieces(w.graves) == 1);
    /* the current piece is the two to retry */
    sl_batch_piece p = sl_batch_current(w.recs);
    CHECK(p.picked && p.n == 2);
    CHECK(sl_batch_piece_record(w.recs, p, 0) == 2 &&
          sl_batch_piece_record(w.recs, p, 1) == 4);
    world_close(&w);

    /* refused only: done; nothing to pick */
    world_open(&w, 207);
    sl_verdict_item one[] = {item(0, 0, "nope")};
    sl_verdict v1 = {.outcome = SL_VERDICT_SUCCESS, .failed = one,
                     .nfailed = 1, .retry_after_s = -1};
    CHECK(sl_verdict_apply(&v1, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_DONE);
    CHECK_STR(ra, "");
    CHECK(w.stats.delivered == 4 && w.stats.dead_lettered == 1);
    CHECK(!sl_batch_current(w.recs).picked);
    world_close(&w);
}

static void test_apply_outcomes(void)
{
    world w;
    char why[256], ra[32];
    /* default of a status that is not delivered: failed is not used */
    world_open(&w, 500);
    sl_verdict_item one[] = {item(0, 0, "x")};
    sl_verdict v = {.outcome = SL_VERDICT_DEFAULT, .failed = one,
                    .nfailed = 1, .retry_after_s = 3};
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_DEFAULT);
    CHECK_STR(ra, "3");
    CHECK(w.stats.delivered == 0 && !w.graves);
    /* ... unless the connector's status lists say delivered */
    sl_status_lists *sl = sl_status_lists_new();
    CHECK(sl && sl_status_lists_add(sl, 500, SL_STATUS_LIST_SUCCESS) == SL_STATUS_LIST_NONE);
    w.x.status = sl;
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_DONE);
    CHECK(w.stats.delivered == 4 && w.stats.dead_lettered == 1);
    sl_status_lists_free(sl);
    world_close(&w);

    world_open(&w, 200);
    v = (sl_verdict){.outcome = SL_VERDICT_RETRY, .retry_after_s = -1};
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_RETRY);
    CHECK_STR(why, "response_fn: retry");
    CHECK(w.stats.failures == 1 && w.stats.delivered == 0);
    v = (sl_verdict){.outcome = SL_VERDICT_PERMANENT, .retry_after_s = -1};
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_BURY);
    CHECK_STR(why, "response_fn: permanent");
    v.reason = "schema mismatch";
    CHECK(sl_verdict_apply(&v, &w.x, why, sizeof why, ra, sizeof ra) ==
          SL_VERDICT_ACT_BURY);
    CHECK_STR(why, "schema mismatch");
    CHECK(!w.graves); /* bury is delivery's */
    world_close(&w);
}

/* A failure (an error, or a verdict refused) settles into a retry with
 * status 0 and the reason as the error; counted. */
static void test_settle(void)
{
    world w;
    world_open(&w, 200);
    sl_http_client_response res = {.status = 200, .body = "{}",
                                   .body_len = 2, .error = "",
                                   .retry_after = "7"};
    sl_verdict_next n;
    sl_verdict_settle(NULL, "crm.lua:3: boom", &res, &w.x, &n);
    CHECK(n.act == SL_VERDICT_ACT_RETRY);
    CHECK(n.res.status == 0 && n.res.retry_after == NULL);
    CHECK_STR(n.res.error, "response_fn: crm.lua:3: boom");
    CHECK(w.stats.failures == 1 && w.stats.response_fn_errors == 1);
    /* a verdict with retry_after_s replaces the answer's Retry-After */
    sl_verdict v = {.outcome = SL_VERDICT_RETRY, .retry_after_s = 0.2};
    sl_verdict_settle(&v, NULL, &res, &w.x, &n);
    CHECK(n.act == SL_VERDICT_ACT_RETRY && n.res.status == 200);
    CHECK_STR(n.res.retry_after, "1");
    CHECK_STR(n.res.error, "response_fn: retry"); /* named if it runs out */
    v.retry_after_s = -1;
    sl_verdict_settle(&v, NULL, &res, &w.x, &n);
    CHECK_STR(n.res.retry_after, "7");
    CHECK(w.stats.response_fn_errors == 1);
    world_close(&w);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"good", test_good},
        {"hostile", test_hostile},
        {"apply_partial", test_apply_partial},
        {"apply_outcomes", test_apply_outcomes},
        {"settle", test_settle},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
