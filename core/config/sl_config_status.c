/* sl_config_status: the `status` lists, checked code by code. */
#include "sl_config_status.h"

#include <string.h>

#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_status_lists.h"

/* The table of `status` (the connector keys name it). */
#define STATUS_LIST(n, d)                                                     \
    {.name = n, .kind = SL_CONFIG_CUSTOM,                                     \
     .custom = sl_config_parse_status_list, .ltype = LUA_TTABLE,              \
     .what = "a list of integers", .defstr = "none",                         \
     .doc_type = "list of integers",                                          \
     .doc_allowed = "HTTP status codes 100 to 599, each in one list only",   \
     .desc = d}
const sl_config_key sl_config_status_keys[] = {
    STATUS_LIST("success", "Codes that mean delivered (`409` for an API "
                "whose \"already exists\" means done)."),
    STATUS_LIST("retry", "Codes that mean try again after the backoff "
                "(honouring `Retry-After`), up to `retry.max_elapsed_s`."),
    STATUS_LIST("permanent", "Codes that mean the records will never be "
                "taken: bisected or dead-lettered as `on_permanent` says; "
                "the dead letter's reason says `HTTP 500 (status.permanent)`."),
    {0}};
#undef STATUS_LIST

static sl_status_list list_of(const char *name)
{
    if (!strcmp(name, "success"))
        return SL_STATUS_LIST_SUCCESS;
    if (!strcmp(name, "retry"))
        return SL_STATUS_LIST_RETRY;
    return SL_STATUS_LIST_PERMANENT;
}

/* The code at the top of the stack into l; every problem reported. */
static void add_code(sl_config_parse_context *ctx, sl_status_lists *l,
                     sl_status_list list)
{
    lua_State *L = ctx->L;
    char got[64];
    int exact = 0;
    lua_Integer v = lua_tointegerx(L, -1, &exact);
    if (lua_type(L, -1) != LUA_TNUMBER || !exact) {
        sl_config_describe(L, -1, got, sizeof got);
        sl_config_err(ctx, "expected an HTTP status code (an integer 100 to "
                      "599), got %s", got);
        return;
    }
    if (v < SL_STATUS_LISTS_MIN || v > SL_STATUS_LISTS_MAX) {
        sl_config_err(ctx, "%lld is not an HTTP status code (100 to 599; "
                      "a failed transfer, status 0, cannot be listed)",
                      (long long)v);
        return;
    }
    int was = sl_status_lists_add(l, (long)v, list);
    if (was == (int)list)
        sl_config_err(ctx, "%lld is listed twice in status.%s", (long long)v,
                      sl_status_lists_name(list));
    else if (was != SL_STATUS_LIST_NONE)
        sl_config_err(ctx, "%lld is in status.%s and status.%s; a code may "
                      "be in one list only", (long long)v,
                      sl_status_lists_name((sl_status_list)was),
                      sl_status_lists_name(list));
}

void sl_config_parse_status_list(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_config_connector_target *t = target;
    lua_State *L = ctx->L;
    if (!idx || !sl_config_check_list(ctx, idx, "{ 409, 422 }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0 || n > SL_CONFIG_STATUS_LIST_MAX) {
        sl_config_err(ctx, "list 1 to %d status codes (%lld given)",
                      SL_CONFIG_STATUS_LIST_MAX, (long long)n);
        return;
    }
    if (!t->c.status && !(t->c.status = sl_status_lists_new())) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    sl_status_list list = list_of(key->name);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* code */
        sl_config_path_push(ctx, NULL, (long)i);
        add_code(ctx, t->c.status, list);
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
}
