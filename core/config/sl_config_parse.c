/* sl_config_parse: the generic, table-driven parser of configuration
 * tables that the key tables in sl_config_keys.c drive (types, ranges,
 * defaults, unknown keys with "did you mean"), and the per-file problem
 * list, each problem at the line of its key, sorted by line. The rules a
 * table cannot say are custom parsers (sl_config_*_rules.c) that it
 * calls through their keys. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config_parse.h"

#include <stdio.h>

#include "sl_config.h"

/* ---- one file's problems -------------------------------------------- */

void sl_config_path_push(sl_config_parse_context *ctx, const char *key,
                         long index)
{
    if (ctx->depth < sizeof ctx->path / sizeof *ctx->path)
        ctx->path[ctx->depth] = (sl_luasrc_seg){key, index};
    ctx->depth++;
}

void sl_config_path_pop(sl_config_parse_context *ctx) { ctx->depth--; }

static bool is_ident(const char *s)
{
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
        return false;
    for (s++; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
              (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

void sl_config_add_problem(sl_config_parse_context *ctx, int line, char *msg)
{
    if (!msg)
        return;
    if (ctx->nproblems == ctx->capproblems) {
        size_t nc = ctx->capproblems ? ctx->capproblems * 2 : 8;
        sl_config_problem *ne = realloc(ctx->problems, nc * sizeof *ne);
        if (!ne) {
            free(msg);
            return;
        }
        ctx->problems = ne;
        ctx->capproblems = nc;
    }
    ctx->problems[ctx->nproblems] =
        (sl_config_problem){line, ctx->nproblems, msg};
    ctx->nproblems++;
}

void sl_config_err(sl_config_parse_context *ctx, const char *fmt, ...)
{
    char key[512] = "", what[1024], *m = NULL;
    size_t n = 0, depth = ctx->depth < SL_CONFIG_PATH_MAX ? ctx->depth
                                                      : SL_CONFIG_PATH_MAX;
    for (size_t i = 0; i < depth && n < sizeof key; i++) {
        const sl_luasrc_seg *s = &ctx->path[i];
        if (!s->key)
            n += (size_t)snprintf(key + n, sizeof key - n, "[%ld]", s->index);
        else if (is_ident(s->key))
            n += (size_t)snprintf(key + n, sizeof key - n, "%s%s",
                                  i ? "." : "", s->key);
        else
            n += (size_t)snprintf(key + n, sizeof key - n, "[\"%s\"]", s->key);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    int line = sl_luasrc_line(ctx->src, ctx->path, depth, NULL);
    int rc = line > 0 ? asprintf(&m, "%s:%d: %s%s%s", ctx->file, line, key,
                                 *key ? ": " : "", what)
                      : asprintf(&m, "%s: %s%s%s", ctx->file, key,
                                 *key ? ": " : "", what);
    sl_config_add_problem(ctx, line, rc < 0 ? NULL : m);
}

static int problem_order(const void *a, const void *b)
{
    const sl_config_problem *x = a, *y = b;
    unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
    unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sl_config_flush_problems(sl_config_parse_context *ctx,
                              sl_config_errors *errs)
{
    if (ctx->nproblems > 1)
        qsort(ctx->problems, ctx->nproblems, sizeof *ctx->problems,
              problem_order);
    for (size_t i = 0; i < ctx->nproblems; i++) {
        sl_config_errors_add(errs, "%s", ctx->problems[i].msg);
        free(ctx->problems[i].msg);
    }
    ctx->nproblems = 0;
}

/* ---- "did you mean" -------------------------------------------------- */

static char tolower_c(char c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* Optimal string alignment distance, case-insensitive; SIZE_MAX when a
 * string is too long to bother. */
static size_t osa_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[65][65];
    if (la > 64 || lb > 64)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            char ca = tolower_c(a[i - 1]), cb = tolower_c(b[j - 1]);
            size_t cost = ca != cb;
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower_c(b[j - 2]) &&
                tolower_c(a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

const char *sl_config_suggest(const char *word, const char *const *candidates,
                              size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(candidates[i]),
               d = osa_distance(word, candidates[i]);
        size_t limit = wl <= 3 || cl <= 3 ? 1 : 2;
        if (d > limit) {
            /* a clear prefix: "max_rec" for "max_records" */
            size_t m = wl < cl ? wl : cl;
            d = m >= 3 && strncasecmp(word, candidates[i], m) == 0 ? limit + 1
                                                                   : SIZE_MAX;
        }
        if (d < bestd) {
            bestd = d;
            best = candidates[i];
        }
    }
    return best;
}

/* ---- the generic, table-driven parser --------------------------------- */

static const char *kind_article(const sl_config_key *key)
{
    switch (key->kind) {
    case SL_CONFIG_STRING:
    case SL_CONFIG_ENUM: return "a string";
    case SL_CONFIG_INTEGER: return "an integer";
    case SL_CONFIG_BOOLEAN: return "a boolean";
    case SL_CONFIG_TABLE: return "a table";
    default: return key->what ? key->what : "a table";
    }
}

static int kind_ltype(const sl_config_key *key)
{
    switch (key->kind) {
    case SL_CONFIG_STRING:
    case SL_CONFIG_ENUM: return LUA_TSTRING;
    case SL_CONFIG_INTEGER: return LUA_TNUMBER;
    case SL_CONFIG_BOOLEAN: return LUA_TBOOLEAN;
    case SL_CONFIG_TABLE: return LUA_TTABLE;
    default: return key->ltype;
    }
}

void sl_config_describe(lua_State *L, int idx, char *out, size_t n)
{
    int t = lua_type(L, idx);
    if (t == LUA_TSTRING)
        snprintf(out, n, "string \"%.40s\"", lua_tostring(L, idx));
    else if (t == LUA_TNUMBER && lua_isinteger(L, idx))
        snprintf(out, n, "number %lld", (long long)lua_tointeger(L, idx));
    else if (t == LUA_TNUMBER)
        snprintf(out, n, "number %.14g", (double)lua_tonumber(L, idx));
    else if (t == LUA_TBOOLEAN)
        snprintf(out, n, "boolean %s",
                 lua_toboolean(L, idx) ? "true" : "false");
    else
        snprintf(out, n, "%s", lua_typename(L, t));
}

char *sl_config_strdup(sl_config_parse_context *ctx, const char *s)
{
    char *d = strdup(s);
    if (!d)
        sl_config_err(ctx, "out of memory");
    return d;
}

bool sl_config_check_list(sl_config_parse_context *ctx, int idx,
                          const char *example)
{
    lua_State *L = ctx->L;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    bool ok = true;
    lua_pushnil(L);                                /* nil */
    while (lua_next(L, idx)) {                     /* key v */
        lua_pop(L, 1);                             /* key */
        if (ok && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
                    lua_tointeger(L, -1) <= n)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a list like %s, found the key %s",
                          example, got);
            ok = false;
        }
    }
    return ok;
}

static void store_int(const sl_config_key *key, void *target, long long v)
{
    char *dst = (char *)target + key->off;
    switch (key->store) {
    case SL_CONFIG_STORE_SIZE: *(size_t *)dst = (size_t)v; break;
    case SL_CONFIG_STORE_UNSIGNED: *(unsigned *)dst = (unsigned)v; break;
    case SL_CONFIG_STORE_ULONG: *(unsigned long *)dst = (unsigned long)v; break;
    case SL_CONFIG_STORE_INT: *(int *)dst = (int)v; break;
    case SL_CONFIG_STORE_BOOL: *(bool *)dst = v != 0; break;
    default: break;
    }
}

static void store_str(sl_config_parse_context *ctx, const sl_config_key *key,
                      void *target, const char *s)
{
    char *dst = (char *)target + key->off;
    if (key->store == SL_CONFIG_STORE_BORROWED) {
        *(const char **)dst = s; /* borrowed from Lua, see the store kind */
    } else if (key->store == SL_CONFIG_STORE_STRING) {
        free(*(char **)dst);
        *(char **)dst = sl_config_strdup(ctx, s);
    }
}

static void apply_default(sl_config_parse_context *ctx,
                          const sl_config_key *key, void *target)
{
    switch (key->kind) {
    case SL_CONFIG_STRING:
        if (key->defstr)
            store_str(ctx, key, target, key->defstr);
        break;
    case SL_CONFIG_INTEGER:
    case SL_CONFIG_BOOLEAN: store_int(key, target, key->def); break;
    case SL_CONFIG_ENUM:
        if (key->store == SL_CONFIG_STORE_STRING ||
            key->store == SL_CONFIG_STORE_BORROWED)
            store_str(ctx, key, target, key->choices[key->def]);
        else
            store_int(key, target, key->def);
        break;
    case SL_CONFIG_TABLE:
        for (const sl_config_key *s = key->sub; s->name; s++)
            apply_default(ctx, s, target);
        break;
    case SL_CONFIG_CUSTOM: key->custom(ctx, key, 0, target); break;
    }
}

static void parse_enum(sl_config_parse_context *ctx, const sl_config_key *key,
                       void *target, const char *s)
{
    char valid[256] = "";
    size_t n = 0, nc = 0;
    for (const char *const *c = key->choices; *c; c++, nc++) {
        if (strcasecmp(s, *c) == 0) {
            if (key->store == SL_CONFIG_STORE_STRING ||
                key->store == SL_CONFIG_STORE_BORROWED)
                store_str(ctx, key, target, *c);
            else
                store_int(key, target, c - key->choices);
            return;
        }
        if (n < sizeof valid)
            n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                                  n ? ", " : "", *c);
    }
    const char *suggestion = sl_config_suggest(s, key->choices, nc);
    if (suggestion)
        sl_config_err(ctx,
                      "invalid value \"%s\" (did you mean \"%s\"? valid: %s)",
                      s, suggestion, valid);
    else
        sl_config_err(ctx, "invalid value \"%s\" (valid: %s)", s, valid);
    apply_default(ctx, key, target);
}

static void parse_int(sl_config_parse_context *ctx, const sl_config_key *key,
                      void *target)
{
    lua_State *L = ctx->L;
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint); /* exact floats too */
    char got[64];
    if (!isint) {
        sl_config_describe(L, -1, got, sizeof got);
        sl_config_err(ctx, "expected an integer, got %s", got);
    } else if (v < key->min || v > key->max) {
        const char *u = key->unit ? key->unit : "";
        if (key->max == LLONG_MAX)
            sl_config_err(ctx, "%lld is out of range (at least %lld%s%s)",
                          (long long)v, key->min, *u ? " " : "", u);
        else
            sl_config_err(ctx, "%lld is out of range (%lld..%lld%s%s)",
                          (long long)v, key->min, key->max, *u ? " " : "", u);
    } else {
        store_int(key, target, v);
        return;
    }
    store_int(key, target, key->def);
}

void sl_config_parse_value(sl_config_parse_context *ctx,
                           const sl_config_key *key, void *target)
{
    lua_State *L = ctx->L;
    int t = lua_type(L, -1);
    char got[64], why[256];
    if (t == LUA_TNIL) {
        if (key->required)
            sl_config_err(ctx, "missing (required)");
        apply_default(ctx, key, target);
        return;
    }
    if (t != kind_ltype(key) && kind_ltype(key) != LUA_TNONE) {
        if (key->secret) /* a number is a password too */
            snprintf(got, sizeof got, "%s (value not shown)",
                     lua_typename(L, t));
        else
            sl_config_describe(L, -1, got, sizeof got);
        sl_config_err(ctx, "expected %s, got %s", kind_article(key), got);
        apply_default(ctx, key, target);
        return;
    }
    switch (key->kind) {
    case SL_CONFIG_STRING:
        if (key->check &&
            key->check(lua_tostring(L, -1), why, sizeof why) != 0) {
            sl_config_err(ctx, "%s", why);
            apply_default(ctx, key, target);
        } else {
            store_str(ctx, key, target, lua_tostring(L, -1));
        }
        break;
    case SL_CONFIG_ENUM:
        parse_enum(ctx, key, target, lua_tostring(L, -1));
        break;
    case SL_CONFIG_INTEGER: parse_int(ctx, key, target); break;
    case SL_CONFIG_BOOLEAN: store_int(key, target, lua_toboolean(L, -1)); break;
    case SL_CONFIG_TABLE:
        sl_config_parse_table(ctx, lua_gettop(L), key->sub, target);
        break;
    case SL_CONFIG_CUSTOM: key->custom(ctx, key, lua_gettop(L), target); break;
    }
}

void sl_config_parse_table(sl_config_parse_context *ctx, int idx,
                           const sl_config_key *keys, void *target)
{
    lua_State *L = ctx->L;
    const char *names[32];
    size_t nnames = 0;
    idx = lua_absindex(L, idx);
    for (const sl_config_key *key = keys; key->name; key++) {
        if (nnames < 32)
            names[nnames++] = key->name;
        lua_pushstring(L, key->name);              /* key */
        lua_rawget(L, idx);                      /* value */
        sl_config_path_push(ctx, key->name, 0);
        sl_config_parse_value(ctx, key, target);
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                           /* */
    }
    lua_pushnil(L);                              /* nil */
    while (lua_next(L, idx)) {                   /* key value */
        lua_pop(L, 1);                           /* key */
        if (lua_type(L, -1) != LUA_TSTRING) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "unexpected key (%s); keys are names, as in "
                          "%s = ...", got, keys[0].name);
            continue;
        }
        const char *name = lua_tostring(L, -1);
        const sl_config_key *key = keys;
        while (key->name && strcmp(key->name, name) != 0)
            key++;
        if (key->name)
            continue;
        sl_config_path_push(ctx, name, 0);
        const char *suggestion = sl_config_suggest(name, names, nnames);
        if (suggestion) {
            sl_config_err(ctx, "unknown key (did you mean \"%s\"?)",
                          suggestion);
        } else {
            char valid[512] = "";
            size_t n = 0;
            for (size_t i = 0; i < nnames && n < sizeof valid; i++)
                n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                                      i ? ", " : "", names[i]);
            sl_config_err(ctx, "unknown key (valid: %s)", valid);
        }
        sl_config_path_pop(ctx);
    }
}

void sl_config_warn(sl_config_parse_context *ctx, sl_connector_conf *c,
                    const char *fmt, ...)
{
    char msg[1024], *line = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char **grown = realloc(c->warnings, (c->nwarnings + 1) * sizeof *grown);
    if (grown)
        c->warnings = grown;
    if (!grown || asprintf(&line, "connector %s (%s): %s",
                           c->name ? c->name : "?", ctx->file, msg) < 0) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    c->warnings[c->nwarnings++] = line;
}

void sl_config_resolve_path(sl_config_parse_context *ctx, const char *dir,
                            char **path)
{
    char *full;
    if (!*path || (*path)[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0)
        return;
    const char *sep = dir[strlen(dir) - 1] == '/' ? "" : "/";
    if (asprintf(&full, "%s%s%s", dir, sep, *path) < 0) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    free(*path);
    *path = full;
}
