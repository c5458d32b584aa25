/* sl_luastd: the `sluice` module. One luaL_Reg list names every member
 * and sl_luastd_open registers them all; the functions that need no event
 * loop (env, now, sha256 and HMAC from libcrypto, base64, hex, uuid, log)
 * are here, those that wait on it (sleep, http.request) in sl_luaruntime.
 * Every result string is built with luaL_Buffer, so the state's memory
 * cap applies to it. */
#include "sl_luastd.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua-cjson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "sl_log.h"
#include "sl_luajson.h"
#include "sl_luahost.h"
#include "sl_luaruntime.h"
#include "sl_time.h"

#define SHA256_LEN 32

/* ---- env, now ------------------------------------------------------------ */

/* sluice.env(name [, default]): the variable, else the default, else an
 * error that carries the caller's file:line. */
static int std_env(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *v = getenv(name);
    if (v) {
        lua_pushstring(L, v);                 /* value */
        return 1;
    }
    if (!lua_isnoneornil(L, 2)) {
        lua_settop(L, 2);                     /* name default */
        return 1;
    }
    /* level 1 is the Lua function that called env */
    return luaL_error(L, "environment variable %s is not set", name);
}

/* sluice.now(): wall-clock seconds, to the millisecond. */
static int std_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)sl_time_wall_ms() / 1000.0); /* seconds */
    return 1;
}

/* ---- hashing --------------------------------------------------------- */

/* sluice.sha256(data): the raw 32-byte digest. */
static int std_sha256(lua_State *L)
{
    size_t n;
    const char *data = luaL_checklstring(L, 1, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(data, n, md, &mdlen, EVP_sha256(), NULL) != 1)
        return luaL_error(L, "sha256: libcrypto failed");
    lua_pushlstring(L, (const char *)md, mdlen);  /* digest */
    return 1;
}

/* sluice.hmac_sha256(key, data): the raw 32-byte MAC. */
static int std_hmac_sha256(lua_State *L)
{
    size_t kn, n;
    const char *key = luaL_checklstring(L, 1, &kn);
    const char *data = luaL_checklstring(L, 2, &n);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    luaL_argcheck(L, kn <= INT_MAX, 1, "key too long");
    if (!HMAC(EVP_sha256(), key, (int)kn, (const unsigned char *)data, n, md,
              &mdlen))
        return luaL_error(L, "hmac_sha256: libcrypto failed");
    lua_pushlstring(L, (const char *)md, mdlen);  /* mac */
    return 1;
}

/* ---- base64 (RFC 4648) -------------------------------------------------- */

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char *const b64_variants[] = {"std", "url", NULL};

/* The 6-bit value of c in the alphabet, or -1. */
static int b64_value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* sluice.base64_encode(data [, "std" | "url"]): "std" pads with "=",
 * "url" uses "-" and "_" and does not pad. */
static int std_base64_encode(lua_State *L)
{
    size_t n;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 1, &n);
    bool url = luaL_checkoption(L, 2, "std", b64_variants) == 1;
    const char *abc = url ? b64_url : b64_std;
    luaL_argcheck(L, n / 3 < (SIZE_MAX - 8) / 4, 1, "too long");
    size_t cap = (n / 3 + 1) * 4, o = 0, i = 0;
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, cap);   /* buf */
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = abc[(v >> 6) & 63];
        out[o++] = abc[v & 63];
    }
    if (n - i > 0) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (n - i == 2)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = abc[v >> 18];
        out[o++] = abc[(v >> 12) & 63];
        if (n - i == 2)
            out[o++] = abc[(v >> 6) & 63];
        else if (!url)
            out[o++] = '=';
        if (!url)
            out[o++] = '=';
    }
    luaL_pushresultsize(&b, o);                  /* text */
    return 1;
}

/* sluice.base64_decode(s [, "std" | "url"]): the bytes, or nil and
 * "invalid base64". "std" needs the padding to a multiple of 4
 * characters; "url" takes it or not. Unused trailing bits are ignored. */
static int std_base64_decode(lua_State *L)
{
    size_t n;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 1, &n);
    bool url = luaL_checkoption(L, 2, "std", b64_variants) == 1;
    size_t pad = 0, body, o = 0;
    while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
        pad++;
    body = n - pad;
    bool ok = (pad > 0 || !url ? n % 4 == 0 : n % 4 != 1);
    for (size_t i = 0; ok && i < body; i++)
        ok = b64_value(in[i], url) >= 0;
    if (!ok) {
        lua_pushnil(L);                          /* nil */
        lua_pushliteral(L, "invalid base64");    /* nil msg */
        return 2;
    }
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, body / 4 * 3 + 2); /* buf */
    uint32_t v = 0;
    size_t k = 0;
    for (size_t i = 0; i < body; i++) {
        v = v << 6 | (uint32_t)b64_value(in[i], url);
        if (++k == 4) {
            out[o++] = (char)(v >> 16);
            out[o++] = (char)(v >> 8);
            out[o++] = (char)v;
            v = 0;
            k = 0;
        }
    }
    if (k == 2) {                                /* 12 bits: one byte */
        out[o++] = (char)(v >> 4);
    } else if (k == 3) {                         /* 18 bits: two bytes */
        out[o++] = (char)(v >> 10);
        out[o++] = (char)(v >> 2);
    }
    luaL_pushresultsize(&b, o);                  /* bytes */
    return 1;
}

/* ---- hex, uuid ------------------------------------------------------------ */

static const char hexdig[] = "0123456789abcdef";

/* sluice.hex(data): lower-case hex, two digits per byte. */
static int std_hex(lua_State *L)
{
    size_t n;
    const unsigned char *in = (const unsigned char *)luaL_checklstring(L, 1, &n);
    luaL_argcheck(L, n < SIZE_MAX / 2, 1, "too long");
    luaL_Buffer b;
    char *out = luaL_buffinitsize(L, &b, 2 * n); /* buf */
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdig[in[i] >> 4];
        out[2 * i + 1] = hexdig[in[i] & 15];
    }
    luaL_pushresultsize(&b, 2 * n);              /* hex */
    return 1;
}

/* sluice.uuid(): a random (version 4, RFC 9562 variant) UUID. */
static int std_uuid(lua_State *L)
{
    unsigned char r[16];
    char s[37];
    size_t o = 0;
    if (RAND_bytes(r, sizeof r) != 1)
        return luaL_error(L, "uuid: no random bytes from libcrypto");
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40); /* version 4 */
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80); /* variant 10xx */
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            s[o++] = '-';
        s[o++] = hexdig[r[i] >> 4];
        s[o++] = hexdig[r[i] & 15];
    }
    lua_pushlstring(L, s, o);                    /* uuid */
    return 1;
}

/* ---- log -------------------------------------------------------------- */

/* Every argument through tostring, joined by spaces, logged with the
 * caller's file:line. Never raises for the arguments' types. */
static int log_at(lua_State *L, sl_log_level lvl)
{
    int n = lua_gettop(L);
    char where[512], comp[96];
    const char *file, *base;
    luaL_Buffer b;
    if (lvl < sl_log_get_level())
        return 0;
    sl_luahost_where(L, 1, where, sizeof where);
    luaL_buffinit(L, &b);                        /* args buf */
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);              /* args buf s */
        luaL_addvalue(&b);                       /* args buf */
    }
    luaL_pushresult(&b);                         /* args text */
    file = sl_luahost_file(L);
    base = file ? strrchr(file, '/') : NULL;
    snprintf(comp, sizeof comp, "lua%s%s", file ? ":" : "",
             base ? base + 1 : file ? file : "");
    sl_log(lvl, comp, "%s%s%s", where, *where ? ": " : "",
           lua_tostring(L, -1));
    return 0;
}

static int log_info(lua_State *L) { return log_at(L, SL_LOG_INFO); }
static int log_warn(lua_State *L) { return log_at(L, SL_LOG_WARN); }
static int log_error(lua_State *L) { return log_at(L, SL_LOG_ERROR); }

static const luaL_Reg log_funcs[] = {
    {"info", log_info},
    {"warn", log_warn},
    {"error", log_error},
    {NULL, NULL}
};

static const luaL_Reg http_funcs[] = {
    {"request", sl_luaruntime_http_request},
    {NULL, NULL}
};

/* Every member of `sluice`; the tables (NULL here) are filled in by
 * sl_luastd_open. A new sluice.* function goes in this list, or in
 * loop_funcs when it waits on the event loop. */
static const luaL_Reg sluice_funcs[] = {
    {"env", std_env},
    {"now", std_now},
    {"sha256", std_sha256},
    {"hmac_sha256", std_hmac_sha256},
    {"base64_encode", std_base64_encode},
    {"base64_decode", std_base64_decode},
    {"hex", std_hex},
    {"uuid", std_uuid},
    {"log", NULL},   /* log_funcs */
    {"json", NULL},  /* lua-cjson */
    {NULL, NULL}
};

/* The members that wait on the event loop (sl_luaruntime's), added by
 * sl_luastd_open_loop once a runtime runs the state's functions. */
static const luaL_Reg loop_funcs[] = {
    {"sleep", sl_luaruntime_sleep},
    {"http", NULL},  /* http_funcs */
    {NULL, NULL}
};

/* lua-cjson's luaopen_cjson writes a global of the library each time
 * (fpconv_init: the locale's decimal point, the same byte every time);
 * states are made on several threads (the check threads' transform
 * states), so those writes take turns (helgrind saw two at once). Run
 * protected under the lock: a memory error must not leave it held.
 * [-0, +1, m] */
static pthread_mutex_t cjson_open_lock = PTHREAD_MUTEX_INITIALIZER;

static int open_cjson(lua_State *L)
{
    lua_pushcfunction(L, luaopen_cjson);
    pthread_mutex_lock(&cjson_open_lock);
    int st = lua_pcall(L, 0, 1, 0);
    pthread_mutex_unlock(&cjson_open_lock);
    if (st != LUA_OK)
        return lua_error(L);
    return 1;
}

int sl_luastd_open(lua_State *L)
{
    luaL_newlib(L, sluice_funcs);                /* sluice */
    luaL_newlib(L, log_funcs);                   /* sluice log */
    lua_setfield(L, -2, "log");                  /* sluice.log = log */
    luaL_requiref(L, "cjson", open_cjson, 0);    /* sluice cjson */
    sl_luajson_open(L);                          /* cjson.empty_array ... */
    lua_setfield(L, -2, "json");                 /* sluice.json = cjson */
    return 1;
}

/* Protected: add loop_funcs to the global `sluice` (the table require
 * "sluice" returns too). */
static int open_loop(lua_State *L)
{
    if (lua_getglobal(L, "sluice") != LUA_TTABLE)   /* sluice */
        return luaL_error(L, "the sluice module is missing");
    luaL_setfuncs(L, loop_funcs, 0);                /* sluice */
    luaL_newlib(L, http_funcs);                     /* sluice http */
    lua_setfield(L, -2, "http");                    /* sluice.http = http */
    lua_pop(L, 1);                                  /* */
    return 0;
}

int sl_luastd_open_loop(lua_State *L, char *err, size_t errlen)
{
    lua_pushcfunction(L, open_loop);                /* open */
    return sl_luahost_pcall(L, 0, 0, 0, err, errlen) == LUA_OK ? 0 : -1;
}

/* Protected: open the module as the global and the loaded `sluice`. */
static int open_sluice(lua_State *L)
{
    luaL_requiref(L, "sluice", sl_luastd_open, 1); /* sluice */
    lua_pop(L, 1);                                 /* */
    return 0;
}

lua_State *sl_luastd_new(size_t mem_limit_bytes, char *err, size_t errlen)
{
    lua_State *L = sl_luahost_new(mem_limit_bytes, err, errlen);
    if (!L)
        return NULL;
    lua_pushcfunction(L, open_sluice);             /* open */
    if (sl_luahost_pcall(L, 0, 0, 0, err, errlen) != LUA_OK) {
        sl_luahost_free(L);
        return NULL;
    }
    return L;
}
