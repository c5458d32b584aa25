/* sl_schema_check: one scalar value checked against what its field says,
 * and the messages of a rejection. Inline: it runs for every value of
 * every record, in both encoders. Private to the sl_schema module. */
#ifndef SL_SCHEMA_CHECK_H
#define SL_SCHEMA_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "sl_schema_def.h"
#include "sl_time.h"

#define SL_SCHEMA_SHOW_MAX 40 /* bytes of a bad value quoted in a message */

/* Where a value's JSON text lies in the input (p == NULL: not seen yet). */
typedef struct sl_schema_span {
    const char *p;
    size_t len;
} sl_schema_span;

/* Fill err (when not NULL) with `field` (flen bytes, clipped) and the
 * message; returns SL_SCHEMA_INVALID. */
sl_schema_rc sl_schema_reject(sl_schema_error *err, const char *field,
                              size_t flen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Replace err->field (when err is not NULL) by p[0..n), clipped at a
 * UTF-8 boundary. */
void sl_schema_error_field(sl_schema_error *err, const char *p, size_t n);

/* err->msg from the scanner's error; returns SL_SCHEMA_SYNTAX. */
sl_schema_rc sl_schema_syntax(const sl_json *js, sl_schema_error *err);

/* A string token's raw text, clipped, for quoting in a message. */
const char *sl_schema_show(char buf[SL_SCHEMA_SHOW_MAX + 4],
                           const sl_json_token *v);

/* "unknown field (not in the schema)" naming key k (unescaped). */
sl_schema_rc sl_schema_unknown_field(const sl_json_token *k,
                                     sl_schema_error *err);

/* "expected T, got U" for field f. */
sl_schema_rc sl_schema_mismatch(const sl_field *f, const sl_json_token *v,
                                sl_schema_error *err);

/* Field f's rules on a value that passed the type check; out of line, so
 * that a field without rules pays one test of f->rules. */
sl_schema_rc sl_schema_check_rules(const sl_field *f, const sl_json_token *v,
                                   sl_schema_error *err)
    __attribute__((noinline));

/* An integer literal (JSON grammar already checked) within int64? Fewer
 * than 19 digits always is; 19 are compared with the limit. */
static inline bool sl_schema_int64_fits(const char *p, size_t len)
{
    bool neg = p[0] == '-';
    size_t n = len - neg;
    if (n < 19)
        return true;
    return n == 19 && memcmp(p + neg, neg ? "9223372036854775808"
                                          : "9223372036854775807", 19) <= 0;
}

/* A number token that is a finite double? Without an exponent, at most 308
 * integer digits is always below DBL_MAX (~1.8e308); only longer literals
 * and those with an exponent pay for strtod. */
static inline bool sl_schema_number_finite(const sl_json_token *v)
{
    double d;
    if (!(v->flags & SL_JSON_F_EXP) && v->len <= 308)
        return true;
    return sl_json_parse_double(v->p, v->len, &d) == 0;
}

extern const char sl_schema_shape[]; /* check_temporal: not the format */

/* Check a date/datetime string token; NULL or the reason. Escaped text is
 * decoded first (it only passes if the escapes spell digits etc.). */
static inline const char *sl_schema_check_temporal(sl_schema_type type,
                                                   const sl_json_token *v)
{
    char buf[48];
    const char *p = v->p;
    size_t n = v->len;
    if (v->flags & SL_JSON_F_ESCAPED) {
        if (sl_json_unescape_into(v->p, v->len, buf, sizeof buf, &n) != 0)
            return type == SL_TYPE_DATE ? sl_schema_shape : "value is too long";
        p = buf;
    }
    sl_time_rc rc = type == SL_TYPE_DATE
                        ? sl_time_parse_date(p, n, NULL)
                        : sl_time_check_rfc3339(p, n);
    if (rc == SL_TIME_E_SHAPE && type == SL_TYPE_DATE)
        return sl_schema_shape;
    return rc == SL_TIME_OK ? NULL : sl_time_rc_str(rc);
}

/* Check scalar field f's value token (f->type not OBJECT, ARRAY or JSON);
 * on success record where its JSON text is. A rejection names f->name
 * (the nested encoder puts the path in its place). */
static inline sl_schema_rc sl_schema_check_value(const sl_schema *s,
                                                 const sl_field *f,
                                                 const sl_json_token *v,
                                                 sl_schema_span *out,
                                                 sl_schema_error *err)
{
    char sbuf[SL_SCHEMA_SHOW_MAX + 4];
    const char *why;
    if (v->type == SL_JSON_NULL) {
        if (!f->nullable)
            return sl_schema_reject(err, f->name, f->name_len,
                                    "null is not allowed");
        *out = (sl_schema_span){v->p, v->len};
        return SL_SCHEMA_OK;
    }
    switch (f->type) {
    case SL_TYPE_STRING:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if (v->len > s->max.string_bytes)
            return sl_schema_reject(err, f->name, f->name_len, "string is %zu "
                                    "bytes, more than limits.string_bytes "
                                    "(%zu)", v->len, s->lim.string_bytes);
        break;
    case SL_TYPE_INTEGER:
        if (v->type != SL_JSON_NUMBER)
            goto mismatch;
        if (!(v->flags & SL_JSON_F_INT)) {
            bool cut = v->len > 32;
            return sl_schema_reject(err, f->name, f->name_len,
                                    "expected integer, got number %.*s%s",
                                    cut ? 32 : (int)v->len, v->p,
                                    cut ? "..." : "");
        }
        if (!sl_schema_int64_fits(v->p, v->len))
            return sl_schema_reject(err, f->name, f->name_len,
                                    "integer out of range (64-bit)");
        break;
    case SL_TYPE_NUMBER:
        if (v->type != SL_JSON_NUMBER)
            goto mismatch;
        if (!sl_schema_number_finite(v))
            return sl_schema_reject(err, f->name, f->name_len,
                                    "number out of range");
        break;
    case SL_TYPE_BOOLEAN:
        if (v->type != SL_JSON_TRUE && v->type != SL_JSON_FALSE)
            goto mismatch;
        break;
    case SL_TYPE_DATE:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if ((why = sl_schema_check_temporal(f->type, v)) == sl_schema_shape)
            return sl_schema_reject(err, f->name, f->name_len,
                                    "invalid date \"%s\" (expected "
                                    "YYYY-MM-DD)", sl_schema_show(sbuf, v));
        if (why)
            return sl_schema_reject(err, f->name, f->name_len,
                                    "invalid date \"%s\": %s",
                                    sl_schema_show(sbuf, v), why);
        break;
    case SL_TYPE_DATETIME:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if ((why = sl_schema_check_temporal(f->type, v)) != NULL)
            return sl_schema_reject(err, f->name, f->name_len,
                                    "invalid datetime \"%s\": %s",
                                    sl_schema_show(sbuf, v), why);
        break;
    default:
        goto mismatch;
    }
    if (__builtin_expect(f->rules != NULL, 0) &&
        sl_schema_check_rules(f, v, err) != SL_SCHEMA_OK)
        return SL_SCHEMA_INVALID;
    if (v->type == SL_JSON_STRING) /* keep the quotes: copied as is */
        *out = (sl_schema_span){v->p - 1, v->len + 2};
    else
        *out = (sl_schema_span){v->p, v->len};
    return SL_SCHEMA_OK;
mismatch:
    return sl_schema_mismatch(f, v, err);
}

/* Append the record: each field's prefix and value (vals, `total` bytes
 * with the prefixes), in schema order (sl_schema_encode, sl_schema_values). */
static inline sl_schema_rc sl_schema_emit_record(const sl_schema *s,
                                                 const sl_schema_span *vals,
                                                 size_t total, sl_buf *out)
{
    if (sl_buf_reserve(out, total) != 0)
        return SL_SCHEMA_NOMEM;
    char *w = out->data + out->len, *open = w;
    for (size_t i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        memcpy(w, f->prefix, f->prefix_len);
        w += f->prefix_len;
        memcpy(w, vals[i].p, vals[i].len);
        w += vals[i].len;
    }
    if (s->n)
        *open = '{'; /* the first prefix's ',' */
    else
        *w++ = '{';
    *w++ = '}';
    out->len = (size_t)(w - out->data);
    return SL_SCHEMA_OK;
}

#endif
