/* sl_lua_req: the `req` table a connector's Lua functions get for one
 * attempt (headers_fn, response_fn): body, compressed_body, records, attempt,
 * batch_id, last_status, method, url, connector, preview. */
#ifndef SL_LUA_REQ_H
#define SL_LUA_REQ_H

#include <stddef.h>

#include <lua.h>

/* One attempt as Lua is shown it. Every pointer is borrowed for the call. */
typedef struct sl_lua_req {
    const char *body;            /* the body before compression */
    size_t body_len;
    const char *wire_body;       /* compressed, or NULL without compression */
    size_t wire_len;
    size_t records;
    unsigned attempt;            /* 1 for the first */
    long last_status;            /* shown from the second attempt on */
    const char *batch_id, *method, *url, *connector;
    int preview;                 /* shown, not sent (sluice preview): true;
                                    a delivery attempt: false */
} sl_lua_req;

struct sl_batch;
struct sl_connector_conf;

/* The req of an attempt of recs' current piece (built: sl_batch_build)
 * by connector c to url; its strings borrowed from them; preview 0 (set
 * it after for a request that is only shown). */
sl_lua_req sl_lua_req_make(const struct sl_connector_conf *c,
                           const struct sl_batch *recs, unsigned attempt,
                           long last_status, const char *url);

/* Push r as a new table on co's stack (lua_createtable may raise an
 * out-of-memory error, as in any sl_luaruntime_args_fn). */
void sl_lua_req_push(lua_State *co, const sl_lua_req *r);

#endif
