/* sl_config_parse: the generic parser of configuration tables, driven by
 * tables of sl_config_key (sl_config_keys.c has sluice's), and the
 * problems of one file, each at the line of its key. Private to the
 * config module. */
#ifndef SL_CONFIG_PARSE_H
#define SL_CONFIG_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "sl_config_errors.h"
#include "sl_luasrc.h"

/* Problems found in one file, before they are sorted by line. */
typedef struct sl_config_ferr {
    int line;    /* 0: unknown */
    size_t seq;  /* order of discovery, for a stable sort */
    char *msg;   /* the complete one-line message */
} sl_config_ferr;

/* Parse state of one file. */
typedef struct sl_config_ctx {
    const char *file;       /* path as shown in messages */
    sl_luasrc *src;         /* for the line of a key path; may be NULL */
    lua_State *L;           /* the file's sandbox */
    sl_luasrc_seg path[8];  /* key path of the value being parsed */
    size_t depth;
    sl_config_ferr *errs;      /* owned */
    size_t nerr, caperr;
} sl_config_ctx;

typedef enum sl_config_kind {
    K_STR,    /* string, optional check function */
    K_INT,    /* integer (or integral float) within min..max */
    K_BOOL,
    K_ENUM,   /* one of choices, case-insensitive */
    K_TABLE,  /* nested keys in `sub`, stored in the same target */
    K_CUSTOM  /* `custom` parses it (value index, or 0 for "absent") */
} sl_config_kind;

typedef enum sl_config_store {
    S_NONE,
    S_STR,   /* char *, owned (strdup) */
    S_LSTR,  /* const char *, borrowed from Lua while the table is alive */
    S_SIZE,  /* size_t */
    S_UINT,  /* unsigned */
    S_ULONG, /* unsigned long */
    S_INT,   /* int (also enum indexes) */
    S_BOOL   /* bool */
} sl_config_store;

/* One key: everything that parses, defaults and documents it. */
typedef struct sl_config_key {
    const char *name;
    sl_config_kind kind;
    sl_config_store store;
    size_t off;                   /* offset of the field in the target */
    bool required;
    long long def;                /* K_INT/K_BOOL value, K_ENUM index */
    const char *defstr;           /* K_STR default; K_CUSTOM default (doc) */
    long long min, max;           /* K_INT range (max LLONG_MAX: none) */
    const char *unit;             /* K_INT: "bytes", "ms" */
    const char *const *choices;   /* K_ENUM, NULL-terminated, canonical */
    int (*check)(const char *v, char *why, size_t n); /* K_STR */
    void (*custom)(sl_config_ctx *p, int idx, void *target);
    int ltype;                    /* K_CUSTOM: Lua type expected;
                                     LUA_TNONE: the parser checks */
    const char *what;             /* K_CUSTOM: "a table", "a string" */
    const struct sl_config_key *sub; /* K_TABLE; K_CUSTOM: the keys of each
                                     element of a list of tables, for the
                                     reference (the custom parser uses
                                     them itself) */
    const char *doc_type;         /* type as the reference shows it */
    const char *doc_allowed;      /* K_STR/K_CUSTOM: allowed values */
    const char *desc;
} sl_config_key;

void sl_config_err(sl_config_ctx *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Add a complete message (malloc'd; taken, NULL ignored) at `line`. */
void sl_config_problem(sl_config_ctx *p, int line, char *msg);
/* Move the file's problems, in line order, to `errs`. */
void sl_config_flush(sl_config_ctx *p, sl_config_errors *errs);
void sl_config_path_push(sl_config_ctx *p, const char *key, long index);
void sl_config_path_pop(sl_config_ctx *p);
void sl_config_parse_table(sl_config_ctx *p, int idx, const sl_config_key *keys,
                        void *target);
const char *sl_config_suggest(const char *word, const char *const *cands,
                           size_t n);
void sl_config_describe(lua_State *L, int idx, char *out, size_t n);
char *sl_config_strdup(sl_config_ctx *p, const char *s);

#endif
