/* sl_schema_def: the schema's structures and the name lookup, shared by the
 * files of the sl_schema module only (see sl_schema.h). */
#ifndef SL_SCHEMA_DEF_H
#define SL_SCHEMA_DEF_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sl_schema.h"

#define SL_SCHEMA_LINEAR_MAX 16 /* up to here a misplaced key is found by scan */
#define SL_SCHEMA_NOT_FOUND ((size_t)-1)

struct sl_schema_nest;

/* What one value must be: a field of a list (name set) or the items of an
 * array (name and prefix empty). */
typedef struct sl_schema_node sl_field;
struct sl_schema_node {
    sl_schema_type type;
    bool nullable;
    sl_schema_rules_set *rules; /* owned; NULL (most fields): none */
    unsigned char name_len;
    unsigned char prefix_len;
    char name[SL_SCHEMA_NAME_MAX + 1];   /* NUL-terminated */
    char prefix[SL_SCHEMA_NAME_MAX + 4]; /* ,"name": ready to copy out */
    struct sl_schema_nest *nest; /* OBJECT, ARRAY: the parts; else NULL */
    uint16_t slot; /* a field's value among the nested encoder's slots,
                      relative to its list's block */
};

/* The parts of an OBJECT or ARRAY value. */
typedef struct sl_schema_nest {
    sl_schema *fields;    /* OBJECT: the members (owned) */
    uint16_t base;        /* OBJECT: where the members' slots begin,
                             relative to the block of the list that holds
                             the field this value belongs to */
    sl_field item;        /* ARRAY: each item */
    size_t min_items;     /* ARRAY */
    size_t max_items;     /* ARRAY; SIZE_MAX: no limit */
} sl_schema_nest;

struct sl_schema {
    sl_unknown_policy policy;
    sl_schema_limits lim;  /* as set */
    sl_schema_limits max;  /* the same with "none" as SIZE_MAX: one
                              comparison each on the per-record path */
    sl_field *fields;
    size_t n, cap;
    uint16_t *slots; /* field index + 1 by name hash; NULL up to LINEAR_MAX */
    size_t nslots;   /* power of two, at least twice n */
    size_t total;    /* value slots of the nested encoder: these fields and
                        those of every object below them */
    int depth;       /* levels of objects and arrays below this list */
    bool nested;     /* a field of type OBJECT, ARRAY or JSON: the record
                        takes the nested encoder */
    sl_schema_post_fn post; /* the owner's check of an encoded record */
    const void *post_ud;
};

static inline uint32_t sl_schema_name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a 32 */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* a[0..n) == b[0..n), without a libc call: names are short, and this runs
 * for every key of every record. Reads stay inside both ranges. */
static inline bool sl_schema_same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        uint64_t x, y;
        for (size_t i = 0; i + 8 < n; i += 8) {
            memcpy(&x, a + i, 8);
            memcpy(&y, b + i, 8);
            if (x != y)
                return false;
        }
        memcpy(&x, a + n - 8, 8); /* the last 8, overlapping */
        memcpy(&y, b + n - 8, 8);
        return x == y;
    }
    if (n >= 4) {
        uint32_t x, y, z, w;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        memcpy(&z, a + n - 4, 4);
        memcpy(&w, b + n - 4, 4);
        return x == y && z == w;
    }
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

/* Index of the field named k[0..len), or SL_SCHEMA_NOT_FOUND. */
static inline size_t sl_schema_find(const sl_schema *s, const char *k, size_t len)
{
    if (s->slots) {
        size_t mask = s->nslots - 1;
        for (size_t h = sl_schema_name_hash(k, len) & mask;; h = (h + 1) & mask) {
            unsigned v = s->slots[h];
            if (v == 0)
                return SL_SCHEMA_NOT_FOUND;
            const sl_field *f = &s->fields[v - 1];
            if (f->name_len == len && sl_schema_same_bytes(f->name, k, len))
                return v - 1;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->fields[i].name_len == len &&
            sl_schema_same_bytes(s->fields[i].name, k, len))
            return i;
    return SL_SCHEMA_NOT_FOUND;
}

/* Index of the field named by key token k, or SL_SCHEMA_NOT_FOUND; for
 * keys that are not simply the next field in schema order. */
static inline size_t sl_schema_lookup(const sl_schema *s, const sl_json_token *k)
{
    if (!(k->flags & SL_JSON_F_ESCAPED))
        return sl_schema_find(s, k->p, k->len);
    char name[SL_SCHEMA_NAME_MAX];
    size_t n;
    if (sl_json_unescape_into(k->p, k->len, name, sizeof name, &n) != 0)
        return SL_SCHEMA_NOT_FOUND; /* longer than any field name */
    return sl_schema_find(s, name, n);
}

/* The nested encoder (sl_schema_nested.c): sl_schema_encode's contract,
 * for a schema with s->nested set. */
sl_schema_rc sl_schema_encode_nested(const sl_schema *s, sl_json *js,
                                     const sl_json_token *first, sl_buf *out,
                                     sl_schema_error *err);

#endif
