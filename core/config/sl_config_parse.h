/* sl_config_parse: the generic parser of configuration tables, driven by
 * tables of sl_config_key (sluice's are in sl_config_keys.c): types,
 * ranges, defaults, unknown keys with "did you mean"; and the problems of
 * one file, each at the line of its key. Private to the config module. */
#ifndef SL_CONFIG_PARSE_H
#define SL_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "sl_config_errors.h"
#include "sl_luasrc.h"

/* A problem found in one file, before the file's problems are sorted by
 * line. */
typedef struct sl_config_problem {
    int line;    /* 0: unknown */
    size_t seq;  /* order of discovery, for a stable sort */
    char *msg;   /* the complete one-line message */
} sl_config_problem;

/* Key path segments kept: schema[1].fields[2]... down 8 levels of nested
 * fields and items, with room to spare. */
#define SL_CONFIG_PATH_MAX 32

/* The state of parsing one file. The caller fills file, src and L and
 * frees src, L and problems (after sl_config_flush_problems). */
typedef struct sl_config_parse_context {
    const char *file;       /* path as shown in messages */
    sl_luasrc *src;         /* for the line of a key path; may be NULL */
    lua_State *L;           /* the file's sandbox */
    unsigned long long text_hash; /* FNV-1a of the file's text as run */
    char *text;             /* owned: the file's text as run */
    size_t text_len;
    sl_luasrc_seg path[SL_CONFIG_PATH_MAX]; /* key path of the value being
                               parsed */
    size_t depth;           /* may exceed SL_CONFIG_PATH_MAX; deeper segments
                               are not kept */
    sl_config_problem *problems; /* owned array */
    size_t nproblems, capproblems;
} sl_config_parse_context;

typedef enum sl_config_kind {
    SL_CONFIG_STRING,  /* string, optional check function */
    SL_CONFIG_INTEGER, /* integer (or integral float) within min..max */
    SL_CONFIG_BOOLEAN,
    SL_CONFIG_ENUM,    /* one of choices, case-insensitive */
    SL_CONFIG_TABLE,   /* nested keys in `sub`, stored in the same target */
    SL_CONFIG_CUSTOM   /* `custom` parses it (value index, or 0: absent) */
} sl_config_kind;

/* How a parsed value is stored at the key's offset in the target. */
typedef enum sl_config_store {
    SL_CONFIG_STORE_NONE,
    SL_CONFIG_STORE_STRING,   /* char *, owned (strdup) */
    SL_CONFIG_STORE_BORROWED, /* const char *, borrowed from Lua while the
                                 table is alive */
    SL_CONFIG_STORE_SIZE,     /* size_t */
    SL_CONFIG_STORE_UNSIGNED, /* unsigned */
    SL_CONFIG_STORE_ULONG,    /* unsigned long */
    SL_CONFIG_STORE_INT,      /* int (also enum indexes) */
    SL_CONFIG_STORE_BOOL      /* bool */
} sl_config_store;

/* One key: everything that parses, defaults and documents it. A table of
 * keys ends with an element whose name is NULL. */
typedef struct sl_config_key {
    const char *name;
    sl_config_kind kind;
    sl_config_store store;
    size_t off;                 /* offset of the field in the target */
    bool required;
    long long def;              /* INTEGER/BOOLEAN value, ENUM index */
    const char *defstr;         /* STRING default; CUSTOM default (doc) */
    long long min, max;         /* INTEGER range (max LLONG_MAX: none) */
    const char *unit;           /* INTEGER: "bytes", "ms" */
    const char *const *choices; /* ENUM, NULL-terminated, canonical */
    int (*check)(const char *v, char *why, size_t n); /* STRING: 0 if v
                                   is good, else -1 and why it is not */
    void (*custom)(struct sl_config_parse_context *ctx,
                   const struct sl_config_key *key, int idx, void *target);
    int ltype;                  /* CUSTOM: Lua type expected;
                                   LUA_TNONE: the custom parser checks */
    const char *what;           /* CUSTOM: "a table", "a string" */
    const struct sl_config_key *sub; /* TABLE: the nested keys; CUSTOM: the
                                   keys of each element of a list of
                                   tables, which the custom parser gets
                                   through its key and the reference shows
                                   as rows like tcp[n].listen */
    bool doc_sub_apart;         /* CUSTOM: the reference shows `sub` in a
                                   table of its own (schema fields) */
    bool doc_sub_one;           /* CUSTOM: `sub` are the keys of one table
                                   (rows like body.form), not of each
                                   element of a list */
    bool secret;                /* STRING: a password; no message shows
                                   the value (of a wrong type either) */
    const char *doc_type;       /* type as the reference shows it */
    const char *doc_allowed;    /* STRING/CUSTOM: allowed values */
    const char *desc;
} sl_config_key;

/* Report a problem with the value at the current key path, as
 * "file:line: key.path: what" (no line when none is known). Out of memory,
 * the problem is lost. */
void sl_config_err(sl_config_parse_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* *path (malloc'd, may be NULL) made relative to `dir`: replaced by
 * "dir/path" ("/path" when dir is "/") unless it is absolute or dir is NULL, "" or "."; out of
 * memory, an error and *path unchanged. */
void sl_config_resolve_path(sl_config_parse_context *ctx, const char *dir,
                            char **path);

struct sl_connector_conf;

/* A WARNING about connector c for `sluice check` and the start: kept, as
 * "connector NAME (file): what", in c->warnings (owned by c). Out of
 * memory, an error instead. */
void sl_config_warn(sl_config_parse_context *ctx, struct sl_connector_conf *c,
                    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Add a complete message (malloc'd; taken, NULL ignored) at `line` (0:
 * unknown, sorted last). */
void sl_config_add_problem(sl_config_parse_context *ctx, int line, char *msg);

/* Move the file's problems to `errs`, in line order (problems of one line
 * in the order found); afterwards ctx has none, its array stays for the
 * caller to free. */
void sl_config_flush_problems(sl_config_parse_context *ctx,
                              sl_config_errors *errs);

/* Enter and leave one step of the key path that messages name: a string
 * key, or (key NULL) the index-th element of a list. */
void sl_config_path_push(sl_config_parse_context *ctx, const char *key,
                         long index);
void sl_config_path_pop(sl_config_parse_context *ctx);

/* Parse the Lua table at stack index idx with `keys` into target: every
 * key is stored (given, or its default), every problem reported; unknown
 * keys are reported with a "did you mean". The stack is left as it was.
 * [-0, +0, m] */
void sl_config_parse_table(sl_config_parse_context *ctx, int idx,
                           const sl_config_key *keys, void *target);

/* Parse the value at the top of the stack (nil: absent) for the one key
 * `key` into target, as sl_config_parse_table does for each of its keys:
 * stored (given, or its default), every problem reported at the current
 * key path. [-0, +0, m] */
void sl_config_parse_value(sl_config_parse_context *ctx,
                           const sl_config_key *key, void *target);

/* Whether every key of the table at idx is 1..#t, as in a list; if not,
 * reports "expected a list like <example>, found the key ..." once and
 * returns false. [-0, +0, -] */
bool sl_config_check_list(sl_config_parse_context *ctx, int idx,
                          const char *example);

/* The candidate closest to `word` (case-insensitive edit distance, or a
 * clear prefix of 3 characters or more), or NULL if none is close. */
const char *sl_config_suggest(const char *word, const char *const *candidates,
                              size_t n);

/* Write into out (n bytes) what the value at idx is, for messages:
 * "string \"10s\"", "number 3", "boolean true", "table". [-0, +0, -] */
void sl_config_describe(lua_State *L, int idx, char *out, size_t n);

/* strdup, reporting "out of memory" at the current key on failure (and
 * then returning NULL). The caller owns the copy. */
char *sl_config_strdup(sl_config_parse_context *ctx, const char *s);

#endif
