/* sl_test_config: test helper that parses the table a Lua text returns
 * with the config module's parser directly (no files, no loader): one
 * parse context named "t.lua", its problems joined one a line. */
#ifndef SL_TEST_CONFIG_H
#define SL_TEST_CONFIG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#include "sl_config_parse.h"

typedef struct sl_test_config {
    sl_config_parse_context ctx;
    char joined[32768]; /* the problems, "msg\n" each, after _close */
    size_t nproblems;   /* how many */
} sl_test_config;

/* Run `text` in a plain Lua state; 0 with the table it returns on top of
 * t->ctx.L (stack index 1), -1 if it did not run or return a table. */
static inline int sl_test_config_open(sl_test_config *t, const char *text)
{
    memset(t, 0, sizeof *t);
    t->ctx.file = "t.lua";
    t->ctx.L = luaL_newstate();
    if (!t->ctx.L)
        return -1;
    luaL_openlibs(t->ctx.L);
    t->ctx.src = sl_luasrc_new(text, strlen(text));
    if (luaL_dostring(t->ctx.L, text) != LUA_OK) {
        fprintf(stderr, "lua: %s\n", lua_tostring(t->ctx.L, -1));
        return -1;
    }
    return lua_istable(t->ctx.L, -1) ? 0 : -1;
}

/* The key called name in a table of keys, or NULL. */
static inline const sl_config_key *sl_test_config_key(const sl_config_key *keys,
                                                      const char *name)
{
    for (; keys->name; keys++)
        if (strcmp(keys->name, name) == 0)
            return keys;
    return NULL;
}

/* Flush the problems (in line order) into t->joined and free the context
 * (the Lua state too: borrowed strings die with it). Returns t->joined. */
static inline const char *sl_test_config_close(sl_test_config *t)
{
    sl_config_errors errs;
    size_t n = 0;
    sl_config_errors_init(&errs);
    sl_config_flush_problems(&t->ctx, &errs);
    t->joined[0] = '\0';
    for (size_t i = 0; i < errs.n && n < sizeof t->joined; i++)
        n += (size_t)snprintf(t->joined + n, sizeof t->joined - n, "%s\n",
                              errs.msgs[i]);
    t->nproblems = errs.n;
    sl_config_errors_free(&errs);
    free(t->ctx.problems);
    sl_luasrc_free(t->ctx.src);
    if (t->ctx.L)
        lua_close(t->ctx.L);
    memset(&t->ctx, 0, sizeof t->ctx);
    return t->joined;
}

#endif
