/* sl_schema_rules: a field's enum, min/max and min_length/max_length,
 * compiled into one block and checked on the value as the JSON means it
 * (decoded strings, exact int64, double for numbers). */
#include "sl_schema_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_err.h"

#define SHOW_MAX 40 /* bytes of a received value quoted in a message */

struct sl_schema_rules_set {
    sl_schema_rules_kind kind;
    int64_t imin, imax;       /* integer; INT64_MIN/MAX when not set */
    double nmin, nmax;        /* number; -HUGE_VAL/HUGE_VAL when not set */
    size_t min_length;        /* string; 0 when not set */
    size_t max_length;        /* SIZE_MAX when not set */
    size_t sure_length;       /* 12 * min_length: a raw string this long
                                 has at least min_length code points */
    size_t nenum;
    size_t enum_longest;      /* bytes of the longest enum value */
    sl_schema_text *enums;    /* nenum values, in this block */
};

bool sl_schema_rules_empty(const sl_schema_rules *r)
{
    return !r->nenum && !r->has_min && !r->has_max && !r->has_min_length &&
           !r->has_max_length;
}

static bool same_text(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && memcmp(a, b, alen) == 0;
}

/* Everything that does not fit the kind or is out of its range. */
static const char *misfit(sl_schema_rules_kind kind, const sl_schema_rules *r)
{
    bool str = kind == SL_SCHEMA_RULES_STRING;
    if (!str && (r->nenum || r->has_min_length || r->has_max_length))
        return "enum, min_length and max_length are only for strings";
    if (str && (r->has_min || r->has_max))
        return "min and max are only for integers and numbers";
    if (kind == SL_SCHEMA_RULES_NUMBER &&
        ((r->has_min && !isfinite(r->nmin)) ||
         (r->has_max && !isfinite(r->nmax))))
        return "min and max must be finite";
    if (r->has_min && r->has_max &&
        (kind == SL_SCHEMA_RULES_INTEGER ? r->imin > r->imax
                                         : !(r->nmin <= r->nmax)))
        return "min is greater than max";
    if ((r->has_min_length && r->min_length > SL_SCHEMA_RULES_LENGTH_MAX) ||
        (r->has_max_length && r->max_length > SL_SCHEMA_RULES_LENGTH_MAX))
        return "min_length and max_length are at most 67108864";
    if (r->has_min_length && r->has_max_length &&
        r->min_length > r->max_length)
        return "min_length is greater than max_length";
    if (r->nenum > SL_SCHEMA_RULES_ENUM_MAX)
        return "more than 256 enum values";
    return NULL;
}

/* Whether r can be compiled for kind: 0 with *bytes the enum values'
 * total, or -1 with err set. */
static int rules_fit(sl_schema_rules_kind kind, const sl_schema_rules *r,
                     size_t *bytes, char *err, size_t errlen)
{
    const char *why = misfit(kind, r);
    if (why)
        return sl_err_fail(err, errlen, "%s", why);
    *bytes = 0;
    for (size_t i = 0; i < r->nenum; i++) {
        const sl_schema_text *e = &r->enum_values[i];
        if (e->len > SL_SCHEMA_RULES_VALUE_MAX)
            return sl_err_fail(err, errlen, "enum value %zu is longer than "
                               "%d bytes", i + 1, SL_SCHEMA_RULES_VALUE_MAX);
        if (!sl_json_utf8_valid(e->p, e->len))
            return sl_err_fail(err, errlen, "enum value %zu is not valid "
                               "UTF-8", i + 1);
        for (size_t j = 0; j < i; j++)
            if (same_text(e->p, e->len, r->enum_values[j].p,
                          r->enum_values[j].len))
                return sl_err_fail(err, errlen, "enum value %zu is value %zu "
                                   "again", i + 1, j + 1);
        *bytes += e->len;
    }
    return 0;
}

sl_schema_rules_set *sl_schema_rules_new(sl_schema_rules_kind kind,
                                         const sl_schema_rules *r, char *err,
                                         size_t errlen)
{
    size_t bytes = 0;
    if (rules_fit(kind, r, &bytes, err, errlen) != 0)
        return NULL;
    sl_schema_rules_set *set =
        malloc(sizeof *set + r->nenum * sizeof(sl_schema_text) + bytes);
    if (!set) {
        sl_err_set(err, errlen, "out of memory");
        return NULL;
    }
    *set = (sl_schema_rules_set){
        .kind = kind,
        .imin = r->has_min ? r->imin : INT64_MIN,
        .imax = r->has_max ? r->imax : INT64_MAX,
        .nmin = r->has_min ? r->nmin : -HUGE_VAL,
        .nmax = r->has_max ? r->nmax : HUGE_VAL,
        .min_length = r->has_min_length ? r->min_length : 0,
        .max_length = r->has_max_length ? r->max_length : SIZE_MAX,
        .nenum = r->nenum,
        .enums = (sl_schema_text *)(set + 1)};
    set->sure_length = 12 * set->min_length;
    char *w = (char *)(set->enums + r->nenum);
    for (size_t i = 0; i < r->nenum; i++) {
        size_t n = r->enum_values[i].len;
        if (n)
            memcpy(w, r->enum_values[i].p, n);
        set->enums[i] = (sl_schema_text){w, n};
        w += n;
        if (n > set->enum_longest)
            set->enum_longest = n;
    }
    return set;
}

void sl_schema_rules_free(sl_schema_rules_set *set) { free(set); }

void sl_schema_rules_get(const sl_schema_rules_set *set, sl_schema_rules *out)
{
    *out = (sl_schema_rules){
        .enum_values = set->enums,
        .nenum = set->nenum,
        .has_min = set->kind == SL_SCHEMA_RULES_INTEGER
                       ? set->imin != INT64_MIN
                       : set->kind == SL_SCHEMA_RULES_NUMBER &&
                             set->nmin != -HUGE_VAL,
        .has_max = set->kind == SL_SCHEMA_RULES_INTEGER
                       ? set->imax != INT64_MAX
                       : set->kind == SL_SCHEMA_RULES_NUMBER &&
                             set->nmax != HUGE_VAL,
        .imin = set->imin,
        .imax = set->imax,
        .nmin = set->nmin,
        .nmax = set->nmax,
        .has_min_length = set->min_length != 0,
        .has_max_length = set->max_length != SIZE_MAX,
        .min_length = set->min_length,
        .max_length = set->max_length};
}

/* ---- messages ----------------------------------------------------------- */

/* Append to msg (cap bytes, msg[*n] the end) as snprintf would, keeping
 * *n within the buffer. */
static void put(char *msg, size_t cap, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *msg, size_t cap, size_t *n, const char *fmt, ...)
{
    va_list ap;
    if (*n >= cap)
        return;
    va_start(ap, fmt);
    int k = vsnprintf(msg + *n, cap - *n, fmt, ap);
    va_end(ap);
    *n = k < 0 ? *n : *n + (size_t)k < cap ? *n + (size_t)k : cap - 1;
}

/* A received string token as written (its escapes kept), at most SHOW_MAX
 * bytes, not cutting a UTF-8 sequence. */
static void put_raw(char *msg, size_t cap, size_t *n, const sl_json_token *v)
{
    size_t len = v->len;
    if (len > SHOW_MAX) {
        len = SHOW_MAX;
        while (len > 0 && ((unsigned char)v->p[len] & 0xC0) == 0x80)
            len--;
    }
    put(msg, cap, n, "\"%.*s%s\"", (int)len, v->p,
        len < v->len ? "..." : "");
}

/* An enum value as a JSON string (quotes, backslashes and control
 * characters escaped) into buf; the length, or 0 when it needs more than
 * cap - 1 bytes. */
static size_t quoted(char *buf, size_t cap, const sl_schema_text *e)
{
    size_t n = 0;
    if (cap < 3)
        return 0;
    buf[n++] = '"';
    for (size_t i = 0; i < e->len; i++) {
        unsigned char c = (unsigned char)e->p[i];
        if (n + 7 >= cap)
            return 0;
        if (c == '"' || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            n += (size_t)snprintf(buf + n, cap - n, "\\u%04x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    buf[n++] = '"';
    buf[n] = '\0';
    return n;
}

/* The enum values in parentheses, as many as fit the message (room kept
 * for " ... N more)"). */
static void put_enum(char *msg, size_t cap, size_t *n,
                     const sl_schema_rules_set *set)
{
    enum { TAIL = 20 }; /* ", ... 256 more)" */
    char one[SHOW_MAX + 8];
    put(msg, cap, n, "(");
    for (size_t i = 0; i < set->nenum; i++) {
        size_t len = quoted(one, sizeof one, &set->enums[i]);
        if (len == 0 || *n + len + 2 + TAIL >= cap) {
            put(msg, cap, n, "%s... %zu more)", i ? ", " : "",
                set->nenum - i);
            return;
        }
        put(msg, cap, n, "%s%s", i ? ", " : "", one);
    }
    put(msg, cap, n, ")");
}

/* A double as the shortest of %.15g..%.17g that reads back the same. */
static void put_double(char *msg, size_t cap, size_t *n, double d)
{
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    put(msg, cap, n, "%s", buf);
}

/* ---- description -------------------------------------------------------- */

void sl_schema_rules_describe(const sl_schema_rules_set *set, char *buf,
                              size_t cap)
{
    char one[SHOW_MAX + 8];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < set->nenum; i++) {
        size_t len = quoted(one, sizeof one, &set->enums[i]);
        if (len == 0 || n > 60) {
            put(buf, cap, &n, ", ... (%zu values)", set->nenum);
            break;
        }
        put(buf, cap, &n, "%s%s", i ? ", " : "enum ", one);
    }
    if (set->kind == SL_SCHEMA_RULES_INTEGER) {
        if (set->imin != INT64_MIN)
            put(buf, cap, &n, "%smin %lld", n ? "; " : "",
                (long long)set->imin);
        if (set->imax != INT64_MAX)
            put(buf, cap, &n, "%smax %lld", n ? "; " : "",
                (long long)set->imax);
    } else if (set->kind == SL_SCHEMA_RULES_NUMBER) {
        if (set->nmin != -HUGE_VAL) {
            put(buf, cap, &n, "%smin ", n ? "; " : "");
            put_double(buf, cap, &n, set->nmin);
        }
        if (set->nmax != HUGE_VAL) {
            put(buf, cap, &n, "%smax ", n ? "; " : "");
            put_double(buf, cap, &n, set->nmax);
        }
    }
    if (set->min_length)
        put(buf, cap, &n, "%smin_length %zu", n ? "; " : "", set->min_length);
    if (set->max_length != SIZE_MAX)
        put(buf, cap, &n, "%smax_length %zu", n ? "; " : "", set->max_length);
}

/* ---- checks ------------------------------------------------------------ */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : 0;
}

/* Code points of a validated string token: UTF-8 lead bytes, plus one per
 * escape except the second half of a surrogate pair (\uDC00-\uDFFF, which
 * the scanner accepts only after a first half). */
static size_t code_points(const sl_json_token *v)
{
    const unsigned char *p = (const unsigned char *)v->p;
    size_t n = v->len, cp = 0;
    if (!(v->flags & SL_JSON_F_ESCAPED)) {
        for (size_t i = 0; i < n; i++)
            cp += (p[i] & 0xC0) != 0x80;
        return cp;
    }
    for (size_t i = 0; i < n;) {
        if (p[i] != '\\') {
            cp += (p[i] & 0xC0) != 0x80;
            i++;
        } else if (p[i + 1] == 'u') {
            int hi = hexval((char)p[i + 2]) << 4 | hexval((char)p[i + 3]);
            cp += !(hi >= 0xDC && hi <= 0xDF);
            i += 6;
        } else {
            cp++;
            i += 2;
        }
    }
    return cp;
}

static bool in_enum(const sl_schema_rules_set *set, const sl_json_token *v)
{
    char buf[SL_SCHEMA_RULES_VALUE_MAX];
    const char *p = v->p;
    size_t n = v->len;
    if (v->flags & SL_JSON_F_ESCAPED) {
        if (sl_json_unescape_into(v->p, v->len, buf,
                                  set->enum_longest < sizeof buf
                                      ? set->enum_longest + 1 : sizeof buf,
                                  &n) != 0)
            return false; /* longer than every value */
        p = buf;
    }
    for (size_t i = 0; i < set->nenum; i++)
        if (same_text(p, n, set->enums[i].p, set->enums[i].len))
            return true;
    return false;
}

static int check_string(const sl_schema_rules_set *set, const sl_json_token *v,
                        char *msg, size_t cap)
{
    size_t n = 0;
    if (set->nenum && !in_enum(set, v)) {
        put_raw(msg, cap, &n, v);
        put(msg, cap, &n, " is not one of the enum values ");
        put_enum(msg, cap, &n, set);
        return -1;
    }
    /* the raw length bounds the code points: len/12 <= cp <= len */
    if (v->len <= set->max_length && v->len >= set->sure_length)
        return 0;
    size_t cp = code_points(v);
    if (cp > set->max_length)
        put(msg, cap, &n, "%zu character%s, more than max_length (%zu)", cp,
            cp == 1 ? "" : "s", set->max_length);
    else if (cp < set->min_length)
        put(msg, cap, &n, "%zu character%s, fewer than min_length (%zu)", cp,
            cp == 1 ? "" : "s", set->min_length);
    return n ? -1 : 0;
}

static void put_literal(char *msg, size_t cap, size_t *n,
                        const sl_json_token *v)
{
    bool cut = v->len > 32;
    put(msg, cap, n, "%.*s%s", cut ? 32 : (int)v->len, v->p, cut ? "..." : "");
}

int sl_schema_rules_check(const sl_schema_rules_set *set,
                          const sl_json_token *v, char *msg, size_t msglen)
{
    size_t n = 0;
    int64_t i;
    double d;
    switch (set->kind) {
    case SL_SCHEMA_RULES_STRING:
        return check_string(set, v, msg, msglen);
    case SL_SCHEMA_RULES_INTEGER:
        if (sl_json_parse_int64(v->p, v->len, &i) != 0)
            return 0; /* the type check refuses it */
        if (i >= set->imin && i <= set->imax)
            return 0;
        put_literal(msg, msglen, &n, v);
        put(msg, msglen, &n, i < set->imin ? " is less than min (%lld)"
                                           : " is greater than max (%lld)",
            (long long)(i < set->imin ? set->imin : set->imax));
        return -1;
    case SL_SCHEMA_RULES_NUMBER:
        if (sl_json_parse_double(v->p, v->len, &d) != 0)
            return 0;
        if (d >= set->nmin && d <= set->nmax)
            return 0;
        put_literal(msg, msglen, &n, v);
        put(msg, msglen, &n, d < set->nmin ? " is less than min ("
                                           : " is greater than max (");
        put_double(msg, msglen, &n, d < set->nmin ? set->nmin : set->nmax);
        put(msg, msglen, &n, ")");
        return -1;
    }
    return 0;
}
