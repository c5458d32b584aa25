/* sl_lua_req: an attempt as a Lua table. */
#include "sl_lua_req.h"

#include "sl_batch.h"
#include "sl_config.h"

sl_lua_req sl_lua_req_make(const sl_connector_conf *c, const sl_batch *recs,
                           unsigned attempt, long last_status,
                           const char *url)
{
    sl_lua_req r = {.records = sl_batch_current(recs).n, .attempt = attempt,
                    .last_status = last_status,
                    .batch_id = sl_batch_key(recs), .method = c->method,
                    .url = url, .connector = c->name};
    r.body = sl_batch_body(recs, &r.body_len);
    if (c->compression != SL_COMPRESSION_NONE)
        r.wire_body = sl_batch_wire_body(recs, &r.wire_len);
    return r;
}

static void set_string(lua_State *co, const char *k, const char *v)
{
    lua_pushstring(co, v);
    lua_setfield(co, -2, k);
}

static void set_integer(lua_State *co, const char *k, lua_Integer v)
{
    lua_pushinteger(co, v);
    lua_setfield(co, -2, k);
}

void sl_lua_req_push(lua_State *co, const sl_lua_req *r)
{
    lua_createtable(co, 0, 10);                            /* req */
    lua_pushlstring(co, r->body, r->body_len);
    lua_setfield(co, -2, "body");
    if (r->wire_body) {
        lua_pushlstring(co, r->wire_body, r->wire_len);
        lua_setfield(co, -2, "compressed_body");
    }
    set_integer(co, "records", (lua_Integer)r->records);
    set_integer(co, "attempt", (lua_Integer)r->attempt);
    set_string(co, "batch_id", r->batch_id);
    if (r->attempt > 1)
        set_integer(co, "last_status", (lua_Integer)r->last_status);
    set_string(co, "method", r->method);
    set_string(co, "url", r->url);
    set_string(co, "connector", r->connector);
    lua_pushboolean(co, r->preview != 0);
    lua_setfield(co, -2, "preview");                       /* req */
}
