/* sl_luajson: records between JSON and Lua. Pushes a record from the JSON
 * scanner as a Lua table (no second parse), and writes a Lua value back as
 * compact JSON so that the schema check sees a transformed record exactly
 * as it sees one from the wire. */
#ifndef SL_LUAJSON_H
#define SL_LUAJSON_H

#include <lua.h>

#include "sl_buf.h"
#include "sl_json.h"

/* Add to the table at the top of the stack (sluice.json) what makes an
 * array that may be empty: `empty_array`, a value written as [] (a
 * lightuserdata, as cjson.null is), and `array_mt`, a metatable that makes
 * a table an array even when it has no items (setmetatable({}, array_mt));
 * arrays pushed by sl_luajson_push carry it from then on. Protected mode.
 * [-0, +0, m] */
void sl_luajson_open(lua_State *L);

/* Push the value whose first token is *first (already read from js) and
 * read the rest of it. Objects become tables, arrays sequences (with
 * sluice.json.array_mt once sl_luajson_open ran, so that an empty one is
 * written back as []), integer literals in int64 range integers, other
 * numbers floats, null the lightuserdata NULL (cjson.null). Returns 0, or
 * -1 on malformed JSON (js->err set; nothing pushed). Raises a Lua error on
 * memory errors, so call it in protected mode. [-0, +1 | 0, m] */
int sl_luajson_push(lua_State *L, sl_json *js, const sl_json_token *first);

/* The keys of the records pushed by sl_luajson_push_record, kept as Lua
 * strings (in L's registry) so that the next record with the same key in
 * the same place (the first 32 members) reuses it instead of hashing and
 * interning it again. For one lua_State, by one thread at a time.
 * sl_luajson_keys_new returns NULL on ENOMEM; sl_luajson_keys_free
 * accepts NULL, L is the state the keys were used with (still open). */
typedef struct sl_luajson_keys sl_luajson_keys;
sl_luajson_keys *sl_luajson_keys_new(void);
void sl_luajson_keys_free(sl_luajson_keys *keys, lua_State *L);

/* sl_luajson_push with the top-level object's keys taken from and kept in
 * keys: the same table, the same strings. [-0, +1 | 0, m] */
int sl_luajson_push_record(lua_State *L, sl_json *js,
                           const sl_json_token *first, sl_luajson_keys *keys);

/* Append the Lua value at idx to out as compact JSON. A table with a
 * positive length (#t > 0) is written as an array, an empty one with
 * sluice.json.array_mt as [], any other table as an object (whose keys must
 * be strings); cjson.null is null, sluice.json.empty_array []; an integral
 * float in int64 range is written as an integer. Never allocates in Lua,
 * so it is safe outside protected mode. Returns 0, or -1 with a reason in
 * err (non-string key, NaN or infinity, a function, nesting deeper than 32,
 * out of memory in out). [-0, +0, -] */
int sl_luajson_write(lua_State *L, int idx, sl_buf *out, char *err,
                     size_t errlen);

/* The scalar Lua value at idx written to out as sl_luajson_write writes it,
 * and *t the token the JSON scanner reads from that text (type, len,
 * flags; p left NULL: out may move, so *off is the offset in out where
 * t->p points: a string's first byte after the quote). Returns 0, 1 when
 * the value is not one this takes (nothing written: a table, nil, a
 * userdata other than cjson.null, a number that is not finite, a string
 * that is not UTF-8), or -1 when out is full. [-0, +0, -] */
int sl_luajson_write_scalar(lua_State *L, int idx, sl_buf *out,
                            sl_json_token *t, size_t *off);

#endif
