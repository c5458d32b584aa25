/* sl_transform: intake-side Lua transform. The record is pushed as a table
 * straight from the scanner; the function's result is written back as JSON
 * and goes through the same schema check as a record from the wire. */
#include "sl_transform.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "sl_check.h"
#include "sl_frame.h"
#include "sl_luahost.h"
#include "sl_luajson.h"
#include "sl_time.h"

struct sl_transform {
    lua_State *L;
    int fn_ref;
    const sl_schema *schema;
    const char *connector;
    unsigned long max_instructions;
    bool wants_ctx; /* the function can see a second argument */
    bool direct;    /* outputs checked from the table (sl_schema_values_encode) */
    sl_luajson_keys *keys; /* the last record's keys, as Lua strings */
    size_t nfields;        /* the schema's */
    int names_ref;         /* registry: the fields' names as Lua strings */
    const char **name_at;  /* nfields: where each name's bytes are */
    uint16_t *order;       /* nfields: the field of an output's key n, last
                              time (lua_next's order) */
    sl_buf scratch; /* one output as JSON, before the schema check */
    sl_luaruntime_tally tally; /* its calls (sl_transform_tally) */
};

/* What the protected call needs; passed as a light userdata. */
typedef struct call_ctx {
    sl_transform *transform;
    sl_json *js;
    const sl_json_token *first;
    size_t index;
    int malformed; /* the record is not valid JSON */
} call_ctx;

/* Whether the function at fn_ref takes a second parameter (or ...): a
 * function(rec) cannot see ctx (the sandbox has no debug library), so its
 * table is not built for each record. Allocates nothing. [-0, +0, -] */
static bool takes_ctx(lua_State *L, int fn_ref)
{
    lua_Debug ar;
    if (lua_rawgeti(L, LUA_REGISTRYINDEX, fn_ref) != LUA_TFUNCTION) { /* fn */
        lua_pop(L, 1);                                /* */
        return true;
    }
    if (!lua_getinfo(L, ">u", &ar))                   /* (fn popped) */
        return true;
    return ar.isvararg || ar.nparams >= 2;
}

sl_transform *sl_transform_new(lua_State *L, int fn_ref,
                               const sl_schema *schema, const char *connector,
                               unsigned long max_instructions)
{
    sl_transform *transform = calloc(1, sizeof *transform);
    if (!transform)
        return NULL;
    transform->L = L;
    transform->fn_ref = fn_ref;
    transform->schema = schema;
    transform->connector = connector;
    transform->max_instructions = max_instructions;
    transform->wants_ctx = takes_ctx(L, fn_ref);
    transform->direct = sl_schema_values_ok(schema);
    transform->nfields = sl_schema_nfields(schema);
    transform->names_ref = LUA_NOREF;
    sl_buf_init(&transform->scratch, 0);
    size_t n = transform->nfields ? transform->nfields : 1;
    transform->name_at = calloc(n, sizeof *transform->name_at);
    transform->order = calloc(n, sizeof *transform->order);
    if (!(transform->keys = sl_luajson_keys_new()) || !transform->name_at ||
        !transform->order) {
        sl_luajson_keys_free(transform->keys, NULL);
        free(transform->name_at);
        free(transform->order);
        free(transform);
        return NULL;
    }
    return transform;
}

sl_luaruntime_tally sl_transform_tally(const sl_transform *transform)
{
    return transform ? transform->tally : (sl_luaruntime_tally){0};
}

void sl_transform_free(sl_transform *transform)
{
    if (!transform)
        return;
    sl_luajson_keys_free(transform->keys, transform->L);
    luaL_unref(transform->L, LUA_REGISTRYINDEX, transform->names_ref);
    sl_buf_free(&transform->scratch);
    free(transform->name_at);
    free(transform->order);
    free(transform);
}

/* The schema's field names kept as Lua strings in the registry, and where
 * their bytes are: Lua interns short strings, so an output's key that is
 * one of them is the same string, found by comparing pointers
 * (field_of). Once, in the first protected call; the pointers stay
 * valid while the registry holds the strings. [-0, +0, m] */
static void keep_names(lua_State *L, sl_transform *transform)
{
    lua_createtable(L, (int)transform->nfields, 0);   /* names */
    for (size_t i = 0; i < transform->nfields; i++) {
        lua_pushstring(L, sl_schema_field_name(transform->schema, i));
        transform->name_at[i] = lua_tostring(L, -1);  /* names name */
        lua_rawseti(L, -2, (lua_Integer)i + 1);       /* names[i+1] = */
    }
    transform->names_ref = luaL_ref(L, LUA_REGISTRYINDEX); /* */
}

/* lua_CFunction run in protected mode: transform(record, ctx).
 * [-1 (ctx lightuserdata), +1 (result, or nothing when malformed)] */
static int call_transform(lua_State *L)
{
    call_ctx *c = lua_touserdata(L, 1);
    lua_settop(L, 0);
    if (c->transform->direct && c->transform->names_ref == LUA_NOREF)
        keep_names(L, c->transform);
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->transform->fn_ref); /* fn */
    if (sl_luajson_push_record(L, c->js, c->first,
                               c->transform->keys) != 0) { /* fn rec */
        c->malformed = 1;
        return 0;
    }
    if (!c->transform->wants_ctx) {
        lua_call(L, 1, 1);                            /* result */
        return 1;
    }
    lua_createtable(L, 0, 2);                         /* fn rec ctx */
    lua_pushstring(L, c->transform->connector);
    lua_setfield(L, -2, "connector");                 /* ctx.connector = */
    lua_pushinteger(L, (lua_Integer)c->index);
    lua_setfield(L, -2, "index");                     /* ctx.index = */
    lua_call(L, 2, 1);                                /* result */
    return 1;
}

/* Leave the scanner after the record once a call failed midway. */
static void skip_rest(sl_json *js, int depth_before)
{
    sl_json_token t;
    while (js->depth > depth_before)
        if (sl_json_next(js, &t) == SL_JSON_ERROR)
            return;
}

/* The field of key k (klen bytes), the output's pos-th in lua_next's
 * order: the field that key pos was last time when k is its very name
 * string, else looked up by name (and remembered). nfields when none. */
static size_t field_of(sl_transform *transform, const char *k, size_t klen,
                       size_t pos)
{
    size_t n = transform->nfields;
    if (pos < n && transform->names_ref != LUA_NOREF &&
        transform->name_at[transform->order[pos]] == k)
        return transform->order[pos];
    size_t i = sl_schema_values_find(transform->schema, k, klen);
    if (i < n && pos < n)
        transform->order[pos] = (uint16_t)i;
    return i;
}

/* Each member of the table at idx written to scratch and described in
 * vals (by field; SL_JSON_ERROR where the field is absent): 0, 1 when the
 * output needs the way through JSON text (a metatable, whose
 * sluice.json.array_mt makes {} an array; a key that is not a string or
 * not a field; a value write_scalar does not take), -1 when scratch is
 * full. [-0, +0, -] */
static int gather_values(sl_transform *transform, int idx,
                         sl_json_token *vals)
{
    lua_State *L = transform->L;
    size_t offs[SL_SCHEMA_MAX_FIELDS], n = transform->nfields, pos = 0;
    if (lua_getmetatable(L, idx)) {                   /* mt */
        lua_pop(L, 1);                                /* */
        return 1;
    }
    for (size_t i = 0; i < n; i++)
        vals[i] = (sl_json_token){.type = SL_JSON_ERROR};
    sl_buf_reset(&transform->scratch);
    lua_pushnil(L);                                   /* nil */
    while (lua_next(L, idx) != 0) {                   /* key value */
        size_t klen, i;
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);                            /* */
            return 1;
        }
        const char *k = lua_tolstring(L, -2, &klen);  /* a string: as is */
        if ((i = field_of(transform, k, klen, pos++)) >= n) {
            lua_pop(L, 2);                            /* */
            return 1;
        }
        int rc = sl_luajson_write_scalar(L, -1, &transform->scratch,
                                         &vals[i], &offs[i]);
        lua_pop(L, 1);                                /* key */
        if (rc != 0) {
            lua_pop(L, 1);                            /* */
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++)                    /* scratch moved */
        if (vals[i].type != SL_JSON_ERROR)
            vals[i].p = transform->scratch.data + offs[i];
    return 0;
}

/* The output at idx (a table) checked and encoded from the table: each
 * member's value written and described as the token the scanner would
 * read (sl_schema_values_encode). 1 when this output needs the way through
 * JSON text, which alone gives its result (an array, an unknown or
 * non-string key, a table or a non-finite number as a value, invalid
 * UTF-8, more members than limits.fields); else as encode_output.
 * [-0, +0, -] */
static int direct_output(sl_transform *transform, int idx, sl_buf *block,
                         sl_transform_reject_fn reject, void *ud,
                         sl_transform_result *res)
{
    sl_json_token vals[SL_SCHEMA_MAX_FIELDS];
    if (lua_rawlen(transform->L, idx) > 0 ||
        !lua_checkstack(transform->L, 3))
        return 1;
    int rc = gather_values(transform, idx, vals);
    if (rc != 0)
        return rc;
    size_t off = sl_frame_begin(block);
    if (off == (size_t)-1)
        return -1;
    sl_schema_error err;
    sl_schema_rc src = sl_schema_values_encode(transform->schema, vals, block,
                                               &err);
    if (src == SL_SCHEMA_OK) {
        sl_frame_end(block, off);
        res->accepted++;
        return 0;
    }
    sl_buf_truncate(block, off);
    if (src == SL_SCHEMA_SYNTAX)
        return 1;
    if (src != SL_SCHEMA_INVALID)
        return -1;
    res->rejected++;
    return reject(ud, err.field, err.msg);
}

/* Check and frame one output at stack index idx. */
static int encode_output(sl_transform *transform, int idx, sl_buf *block,
                         sl_transform_reject_fn reject, void *ud,
                         sl_transform_result *res)
{
    char why[160];
    sl_buf_reset(&transform->scratch);
    if (lua_type(transform->L, idx) != LUA_TTABLE) {
        snprintf(why, sizeof why, "transform must return a table, a list of "
                 "tables or nil, got %s", luaL_typename(transform->L, idx));
        res->rejected++;
        return reject(ud, "", why);
    }
    int rc = transform->direct
                 ? direct_output(transform, idx, block, reject, ud, res) : 1;
    if (rc <= 0)
        return rc;
    sl_buf_reset(&transform->scratch);
    char werr[128];
    if (sl_luajson_write(transform->L, idx, &transform->scratch, werr,
                         sizeof werr) != 0) {
        snprintf(why, sizeof why, "transform result: %s", werr);
        res->rejected++;
        return reject(ud, "", why);
    }
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, transform->scratch.data, transform->scratch.len, 0);
    sl_json_next(&js, &t);
    sl_schema_error err;
    switch (sl_check_record(transform->schema, &js, &t, block, &err)) {
    case SL_SCHEMA_OK:
        res->accepted++;
        return 0;
    case SL_SCHEMA_INVALID:
        res->rejected++;
        return reject(ud, err.field, err.msg);
    case SL_SCHEMA_SYNTAX:
        res->rejected++;
        snprintf(why, sizeof why, "transform result is not valid JSON "
                 "text: %s", js.err ? js.err : "syntax error");
        return reject(ud, "", why);
    default:
        return -1;
    }
}

int sl_transform_record(sl_transform *transform, sl_json *js,
                        const sl_json_token *first, size_t index,
                        sl_buf *block, sl_transform_reject_fn reject,
                        void *ud, sl_transform_result *res)
{
    lua_State *L = transform->L;
    memset(res, 0, sizeof *res);
    int depth_before = js->depth - (first->type == SL_JSON_OBJECT_BEGIN ||
                                    first->type == SL_JSON_ARRAY_BEGIN);
    call_ctx c = {.transform = transform, .js = js, .first = first,
                  .index = index};
    int base = lua_gettop(L);
    char err[256];
    if (!lua_checkstack(L, 4))
        return -1;
    lua_pushcfunction(L, call_transform);            /* f */
    lua_pushlightuserdata(L, &c);                    /* f ctx */
    uint64_t t0 = sl_time_mono_us();
    int st = sl_luahost_pcall(L, 1, 1, transform->max_instructions, err,
                              sizeof err);
    transform->tally.calls++;
    transform->tally.time_us += sl_time_mono_us() - t0;
    if (st != LUA_OK && !c.malformed) {
        transform->tally.errors++;
        transform->tally.overruns +=
            strstr(err, "instruction limit exceeded") != NULL;
    }
    if (c.malformed) {
        lua_settop(L, base);
        return 1;
    }
    if (st != LUA_OK) {                              /* (error popped) */
        skip_rest(js, depth_before);
        lua_settop(L, base);
        char msg[300];
        snprintf(msg, sizeof msg, "transform: %s", err);
        res->rejected++;
        return reject(ud, "", msg) != 0 ? -1 : 0;
    }
    int rc = 0;                                      /* result */
    int top = lua_gettop(L);
    if (lua_isnil(L, top)) {
        res->dropped = 1;
    } else if (lua_type(L, top) == LUA_TTABLE && lua_rawlen(L, top) > 0 &&
               lua_rawgeti(L, top, 1) == LUA_TTABLE) { /* result t[1] */
        lua_pop(L, 1);                               /* result */
        lua_Integer n = (lua_Integer)lua_rawlen(L, top);
        for (lua_Integer i = 1; i <= n && rc == 0; i++) {
            lua_rawgeti(L, top, i);                  /* result t[i] */
            rc = encode_output(transform, lua_gettop(L), block, reject, ud,
                               res);
            lua_pop(L, 1);                           /* result */
        }
    } else {
        lua_settop(L, top);                          /* result */
        rc = encode_output(transform, top, block, reject, ud, res);
    }
    lua_settop(L, base);
    return rc != 0 ? -1 : 0;
}
