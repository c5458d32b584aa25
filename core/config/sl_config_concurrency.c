/* sl_config_concurrency: `concurrency`, `max_concurrency`, and what they
 * need of each other and of `ordered`. */
#include "sl_config_concurrency.h"

#include <string.h>
#include <strings.h>

#include <lua.h>

#include "sl_config_connector_rules.h"

#define ALLOWED "an integer 1 .. 64, or \"adaptive\""
_Static_assert(SL_CONFIG_CONCURRENCY_MAX == 64 &&
                   SL_CONFIG_CONCURRENCY_DEFAULT == 4 &&
                   SL_CONFIG_MAX_CONCURRENCY_MAX == 1024 &&
                   SL_CONFIG_MAX_CONCURRENCY_DEFAULT == 64,
               "update ALLOWED and the keys' docs in sl_config_keys.c");

void sl_config_parse_concurrency(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    static const char *const words[] = {"adaptive"};
    lua_State *L = ctx->L;
    char got[64];
    (void)key;
    c->concurrency = SL_CONFIG_CONCURRENCY_DEFAULT;
    c->concurrency_adaptive = false;
    if (!idx)
        return;
    sl_config_describe(L, idx, got, sizeof got);
    if (lua_type(L, idx) == LUA_TSTRING) {
        size_t len = 0;
        const char *s = lua_tolstring(L, idx, &len);
        const char *near = sl_config_suggest(s, words, 1);
        if (len == strlen(words[0]) && strcasecmp(s, words[0]) == 0) {
            c->concurrency = 1;
            c->concurrency_adaptive = true;
        } else if (near) {
            sl_config_err(ctx, "invalid value %s (did you mean \"%s\"? "
                          "valid: %s)", got, near, ALLOWED);
        } else {
            sl_config_err(ctx, "invalid value %s (valid: %s)", got, ALLOWED);
        }
        return;
    }
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isint); /* exact floats too */
    if (lua_type(L, idx) != LUA_TNUMBER || !isint)
        sl_config_err(ctx, "expected %s, got %s", ALLOWED, got);
    else if (v < 1 || v > SL_CONFIG_CONCURRENCY_MAX)
        sl_config_err(ctx, "%lld is out of range (1..%d, or \"adaptive\")",
                      (long long)v, SL_CONFIG_CONCURRENCY_MAX);
    else
        c->concurrency = (unsigned)v;
}

void sl_config_parse_max_concurrency(sl_config_parse_context *ctx,
                                     const sl_config_key *key, int idx,
                                     void *target)
{
    sl_config_connector_target *t = target;
    lua_State *L = ctx->L;
    (void)key;
    t->c.max_concurrency = SL_CONFIG_MAX_CONCURRENCY_DEFAULT;
    t->max_concurrency_set = idx != 0;
    if (!idx)
        return;
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, idx, &isint); /* exact floats too */
    if (lua_type(L, idx) != LUA_TNUMBER || !isint) {
        char got[64];
        sl_config_describe(L, idx, got, sizeof got);
        sl_config_err(ctx, "expected an integer, got %s", got);
    } else if (v < 1 || v > SL_CONFIG_MAX_CONCURRENCY_MAX) {
        sl_config_err(ctx, "%lld is out of range (1..%d)", (long long)v,
                      SL_CONFIG_MAX_CONCURRENCY_MAX);
    } else {
        t->c.max_concurrency = (unsigned)v;
    }
}

void sl_config_concurrency_after(sl_config_parse_context *ctx, void *target)
{
    sl_config_connector_target *t = target;
    const sl_connector_conf *c = &t->c;
    if (t->max_concurrency_set && !c->concurrency_adaptive) {
        sl_config_path_push(ctx, "max_concurrency", 0);
        sl_config_err(ctx, "set, but concurrency is fixed (%u); it is the "
                      "ceiling of concurrency = \"adaptive\": add that or "
                      "remove it", c->concurrency);
        sl_config_path_pop(ctx);
    }
    if (c->ordered && c->concurrency_adaptive) {
        sl_config_path_push(ctx, "concurrency", 0);
        sl_config_err(ctx, "\"adaptive\" cannot keep records in order; "
                      "ordered = true sends one request at a time: remove "
                      "one of them");
        sl_config_path_pop(ctx);
    }
}
