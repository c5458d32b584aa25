/* sl_schema_fields: a schema's field lists (nested ones included), what
 * they say read back, and the fingerprint of the schema lock. */
#include "sl_schema_def.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_err.h"

static const char *const type_names[SL_TYPE__COUNT] = {
    "string", "integer", "number", "boolean", "date", "datetime",
    "object", "array", "json"};

const char *sl_schema_type_name(sl_schema_type t)
{
    return (unsigned)t < SL_TYPE__COUNT ? type_names[t] : "unknown";
}

int sl_schema_type_from_name(const char *name)
{
    for (int i = 0; name && i < SL_TYPE__COUNT; i++)
        if (strcmp(name, type_names[i]) == 0)
            return i;
    return -1;
}

/* ---- building ---------------------------------------------------------- */

sl_schema *sl_schema_new(sl_unknown_policy policy)
{
    sl_schema *s = calloc(1, sizeof *s);
    if (s) {
        s->policy = policy;
        sl_schema_set_limits(s, &(sl_schema_limits){
                                    .record_bytes = SL_SCHEMA_DEF_RECORD_BYTES,
                                    .string_bytes = SL_SCHEMA_DEF_STRING_BYTES,
                                    .fields = SL_SCHEMA_DEF_FIELDS});
    }
    return s;
}

static size_t cap_of(size_t limit)
{
    return limit ? limit : SIZE_MAX;
}

void sl_schema_set_limits(sl_schema *s, const sl_schema_limits *lim)
{
    s->lim = *lim;
    s->max = (sl_schema_limits){.record_bytes = cap_of(lim->record_bytes),
                                .string_bytes = cap_of(lim->string_bytes),
                                .fields = cap_of(lim->fields)};
}

const sl_schema_limits *sl_schema_get_limits(const sl_schema *s)
{
    return &s->lim;
}

static void free_node(sl_field *f)
{
    sl_schema_rules_free(f->rules);
    if (!f->nest)
        return;
    free_node(&f->nest->item);
    sl_schema_free(f->nest->fields);
    free(f->nest);
}

void sl_schema_free(sl_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free_node(&s->fields[i]);
    free(s->fields);
    free(s->slots);
    free(s);
}

size_t sl_schema_nfields(const sl_schema *s) { return s->n; }
const char *sl_schema_field_name(const sl_schema *s, size_t i)
{
    return s->fields[i].name;
}
sl_schema_type sl_schema_field_type(const sl_schema *s, size_t i)
{
    return s->fields[i].type;
}
bool sl_schema_field_nullable(const sl_schema *s, size_t i)
{
    return s->fields[i].nullable;
}
sl_unknown_policy sl_schema_policy(const sl_schema *s) { return s->policy; }
int sl_schema_depth(const sl_schema *s) { return s->depth; }

const sl_schema_node *sl_schema_field(const sl_schema *s, size_t i)
{
    return &s->fields[i];
}
sl_schema_type sl_schema_node_type(const sl_schema_node *n) { return n->type; }
bool sl_schema_node_nullable(const sl_schema_node *n) { return n->nullable; }
const sl_schema *sl_schema_node_fields(const sl_schema_node *n)
{
    return n->type == SL_TYPE_OBJECT ? n->nest->fields : NULL;
}
const sl_schema_node *sl_schema_node_items(const sl_schema_node *n)
{
    return n->type == SL_TYPE_ARRAY ? &n->nest->item : NULL;
}
size_t sl_schema_node_min_items(const sl_schema_node *n)
{
    return n->type == SL_TYPE_ARRAY ? n->nest->min_items : 0;
}
const sl_schema_rules_set *sl_schema_node_rules(const sl_schema_node *n)
{
    return n->rules;
}
size_t sl_schema_node_max_items(const sl_schema_node *n)
{
    return n->type == SL_TYPE_ARRAY && n->nest->max_items != SIZE_MAX
               ? n->nest->max_items : 0;
}

/* Index the first n fields into a new table; 0, or -1 (nothing changed). */
static int rebuild_slots(sl_schema *s, size_t n)
{
    size_t ns = 64;
    while (ns < 2 * n)
        ns *= 2;
    uint16_t *slots = calloc(ns, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < n; i++) {
        const sl_field *f = &s->fields[i];
        size_t h = sl_schema_name_hash(f->name, f->name_len) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = (uint16_t)(i + 1);
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = ns;
    return 0;
}

/* The name with bytes that would garble a message shown as '?'. */
static void printable(char *dst, size_t cap, const char *name, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 1 < cap; i++) {
        unsigned char c = (unsigned char)name[i];
        dst[i] = (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) ? '?'
                                                                  : (char)c;
    }
    dst[i] = '\0';
}

/* Free every field list reachable from v (what add_value takes). */
static void drop_value(const sl_schema_value *v)
{
    for (int d = 0; v && d <= SL_SCHEMA_MAX_DEPTH + 1; v = v->items, d++)
        sl_schema_free(v->fields);
}

/* Check the chain v, v->items, ... of what field `shown` may hold:
 * 0 with its nesting depth and value slots, or -1 with err set. */
static int check_value_parts(const sl_schema_value *v, const char *shown,
                             int *depth, size_t *slots, char *err,
                             size_t errlen)
{
    *depth = 0;
    *slots = 1;
    for (const sl_schema_value *p = v;; p = p->items) {
        if ((unsigned)p->type >= SL_TYPE__COUNT)
            return sl_err_fail(err, errlen, "field \"%s\": unknown type %d",
                            shown, (int)p->type);
        const char *tn = type_names[p->type];
        if (p->type == SL_TYPE_OBJECT && !p->fields)
            return sl_err_fail(err, errlen, "field \"%s\": type object needs "
                            "fields", shown);
        if (p->type != SL_TYPE_OBJECT && p->fields)
            return sl_err_fail(err, errlen, "field \"%s\": fields are only for "
                            "type object, not %s", shown, tn);
        if (p->type == SL_TYPE_ARRAY && !p->items)
            return sl_err_fail(err, errlen, "field \"%s\": type array needs "
                            "items", shown);
        if (p->type != SL_TYPE_ARRAY && (p->items || p->min_items ||
                                         p->max_items))
            return sl_err_fail(err, errlen, "field \"%s\": items, min_items and "
                            "max_items are only for type array, not %s",
                            shown, tn);
        if (p->type == SL_TYPE_ARRAY && p->max_items &&
            p->min_items > p->max_items)
            return sl_err_fail(err, errlen, "field \"%s\": min_items (%zu) is "
                            "greater than max_items (%zu)", shown,
                            p->min_items, p->max_items);
        if (p->type == SL_TYPE_OBJECT) {
            *depth += 1 + p->fields->depth;
            *slots += p->fields->total;
        } else if (p->type == SL_TYPE_ARRAY) {
            *depth += 1;
        }
        if (*depth > SL_SCHEMA_MAX_DEPTH)
            return sl_err_fail(err, errlen, "field \"%s\": nesting deeper than %d "
                            "levels", shown, SL_SCHEMA_MAX_DEPTH);
        if (p->type != SL_TYPE_ARRAY)
            return 0;
    }
}

/* Fill node f (name and prefix already set) from the chain v, with the
 * nests in `nests` (one per OBJECT or ARRAY level, allocated) and the
 * rules of each level in `rules`. The field lists and rules are taken. */
static void fill_node(sl_field *f, const sl_schema_value *v,
                      sl_schema_nest **nests, sl_schema_rules_set **rules,
                      uint16_t base)
{
    for (;; v = v->items, f = &f->nest->item) {
        f->type = v->type;
        f->nullable = v->nullable;
        f->rules = *rules++;
        f->nest = NULL;
        if (v->type != SL_TYPE_OBJECT && v->type != SL_TYPE_ARRAY)
            return;
        sl_schema_nest *nest = f->nest = *nests++;
        if (v->type == SL_TYPE_OBJECT) {
            nest->fields = v->fields;
            nest->base = base;
            return;
        }
        nest->min_items = v->min_items;
        nest->max_items = v->max_items ? v->max_items : SIZE_MAX;
        memset(&nest->item, 0, sizeof nest->item);
    }
}

/* Field `shown` of `type`'s rules r compiled into *set (NULL: none). 0, or
 * -1 with err set. */
static int make_rules(sl_schema_type type, const sl_schema_rules *r,
                      const char *shown, sl_schema_rules_set **set, char *err,
                      size_t errlen)
{
    *set = NULL;
    if (!r || sl_schema_rules_empty(r))
        return 0;
    sl_schema_rules_kind kind = type == SL_TYPE_STRING ? SL_SCHEMA_RULES_STRING
                                : type == SL_TYPE_INTEGER
                                    ? SL_SCHEMA_RULES_INTEGER
                                    : SL_SCHEMA_RULES_NUMBER;
    char why[128] = "";
    if ((type != SL_TYPE_STRING && type != SL_TYPE_INTEGER &&
         type != SL_TYPE_NUMBER) ||
        !(*set = sl_schema_rules_new(kind, r, why, sizeof why)))
        return sl_err_fail(err, errlen, "field \"%s\": %s", shown,
                        *why ? why : "no rules for this type");
    return 0;
}

int sl_schema_set_rules(sl_schema *s, size_t i, const sl_schema_rules *r,
                        char *err, size_t errlen)
{
    sl_schema_rules_set *set;
    if (i >= s->n)
        return sl_err_fail(err, errlen, "no field %zu", i);
    sl_field *f = &s->fields[i];
    if (make_rules(f->type, r, f->name, &set, err, errlen) != 0)
        return -1;
    sl_schema_rules_free(f->rules);
    f->rules = set;
    return 0;
}

void sl_schema_set_post(sl_schema *s, sl_schema_post_fn fn, const void *ud)
{
    s->post = fn;
    s->post_ud = ud;
}

int sl_schema_add(sl_schema *s, const char *name, sl_schema_type type, bool nullable,
                  char *err, size_t errlen)
{
    return sl_schema_add_value(s, name, &(sl_schema_value){.type = type,
                                                          .nullable = nullable},
                               err, errlen);
}

int sl_schema_add_value(sl_schema *s, const char *name, const sl_schema_value *v,
                        char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    char shown[SL_SCHEMA_NAME_MAX + 1];
    sl_schema_nest *nests[SL_SCHEMA_MAX_DEPTH + 1] = {NULL};
    sl_schema_rules_set *rules[SL_SCHEMA_MAX_DEPTH + 2] = {NULL};
    int rc = -1;
    if (len == 0) {
        sl_err_fail(err, errlen, "field name is empty");
        goto fail;
    }
    printable(shown, sizeof shown, name, len);
    if (len > SL_SCHEMA_NAME_MAX) {
        sl_err_fail(err, errlen, "field name \"%.32s...\" is longer than %d bytes",
                 shown, SL_SCHEMA_NAME_MAX);
        goto fail;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == '"' || c == '\\') {
            sl_err_fail(err, errlen, "field name \"%s\" contains a character "
                     "that needs escaping in JSON (control character, quote "
                     "or backslash)", shown);
            goto fail;
        }
    }
    /* the prefix is copied verbatim into records, so it must be JSON:
     * let the scanner judge the quoted name (UTF-8 is what remains) */
    char prefix[SL_SCHEMA_NAME_MAX + 5];
    int plen = snprintf(prefix, sizeof prefix, ",\"%s\":", name);
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, prefix + 1, (size_t)plen - 2, 1);
    if (sl_json_next(&js, &t) != SL_JSON_STRING ||
        sl_json_next(&js, &t) != SL_JSON_END) {
        sl_err_fail(err, errlen, "field name \"%s\" is not valid UTF-8", shown);
        goto fail;
    }
    int depth;
    size_t slots;
    if (check_value_parts(v, shown, &depth, &slots, err, errlen) != 0)
        goto fail;
    if (sl_schema_find(s, name, len) != SL_SCHEMA_NOT_FOUND) {
        sl_err_fail(err, errlen, "duplicate field \"%s\"", shown);
        goto fail;
    }
    if (s->n >= SL_SCHEMA_MAX_FIELDS) {
        sl_err_fail(err, errlen, "too many fields (at most %d)",
                 SL_SCHEMA_MAX_FIELDS);
        goto fail;
    }
    if (s->total + slots > SL_SCHEMA_MAX_FIELDS) {
        sl_err_fail(err, errlen, "too many fields (at most %d, those of nested "
                 "objects counted)", SL_SCHEMA_MAX_FIELDS);
        goto fail;
    }
    size_t d = 0;
    for (const sl_schema_value *p = v;; p = p->items) {
        if (make_rules(p->type, p->rules, shown, &rules[d++], err, errlen) != 0)
            goto fail;
        if (p->type != SL_TYPE_ARRAY)
            break;
    }
    size_t nnests = 0;
    for (const sl_schema_value *p = v;
         p->type == SL_TYPE_OBJECT || p->type == SL_TYPE_ARRAY; p = p->items) {
        if (!(nests[nnests++] = calloc(1, sizeof **nests))) {
            sl_err_fail(err, errlen, "out of memory");
            goto fail;
        }
        if (p->type == SL_TYPE_OBJECT)
            break;
    }
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 8;
        sl_field *nf = realloc(s->fields, ncap * sizeof *nf);
        if (!nf) {
            sl_err_fail(err, errlen, "out of memory");
            goto fail;
        }
        s->fields = nf;
        s->cap = ncap;
    }
    sl_field *f = &s->fields[s->n];
    memset(f, 0, sizeof *f);
    f->name_len = (unsigned char)len;
    f->prefix_len = (unsigned char)plen;
    memcpy(f->name, name, len + 1);
    memcpy(f->prefix, prefix, (size_t)plen);
    f->slot = (uint16_t)s->total;
    fill_node(f, v, nests, rules, (uint16_t)(s->total + 1)); /* f owns it
                                                                  all now */
    if (s->n + 1 > SL_SCHEMA_LINEAR_MAX && rebuild_slots(s, s->n + 1) != 0) {
        free_node(f);
        return sl_err_fail(err, errlen, "out of memory");
    }
    s->total += slots;
    if (depth > s->depth)
        s->depth = depth;
    s->nested |= v->type == SL_TYPE_OBJECT || v->type == SL_TYPE_ARRAY ||
                 v->type == SL_TYPE_JSON;
    s->n++;
    return 0;
fail:
    for (size_t i = 0; i <= SL_SCHEMA_MAX_DEPTH; i++)
        free(nests[i]);
    for (size_t i = 0; i < SL_SCHEMA_MAX_DEPTH + 2; i++)
        sl_schema_rules_free(rules[i]);
    drop_value(v);
    return rc;
}

/* ---- what a schema says, as text ---------------------------------------- */

typedef struct fp_state {
    uint64_t h;
} fp_state;

static void fp_feed(fp_state *st, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        st->h = (st->h ^ b[i]) * 1099511628211u; /* FNV-1a 64 */
}

static void fp_str(fp_state *st, const char *s)
{
    fp_feed(st, s, strlen(s));
}

static void fp_list(fp_state *st, const sl_schema *s);

/* After a field's (or an item's) line: what is inside it. */
static void fp_parts(fp_state *st, const sl_field *f)
{
    char num[64];
    for (; f->nest; f = &f->nest->item) {
        if (f->type == SL_TYPE_OBJECT) {
            fp_str(st, f->nest->fields->policy == SL_UNKNOWN_DROP
                           ? "{\npolicy=drop\n" : "{\npolicy=reject\n");
            fp_list(st, f->nest->fields);
            fp_str(st, "}\n");
            return;
        }
        const sl_field *it = &f->nest->item;
        snprintf(num, sizeof num, "[\t%zu\t%zu\n\t", f->nest->min_items,
                 f->nest->max_items == SIZE_MAX ? 0 : f->nest->max_items);
        fp_str(st, num);
        fp_str(st, type_names[it->type]);
        fp_str(st, it->nullable ? "\t1\n" : "\t0\n");
    }
}

static void fp_list(fp_state *st, const sl_schema *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        fp_feed(st, f->name, f->name_len);
        fp_feed(st, "\t", 1);
        fp_str(st, type_names[f->type]);
        fp_feed(st, f->nullable ? "\t1\n" : "\t0\n", 3);
        fp_parts(st, f);
    }
}

/* Canonical form: a version line, the policy, one line per field with
 * tab-separated name, type and 0/1 (names hold no tabs or newlines); an
 * object's field is followed by "{", its policy, its lines and "}", an
 * array's by "[", the item counts and the item's line, and so on down. A
 * flat schema has no such lines: its fingerprint is the one of before. */
void sl_schema_fingerprint(const sl_schema *s, char out[17])
{
    fp_state st = {14695981039346656037u};
    fp_str(&st, s->policy == SL_UNKNOWN_DROP
                    ? "sluice-schema-v1\npolicy=drop\n"
                    : "sluice-schema-v1\npolicy=reject\n");
    fp_list(&st, s);
    snprintf(out, 17, "%016llx", (unsigned long long)st.h);
}

static int shape_list(const sl_schema *s, sl_buf *out);

static int shape_parts(const sl_field *f, sl_buf *out)
{
    if (f->type == SL_TYPE_OBJECT)
        return shape_list(f->nest->fields, out);
    if (f->type != SL_TYPE_ARRAY)
        return 0;
    const sl_schema_nest *n = f->nest;
    int rc = sl_buf_putc(out, '[');
    if (rc == 0 && n->min_items)
        rc = sl_buf_printf(out, "%zu..", n->min_items);
    if (rc == 0 && n->max_items != SIZE_MAX)
        rc = sl_buf_printf(out, "%s%zu", n->min_items ? "" : "..",
                           n->max_items);
    if (rc == 0 && (n->min_items || n->max_items != SIZE_MAX))
        rc = sl_buf_putc(out, ' ');
    if (rc == 0)
        rc = sl_buf_printf(out, "%s %s", type_names[n->item.type],
                           n->item.nullable ? "nullable" : "not-null");
    if (rc == 0 && n->item.nest) {
        rc = sl_buf_putc(out, ' ');
        if (rc == 0)
            rc = shape_parts(&n->item, out);
    }
    return rc == 0 ? sl_buf_putc(out, ']') : rc;
}

static int shape_list(const sl_schema *s, sl_buf *out)
{
    int rc = sl_buf_putc(out, '{');
    for (size_t i = 0; rc == 0 && i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        rc = sl_buf_printf(out, "%s%s %s %s", i ? ", " : "", f->name,
                           type_names[f->type],
                           f->nullable ? "nullable" : "not-null");
        if (rc == 0 && f->nest) {
            rc = sl_buf_putc(out, ' ');
            if (rc == 0)
                rc = shape_parts(f, out);
        }
    }
    return rc == 0 ? sl_buf_putc(out, '}') : rc;
}

int sl_schema_field_shape(const sl_schema *s, size_t i, sl_buf *out)
{
    return shape_parts(&s->fields[i], out);
}
