/* sl_config: loads the gateway file and its connector files into plain C
 * structs: runs each file in its sandbox, has the table it returns parsed
 * (sl_config_parse.c, driven by the key tables of sl_config_keys.c and the
 * rules of sl_config_gateway_rules.c and sl_config_connector_rules.c),
 * expands the connector file patterns, checks what spans files (unique
 * connector names, the listeners' connectors) and keeps each connector
 * file's Lua state for its functions. */
#include "sl_config_load.h"

#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>

#include "sl_config_concurrency.h"
#include "sl_config_connector_rules.h"
#include "sl_config_gateway_rules.h"
#include "sl_config_keys.h"
#include "sl_config_parse.h"
#include "sl_config_tls.h"
#include "sl_config_proxy.h"
#include "sl_fieldtpl.h"
#include "sl_fs.h"
#include "sl_luahost.h"
#include "sl_luastd.h"
#include "sl_luasrc.h"

#define FILE_LUA_MEMORY ((size_t)32 << 20) /* per configuration file state */
#define FILE_LUA_INSTRUCTIONS 20000000ul   /* VM instructions per file */
#define FILE_MAX_BYTES ((size_t)4 << 20)   /* a bigger file is refused */
#define PLACEHOLDER SL_LUAHOST_CHUNK[1]    /* the chunk name in Lua's
                                              messages */

/* ---- running a file --------------------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    char *buf;
    switch (sl_fs_read_file(path, FILE_MAX_BYTES, &buf, len)) {
    case SL_FS_OK:
        return buf;
    case SL_FS_OPEN:
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return NULL;
    case SL_FS_TOOBIG:
        snprintf(err, errlen, "larger than %zu MiB", FILE_MAX_BYTES >> 20);
        return NULL;
    case SL_FS_NOMEM:
        snprintf(err, errlen, "out of memory");
        return NULL;
    default:
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return NULL;
    }
}

/* Record a Lua error message, with the chunk name replaced by the file
 * (sl_luahost_pcall has done that already; a load error has not). */
static void lua_problem(sl_config_parse_context *ctx, const char *msg)
{
    size_t fl = strlen(ctx->file), n = 0;
    int line = 0;
    bool located = msg[0] == PLACEHOLDER && msg[1] == ':';
    if (located)
        line = atoi(msg + 2);
    else if (strncmp(msg, ctx->file, fl) == 0 && msg[fl] == ':' &&
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
        n += (size_t)sprintf(out, "%s: ", ctx->file);
    for (const char *s = msg; *s; s++) {
        if (*s == PLACEHOLDER) {
            memcpy(out + n, ctx->file, fl);
            n += fl;
        } else {
            out[n++] = *s == '\n' ? ' ' : *s; /* one line per error */
        }
    }
    out[n] = '\0';
    sl_config_add_problem(ctx, line, out);
}

/* Run ctx->file in a fresh sandbox. Returns 0 with the table it returned on
 * top of ctx->L, or -1 with the problem recorded. */
static int run_file(sl_config_parse_context *ctx)
{
    char err[1024];
    size_t len = 0;
    char *text = read_file(ctx->file, &len, err, sizeof err);
    if (!text)
        goto fail;
    ctx->src = sl_luasrc_new(text, len);
    ctx->text_hash = 0xcbf29ce484222325ull; /* FNV-1a, 64 bits */
    for (size_t i = 0; i < len; i++)
        ctx->text_hash = (ctx->text_hash ^ (unsigned char)text[i]) *
                         0x100000001b3ull;
    ctx->L = sl_luastd_new(FILE_LUA_MEMORY, err, sizeof err);
    if (!ctx->L)
        goto fail;
    if (sl_luahost_set_file(ctx->L, ctx->file) != 0) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    int st = luaL_loadbufferx(ctx->L, text, len, SL_LUAHOST_CHUNK,
                              "t");                          /* f|msg */
    ctx->text = text;
    ctx->text_len = len;
    text = NULL;
    if (st != LUA_OK) {
        lua_problem(ctx, lua_type(ctx->L, -1) == LUA_TSTRING
                             ? lua_tostring(ctx->L, -1) : "cannot load");
        lua_pop(ctx->L, 1);                                  /* */
        return -1;
    }
    if (sl_luahost_pcall(ctx->L, 0, 1, FILE_LUA_INSTRUCTIONS, err,
                         sizeof err) != LUA_OK) {            /* t */
        lua_problem(ctx, err);
        return -1;
    }
    if (!lua_istable(ctx->L, -1)) {
        sl_config_err(ctx, "the file must return a table, got %s",
                      luaL_typename(ctx->L, -1));
        lua_pop(ctx->L, 1);                                  /* */
        return -1;
    }
    return 0;
fail:
    free(text);
    sl_config_err(ctx, "%s", err);
    return -1;
}

typedef struct parse_job {
    sl_config_parse_context *ctx;
    const sl_config_key *keys;
    void *target;
    void (*after)(sl_config_parse_context *ctx, void *target);
} parse_job;

/* [-2, +0, m]: (job, table) -> (); runs under lua_pcall so that a memory
 * error reading the table is reported, not fatal. Everything allocated on
 * the C side is anchored in the target right away. */
static int parse_protected(lua_State *L)
{
    parse_job *job = lua_touserdata(L, 1);
    sl_config_parse_table(job->ctx, 2, job->keys, job->target);
    if (job->after)
        job->after(job->ctx, job->target);
    return 0;
}

/* Parse the table on top of ctx->L (popped) with `keys` into `target`. */
static void parse_returned(sl_config_parse_context *ctx,
                           const sl_config_key *keys, void *target,
                           void (*after)(sl_config_parse_context *, void *))
{
    char err[256];
    parse_job job = {ctx, keys, target, after};
    lua_pushcfunction(ctx->L, parse_protected);    /* t f */
    lua_pushlightuserdata(ctx->L, &job);           /* t f job */
    lua_rotate(ctx->L, -3, 2);                     /* f job t */
    if (sl_luahost_pcall(ctx->L, 2, 0, 0, err, sizeof err) != LUA_OK)
        sl_config_err(ctx, "%s", err);
}

static void parse_context_done(sl_config_parse_context *ctx,
                               sl_config_errors *errs)
{
    sl_config_flush_problems(ctx, errs);
    free(ctx->problems);
    free(ctx->text);
    sl_luasrc_free(ctx->src);
    sl_luahost_free(ctx->L);
    memset(ctx, 0, sizeof *ctx);
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
    sl_schema_free(c->schema); /* before the templates it checks with */
    sl_fieldtpl_free(c->url_tpl);
    free(c->record_tpls);
    for (size_t i = 0; i < c->nheaders; i++) {
        free(c->headers[i].name);
        free(c->headers[i].value);
        if (c->header_tpls)
            sl_fieldtpl_free(c->header_tpls[i]);
    }
    free(c->header_tpls);
    free(c->headers);
    sl_template_free(c->body_template);
    sl_template_free(c->record_template);
    sl_luahost_free(c->L);
    free(c->source);
    sl_config_tls_free(c);
    for (size_t i = 0; i < c->nwarnings; i++)
        free(c->warnings[i]);
    free(c->warnings);
    sl_config_proxy_free(c);
    sl_status_lists_free(c->status);
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
static void check_unique(loader *load, sl_config_parse_context *ctx,
                         const char *name)
{
    for (size_t i = 0; i < load->nnames; i++) {
        if (strcmp(load->names[i].name, name) != 0)
            continue;
        sl_config_path_push(ctx, "name", 0);
        sl_config_err(ctx, "duplicate connector name \"%s\" (also in %s)", name,
                      load->names[i].file);
        sl_config_path_pop(ctx);
        return;
    }
    seen_name *grown =
        realloc(load->names, (load->nnames + 1) * sizeof *grown);
    if (!grown)
        return;
    load->names = grown;
    seen_name *added = &grown[load->nnames];
    added->name = strdup(name);
    added->file = strdup(ctx->file);
    if (added->name && added->file) {
        load->nnames++;
    } else {
        free(added->name);
        free(added->file);
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
static void keep_state(sl_config_parse_context *ctx, sl_connector_conf *c)
{
    char err[256];
    lua_pushcfunction(ctx->L, collect);                      /* f */
    if (sl_luahost_pcall(ctx->L, 0, 0, FILE_LUA_INSTRUCTIONS, err,
                         sizeof err) != LUA_OK) {
        sl_config_err(ctx, "%s", err);
        return;
    }
    size_t used = sl_luahost_mem_used(ctx->L);
    if (used > c->lua_max_memory) {
        sl_config_path_push(ctx, "lua", 0);
        sl_config_path_push(ctx, "max_memory_mb", 0);
        sl_config_err(ctx,
                      "the file's Lua state holds %zu bytes once loaded, more "
                      "than the limit of %zu MiB", used,
                      c->lua_max_memory >> 20);
        ctx->depth -= 2;
        return;
    }
    sl_luahost_set_mem_limit(ctx->L, c->lua_max_memory);
    c->L = ctx->L;
    ctx->L = NULL;
    c->source = ctx->text;
    c->source_len = ctx->text_len;
    ctx->text = NULL;
}

static void load_connector(loader *load, const char *file)
{
    sl_config_parse_context ctx = {.file = file};
    sl_config_connector_target connector;
    sl_config *cfg = load->cfg;
    memset(&connector, 0, sizeof connector);
    if (run_file(&ctx) == 0) {
        connector.c.file_hash = ctx.text_hash;
        parse_returned(&ctx, sl_config_connector_keys, &connector,
                       sl_config_connector_after);
        sl_config_concurrency_after(&ctx, &connector);
        /* the proxy with the environment, into the transport that
         * sl_config_connector_after has set up */
        sl_config_proxy_resolve(&ctx, &connector.c, sl_proxy_getenv, NULL);
    }
    if (connector.c.name)
        check_unique(load, &ctx, connector.c.name);
    if (ctx.nproblems == 0 && !(connector.c.file = strdup(file)))
        sl_config_err(&ctx, "out of memory");
    if (ctx.nproblems == 0)
        keep_state(&ctx, &connector.c);
    if (ctx.nproblems == 0) {
        sl_connector_conf *nc =
            realloc(cfg->connectors, (cfg->nconnectors + 1) * sizeof *nc);
        if (nc) {
            cfg->connectors = nc;
            nc[cfg->nconnectors++] = connector.c;
        } else {
            sl_config_err(&ctx, "out of memory");
        }
    }
    if (ctx.nproblems != 0)
        connector_free(&connector.c);
    sl_config_schema_free(&connector.fields);
    parse_context_done(&ctx, load->errs);
}

/* Every listener's connector must be one that a connector file names
 * (load->names: a file with other problems still counts, so that one mistake
 * is not reported twice). Problems go to the gateway file's context. */
static void check_tcp_connectors(loader *load,
                                 sl_config_parse_context *gateway_ctx)
{
    const sl_config *cfg = load->cfg;
    const char *candidates[64];
    size_t ncandidates = load->nnames < 64 ? load->nnames : 64;
    char known[512];
    for (size_t i = 0; i < ncandidates; i++)
        candidates[i] = load->names[i].name;
    for (size_t i = 0; i < cfg->ntcp; i++) {
        const char *want = cfg->tcp[i].connector;
        size_t k = 0, n = 0;
        while (want && k < load->nnames &&
               strcmp(load->names[k].name, want) != 0)
            k++;
        if (!want || k < load->nnames)
            continue;
        known[0] = '\0';
        for (k = 0; k < load->nnames && n < sizeof known; k++)
            n += (size_t)snprintf(known + n, sizeof known - n, "%s%s",
                                  k ? ", " : "", load->names[k].name);
        if (n >= sizeof known)
            memcpy(known + sizeof known - 6, ", ...", 6);
        const char *suggestion = sl_config_suggest(want, candidates,
                                                   ncandidates);
        sl_config_path_push(gateway_ctx, "tcp", 0);
        sl_config_path_push(gateway_ctx, NULL, (long)i + 1);
        sl_config_path_push(gateway_ctx, "connector", 0);
        if (!load->nnames)
            sl_config_err(gateway_ctx,
                          "unknown connector \"%s\" (no connector is "
                          "loaded)", want);
        else if (suggestion)
            sl_config_err(gateway_ctx,
                          "unknown connector \"%s\" (did you mean \"%s\"? "
                          "known: %s)", want, suggestion, known);
        else
            sl_config_err(gateway_ctx, "unknown connector \"%s\" (known: %s)",
                          want, known);
        gateway_ctx->depth -= 3;
    }
}

static bool has_wildcard(const char *s) { return strpbrk(s, "*?[") != NULL; }

/* Expand the gateway's patterns into load->files; problems go to
 * gateway_ctx. */
static void expand_patterns(loader *load, sl_config_parse_context *gateway_ctx,
                            const sl_config_gateway_target *gateway,
                            const char *dir)
{
    size_t before = gateway_ctx->nproblems;
    for (size_t i = 0; i < gateway->npatterns; i++) {
        char *full = path_join(dir, gateway->patterns[i]);
        glob_t g;
        sl_config_path_push(gateway_ctx, "connectors", 0);
        sl_config_path_push(gateway_ctx, NULL, gateway->pattern_index[i]);
        int rc = full ? glob(full, 0, NULL, &g) : GLOB_NOSPACE;
        if (rc == GLOB_NOMATCH) {
            if (!has_wildcard(gateway->patterns[i]))
                sl_config_err(gateway_ctx, "no such file: %s", full);
        } else if (rc != 0) {
            sl_config_err(gateway_ctx, "cannot expand \"%s\": %s",
                          gateway->patterns[i],
                          rc == GLOB_NOSPACE ? "out of memory" : "read error");
        } else {
            for (size_t k = 0; k < g.gl_pathc; k++) {
                const char *f = g.gl_pathv[k];
                bool seen = false;
                for (size_t m = 0; m < load->nfiles && !seen; m++)
                    seen = strcmp(load->files[m], f) == 0;
                char **nf = seen ? NULL
                                 : realloc(load->files,
                                           (load->nfiles + 1) * sizeof *nf);
                if (nf) {
                    load->files = nf;
                    if ((nf[load->nfiles] = strdup(f)))
                        load->nfiles++;
                }
            }
        }
        if (rc == 0 || rc == GLOB_NOMATCH)
            globfree(&g);
        sl_config_path_pop(gateway_ctx);
        sl_config_path_pop(gateway_ctx);
        free(full);
    }
    if (load->nfiles == 0 && gateway->npatterns > 0 &&
        gateway_ctx->nproblems == before) {
        sl_config_path_push(gateway_ctx, "connectors", 0);
        sl_config_err(gateway_ctx,
                      "no connector files found (looked for \"%s\"%s in %s)",
                      gateway->patterns[0],
                      gateway->npatterns > 1 ? ", ..." : "", dir);
        sl_config_path_pop(gateway_ctx);
    }
}

sl_config *sl_config_load(const char *path, sl_config_errors *errs)
{
    size_t before = errs->n;
    loader load = {.errs = errs};
    sl_config_gateway_target gateway;
    sl_config_parse_context gateway_ctx = {.file = path};
    char *dir = NULL;
    memset(&gateway, 0, sizeof gateway);
    load.cfg = calloc(1, sizeof *load.cfg);
    const char *slash = strrchr(path, '/');
    dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path))
                : strdup(".");
    if (!load.cfg || !dir || !(load.cfg->file = strdup(path))) {
        sl_config_errors_add(errs, "%s: out of memory", path);
        goto done;
    }
    gateway.dir = dir;
    if (run_file(&gateway_ctx) == 0) {
        parse_returned(&gateway_ctx, sl_config_gateway_keys, &gateway,
                       sl_config_gateway_after);
        expand_patterns(&load, &gateway_ctx, &gateway, dir);
    }
    /* every gateway key, the listeners included, now owned by the config
     * (the gateway keys fill nothing else of it) */
    char *file = load.cfg->file;
    *load.cfg = gateway.g;
    load.cfg->file = file;
    /* the gateway file's problems come first; its source stays for the
     * lines of the listeners' connectors, checked once all are loaded */
    sl_config_flush_problems(&gateway_ctx, errs);
    sl_luahost_free(gateway_ctx.L);
    gateway_ctx.L = NULL;
    for (size_t i = 0; i < load.nfiles; i++)
        load_connector(&load, load.files[i]);
    check_tcp_connectors(&load, &gateway_ctx);
    parse_context_done(&gateway_ctx, errs);
done:
    for (size_t i = 0; i < gateway.npatterns; i++)
        free(gateway.patterns[i]);
    free(gateway.patterns);
    free(gateway.pattern_index);
    for (size_t i = 0; i < load.nfiles; i++)
        free(load.files[i]);
    free(load.files);
    for (size_t i = 0; i < load.nnames; i++) {
        free(load.names[i].name);
        free(load.names[i].file);
    }
    free(load.names);
    free(dir);
    if (errs->n > before || !load.cfg) {
        if (errs->n == before)
            sl_config_errors_add(errs, "%s: out of memory", path);
        sl_config_free(load.cfg);
        return NULL;
    }
    return load.cfg;
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

static void tls_free(sl_tls_conf *t)
{
    free(t->cert);
    free(t->key);
    free(t->client_ca);
}

void sl_config_tcp_clear(sl_tcp_conf *t)
{
    free(t->listen);
    free(t->host);
    free(t->connector);
    for (size_t k = 0; k < t->nallow; k++)
        free(t->allow[k]);
    free(t->allow);
    tls_free(&t->tls);
    memset(t, 0, sizeof *t);
}

void sl_config_free(sl_config *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nconnectors; i++)
        connector_free(&c->connectors[i]);
    free(c->connectors);
    for (size_t i = 0; i < c->ntcp; i++)
        sl_config_tcp_clear(&c->tcp[i]);
    free(c->tcp);
    free(c->file);
    free(c->listen);
    free(c->listen_host);
    free(c->admin_listen);
    free(c->admin_listen_host);
    for (size_t i = 0; i < c->nadmin_keys; i++) {
        if (c->admin_keys[i])
            memset(c->admin_keys[i], 0, strlen(c->admin_keys[i]));
        free(c->admin_keys[i]);
    }
    free(c->admin_keys);
    free(c->state_dir);
    tls_free(&c->tls);
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

bool sl_config_has_transform(const sl_connector_conf *c)
{
    return c->transform_ref > 0;
}

/* [-1, +0, -]: the table the file returned -> (); the reference of its
 * `transform` in *(int *)ud, LUA_NOREF when it is not a function. */
static int take_transform(lua_State *L)
{
    int *ref = lua_touserdata(L, 1);
    lua_getfield(L, 2, "transform");
    *ref = lua_isfunction(L, -1) ? luaL_ref(L, LUA_REGISTRYINDEX) : LUA_NOREF;
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT);
    return 0;
}

lua_State *sl_config_transform_state(const sl_connector_conf *c, int *ref,
                                     char *err, size_t errlen)
{
    lua_State *L = sl_luastd_new(FILE_LUA_MEMORY, err, errlen);
    if (!L)
        return NULL;
    *ref = LUA_NOREF;
    if (sl_luahost_set_file(L, c->file) != 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (luaL_loadbufferx(L, c->source, c->source_len, SL_LUAHOST_CHUNK,
                         "t") != LUA_OK) {                   /* f|msg */
        snprintf(err, errlen, "%s", lua_type(L, -1) == LUA_TSTRING
                                        ? lua_tostring(L, -1) : "cannot load");
        goto fail;
    }
    if (sl_luahost_pcall(L, 0, 1, FILE_LUA_INSTRUCTIONS, err, errlen) !=
        LUA_OK)                                              /* t */
        goto fail;
    lua_pushcfunction(L, take_transform);                    /* t f */
    lua_pushlightuserdata(L, ref);                           /* t f ref */
    lua_rotate(L, -3, 2);                                    /* f ref t */
    if (sl_luahost_pcall(L, 2, 0, FILE_LUA_INSTRUCTIONS, err, errlen) !=
        LUA_OK)
        goto fail;
    if (*ref == LUA_NOREF) {
        snprintf(err, errlen, "%s returned no transform function this time",
                 c->file);
        goto fail;
    }
    if (sl_luahost_mem_used(L) > c->lua_max_memory) {
        snprintf(err, errlen, "the file's Lua state holds %zu bytes once "
                 "loaded, more than lua.max_memory_mb", sl_luahost_mem_used(L));
        goto fail;
    }
    sl_luahost_set_mem_limit(L, c->lua_max_memory);
    return L;
fail:
    sl_luahost_free(L);
    return NULL;
}
