/* sl_luastd: the functions of the `sluice` host module that need no event
 * loop: env, now, hashing and signing, base64, hex, uuid and log.
 * luaopen_sluice (sl_luahost.c) builds the module from them. */
#ifndef SL_LUASTD_H
#define SL_LUASTD_H

#include <lua.h>

/* Set on the table at the top of the stack:
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
 * [-0, +0, m] */
void sl_luastd_setfuncs(lua_State *L);

#endif
