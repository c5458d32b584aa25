/* sl_schema_encode: a record of a flat schema checked and encoded in one
 * pass over the scanner's tokens; a schema with nested fields goes to
 * sl_schema_nested.c. */
#include "sl_schema_check.h"

static sl_schema_rc encode_record(const sl_schema *s, sl_json *js,
                                  const sl_json_token *first, sl_buf *out,
                                  sl_schema_error *err)
{
    sl_schema_span vals[SL_SCHEMA_MAX_FIELDS];
    sl_json_token k, v;
    size_t n = s->n, want = 0, members = 0;
    bool in_order = true; /* so far each key was field `want`, unescaped */
    sl_schema_rc rc;

    if (first->type != SL_JSON_OBJECT_BEGIN) {
        if (first->type == SL_JSON_ERROR || sl_json_skip(js, first) != 0)
            return sl_schema_syntax(js, err);
        return sl_schema_reject(err, "", 0, "record must be a JSON object, "
                                "got %s", sl_json_type_name(first->type));
    }
    int base = js->depth - 1; /* depth once the record's '}' is read */
    memset(vals, 0, n * sizeof vals[0]);
    for (;;) {
        sl_json_type ty = sl_json_next(js, &k);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY)
            return sl_schema_syntax(js, err);
        if (++members > s->max.fields) {
            rc = sl_schema_reject(err, "", 0, "more than limits.fields (%zu) "
                                  "members", s->lim.fields);
            goto skip_rest;
        }
        size_t i = want;
        if (!(i < n && s->fields[i].name_len == k.len &&
              !(k.flags & SL_JSON_F_ESCAPED) &&
              sl_schema_same_bytes(s->fields[i].name, k.p, k.len))) {
            in_order = false;
            if ((i = sl_schema_lookup(s, &k)) == SL_SCHEMA_NOT_FOUND) {
                if (s->policy == SL_UNKNOWN_REJECT) {
                    rc = sl_schema_unknown_field(&k, err);
                    goto skip_rest;
                }
                if (sl_json_next(js, &v) == SL_JSON_ERROR ||
                    sl_json_skip(js, &v) != 0)
                    return sl_schema_syntax(js, err);
                continue;
            }
        }
        const sl_field *f = &s->fields[i];
        want = i + 1;
        if (vals[i].p) {
            rc = sl_schema_reject(err, f->name, f->name_len, "duplicate field");
            goto skip_rest;
        }
        if (sl_json_next(js, &v) == SL_JSON_ERROR)
            return sl_schema_syntax(js, err);
        if ((rc = sl_schema_check_value(s, f, &v, &vals[i], err)) !=
            SL_SCHEMA_OK)
            goto skip_rest;
    }

    /* the whole record is read: its size, then fill in nulls, size the
     * encoding, copy it out */
    size_t in_len = (size_t)(k.p + 1 - first->p);
    if (in_len > s->max.record_bytes)
        return sl_schema_reject(err, "", 0, "record is %zu bytes, more than "
                                "limits.record_bytes (%zu)", in_len,
                                s->lim.record_bytes);
    size_t total = n ? 1 : 2; /* '}', and '{' unless a prefix's ',' is it */
    for (size_t i = 0; i < n; i++) {
        const sl_field *f = &s->fields[i];
        if (!vals[i].p) {
            if (!f->nullable)
                return sl_schema_reject(err, f->name, f->name_len,
                                        "required field is missing");
            vals[i] = (sl_schema_span){"null", 4};
        }
        total += f->prefix_len + vals[i].len;
    }
    /* All fields, in order, none escaped or dropped: the input is the
     * encoding plus any whitespace. Without whitespace (same length) the
     * bytes are identical, so copy them in one go. */
    if (in_order && want == n && in_len == total) {
        if (sl_buf_reserve(out, total) != 0)
            return SL_SCHEMA_NOMEM;
        memcpy(out->data + out->len, first->p, total);
        out->len += total;
        return SL_SCHEMA_OK;
    }
    return sl_schema_emit_record(s, vals, total, out);

skip_rest: /* leave the scanner after the record so the next one can follow */
    while (js->depth > base)
        if (sl_json_next(js, &k) == SL_JSON_ERROR)
            return sl_schema_syntax(js, err);
    return rc;
}

/* A record of a nested schema, or of one with a post-check (then the
 * owner's check of what was written). Not inlined, so that
 * sl_schema_encode of a flat schema without a check is one test and a
 * jump. */
__attribute__((noinline)) static sl_schema_rc
encode_other(const sl_schema *s, sl_json *js, const sl_json_token *first,
             sl_buf *out, sl_schema_error *err)
{
    size_t mark = out->len;
    sl_schema_rc rc = s->nested
                          ? sl_schema_encode_nested(s, js, first, out, err)
                          : encode_record(s, js, first, out, err);
    if (s->post && rc == SL_SCHEMA_OK &&
        s->post(s->post_ud, out->data + mark, out->len - mark, err) != 0) {
        out->len = mark;
        return SL_SCHEMA_INVALID;
    }
    return rc;
}

sl_schema_rc sl_schema_encode(const sl_schema *s, sl_json *js,
                              const sl_json_token *first, sl_buf *out,
                              sl_schema_error *err)
{
    if (!s->post && !s->nested) /* a tail call: no cost without either */
        return encode_record(s, js, first, out, err);
    return encode_other(s, js, first, out, err);
}
