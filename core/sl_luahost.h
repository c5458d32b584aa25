/* sl_luahost: sandboxed Lua states with a memory cap and an instruction
 * budget, and the `sluice` host module that scripts see. */
#ifndef SL_LUAHOST_H
#define SL_LUAHOST_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* Create a sandboxed state whose allocations never exceed
 * `mem_limit_bytes` (0 means no cap). Opened: base (without dofile and
 * loadfile; `load` accepts text chunks only), string, table, math, utf8, a
 * restricted os (time, clock, date, getenv), a `require` that serves only
 * preloaded modules (cjson, cjson.safe, sluice) and Lua files under
 * SLUICE_LUA_DIR, and the global `sluice` table (luaopen_sluice). No io, no
 * debug, no C module loading. Returns the state, or NULL with a message in
 * `err`. Free with sl_luahost_free. */
lua_State *sl_luahost_new(size_t mem_limit_bytes, char *err, size_t errlen);

/* Close the state and release its allocator state. Accepts NULL. */
void sl_luahost_free(lua_State *L);

/* Opens the `sluice` module: env(name [, default]) and json (lua-cjson).
 * [-0, +1, m] */
int luaopen_sluice(lua_State *L);

/* Like lua_pcall, but with at most `max_instructions` VM instructions
 * (0: unlimited; counted in steps of 1000) for the call. On an error the
 * message goes to `err` (a memory-cap hit reads "memory limit of N bytes
 * exceeded", an exhausted budget "<chunk>:<line>: instruction limit
 * exceeded") and the error object is popped. Returns the lua_pcall status.
 * [-(nargs+1), +(nresults|0), -] */
int sl_luahost_pcall(lua_State *L, int nargs, int nresults,
                     unsigned long max_instructions, char *err, size_t errlen);

/* Bytes currently allocated by the state. */
size_t sl_luahost_mem_used(lua_State *L);

#endif
