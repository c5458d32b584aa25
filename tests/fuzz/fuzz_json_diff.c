/* fuzz_json_diff: differential test of the scanner against lua-cjson.
 * sl_json must accept a complete document exactly when cjson.decode (with
 * decode_invalid_numbers(false), i.e. no NaN/Infinity/hex, and
 * decode_max_depth(128)) does, apart from the differences listed in
 * `documented()` (docs/operations.md, "What the JSON scanner refuses", and
 * the cjson leniencies recorded in docs/testing.md). Any other mismatch
 * aborts, so libFuzzer saves the input. */
#include <stdint.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "fuzz_common.h"

extern int luaopen_cjson(lua_State *L);

static lua_State *L;
static int decode_ref;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    L = luaL_newstate();
    FUZZ_ASSERT(L != NULL);
    luaL_openlibs(L);
    luaL_requiref(L, "cjson", luaopen_cjson, 0);   /* cjson */
    lua_getfield(L, -1, "decode_invalid_numbers"); /* cjson f */
    lua_pushboolean(L, 0);                         /* cjson f false */
    lua_call(L, 1, 0);                             /* cjson */
    lua_getfield(L, -1, "decode_max_depth");       /* cjson f */
    lua_pushinteger(L, SL_JSON_MAX_DEPTH);         /* cjson f 128 */
    lua_call(L, 1, 0);                             /* cjson */
    lua_getfield(L, -1, "decode");                 /* cjson decode */
    decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* cjson */
    lua_pop(L, 1);                                 /* */
    return 0;
}

static int cjson_accepts(const char *p, size_t len)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, decode_ref); /* decode */
    lua_pushlstring(L, p, len);                    /* decode s */
    int ok = lua_pcall(L, 1, 1, 0) == LUA_OK;      /* value | msg */
    lua_pop(L, 1);                                 /* */
    return ok;
}

/* RFC 3629 UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF. */
static int utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        unsigned lo = 0x80, hi = 0xBF;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xC2 && c <= 0xDF) k = 1;
        else if (c == 0xE0) { k = 2; lo = 0xA0; }
        else if (c == 0xED) { k = 2; hi = 0x9F; }
        else if (c >= 0xE1 && c <= 0xEF) k = 2;
        else if (c == 0xF0) { k = 3; lo = 0x90; }
        else if (c == 0xF4) { k = 3; hi = 0x8F; }
        else if (c >= 0xF1 && c <= 0xF3) k = 3;
        else return 0;
        if (n - i <= k) return 0;
        if (s[i + 1] < lo || s[i + 1] > hi) return 0;
        for (size_t j = 2; j <= k; j++)
            if (s[i + j] < 0x80 || s[i + j] > 0xBF) return 0;
        i += k + 1;
    }
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Does p hold "\uXXXX" naming a surrogate that is not part of a
 * high+low pair? (Checked on the raw bytes: good enough to classify.) */
static int lone_surrogate(const char *p, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++) {
        if (p[i] != '\\' || p[i + 1] != 'u') continue;
        int h[4];
        for (int j = 0; j < 4; j++) h[j] = hexval((unsigned char)p[i + 2 + j]);
        if (h[0] < 0 || h[1] < 0 || h[2] < 0 || h[3] < 0) continue;
        unsigned u = (unsigned)(h[0] << 12 | h[1] << 8 | h[2] << 4 | h[3]);
        if (u >= 0xDC00 && u <= 0xDFFF) return 1;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (i + 12 > n || p[i + 6] != '\\' || p[i + 7] != 'u') return 1;
            unsigned v = 0;
            for (int j = 0; j < 4; j++) {
                int x = hexval((unsigned char)p[i + 8 + j]);
                if (x < 0) return 1;
                v = v << 4 | (unsigned)x;
            }
            if (v < 0xDC00 || v > 0xDFFF) return 1;
            i += 11;
        }
    }
    return 0;
}

/* A byte below 0x20 between the quotes of a string. */
static int raw_control_in_string(const char *p, size_t n)
{
    int in_str = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!in_str) {
            in_str = c == '"';
        } else if (c == '\\') {
            i++;
        } else if (c == '"') {
            in_str = 0;
        } else if (c < 0x20) {
            return 1;
        }
    }
    return 0;
}

static int deepest(const char *p, size_t n)
{
    int d = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') in_str = 1;
        else if (c == '[' || c == '{') { if (++d > max) max = d; }
        else if (c == ']' || c == '}') d--;
    }
    return max;
}

/* A mismatch explained by a documented, deliberate difference: returns its
 * name, or NULL. `sl_ok` is the scanner's verdict (the other side's is its
 * negation). */
static const char *documented(const char *p, size_t n, int sl_ok,
                              const sl_json *js)
{
    if (!sl_ok) {
        /* cjson leniencies (docs/testing.md): it stops at a NUL byte after
         * a complete container, and takes numbers that strtod takes but
         * RFC 8259 does not ("1.", "1.e5", "-.5") */
        if (strcmp(js->err, "trailing characters after the document") == 0 &&
            js->err_off < n && p[js->err_off] == '\0')
            return "cjson: NUL ends the document";
        if (strcmp(js->err, "expected a digit after '.'") == 0 ||
            strcmp(js->err, "expected a digit after '-'") == 0)
            return "cjson: strtod number forms";
        /* sluice refuses, cjson accepts */
        if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) return "byte order mark";
        if (!utf8_valid((const unsigned char *)p, n)) return "invalid UTF-8";
        if (lone_surrogate(p, n)) return "lone surrogate";
        if (raw_control_in_string(p, n)) return "control character";
    }
    if (deepest(p, n) >= SL_JSON_MAX_DEPTH) return "depth limit";
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    sl_json js;
    sl_json_token t;
    sl_json_type ty;
    sl_json_init(&js, p, size, 0);
    while ((ty = sl_json_next(&js, &t)) != SL_JSON_END && ty != SL_JSON_ERROR)
        ;
    int sl_ok = ty == SL_JSON_END;
    int cj_ok = cjson_accepts(p, size);
    if (sl_ok != cj_ok && !documented(p, size, sl_ok, &js)) {
        fprintf(stderr, "fuzz_json_diff: sl_json %s (%s at %zu), cjson %s\n",
                sl_ok ? "accepts" : "refuses", sl_ok ? "-" : js.err,
                sl_ok ? (size_t)0 : js.err_off, cj_ok ? "accepts" : "refuses");
        abort();
    }
    lua_settop(L, 0);
    return 0;
}
