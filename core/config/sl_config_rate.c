/* sl_config_rate: rate_limit and its numbers; the limiter is sl_pace. */
#include "sl_config_rate.h"

#include <math.h>
#include <string.h>

#include <lua.h>

#include "sl_config_connector_rules.h"

void sl_config_parse_rate_limit(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    c->rate_requests_per_s = 0;
    c->rate_records_per_s = 0;
    c->rate_burst = 1;
    if (!idx)
        return;
    lua_State *L = ctx->L;
    lua_getfield(L, idx, "requests_per_s");
    lua_getfield(L, idx, "records_per_s");
    int none = lua_isnil(L, -1) && lua_isnil(L, -2);
    lua_pop(L, 2);
    if (none) {
        sl_config_err(ctx, "names no rate: give requests_per_s, "
                      "records_per_s or both, as in { requests_per_s = 10 }");
        return;
    }
    sl_config_parse_table(ctx, idx, key->sub, target);
}

void sl_config_parse_rate(sl_config_parse_context *ctx,
                          const sl_config_key *key, int idx, void *target)
{
    double *dst = (double *)((char *)target + key->off);
    int burst = strcmp(key->name, "burst") == 0;
    *dst = (double)key->def;
    if (!idx)
        return;
    double v = (double)lua_tonumber(ctx->L, idx);
    double lo = burst ? 1 : SL_CONFIG_RATE_MIN;
    double hi = burst ? SL_CONFIG_BURST_MAX : SL_CONFIG_RATE_MAX;
    if (!isfinite(v))
        sl_config_err(ctx, "%s is not a finite number",
                      isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
    else if (burst && !(v >= lo && v <= hi))
        sl_config_err(ctx, "%g is out of range: 1 .. %g (requests, or "
                      "seconds of records_per_s, that may go at once)",
                      v, hi);
    else if (!burst && !(v >= lo && v <= hi))
        sl_config_err(ctx, "%g is out of range: 1/86400 (one a day) .. "
                      "%g; fractions allowed (100/60 is 100 a minute)", v,
                      hi);
    else
        *dst = v;
}
