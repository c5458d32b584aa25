/* sl_schema_nested: a record of a schema with nested fields (object, array,
 * json) checked and encoded in one pass. out is the encoder's stack: a
 * nested value is encoded at out's end as soon as it is read, and once an
 * object is complete, its members are written in schema order past the
 * encodings of its children and moved down over them. Nothing else is
 * allocated; the recursion is as deep as the schema (SL_SCHEMA_MAX_DEPTH). */
#include "sl_schema_check.h"

#include <stdarg.h>
#include <stdio.h>

/* A member's value: in the input (p set), or encoded in out at off. */
typedef struct slot {
    const char *p;
    size_t off, len; /* len 0: not seen */
} slot;

typedef struct seg {
    const char *name; /* NULL: an array index */
    size_t len;       /* name's length, or the index */
} seg;

typedef struct enc {
    const sl_schema *root; /* its limits hold at every level */
    sl_json *js;
    sl_buf *out;
    sl_schema_error *err;
    slot *vals;            /* SL_SCHEMA_MAX_FIELDS: each list's block */
    const char *end;       /* after the last '}' read by enc_object */
    int npath;
    seg path[SL_SCHEMA_MAX_DEPTH + 3]; /* of the value being read */
    char key[SL_SCHEMA_NAME_MAX + 1];  /* an unknown key, unescaped */
} enc;

static void push(enc *e, const char *name, size_t len)
{
    e->path[e->npath++] = (seg){name, len};
}

/* The value being read is the path's; a rejection names it. */
static sl_schema_rc at_path(enc *e, sl_schema_rc rc)
{
    if (rc != SL_SCHEMA_INVALID || !e->err)
        return rc;
    char buf[sizeof e->err->field + 32];
    size_t n = 0;
    for (int i = 0; i < e->npath && n < sizeof e->err->field; i++) {
        const seg *g = &e->path[i];
        int w;
        if (g->name)
            w = snprintf(buf + n, sizeof buf - n, "%s%.*s", i ? "." : "",
                         (int)g->len, g->name);
        else
            w = snprintf(buf + n, sizeof buf - n, "[%zu]", g->len);
        n += w < 0 ? 0 : (size_t)w;
        if (n >= sizeof buf)
            n = sizeof buf - 1;
    }
    sl_schema_error_field(e->err, buf, n);
    return rc;
}

static sl_schema_rc reject(enc *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static sl_schema_rc reject(enc *e, const char *fmt, ...)
{
    if (e->err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->err->msg, sizeof e->err->msg, fmt, ap);
        va_end(ap);
    }
    return at_path(e, SL_SCHEMA_INVALID);
}

static sl_schema_rc put(enc *e, const char *p, size_t n)
{
    return sl_buf_append(e->out, p, n) == 0 ? SL_SCHEMA_OK : SL_SCHEMA_NOMEM;
}

static sl_schema_rc put_value(enc *e, const sl_field *f, size_t block,
                              const sl_json_token *v);

/* A json value: its tokens copied out without the whitespace between. */
static sl_schema_rc put_json(enc *e, const sl_json_token *first)
{
    sl_json *js = e->js;
    sl_json_token t = *first;
    int open = js->depth; /* with first's own level, if it opens one */
    bool after_value = false;
    for (bool more = true; more;) {
        sl_schema_rc rc = SL_SCHEMA_OK;
        bool closer = t.type == SL_JSON_OBJECT_END ||
                      t.type == SL_JSON_ARRAY_END;
        if (after_value && !closer)
            rc = put(e, ",", 1);
        after_value = true;
        switch (t.type) {
        case SL_JSON_OBJECT_BEGIN:
        case SL_JSON_ARRAY_BEGIN:
            after_value = false;
            /* fall through */
        case SL_JSON_OBJECT_END:
        case SL_JSON_ARRAY_END:
            if (rc == SL_SCHEMA_OK)
                rc = put(e, t.p, 1);
            break;
        case SL_JSON_KEY:
        case SL_JSON_STRING:
            if (t.len > e->root->max.string_bytes)
                return reject(e, "string is %zu bytes, more than "
                              "limits.string_bytes (%zu)", t.len,
                              e->root->lim.string_bytes);
            if (rc == SL_SCHEMA_OK)
                rc = put(e, t.p - 1, t.len + 2);
            if (rc == SL_SCHEMA_OK && t.type == SL_JSON_KEY) {
                rc = put(e, ":", 1);
                after_value = false;
            }
            break;
        case SL_JSON_NUMBER:
            if (rc == SL_SCHEMA_OK)
                rc = put(e, t.p, t.len);
            break;
        case SL_JSON_TRUE:
            if (rc == SL_SCHEMA_OK)
                rc = put(e, "true", 4);
            break;
        case SL_JSON_FALSE:
            if (rc == SL_SCHEMA_OK)
                rc = put(e, "false", 5);
            break;
        case SL_JSON_NULL:
            if (rc == SL_SCHEMA_OK)
                rc = put(e, "null", 4);
            break;
        default:
            return sl_schema_syntax(js, e->err);
        }
        if (rc != SL_SCHEMA_OK)
            return rc;
        more = js->depth >= open && (first->type == SL_JSON_OBJECT_BEGIN ||
                                     first->type == SL_JSON_ARRAY_BEGIN);
        if (more && sl_json_next(js, &t) == SL_JSON_ERROR)
            return sl_schema_syntax(js, e->err);
    }
    return SL_SCHEMA_OK;
}

/* An array: its items in input order, each checked against f's item. */
static sl_schema_rc put_array(enc *e, const sl_field *f, size_t block)
{
    const sl_schema_nest *nest = f->nest;
    sl_json_token v;
    size_t count = 0;
    sl_schema_rc rc = put(e, "[", 1);
    while (rc == SL_SCHEMA_OK) {
        sl_json_type ty = sl_json_next(e->js, &v);
        if (ty == SL_JSON_ARRAY_END)
            break;
        if (ty == SL_JSON_ERROR)
            return sl_schema_syntax(e->js, e->err);
        if (count >= nest->max_items) { /* only counted from here on */
            if (sl_json_skip(e->js, &v) != 0)
                return sl_schema_syntax(e->js, e->err);
            count++;
            continue;
        }
        if (count)
            rc = put(e, ",", 1);
        push(e, NULL, count);
        if (rc == SL_SCHEMA_OK)
            rc = put_value(e, &nest->item, block, &v);
        e->npath--;
        count++;
    }
    if (rc != SL_SCHEMA_OK)
        return rc;
    if (count > nest->max_items)
        return reject(e, "%zu items, more than max_items (%zu)", count,
                      nest->max_items);
    if (count < nest->min_items)
        return reject(e, "%zu items, fewer than min_items (%zu)", count,
                      nest->min_items);
    return put(e, "]", 1);
}

/* A member's key: its field of s, or NOT_FOUND (the key then pushed on the
 * path, for the message). `want` is the field after the last one seen. */
static size_t member(enc *e, const sl_schema *s, const sl_json_token *k,
                     size_t want)
{
    if (want < s->n && s->fields[want].name_len == k->len &&
        !(k->flags & SL_JSON_F_ESCAPED) &&
        sl_schema_same_bytes(s->fields[want].name, k->p, k->len))
        return want;
    size_t i = sl_schema_lookup(s, k);
    if (i == SL_SCHEMA_NOT_FOUND) {
        size_t n = k->len < sizeof e->key ? k->len : sizeof e->key - 1;
        const char *name = k->p;
        if ((k->flags & SL_JSON_F_ESCAPED) &&
            sl_json_unescape_into(k->p, k->len, e->key, sizeof e->key - 1,
                                  &n) == 0)
            name = e->key;
        push(e, name, n);
    }
    return i;
}

/* An object of field list s (its slots at block); '{' was read. Its
 * encoding ends up at out's end as it was on entry. */
static sl_schema_rc put_object(enc *e, const sl_schema *s, size_t block,
                               const sl_json_token *first)
{
    sl_json *js = e->js;
    sl_buf *out = e->out;
    const size_t c0 = out->len;
    sl_json_token k, v;
    size_t members = 0, want = 0;
    sl_schema_rc rc;
    for (size_t i = 0; i < s->n; i++)
        e->vals[block + s->fields[i].slot].len = 0;
    for (;;) {
        sl_json_type ty = sl_json_next(js, &k);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY)
            return sl_schema_syntax(js, e->err);
        if (++members > e->root->max.fields)
            return reject(e, "more than limits.fields (%zu) members",
                          e->root->lim.fields);
        size_t i = member(e, s, &k, want);
        if (i == SL_SCHEMA_NOT_FOUND) {
            if (s->policy == SL_UNKNOWN_REJECT)
                return reject(e, "unknown field (not in the schema)");
            e->npath--;
            if (sl_json_next(js, &v) == SL_JSON_ERROR ||
                sl_json_skip(js, &v) != 0)
                return sl_schema_syntax(js, e->err);
            continue;
        }
        const sl_field *f = &s->fields[i];
        slot *sl = &e->vals[block + f->slot];
        want = i + 1;
        push(e, f->name, f->name_len);
        if (sl->len)
            return reject(e, "duplicate field");
        if (sl_json_next(js, &v) == SL_JSON_ERROR)
            return sl_schema_syntax(js, e->err);
        if (f->type < SL_TYPE_OBJECT) {
            sl_schema_span sp;
            if ((rc = sl_schema_check_value(e->root, f, &v, &sp, e->err)) !=
                SL_SCHEMA_OK)
                return at_path(e, rc);
            *sl = (slot){sp.p, 0, sp.len};
        } else {
            size_t off = out->len;
            if ((rc = put_value(e, f, block, &v)) != SL_SCHEMA_OK)
                return rc;
            *sl = (slot){NULL, off, out->len - off};
        }
        e->npath--;
    }
    e->end = k.p + 1;
    if (e->npath == 0) { /* the record: its size first, as a flat one's */
        size_t in_len = (size_t)(e->end - first->p);
        if (in_len > e->root->max.record_bytes)
            return reject(e, "record is %zu bytes, more than "
                          "limits.record_bytes (%zu)", in_len,
                          e->root->lim.record_bytes);
    }
    size_t total = s->n ? 1 : 2; /* '}', and '{' unless a prefix's ',' is it */
    for (size_t i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        slot *sl = &e->vals[block + f->slot];
        if (!sl->len) {
            if (!f->nullable) {
                push(e, f->name, f->name_len);
                return reject(e, "required field is missing");
            }
            *sl = (slot){"null", 0, 4};
        }
        total += f->prefix_len + sl->len;
    }
    /* written past the children's encodings, then moved down over them */
    size_t top = out->len;
    if (sl_buf_reserve(out, total) != 0)
        return SL_SCHEMA_NOMEM;
    char *w = out->data + top, *open = w;
    for (size_t i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        const slot *sl = &e->vals[block + f->slot];
        memcpy(w, f->prefix, f->prefix_len);
        w += f->prefix_len;
        memcpy(w, sl->p ? sl->p : out->data + sl->off, sl->len);
        w += sl->len;
    }
    if (s->n)
        *open = '{'; /* the first prefix's ',' */
    else
        *w++ = '{';
    *w = '}';
    if (top != c0)
        memmove(out->data + c0, out->data + top, total);
    out->len = c0 + total;
    return SL_SCHEMA_OK;
}

/* Value v (its first token read) checked against f and appended to out. */
static sl_schema_rc put_value(enc *e, const sl_field *f, size_t block,
                              const sl_json_token *v)
{
    if (v->type == SL_JSON_ERROR)
        return sl_schema_syntax(e->js, e->err);
    if (v->type == SL_JSON_NULL) {
        if (!f->nullable)
            return reject(e, "null is not allowed");
        return put(e, "null", 4);
    }
    switch (f->type) {
    case SL_TYPE_OBJECT:
        if (v->type != SL_JSON_OBJECT_BEGIN)
            break;
        return put_object(e, f->nest->fields, block + f->nest->base, v);
    case SL_TYPE_ARRAY:
        if (v->type != SL_JSON_ARRAY_BEGIN)
            break;
        return put_array(e, f, block);
    case SL_TYPE_JSON:
        return put_json(e, v);
    default: {
        sl_schema_span sp;
        sl_schema_rc rc = sl_schema_check_value(e->root, f, v, &sp, e->err);
        if (rc != SL_SCHEMA_OK)
            return at_path(e, rc);
        return put(e, sp.p, sp.len);
    }
    }
    sl_schema_mismatch(f, v, e->err);
    return at_path(e, SL_SCHEMA_INVALID);
}

sl_schema_rc sl_schema_encode_nested(const sl_schema *s, sl_json *js,
                                     const sl_json_token *first, sl_buf *out,
                                     sl_schema_error *err)
{
    if (first->type != SL_JSON_OBJECT_BEGIN) {
        if (first->type == SL_JSON_ERROR || sl_json_skip(js, first) != 0)
            return sl_schema_syntax(js, err);
        return sl_schema_reject(err, "", 0, "record must be a JSON object, "
                                "got %s", sl_json_type_name(first->type));
    }
    slot vals[SL_SCHEMA_MAX_FIELDS];
    enc e = {.root = s, .js = js, .out = out, .err = err, .vals = vals};
    size_t mark = out->len;
    int base = js->depth - 1; /* depth once the record's '}' is read */
    sl_schema_rc rc = put_object(&e, s, 0, first);
    if (rc == SL_SCHEMA_OK || rc == SL_SCHEMA_SYNTAX) {
        if (rc != SL_SCHEMA_OK)
            out->len = mark;
        return rc;
    }
    out->len = mark;
    sl_json_token k; /* leave the scanner after the record */
    while (js->depth > base)
        if (sl_json_next(js, &k) == SL_JSON_ERROR)
            return sl_schema_syntax(js, err);
    return rc;
}
