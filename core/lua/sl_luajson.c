/* sl_luajson: JSON scanner → Lua tables, Lua values → compact JSON. */
#include "sl_luajson.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define WRITE_MAX_DEPTH 32

/* Registry key of sluice.json.array_mt, and the value of empty_array: the
 * addresses are what count. */
static const char array_mt_key;
static const char empty_array;

void sl_luajson_open(lua_State *L)
{
    lua_newtable(L);                                 /* json mt */
    lua_pushliteral(L, "sluice.json.array");         /* json mt name */
    lua_setfield(L, -2, "__name");                   /* mt.__name = name */
    lua_pushvalue(L, -1);                            /* json mt mt */
    lua_rawsetp(L, LUA_REGISTRYINDEX, &array_mt_key); /* json mt */
    lua_setfield(L, -2, "array_mt");                 /* json.array_mt = mt */
    lua_pushlightuserdata(L, (void *)&empty_array);  /* json ea */
    lua_setfield(L, -2, "empty_array");              /* json.empty_array */
}

/* Whether the table at idx has the array metatable. Allocates nothing. */
static bool is_marked_array(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))                   /* mt */
        return false;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key); /* mt amt */
    bool yes = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);                                   /* */
    return yes;
}

static int push_string(lua_State *L, const sl_json_token *t)
{
    if (!(t->flags & SL_JSON_F_ESCAPED)) {
        lua_pushlstring(L, t->p, t->len);            /* [-0, +1] */
        return 0;
    }
    luaL_Buffer b;
    char *dst = luaL_buffinitsize(L, &b, t->len);  /* decoded <= raw */
    size_t n = 0;
    if (sl_json_unescape_into(t->p, t->len, dst, t->len, &n) != 0)
        return -1;
    luaL_pushresultsize(&b, n);                      /* [-?, +1] string */
    return 0;
}

static const double pow10_table[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                               1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                               1e12, 1e13, 1e14, 1e15};

/* A literal -?D.D of at most 15 digits read as m / 10^k: both exact
 * doubles, and IEEE division rounds the exact quotient as strtod rounds
 * the literal, so the result is the same, without strtod's cost. -1 for
 * any other literal (exponent, more digits). */
static int parse_plain_decimal(const char *p, size_t len, double *v)
{
    const char *e = p + len, *dot = NULL;
    bool neg = p < e && *p == '-';
    uint64_t m = 0;
    int digits = 0;
    for (const char *q = p + neg; q < e; q++) {
        if (*q == '.' && !dot) {
            dot = q;
        } else if ((unsigned)*q - '0' < 10u && ++digits <= 15) {
            m = m * 10 + (uint64_t)(*q - '0');
        } else {
            return -1;
        }
    }
    if (!dot || digits == 0 || digits > 15)
        return -1;
    double d = (double)m / pow10_table[e - dot - 1];
    *v = neg ? -d : d;
    return 0;
}

static void push_number(lua_State *L, const sl_json_token *t)
{
    int64_t i;
    double d;
    if ((t->flags & SL_JSON_F_INT) && sl_json_parse_int64(t->p, t->len, &i) == 0)
        lua_pushinteger(L, (lua_Integer)i);
    else if (parse_plain_decimal(t->p, t->len, &d) == 0 ||
             sl_json_parse_double(t->p, t->len, &d) == 0)
        lua_pushnumber(L, d);
    else
        lua_pushnumber(L, t->p[0] == '-' ? -HUGE_VAL : HUGE_VAL);
}

/* Members (or items) gathered on the stack before their table is made, so
 * that it is made at its final size: growing a table one key at a time
 * rehashes it at 1, 2, 4 and 8 keys (bench/callgrind.sh transform). Past
 * this many the table is made and the rest are set into it directly. */
#define PUSH_GATHER 32

/* Make the table for the n values (object: n key/value pairs) gathered on
 * top of the stack, sized for `more` more of them, and move them in, in the
 * order they came. [-(n or 2n), +1, m] */
static void gather_into_table(lua_State *L, int n, bool object, int more)
{
    int first = lua_gettop(L) - (object ? 2 * n : n) + 1;
    if (object)
        lua_createtable(L, 0, n + more);              /* kv... t */
    else
        lua_createtable(L, n + more, 0);              /* v... t */
    int t = lua_gettop(L);
    if (object) {
        for (int i = 0; i < n; i++) {
            lua_pushvalue(L, first + 2 * i);          /* kv... t k */
            lua_pushvalue(L, first + 2 * i + 1);      /* kv... t k v */
            lua_rawset(L, t);                         /* t[k] = v */
        }
    } else {
        for (int i = 0; i < n; i++) {
            lua_pushvalue(L, first + i);              /* v... t v */
            lua_rawseti(L, t, i + 1);                 /* t[i] = v */
        }
    }
    if (n > 0) {
        lua_replace(L, first);                        /* t kv... */
        lua_settop(L, first);                         /* t */
    }
}

#define KEYS_MAX PUSH_GATHER /* the first members' keys are kept */
#define RECORD_HINT_MAX 1024 /* a record's table made for at most this many */
#define KEY_MAX 40           /* bytes of a kept key (Lua's short strings) */

struct sl_luajson_keys {
    int ref;                      /* registry: the keys, a sequence */
    int members;                  /* how many the last record had */
    unsigned char len[KEYS_MAX];  /* key i's length + 1; 0: none kept */
    char bytes[KEYS_MAX][KEY_MAX];
};

sl_luajson_keys *sl_luajson_keys_new(void)
{
    sl_luajson_keys *keys = calloc(1, sizeof *keys);
    if (keys)
        keys->ref = LUA_NOREF;
    return keys;
}

void sl_luajson_keys_free(sl_luajson_keys *keys, lua_State *L)
{
    if (!keys)
        return;
    if (L) /* unref of a set slot allocates nothing */
        luaL_unref(L, LUA_REGISTRYINDEX, keys->ref);
    free(keys);
}

static int push_value(lua_State *L, sl_json *js, const sl_json_token *first,
                      sl_luajson_keys *keys);

/* Push the key of member i, from the kept keys (at stack index `kept`)
 * when the same bytes were member i of the record before, else interned
 * and kept. [-0, +1, m] */
static int push_key(lua_State *L, const sl_json_token *k,
                    sl_luajson_keys *keys, int kept, int i)
{
    if (!keys || i >= KEYS_MAX || k->len > KEY_MAX ||
        (k->flags & SL_JSON_F_ESCAPED))
        return push_string(L, k);
    if (keys->len[i] == k->len + 1 && memcmp(keys->bytes[i], k->p, k->len) == 0) {
        lua_rawgeti(L, kept, i + 1);                     /* key */
        return 0;
    }
    lua_pushlstring(L, k->p, k->len);                    /* key */
    lua_pushvalue(L, -1);                                /* key key */
    lua_rawseti(L, kept, i + 1);                         /* kept[i+1] = key */
    memcpy(keys->bytes[i], k->p, k->len);
    keys->len[i] = (unsigned char)(k->len + 1);
    return 0;
}

/* Read member (object) or item (array) i and push it: key and value, or
 * the value. 1 when the container ended (nothing pushed), 0, or -1 on
 * malformed JSON (nothing pushed). [-0, +(0|1|2), m] */
static int push_member(lua_State *L, sl_json *js, bool object,
                       sl_luajson_keys *keys, int kept, int i)
{
    sl_json_token k, v;
    sl_json_type ty = sl_json_next(js, object ? &k : &v);
    if (ty == (object ? SL_JSON_OBJECT_END : SL_JSON_ARRAY_END))
        return 1;
    if (object) {
        if (ty != SL_JSON_KEY || push_key(L, &k, keys, kept, i) != 0) /* key */
            return -1;
        if (sl_json_next(js, &v) == SL_JSON_ERROR ||
            push_value(L, js, &v, NULL) != 0) {          /* key val */
            lua_pop(L, 1);
            return -1;
        }
        return 0;
    }
    if (ty == SL_JSON_ERROR || push_value(L, js, &v, NULL) != 0)
        return -1;
    return 0;                                            /* val */
}

/* The kept keys' table pushed, made on first use. [-0, +1, m] */
static void push_kept(lua_State *L, sl_luajson_keys *keys)
{
    if (keys->ref != LUA_NOREF) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, keys->ref);    /* kept */
        return;
    }
    lua_createtable(L, KEYS_MAX, 0);                     /* kept */
    lua_pushvalue(L, -1);                                /* kept kept */
    keys->ref = luaL_ref(L, LUA_REGISTRYINDEX);          /* kept */
}

/* The record's own object, its first token already read: its table made
 * at the size the last record's had and each member set into it as it is
 * read (a connector's records seldom change shape, and setting them from
 * the stack at once saves copying each key and value), its keys from and
 * into keys. [-0, +1 | 0, m] */
static int push_record_object(lua_State *L, sl_json *js,
                              sl_luajson_keys *keys)
{
    int base = lua_gettop(L), rc;
    luaL_checkstack(L, 6, "record nested too deeply");
    push_kept(L, keys);                                  /* kept */
    lua_createtable(L, 0, keys->members < RECORD_HINT_MAX
                              ? keys->members : RECORD_HINT_MAX); /* kept t */
    for (int n = 0;; n++) {
        if ((rc = push_member(L, js, true, keys, base + 1, n)) == 1) {
            keys->members = n;
            break;
        }
        if (rc < 0) {
            lua_settop(L, base);
            return -1;
        }
        lua_rawset(L, -3);                               /* t[key] = val */
    }
    lua_remove(L, base + 1);                             /* t */
    return 0;
}

/* An object or an array, its first token already read. Each container
 * makes room on the stack for what it gathers and for one value more,
 * which is all a scalar member needs. [-0, +1 | 0, m] */
static int push_container(lua_State *L, sl_json *js, bool object)
{
    int base = lua_gettop(L), n = 0, rc = 0;
    luaL_checkstack(L, 2 * PUSH_GATHER + 5, "record nested too deeply");
    while (n < PUSH_GATHER &&
           (rc = push_member(L, js, object, NULL, 0, n)) == 0)
        n++;                                             /* gathered... */
    if (n < PUSH_GATHER && rc < 0) {
        lua_settop(L, base);
        return -1;
    }
    gather_into_table(L, n, object, n < PUSH_GATHER ? 0 : PUSH_GATHER);
    if (!object) {                                       /* arr */
        if (lua_rawgetp(L, LUA_REGISTRYINDEX, &array_mt_key) == LUA_TTABLE)
            lua_setmetatable(L, -2);                     /* arr, marked */
        else
            lua_pop(L, 1);                               /* arr */
    }
    if (n < PUSH_GATHER)
        return 0;
    for (lua_Integer i = n + 1;; i++) {                  /* the rest */
        if ((rc = push_member(L, js, object, NULL, 0, 0)) == 1)
            return 0;
        if (rc < 0) {
            lua_settop(L, base);
            return -1;
        }
        if (object)
            lua_rawset(L, -3);                           /* t[key] = val */
        else
            lua_rawseti(L, -2, i);                       /* t[i] = val */
    }
}

/* The value whose first token is *first; the caller made room for it. */
static int push_value(lua_State *L, sl_json *js, const sl_json_token *first,
                      sl_luajson_keys *keys)
{
    switch (first->type) {
    case SL_JSON_OBJECT_BEGIN:
        return keys ? push_record_object(L, js, keys)
                    : push_container(L, js, true);
    case SL_JSON_ARRAY_BEGIN:
        return push_container(L, js, false);
    case SL_JSON_STRING:
        return push_string(L, first);
    case SL_JSON_NUMBER:
        push_number(L, first);
        return 0;
    case SL_JSON_TRUE:
    case SL_JSON_FALSE:
        lua_pushboolean(L, first->type == SL_JSON_TRUE);
        return 0;
    case SL_JSON_NULL:
        lua_pushlightuserdata(L, NULL);              /* cjson.null */
        return 0;
    default:
        return -1;
    }
}

int sl_luajson_push(lua_State *L, sl_json *js, const sl_json_token *first)
{
    luaL_checkstack(L, 4, "record nested too deeply");
    return push_value(L, js, first, NULL);
}

int sl_luajson_push_record(lua_State *L, sl_json *js,
                           const sl_json_token *first, sl_luajson_keys *keys)
{
    luaL_checkstack(L, 4, "record nested too deeply");
    return push_value(L, js, first, keys);
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* Decimal digits of v into the end of buf (at most 20), returns where
 * they start. */
static char *u64_digits(uint64_t v, char *end)
{
    do
        *--end = (char)('0' + v % 10);
    while (v /= 10);
    return end;
}

static int write_int(sl_buf *out, int64_t i)
{
    char tmp[24], *end = tmp + sizeof tmp;
    uint64_t mag = i < 0 ? 0 - (uint64_t)i : (uint64_t)i;
    char *p = u64_digits(mag, end);
    if (i < 0)
        *--p = '-';
    return sl_buf_append(out, p, (size_t)(end - p));
}

/* d written as %.15g would write it when that reads back exactly and %g
 * would not use an exponent, without printf: d = m / 10^k with m an
 * integer below 10^15 and 1 <= k <= 15 the fewest decimals that read back.
 * m and 10^k are exact doubles and IEEE division rounds correctly, so
 * m / 10^k == d means the literal "m e-k" reads back as d (strtod rounds
 * the same exact quotient); with at most 15 significant digits it is also
 * what %.15g prints. 0 when written, 1 when d needs the general path. */
static int write_decimal(sl_buf *out, double d)
{
    double a = fabs(d);
    if (!(a >= 1e-4 && a < 1e15))
        return 1;
    for (int k = 1; k <= 15; k++) {
        double scaled = a * pow10_table[k];
        if (scaled >= 1e15)
            return 1;
        double m = nearbyint(scaled);
        if (m / pow10_table[k] != a)
            continue;
        char tmp[40], *end = tmp + sizeof tmp;
        char *p = u64_digits((uint64_t)m, end);
        while (end - p <= k)                     /* 0.00ddd: leading zeros */
            *--p = '0';
        memmove(p - 1, p, (size_t)(end - p - k)); /* the integer part */
        p--;
        end[-k - 1] = '.';
        if (d < 0)
            *--p = '-';
        return sl_buf_append(out, p, (size_t)(end - p)) != 0 ? -1 : 0;
    }
    return 1;
}

static int write_number(lua_State *L, int idx, sl_buf *out, char *err,
                        size_t errlen)
{
    if (lua_isinteger(L, idx))
        return write_int(out, (int64_t)lua_tointeger(L, idx));
    double d = lua_tonumber(L, idx);
    if (!isfinite(d))
        return fail(err, errlen, "number is not finite (NaN or infinity)");
    if (d == floor(d) && d >= -9223372036854775808.0 &&
        d < 9223372036854775808.0)
        return write_int(out, (int64_t)d);
    int rc = write_decimal(out, d);
    if (rc <= 0)
        return rc;
    /* shortest of 15..17 significant digits that reads back exactly */
    char tmp[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    return sl_buf_append(out, tmp, strlen(tmp));
}

static int write_value(lua_State *L, int idx, sl_buf *out, int depth,
                       char *err, size_t errlen);

static int write_table(lua_State *L, int idx, sl_buf *out, int depth,
                       char *err, size_t errlen)
{
    if (depth >= WRITE_MAX_DEPTH)
        return fail(err, errlen, "value nested deeper than 32 levels");
    if (!lua_checkstack(L, 3))
        return fail(err, errlen, "Lua stack exhausted");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n > 0) {
        if (sl_buf_putc(out, '[') != 0)
            return -1;
        for (lua_Integer i = 1; i <= n; i++) {
            if (i > 1 && sl_buf_putc(out, ',') != 0)
                return -1;
            lua_rawgeti(L, idx, i);                  /* [-0, +1] t[i] */
            int rc = write_value(L, lua_gettop(L), out, depth + 1, err, errlen);
            lua_pop(L, 1);                           /* [-1, +0] */
            if (rc != 0)
                return -1;
        }
        return sl_buf_putc(out, ']');
    }
    if (is_marked_array(L, idx))
        return sl_buf_append(out, "[]", 2);
    if (sl_buf_putc(out, '{') != 0)
        return -1;
    int first = 1;
    lua_pushnil(L);                                  /* [-0, +1] nil */
    while (lua_next(L, idx) != 0) {                  /* key value */
        if (lua_type(L, -2) != LUA_TSTRING) {
            lua_pop(L, 2);
            return fail(err, errlen, "record keys must be strings");
        }
        size_t klen;
        const char *k = lua_tolstring(L, -2, &klen); /* a string: no conversion */
        if ((!first && sl_buf_putc(out, ',') != 0) ||
            sl_buf_json_string(out, k, klen) != 0 || sl_buf_putc(out, ':') != 0 ||
            write_value(L, lua_gettop(L), out, depth + 1, err, errlen) != 0) {
            lua_pop(L, 2);
            return -1;
        }
        first = 0;
        lua_pop(L, 1);                               /* key */
    }
    return sl_buf_putc(out, '}');
}

static int write_value(lua_State *L, int idx, sl_buf *out, int depth,
                       char *err, size_t errlen)
{
    int rc;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        rc = sl_buf_json_string(out, s, n);
        break;
    }
    case LUA_TNUMBER:
        rc = write_number(L, idx, out, err, errlen);
        if (rc != 0 && err[0])
            return -1;
        break;
    case LUA_TBOOLEAN:
        rc = lua_toboolean(L, idx) ? sl_buf_append(out, "true", 4)
                                   : sl_buf_append(out, "false", 5);
        break;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == &empty_array) {
            rc = sl_buf_append(out, "[]", 2);
            break;
        }
        if (lua_touserdata(L, idx) != NULL)
            return fail(err, errlen, "cannot encode a userdata");
        rc = sl_buf_append(out, "null", 4);
        break;
    case LUA_TTABLE:
        rc = write_table(L, idx, out, depth, err, errlen);
        if (rc != 0 && err[0])
            return -1;
        break;
    case LUA_TNIL:
        rc = sl_buf_append(out, "null", 4);
        break;
    default:
        snprintf(err, errlen, "cannot encode a %s", luaL_typename(L, idx));
        return -1;
    }
    if (rc != 0 && !err[0])
        return fail(err, errlen, "out of memory");
    return rc;
}

int sl_luajson_write(lua_State *L, int idx, sl_buf *out, char *err,
                     size_t errlen)
{
    err[0] = '\0';
    size_t mark = out->len;
    int rc = write_value(L, lua_absindex(L, idx), out, 0, err, errlen);
    if (rc != 0) {
        sl_buf_truncate(out, mark);
        if (!err[0])
            snprintf(err, errlen, "out of memory");
    }
    return rc;
}

/* Whether p[0..n) is valid UTF-8 (sl_json_utf8_len's rules): runs of
 * ASCII skipped 8 bytes at a time, each other character read whole. */
static bool valid_utf8(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    size_t i = 0, step, bad;
    while (i < n) {
        uint64_t w;
        if (i + 8 <= n && (memcpy(&w, u + i, 8),
                           (w & 0x8080808080808080ull) == 0)) {
            i += 8;
        } else if (u[i] < 0x80) {
            i++;
        } else if ((step = sl_json_utf8_len(u + i, n - i, &bad)) != 0) {
            i += step;
        } else {
            return false;
        }
    }
    return true;
}

/* Bytes of x that are not ASCII JSON takes as they are (>= 0x80, < 0x20,
 * '"', '\\') have their high bit set in the result: the usual zero-byte
 * tests, whose rare false alarm only sends a string the long way. */
static inline uint64_t not_plain(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t ctl = x & (ones * 0xe0);
    return x | ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((ctl - ones) & ~ctl);
}

/* Whether p[0..n) is ASCII that JSON takes as it is, 8 bytes at a time
 * (the last 8 overlapping the ones before). */
static bool plain_ascii(const char *p, size_t n)
{
    const uint64_t highs = 0x8080808080808080u;
    uint64_t hit = 0, x;
    size_t i = 0;
    if (n >= 8) {
        for (; i + 8 <= n; i += 8) {
            memcpy(&x, p + i, 8);
            hit |= not_plain(x);
        }
        memcpy(&x, p + n - 8, 8);
        return ((hit | not_plain(x)) & highs) == 0;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\')
            return false;
    }
    return true;
}

int sl_luajson_write_scalar(lua_State *L, int idx, sl_buf *out,
                            sl_json_token *t, size_t *off)
{
    char err[8];
    size_t mark = out->len;
    *t = (sl_json_token){0};
    *off = mark;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
        size_t n;
        const char *str = lua_tolstring(L, idx, &n);
        t->type = SL_JSON_STRING;
        t->len = n;
        *off = mark + 1;
        if (plain_ascii(str, n)) { /* the usual: one pass, one copy */
            if (sl_buf_reserve(out, n + 2) != 0)
                return -1;
            char *o = out->data + mark;
            o[0] = '"';
            memcpy(o + 1, str, n);
            o[n + 1] = '"';
            out->len = mark + n + 2;
            return 0;
        }
        if (!valid_utf8(str, n))
            return 1; /* the scanner's error says where */
        if (sl_buf_json_string(out, str, n) != 0)
            return -1;
        t->len = out->len - mark - 2;
        if (t->len != n) /* an escape is longer than its byte */
            t->flags = SL_JSON_F_ESCAPED;
        return 0;
    }
    case LUA_TNUMBER:
        if (!lua_isinteger(L, idx) && !isfinite(lua_tonumber(L, idx)))
            return 1;
        if (write_number(L, idx, out, err, sizeof err) != 0)
            return -1;
        t->type = SL_JSON_NUMBER;
        t->len = out->len - mark;
        if (memchr(out->data + mark, 'e', t->len))
            t->flags = SL_JSON_F_EXP;
        else if (!memchr(out->data + mark, '.', t->len))
            t->flags = SL_JSON_F_INT;
        return 0;
    case LUA_TBOOLEAN:
        t->type = lua_toboolean(L, idx) ? SL_JSON_TRUE : SL_JSON_FALSE;
        t->len = t->type == SL_JSON_TRUE ? 4 : 5;
        return sl_buf_append(out, t->type == SL_JSON_TRUE ? "true" : "false",
                             t->len) != 0 ? -1 : 0;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL)
            return 1;
        t->type = SL_JSON_NULL;
        t->len = 4;
        return sl_buf_append(out, "null", 4) != 0 ? -1 : 0;
    default:
        return 1;
    }
}
