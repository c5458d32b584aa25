/* sl_config: loads the gateway file and its connector files into plain C
 * structs: runs each file in its sandbox, has the table it returns parsed
 * (sl_config_parse.c, driven by the key tables of sl_config_keys.c), and
 * keeps each connector file's Lua state for its functions. */
#include "sl_config.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config_keys.h"
#include "sl_luahost.h"
#include "sl_luasrc.h"

#define CFG_LUA_MEM ((size_t)32 << 20)   /* per configuration file state */
#define CFG_LUA_INSTR 20000000ul         /* VM instructions per file */
#define CFG_MAX_SOURCE ((size_t)4 << 20) /* a bigger file is refused */
#define PLACEHOLDER SL_LUAHOST_CHUNK[1] /* the chunk name in Lua's messages */

typedef sl_config_ctx pctx;

/* ---- running a file --------------------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL, *nb;
    size_t n = 0, cap = 0;
    if (!f) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    }
    while (!feof(f) && !ferror(f)) {
        if (n > CFG_MAX_SOURCE) {
            snprintf(err, errlen, "larger than %zu MiB", CFG_MAX_SOURCE >> 20);
            goto fail;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16384;
            if (!(nb = realloc(buf, cap + 1))) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            buf = nb;
        }
        n += fread(buf + n, 1, cap - n, f);
    }
    if (ferror(f) || n > CFG_MAX_SOURCE) {
        if (ferror(f))
            snprintf(err, errlen, "cannot read: %s", strerror(errno));
        else
            snprintf(err, errlen, "larger than %zu MiB", CFG_MAX_SOURCE >> 20);
        goto fail;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

/* Record a Lua error message, with the chunk name replaced by the file
 * (sl_luahost_pcall has done that already; a load error has not). */
static void lua_problem(pctx *p, const char *msg)
{
    size_t fl = strlen(p->file), n = 0;
    int line = 0;
    bool located = msg[0] == PLACEHOLDER && msg[1] == ':';
    if (located)
        line = atoi(msg + 2);
    else if (strncmp(msg, p->file, fl) == 0 && msg[fl] == ':' &&
             msg[fl + 1] >= '0' && msg[fl + 1] <= '9') {
        line = atoi(msg + fl + 1);
        located = true;
    }
    size_t cap = strlen(msg) + fl + 3;
    for (const char *s = msg; *s; s++)
        cap += *s == PLACEHOLDER ? fl : 0;
    char *out = malloc(cap);
    if (!out)
        return;
    if (!located)
        n += (size_t)sprintf(out, "%s: ", p->file);
    for (const char *s = msg; *s; s++) {
        if (*s == PLACEHOLDER) {
            memcpy(out + n, p->file, fl);
            n += fl;
        } else {
            out[n++] = *s == '\n' ? ' ' : *s; /* one line per error */
        }
    }
    out[n] = '\0';
    sl_config_problem(p, line, out);
}

/* Run p->file in a fresh sandbox. Returns 0 with the table it returned on
 * top of p->L, or -1 with the problem recorded. */
static int run_file(pctx *p)
{
    char err[1024];
    size_t len = 0;
    char *text = read_file(p->file, &len, err, sizeof err);
    if (!text)
        goto fail;
    p->src = sl_luasrc_new(text, len);
    p->L = sl_luahost_new(CFG_LUA_MEM, err, sizeof err);
    if (!p->L)
        goto fail;
    if (sl_luahost_set_file(p->L, p->file) != 0) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    int st = luaL_loadbufferx(p->L, text, len, SL_LUAHOST_CHUNK, "t"); /* f|msg */
    free(text);
    text = NULL;
    if (st != LUA_OK) {
        lua_problem(p, lua_type(p->L, -1) == LUA_TSTRING
                           ? lua_tostring(p->L, -1) : "cannot load");
        lua_pop(p->L, 1);                                      /* */
        return -1;
    }
    if (sl_luahost_pcall(p->L, 0, 1, CFG_LUA_INSTR, err, sizeof err) !=
        LUA_OK) {                                              /* t */
        lua_problem(p, err);
        return -1;
    }
    if (!lua_istable(p->L, -1)) {
        sl_config_err(p, "the file must return a table, got %s",
                   luaL_typename(p->L, -1));
        lua_pop(p->L, 1);                                      /* */
        return -1;
    }
    return 0;
fail:
    free(text);
    sl_config_err(p, "%s", err);
    return -1;
}

typedef struct pjob {
    pctx *p;
    const sl_config_key *keys;
    void *target;
    void (*after)(pctx *p, void *target);
} pjob;

/* [-2, +0, m]: (job, table) -> (); runs under lua_pcall so that a memory
 * error reading the table is reported, not fatal. Everything allocated on
 * the C side is anchored in the target right away. */
static int parse_protected(lua_State *L)
{
    pjob *j = lua_touserdata(L, 1);
    sl_config_parse_table(j->p, 2, j->keys, j->target);
    if (j->after)
        j->after(j->p, j->target);
    return 0;
}

/* Parse the table on top of p->L (popped) with `keys` into `target`. */
static void parse_returned(pctx *p, const sl_config_key *keys, void *target,
                           void (*after)(pctx *, void *))
{
    char err[256];
    pjob j = {p, keys, target, after};
    lua_pushcfunction(p->L, parse_protected);  /* t f */
    lua_pushlightuserdata(p->L, &j);           /* t f job */
    lua_rotate(p->L, -3, 2);                   /* f job t */
    if (sl_luahost_pcall(p->L, 2, 0, 0, err, sizeof err) != LUA_OK)
        sl_config_err(p, "%s", err);
}

static void pctx_done(pctx *p, sl_config_errors *errs)
{
    sl_config_flush(p, errs);
    free(p->errs);
    sl_luasrc_free(p->src);
    sl_luahost_free(p->L);
    memset(p, 0, sizeof *p);
}

/* ---- loading --------------------------------------------------------- */

static void connector_free(sl_connector_conf *c)
{
    free(c->name);
    free(c->file);
    free(c->url);
    free(c->method);
    free(c->idempotency_header);
    for (size_t i = 0; i < c->nintake_keys; i++) {
        if (c->intake_keys[i])
            memset(c->intake_keys[i], 0, strlen(c->intake_keys[i]));
        free(c->intake_keys[i]);
    }
    free(c->intake_keys);
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
    }
    free(c->headers);
    sl_schema_free(c->schema);
    sl_luahost_free(c->L);
}

static char *path_join(const char *dir, const char *rel)
{
    char *r;
    if (rel[0] == '/' || strcmp(dir, ".") == 0)
        return strdup(rel);
    return asprintf(&r, "%s/%s", dir, rel) < 0 ? NULL : r;
}

typedef struct seen_name {
    char *name, *file;
} seen_name;

typedef struct loader {
    sl_config *cfg;
    sl_config_errors *errs;
    char **files;     /* connector files, in load order */
    size_t nfiles;
    seen_name *names; /* every valid connector name so far, for duplicates */
    size_t nnames;
} loader;

/* A connector name must be unique across files; the later file is wrong. */
static void check_unique(loader *ld, pctx *p, const char *name)
{
    for (size_t i = 0; i < ld->nnames; i++) {
        if (strcmp(ld->names[i].name, name) != 0)
            continue;
        sl_config_path_push(p, "name", 0);
        sl_config_err(p, "duplicate connector name \"%s\" (also in %s)", name,
                   ld->names[i].file);
        sl_config_path_pop(p);
        return;
    }
    seen_name *nn = realloc(ld->names, (ld->nnames + 1) * sizeof *nn);
    if (!nn)
        return;
    ld->names = nn;
    nn[ld->nnames].name = strdup(name);
    nn[ld->nnames].file = strdup(p->file);
    if (nn[ld->nnames].name && nn[ld->nnames].file)
        ld->nnames++;
    else {
        free(nn[ld->nnames].name);
        free(nn[ld->nnames].file);
    }
}

/* [-0, +0, -]: a full collection, under the load-time budget. */
static int collect(lua_State *L)
{
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

/* Hand the file's state to the connector (for transform and headers_fn),
 * its memory capped from now on at lua.max_memory_mb. */
static void keep_state(pctx *p, sl_connector_conf *c)
{
    char err[256];
    lua_pushcfunction(p->L, collect);                     /* f */
    if (sl_luahost_pcall(p->L, 0, 0, CFG_LUA_INSTR, err, sizeof err) !=
        LUA_OK) {
        sl_config_err(p, "%s", err);
        return;
    }
    size_t used = sl_luahost_mem_used(p->L);
    if (used > c->lua_max_memory) {
        sl_config_path_push(p, "lua", 0);
        sl_config_path_push(p, "max_memory_mb", 0);
        sl_config_err(p, "the file's Lua state holds %zu bytes once loaded, more "
                   "than the limit of %zu MiB", used, c->lua_max_memory >> 20);
        p->depth -= 2;
        return;
    }
    sl_luahost_set_mem_limit(p->L, c->lua_max_memory);
    c->L = p->L;
    p->L = NULL;
}

static void load_connector(loader *ld, const char *file)
{
    pctx p = {.file = file};
    sl_config_conn cs;
    sl_config *cfg = ld->cfg;
    memset(&cs, 0, sizeof cs);
    if (run_file(&p) == 0)
        parse_returned(&p, sl_config_connector_keys, &cs, sl_config_connector_after);
    if (cs.c.name)
        check_unique(ld, &p, cs.c.name);
    if (p.nerr == 0 && !(cs.c.file = strdup(file)))
        sl_config_err(&p, "out of memory");
    if (p.nerr == 0)
        keep_state(&p, &cs.c);
    if (p.nerr == 0) {
        sl_connector_conf *nc =
            realloc(cfg->connectors, (cfg->nconnectors + 1) * sizeof *nc);
        if (nc) {
            cfg->connectors = nc;
            nc[cfg->nconnectors++] = cs.c;
        } else {
            sl_config_err(&p, "out of memory");
        }
    }
    if (p.nerr != 0)
        connector_free(&cs.c);
    free(cs.fields);
    pctx_done(&p, ld->errs);
}

/* Every listener's connector must be one that a connector file names
 * (ld->names: a file with other problems still counts, so that one mistake
 * is not reported twice). Problems go to the gateway file's context. */
static void check_tcp_connectors(loader *ld, pctx *gw)
{
    const sl_config *cfg = ld->cfg;
    const char *cands[64];
    size_t ncands = ld->nnames < 64 ? ld->nnames : 64;
    char known[512];
    for (size_t i = 0; i < ncands; i++)
        cands[i] = ld->names[i].name;
    for (size_t i = 0; i < cfg->ntcp; i++) {
        const char *want = cfg->tcp[i].connector;
        size_t k = 0, n = 0;
        while (want && k < ld->nnames && strcmp(ld->names[k].name, want) != 0)
            k++;
        if (!want || k < ld->nnames)
            continue;
        known[0] = '\0';
        for (k = 0; k < ld->nnames && n < sizeof known; k++)
            n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
                                  k ? ", " : "", ld->names[k].name);
        if (n >= sizeof known)
            memcpy(known + sizeof known - 6, ", ...", 6);
        const char *sug = sl_config_suggest(want, cands, ncands);
        sl_config_path_push(gw, "tcp", 0);
        sl_config_path_push(gw, NULL, (long)i + 1);
        sl_config_path_push(gw, "connector", 0);
        if (!ld->nnames)
            sl_config_err(gw, "unknown connector \"%s\" (no connector is "
                       "loaded)", want);
        else if (sug)
            sl_config_err(gw, "unknown connector \"%s\" (did you mean \"%s\"? "
                       "known: %s)", want, sug, known);
        else
            sl_config_err(gw, "unknown connector \"%s\" (known: %s)", want,
                       known);
        gw->depth -= 3;
    }
}

static bool has_wildcard(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Expand the gateway's patterns into ld->files; problems go to gw. */
static void expand_patterns(loader *ld, pctx *gw, const sl_config_gw *gs,
                            const char *dir)
{
    size_t before = gw->nerr;
    for (size_t i = 0; i < gs->npatterns; i++) {
        char *full = path_join(dir, gs->patterns[i]);
        glob_t g;
        sl_config_path_push(gw, "connectors", 0);
        sl_config_path_push(gw, NULL, gs->pattern_index[i]);
        int rc = full ? glob(full, 0, NULL, &g) : GLOB_NOSPACE;
        if (rc == GLOB_NOMATCH) {
            if (!has_wildcard(gs->patterns[i]))
                sl_config_err(gw, "no such file: %s", full);
        } else if (rc != 0) {
            sl_config_err(gw, "cannot expand \"%s\": %s", gs->patterns[i],
                       rc == GLOB_NOSPACE ? "out of memory" : "read error");
        } else {
            for (size_t k = 0; k < g.gl_pathc; k++) {
                const char *f = g.gl_pathv[k];
                bool seen = false;
                for (size_t m = 0; m < ld->nfiles && !seen; m++)
                    seen = strcmp(ld->files[m], f) == 0;
                char **nf = seen ? NULL : realloc(ld->files, (ld->nfiles + 1) *
                                                           sizeof *nf);
                if (nf) {
                    ld->files = nf;
                    if ((nf[ld->nfiles] = strdup(f)))
                        ld->nfiles++;
                }
            }
        }
        if (rc == 0 || rc == GLOB_NOMATCH)
            globfree(&g);
        sl_config_path_pop(gw);
        sl_config_path_pop(gw);
        free(full);
    }
    if (ld->nfiles == 0 && gs->npatterns > 0 && gw->nerr == before) {
        sl_config_path_push(gw, "connectors", 0);
        sl_config_err(gw, "no connector files found (looked for \"%s\"%s in %s)",
                   gs->patterns[0], gs->npatterns > 1 ? ", ..." : "", dir);
        sl_config_path_pop(gw);
    }
}

sl_config *sl_config_load(const char *path, sl_config_errors *errs)
{
    size_t before = errs->n;
    loader ld = {.errs = errs};
    sl_config_gw gs;
    pctx gw = {.file = path};
    char *dir = NULL;
    memset(&gs, 0, sizeof gs);
    ld.cfg = calloc(1, sizeof *ld.cfg);
    const char *slash = strrchr(path, '/');
    dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
                : strdup(".");
    if (!ld.cfg || !dir || !(ld.cfg->file = strdup(path))) {
        sl_config_errors_add(errs, "%s: out of memory", path);
        goto done;
    }
    gs.dir = dir;
    if (run_file(&gw) == 0) {
        parse_returned(&gw, sl_config_gateway_keys, &gs, sl_config_gateway_after);
        expand_patterns(&ld, &gw, &gs, dir);
    }
    /* every gateway key, the listeners included, now owned by the config
     * (the gateway keys fill nothing else of it) */
    char *file = ld.cfg->file;
    *ld.cfg = gs.g;
    ld.cfg->file = file;
    /* the gateway file's problems come first; its source stays for the
     * lines of the listeners' connectors, checked once all are loaded */
    sl_config_flush(&gw, errs);
    sl_luahost_free(gw.L);
    gw.L = NULL;
    for (size_t i = 0; i < ld.nfiles; i++)
        load_connector(&ld, ld.files[i]);
    check_tcp_connectors(&ld, &gw);
    pctx_done(&gw, errs);
done:
    for (size_t i = 0; i < gs.npatterns; i++)
        free(gs.patterns[i]);
    free(gs.patterns);
    free(gs.pattern_index);
    for (size_t i = 0; i < ld.nfiles; i++)
        free(ld.files[i]);
    free(ld.files);
    for (size_t i = 0; i < ld.nnames; i++) {
        free(ld.names[i].name);
        free(ld.names[i].file);
    }
    free(ld.names);
    free(dir);
    if (errs->n > before || !ld.cfg) {
        if (errs->n == before)
            sl_config_errors_add(errs, "%s: out of memory", path);
        sl_config_free(ld.cfg);
        return NULL;
    }
    return ld.cfg;
}

sl_config *sl_config_load_or_report(const char *path, const char *prog,
                                    FILE *err)
{
    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *cfg = sl_config_load(path, &errs);
    if (!cfg) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(err, "%s\n", errs.msgs[i]);
        fprintf(err, "%s: %zu configuration error%s in %s\n", prog, errs.n,
                errs.n == 1 ? "" : "s", path);
    }
    sl_config_errors_free(&errs);
    return cfg;
}

void sl_config_free(sl_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nconnectors; i++)
        connector_free(&c->connectors[i]);
    free(c->connectors);
    for (size_t i = 0; i < c->ntcp; i++) {
        sl_tcp_conf *t = &c->tcp[i];
        free(t->listen);
        free(t->host);
        free(t->connector);
        for (size_t k = 0; k < t->nallow; k++)
            free(t->allow[k]);
        free(t->allow);
    }
    free(c->tcp);
    free(c->file);
    free(c->listen);
    free(c->listen_host);
    free(c->state_dir);
    free(c);
}

const sl_connector_conf *sl_config_connector(const sl_config *c,
                                             const char *name)
{
    for (size_t i = 0; c && i < c->nconnectors; i++)
        if (strcmp(c->connectors[i].name, name) == 0)
            return &c->connectors[i];
    return NULL;
}
