/* Unit tests for sl_luahost: the sandbox (what a script can and cannot
 * reach, in the state a connector file gets: sl_luastd_new), the memory
 * cap and instruction budget, the file name that replaces the placeholder
 * chunk name in messages, and where require finds sluice's modules. The
 * `sluice` module's functions are in test_luastd.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_luahost.h"
#include "sl_luastd.h"
#include "sl_test.h"

/* Run `code` in a fresh sandbox with the sluice module; returns the error
 * ("" if none) and, when it returned a string, that string in *ret. */
static const char *run_lua(size_t limit, const char *code, char *ret,
                           size_t retlen)
{
    static char err[512];
    err[0] = '\0';
    if (ret)
        ret[0] = '\0';
    lua_State *L = sl_luastd_new(limit, err, sizeof err);
    CHECK(L != NULL);
    if (!L)
        return err;
    if (luaL_loadbufferx(L, code, strlen(code), "=test", "t") != LUA_OK) {
        snprintf(err, sizeof err, "%s", lua_tostring(L, -1));
    } else if (sl_luahost_pcall(L, 0, 1, 1000000, err, sizeof err) == LUA_OK) {
        if (ret && lua_type(L, -1) == LUA_TSTRING)
            snprintf(ret, retlen, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    CHECK(lua_gettop(L) == 0);
    sl_luahost_free(L);
    return err;
}

static void test_luahost_sandbox(void)
{
    char r[256];
    CHECK_STR(run_lua(0, "local t = {} "
                         "for _, n in ipairs{'io', 'debug', 'dofile', "
                         "'loadfile', 'package', 'coroutine'} do "
                         "  if _G[n] ~= nil then t[#t + 1] = n end end "
                         "for _, n in ipairs{'execute', 'exit', 'remove', "
                         "'rename', 'tmpname', 'setlocale'} do "
                         "  if os[n] ~= nil then t[#t + 1] = 'os.' .. n end end "
                         "return table.concat(t, ',')", r, sizeof r), "");
    CHECK_STR(r, "");
    CHECK_STR(run_lua(0, "return type(os.time()) .. type(os.clock()) .. "
                         "type(os.date('%Y')) .. type(string.format) .. "
                         "type(math.floor) .. type(utf8.char) .. "
                         "type(table.concat)", r, sizeof r), "");
    CHECK_STR(r, "numbernumberstringfunctionfunctionfunctionfunction");
    /* require serves only what sluice provides */
    CHECK_STR(run_lua(0, "local j = require 'cjson' "
                         "assert(j == sluice.json and require('os') == os) "
                         "return j.encode({a = 1})", r, sizeof r), "");
    CHECK_STR(r, "{\"a\":1}");
    CHECK_STR(run_lua(0, "return require('cjson.safe').decode('[') == nil "
                         "and 'ok' or 'no'", r, sizeof r), "");
    CHECK_STR(r, "ok");
    CHECK_CONTAINS(run_lua(0, "require 'io'", NULL, 0), "module 'io' not found");
    CHECK_CONTAINS(run_lua(0, "require '../../etc/passwd'", NULL, 0),
                   "not found");
    CHECK_CONTAINS(run_lua(0, "require 'sluice.nope'", NULL, 0),
                   "module 'sluice.nope' not found (no file " SLUICE_LUA_DIR
                   "/sluice/nope.lua)");
    CHECK_STR(run_lua(0, "return tostring(require('sluice') == sluice)", r,
                      sizeof r), "");
    CHECK_STR(r, "true");
    /* load: text yes, binary no */
    CHECK_STR(run_lua(0, "return load('return \"t\"')()", r, sizeof r), "");
    CHECK_STR(r, "t");
    CHECK_CONTAINS(run_lua(0, "return load(string.dump(function() end), "
                              "'x', 'b')", NULL, 0),
                   "only text chunks are allowed");
    CHECK_STR(run_lua(0, "local f, e = load(string.dump(function() end)) "
                         "return e", r, sizeof r), "");
    CHECK_CONTAINS(r, "attempt to load a binary chunk");
}

static void test_luahost_env(void)
{
    char r[256];
    setenv("SLUICE_TEST_ENV_SET", "hello", 1);
    unsetenv("SLUICE_TEST_ENV_UNSET");
    CHECK_STR(run_lua(0, "return sluice.env('SLUICE_TEST_ENV_SET') .. "
                         "sluice.env('SLUICE_TEST_ENV_UNSET', '-dflt')",
                      r, sizeof r), "");
    CHECK_STR(r, "hello-dflt");
    CHECK_STR(run_lua(0, "\n\nreturn sluice.env('SLUICE_TEST_ENV_UNSET')",
                      NULL, 0),
              "test:3: environment variable SLUICE_TEST_ENV_UNSET is not set");
    unsetenv("SLUICE_TEST_ENV_SET");
}

static void test_luahost_limits(void)
{
    char err[256];
    CHECK_STR(run_lua(1 << 20, "local s = string.rep('x', 4 << 20)", NULL, 0),
              "memory limit of 1 MiB exceeded");
    /* a script's own pcall does not defeat the instruction budget */
    CHECK_CONTAINS(run_lua(0, "while true do pcall(function() "
                              "while true do end end) end", NULL, 0),
                   "instruction limit exceeded");
    /* a cap too small for the libraries fails cleanly */
    CHECK(sl_luahost_new(4096, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "memory limit");
    lua_State *L = sl_luahost_new(8 << 20, err, sizeof err);
    CHECK(L != NULL && sl_luahost_mem_used(L) > 0 &&
          sl_luahost_mem_used(L) < (8u << 20));
    /* a cap below what is in use: nothing grows, the state stays usable */
    sl_luahost_set_mem_limit(L, 1024);
    luaL_loadstring(L, "return string.rep('x', 100)");   /* f | msg */
    lua_settop(L, 0);
    lua_pushcfunction(L, sl_luastd_open);                /* f */
    CHECK(sl_luahost_pcall(L, 0, 1, 0, err, sizeof err) == LUA_ERRMEM);
    CHECK_STR(err, "memory limit of 1024 bytes exceeded");
    sl_luahost_set_mem_limit(L, 0);                      /* no cap */
    CHECK(luaL_loadstring(L, "return string.rep('x', 100)") == LUA_OK);
    CHECK(sl_luahost_pcall(L, 0, 1, 0, err, sizeof err) == LUA_OK);
    CHECK(lua_rawlen(L, -1) == 100);
    lua_pop(L, 1);
    sl_luahost_free(L);
    sl_luahost_free(NULL);
}

static void test_luahost_file_name(void)
{
    char err[256], where[64];
    lua_State *L = sl_luahost_new(0, err, sizeof err);
    CHECK(L != NULL);
    if (!L)
        return;
    CHECK(sl_luahost_file(L) == NULL);
    CHECK(sl_luahost_set_file(L, "conf/connectors/a_rather_long_directory_"
                                 "name/and_a_long_file_name.lua") == 0);
    /* the full name, not Lua's 60-byte short_src */
    const char *code = "local x = 1\nerror('boom')";
    luaL_loadbufferx(L, code, strlen(code), SL_LUAHOST_CHUNK, "t");
    CHECK(sl_luahost_pcall(L, 0, 0, 0, err, sizeof err) == LUA_ERRRUN);
    CHECK_STR(err, "conf/connectors/a_rather_long_directory_name/"
                   "and_a_long_file_name.lua:2: boom");
    CHECK(sl_luahost_set_file(L, "c.lua") == 0);
    CHECK_STR(sl_luahost_file(L), "c.lua");
    code = "\n\nwhile true do end";
    luaL_loadbufferx(L, code, strlen(code), SL_LUAHOST_CHUNK, "t");
    CHECK(sl_luahost_pcall(L, 0, 0, 5000, err, sizeof err) == LUA_ERRRUN);
    CHECK_STR(err, "c.lua:3: instruction limit exceeded");
    /* truncated, not overrun */
    code = "error('x')";
    luaL_loadbufferx(L, code, strlen(code), SL_LUAHOST_CHUNK, "t");
    CHECK(sl_luahost_pcall(L, 0, 0, 0, err, 4) == LUA_ERRRUN);
    CHECK_STR(err, "c.l");
    sl_luahost_where(L, 1, where, sizeof where); /* no Lua caller */
    CHECK_STR(where, "");
    CHECK(lua_gettop(L) == 0);
    sl_luahost_free(L);
}

static void test_luahost_no_finalizers(void)
{
    /* hooks are off in finalizers: a __gc loop would escape the budget */
    CHECK_CONTAINS(run_lua(0, "setmetatable({}, {__gc = function() "
                              "while true do end end}) collectgarbage()",
                           NULL, 0),
                   "test:1: setmetatable: __gc metamethods are not allowed");
    char r[64];
    CHECK_STR(run_lua(0, "local t = setmetatable({}, {__index = function() "
                         "return 'mt' end}) return t.x", r, sizeof r), "");
    CHECK_STR(r, "mt");
    CHECK_STR(run_lua(0, "local t = setmetatable({}, nil) "
                         "return tostring(getmetatable(t))", r, sizeof r), "");
    CHECK_STR(r, "nil");
}

/* require's directory: the build tree's (SLUICE_LUA_DIR, through the
 * marker file beside the test), unless $SLUICE_LUA_PATH names another */
static void test_luahost_lua_dir(void)
{
    char r[64], dir[] = "/tmp/sl_luahost_XXXXXX", sub[64], file[96];
    CHECK_STR(run_lua(0, "return type(require 'sluice.oauth2')", r, sizeof r),
              "");
    CHECK_STR(r, "table");
    CHECK(mkdtemp(dir) != NULL);
    snprintf(sub, sizeof sub, "%s/sluice", dir);
    snprintf(file, sizeof file, "%s/mine.lua", sub);
    CHECK(mkdir(sub, 0700) == 0);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("return 'from SLUICE_LUA_PATH'\n", f);
        fclose(f);
    }
    setenv("SLUICE_LUA_PATH", dir, 1);
    CHECK_STR(run_lua(0, "return require 'sluice.mine'", r, sizeof r), "");
    CHECK_STR(r, "from SLUICE_LUA_PATH");
    char want[128];
    snprintf(want, sizeof want, "(no file %s/sluice/oauth2.lua)", dir);
    CHECK_CONTAINS(run_lua(0, "require 'sluice.oauth2'", NULL, 0), want);
    setenv("SLUICE_LUA_PATH", "", 1); /* empty: as if unset */
    CHECK_STR(run_lua(0, "return type(require 'sluice.oauth2')", r, sizeof r),
              "");
    CHECK_STR(r, "table");
    unsetenv("SLUICE_LUA_PATH");
    CHECK_CONTAINS(run_lua(0, "require 'sluice.mine'", NULL, 0),
                   "(no file " SLUICE_LUA_DIR "/sluice/mine.lua)");
    remove(file);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"sandbox", test_luahost_sandbox},
        {"env", test_luahost_env},
        {"limits", test_luahost_limits},
        {"file_name", test_luahost_file_name},
        {"no_finalizers", test_luahost_no_finalizers},
        {"lua_dir", test_luahost_lua_dir},
        {NULL, NULL}};
    return sl_test_run(cases);
}
