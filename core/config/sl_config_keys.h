/* sl_config_keys.h: private to the config module (sl_config.c, the loader;
 * sl_config_parse.c, the generic table-driven parser; sl_config_keys.c, the
 * key tables and their rules; sl_config_print.c, the reference and the
 * printout made from them). Not for other modules. */
#ifndef SL_CONFIG_KEYS_H
#define SL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include <lua.h>

#include "sl_config.h"
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

/* A schema field as read, before the schema is built. */
typedef struct sl_config_field {
    const char *name;  /* borrowed from Lua */
    int type;          /* sl_schema_type, -1 if invalid */
    bool nullable;
    long index;        /* position in the schema list, 1-based */
    bool bad;          /* had a problem: kept for duplicate checks only */
} sl_config_field;

/* Target of the connector keys. */
typedef struct sl_config_conn {
    sl_connector_conf c;
    int unknown;            /* sl_unknown_policy */
    size_t lua_max_memory_mb; /* lua.max_memory_mb; c.lua_max_memory in bytes */
    sl_config_field *fields;   /* owned array; names borrowed */
    size_t nfields, capfields;
} sl_config_conn;

/* Target of the gateway keys. */
typedef struct sl_config_gw {
    sl_config g;            /* the gateway keys and the listeners (owned
                               until copied whole into the loaded config;
                               file and connectors stay unset) */
    const char *dir;        /* the gateway file's directory */
    char **patterns;        /* owned; connector file patterns as written */
    long *pattern_index;    /* their 1-based positions in `connectors` */
    size_t npatterns, cappatterns;
} sl_config_gw;

extern const sl_config_key sl_config_gateway_keys[];
extern const sl_config_key sl_config_connector_keys[];
extern const sl_config_key sl_config_field_keys[];    /* one schema element */
extern const char *const sl_config_body_choices[];    /* by sl_body_form */
extern const char *const sl_config_unknown_choices[]; /* by sl_unknown_policy */
extern const char *const sl_config_durability_choices[]; /* by sl_durability */
extern const char *const sl_config_on_permanent_choices[]; /* SL_ON_PERMANENT_* */

/* Cross-key checks and derived values, after the keys are parsed. */
void sl_config_gateway_after(sl_config_ctx *p, void *target);
void sl_config_connector_after(sl_config_ctx *p, void *target);

/* From sl_config_parse.c. */
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
