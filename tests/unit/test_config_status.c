/* Unit tests for sl_config_status: the connector key `status` parsed as
 * the table walker parses it (unknown keys inside it included), with
 * malformed and hostile lists: a code twice or in two lists, out of
 * range, not an integer, a float, a string, a huge list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_config_keys.h"
#include "sl_status_lists.h"
#include "sl_test.h"
#include "sl_test_config.h"

/* Parse `text`'s `status` into ct (whose c.status the caller frees);
 * returns the problems. */
static const char *run(const char *text, sl_config_connector_target *ct)
{
    static sl_test_config t;
    const sl_config_key *key =
        sl_test_config_key(sl_config_connector_keys, "status");
    CHECK(key != NULL);
    memset(ct, 0, sizeof *ct);
    if (!key || sl_test_config_open(&t, text) != 0) {
        CHECK(!"the text runs and returns a table");
        return sl_test_config_close(&t);
    }
    lua_getfield(t.ctx.L, 1, "status");            /* t v */
    sl_config_path_push(&t.ctx, "status", 0);
    sl_config_parse_value(&t.ctx, key, ct);
    sl_config_path_pop(&t.ctx);
    CHECK(lua_gettop(t.ctx.L) == 2);               /* stack as it was */
    lua_pop(t.ctx.L, 1);                           /* t */
    return sl_test_config_close(&t);
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void test_good(void)
{
    sl_config_connector_target ct;
    CHECK_STR(run("return { status = {\n"
                  "  success = { 200, 201, 202, 207, 409 },\n"
                  "  retry = { 400, 599.0 },\n"
                  "  permanent = { 500, 413, 100 } } }", &ct), "");
    const sl_status_lists *l = ct.c.status;
    CHECK(l != NULL);
    CHECK(sl_status_lists_get(l, 409) == SL_STATUS_LIST_SUCCESS);
    CHECK(sl_status_lists_get(l, 207) == SL_STATUS_LIST_SUCCESS);
    CHECK(sl_status_lists_get(l, 400) == SL_STATUS_LIST_RETRY);
    CHECK(sl_status_lists_get(l, 599) == SL_STATUS_LIST_RETRY);
    CHECK(sl_status_lists_get(l, 413) == SL_STATUS_LIST_PERMANENT);
    CHECK(sl_status_lists_get(l, 100) == SL_STATUS_LIST_PERMANENT);
    CHECK(sl_status_lists_get(l, 404) == SL_STATUS_LIST_NONE);
    sl_status_lists_free(ct.c.status);

    /* one list only */
    CHECK_STR(run("return { status = { retry = { 400 } } }", &ct), "");
    CHECK(sl_status_lists_get(ct.c.status, 400) == SL_STATUS_LIST_RETRY);
    sl_status_lists_free(ct.c.status);
    /* absent, or an empty table: nothing (and no table: the NULL check) */
    CHECK_STR(run("return {}", &ct), "");
    CHECK(ct.c.status == NULL);
    CHECK_STR(run("return { status = {} }", &ct), "");
    CHECK(ct.c.status == NULL);
}

static void test_hostile(void)
{
    sl_config_connector_target ct;
    const char *msgs =
        run("return { status = {\n"
            "  success = { 409, \"410\", 409.5, 99, 600, 0, -200,\n"
            "              409, 1e300, true, {}, 0/0 },\n"
            "  retry = { 409, 400, 1/0 },\n"
            "  permanent = { 400, 2^53 },\n"
            "  sucess = { 201 }, fallback = 1 } }", &ct);
    CHECK_CONTAINS(msgs, "status.success[2]: expected an HTTP status code "
                         "(an integer 100 to 599), got string \"410\"\n");
    CHECK_CONTAINS(msgs, "status.success[3]: expected an HTTP status code "
                         "(an integer 100 to 599), got number 409.5\n");
    CHECK_CONTAINS(msgs, "status.success[4]: 99 is not an HTTP status code "
                         "(100 to 599; a failed transfer, status 0, cannot "
                         "be listed)\n");
    CHECK_CONTAINS(msgs, "status.success[5]: 600 is not");
    CHECK_CONTAINS(msgs, "status.success[6]: 0 is not");
    CHECK_CONTAINS(msgs, "status.success[7]: -200 is not");
    CHECK_CONTAINS(msgs, "status.success[8]: 409 is listed twice in "
                         "status.success\n");
    CHECK_CONTAINS(msgs, "status.success[9]: expected an HTTP status code");
    CHECK_CONTAINS(msgs, "status.success[10]: expected an HTTP status code "
                         "(an integer 100 to 599), got boolean true\n");
    CHECK_CONTAINS(msgs, "status.success[11]: expected an HTTP status code "
                         "(an integer 100 to 599), got table\n");
    CHECK_CONTAINS(msgs, "status.success[12]: expected an HTTP status code");
    CHECK_CONTAINS(msgs, "status.retry[1]: 409 is in status.success and "
                         "status.retry; a code may be in one list only\n");
    CHECK_CONTAINS(msgs, "status.retry[3]: expected an HTTP status code");
    CHECK_CONTAINS(msgs, "status.permanent[1]: 400 is in status.retry and "
                         "status.permanent; a code may be in one list only\n");
    CHECK_CONTAINS(msgs, "status.permanent[2]: 9007199254740992 is not");
    CHECK_CONTAINS(msgs, "status.sucess: unknown key (did you mean "
                         "\"success\"?)\n");
    CHECK_CONTAINS(msgs, "status.fallback: unknown key (valid: success, "
                         "retry, permanent)\n");
    CHECK(count_lines(msgs) == 17);
    /* the first list a code was given in stays */
    CHECK(sl_status_lists_get(ct.c.status, 409) == SL_STATUS_LIST_SUCCESS);
    CHECK(sl_status_lists_get(ct.c.status, 400) == SL_STATUS_LIST_RETRY);
    sl_status_lists_free(ct.c.status);

    /* not a table, not a list, empty, huge */
    CHECK_CONTAINS(run("return { status = 409 }", &ct),
                   "t.lua:1: status: expected a table");
    CHECK(ct.c.status == NULL);
    CHECK_CONTAINS(run("return { status = { success = 409 } }", &ct),
                   "status.success: expected a list of integers");
    CHECK_CONTAINS(run("return { status = { success = { x = 409 } } }", &ct),
                   "status.success: expected a list like { 409, 422 }, found "
                   "the key string \"x\"\n");
    CHECK_CONTAINS(run("return { status = { success = { 200, [5] = 201 } } "
                       "}", &ct), "status.success: expected a list like");
    CHECK(ct.c.status == NULL);
    CHECK_CONTAINS(run("return { status = { retry = {} } }", &ct),
                   "status.retry: list 1 to 500 status codes (0 given)\n");
    CHECK(ct.c.status == NULL);
    msgs = run("local t = {}\n"
               "for i = 1, 100000 do t[i] = 100 + i % 500 end\n"
               "return { status = { permanent = t } }", &ct);
    CHECK_STR(msgs, "t.lua:3: status.permanent: list 1 to 500 status codes "
                    "(100000 given)\n");
    CHECK(ct.c.status == NULL);
    /* all 500 codes: fits */
    CHECK_STR(run("local t = {}\n"
                  "for i = 1, 500 do t[i] = 99 + i end\n"
                  "return { status = { retry = t } }", &ct), "");
    CHECK(sl_status_lists_get(ct.c.status, 100) == SL_STATUS_LIST_RETRY);
    CHECK(sl_status_lists_get(ct.c.status, 599) == SL_STATUS_LIST_RETRY);
    sl_status_lists_free(ct.c.status);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"good", test_good},
        {"hostile", test_hostile},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
