/* sl_config_keys.h: private to the config module (sl_config.c, the loader;
 * sl_config_parse.c, the generic table-driven parser; sl_config_keys.c, the
 * key tables and their rules; sl_config_print.c, the reference and the
 * printout made from them). Not for other modules. */
#ifndef SL_CONFIG_KEYS_H
#define SL_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_config.h"
#include "sl_config_parse.h"

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

#endif
