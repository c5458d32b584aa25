/* Unit tests for sl_luaalloc: lua_Alloc's contract over every size class
 * and across the small/large bound (contents kept by realloc growing and
 * shrinking, free of NULL), blocks reused from the free lists, the cache's
 * bound, trim, the cap and what the state holds, and whole Lua states on
 * one allocator, with and without a cap. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "sl_luaalloc.h"
#include "sl_test.h"

/* Fill p[0..n) with a pattern from seed; check it. */
static void fill(void *p, size_t n, unsigned seed)
{
    unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        b[i] = (unsigned char)(seed * 31u + i * 7u);
}

static int holds(const void *p, size_t n, unsigned seed)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)(seed * 31u + i * 7u))
            return 0;
    return 1;
}

static void test_luaalloc_sizes(void)
{
    sl_luaalloc *a = sl_luaalloc_new(0);
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK(sl_luaalloc_lua(a, NULL, 0, 0) == NULL);     /* free(NULL) */
    CHECK(sl_luaalloc_lua(a, NULL, LUA_TSTRING, 0) == NULL);
    CHECK(sl_luaalloc_cached(a) == 0);
    /* every size up to twice the small bound, a type tag as osize */
    for (size_t n = 1; n <= 2 * SL_LUAALLOC_SMALL_MAX + 3; n++) {
        void *p = sl_luaalloc_lua(a, NULL, LUA_TTABLE, n);
        CHECK(p != NULL);
        if (!p)
            continue;
        fill(p, n, (unsigned)n);
        CHECK(holds(p, n, (unsigned)n));
        CHECK(sl_luaalloc_lua(a, p, n, 0) == NULL);
    }
    CHECK(sl_luaalloc_cached(a) <= SL_LUAALLOC_KEEP_BYTES);
    sl_luaalloc_free(a);
    sl_luaalloc_free(NULL);
}

static void test_luaalloc_realloc(void)
{
    sl_luaalloc *a = sl_luaalloc_new(0);
    CHECK(a != NULL);
    if (!a)
        return;
    /* grow from 1 byte past the small bound and back, keeping contents */
    static const size_t steps[] = {1, 15, 16, 17, 100, 511, 512, 513, 4096,
                                   700, 512, 300, 33, 16, 8, 1};
    size_t cur = 1;
    void *p = sl_luaalloc_lua(a, NULL, 0, cur);
    CHECK(p != NULL);
    fill(p, cur, 7);
    for (size_t i = 1; p && i < sizeof steps / sizeof *steps; i++) {
        size_t n = steps[i];
        void *q = sl_luaalloc_lua(a, p, cur, n);
        CHECK(q != NULL);
        if (!q)
            break;
        size_t kept = cur < n ? cur : n;
        CHECK(holds(q, kept, 7));
        fill(q, n, 7);
        p = q;
        cur = n;
    }
    if (p)
        sl_luaalloc_lua(a, p, cur, 0);
    /* within one class a block stays where it is */
    p = sl_luaalloc_lua(a, NULL, 0, 17);
    CHECK(p != NULL && sl_luaalloc_lua(a, p, 17, 32) == p);
    CHECK(sl_luaalloc_lua(a, p, 32, 20) == p);
    sl_luaalloc_lua(a, p, 20, 0);
    sl_luaalloc_free(a);
}

static void test_luaalloc_reuse_and_bound(void)
{
    sl_luaalloc *a = sl_luaalloc_new(0);
    CHECK(a != NULL);
    if (!a)
        return;
    void *p = sl_luaalloc_lua(a, NULL, 0, 40);
    CHECK(p != NULL);
    sl_luaalloc_lua(a, p, 40, 0);
    CHECK(sl_luaalloc_cached(a) == 48);                    /* its class */
    void *q = sl_luaalloc_lua(a, NULL, 0, 33);         /* same class */
    CHECK(q == p);
    CHECK(sl_luaalloc_cached(a) == 0);
    sl_luaalloc_lua(a, q, 33, 0);
    /* large blocks are never cached */
    p = sl_luaalloc_lua(a, NULL, 0, SL_LUAALLOC_SMALL_MAX + 1);
    CHECK(p != NULL);
    sl_luaalloc_lua(a, p, SL_LUAALLOC_SMALL_MAX + 1, 0);
    CHECK(sl_luaalloc_cached(a) == 48);
    /* many blocks freed at once: the cache stops at its bound */
    enum { N = 4 * SL_LUAALLOC_KEEP_BYTES / 64 };
    void **v = calloc(N, sizeof *v);
    CHECK(v != NULL);
    if (!v) {
        sl_luaalloc_free(a);
        return;
    }
    for (size_t i = 0; i < N; i++) {
        v[i] = sl_luaalloc_lua(a, NULL, 0, 64);
        CHECK(v[i] != NULL);
    }
    CHECK(sl_luaalloc_cached(a) == 48);
    for (size_t i = 0; i < N; i++)
        sl_luaalloc_lua(a, v[i], 64, 0);
    CHECK(sl_luaalloc_cached(a) <= SL_LUAALLOC_KEEP_BYTES);
    CHECK(sl_luaalloc_cached(a) > SL_LUAALLOC_KEEP_BYTES - 64);
    free(v);
    sl_luaalloc_trim(a);
    CHECK(sl_luaalloc_cached(a) == 0);
    sl_luaalloc_free(a);
}

/* A whole state on one allocator: strings, tables growing and shrinking,
 * garbage collected, then closed with everything given back. */
static void test_luaalloc_lua_state(void)
{
    sl_luaalloc *a = sl_luaalloc_new(0);
    CHECK(a != NULL);
    if (!a)
        return;
    lua_State *L = lua_newstate(sl_luaalloc_lua, a);
    CHECK(L != NULL);
    if (!L) {
        sl_luaalloc_free(a);
        return;
    }
    luaL_openlibs(L);
    static const char code[] =
        "local n = 0\n"
        "for r = 1, 2000 do\n"
        "  local t = {id = r, name = ('n'):rep(r % 90) .. r}\n"
        "  for i = 1, r % 40 do t[i] = i * 2 end\n"
        "  for i = 1, r % 40 do t[i] = nil end\n"
        "  t.name = string.upper(t.name)\n"
        "  n = n + #t.name\n"
        "end\n"
        "collectgarbage()\n"
        "return n\n";
    CHECK(luaL_dostring(L, code) == LUA_OK);
    lua_Integer want = 0;
    for (int r = 1; r <= 2000; r++) {
        int digits = r >= 1000 ? 4 : r >= 100 ? 3 : r >= 10 ? 2 : 1;
        want += r % 90 + digits;
    }
    CHECK(lua_tointeger(L, -1) == want);
    lua_close(L);
    CHECK(sl_luaalloc_cached(a) <= SL_LUAALLOC_KEEP_BYTES);
    sl_luaalloc_free(a);
}

static void test_luaalloc_cap(void)
{
    sl_luaalloc *a = sl_luaalloc_new(1000);
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK(sl_luaalloc_limit(a) == 1000 && sl_luaalloc_used(a) == 0);
    void *p = sl_luaalloc_lua(a, NULL, 0, 600);
    CHECK(p != NULL && sl_luaalloc_used(a) == 600 && !sl_luaalloc_cap_hit(a));
    void *q = sl_luaalloc_lua(a, NULL, 0, 401);              /* 1001 */
    CHECK(q == NULL && sl_luaalloc_cap_hit(a) && sl_luaalloc_used(a) == 600);
    sl_luaalloc_reset_cap_hit(a);
    q = sl_luaalloc_lua(a, NULL, 0, 400);                    /* exactly 1000 */
    CHECK(q != NULL && sl_luaalloc_used(a) == 1000 && !sl_luaalloc_cap_hit(a));
    fill(p, 600, 3);
    CHECK(sl_luaalloc_lua(a, p, 600, 601) == NULL && sl_luaalloc_cap_hit(a));
    CHECK(holds(p, 600, 3) && sl_luaalloc_used(a) == 1000);  /* p kept */
    void *r = sl_luaalloc_lua(a, p, 600, 100);               /* shrinking */
    CHECK(r != NULL && holds(r, 100, 3) && sl_luaalloc_used(a) == 500);
    /* lowered under what is held: shrinking works, growing does not */
    sl_luaalloc_set_limit(a, 200);
    sl_luaalloc_reset_cap_hit(a);
    CHECK(sl_luaalloc_lua(a, NULL, 0, 1) == NULL && sl_luaalloc_cap_hit(a));
    void *s2 = sl_luaalloc_lua(a, q, 400, 50);
    CHECK(s2 != NULL && sl_luaalloc_used(a) == 150);
    sl_luaalloc_lua(a, s2, 50, 0);
    sl_luaalloc_lua(a, r, 100, 0);
    CHECK(sl_luaalloc_used(a) == 0);
    sl_luaalloc_set_limit(a, 0);                             /* no cap */
    p = sl_luaalloc_lua(a, NULL, 0, 1 << 20);
    CHECK(p != NULL);
    sl_luaalloc_lua(a, p, 1 << 20, 0);
    sl_luaalloc_free(a);
}

/* A state under a cap that a script allocating without bound hits: a
 * memory error, not a crash, and the state works on once it is freed. */
static void test_luaalloc_lua_cap(void)
{
    sl_luaalloc *a = sl_luaalloc_new(512 * 1024);
    CHECK(a != NULL);
    lua_State *L = a ? lua_newstate(sl_luaalloc_lua, a) : NULL;
    CHECK(L != NULL);
    if (!L) {
        sl_luaalloc_free(a);
        return;
    }
    luaL_openlibs(L);
    CHECK(luaL_loadstring(L, "local t = {} for i = 1, 1e9 do "
                             "t[i] = {i, 'k' .. i} end") == LUA_OK);
    CHECK(lua_pcall(L, 0, 0, 0) == LUA_ERRMEM);
    CHECK(sl_luaalloc_cap_hit(a) && sl_luaalloc_used(a) <= 512 * 1024);
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    CHECK(sl_luaalloc_used(a) < 256 * 1024);
    CHECK(luaL_dostring(L, "return #string.rep('x', 1000)") == LUA_OK);
    CHECK(lua_tointeger(L, -1) == 1000);
    lua_close(L);
    sl_luaalloc_free(a);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"sizes", test_luaalloc_sizes},
        {"realloc", test_luaalloc_realloc},
        {"reuse_and_bound", test_luaalloc_reuse_and_bound},
        {"lua_state", test_luaalloc_lua_state},
        {"cap", test_luaalloc_cap},
        {"lua_cap", test_luaalloc_lua_cap},
        {NULL, NULL}};
    return sl_test_run(cases);
}
