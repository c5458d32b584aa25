/* sl_schema: a connector's field list, the per-record type check and the
 * compact schema-order encoding, done in one pass over the scanner's tokens. */
#include "sl_schema.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_time.h"

#define LINEAR_MAX 16          /* up to here a misplaced key is found by scan */
#define NOT_FOUND ((size_t)-1)
#define SHOW_MAX 40            /* bytes of a bad value quoted in a message */

typedef struct sl_field {
    sl_schema_type type;
    bool nullable;
    sl_schema_rules_set *rules; /* owned; NULL (most fields): none */
    unsigned char name_len;
    unsigned char prefix_len;
    char name[SL_SCHEMA_NAME_MAX + 1];   /* NUL-terminated */
    char prefix[SL_SCHEMA_NAME_MAX + 4]; /* ,"name": ready to copy out */
} sl_field;

struct sl_schema {
    sl_unknown_policy policy;
    sl_schema_limits lim;  /* as set */
    sl_schema_limits max;  /* the same with "none" as SIZE_MAX: one
                              comparison each on the per-record path */
    sl_field *fields;
    size_t n, cap;
    uint16_t *slots; /* field index + 1 by name hash; NULL up to LINEAR_MAX */
    size_t nslots;   /* power of two, at least twice n */
    sl_schema_post_fn post; /* the owner's check of an encoded record */
    const void *post_ud;
};

/* Where a field's value lies in the input (p == NULL: not seen yet). */
typedef struct span {
    const char *p;
    size_t len;
} span;

static const char *const type_names[SL_TYPE__COUNT] = {
    "string", "integer", "number", "boolean", "date", "datetime"};

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

void sl_schema_free(sl_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        sl_schema_rules_free(s->fields[i].rules);
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

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u; /* FNV-1a 32 */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* a[0..n) == b[0..n), without a libc call: names are short, and this runs
 * for every key of every record. Reads stay inside both ranges. */
static inline bool same_bytes(const char *a, const char *b, size_t n)
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

static size_t find(const sl_schema *s, const char *k, size_t len)
{
    if (s->slots) {
        size_t mask = s->nslots - 1;
        for (size_t h = name_hash(k, len) & mask;; h = (h + 1) & mask) {
            unsigned v = s->slots[h];
            if (v == 0)
                return NOT_FOUND;
            const sl_field *f = &s->fields[v - 1];
            if (f->name_len == len && same_bytes(f->name, k, len))
                return v - 1;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        if (s->fields[i].name_len == len &&
            same_bytes(s->fields[i].name, k, len))
            return i;
    return NOT_FOUND;
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
        size_t h = name_hash(f->name, f->name_len) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = (uint16_t)(i + 1);
    }
    free(s->slots);
    s->slots = slots;
    s->nslots = ns;
    return 0;
}

static int add_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int add_fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
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

int sl_schema_add(sl_schema *s, const char *name, sl_schema_type type, bool nullable,
                  char *err, size_t errlen)
{
    size_t len = name ? strlen(name) : 0;
    char shown[SL_SCHEMA_NAME_MAX + 1];
    if (len == 0)
        return add_fail(err, errlen, "field name is empty");
    printable(shown, sizeof shown, name, len);
    if (len > SL_SCHEMA_NAME_MAX)
        return add_fail(err, errlen,
                        "field name \"%.32s...\" is longer than %d bytes",
                        shown, SL_SCHEMA_NAME_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == '"' || c == '\\')
            return add_fail(err, errlen,
                            "field name \"%s\" contains a character that "
                            "needs escaping in JSON (control character, "
                            "quote or backslash)", shown);
    }
    /* the prefix is copied verbatim into records, so it must be JSON:
     * let the scanner judge the quoted name (UTF-8 is what remains) */
    char prefix[SL_SCHEMA_NAME_MAX + 5];
    int plen = snprintf(prefix, sizeof prefix, ",\"%s\":", name);
    sl_json js;
    sl_json_token t;
    sl_json_init(&js, prefix + 1, (size_t)plen - 2, 1);
    if (sl_json_next(&js, &t) != SL_JSON_STRING ||
        sl_json_next(&js, &t) != SL_JSON_END)
        return add_fail(err, errlen, "field name \"%s\" is not valid UTF-8",
                        shown);
    if ((unsigned)type >= SL_TYPE__COUNT)
        return add_fail(err, errlen, "field \"%s\": unknown type %d", shown,
                        (int)type);
    if (find(s, name, len) != NOT_FOUND)
        return add_fail(err, errlen, "duplicate field \"%s\"", shown);
    if (s->n >= SL_SCHEMA_MAX_FIELDS)
        return add_fail(err, errlen, "too many fields (at most %d)",
                        SL_SCHEMA_MAX_FIELDS);
    if (s->n == s->cap) {
        size_t ncap = s->cap ? 2 * s->cap : 8;
        sl_field *nf = realloc(s->fields, ncap * sizeof *nf);
        if (!nf)
            return add_fail(err, errlen, "out of memory");
        s->fields = nf;
        s->cap = ncap;
    }
    sl_field *f = &s->fields[s->n];
    f->type = type;
    f->nullable = nullable;
    f->rules = NULL;
    f->name_len = (unsigned char)len;
    f->prefix_len = (unsigned char)plen;
    memcpy(f->name, name, len + 1);
    memcpy(f->prefix, prefix, (size_t)plen);
    if (s->n + 1 > LINEAR_MAX && rebuild_slots(s, s->n + 1) != 0)
        return add_fail(err, errlen, "out of memory");
    s->n++;
    return 0;
}

int sl_schema_set_rules(sl_schema *s, size_t i, const sl_schema_rules *r,
                        char *err, size_t errlen)
{
    sl_schema_rules_set *set = NULL;
    if (i >= s->n)
        return add_fail(err, errlen, "no field %zu", i);
    sl_field *f = &s->fields[i];
    if (r && !sl_schema_rules_empty(r)) {
        sl_schema_rules_kind kind = f->type == SL_TYPE_STRING
                                        ? SL_SCHEMA_RULES_STRING
                                    : f->type == SL_TYPE_INTEGER
                                        ? SL_SCHEMA_RULES_INTEGER
                                        : SL_SCHEMA_RULES_NUMBER;
        char why[128] = "";
        if ((f->type != SL_TYPE_STRING && f->type != SL_TYPE_INTEGER &&
             f->type != SL_TYPE_NUMBER) ||
            !(set = sl_schema_rules_new(kind, r, why, sizeof why)))
            return add_fail(err, errlen, "field \"%s\": %s", f->name,
                            *why ? why : "no rules for this type");
    }
    sl_schema_rules_free(f->rules);
    f->rules = set;
    return 0;
}

void sl_schema_fingerprint(const sl_schema *s, char out[17])
{
    uint64_t h = 14695981039346656037u; /* FNV-1a 64 */
#define FP_FEED(str, n)                                                     \
    do {                                                                    \
        const unsigned char *b_ = (const unsigned char *)(str);             \
        for (size_t i_ = 0; i_ < (n); i_++)                                 \
            h = (h ^ b_[i_]) * 1099511628211u;                              \
    } while (0)
    /* canonical form: a version line, the policy, one line per field with
     * tab-separated name, type and 0/1 (names hold no tabs or newlines) */
    const char *head = s->policy == SL_UNKNOWN_DROP
                           ? "sluice-schema-v1\npolicy=drop\n"
                           : "sluice-schema-v1\npolicy=reject\n";
    FP_FEED(head, strlen(head));
    for (size_t i = 0; i < s->n; i++) {
        const sl_field *f = &s->fields[i];
        const char *tn = type_names[f->type];
        FP_FEED(f->name, f->name_len);
        FP_FEED("\t", 1);
        FP_FEED(tn, strlen(tn));
        FP_FEED(f->nullable ? "\t1\n" : "\t0\n", 3);
    }
#undef FP_FEED
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* ---- errors ------------------------------------------------------------ */

/* Copy at most cap-1 bytes of p, not cutting a UTF-8 sequence; returns
 * whether it was cut short. */
static bool clip(char *dst, size_t cap, const char *p, size_t n)
{
    bool cut = n > cap - 1;
    if (cut) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, p, n);
    dst[n] = '\0';
    return cut;
}

static sl_schema_rc reject(sl_schema_error *err, const char *field,
                           size_t flen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static sl_schema_rc reject(sl_schema_error *err, const char *field,
                           size_t flen, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        clip(err->field, sizeof err->field, field, flen);
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return SL_SCHEMA_INVALID;
}

static sl_schema_rc syntax(const sl_json *js, sl_schema_error *err)
{
    if (err) {
        err->field[0] = '\0';
        snprintf(err->msg, sizeof err->msg, "malformed JSON at byte %zu: %s",
                 js->err_off, js->err ? js->err : "invalid JSON");
    }
    return SL_SCHEMA_SYNTAX;
}

/* A string token's raw text, clipped, for quoting in a message. */
static const char *show(char buf[SHOW_MAX + 4], const sl_json_token *v)
{
    if (clip(buf, SHOW_MAX + 1, v->p, v->len))
        strcat(buf, "...");
    return buf;
}

/* ---- type checks ------------------------------------------------------- */

/* An integer literal (JSON grammar already checked) within int64? Fewer
 * than 19 digits always is; 19 are compared with the limit. */
static bool int64_fits(const char *p, size_t len)
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
static bool number_finite(const sl_json_token *v)
{
    double d;
    if (!(v->flags & SL_JSON_F_EXP) && v->len <= 308)
        return true;
    return sl_json_parse_double(v->p, v->len, &d) == 0;
}

static const char *const SHAPE = "shape";

/* Check a date/datetime string token; NULL or the reason. Escaped text is
 * decoded first (it only passes if the escapes spell digits etc.). Inline:
 * it runs for every date and datetime field of every record. */
static inline const char *check_temporal(sl_schema_type type, const sl_json_token *v)
{
    char buf[48];
    const char *p = v->p;
    size_t n = v->len;
    if (v->flags & SL_JSON_F_ESCAPED) {
        if (sl_json_unescape_into(v->p, v->len, buf, sizeof buf, &n) != 0)
            return type == SL_TYPE_DATE ? SHAPE : "value is too long";
        p = buf;
    }
    sl_time_rc rc = type == SL_TYPE_DATE
                        ? sl_time_parse_date(p, n, NULL)
                        : sl_time_check_rfc3339(p, n);
    if (rc == SL_TIME_E_SHAPE && type == SL_TYPE_DATE)
        return SHAPE;
    return rc == SL_TIME_OK ? NULL : sl_time_rc_str(rc);
}

/* Field f's rules on a value that passed the type check; out of line, so
 * that a field without rules pays one test of f->rules. */
static __attribute__((noinline)) sl_schema_rc
check_rules(const sl_field *f, const sl_json_token *v, sl_schema_error *err)
{
    char msg[sizeof err->msg];
    if (sl_schema_rules_check(f->rules, v, msg, sizeof msg) != 0)
        return reject(err, f->name, f->name_len, "%s", msg);
    return SL_SCHEMA_OK;
}

/* Check field f's value token; on success record where its JSON text is. */
static sl_schema_rc check_value(const sl_schema *s, const sl_field *f,
                                const sl_json_token *v, span *out,
                                sl_schema_error *err)
{
    char sbuf[SHOW_MAX + 4];
    const char *why;
    if (v->type == SL_JSON_NULL) {
        if (!f->nullable)
            return reject(err, f->name, f->name_len, "null is not allowed");
        *out = (span){v->p, v->len};
        return SL_SCHEMA_OK;
    }
    switch (f->type) {
    case SL_TYPE_STRING:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if (v->len > s->max.string_bytes)
            return reject(err, f->name, f->name_len, "string is %zu bytes, "
                          "more than limits.string_bytes (%zu)", v->len,
                          s->lim.string_bytes);
        break;
    case SL_TYPE_INTEGER:
        if (v->type != SL_JSON_NUMBER)
            goto mismatch;
        if (!(v->flags & SL_JSON_F_INT)) {
            bool cut = v->len > 32;
            return reject(err, f->name, f->name_len,
                          "expected integer, got number %.*s%s",
                          cut ? 32 : (int)v->len, v->p, cut ? "..." : "");
        }
        if (!int64_fits(v->p, v->len))
            return reject(err, f->name, f->name_len,
                          "integer out of range (64-bit)");
        break;
    case SL_TYPE_NUMBER:
        if (v->type != SL_JSON_NUMBER)
            goto mismatch;
        if (!number_finite(v))
            return reject(err, f->name, f->name_len, "number out of range");
        break;
    case SL_TYPE_BOOLEAN:
        if (v->type != SL_JSON_TRUE && v->type != SL_JSON_FALSE)
            goto mismatch;
        break;
    case SL_TYPE_DATE:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if ((why = check_temporal(f->type, v)) == SHAPE)
            return reject(err, f->name, f->name_len,
                          "invalid date \"%s\" (expected YYYY-MM-DD)",
                          show(sbuf, v));
        if (why)
            return reject(err, f->name, f->name_len, "invalid date \"%s\": %s",
                          show(sbuf, v), why);
        break;
    case SL_TYPE_DATETIME:
        if (v->type != SL_JSON_STRING)
            goto mismatch;
        if ((why = check_temporal(f->type, v)) != NULL)
            return reject(err, f->name, f->name_len,
                          "invalid datetime \"%s\": %s", show(sbuf, v), why);
        break;
    default:
        goto mismatch;
    }
    if (__builtin_expect(f->rules != NULL, 0) &&
        check_rules(f, v, err) != SL_SCHEMA_OK)
        return SL_SCHEMA_INVALID;
    if (v->type == SL_JSON_STRING) /* keep the quotes: copied as is */
        *out = (span){v->p - 1, v->len + 2};
    else
        *out = (span){v->p, v->len};
    return SL_SCHEMA_OK;
mismatch:
    return reject(err, f->name, f->name_len, "expected %s, got %s",
                  type_names[f->type], sl_json_type_name(v->type));
}

/* ---- encoding ---------------------------------------------------------- */

/* Index of the field named by key token k, or NOT_FOUND; for keys that
 * are not simply the next field in schema order. */
static size_t lookup(const sl_schema *s, const sl_json_token *k)
{
    if (!(k->flags & SL_JSON_F_ESCAPED))
        return find(s, k->p, k->len);
    char name[SL_SCHEMA_NAME_MAX];
    size_t n;
    if (sl_json_unescape_into(k->p, k->len, name, sizeof name, &n) != 0)
        return NOT_FOUND; /* longer than any field name */
    return find(s, name, n);
}

static sl_schema_rc unknown_field(const sl_json_token *k, sl_schema_error *err)
{
    char name[sizeof err->field];
    size_t n;
    const char *msg = "unknown field (not in the schema)";
    if ((k->flags & SL_JSON_F_ESCAPED) &&
        sl_json_unescape_into(k->p, k->len, name, sizeof name - 1, &n) == 0)
        return reject(err, name, n, "%s", msg);
    return reject(err, k->p, k->len, "%s", msg);
}

/* Append the record: each field's prefix and value, in schema order. */
static sl_schema_rc emit_record(const sl_schema *s, const span *vals,
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

static sl_schema_rc encode_record(const sl_schema *s, sl_json *js,
                                  const sl_json_token *first, sl_buf *out,
                                  sl_schema_error *err)
{
    span vals[SL_SCHEMA_MAX_FIELDS];
    sl_json_token k, v;
    size_t n = s->n, want = 0, members = 0;
    bool in_order = true; /* so far each key was field `want`, unescaped */
    sl_schema_rc rc;

    if (first->type != SL_JSON_OBJECT_BEGIN) {
        if (first->type == SL_JSON_ERROR || sl_json_skip(js, first) != 0)
            return syntax(js, err);
        return reject(err, "", 0, "record must be a JSON object, got %s",
                      sl_json_type_name(first->type));
    }
    int base = js->depth - 1; /* depth once the record's '}' is read */
    memset(vals, 0, n * sizeof vals[0]);
    for (;;) {
        sl_json_type ty = sl_json_next(js, &k);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY)
            return syntax(js, err);
        if (++members > s->max.fields) {
            rc = reject(err, "", 0, "more than limits.fields (%zu) members",
                        s->lim.fields);
            goto skip_rest;
        }
        size_t i = want;
        if (!(i < n && s->fields[i].name_len == k.len &&
              !(k.flags & SL_JSON_F_ESCAPED) &&
              same_bytes(s->fields[i].name, k.p, k.len))) {
            in_order = false;
            if ((i = lookup(s, &k)) == NOT_FOUND) {
                if (s->policy == SL_UNKNOWN_REJECT) {
                    rc = unknown_field(&k, err);
                    goto skip_rest;
                }
                if (sl_json_next(js, &v) == SL_JSON_ERROR ||
                    sl_json_skip(js, &v) != 0)
                    return syntax(js, err);
                continue;
            }
        }
        const sl_field *f = &s->fields[i];
        want = i + 1;
        if (vals[i].p) {
            rc = reject(err, f->name, f->name_len, "duplicate field");
            goto skip_rest;
        }
        if (sl_json_next(js, &v) == SL_JSON_ERROR)
            return syntax(js, err);
        if ((rc = check_value(s, f, &v, &vals[i], err)) != SL_SCHEMA_OK)
            goto skip_rest;
    }

    /* the whole record is read: its size, then fill in nulls, size the
     * encoding, copy it out */
    size_t in_len = (size_t)(k.p + 1 - first->p);
    if (in_len > s->max.record_bytes)
        return reject(err, "", 0, "record is %zu bytes, more than "
                      "limits.record_bytes (%zu)", in_len, s->lim.record_bytes);
    size_t total = n ? 1 : 2; /* '}', and '{' unless a prefix's ',' is it */
    for (size_t i = 0; i < n; i++) {
        const sl_field *f = &s->fields[i];
        if (!vals[i].p) {
            if (!f->nullable)
                return reject(err, f->name, f->name_len,
                              "required field is missing");
            vals[i] = (span){"null", 4};
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
    return emit_record(s, vals, total, out);

skip_rest: /* leave the scanner after the record so the next one can follow */
    while (js->depth > base)
        if (sl_json_next(js, &k) == SL_JSON_ERROR)
            return syntax(js, err);
    return rc;
}

void sl_schema_set_post(sl_schema *s, sl_schema_post_fn fn, const void *ud)
{
    s->post = fn;
    s->post_ud = ud;
}

/* encode_record, then the owner's check of what it wrote. Not inlined,
 * so that sl_schema_encode without a check is one test and a jump. */
__attribute__((noinline)) static sl_schema_rc
encode_checked(const sl_schema *s, sl_json *js, const sl_json_token *first,
               sl_buf *out, sl_schema_error *err)
{
    size_t mark = out->len;
    sl_schema_rc rc = encode_record(s, js, first, out, err);
    if (rc == SL_SCHEMA_OK &&
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
    if (!s->post) /* a tail call: no cost without a check */
        return encode_record(s, js, first, out, err);
    return encode_checked(s, js, first, out, err);
}
