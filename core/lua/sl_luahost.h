/* sl_luahost: sandboxed Lua states with a memory cap and an instruction
 * budget, and the file name their messages carry. It knows no `sluice`
 * module: sl_luastd opens that into a state, so calls go one way. */
#ifndef SL_LUAHOST_H
#define SL_LUAHOST_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

/* Instructions between two calls of a count hook, for every budget: the
 * limits are counted in steps of this many. */
#define SL_LUAHOST_HOOK_STEP 1000

/* Create a sandboxed state whose allocations never exceed
 * `mem_limit_bytes` (0 means no cap). Opened: base (without dofile and
 * loadfile; `load` accepts text chunks only; setmetatable refuses __gc),
 * string, table, math, utf8, a restricted os (time, clock, date, getenv),
 * and a `require` that serves only loaded and preloaded modules (cjson,
 * cjson.safe, and whatever the caller opens with luaL_requiref, such as
 * sluice) and Lua files under sluice's Lua directory ($SLUICE_LUA_PATH,
 * else the one that a build tree's sluice-lua-dir file names, else
 * ../share/sluice/lua from the executable's directory). No io, no debug,
 * no coroutine, no C module loading, no `sluice` (sl_luastd_new is this
 * state with it). Returns the state, or NULL with a message in `err`.
 * Free with sl_luahost_free. */
lua_State *sl_luahost_new(size_t mem_limit_bytes, char *err, size_t errlen);

/* Close the state and release its allocator state. Accepts NULL. */
void sl_luahost_free(lua_State *L);

/* The chunk name to load a file under. Lua shortens chunk names to 60
 * bytes in its messages, so a file is loaded under this one-byte
 * placeholder (its short_src is "\x01"), which the messages of
 * sl_luahost_pcall and sl_luahost_where replace by the name given to
 * sl_luahost_set_file. */
#define SL_LUAHOST_CHUNK "=\x01"

/* Name the file that the state runs (loaded as SL_LUAHOST_CHUNK), for
 * messages. Returns 0, or -1 when out of memory (the old name is kept). */
int sl_luahost_set_file(lua_State *L, const char *file);

/* The name given to sl_luahost_set_file, or NULL. Owned by the state. */
const char *sl_luahost_file(lua_State *L);

/* Write "<file>:<line>" of the Lua function at call level `level` (1: the
 * function that called the running C function) to buf, with the
 * placeholder chunk name replaced; "" when there is no such Lua function.
 * [-0, +0, -] */
void sl_luahost_where(lua_State *L, int level, char *buf, size_t n);

/* Set the memory cap (0: none). From now on an allocation that would take
 * the state past `bytes` fails; what is allocated already stays, even when
 * it is more. */
void sl_luahost_set_mem_limit(lua_State *L, size_t bytes);

/* Copy an error message to out (n > 0, truncated) with the placeholder
 * chunk name replaced by the state's file name, as sl_luahost_pcall does;
 * for errors caught elsewhere (coroutines). [-0, +0, -] */
void sl_luahost_message(lua_State *L, const char *msg, char *out, size_t n);

/* Like lua_pcall, but with at most `max_instructions` VM instructions
 * (0: unlimited; counted in steps of SL_LUAHOST_HOOK_STEP) for the call.
 * On an error the message goes to `err` (a memory-cap hit reads "memory
 * limit of N MiB exceeded" or "... N bytes exceeded", an exhausted budget
 * "<chunk>:<line>: instruction limit exceeded"; the placeholder chunk name
 * is replaced as for sl_luahost_set_file) and the error object is popped.
 * Returns the lua_pcall status. [-(nargs+1), +(nresults|0), -] */
int sl_luahost_pcall(lua_State *L, int nargs, int nresults,
                     unsigned long max_instructions, char *err, size_t errlen);

/* Bytes currently allocated by the state. */
size_t sl_luahost_mem_used(lua_State *L);

#endif
