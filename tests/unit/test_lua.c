/* test_lua: runs every tests/lua/test_*.lua, each in a fresh sandboxed state
 * from sl_luastd_new (the state a connector file gets, so `require
 * "sluice.oauth2"` loads lua/sluice/oauth2.lua and the `sluice` module is
 * the real C one). tests/lua/harness.lua is loaded first and passed to the
 * test file as its argument; the file registers tests with T.test and the
 * runner then calls T.run(), which prints one line per Lua test and returns
 * the passed and failed counts. One sl_test case per file.
 *
 * The sandbox does not open `coroutine`; the tests need it to play the
 * gateway's part (headers_fn runs as a coroutine that sluice.http.request
 * and sluice.sleep suspend), so the runner opens it here, for tests only.
 *
 * With an argument, runs only the files whose names contain it. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "sl_luahost.h"
#include "sl_luastd.h"
#include "sl_test.h"

#ifndef SLUICE_SOURCE_DIR
#error "SLUICE_SOURCE_DIR must be defined"
#endif

#define LUA_TEST_DIR SLUICE_SOURCE_DIR "/tests/lua"
#define MAX_FILES 256
#define MEM_LIMIT (256u * 1024 * 1024)
#define MAX_INSTRUCTIONS 2000000000ul /* a runaway test fails, not hangs */

static char *files[MAX_FILES];
static int nfiles, next_file;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int list_files(const char *filter)
{
    DIR *d = opendir(LUA_TEST_DIR);
    struct dirent *e;
    if (!d) {
        fprintf(stderr, "test_lua: cannot open %s\n", LUA_TEST_DIR);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "test_", 5) != 0 || n < 9 ||
            strcmp(e->d_name + n - 4, ".lua") != 0)
            continue;
        if (filter && !strstr(e->d_name, filter))
            continue;
        if (nfiles == MAX_FILES)
            break;
        files[nfiles] = strdup(e->d_name);
        if (!files[nfiles])
            break;
        nfiles++;
    }
    closedir(d);
    qsort(files, (size_t)nfiles, sizeof files[0], cmp_str);
    return 0;
}

/* Load tests/lua/<name> as a text chunk named "@tests/lua/<name>", so that
 * messages carry a short, useful file:line. Pushes the chunk or returns
 * non-zero with the message pushed. */
static int load_file(lua_State *L, const char *name)
{
    char path[4096], chunk[512];
    FILE *f;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int st;
    snprintf(path, sizeof path, "%s/%s", LUA_TEST_DIR, name);
    snprintf(chunk, sizeof chunk, "@tests/lua/%s", name);
    f = fopen(path, "rb");
    if (!f) {
        lua_pushfstring(L, "cannot open %s", path);
        return LUA_ERRFILE;
    }
    for (;;) {
        if (len == cap) {
            char *nb = realloc(buf, cap ? cap * 2 : 65536);
            if (!nb) {
                free(buf);
                fclose(f);
                lua_pushliteral(L, "out of memory");
                return LUA_ERRMEM;
            }
            buf = nb;
            cap = cap ? cap * 2 : 65536;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0)
            break;
    }
    fclose(f);
    st = luaL_loadbufferx(L, buf, len, chunk, "t");
    free(buf);
    return st;
}

static int failed_lua_tests, passed_lua_tests;

/* One sl_test case: the next file in `files`. */
static void run_next_file(void)
{
    const char *name = files[next_file++];
    char err[2048];
    lua_State *L = sl_luastd_new(MEM_LIMIT, err, sizeof err);
    printf("%s\n", name);
    if (!L) {
        fprintf(stderr, "%s: %s\n", name, err);
        CHECK(L != NULL);
        return;
    }
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1); /* co */
    lua_pop(L, 1);                                         /* */

    if (load_file(L, "harness.lua") != LUA_OK) {           /* msg */
        fprintf(stderr, "%s: %s\n", name, lua_tostring(L, -1));
        CHECK(!"harness.lua loads");
        goto out;
    }
    if (sl_luahost_pcall(L, 0, 1, 0, err, sizeof err) != LUA_OK ||
        !lua_istable(L, -1)) {                             /* T */
        fprintf(stderr, "%s: harness.lua: %s\n", name, err);
        CHECK(!"harness.lua returns its table");
        goto out;
    }
    if (load_file(L, name) != LUA_OK) {                    /* T msg */
        fprintf(stderr, "%s\n", lua_tostring(L, -1));
        CHECK(!"the test file loads");
        goto out;
    }
    lua_pushvalue(L, -2);                                  /* T chunk T */
    if (sl_luahost_pcall(L, 1, 0, MAX_INSTRUCTIONS, err, sizeof err) !=
        LUA_OK) {                                          /* T */
        fprintf(stderr, "%s: %s\n", name, err);
        CHECK(!"the test file runs");
        goto out;
    }
    lua_getfield(L, -1, "run");                            /* T run */
    if (sl_luahost_pcall(L, 0, 2, MAX_INSTRUCTIONS, err, sizeof err) !=
        LUA_OK) {                                          /* T */
        fprintf(stderr, "%s: T.run: %s\n", name, err);
        CHECK(!"T.run completes");
        goto out;
    }                                                      /* T passed failed */
    {
        int passed = (int)lua_tointeger(L, -2);
        int failed = (int)lua_tointeger(L, -1);
        passed_lua_tests += passed;
        failed_lua_tests += failed;
        printf("  %s: %d Lua tests passed, %d failed\n", name, passed, failed);
        if (failed)
            fprintf(stderr, "%s: %d Lua test(s) failed\n", name, failed);
        CHECK(failed == 0);
        CHECK(passed > 0);
    }
out:
    sl_luahost_free(L);
}

int main(int argc, char **argv)
{
    static sl_test_case cases[MAX_FILES + 1];
    int rc;
    setvbuf(stdout, NULL, _IOLBF, 0); /* keep stdout and stderr in order */
    if (list_files(argc > 1 ? argv[1] : NULL) != 0)
        return 1;
    if (nfiles == 0) {
        fprintf(stderr, "test_lua: no test_*.lua in %s\n", LUA_TEST_DIR);
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        cases[i].name = files[i];
        cases[i].fn = run_next_file;
    }
    rc = sl_test_run(cases);
    printf("Lua tests: %d passed, %d failed\n", passed_lua_tests,
           failed_lua_tests);
    for (int i = 0; i < nfiles; i++)
        free(files[i]);
    return rc;
}
