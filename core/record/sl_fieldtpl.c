/* sl_fieldtpl: {field} placeholders in a URL or a header value — the
 * parse against the schema, the check of a record's values and the
 * rendering (percent-encoded or raw) from an encoded record. */
#include "sl_fieldtpl.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "sl_err.h"
#include "sl_json.h"

typedef struct part {
    size_t off, len;            /* literal: text[off, off + len) */
    int field;                  /* -1 literal, else an index of fields */
    int in_path;                /* URL: before the query string */
} part;

typedef struct field {
    const char *name;           /* in text, not NUL-terminated */
    size_t name_len;
    sl_schema_type type;
} field;

struct sl_fieldtpl {
    sl_fieldtpl_mode mode;
    char *text;                 /* owned copy */
    part parts[2 * SL_FIELDTPL_MAX + 1];
    size_t nparts;
    field fields[SL_FIELDTPL_MAX]; /* distinct names, in order of use */
    size_t nfields;
    char first[SL_SCHEMA_NAME_MAX + 1];
    char what[96];
};

/* A value found in the record. */
typedef struct val {
    const char *p;              /* NULL: not found */
    size_t len;
    sl_json_type type;
    unsigned flags;
} val;

static int name_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

/* Why the '{' at text[i] does not start a placeholder (URL mode). */
static int bad_brace(const char *text, size_t i, char *err, size_t errlen)
{
    size_t k = i + 1 + strcspn(text + i + 1, "{}");
    if (text[k] != '}')
        return sl_err_fail(err, errlen, "position %zu: '{' without a closing '}'",
                    i);
    if (k == i + 1)
        return sl_err_fail(err, errlen, "position %zu: empty placeholder '{}'",
                    i);
    if (k - i - 1 > SL_SCHEMA_NAME_MAX)
        return sl_err_fail(err, errlen, "position %zu: placeholder name longer "
                    "than %d bytes", i, SL_SCHEMA_NAME_MAX);
    return sl_err_fail(err, errlen, "position %zu: '{%.*s}' is not a placeholder (a "
                "field name of letters, digits, '_', '-' and '.')", i,
                (int)(k - i - 1 < 40 ? k - i - 1 : 40), text + i + 1);
}

/* "an" before a type name that starts with a vowel ("an integer",
 * "an object"), else "a". */
static const char *article(const char *type_name)
{
    return type_name[0] && strchr("aeiou", type_name[0]) ? "an" : "a";
}

/* The schema field `name` names, checked for use in a placeholder. */
static int resolve(const sl_schema *s, const char *name, size_t len,
                   size_t pos, sl_schema_type *type, char *err, size_t errlen)
{
    size_t n = sl_schema_nfields(s);
    for (size_t i = 0; i < n; i++) {
        const char *f = sl_schema_field_name(s, i);
        if (strlen(f) != len || memcmp(f, name, len) != 0)
            continue;
        *type = sl_schema_field_type(s, i);
        const char *tn = sl_schema_type_name(*type);
        if (*type != SL_TYPE_STRING && *type != SL_TYPE_INTEGER &&
            *type != SL_TYPE_DATE)
            return sl_err_fail(err, errlen, "position %zu: {%.*s}: %s %s field; "
                        "placeholders take string, integer or date fields",
                        pos, (int)len, name, article(tn), tn);
        if (sl_schema_field_nullable(s, i))
            return sl_err_fail(err, errlen, "position %zu: {%.*s}: the field is "
                        "nullable; a placeholder needs a value in every "
                        "record", pos, (int)len, name);
        return 0;
    }
    return sl_err_fail(err, errlen, "position %zu: {%.*s}: no such field in the "
                "schema (placeholders name top-level fields)", pos, (int)len,
                name);
}

static void add_literal(sl_fieldtpl *t, size_t from, size_t to)
{
    if (to > from)
        t->parts[t->nparts++] = (part){from, to - from, -1, 0};
}

int sl_fieldtpl_parse(const char *text, sl_fieldtpl_mode mode, size_t from,
                      const sl_schema *schema, const char *what,
                      sl_fieldtpl **out, char *err, size_t errlen)
{
    sl_fieldtpl *t = NULL;
    size_t lit = 0, nplace = 0;
    int in_query = 0;
    *out = NULL;
    for (size_t i = 0; text[i];) {
        char c = text[i];
        if (c == '}' && mode == SL_FIELDTPL_URL) {
            sl_err_fail(err, errlen, "position %zu: '}' without an opening '{'",
                 i);
            goto fail;
        }
        if (c == '?' && mode == SL_FIELDTPL_URL && i >= from)
            in_query = 1;
        if (c != '{') {
            i++;
            continue;
        }
        size_t j = i + 1;
        while (name_char(text[j]))
            j++;
        if (text[j] != '}' || j == i + 1 || j - i - 1 > SL_SCHEMA_NAME_MAX) {
            if (mode == SL_FIELDTPL_HEADER) { /* a brace as text */
                i++;
                continue;
            }
            bad_brace(text, i, err, errlen);
            goto fail;
        }
        const char *name = text + i + 1;
        size_t nlen = j - i - 1;
        if (i < from) {
            sl_err_fail(err, errlen, "position %zu: placeholder {%.*s} in the "
                 "scheme, host or port; placeholders go in the path or the "
                 "query", i, (int)nlen, name);
            goto fail;
        }
        if (++nplace > SL_FIELDTPL_MAX) {
            sl_err_fail(err, errlen, "position %zu: more than %d placeholders",
                 i, SL_FIELDTPL_MAX);
            goto fail;
        }
        if (!t) {
            if (!(t = calloc(1, sizeof *t)) || !(t->text = strdup(text))) {
                sl_err_fail(err, errlen, "out of memory");
                goto fail;
            }
            t->mode = mode;
            snprintf(t->what, sizeof t->what, "%s", what ? what : "");
            snprintf(t->first, sizeof t->first, "%.*s", (int)nlen, name);
        }
        size_t f = 0;
        while (f < t->nfields && !(t->fields[f].name_len == nlen &&
                                   !memcmp(t->fields[f].name, name, nlen)))
            f++;
        if (f == t->nfields) {
            field *nf = &t->fields[t->nfields++];
            nf->name = t->text + (name - text);
            nf->name_len = nlen;
            nf->type = SL_TYPE_STRING;
            if (schema && resolve(schema, name, nlen, i, &nf->type, err,
                                  errlen) != 0)
                goto fail;
        }
        add_literal(t, lit, i);
        t->parts[t->nparts++] = (part){0, 0, (int)f, !in_query};
        i = lit = j + 1;
    }
    if (t) {
        add_literal(t, lit, strlen(text));
        *out = t;
    }
    return 0;
fail:
    sl_fieldtpl_free(t);
    return -1;
}

void sl_fieldtpl_free(sl_fieldtpl *t)
{
    if (!t)
        return;
    free(t->text);
    free(t);
}

const char *sl_fieldtpl_first_name(const sl_fieldtpl *t) { return t->first; }

/* ---- a record's values ------------------------------------------------- */

static int key_is(const sl_json_token *k, const field *f)
{
    if (!(k->flags & SL_JSON_F_ESCAPED))
        return k->len == f->name_len && !memcmp(k->p, f->name, f->name_len);
    char name[SL_SCHEMA_NAME_MAX + 1];
    size_t n;
    return sl_json_unescape_into(k->p, k->len, name, sizeof name, &n) == 0 &&
           n == f->name_len && !memcmp(name, f->name, n);
}

static void set_why(sl_schema_error *why, const field *f, const char *fmt,
                    ...) __attribute__((format(printf, 3, 4)));

static void set_why(sl_schema_error *why, const field *f, const char *fmt,
                    ...)
{
    va_list ap;
    snprintf(why->field, sizeof why->field, "%.*s", (int)f->name_len,
             f->name);
    va_start(ap, fmt);
    vsnprintf(why->msg, sizeof why->msg, fmt, ap);
    va_end(ap);
}

/* A JSON string's escaped bytes: does its decoded form have a control
 * character (below U+0020, or DEL)? */
static int has_control(const char *p, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == 0x7f)
            return 1;
        if (c != '\\' || i + 1 >= len)
            continue;
        char e = p[++i];
        if (e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't')
            return 1;
        if (e == 'u' && i + 4 < len) {
            unsigned cp = 0;
            for (int k = 1; k <= 4; k++) {
                char h = p[i + (size_t)k];
                cp = cp * 16 + (unsigned)(h <= '9' ? h - '0'
                                          : (h | 0x20) - 'a' + 10);
            }
            if (cp < 0x20 || cp == 0x7f)
                return 1;
            i += 4;
        }
    }
    return 0;
}

/* 1 or 2 when the escaped string p[0..len) decodes to "." or "..", else
 * 0 (a '.' may be written \u002e). */
static size_t dots(const char *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; n++) {
        if (p[i] == '.')
            i++;
        else if (len - i >= 6 && !memcmp(p + i, "\\u002", 5) &&
                 (p[i + 5] == 'e' || p[i + 5] == 'E'))
            i += 6;
        else
            return 0;
    }
    return n <= 2 ? n : 0;
}

/* Find the values of t's fields in the record and check them. */
static sl_fieldtpl_rc find_values(const sl_fieldtpl *t, const char *rec,
                                  size_t len, val *vals, sl_schema_error *why)
{
    sl_json js;
    sl_json_token k, v;
    memset(vals, 0, t->nfields * sizeof *vals);
    sl_json_init(&js, rec, len, 0);
    if (sl_json_next(&js, &k) != SL_JSON_OBJECT_BEGIN)
        goto notjson;
    for (;;) {
        sl_json_type kt = sl_json_next(&js, &k);
        if (kt == SL_JSON_OBJECT_END)
            break;
        if (kt != SL_JSON_KEY || sl_json_next(&js, &v) == SL_JSON_ERROR)
            goto notjson;
        for (size_t f = 0; f < t->nfields; f++)
            if (!vals[f].p && key_is(&k, &t->fields[f]))
                vals[f] = (val){v.p, v.len, v.type, v.flags};
        if (sl_json_skip(&js, &v) != 0)
            goto notjson;
    }
    for (size_t f = 0; f < t->nfields; f++) {
        const field *fd = &t->fields[f];
        const val *x = &vals[f];
        int ok = fd->type == SL_TYPE_INTEGER
                     ? x->type == SL_JSON_NUMBER && (x->flags & SL_JSON_F_INT)
                     : x->type == SL_JSON_STRING;
        if (!x->p || x->type == SL_JSON_NULL) {
            set_why(why, fd, "missing, but %s needs it", t->what);
            return SL_FIELDTPL_BAD;
        }
        if (!ok) {
            const char *tn = sl_schema_type_name(fd->type);
            set_why(why, fd, "not %s %s, but %s needs one", article(tn), tn,
                    t->what);
            return SL_FIELDTPL_BAD;
        }
        if (t->mode == SL_FIELDTPL_HEADER && x->type == SL_JSON_STRING &&
            has_control(x->p, x->len)) {
            set_why(why, fd, "has a control character (CR, LF, tab, ...), "
                    "which cannot go in %s", t->what);
            return SL_FIELDTPL_BAD;
        }
    }
    size_t total = 0; /* a header's value, at most (escapes shrink) */
    for (size_t i = 0; i < t->nparts; i++) {
        const part *pt = &t->parts[i];
        total += pt->field < 0 ? pt->len : vals[pt->field].len;
        if (pt->field < 0 || !pt->in_path || t->mode != SL_FIELDTPL_URL)
            continue;
        const val *x = &vals[pt->field];
        if (x->len == 0) {
            set_why(why, &t->fields[pt->field], "is empty, but is a path "
                    "segment of %s", t->what);
            return SL_FIELDTPL_BAD;
        }
        /* "." and ".." are unreserved, but as a segment they would move
         * the request elsewhere (curl and servers resolve them) */
        if (x->type == SL_JSON_STRING && dots(x->p, x->len)) {
            set_why(why, &t->fields[pt->field], "is \"%.*s\", but a path "
                    "segment of %s cannot be \".\" or \"..\"",
                    (int)dots(x->p, x->len), "..", t->what);
            return SL_FIELDTPL_BAD;
        }
    }
    if (t->mode == SL_FIELDTPL_HEADER && total > SL_FIELDTPL_HEADER_MAX) {
        set_why(why, &t->fields[0], "makes %s longer than %d bytes",
                t->what, SL_FIELDTPL_HEADER_MAX);
        return SL_FIELDTPL_BAD;
    }
    return SL_FIELDTPL_OK;
notjson:
    snprintf(why->field, sizeof why->field, "%s", "");
    snprintf(why->msg, sizeof why->msg, "the record is not a JSON object");
    return SL_FIELDTPL_BAD;
}

sl_fieldtpl_rc sl_fieldtpl_check(const sl_fieldtpl *t, const char *rec,
                                 size_t len, sl_schema_error *why)
{
    val vals[SL_FIELDTPL_MAX];
    return find_values(t, rec, len, vals, why);
}

int sl_fieldtpl_check_list(const void *ud, const char *rec, size_t len,
                           sl_schema_error *why)
{
    for (sl_fieldtpl *const *t = ud; t && *t; t++)
        if (sl_fieldtpl_check(*t, rec, len, why) != SL_FIELDTPL_OK)
            return -1;
    return 0;
}

/* ---- rendering ------------------------------------------------------- */

/* p[0..n) percent-encoded onto out: curl_easy_escape keeps exactly RFC
 * 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) and writes every
 * other byte as %XX, upper-case. 0, or -1 (out of memory, or more than
 * curl takes). */
static int percent_encode(sl_buf *out, const char *p, size_t n)
{
    if (n == 0) /* curl would take a length of 0 as "use strlen" */
        return 0;
    if (n > INT_MAX)
        return -1;
    char *e = curl_easy_escape(NULL, p, (int)n);
    if (!e)
        return -1;
    int rc = sl_buf_append(out, e, strlen(e));
    curl_free(e);
    return rc;
}

/* One value: decoded (strings), percent-encoded in a URL. */
static int put_value(const sl_fieldtpl *t, const val *x, sl_buf *out,
                     sl_buf *tmp)
{
    const char *p = x->p;
    size_t n = x->len;
    if (x->type == SL_JSON_STRING && (x->flags & SL_JSON_F_ESCAPED)) {
        if (t->mode == SL_FIELDTPL_HEADER)
            return sl_json_unescape(p, n, out);
        sl_buf_reset(tmp);
        if (sl_json_unescape(p, n, tmp) != 0)
            return -1;
        p = tmp->data;
        n = tmp->len;
    }
    if (t->mode == SL_FIELDTPL_HEADER)
        return sl_buf_append(out, p, n);
    return percent_encode(out, p, n);
}

sl_fieldtpl_rc sl_fieldtpl_render(const sl_fieldtpl *t, const char *rec,
                                  size_t len, sl_buf *out,
                                  sl_schema_error *why)
{
    val vals[SL_FIELDTPL_MAX];
    sl_fieldtpl_rc rc = find_values(t, rec, len, vals, why);
    if (rc != SL_FIELDTPL_OK)
        return rc;
    size_t mark = out->len;
    sl_buf tmp;
    sl_buf_init(&tmp, 0);
    for (size_t i = 0; i < t->nparts && rc == SL_FIELDTPL_OK; i++) {
        const part *pt = &t->parts[i];
        int bad = pt->field < 0
                      ? sl_buf_append(out, t->text + pt->off, pt->len)
                      : put_value(t, &vals[pt->field], out, &tmp);
        if (bad)
            rc = SL_FIELDTPL_NOMEM;
    }
    sl_buf_free(&tmp);
    if (rc != SL_FIELDTPL_OK)
        sl_buf_truncate(out, mark);
    return rc;
}
