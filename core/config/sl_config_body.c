/* sl_config_body: the `body` key as a form name or as a table with the
 * templates, which are compiled here, once, for the form they wrap. */
#include "sl_config_body.h"

#include <string.h>

#include <lua.h>

#include "sl_config_connector_rules.h"
#include "sl_template.h"

void sl_config_parse_body(sl_config_parse_context *ctx,
                          const sl_config_key *key, int idx, void *target)
{
    lua_State *L = ctx->L;
    const sl_config_key *form = &key->sub[0]; /* body.form */
    if (idx && lua_type(L, idx) == LUA_TTABLE) {
        sl_config_parse_table(ctx, idx, key->sub, target);
        return;
    }
    if (idx && lua_type(L, idx) != LUA_TSTRING) {
        char got[64];
        sl_config_describe(L, idx, got, sizeof got);
        sl_config_err(ctx, "expected a form name (\"array\", \"object\", "
                      "\"ndjson\") or a table like { form = \"array\", "
                      "template = ... }, got %s", got);
        idx = 0;
    }
    if (idx)
        lua_pushvalue(L, idx);                     /* name */
    else
        lua_pushnil(L);                            /* nil: the default */
    sl_config_parse_value(ctx, form, target);      /* as body.form */
    lua_pop(L, 1);                                 /* */
}

void sl_config_parse_body_template(sl_config_parse_context *ctx,
                                   const sl_config_key *key, int idx,
                                   void *target)
{
    sl_connector_conf *c = &((sl_config_connector_target *)target)->c;
    sl_template **dst = (sl_template **)((char *)target + key->off);
    bool per_record = strcmp(key->name, "record_template") == 0;
    char err[512];
    sl_template_free(*dst);
    *dst = NULL;
    if (!idx)
        return;
    if (!per_record && c->body == SL_BODY_NDJSON) {
        sl_config_err(ctx, "not allowed with form \"ndjson\", whose lines "
                      "are the records (record_template wraps each one)");
        return;
    }
    size_t len = 0;
    const char *text = lua_tolstring(ctx->L, idx, &len);
    sl_template_kind kind = per_record ? SL_TEMPLATE_FOR_RECORD
                            : c->body == SL_BODY_OBJECT ? SL_TEMPLATE_FOR_OBJECT
                                                        : SL_TEMPLATE_FOR_ARRAY;
    if (!(*dst = sl_template_new(text, len, kind, err, sizeof err)))
        sl_config_err(ctx, "%s", err);
}
