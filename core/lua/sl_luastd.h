/* sl_luastd: the `sluice` module that scripts see, registered in one
 * place (sl_luastd_open). Its functions that need no event loop are here;
 * sleep and http.request are sl_luaruntime's, which run them on the loop. */
#ifndef SL_LUASTD_H
#define SL_LUASTD_H

#include <stddef.h>

#include <lua.h>

/* Push the `sluice` module, a new table of:
 *   env(name [, default])        the variable, else default, else an error
 *   now()                        seconds since the Unix epoch, a float with
 *                                millisecond precision (CLOCK_REALTIME)
 *   hmac_sha256(key, data)       raw 32-byte HMAC-SHA256 (RFC 2104)
 *   sha256(data)                 raw 32-byte SHA-256
 *   base64_encode(data [, v])    v "std" (RFC 4648 section 4, padded; the
 *                                default) or "url" (section 5, unpadded)
 *   base64_decode(s [, v])       the bytes, or nil, "invalid base64"; "std"
 *                                needs the padding, "url" takes it or not
 *   hex(data)                    lower-case hex
 *   uuid()                       random version-4 UUID, lower case
 *   log = { info, warn, error }  arguments tostring'ed, joined by spaces,
 *                                written with sl_log; component
 *                                "lua:<file name>", message "<file>:<line>:
 *                                <text>"
 *   json                         lua-cjson (require "cjson"), with json.null
 * and, once sl_luastd_open_loop has run (a running gateway; not while a
 * file loads, not in `sluice check`):
 *   sleep(ms), http = { request } sl_luaruntime_sleep and
 *                                sl_luaruntime_http_request: they work in a
 *                                task of a running sl_luaruntime and raise
 *                                "sluice.sleep is only available in
 *                                headers_fn or response_fn while sluice
 *                                runs" (or
 *                                sluice.http.request) anywhere else
 * A lua_CFunction for luaL_requiref (it is never found by name, so it needs
 * no luaopen_ name). [-0, +1, m] */
int sl_luastd_open(lua_State *L);

/* The state a connector or gateway file runs in: sl_luahost_new's sandbox
 * with the `sluice` module opened as the global `sluice` and as what
 * require "sluice" returns. Returns the state, or NULL with a message in
 * `err`. The state is the host's: free it with sl_luahost_free. */
lua_State *sl_luastd_new(size_t mem_limit_bytes, char *err, size_t errlen);

/* Add the members that wait on the event loop (sleep, http) to the
 * `sluice` module of L, a state from sl_luastd_new: call it once an
 * sl_luaruntime runs L's functions. 0, or -1 with a message in err (out
 * of memory, or no `sluice` global). */
int sl_luastd_open_loop(lua_State *L, char *err, size_t errlen);

#endif
