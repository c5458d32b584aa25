/* sl_luahost: sandboxed Lua states. Each state's own allocator caps its
 * memory (sl_luaalloc), a count hook caps instructions, and only safe
 * libraries are opened. The `sluice` module is not here: sl_luastd builds
 * it on top of this file. */
#include "sl_luahost.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>
#include <lua-cjson.h>

#include "sl_luaalloc.h"

/* sluice's own Lua modules (require "sluice.oauth2"), from the executable's
 * directory once installed; CMake passes the relative path of its
 * CMAKE_INSTALL_DATADIR/sluice/lua from CMAKE_INSTALL_BINDIR */
#ifndef SL_LUAHOST_LUA_RELDIR
#define SL_LUAHOST_LUA_RELDIR "../share/sluice/lua"
#endif
#define LUADIR_ENV "SLUICE_LUA_PATH"  /* a directory that overrides */
#define LUADIR_MARKER "sluice-lua-dir" /* in build trees only */

/* lua-cjson exports it, its header does not declare it */
extern int luaopen_cjson_safe(lua_State *L);

/* Per-state host data, reachable from any C function or hook through
 * lua_getextraspace (no globals). */
typedef struct host_state {
    sl_luaalloc *alloc;   /* owned; the allocator's `ud`, with the cap */
    unsigned long steps;  /* count-hook calls left in the current pcall */
    char *file;           /* owned; replaces the placeholder chunk name */
    char *lua_dir;        /* owned; where require finds sluice's modules */
} host_state;

#define PLACEHOLDER SL_LUAHOST_CHUNK[1]

static host_state *host_of(lua_State *L)
{
    return *(host_state **)lua_getextraspace(L);
}

static void host_hook(lua_State *L, lua_Debug *ar)
{
    host_state *h = host_of(L);
    if (h->steps > 0 && --h->steps > 0)
        return;
    /* exhausted: raise now and, from here on, at every instruction, so that
     * a script's own pcall cannot swallow the limit */
    lua_sethook(L, host_hook, LUA_MASKCOUNT, 1);
    lua_getinfo(L, "Sl", ar);
    if (ar->currentline > 0)
        lua_pushfstring(L, "%s:%d: instruction limit exceeded", ar->short_src,
                        ar->currentline);              /* msg */
    else
        lua_pushliteral(L, "instruction limit exceeded"); /* msg */
    lua_error(L);
}

/* ---- the sandbox's base functions ---------------------------------- */

/* load(chunk [, chunkname [, mode [, env]]]) with mode forced to "t":
 * binary chunks can crash the VM, so they never get in. */
static int host_load(lua_State *L)
{
    const char *mode = luaL_optstring(L, 3, "t");
    if (strcmp(mode, "t") != 0)
        return luaL_error(L, "load: only text chunks are allowed");
    if (lua_gettop(L) < 3)
        lua_settop(L, 3);                   /* chunk name mode */
    lua_pushliteral(L, "t");                /* args... "t" */
    lua_replace(L, 3);                      /* mode = "t" */
    lua_pushvalue(L, lua_upvalueindex(1));  /* args... load */
    lua_insert(L, 1);                       /* load args... */
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET); /* results... */
    return lua_gettop(L);
}

/* setmetatable(t, mt) refusing a __gc field: Lua runs finalizers with
 * hooks off, so the instruction budget could not stop a runaway one. */
static int host_setmetatable(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");             /* t mt "__gc" */
        if (lua_rawget(L, 2) != LUA_TNIL)       /* t mt gc */
            return luaL_error(L, "setmetatable: __gc metamethods are not "
                              "allowed");
        lua_pop(L, 1);                          /* t mt */
    }
    lua_settop(L, 2);                           /* t mt */
    lua_pushvalue(L, lua_upvalueindex(1));      /* t mt setmetatable */
    lua_insert(L, 1);                           /* setmetatable t mt */
    lua_call(L, 2, 1);                          /* t */
    return 1;
}

static bool valid_modname(const char *s)
{
    if (!*s || *s == '.')
        return false;
    for (const char *p = s; *p; p++) {
        bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '_';
        if (!alnum && !(*p == '.' && p[1] && p[1] != '.'))
            return false;
    }
    return true;
}

/* require(name): loaded modules, then preloaded ones, then the text file
 * <lua_dir>/<name with dots as slashes>.lua. Nothing else. */
static int host_require(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    char path[4096];
    lua_settop(L, 1);                                          /* name */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);  /* name LOADED */
    lua_getfield(L, 2, name);                                  /* name LOADED mod */
    if (lua_toboolean(L, -1))
        return 1;
    lua_pop(L, 1);                                             /* name LOADED */
    if (!valid_modname(name))
        return luaL_error(L, "module '%s' not found", name);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE); /* name LOADED PRE */
    if (lua_getfield(L, 3, name) == LUA_TNIL) {                /* name LOADED PRE f */
        lua_pop(L, 1);                                         /* name LOADED PRE */
        const char *dir = host_of(L)->lua_dir;
        int n = snprintf(path, sizeof path, "%s/%s.lua", dir, name);
        if (n < 0 || (size_t)n >= sizeof path)
            return luaL_error(L, "module '%s' not found", name);
        for (char *p = path + strlen(dir) + 1; *p; p++)
            if (*p == '.' && strcmp(p, ".lua") != 0)
                *p = '/';
        int st = luaL_loadfilex(L, path, "t");                 /* name LOADED PRE f|msg */
        if (st == LUA_ERRFILE)
            return luaL_error(L, "module '%s' not found (no file %s)", name,
                              path);
        if (st != LUA_OK)
            return lua_error(L);
    }
    lua_pushvalue(L, 1);                                       /* ... f name */
    lua_call(L, 1, 1);                                         /* ... mod */
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);                                         /* ... */
        lua_pushboolean(L, 1);                                 /* ... true */
    }
    lua_pushvalue(L, -1);                                      /* ... mod mod */
    lua_setfield(L, 2, name);                                  /* LOADED[name] = mod */
    return 1;
}

/* The running executable's directory with its trailing '/' into dir
 * (n bytes), or "" when /proc/self/exe cannot tell. */
static void exe_dir(char *dir, size_t n)
{
    ssize_t len = readlink("/proc/self/exe", dir, n - 1);
    char *slash = NULL;
    if (len > 0 && (size_t)len < n - 1) {
        dir[len] = '\0';
        slash = strrchr(dir, '/');
    }
    if (slash)
        slash[1] = '\0';
    else
        dir[0] = '\0';
}

/* Where require finds sluice's modules, the first that applies:
 * 1. $SLUICE_LUA_PATH, when set and not empty;
 * 2. the first line of <exe dir>/sluice-lua-dir: CMake writes that file
 *    beside the executables of a build tree, naming the source's lua/, and
 *    never installs it, so that no source path is compiled in;
 * 3. <exe dir>/SL_LUAHOST_LUA_RELDIR, where `cmake --install` puts them.
 * Returns a malloc'd path, or NULL when out of memory. */
static char *find_lua_dir(void)
{
    const char *env = getenv(LUADIR_ENV);
    char dir[PATH_MAX];
    char path[PATH_MAX + sizeof LUADIR_MARKER + sizeof SL_LUAHOST_LUA_RELDIR];
    if (env && *env)
        return strdup(env);
    exe_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s%s", dir, LUADIR_MARKER);
    FILE *f = fopen(path, "r");
    if (f) {
        bool got = fgets(path, sizeof path, f) != NULL;
        fclose(f);
        path[got ? strcspn(path, "\n") : 0] = '\0';
        if (*path)
            return strdup(path);
    }
    snprintf(path, sizeof path, "%s%s", dir, SL_LUAHOST_LUA_RELDIR);
    return strdup(path);
}

/* ---- opening the sandbox -------------------------------------------- */

static const luaL_Reg host_libs[] = {
    {LUA_GNAME, luaopen_base},
    {LUA_STRLIBNAME, luaopen_string},
    {LUA_TABLIBNAME, luaopen_table},
    {LUA_MATHLIBNAME, luaopen_math},
    {LUA_UTF8LIBNAME, luaopen_utf8},
    {NULL, NULL}
};

static const luaL_Reg host_preload[] = {
    {"cjson", luaopen_cjson},
    {"cjson.safe", luaopen_cjson_safe},
    {NULL, NULL}
};

static const char *const base_removed[] = {"dofile", "loadfile", NULL};
static const char *const os_kept[] = {"time", "clock", "date", "getenv", NULL};

/* os with only time, clock, date and getenv; also what require "os" gives */
static void open_os(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* LOADED */
    lua_pushcfunction(L, luaopen_os);                     /* LOADED openf */
    lua_call(L, 0, 1);                                    /* LOADED fullos */
    lua_createtable(L, 0, 4);                             /* LOADED fullos os */
    for (const char *const *k = os_kept; *k; k++) {
        lua_getfield(L, -2, *k);                          /* LOADED fullos os f */
        lua_setfield(L, -2, *k);                          /* os[k] = f */
    }
    lua_pushvalue(L, -1);                                 /* LOADED fullos os os */
    lua_setglobal(L, "os");                               /* _G.os = os */
    lua_setfield(L, -3, "os");                            /* LOADED.os = os */
    lua_pop(L, 2);                                        /* */
}

/* Runs protected, so that a memory error while opening is reported. */
static int host_open(lua_State *L)
{
    for (const luaL_Reg *lib = host_libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1); /* mod */
        lua_pop(L, 1);                             /* */
    }
    lua_pushglobaltable(L);                        /* _G */
    for (const char *const *k = base_removed; *k; k++) {
        lua_pushnil(L);                            /* _G nil */
        lua_setfield(L, -2, *k);                   /* _G[k] = nil */
    }
    lua_getfield(L, -1, "load");                   /* _G load */
    lua_pushcclosure(L, host_load, 1);             /* _G textload */
    lua_setfield(L, -2, "load");                   /* _G.load = textload */
    lua_getfield(L, -1, "setmetatable");           /* _G setmt */
    lua_pushcclosure(L, host_setmetatable, 1);     /* _G nogcsetmt */
    lua_setfield(L, -2, "setmetatable");           /* _G.setmetatable = */
    lua_pushcfunction(L, host_require);            /* _G require */
    lua_setfield(L, -2, "require");                /* _G.require = require */
    lua_pop(L, 1);                                 /* */
    open_os(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE); /* PRE */
    luaL_setfuncs(L, host_preload, 0);             /* PRE[name] = loader */
    lua_pop(L, 1);                                 /* */
    return 0;
}

lua_State *sl_luahost_new(size_t mem_limit_bytes, char *err, size_t errlen)
{
    lua_State *L = NULL;
    host_state *h = calloc(1, sizeof *h);
    if (!h)
        goto nomem;
    h->alloc = sl_luaalloc_new(mem_limit_bytes);
    h->lua_dir = find_lua_dir();
    if (!h->alloc || !h->lua_dir)
        goto nomem;
    L = lua_newstate(sl_luaalloc_lua, h->alloc);
    if (!L)
        goto nomem;
    *(host_state **)lua_getextraspace(L) = h;
    lua_pushcfunction(L, host_open);               /* open */
    if (sl_luahost_pcall(L, 0, 0, 0, err, errlen) != LUA_OK)
        goto fail;
    return L;
nomem:
    if (h && h->alloc && sl_luaalloc_cap_hit(h->alloc))
        snprintf(err, errlen, "memory limit of %zu bytes exceeded creating a "
                 "Lua state", mem_limit_bytes);
    else
        snprintf(err, errlen, "out of memory creating a Lua state");
fail:
    if (L)
        lua_close(L);
    if (h) {
        free(h->lua_dir);
        sl_luaalloc_free(h->alloc);
    }
    free(h);
    return NULL;
}

void sl_luahost_free(lua_State *L)
{
    if (!L)
        return;
    host_state *h = host_of(L);
    lua_close(L); /* still uses the allocator, so it goes last */
    free(h->file);
    free(h->lua_dir);
    sl_luaalloc_free(h->alloc);
    free(h);
}

int sl_luahost_set_file(lua_State *L, const char *file)
{
    host_state *h = host_of(L);
    char *f = strdup(file);
    if (!f)
        return -1;
    free(h->file);
    h->file = f;
    return 0;
}

const char *sl_luahost_file(lua_State *L)
{
    return host_of(L)->file;
}

/* Copy msg to out (size n > 0, truncated), the placeholder chunk name
 * replaced by the state's file name. */
static void put_msg(const host_state *h, char *out, size_t n, const char *msg)
{
    size_t o = 0;
    if (!n)
        return;
    for (const char *s = msg; *s && o + 1 < n; s++) {
        if (*s == PLACEHOLDER && h->file) {
            size_t fl = strlen(h->file);
            if (fl > n - 1 - o)
                fl = n - 1 - o;
            memcpy(out + o, h->file, fl);
            o += fl;
        } else {
            out[o++] = *s;
        }
    }
    out[o] = '\0';
}

void sl_luahost_where(lua_State *L, int level, char *buf, size_t n)
{
    lua_Debug ar;
    char src[LUA_IDSIZE + 16];
    if (!n)
        return;
    buf[0] = '\0';
    if (!lua_getstack(L, level, &ar) || !lua_getinfo(L, "Sl", &ar) ||
        ar.currentline <= 0)
        return;
    snprintf(src, sizeof src, "%s:%d", ar.short_src, ar.currentline);
    put_msg(host_of(L), buf, n, src);
}

void sl_luahost_set_mem_limit(lua_State *L, size_t bytes)
{
    sl_luaalloc_set_limit(host_of(L)->alloc, bytes);
}

size_t sl_luahost_mem_used(lua_State *L)
{
    return sl_luaalloc_used(host_of(L)->alloc);
}

int sl_luahost_pcall(lua_State *L, int nargs, int nresults,
                     unsigned long max_instructions, char *err, size_t errlen)
{
    host_state *h = host_of(L);
    sl_luaalloc_reset_cap_hit(h->alloc);
    if (max_instructions) {
        h->steps = (max_instructions + SL_LUAHOST_HOOK_STEP - 1) /
                   SL_LUAHOST_HOOK_STEP;
        lua_sethook(L, host_hook, LUA_MASKCOUNT, SL_LUAHOST_HOOK_STEP);
    }
    int st = lua_pcall(L, nargs, nresults, 0);     /* results | err */
    if (max_instructions)
        lua_sethook(L, NULL, 0, 0);
    if (st == LUA_OK)
        return st;
    size_t limit = sl_luaalloc_limit(h->alloc);
    if (st == LUA_ERRMEM && sl_luaalloc_cap_hit(h->alloc)) {
        if (limit % (1024 * 1024) == 0)
            snprintf(err, errlen, "memory limit of %zu MiB exceeded",
                     limit / (1024 * 1024));
        else
            snprintf(err, errlen, "memory limit of %zu bytes exceeded",
                     limit);
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        put_msg(h, err, errlen, lua_tostring(L, -1));
    } else if (lua_type(L, -1) == LUA_TNUMBER) {
        snprintf(err, errlen, "%.14g", (double)lua_tonumber(L, -1));
    } else {
        snprintf(err, errlen, "(error object is a %s value)",
                 luaL_typename(L, -1));
    }
    lua_pop(L, 1);                                 /* */
    return st;
}

void sl_luahost_message(lua_State *L, const char *msg, char *out, size_t n)
{
    put_msg(host_of(L), out, n, msg);
}
