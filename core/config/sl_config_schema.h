/* sl_config_schema: a connector's `schema` list as read (fields, nested
 * field lists and array items, at the line of their keys) and the sl_schema
 * made from it. Private to the config module. */
#ifndef SL_CONFIG_SCHEMA_H
#define SL_CONFIG_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_config_parse.h"
#include "sl_schema.h"

struct sl_config_field;

/* A list of fields being read, in an owned array. */
typedef struct sl_config_field_list {
    struct sl_config_field *v;
    size_t n, cap;
} sl_config_field_list;

/* A schema field as read, before the schema is built; also the `items` of
 * an array (name NULL). Kept in its list before its keys are read, so that
 * what it owns is anchored when a Lua error cuts the parse short. */
typedef struct sl_config_field {
    const char *name;  /* borrowed from Lua */
    int type;          /* sl_schema_type, -1 if invalid */
    bool nullable;
    long index;        /* position in its list, 1-based */
    bool bad;          /* had a problem: kept for duplicate checks only */
    int level;         /* objects and arrays above it (0: in `schema`) */
    sl_config_field_list fields;   /* `fields` (object) */
    bool has_fields;               /* the key was given */
    struct sl_config_field *items; /* `items` (array): owned, one */
    size_t min_items, max_items;   /* max 0: none */
    bool has_min_items, has_max_items;
    sl_schema_rules rules;  /* enum, min/max, min_length/max_length as read;
                               enum_values is `enums` */
    sl_schema_text *enums;  /* owned array; the strings borrowed from Lua */
} sl_config_field;

/* schema: a list of 1 to SL_SCHEMA_MAX_FIELDS field tables, each parsed
 * with key->sub into the sl_config_field_list at key->off of the target
 * (duplicates reported); the schema itself is built by
 * sl_config_schema_build. */
void sl_config_parse_schema(sl_config_parse_context *ctx,
                            const sl_config_key *key, int idx, void *target);
/* A field's type: a name of sl_schema_type into sl_config_field's type,
 * with a "did you mean" when unknown. */
void sl_config_parse_field_type(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target);
/* fields (type = "object"): a list of field tables (keys: key->sub), as
 * `schema` is, one level deeper; items (type = "array"): one table of
 * key->sub (the field keys but `name`);
 * min_items/max_items (type = "array"). Each reports its key on another
 * type or past SL_SCHEMA_MAX_DEPTH levels. */
void sl_config_parse_field_fields(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target);
void sl_config_parse_field_items(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);
void sl_config_parse_field_count(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);

/* A schema field's rules (target: sl_config_field, whose type is read
 * first): `min`/`max` (integer fields: integers in int64; number fields:
 * finite numbers), `min_length`/`max_length` (string fields: 0 to
 * SL_SCHEMA_RULES_LENGTH_MAX code points) and `enum` (string fields: 1 to
 * SL_SCHEMA_RULES_ENUM_MAX distinct UTF-8 strings; the array is owned by
 * the field). A rule for another type is reported at its key. In `items`
 * they hold for each item. */
void sl_config_parse_field_bound(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target);
void sl_config_parse_field_length(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target);
void sl_config_parse_field_enum(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target);

/* Free what the list owns (enum arrays, the nested lists and items, all
 * the way down)
 * and the list's array; the list is then empty. Accepts an empty list. */
void sl_config_schema_free(sl_config_field_list *list);

/* The schema of the fields read (those with problems left out), with
 * `policy` at every object level. Problems of building it are reported at
 * the field's key path under `schema`. NULL when out of memory (reported). */
sl_schema *sl_config_schema_build(sl_config_parse_context *ctx,
                                  const sl_config_field_list *list,
                                  sl_unknown_policy policy);

#endif
