/* sl_config_parse: the generic, table-driven parser of configuration
 * tables that the key tables in sl_config_keys.c drive (types, ranges,
 * defaults, unknown keys with "did you mean"), and the per-file problem
 * list, each problem at the line of its key, sorted by line. */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config_parse.h"

/* ---- one file's parse context ---------------------------------------- */

typedef sl_config_ctx pctx;
typedef sl_config_ferr ferr;

void sl_config_path_push(pctx *p, const char *key, long index)
{
    if (p->depth < sizeof p->path / sizeof *p->path)
        p->path[p->depth] = (sl_luasrc_seg){key, index};
    p->depth++;
}

void sl_config_path_pop(pctx *p) { p->depth--; }

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

void sl_config_problem(pctx *p, int line, char *msg)
{
    if (!msg)
        return;
    if (p->nerr == p->caperr) {
        size_t nc = p->caperr ? p->caperr * 2 : 8;
        ferr *ne = realloc(p->errs, nc * sizeof *ne);
        if (!ne) {
            free(msg);
            return;
        }
        p->errs = ne;
        p->caperr = nc;
    }
    p->errs[p->nerr] = (ferr){line, p->nerr, msg};
    p->nerr++;
}

/* Report a problem with the value at the current key path. */
void sl_config_err(pctx *p, const char *fmt, ...)
{
    char key[512] = "", what[1024], *m = NULL;
    size_t n = 0, depth = p->depth < 8 ? p->depth : 8;
    for (size_t i = 0; i < depth && n < sizeof key; i++) {
        const sl_luasrc_seg *s = &p->path[i];
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
    int line = sl_luasrc_line(p->src, p->path, depth, NULL);
    int rc = line > 0 ? asprintf(&m, "%s:%d: %s%s%s", p->file, line, key,
                                 *key ? ": " : "", what)
                      : asprintf(&m, "%s: %s%s%s", p->file, key,
                                 *key ? ": " : "", what);
    sl_config_problem(p, line, rc < 0 ? NULL : m);
}

static int ferr_cmp(const void *a, const void *b)
{
    const ferr *x = a, *y = b;
    unsigned lx = x->line > 0 ? (unsigned)x->line : UINT_MAX;
    unsigned ly = y->line > 0 ? (unsigned)y->line : UINT_MAX;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void sl_config_flush(pctx *p, sl_config_errors *errs)
{
    if (p->nerr > 1)
        qsort(p->errs, p->nerr, sizeof *p->errs, ferr_cmp);
    for (size_t i = 0; i < p->nerr; i++) {
        sl_config_errors_add(errs, "%s", p->errs[i].msg);
        free(p->errs[i].msg);
    }
    p->nerr = 0;
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

const char *sl_config_suggest(const char *word, const char *const *cands,
                           size_t n)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX, wl = strlen(word);
    for (size_t i = 0; i < n; i++) {
        size_t cl = strlen(cands[i]), d = osa_distance(word, cands[i]);
        size_t limit = wl <= 3 || cl <= 3 ? 1 : 2;
        if (d > limit) {
            /* a clear prefix: "max_rec" for "max_records" */
            size_t m = wl < cl ? wl : cl;
            d = m >= 3 && strncasecmp(word, cands[i], m) == 0 ? limit + 1
                                                                : SIZE_MAX;
        }
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    return best;
}

/* ---- the generic, table-driven parser --------------------------------- */

static const char *kind_article(const sl_config_key *k)
{
    switch (k->kind) {
    case K_STR:
    case K_ENUM: return "a string";
    case K_INT: return "an integer";
    case K_BOOL: return "a boolean";
    case K_TABLE: return "a table";
    default: return k->what ? k->what : "a table";
    }
}

static int kind_ltype(const sl_config_key *k)
{
    switch (k->kind) {
    case K_STR:
    case K_ENUM: return LUA_TSTRING;
    case K_INT: return LUA_TNUMBER;
    case K_BOOL: return LUA_TBOOLEAN;
    case K_TABLE: return LUA_TTABLE;
    default: return k->ltype;
    }
}

/* "got string "10s"" / "got table": what the value at `idx` is. */
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
        snprintf(out, n, "boolean %s", lua_toboolean(L, idx) ? "true" : "false");
    else
        snprintf(out, n, "%s", lua_typename(L, t));
}

char *sl_config_strdup(pctx *p, const char *s)
{
    char *d = strdup(s);
    if (!d)
        sl_config_err(p, "out of memory");
    return d;
}

static void store_int(const sl_config_key *k, void *target, long long v)
{
    char *dst = (char *)target + k->off;
    switch (k->store) {
    case S_SIZE: *(size_t *)dst = (size_t)v; break;
    case S_UINT: *(unsigned *)dst = (unsigned)v; break;
    case S_ULONG: *(unsigned long *)dst = (unsigned long)v; break;
    case S_INT: *(int *)dst = (int)v; break;
    case S_BOOL: *(bool *)dst = v != 0; break;
    default: break;
    }
}

static void store_str(pctx *p, const sl_config_key *k, void *target,
                      const char *s)
{
    char *dst = (char *)target + k->off;
    if (k->store == S_LSTR) {
        *(const char **)dst = s; /* borrowed from Lua, see S_LSTR */
    } else if (k->store == S_STR) {
        free(*(char **)dst);
        *(char **)dst = sl_config_strdup(p, s);
    }
}

static void apply_default(pctx *p, const sl_config_key *k, void *target)
{
    switch (k->kind) {
    case K_STR:
        if (k->defstr)
            store_str(p, k, target, k->defstr);
        break;
    case K_INT:
    case K_BOOL: store_int(k, target, k->def); break;
    case K_ENUM:
        if (k->store == S_STR || k->store == S_LSTR)
            store_str(p, k, target, k->choices[k->def]);
        else
            store_int(k, target, k->def);
        break;
    case K_TABLE:
        for (const sl_config_key *s = k->sub; s->name; s++)
            apply_default(p, s, target);
        break;
    case K_CUSTOM: k->custom(p, 0, target); break;
    }
}

static void parse_enum(pctx *p, const sl_config_key *k, void *target,
                       const char *s)
{
    char valid[256] = "";
    size_t n = 0, nc = 0;
    for (const char *const *c = k->choices; *c; c++, nc++) {
        if (strcasecmp(s, *c) == 0) {
            if (k->store == S_STR || k->store == S_LSTR)
                store_str(p, k, target, *c);
            else
                store_int(k, target, c - k->choices);
            return;
        }
        if (n < sizeof valid)
            n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                                  n ? ", " : "", *c);
    }
    const char *sug = sl_config_suggest(s, k->choices, nc);
    if (sug)
        sl_config_err(p, "invalid value \"%s\" (did you mean \"%s\"? valid: %s)",
                   s, sug, valid);
    else
        sl_config_err(p, "invalid value \"%s\" (valid: %s)", s, valid);
    apply_default(p, k, target);
}

static void parse_int(pctx *p, const sl_config_key *k, void *target)
{
    lua_State *L = p->L;
    int isint = 0;
    lua_Integer v = lua_tointegerx(L, -1, &isint); /* exact floats too */
    char got[64];
    if (!isint) {
        sl_config_describe(L, -1, got, sizeof got);
        sl_config_err(p, "expected an integer, got %s", got);
    } else if (v < k->min || v > k->max) {
        const char *u = k->unit ? k->unit : "";
        if (k->max == LLONG_MAX)
            sl_config_err(p, "%lld is out of range (at least %lld%s%s)",
                       (long long)v, k->min, *u ? " " : "", u);
        else
            sl_config_err(p, "%lld is out of range (%lld..%lld%s%s)",
                       (long long)v, k->min, k->max, *u ? " " : "", u);
    } else {
        store_int(k, target, v);
        return;
    }
    store_int(k, target, k->def);
}

/* Parse the value at the top of the stack (nil when absent) for key k.
 * [-0, +0, m] */
static void parse_value(pctx *p, const sl_config_key *k, void *target)
{
    lua_State *L = p->L;
    int t = lua_type(L, -1);
    char got[64], why[256];
    if (t == LUA_TNIL) {
        if (k->required)
            sl_config_err(p, "missing (required)");
        apply_default(p, k, target);
        return;
    }
    if (t != kind_ltype(k) && kind_ltype(k) != LUA_TNONE) {
        sl_config_describe(L, -1, got, sizeof got);
        sl_config_err(p, "expected %s, got %s", kind_article(k), got);
        apply_default(p, k, target);
        return;
    }
    switch (k->kind) {
    case K_STR:
        if (k->check && k->check(lua_tostring(L, -1), why, sizeof why) != 0) {
            sl_config_err(p, "%s", why);
            apply_default(p, k, target);
        } else {
            store_str(p, k, target, lua_tostring(L, -1));
        }
        break;
    case K_ENUM: parse_enum(p, k, target, lua_tostring(L, -1)); break;
    case K_INT: parse_int(p, k, target); break;
    case K_BOOL: store_int(k, target, lua_toboolean(L, -1)); break;
    case K_TABLE: sl_config_parse_table(p, lua_gettop(L), k->sub, target); break;
    case K_CUSTOM: k->custom(p, lua_gettop(L), target); break;
    }
}

void sl_config_parse_table(pctx *p, int idx, const sl_config_key *keys,
                        void *target)
{
    lua_State *L = p->L;
    const char *names[32];
    size_t nnames = 0;
    idx = lua_absindex(L, idx);
    for (const sl_config_key *k = keys; k->name; k++) {
        if (nnames < 32)
            names[nnames++] = k->name;
        lua_pushstring(L, k->name);              /* key */
        lua_rawget(L, idx);                      /* value */
        sl_config_path_push(p, k->name, 0);
        parse_value(p, k, target);
        sl_config_path_pop(p);
        lua_pop(L, 1);                           /* */
    }
    lua_pushnil(L);                              /* nil */
    while (lua_next(L, idx)) {                   /* key value */
        lua_pop(L, 1);                           /* key */
        if (lua_type(L, -1) != LUA_TSTRING) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "unexpected key (%s); keys are names, as in "
                       "%s = ...", got, keys[0].name);
            continue;
        }
        const char *key = lua_tostring(L, -1);
        const sl_config_key *k = keys;
        while (k->name && strcmp(k->name, key) != 0)
            k++;
        if (k->name)
            continue;
        sl_config_path_push(p, key, 0);
        const char *sug = sl_config_suggest(key, names, nnames);
        if (sug) {
            sl_config_err(p, "unknown key (did you mean \"%s\"?)", sug);
        } else {
            char valid[512] = "";
            size_t n = 0;
            for (size_t i = 0; i < nnames && n < sizeof valid; i++)
                n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                                      i ? ", " : "", names[i]);
            sl_config_err(p, "unknown key (valid: %s)", valid);
        }
        sl_config_path_pop(p);
    }
}
