/* sl_config_schema: a connector's `schema` read into sl_config_field lists
 * (nested `fields` and `items` included, each field's rules, each problem
 * at its key path) and the sl_schema built from them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "sl_config_schema.h"
#include "sl_json.h"

#define COUNT_MAX 1000000000 /* min_items, max_items */

/* ---- field rules ------------------------------------------------------ */

/* Whether a rule for strings (or for integers and numbers) fits field f;
 * if not, says so at the rule's key. A field whose type is unknown has had
 * that reported: its rules are not read. */
static bool rule_fits(sl_config_parse_context *ctx, const sl_config_field *f,
                      bool for_strings)
{
    if (f->type < 0)
        return false;
    if (for_strings ? f->type == SL_TYPE_STRING
                    : f->type == SL_TYPE_INTEGER || f->type == SL_TYPE_NUMBER)
        return true;
    sl_config_err(ctx, "only for type = %s (this field is %s)",
                  for_strings ? "\"string\"" : "\"integer\" or \"number\"",
                  sl_schema_type_name((sl_schema_type)f->type));
    return false;
}

void sl_config_parse_field_bound(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_config_field *f = target;
    sl_schema_rules *r = &f->rules;
    bool is_min = strcmp(key->name, "min") == 0;
    char got[64];
    if (!idx || !rule_fits(ctx, f, false))
        return;
    if (f->type == SL_TYPE_INTEGER) {
        int isint = 0;
        lua_Integer v = lua_tointegerx(ctx->L, idx, &isint);
        if (!isint) {
            sl_config_describe(ctx->L, idx, got, sizeof got);
            sl_config_err(ctx, "expected an integer (64-bit) for an integer "
                          "field, got %s", got);
        } else if (is_min) {
            r->has_min = true;
            r->imin = v;
        } else {
            r->has_max = true;
            r->imax = v;
        }
        return;
    }
    double v = (double)lua_tonumber(ctx->L, idx);
    if (!isfinite(v)) {
        sl_config_describe(ctx->L, idx, got, sizeof got);
        sl_config_err(ctx, "expected a finite number, got %s", got);
    } else if (is_min) {
        r->has_min = true;
        r->nmin = v;
    } else {
        r->has_max = true;
        r->nmax = v;
    }
}

void sl_config_parse_field_length(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target)
{
    sl_config_field *f = target;
    int isint = 0;
    char got[64];
    if (!idx || !rule_fits(ctx, f, true))
        return;
    lua_Integer v = lua_tointegerx(ctx->L, idx, &isint);
    if (!isint) {
        sl_config_describe(ctx->L, idx, got, sizeof got);
        sl_config_err(ctx, "expected an integer, got %s", got);
    } else if (v < 0 || v > SL_SCHEMA_RULES_LENGTH_MAX) {
        sl_config_err(ctx, "%lld is out of range (0..%d characters)",
                      (long long)v, SL_SCHEMA_RULES_LENGTH_MAX);
    } else if (strcmp(key->name, "min_length") == 0) {
        f->rules.has_min_length = true;
        f->rules.min_length = (size_t)v;
    } else {
        f->rules.has_max_length = true;
        f->rules.max_length = (size_t)v;
    }
}

/* Nothing here allocates in Lua between the calloc and the array's
 * handover to the field (a Lua error would leak it): strings are taken
 * as they are, never converted. */
void sl_config_parse_field_enum(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx,
                                void *target)
{
    sl_config_field *f = target;
    lua_State *L = ctx->L;
    char got[64];
    (void)key;
    if (!idx || !rule_fits(ctx, f, true) ||
        !sl_config_check_list(ctx, idx, "{ \"new\", \"done\" }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0 || n > SL_SCHEMA_RULES_ENUM_MAX) {
        sl_config_err(ctx, "list 1 to %d values (%lld given)",
                      SL_SCHEMA_RULES_ENUM_MAX, (long long)n);
        return;
    }
    sl_schema_text *vals = calloc((size_t)n, sizeof *vals);
    bool ok = vals != NULL;
    if (!vals)
        sl_config_err(ctx, "out of memory");
    for (lua_Integer i = 1; vals && i <= n; i++) {
        size_t len = 0;
        lua_rawgeti(L, idx, i);                    /* value */
        sl_config_path_push(ctx, NULL, (long)i);
        const char *p =
            lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        lua_Integer same = 0;
        for (lua_Integer j = 1; p && j < i && !same; j++)
            if (vals[j - 1].p && vals[j - 1].len == len &&
                memcmp(vals[j - 1].p, p, len) == 0)
                same = j;
        if (!p) {
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a string, got %s", got);
        } else if (len > SL_SCHEMA_RULES_VALUE_MAX) {
            sl_config_err(ctx, "a value of %zu bytes; at most %d", len,
                          SL_SCHEMA_RULES_VALUE_MAX);
        } else if (!sl_json_utf8_valid(p, len)) {
            sl_config_err(ctx, "not valid UTF-8");
        } else if (same) {
            sl_config_err(ctx, "the same value as enum[%lld]",
                          (long long)same);
        } else {
            vals[i - 1] = (sl_schema_text){p, len}; /* borrowed from Lua */
            sl_config_path_pop(ctx);
            lua_pop(L, 1);                         /* */
            continue;
        }
        ok = false;
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
    if (!ok) {
        free(vals);
        return;
    }
    f->enums = vals;
    f->rules.enum_values = vals;
    f->rules.nenum = (size_t)n;
}

/* The checks across one field's rules, at the key of the first. */
static void check_field_rules(sl_config_parse_context *ctx,
                              const sl_config_field *f)
{
    const sl_schema_rules *r = &f->rules;
    if (r->has_min && r->has_max &&
        (f->type == SL_TYPE_INTEGER ? r->imin > r->imax : r->nmin > r->nmax)) {
        sl_config_path_push(ctx, "min", 0);
        if (f->type == SL_TYPE_INTEGER)
            sl_config_err(ctx, "%lld is greater than max (%lld)",
                          (long long)r->imin, (long long)r->imax);
        else
            sl_config_err(ctx, "%.15g is greater than max (%.15g)", r->nmin,
                          r->nmax);
        sl_config_path_pop(ctx);
    }
    if (r->has_min_length && r->has_max_length &&
        r->min_length > r->max_length) {
        sl_config_path_push(ctx, "min_length", 0);
        sl_config_err(ctx, "%zu is greater than max_length (%zu)",
                      r->min_length, r->max_length);
        sl_config_path_pop(ctx);
    }
}

/* A new element of list, zeroed but for what is given; NULL (reported)
 * when out of memory. */
static sl_config_field *list_add(sl_config_parse_context *ctx,
                                 sl_config_field_list *list, long index,
                                 int level)
{
    if (list->n == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        sl_config_field *grown = realloc(list->v, cap * sizeof *grown);
        if (!grown) {
            sl_config_err(ctx, "out of memory");
            return NULL;
        }
        list->v = grown;
        list->cap = cap;
    }
    sl_config_field *f = &list->v[list->n++];
    *f = (sl_config_field){.type = -1, .index = index, .level = level};
    return f;
}

/* After a field's keys: what they must be together. */
static void finish_field(sl_config_parse_context *ctx, sl_config_field *f)
{
    const char *missing = f->type == SL_TYPE_OBJECT && !f->has_fields
                              ? "type = \"object\" needs fields"
                          : f->type == SL_TYPE_ARRAY && !f->items
                              ? "type = \"array\" needs items"
                              : NULL;
    if (missing) {
        sl_config_path_push(ctx, "type", 0);
        sl_config_err(ctx, "%s", missing);
        sl_config_path_pop(ctx);
    }
    if (f->has_min_items && f->has_max_items &&
        f->min_items > f->max_items) {
        sl_config_path_push(ctx, "min_items", 0);
        sl_config_err(ctx, "%zu is greater than max_items (%zu)",
                      f->min_items, f->max_items);
        sl_config_path_pop(ctx);
    }
}

/* The list of field tables at idx into list, each with `keys`. */
static void parse_list(sl_config_parse_context *ctx, const sl_config_key *keys,
                       int idx, sl_config_field_list *list, int level)
{
    lua_State *L = ctx->L;
    if (!sl_config_check_list(ctx, idx, "{ { name = \"id\", type = "
                                        "\"integer\" } }"))
        return;
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    if (n == 0)
        sl_config_err(ctx, "must list at least one field");
    if (n > SL_SCHEMA_MAX_FIELDS) {
        sl_config_err(ctx, "%lld fields; at most %d are allowed", (long long)n,
                      SL_SCHEMA_MAX_FIELDS);
        n = SL_SCHEMA_MAX_FIELDS + 1; /* the rest is not read */
    }
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);                    /* field */
        sl_config_path_push(ctx, NULL, (long)i);
        sl_config_field *f;
        if (!lua_istable(L, -1)) {
            char got[64];
            sl_config_describe(L, -1, got, sizeof got);
            sl_config_err(ctx, "expected a table like { name = \"id\", type = "
                          "\"integer\" }, got %s", got);
        } else if ((f = list_add(ctx, list, (long)i, level))) {
            size_t before = ctx->nproblems;
            sl_config_parse_table(ctx, -1, keys, f);
            finish_field(ctx, f);
            check_field_rules(ctx, f);
            for (size_t k = 0; f->name && k + 1 < list->n; k++)
                if (list->v[k].name && strcmp(list->v[k].name, f->name) == 0) {
                    sl_config_path_push(ctx, "name", 0);
                    sl_config_err(ctx, "duplicate field \"%s\"", f->name);
                    sl_config_path_pop(ctx);
                    break;
                }
            f->bad = ctx->nproblems != before || !f->name;
        }
        sl_config_path_pop(ctx);
        lua_pop(L, 1);                             /* */
    }
}

void sl_config_parse_schema(sl_config_parse_context *ctx,
                            const sl_config_key *key, int idx, void *target)
{
    if (idx)
        parse_list(ctx, key->sub, idx,
                   (sl_config_field_list *)((char *)target + key->off), 0);
}

void sl_config_parse_field_type(sl_config_parse_context *ctx,
                                const sl_config_key *key, int idx, void *target)
{
    sl_config_field *f = target;
    const char *names[SL_TYPE__COUNT], *s;
    char valid[160] = "";
    size_t n = 0;
    (void)key;
    if (!idx)
        return;
    s = lua_tostring(ctx->L, idx);
    if ((f->type = sl_schema_type_from_name(s)) >= 0)
        return;
    for (int t = 0; t < SL_TYPE__COUNT; t++) {
        names[t] = sl_schema_type_name((sl_schema_type)t);
        n += (size_t)snprintf(valid + n, sizeof valid - n, "%s%s",
                              t ? ", " : "", names[t]);
    }
    const char *suggestion = sl_config_suggest(s, names, SL_TYPE__COUNT);
    if (suggestion)
        sl_config_err(ctx, "unknown type \"%.40s\" (did you mean \"%s\"? "
                      "valid: %s)", s, suggestion, valid);
    else
        sl_config_err(ctx, "unknown type \"%.40s\" (valid: %s)", s, valid);
}

/* Whether key (fields, items, min_items, max_items) fits field f, whose
 * type was read before it; if not, says so. An unknown type has been
 * reported already. */
static bool part_fits(sl_config_parse_context *ctx, const sl_config_key *key,
                      const sl_config_field *f, sl_schema_type want)
{
    if (f->type < 0)
        return false;
    if (f->type != (int)want) {
        sl_config_err(ctx, "%s is only for type = \"%s\" (this field is %s)",
                      key->name, sl_schema_type_name(want),
                      sl_schema_type_name((sl_schema_type)f->type));
        return false;
    }
    if (want != SL_TYPE_ARRAY || key->name[0] == 'i') { /* a level down */
        if (f->level + 1 > SL_SCHEMA_MAX_DEPTH) {
            sl_config_err(ctx, "nesting deeper than %d levels",
                          SL_SCHEMA_MAX_DEPTH);
            return false;
        }
    }
    return true;
}

void sl_config_parse_field_fields(sl_config_parse_context *ctx,
                                  const sl_config_key *key, int idx,
                                  void *target)
{
    sl_config_field *f = target;
    if (!idx)
        return;
    f->has_fields = true;
    if (part_fits(ctx, key, f, SL_TYPE_OBJECT))
        parse_list(ctx, key->sub, idx, &f->fields, f->level + 1);
}

void sl_config_parse_field_items(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_config_field *f = target;
    if (!idx || !part_fits(ctx, key, f, SL_TYPE_ARRAY))
        return;
    if (!(f->items = calloc(1, sizeof *f->items))) {
        sl_config_err(ctx, "out of memory");
        return;
    }
    sl_config_field *it = f->items;
    *it = (sl_config_field){.type = -1, .level = f->level + 1};
    size_t before = ctx->nproblems;
    sl_config_parse_table(ctx, idx, key->sub, it);
    finish_field(ctx, it);
    check_field_rules(ctx, it);
    it->bad = ctx->nproblems != before;
}

void sl_config_parse_field_count(sl_config_parse_context *ctx,
                                 const sl_config_key *key, int idx,
                                 void *target)
{
    sl_config_field *f = target;
    bool is_min = strcmp(key->name, "min_items") == 0;
    int isint = 0;
    if (!idx || !part_fits(ctx, key, f, SL_TYPE_ARRAY))
        return;
    lua_Integer v = lua_tointegerx(ctx->L, idx, &isint);
    if (!isint || v < (is_min ? 0 : 1) || v > COUNT_MAX) {
        char got[64];
        sl_config_describe(ctx->L, idx, got, sizeof got);
        sl_config_err(ctx, "expected an integer from %d to %d, got %s",
                      is_min ? 0 : 1, COUNT_MAX, got);
    } else if (is_min) {
        f->min_items = (size_t)v;
        f->has_min_items = true;
    } else {
        f->max_items = (size_t)v;
        f->has_max_items = true;
    }
}

static void free_field(sl_config_field *f)
{
    free(f->enums);
    sl_config_schema_free(&f->fields);
    if (f->items) {
        free_field(f->items);
        free(f->items);
    }
}

void sl_config_schema_free(sl_config_field_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        free_field(&list->v[i]);
    free(list->v);
    *list = (sl_config_field_list){NULL, 0, 0};
}

/* ---- the schema -------------------------------------------------------- */

static sl_schema *build_list(sl_config_parse_context *ctx,
                             const sl_config_field_list *list,
                             sl_unknown_policy policy);

/* v (and the chain below it, in chain[]) from f; false when a part could
 * not be built (what was built is in v, for sl_schema_add_value to take). */
static bool build_value(sl_config_parse_context *ctx, const sl_config_field *f,
                        sl_unknown_policy policy, sl_schema_value *v,
                        sl_schema_value *chain, int left)
{
    *v = (sl_schema_value){.type = (sl_schema_type)f->type,
                           .nullable = f->nullable,
                           .rules = sl_schema_rules_empty(&f->rules)
                                        ? NULL : &f->rules,
                           .min_items = f->min_items,
                           .max_items = f->max_items};
    if (f->type == SL_TYPE_OBJECT) {
        sl_config_path_push(ctx, "fields", 0);
        v->fields = build_list(ctx, &f->fields, policy);
        sl_config_path_pop(ctx);
        return v->fields != NULL;
    }
    if (f->type == SL_TYPE_ARRAY && f->items && left > 0) {
        v->items = chain;
        sl_config_path_push(ctx, "items", 0);
        bool ok = build_value(ctx, f->items, policy, chain, chain + 1,
                              left - 1);
        sl_config_path_pop(ctx);
        return ok;
    }
    return f->type != SL_TYPE_ARRAY;
}

static sl_schema *build_list(sl_config_parse_context *ctx,
                             const sl_config_field_list *list,
                             sl_unknown_policy policy)
{
    char err[256];
    sl_schema *s = sl_schema_new(policy);
    if (!s) {
        sl_config_err(ctx, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < list->n && i < SL_SCHEMA_MAX_FIELDS; i++) {
        const sl_config_field *f = &list->v[i];
        if (f->bad)
            continue;
        sl_schema_value v, chain[SL_SCHEMA_MAX_DEPTH + 1];
        sl_config_path_push(ctx, NULL, f->index);
        bool ok = build_value(ctx, f, policy, &v, chain, SL_SCHEMA_MAX_DEPTH);
        if (!ok) /* reported; the parts built are freed by the add */
            v = (sl_schema_value){.type = SL_TYPE__COUNT, .fields = v.fields,
                                  .items = v.items};
        if (sl_schema_add_value(s, f->name, &v, err, sizeof err) != 0 && ok) {
            /* what is wrong with the name at its key, the rest at the
             * field's */
            bool name = strncmp(err, "field name", 10) == 0 ||
                        strncmp(err, "duplicate", 9) == 0;
            sl_config_path_push(ctx, name ? "name" : NULL, 0);
            if (name)
                sl_config_err(ctx, "%s", err);
            sl_config_path_pop(ctx);
            if (!name)
                sl_config_err(ctx, "%s", err);
        }
        sl_config_path_pop(ctx);
    }
    return s;
}

sl_schema *sl_config_schema_build(sl_config_parse_context *ctx,
                                  const sl_config_field_list *list,
                                  sl_unknown_policy policy)
{
    sl_config_path_push(ctx, "schema", 0);
    sl_schema *s = build_list(ctx, list, policy);
    sl_config_path_pop(ctx);
    return s;
}
