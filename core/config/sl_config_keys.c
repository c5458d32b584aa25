/* sl_config_keys: every configuration key, declared once, with its type,
 * default, range and description, and the rules that a table cannot express
 * (URL, listen address, headers, functions, schema). sl_config_print.c
 * makes the reference and the `sluice check` printout from these tables. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>

#include "sl_addr.h"
#include "sl_config_keys.h"
#include "sl_header.h"
#include "sl_schema.h"

typedef sl_config_ctx pctx;

#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
#define CO(f) offsetof(sl_config_conn, f)
#define GO(f) offsetof(sl_config_gw, f)
#define FO(f) offsetof(sl_config_field, f)
#define TO(f) offsetof(sl_tcp_conf, f)

#define TCP_MAX_LISTENERS 64  /* gateway `tcp`: listeners at most */
#define TCP_ALLOW_MAX 1024    /* entries of one `allow`, at most */

_Static_assert(sizeof(sl_body_form) == sizeof(int), "body form stored as int");
_Static_assert(SL_SCHEMA_MAX_FIELDS == 512, "update the schema doc_allowed");

/* ---- value rules ----------------------------------------------------- */

static int check_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    bool ok = len > 0 && len <= 64 && !(v[0] >= '0' && v[0] <= '9') &&
              v[0] != '-';
    for (const char *s = v; ok && *s; s++)
        ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
             (*s >= '0' && *s <= '9') || *s == '_' || *s == '-';
    if (ok)
        return 0;
    snprintf(why, n, "invalid name \"%.80s\" (letters, digits, \"_\" and "
             "\"-\", not starting with a digit or \"-\", at most 64 "
             "characters)", v);
    return -1;
}

/* A value shown in a message: at most 60 bytes, anything that could break
 * the one-line message or its quotes as '?', "..." when cut. */
static const char *shown(const char *s, size_t len, char *buf, size_t n)
{
    size_t k = 0;
    for (; k < len && k < 60 && k + 4 < n; k++)
        buf[k] = (unsigned char)s[k] < 0x20 || s[k] == 0x7f || s[k] == '"' ||
                         s[k] == '\\' ? '?' : s[k];
    if (k < len && k + 4 <= n)
        memcpy(buf + k, "...", 3), k += 3;
    buf[k] = '\0';
    return buf;
}

static int check_nonempty(const char *v, char *why, size_t n)
{
    if (*v)
        return 0;
    snprintf(why, n, "must not be empty");
    return -1;
}

static int check_field_name(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    if (len == 0 || len > 127) {
        snprintf(why, n, "field names have 1 to 127 bytes");
        return -1;
    }
    for (const char *s = v; *s; s++)
        if ((unsigned char)*s < 0x20) {
            snprintf(why, n, "control character in field name");
            return -1;
        }
    return 0;
}

/* ---- custom keys ----------------------------------------------------- */

static void parse_headers(pctx *p, int idx, void *target)
{
    sl_connector_conf *c = &((sl_config_conn *)target)->c;
    lua_State *L = p->L;
    char got[64];
    if (!idx)
        return;
    lua_pushnil(L);                                /* nil */
    while (lua_next(L, idx)) {                     /* name value */
        if (lua_type(L, -2) != LUA_TSTRING) {
            sl_config_describe(L, -2, got, sizeof got);
            sl_config_err(p, "header names must be strings, got %s", got);
            lua_pop(L, 1);                         /* name */
            continue;
        }
        const char *name = lua_tostring(L, -2), *v;
        sl_config_path_push(p, name, 0);
        if (!sl_header_name_ok(name)) {
            sl_config_err(p, "invalid header name (letters, digits and "
                       "!#$%%&'*+-.^_`|~ only)");
        } else if (sl_header_reserved(name)) {
            sl_config_err(p, "set by sluice; remove it");
        } else if (lua_type(L, -1) != LUA_TSTRING) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected a string, got %s", got);
        } else if (!sl_header_value_ok(v = lua_tostring(L, -1),
                                       lua_rawlen(L, -1))) {
            sl_config_err(p, "header values must not contain CR, LF or NUL");
        } else {
            sl_header *nh = realloc(c->headers, (c->nheaders + 1) * sizeof *nh);
            if (!nh) {
                sl_config_err(p, "out of memory");
            } else {
                c->headers = nh;
                nh[c->nheaders] = (sl_header){NULL, NULL};
                c->nheaders++; /* anchored before anything can fail */
                nh[c->nheaders - 1].name = sl_config_strdup(p, name);
                nh[c->nheaders - 1].value = sl_config_strdup(p, v);
            }
        }
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* name */
    }
    for (size_t i = 0; i < c->nheaders; i++)       /* sort by name */
        for (size_t j = i; j > 0 && c->headers[j - 1].name &&
                           c->headers[j].name &&
                           strcasecmp(c->headers[j - 1].name,
                                      c->headers[j].name) > 0; j--) {
            sl_header t = c->headers[j];
            c->headers[j] = c->headers[j - 1];
            c->headers[j - 1] = t;
        }
    for (size_t i = 1; i < c->nheaders; i++)
        if (c->headers[i].name && c->headers[i - 1].name &&
            strcasecmp(c->headers[i].name, c->headers[i - 1].name) == 0) {
            sl_config_path_push(p, c->headers[i].name, 0);
            sl_config_err(p, "duplicate header (also \"%s\")",
                       c->headers[i - 1].name);
            sl_config_path_pop(p);
        }
}

/* A function is kept in the registry of the file's state, which the
 * connector keeps; absent, LUA_NOREF. */
static void parse_function(pctx *p, int idx, int *ref)
{
    *ref = LUA_NOREF;
    if (!idx)
        return;
    lua_pushvalue(p->L, idx);                      /* fn */
    *ref = luaL_ref(p->L, LUA_REGISTRYINDEX);      /* (fn popped) */
}

static void parse_transform(pctx *p, int idx, void *target)
{
    parse_function(p, idx, &((sl_config_conn *)target)->c.transform_ref);
}

static void parse_headers_fn(pctx *p, int idx, void *target)
{
    parse_function(p, idx, &((sl_config_conn *)target)->c.headers_fn_ref);
}

static void parse_idempotency_header(pctx *p, int idx, void *target)
{
    sl_config_conn *cs = target;
    lua_State *L = p->L;
    free(cs->c.idempotency_header);
    cs->c.idempotency_header = NULL;
    if (idx == 0) { /* not given */
        cs->c.idempotency_header = sl_config_strdup(p, "Idempotency-Key");
        return;
    }
    if (lua_type(L, idx) == LUA_TBOOLEAN && !lua_toboolean(L, idx))
        return; /* off */
    if (lua_type(L, idx) != LUA_TSTRING) {
        char got[64];
        sl_config_describe(L, idx, got, sizeof got);
        sl_config_err(p, "expected a header name or false, got %s", got);
        return;
    }
    const char *v = lua_tostring(L, idx);
    if (!sl_header_name_ok(v) || sl_header_reserved(v)) {
        sl_config_err(p, "\"%.64s\" %s", v, sl_header_reserved(v)
                                            ? "is a header sluice sets itself"
                                            : "is not a valid header name");
        return;
    }
    cs->c.idempotency_header = sl_config_strdup(p, v);
}

static bool check_list(pctx *p, int idx, const char *example);

#define INTAKE_KEY_MIN 16
#define INTAKE_KEY_MAX 1024
#define INTAKE_KEYS_MAX 16

/* intake_keys: a list of secrets. Messages never show a key's value. */
static void parse_intake_keys(pctx *p, int idx, void *target)
{
    sl_connector_conf *c = &((sl_config_conn *)target)->c;
    lua_State *L = p->L;
    if (!idx || !check_list(p, idx, "{ sluice.env(\"CRM_INTAKE_KEY\") }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0 || n > INTAKE_KEYS_MAX) {
        sl_config_err(p, "list 1 to %d keys (%lld given); leave the key out for "
                   "an open intake", INTAKE_KEYS_MAX, (long long)n);
        return;
    }
    if (!(c->intake_keys = calloc((size_t)n, sizeof *c->intake_keys))) {
        sl_config_err(p, "out of memory");
        return;
    }
    lua_Integer where[INTAKE_KEYS_MAX]; /* list index of each key kept */
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* key */
        sl_config_path_push(p, NULL, (long)i);
        size_t len = 0;
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len)
                                                      : NULL;
        size_t bad = 0;
        while (k && bad < len && k[bad] > 0x20 && k[bad] < 0x7f)
            bad++;
        if (!k)
            sl_config_err(p, "expected a string, got a %s", luaL_typename(L, -1));
        else if (len < INTAKE_KEY_MIN || len > INTAKE_KEY_MAX)
            sl_config_err(p, "a key of %zu characters; use %d to %d (value not "
                       "shown)", len, INTAKE_KEY_MIN, INTAKE_KEY_MAX);
        else if (bad != len)
            sl_config_err(p, "character %zu is not a visible ASCII character "
                       "(no spaces or control characters; value not shown)",
                       bad + 1);
        else
            for (lua_Integer j = 0; j < (lua_Integer)c->nintake_keys; j++)
                if (strcmp(c->intake_keys[j], k) == 0) {
                    sl_config_err(p, "the same key as intake_keys[%lld]",
                               (long long)where[j]);
                    k = NULL;
                    break;
                }
        if (k && len >= INTAKE_KEY_MIN && len <= INTAKE_KEY_MAX && bad == len) {
            where[c->nintake_keys] = i;
            c->intake_keys[c->nintake_keys++] = sl_config_strdup(p, k);
        }
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* */
    }
}

/* Every key must be 1..#t, as in a list; otherwise say what was found. */
static bool check_list(pctx *p, int idx, const char *example)
{
    lua_State *L = p->L;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    bool ok = true;
    lua_pushnil(L);                                /* nil */
    while (lua_next(L, idx)) {                     /* k v */
        lua_pop(L, 1);                             /* k */
        if (ok && !(lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 &&
                    lua_tointeger(L, -1) <= n)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected a list like %s, found the key %s",
                       example, got);
            ok = false;
        }
    }
    return ok;
}

static void parse_type(pctx *p, int idx, void *target)
{
    sl_config_field *f = target;
    const char *names[SL_TYPE__COUNT], *s;
    char valid[128] = "";
    size_t n = 0;
    if (!idx)
        return;
    s = lua_tostring(p->L, idx);
    if ((f->type = sl_schema_type_from_name(s)) >= 0)
        return;
    for (int t = 0; t < SL_TYPE__COUNT; t++) {
        names[t] = sl_schema_type_name((sl_schema_type)t);
        n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                              t ? ", " : "", names[t]);
    }
    const char *sug = sl_config_suggest(s, names, SL_TYPE__COUNT);
    if (sug)
        sl_config_err(p, "unknown type \"%.40s\" (did you mean \"%s\"? valid: %s)",
                   s, sug, valid);
    else
        sl_config_err(p, "unknown type \"%.40s\" (valid: %s)", s, valid);
}

const sl_config_key sl_config_field_keys[] = {
    {.name = "name", .kind = K_STR, .store = S_LSTR, .off = FO(name),
     .required = true, .check = check_field_name, .doc_type = "string",
     .doc_allowed = "1 to 127 bytes of UTF-8 without quotes, backslashes "
                    "or control characters; unique in the schema",
     .desc = "The JSON member name."},
    {.name = "type", .kind = K_CUSTOM, .custom = parse_type,
     .ltype = LUA_TSTRING, .what = "a string", .required = true,
     .doc_type = "string",
     .doc_allowed = "`\"string\"`, `\"integer\"`, `\"number\"`, "
                    "`\"boolean\"`, `\"date\"`, `\"datetime\"`",
     .desc = "What a value must be; see [Types](#types)."},
    {.name = "nullable", .kind = K_BOOL, .store = S_BOOL, .off = FO(nullable),
     .def = 0, .doc_type = "boolean",
     .desc = "Whether `null` (or a missing member, sent as `null`) is "
             "accepted."},
    {0}};

static void parse_schema(pctx *p, int idx, void *target)
{
    sl_config_conn *cs = target;
    lua_State *L = p->L;
    if (!idx || !check_list(p, idx, "{ { name = \"id\", type = \"integer\" } }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        sl_config_err(p, "must list at least one field");
    if (n > SL_SCHEMA_MAX_FIELDS)
        sl_config_err(p, "%lld fields; at most %d are allowed", (long long)n,
                   SL_SCHEMA_MAX_FIELDS);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* field */
        sl_config_path_push(p, NULL, (long)i);
        if (!lua_istable(L, -1)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected a table like { name = \"id\", type = "
                       "\"integer\" }, got %s", got);
        } else {
            size_t before = p->nerr, k;
            sl_config_field f = {.type = -1, .index = (long)i};
            sl_config_parse_table(p, -1, sl_config_field_keys, &f);
            for (k = 0; f.name && k < cs->nfields; k++)
                if (strcmp(cs->fields[k].name, f.name) == 0)
                    break;
            if (f.name && k < cs->nfields) {
                sl_config_path_push(p, "name", 0);
                sl_config_err(p, "duplicate field \"%s\"", f.name);
                sl_config_path_pop(p);
            } else if (f.name) {
                f.bad = p->nerr != before;
                if (cs->nfields == cs->capfields) {
                    size_t nc = cs->capfields ? cs->capfields * 2 : 16;
                    sl_config_field *nf = realloc(cs->fields, nc * sizeof *nf);
                    if (!nf) {
                        sl_config_err(p, "out of memory");
                        goto next;
                    }
                    cs->fields = nf;
                    cs->capfields = nc;
                }
                cs->fields[cs->nfields++] = f;
            }
        }
    next:
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* */
    }
}

static void add_pattern(pctx *p, sl_config_gw *gs, const char *pat, long index)
{
    if (gs->npatterns == gs->cappatterns) {
        size_t nc = gs->cappatterns ? gs->cappatterns * 2 : 4;
        char **np = realloc(gs->patterns, nc * sizeof *np);
        if (np)
            gs->patterns = np;
        long *ni = np ? realloc(gs->pattern_index, nc * sizeof *ni) : NULL;
        if (ni)
            gs->pattern_index = ni;
        if (!np || !ni) {
            sl_config_err(p, "out of memory");
            return;
        }
        gs->cappatterns = nc;
    }
    gs->pattern_index[gs->npatterns] = index;
    if ((gs->patterns[gs->npatterns] = sl_config_strdup(p, pat)))
        gs->npatterns++;
}

static void parse_connectors(pctx *p, int idx, void *target)
{
    sl_config_gw *gs = target;
    lua_State *L = p->L;
    if (!idx) {
        add_pattern(p, gs, "connectors/*.lua", 1);
        return;
    }
    if (!check_list(p, idx, "{ \"connectors/*.lua\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        sl_config_err(p, "must list at least one file or pattern");
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* pattern */
        sl_config_path_push(p, NULL, (long)i);
        if (lua_type(L, -1) != LUA_TSTRING || !*lua_tostring(L, -1)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected a file name or glob pattern, got %s", got);
        } else {
            add_pattern(p, gs, lua_tostring(L, -1), (long)i);
        }
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* */
    }
}

/* A listener's `allow`: addresses and CIDR blocks as written; absent,
 * loopback only. */
static void parse_allow(pctx *p, int idx, void *target)
{
    static const char *const loopback[] = {"127.0.0.0/8", "::1"};
    sl_tcp_conf *t = target;
    lua_State *L = p->L;
    char got[80];
    if (!idx) {
        if (!(t->allow = calloc(2, sizeof *t->allow))) {
            sl_config_err(p, "out of memory");
            return;
        }
        for (size_t i = 0; i < 2; i++)
            if ((t->allow[t->nallow] = sl_config_strdup(p, loopback[i])))
                t->nallow++;
        return;
    }
    if (!check_list(p, idx, "{ \"127.0.0.1\", \"10.0.0.0/8\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0) {
        sl_config_err(p, "list at least one address; leave allow out for "
                   "loopback only");
        return;
    }
    if (n > TCP_ALLOW_MAX) {
        sl_config_err(p, "%lld entries; at most %d are allowed", (long long)n,
                   TCP_ALLOW_MAX);
        return;
    }
    if (!(t->allow = calloc((size_t)n, sizeof *t->allow))) {
        sl_config_err(p, "out of memory");
        return;
    }
    for (lua_Integer i = 1; i <= n; i++) {
        sl_cidr block;
        lua_rawgeti(L, idx, i);                    /* entry */
        sl_config_path_push(p, NULL, (long)i);
        size_t len = 0;
        const char *a = lua_type(L, -1) == LUA_TSTRING
                            ? lua_tolstring(L, -1, &len) : NULL;
        if (!a) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected an address or CIDR block as a string, "
                       "got %s", got);
        } else if (sl_addr_parse_cidr(a, len, &block) != 0) {
            sl_config_err(p, "\"%s\" is not an address or CIDR block",
                       shown(a, len, got, sizeof got));
        } else if ((t->allow[t->nallow] = sl_config_strdup(p, a))) {
            t->nallow++;
        }
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* */
    }
}

/* ---- the key tables ---------------------------------------------------- */

static const char *const method_choices[] = {"POST", "PUT", "PATCH", NULL};
const char *const sl_config_body_choices[] = {"array", "object", "ndjson",
                                          NULL};
const char *const sl_config_unknown_choices[] = {"reject", "drop", NULL};
const char *const sl_config_durability_choices[] = {"fsync", "os", "memory",
                                                NULL};
const char *const sl_config_on_permanent_choices[] = {"bisect", "dead_letter",
                                                  NULL};

static const sl_config_key batch_keys[] = {
    {.name = "max_records", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.batch_max_records), .def = 500, .min = 1, .max = 100000,
     .desc = "Records in one request, at most."},
    {.name = "max_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.batch_max_bytes), .def = MIB, .min = KIB, .max = 64 * MIB,
     .unit = "bytes",
     .desc = "Body bytes of one request, at most; a single record larger "
             "than this is sent alone."},
    {.name = "max_delay_ms", .kind = K_INT, .store = S_UINT,
     .off = CO(c.batch_max_delay_ms), .def = 200, .min = 0, .max = 3600000,
     .unit = "ms",
     .desc = "How long the oldest waiting record may wait for the batch to "
             "fill; 0 sends at once."},
    {0}};

static const sl_config_key retry_keys[] = {
    {.name = "base_ms", .kind = K_INT, .store = S_UINT,
     .off = CO(c.retry_base_ms), .def = 200, .min = 1, .max = 600000,
     .unit = "ms", .desc = "Backoff ceiling after the first failure."},
    {.name = "max_ms", .kind = K_INT, .store = S_UINT,
     .off = CO(c.retry_max_ms), .def = 30000, .min = 1, .max = 3600000,
     .unit = "ms",
     .desc = "Largest backoff; the ceiling doubles per failure up to this. "
             "Must not be less than `base_ms`. A `Retry-After` from the "
             "destination (seconds or an HTTP date) wins over it."},
    {.name = "max_elapsed_s", .kind = K_INT, .store = S_UINT,
     .off = CO(c.retry_max_elapsed_s), .def = 86400, .min = 0,
     .max = 31536000, .unit = "s",
     .desc = "How long a batch may keep failing, from its first attempt; "
             "then its records go to the dead letters. 0 retries forever."},
    {0}};

static const sl_config_key spool_keys[] = {
    {.name = "max_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.spool_max_bytes), .def = GIB, .min = MIB, .max = LLONG_MAX,
     .unit = "bytes",
     .desc = "Undelivered records on disk, at most (in flight included); "
             "when full, the intake answers 503 with `Retry-After`."},
    {.name = "segment_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.spool_segment_bytes), .def = 64 * MIB, .min = 64 * KIB,
     .max = GIB, .unit = "bytes",
     .desc = "Size at which the spool starts a new segment file; a "
             "segment is deleted once everything in it is delivered."},
    {.name = "cache_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.spool_cache_bytes), .def = 8 * MIB, .min = 0, .max = GIB,
     .unit = "bytes",
     .desc = "Recent records also kept in memory, so that delivery does "
             "not read them back while the destination keeps up; a larger "
             "backlog is read from the segments, and memory stays flat."},
    {0}};

static const sl_config_key lua_keys[] = {
    {.name = "max_instructions", .kind = K_INT, .store = S_ULONG,
     .off = CO(c.lua_max_instructions), .def = 1000000, .min = 1000,
     .max = 1000000000,
     .desc = "Lua VM instructions that one call of `transform` or "
             "`headers_fn` may run; past it that call fails with "
             "\"instruction limit exceeded\"."},
    {.name = "max_memory_mb", .kind = K_INT, .store = S_SIZE,
     .off = CO(lua_max_memory_mb), .def = 64, .min = 1, .max = 4096,
     .unit = "MiB",
     .desc = "Memory of the connector's Lua state once the file has "
             "loaded; an allocation past it fails with \"memory limit of "
             "N MiB exceeded\"."},
    {0}};

static const sl_config_key limits_keys[] = {
    {.name = "record_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.limit_record_bytes), .def = MIB, .min = 64, .max = 64 * MIB,
     .unit = "bytes",
     .desc = "One record's JSON text as received (whitespace included); a "
             "longer record is rejected: `record is N bytes, more than "
             "limits.record_bytes`."},
    {.name = "string_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.limit_string_bytes), .def = 256 * KIB, .min = 16,
     .max = 64 * MIB, .unit = "bytes",
     .desc = "The value of a `string` field, between its quotes as "
             "received (an escape counts as written); a longer one rejects "
             "the record, naming the field. (`date` and `datetime` values "
             "are bounded by their form.)"},
    {.name = "fields", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.limit_fields), .def = 1024, .min = 1, .max = 65536,
     .desc = "Members of one record object, unknown ones included; more "
             "rejects the record."},
    {.name = "depth", .kind = K_INT, .store = S_INT, .off = CO(c.limit_depth),
     .def = 32, .min = 1, .max = SL_JSON_MAX_DEPTH,
     .desc = "JSON nesting (objects and arrays, the body's array counted); "
             "deeper is malformed JSON: the whole body (JSON) or that line "
             "(NDJSON) is rejected."},
    {.name = "records_per_request", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.limit_records), .def = 100000, .min = 1, .max = 10000000,
     .desc = "Records in one HTTP request (array elements or NDJSON "
             "lines); more gets 413 and nothing of the request is "
             "accepted. Not applied to TCP listeners, which have no "
             "requests."},
    {0}};

const sl_config_key sl_config_connector_keys[] = {
    {.name = "name", .kind = K_STR, .store = S_STR, .off = CO(c.name),
     .required = true, .check = check_name, .doc_type = "string",
     .doc_allowed = "`[A-Za-z_][A-Za-z0-9_-]*`, at most 64 characters, "
                    "unique across files",
     .desc = "Names the connector in the intake URL "
             "(`/v1/connectors/{name}/records`), in logs and in metrics."},
    {.name = "url", .kind = K_STR, .store = S_STR, .off = CO(c.url),
     .required = true, .check = sl_addr_check_url, .doc_type = "string",
     .doc_allowed = "`http://` or `https://`, a host, optional `:port` "
                    "(1-65535), path and query; no spaces, credentials or "
                    "fragment",
     .desc = "Where every request goes."},
    {.name = "method", .kind = K_ENUM, .store = S_STR, .off = CO(c.method),
     .def = 0, .choices = method_choices,
     .desc = "HTTP method of every request; written in any case, stored in "
             "upper case."},
    {.name = "headers", .kind = K_CUSTOM, .custom = parse_headers,
     .ltype = LUA_TTABLE, .what = "a table of name = value strings",
     .defstr = "`{}`", .doc_type = "table: name → string",
     .doc_allowed = "header names are tokens; values without CR/LF; not "
                    "`Content-Type`, `Content-Length`, `Host`, "
                    "`Transfer-Encoding`",
     .desc = "Static request headers, sent with every request."},
    {.name = "schema", .kind = K_CUSTOM, .custom = parse_schema,
     .ltype = LUA_TTABLE, .what = "a list of fields", .required = true,
     .doc_type = "list of fields", .doc_allowed = "1 to 512 fields",
     .desc = "The record's fields, in the order they are encoded; see "
             "[Schema fields](#schema-fields)."},
    {.name = "unknown_fields", .kind = K_ENUM, .store = S_INT,
     .off = CO(unknown), .def = 0, .choices = sl_config_unknown_choices,
     .desc = "A record member that is not in the schema: `reject` rejects "
             "the record, `drop` leaves the member out."},
    {.name = "body", .kind = K_ENUM, .store = S_INT, .off = CO(c.body),
     .def = 0, .choices = sl_config_body_choices,
     .desc = "How records become a request body; see "
             "[Body forms](#body-forms)."},
    {.name = "batch", .kind = K_TABLE, .sub = batch_keys,
     .desc = "When a batch is sent: as soon as the first of its limits is "
             "reached."},
    {.name = "timeout_ms", .kind = K_INT, .store = S_UINT,
     .off = CO(c.timeout_ms), .def = 10000, .min = 100, .max = 600000,
     .unit = "ms",
     .desc = "Time limit of one attempt, from connecting to the last byte "
             "of the answer."},
    {.name = "concurrency", .kind = K_INT, .store = S_UINT,
     .off = CO(c.concurrency), .def = 4, .min = 1, .max = 64,
     .desc = "Batches outstanding at once (in flight or waiting to be "
             "retried); 1 keeps records in order."},
    {.name = "retry", .kind = K_TABLE, .sub = retry_keys,
     .desc = "Backoff between attempts of a failed batch."},
    {.name = "on_permanent", .kind = K_ENUM, .store = S_INT,
     .off = CO(c.on_permanent), .def = 0,
     .choices = sl_config_on_permanent_choices,
     .desc = "A batch that fails permanently (a 4xx other than 401, 403, "
             "408, 413, 429): `bisect` halves it until the failing records "
             "are isolated and dead-letters only those; `dead_letter` "
             "dead-letters the whole batch."},
    {.name = "ordered", .kind = K_BOOL, .store = S_BOOL, .off = CO(c.ordered),
     .def = 0, .doc_type = "boolean",
     .desc = "Strict order: one request in flight whatever `concurrency` "
             "says, and a failing batch holds back the ones after it."},
    {.name = "idempotency_header", .kind = K_CUSTOM,
     .custom = parse_idempotency_header, .ltype = LUA_TNONE, .defstr = "`\"Idempotency-Key\"`",
     .doc_type = "string or false", .doc_allowed = "a header name, or false",
     .desc = "Header that carries the batch's key, the same on every retry "
             "and after a restart (`req.batch_id` in Lua); `false` sends "
             "none."},
    {.name = "durability", .kind = K_ENUM, .store = S_INT,
     .off = CO(c.durability), .def = 0,
     .choices = sl_config_durability_choices,
     .desc = "When the intake answers: `fsync` once the records are on disk "
             "(group commit), `os` once written to the OS (survives a crash "
             "of sluice, not of the machine), `memory` at once (lost if "
             "sluice stops); see docs/operations.md."},
    {.name = "spool", .kind = K_TABLE, .sub = spool_keys,
     .desc = "The connector's on-disk spool (durability `fsync` or `os`)."},
    {.name = "queue_max_bytes", .kind = K_INT, .store = S_SIZE,
     .off = CO(c.queue_max_bytes), .def = 64 * MIB, .min = MIB,
     .max = LLONG_MAX, .unit = "bytes",
     .desc = "With durability `memory`: records not yet delivered, at "
             "most; when full the intake answers 503 with `Retry-After`. "
             "(The spool modes use `spool.max_bytes` and "
             "`spool.cache_bytes`.)"},
    {.name = "intake_keys", .kind = K_CUSTOM, .custom = parse_intake_keys,
     .ltype = LUA_TTABLE, .what = "a list of strings", .defstr = "none",
     .doc_type = "list of strings",
     .doc_allowed = "1 to 16 keys of 16 to 1024 visible ASCII characters",
     .desc = "Callers must send one of these as `Authorization: Bearer "
             "<key>`, or get 401; several allow rotation. Read them with "
             "`sluice.env`; they are never shown or logged."},
    {.name = "transform", .kind = K_CUSTOM, .custom = parse_transform,
     .ltype = LUA_TFUNCTION, .what = "a function", .defstr = "none",
     .doc_type = "function", .doc_allowed = "`function(rec, ctx)`",
     .desc = "Runs at intake on each record, before the schema check; "
             "returns the record, `nil` to drop it, or a list of records; "
             "see [Transforms](#transforms)."},
    {.name = "headers_fn", .kind = K_CUSTOM, .custom = parse_headers_fn,
     .ltype = LUA_TFUNCTION, .what = "a function", .defstr = "none",
     .doc_type = "function", .doc_allowed = "`function(req)`",
     .desc = "Runs for every attempt of every request; returns headers that "
             "override the static ones; see "
             "[Dynamic headers](#dynamic-headers-headers_fn)."},
    {.name = "limits", .kind = K_TABLE, .sub = limits_keys,
     .desc = "Per-record limits on what callers send; see "
             "`limits.*` below and [operations](operations.md#limits)."},
    {.name = "lua", .kind = K_TABLE, .sub = lua_keys,
     .desc = "Limits of the connector's Lua state at run time; see "
             "[Limits](#limits)."},
    {0}};

static const sl_config_key tcp_keys[] = {
    {.name = "listen", .kind = K_STR, .store = S_STR, .off = TO(listen),
     .required = true, .check = sl_addr_check_listen, .doc_type = "string",
     .doc_allowed = "`host:port` or `[v6addr]:port`, port 1-65535; not the "
                    "gateway's `listen`, not another listener's",
     .desc = "Address the listener accepts connections on."},
    {.name = "connector", .kind = K_STR, .store = S_STR, .off = TO(connector),
     .required = true, .check = check_name, .doc_type = "string",
     .doc_allowed = "the `name` of a loaded connector",
     .desc = "Connector that every line goes to: the same schema, "
             "`transform`, spool and delivery as its HTTP intake."},
    {.name = "ack", .kind = K_BOOL, .store = S_BOOL, .off = TO(ack), .def = 0,
     .doc_type = "boolean",
     .desc = "Answer each line, in order: `ok` once it is durable (as the "
             "connector's `durability` says), or `error` and the reason; "
             "`false` answers nothing."},
    {.name = "allow", .kind = K_CUSTOM, .custom = parse_allow,
     .ltype = LUA_TTABLE, .what = "a list of addresses",
     .defstr = "`{ \"127.0.0.0/8\", \"::1\" }`", .doc_type = "list of strings",
     .doc_allowed = "1 to 1024 IPv4 or IPv6 addresses or CIDR blocks "
                    "(`\"10.0.0.0/8\"`)",
     .desc = "Peers that may connect; any other is closed at once. Leave it "
             "out for loopback only."},
    {.name = "max_line_bytes", .kind = K_INT, .store = S_SIZE,
     .off = TO(max_line_bytes), .def = MIB, .min = 64, .max = 64 * MIB,
     .unit = "bytes",
     .desc = "Longest line (one record, newline not counted); a longer one "
             "is skipped and logged as rejected."},
    {.name = "idle_timeout_s", .kind = K_INT, .store = S_UINT,
     .off = TO(idle_timeout_s), .def = 60, .min = 1, .max = 86400,
     .unit = "s", .desc = "A connection silent this long is closed."},
    {.name = "line_timeout_s", .kind = K_INT, .store = S_UINT,
     .off = TO(line_timeout_s), .def = 30, .min = 1, .max = 86400,
     .unit = "s",
     .desc = "A line must arrive whole within this long of its first byte; "
             "a client that trickles one (slowloris) is closed, the partial "
             "line logged as rejected. Waiting on a full spool does not "
             "count."},
    {.name = "max_connections", .kind = K_INT, .store = S_UINT,
     .off = TO(max_connections), .def = 1024, .min = 1, .max = 65536,
     .desc = "Connections open at once on this listener; more are closed "
             "as they arrive."},
    {0}};

/* The gateway's `tcp`: a list of listener tables. Every element gets its
 * slot (an empty one for an element that is not a table) so that the n-th
 * listener is tcp[n] in later messages. */
static void parse_tcp(pctx *p, int idx, void *target)
{
    sl_config_gw *gs = target;
    lua_State *L = p->L;
    char got[64], why[256];
    if (!idx || !check_list(p, idx, "{ { listen = \"127.0.0.1:5170\", "
                            "connector = \"events\" } }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n > TCP_MAX_LISTENERS) {
        sl_config_err(p, "%lld listeners; at most %d are allowed", (long long)n,
                   TCP_MAX_LISTENERS);
        return;
    }
    if (n == 0)
        return;
    if (!(gs->g.tcp = calloc((size_t)n, sizeof *gs->g.tcp))) {
        sl_config_err(p, "out of memory");
        return;
    }
    gs->g.ntcp = (size_t)n; /* anchored before anything can fail */
    for (lua_Integer i = 1; i <= n; i++) {
        sl_tcp_conf *t = &gs->g.tcp[i - 1];
        lua_rawgeti(L, idx, i);                    /* listener */
        sl_config_path_push(p, NULL, (long)i);
        if (!lua_istable(L, -1)) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(p, "expected a table like { listen = "
                       "\"127.0.0.1:5170\", connector = \"events\" }, got %s",
                       got);
        } else {
            sl_config_parse_table(p, -1, tcp_keys, t);
            if (t->listen &&
                sl_addr_parse_listen(t->listen, &t->host, &t->port, why, sizeof why)) {
                sl_config_path_push(p, "listen", 0);
                sl_config_err(p, "%s", why);
                sl_config_path_pop(p);
            }
        }
        sl_config_path_pop(p);
        lua_pop(L, 1);                             /* */
    }
}

const sl_config_key sl_config_gateway_keys[] = {
    {.name = "listen", .kind = K_STR, .store = S_STR, .off = GO(g.listen),
     .defstr = "127.0.0.1:8080", .check = sl_addr_check_listen, .doc_type = "string",
     .doc_allowed = "`host:port` or `[v6addr]:port`, port 1-65535",
     .desc = "Address of the intake HTTP server."},
    {.name = "state_dir", .kind = K_STR, .store = S_STR, .off = GO(g.state_dir),
     .defstr = "var", .check = check_nonempty, .doc_type = "string",
     .doc_allowed = "a directory path",
     .desc = "Where sluice keeps its state; a relative path is relative to "
             "the gateway file's directory."},
    {.name = "connectors", .kind = K_CUSTOM, .custom = parse_connectors,
     .ltype = LUA_TTABLE, .what = "a list of file names or patterns",
     .defstr = "`{ \"connectors/*.lua\" }`", .doc_type = "list of strings",
     .doc_allowed = "file names or glob(7) patterns",
     .desc = "Connector files, relative to the gateway file's directory, "
             "loaded in sorted order. A name without wildcards must exist; "
             "all patterns together must find at least one file."},
    {.name = "max_body_bytes", .kind = K_INT, .store = S_SIZE,
     .off = GO(g.max_body_bytes), .def = 8 * MIB, .min = KIB, .max = GIB,
     .unit = "bytes", .desc = "Largest intake request body."},
    {.name = "max_decompressed_bytes", .kind = K_INT, .store = S_SIZE,
     .off = GO(g.max_decompressed_bytes), .def = 64 * MIB, .min = KIB,
     .max = 4 * GIB, .unit = "bytes",
     .desc = "Largest intake body once a `Content-Encoding: gzip` body is "
             "inflated; past it the request gets 413 (a gzip bomb costs "
             "at most this much memory)."},
    {.name = "max_header_bytes", .kind = K_INT, .store = S_SIZE,
     .off = GO(g.max_header_bytes), .def = 64 * KIB, .min = KIB, .max = MIB,
     .unit = "bytes",
     .desc = "Largest request line plus headers of an intake request."},
    {.name = "max_connections", .kind = K_INT, .store = S_UINT,
     .off = GO(g.max_connections), .def = 1024, .min = 1, .max = 65536,
     .desc = "HTTP intake connections open at once; at the limit sluice "
             "stops accepting until one closes (new clients wait in the "
             "kernel's queue)."},
    {.name = "idle_timeout_s", .kind = K_INT, .store = S_UINT,
     .off = GO(g.idle_timeout_s), .def = 60, .min = 1, .max = 86400,
     .unit = "s",
     .desc = "An HTTP intake connection that sends nothing for this long "
             "(kept alive between requests, or stalled) is closed."},
    {.name = "request_timeout_s", .kind = K_INT, .store = S_UINT,
     .off = GO(g.request_timeout_s), .def = 30, .min = 1, .max = 86400,
     .unit = "s",
     .desc = "Time a client has to send one whole request (headers and "
             "body) from its first byte; a slower one (slowloris) is "
             "closed."},
    {.name = "tcp", .kind = K_CUSTOM, .custom = parse_tcp, .sub = tcp_keys,
     .ltype = LUA_TTABLE, .what = "a list of listener tables",
     .defstr = "none", .doc_type = "list of tables",
     .doc_allowed = "0 to 64 listeners; see `tcp[n].*` below",
     .desc = "Raw-TCP listeners, each taking NDJSON (one JSON record per "
             "line) into a connector; see [TCP listeners](#tcp-listeners)."},
    {0}};

/* ---- after the keys ------------------------------------------------------ */

void sl_config_connector_after(pctx *p, void *target)
{
    sl_config_conn *cs = target;
    sl_connector_conf *c = &cs->c;
    char err[256];
    if (c->retry_base_ms > c->retry_max_ms) {
        sl_config_path_push(p, "retry", 0);
        sl_config_path_push(p, "base_ms", 0);
        sl_config_err(p, "%u is greater than retry.max_ms (%u)", c->retry_base_ms,
                   c->retry_max_ms);
        sl_config_path_pop(p);
        sl_config_path_pop(p);
    }
    if (c->queue_max_bytes < c->batch_max_bytes) {
        sl_config_path_push(p, "queue_max_bytes", 0);
        sl_config_err(p, "%zu is less than batch.max_bytes (%zu)",
                   c->queue_max_bytes, c->batch_max_bytes);
        sl_config_path_pop(p);
    }
    c->lua_max_memory = cs->lua_max_memory_mb << 20;
    if (c->spool_segment_bytes > c->spool_max_bytes) {
        sl_config_path_push(p, "spool", 0);
        sl_config_path_push(p, "segment_bytes", 0);
        sl_config_err(p, "%zu is greater than spool.max_bytes (%zu)",
                   c->spool_segment_bytes, c->spool_max_bytes);
        p->depth -= 2;
    }
    if (!(c->schema = sl_schema_new((sl_unknown_policy)cs->unknown))) {
        sl_config_err(p, "out of memory");
        return;
    }
    for (size_t i = 0; i < cs->nfields && i < SL_SCHEMA_MAX_FIELDS; i++) {
        const sl_config_field *f = &cs->fields[i];
        if (f->bad)
            continue;
        if (sl_schema_add(c->schema, f->name, (sl_schema_type)f->type, f->nullable,
                          err, sizeof err) != 0) {
            sl_config_path_push(p, "schema", 0);
            sl_config_path_push(p, NULL, f->index);
            sl_config_path_push(p, "name", 0);
            sl_config_err(p, "%s", err);
            p->depth -= 3;
        }
    }
    sl_schema_limits lim = {.record_bytes = c->limit_record_bytes,
                            .string_bytes = c->limit_string_bytes,
                            .fields = c->limit_fields};
    sl_schema_set_limits(c->schema, &lim);
}

/* No two sockets may want the same address: a listener against the HTTP
 * intake and against the listeners before it. */
static void check_tcp_addresses(pctx *p, const sl_config_gw *gs)
{
    const sl_config *g = &gs->g;
    for (size_t i = 0; i < g->ntcp; i++) {
        const sl_tcp_conf *t = &g->tcp[i];
        int clash = 0;
        size_t j = 0;
        if (!t->host)
            continue;
        sl_config_path_push(p, "tcp", 0);
        sl_config_path_push(p, NULL, (long)i + 1);
        sl_config_path_push(p, "listen", 0);
        if (g->listen_host && (clash = sl_addr_listen_clash(t->host, t->port,
                                                    g->listen_host,
                                                    g->listen_port))) {
            if (clash == 1)
                sl_config_err(p, "\"%s\" is the address of the HTTP intake "
                           "(listen)", t->listen);
            else
                sl_config_err(p, "\"%s\" takes port %d on every address, also "
                           "that of the HTTP intake (listen \"%s\")",
                           t->listen, t->port, g->listen);
        }
        for (; !clash && j < i; j++) {
            const sl_tcp_conf *o = &g->tcp[j];
            if (!o->host ||
                !(clash = sl_addr_listen_clash(t->host, t->port, o->host, o->port)))
                continue;
            if (clash == 1)
                sl_config_err(p, "\"%s\" is already the address of tcp[%zu]",
                           t->listen, j + 1);
            else
                sl_config_err(p, "\"%s\" takes port %d on every address, also "
                           "that of tcp[%zu] (\"%s\")", t->listen, t->port,
                           j + 1, o->listen);
        }
        p->depth -= 3;
    }
}

void sl_config_gateway_after(pctx *p, void *target)
{
    sl_config_gw *gs = target;
    char why[256];
    if (gs->g.listen && sl_addr_parse_listen(gs->g.listen, &gs->g.listen_host,
                                     &gs->g.listen_port, why, sizeof why)) {
        sl_config_path_push(p, "listen", 0);
        sl_config_err(p, "%s", why);
        sl_config_path_pop(p);
    }
    check_tcp_addresses(p, gs);
    if (gs->g.state_dir && gs->g.state_dir[0] != '/' &&
        strcmp(gs->dir, ".") != 0) {
        char *full;
        if (asprintf(&full, "%s/%s", gs->dir, gs->g.state_dir) < 0) {
            sl_config_err(p, "out of memory");
            return;
        }
        free(gs->g.state_dir);
        gs->g.state_dir = full;
    }
}
