/* sl_json: the pull scanner (RFC 8259 grammar, UTF-8 and escape checks) and
 * the helpers that turn its tokens into C values. */
#include "sl_json.h"

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SSE2 is part of x86-64; SL_JSON_NO_SSE2 forces the portable path (tests) */
#if defined(__SSE2__) && !defined(SL_JSON_NO_SSE2)
#define SL_JSON_SSE2 1
#include <emmintrin.h>
#endif

/* What the grammar expects at the next call (sl_json.state). */
enum {
    ST_VALUE = 0,    /* a value: document start, after ':', after ',' in [] */
    ST_ARRAY_FIRST,  /* after '[': a value or ']' */
    ST_OBJECT_FIRST, /* after '{': a key or '}' */
    ST_COLON,        /* after a key whose ':' was not yet seen */
    ST_AFTER,        /* after a value: ',' or the closer; END at top level */
    ST_DONE,
    ST_ERROR
};

enum { K_OBJECT = 0, K_ARRAY = 1 }; /* sl_json.stack entries */

#define NUMBER_MAX_LEN 512 /* longest literal sl_json_parse_double copies as
                              is; a longer one is shortened first */
#define NUMBER_SIG_MAX 800 /* significant digits kept of a longer literal:
                              more than the 767 that rounding a decimal to
                              the nearest double can depend on */

static inline bool is_digit(unsigned char c) { return (unsigned)c - '0' < 10u; }

static inline const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (unsigned char)*p <= ' ' &&
           (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

void sl_json_init(sl_json *s, const char *p, size_t len, int max_depth)
{
    s->start = p;
    s->cur = p;
    s->end = len ? p + len : p; /* p may be NULL when len is 0 */
    s->depth = 0;
    s->max_depth = (max_depth <= 0 || max_depth > SL_JSON_MAX_DEPTH)
                       ? SL_JSON_MAX_DEPTH : max_depth;
    s->state = ST_VALUE;
    s->err = NULL;
    s->err_off = 0;
    /* RFC 8259 section 8.1 lets a parser ignore a BOM; we refuse it so that
     * a record's bytes are exactly the JSON text we store and forward. */
    if (len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        s->state = ST_ERROR;
        s->err = "byte order mark not allowed";
    }
}

static sl_json_type fail(sl_json *s, sl_json_token *t, const char *at,
                         const char *msg)
{
    s->state = ST_ERROR;
    s->err = msg;
    s->err_off = (size_t)(at - s->start);
    s->cur = at;
    t->type = SL_JSON_ERROR;
    t->p = at;
    t->len = 0;
    t->flags = 0;
    return SL_JSON_ERROR;
}

static inline sl_json_type emit(sl_json *s, sl_json_token *t, sl_json_type ty,
                                const char *p, size_t len, unsigned flags,
                                const char *next, unsigned char state)
{
    t->type = ty;
    t->p = p;
    t->len = len;
    t->flags = flags;
    s->cur = next;
    s->state = state;
    return ty;
}

/* ---- strings ----------------------------------------------------------- */

static inline bool is_plain(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

#if !defined(SL_JSON_SSE2) && defined(__BYTE_ORDER__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__GNUC__)
#define SL_JSON_SWAR 1
/* High bit set in the byte of v (little-endian) that is the first '"', '\\',
 * control character or non-ASCII byte; bytes after it may also be flagged
 * (borrows only propagate upwards from a true hit), so the lowest bit is
 * exact. */
static inline uint64_t special_bytes(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | (v - ones * 0x20) | v) &
           (ones * 0x80);
}
#endif

#ifdef SL_JSON_SSE2
/* One bit per byte of the 16 at p: '"', '\\', control or non-ASCII. */
static inline unsigned special_mask16(const unsigned char *p)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    /* signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches
     * every non-ASCII byte */
    __m128i m = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
                     _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))),
        _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* First byte in [q, e) that ends a run of plain string bytes: '"', '\\', a
 * control character or a non-ASCII byte (e if none). Strings are most of a
 * record's bytes, so this tests 16 (SSE2) or 8 (SWAR) bytes per step.
 * `start` is the buffer's first byte: the last step may re-read bytes
 * before q (never before start) rather than go byte by byte. */
static inline const unsigned char *find_special(const unsigned char *q,
                                                const unsigned char *e,
                                                const unsigned char *start)
{
    (void)start; /* only the SSE2 path uses it */
#ifdef SL_JSON_SSE2
    unsigned bits;
    while (e - q >= 16) {
        if ((bits = special_mask16(q)) != 0)
            return q + __builtin_ctz(bits);
        q += 16;
    }
    if (q < e && e - start >= 16) {
        const unsigned char *b = e - 16; /* b <= q: bytes below q ignored */
        bits = special_mask16(b) >> (q - b);
        return bits ? q + __builtin_ctz(bits) : e;
    }
#elif defined(SL_JSON_SWAR)
    while (e - q >= 8) {
        uint64_t v, m;
        memcpy(&v, q, 8);
        if ((m = special_bytes(v)) != 0)
            return q + (__builtin_ctzll(m) >> 3);
        q += 8;
    }
#endif
    while (q < e && is_plain(*q))
        q++;
    return q;
}

static int hex4(const unsigned char *p, const unsigned char *e, unsigned *cp)
{
    unsigned v = 0;
    if (e - p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c - '0' < 10u)
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6u)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        v = v << 4 | d;
    }
    *cp = v;
    return 0;
}

/* RFC 3629's table of well-formed sequences (see sl_json.h). */
size_t sl_json_utf8_len(const unsigned char *s, size_t n, size_t *bad)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        need = 2;
    else if (c == 0xE0)
        need = 3, lo = 0xA0;
    else if (c == 0xED)
        need = 3, hi = 0x9F; /* no UTF-16 surrogates */
    else if (c >= 0xE1 && c <= 0xEF)
        need = 3;
    else if (c == 0xF0)
        need = 4, lo = 0x90;
    else if (c == 0xF4)
        need = 4, hi = 0x8F; /* <= U+10FFFF */
    else if (c >= 0xF1 && c <= 0xF3)
        need = 4;
    else {
        *bad = 1;
        return 0;
    }
    for (size_t i = 1; i < need; i++) {
        unsigned b = i < n ? s[i] : 0;
        if (i >= n || b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xBF)) {
            *bad = i;
            return 0;
        }
    }
    return need;
}

bool sl_json_utf8_valid(const char *p, size_t n)
{
    for (size_t i = 0, step, bad; i < n; i += step)
        if ((step = sl_json_utf8_len((const unsigned char *)p + i, n - i,
                                     &bad)) == 0)
            return false;
    return true;
}

/* The string whose opening quote is at `open`, from q, its first byte that
 * is not plain ASCII: escapes, UTF-8, errors. Returns the byte after the
 * closing quote, or NULL with s->err / s->err_off set. */
static __attribute__((noinline)) const char *
scan_string_slow(sl_json *s, const char *open, const unsigned char *q,
                 unsigned *flags)
{
    const unsigned char *e = (const unsigned char *)s->end;
    const char *msg;
    const unsigned char *start = (const unsigned char *)s->start;
    for (;; q = find_special(q, e, start)) {
        if (q == e) {
            msg = "unterminated string";
            q = (const unsigned char *)open;
            goto bad;
        }
        if (*q == '"')
            return (const char *)q + 1;
        if (*q == '\\') {
            unsigned cp, lo;
            *flags |= SL_JSON_F_ESCAPED;
            if (e - q < 2) {
                msg = "unterminated string";
                q = (const unsigned char *)open;
                goto bad;
            }
            switch (q[1]) {
            case '"': case '\\': case '/': case 'b':
            case 'f': case 'n': case 'r': case 't':
                q += 2;
                continue;
            case 'u':
                break;
            default:
                msg = "invalid escape in string";
                goto bad;
            }
            if (hex4(q + 2, e, &cp) != 0) {
                msg = "invalid \\u escape (expected 4 hex digits)";
                goto bad;
            }
            if (cp >= 0xDC00 && cp <= 0xDFFF) {
                msg = "lone surrogate in \\u escape";
                goto bad;
            }
            if (cp < 0xD800 || cp > 0xDBFF) {
                q += 6;
                continue;
            }
            /* a high surrogate: a low one must follow at once */
            if (e - q >= 8 && q[6] == '\\' && q[7] == 'u') {
                if (hex4(q + 8, e, &lo) != 0) {
                    q += 6;
                    msg = "invalid \\u escape (expected 4 hex digits)";
                    goto bad;
                }
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    q += 12;
                    continue;
                }
            }
            msg = "lone surrogate in \\u escape";
            goto bad;
        }
        if (*q < 0x20) {
            msg = "control character in string";
            goto bad;
        }
        size_t bad, n = sl_json_utf8_len(q, (size_t)(e - q), &bad);
        if (n == 0) {
            msg = "invalid UTF-8 in string";
            goto bad;
        }
        q += n;
    }
bad:
    s->state = ST_ERROR;
    s->err = msg;
    s->err_off = (size_t)((const char *)q - s->start);
    s->cur = (const char *)q;
    return NULL;
}

/* A string token whose closing quote is at q - 1: a STRING, or a KEY that
 * takes the ':' now when it follows directly (the usual case). */
static inline sl_json_type string_done(sl_json *s, sl_json_token *t,
                                       const char *p, const char *q,
                                       unsigned flags, sl_json_type ty)
{
    if (ty == SL_JSON_STRING)
        return emit(s, t, ty, p + 1, (size_t)(q - p - 2), flags, q, ST_AFTER);
    if (q < s->end && *q == ':')
        return emit(s, t, ty, p + 1, (size_t)(q - p - 2), flags, q + 1,
                    ST_VALUE);
    return emit(s, t, ty, p + 1, (size_t)(q - p - 2), flags, q, ST_COLON);
}

/* string_token past its first byte that is not plain ASCII. */
static __attribute__((noinline)) sl_json_type
string_token_slow(sl_json *s, sl_json_token *t, const char *p,
                  const unsigned char *q, sl_json_type ty)
{
    unsigned flags = 0;
    const char *end = scan_string_slow(s, p, q, &flags);
    if (!end)
        return fail(s, t, s->cur, s->err);
    return string_done(s, t, p, end, flags, ty);
}

/* The string whose opening quote is at p. The common all-ASCII, no-escape
 * case has no call in it (so nothing to save around one); anything else
 * goes on in string_token_slow. */
static sl_json_type string_token(sl_json *s, sl_json_token *t, const char *p,
                                 sl_json_type ty)
{
    const unsigned char *e = (const unsigned char *)s->end;
    const unsigned char *q = find_special((const unsigned char *)p + 1, e,
                                          (const unsigned char *)s->start);
    if (q < e && *q == '"')
        return string_done(s, t, p, (const char *)q + 1, 0, ty);
    return string_token_slow(s, t, p, q, ty);
}

static sl_json_type scan_key(sl_json *s, sl_json_token *t, const char *p)
{
    if (p == s->end)
        return fail(s, t, p, "unexpected end of input");
    if (*p != '"')
        return fail(s, t, p, "expected a string key");
    return string_token(s, t, p, SL_JSON_KEY);
}

/* ---- values ------------------------------------------------------------ */

static sl_json_type scan_number(sl_json *s, sl_json_token *t, const char *p)
{
    const char *q = p, *e = s->end;
    unsigned flags = SL_JSON_F_INT;
    if (*q == '-') {
        q++;
        if (q < e && *q == 'I')
            return fail(s, t, p, "NaN and Infinity are not JSON");
        if (q == e || !is_digit((unsigned char)*q))
            return fail(s, t, q, "expected a digit after '-'");
    }
    if (*q == '0') {
        q++;
        if (q < e && is_digit((unsigned char)*q))
            return fail(s, t, q, "leading zeros are not allowed");
    } else {
        while (q < e && is_digit((unsigned char)*q))
            q++;
    }
    if (q < e && *q == '.') {
        q++;
        flags = 0;
        if (q == e || !is_digit((unsigned char)*q))
            return fail(s, t, q, "expected a digit after '.'");
        while (q < e && is_digit((unsigned char)*q))
            q++;
    }
    if (q < e && (*q == 'e' || *q == 'E')) {
        q++;
        flags = SL_JSON_F_EXP;
        if (q < e && (*q == '+' || *q == '-'))
            q++;
        if (q == e || !is_digit((unsigned char)*q))
            return fail(s, t, q, "expected a digit in exponent");
        while (q < e && is_digit((unsigned char)*q))
            q++;
    }
    return emit(s, t, SL_JSON_NUMBER, p, (size_t)(q - p), flags, q, ST_AFTER);
}

static inline sl_json_type scan_literal(sl_json *s, sl_json_token *t,
                                        const char *p, const char *word,
                                        size_t n, sl_json_type ty)
{
    const char *e = s->end;
    if ((size_t)(e - p) < n || memcmp(p, word, n) != 0)
        return fail(s, t, p, "invalid literal");
    if (p + n < e) { /* "truex" is one bad word, not true then garbage */
        unsigned char c = (unsigned char)p[n];
        if (c == '_' || is_digit(c) || ((unsigned)c | 0x20) - 'a' < 26u)
            return fail(s, t, p, "invalid literal");
    }
    return emit(s, t, ty, p, n, 0, p + n, ST_AFTER);
}

static sl_json_type open_container(sl_json *s, sl_json_token *t, const char *p,
                                   unsigned char kind)
{
    if (s->depth >= s->max_depth)
        return fail(s, t, p, "nesting deeper than the depth limit");
    s->stack[s->depth++] = kind;
    if (kind == K_OBJECT)
        return emit(s, t, SL_JSON_OBJECT_BEGIN, p, 1, 0, p + 1,
                    ST_OBJECT_FIRST);
    return emit(s, t, SL_JSON_ARRAY_BEGIN, p, 1, 0, p + 1, ST_ARRAY_FIRST);
}

static sl_json_type close_container(sl_json *s, sl_json_token *t,
                                    const char *p, sl_json_type ty)
{
    s->depth--;
    return emit(s, t, ty, p, 1, 0, p + 1, ST_AFTER);
}

static sl_json_type scan_value(sl_json *s, sl_json_token *t, const char *p)
{
    p = skip_ws(p, s->end);
    if (p == s->end)
        return fail(s, t, p, "unexpected end of input");
    switch (*p) {
    case '"':
        return string_token(s, t, p, SL_JSON_STRING);
    case '{':
        return open_container(s, t, p, K_OBJECT);
    case '[':
        return open_container(s, t, p, K_ARRAY);
    case '-': case '0': case '1': case '2': case '3': case '4':
    case '5': case '6': case '7': case '8': case '9':
        return scan_number(s, t, p);
    case 't':
        return scan_literal(s, t, p, "true", 4, SL_JSON_TRUE);
    case 'f':
        return scan_literal(s, t, p, "false", 5, SL_JSON_FALSE);
    case 'n':
        return scan_literal(s, t, p, "null", 4, SL_JSON_NULL);
    case 'N': case 'I':
        return fail(s, t, p, "NaN and Infinity are not JSON");
    default:
        return fail(s, t, p, "expected a value");
    }
}

sl_json_type sl_json_next(sl_json *s, sl_json_token *t)
{
    const char *p = s->cur, *e = s->end;
    switch (s->state) {
    case ST_VALUE:
        break;
    case ST_AFTER:
        p = skip_ws(p, e);
        if (s->depth == 0) {
            if (p != e)
                return fail(s, t, p, "trailing characters after the document");
            return emit(s, t, SL_JSON_END, p, 0, 0, p, ST_DONE);
        }
        if (p == e)
            return fail(s, t, p, "unexpected end of input");
        if (s->stack[s->depth - 1] == K_OBJECT) {
            if (*p == '}')
                return close_container(s, t, p, SL_JSON_OBJECT_END);
            if (*p != ',')
                return fail(s, t, p, "expected ',' or '}'");
            p = skip_ws(p + 1, e);
            if (p < e && *p == '}')
                return fail(s, t, p, "trailing comma before '}'");
            return scan_key(s, t, p);
        }
        if (*p == ']')
            return close_container(s, t, p, SL_JSON_ARRAY_END);
        if (*p != ',')
            return fail(s, t, p, "expected ',' or ']'");
        p = skip_ws(p + 1, e);
        if (p < e && *p == ']')
            return fail(s, t, p, "trailing comma before ']'");
        break;
    case ST_ARRAY_FIRST:
        p = skip_ws(p, e);
        if (p < e && *p == ']')
            return close_container(s, t, p, SL_JSON_ARRAY_END);
        break;
    case ST_OBJECT_FIRST:
        p = skip_ws(p, e);
        if (p < e && *p == '}')
            return close_container(s, t, p, SL_JSON_OBJECT_END);
        return scan_key(s, t, p);
    case ST_COLON:
        p = skip_ws(p, e);
        if (p == e)
            return fail(s, t, p, "unexpected end of input");
        if (*p != ':')
            return fail(s, t, p, "expected ':' after object key");
        p++;
        break;
    case ST_DONE:
        return emit(s, t, SL_JSON_END, p, 0, 0, p, ST_DONE);
    default: /* ST_ERROR: stay failed, at the same place */
        t->type = SL_JSON_ERROR;
        t->p = s->start + s->err_off;
        t->len = 0;
        t->flags = 0;
        return SL_JSON_ERROR;
    }
    return scan_value(s, t, p);
}

int sl_json_skip(sl_json *s, const sl_json_token *first)
{
    if (first->type == SL_JSON_ERROR)
        return -1;
    if (first->type != SL_JSON_OBJECT_BEGIN &&
        first->type != SL_JSON_ARRAY_BEGIN)
        return 0;
    int base = s->depth - 1;
    sl_json_token t;
    for (;;) {
        sl_json_type ty = sl_json_next(s, &t);
        if (ty == SL_JSON_ERROR)
            return -1;
        if ((ty == SL_JSON_OBJECT_END || ty == SL_JSON_ARRAY_END) &&
            s->depth == base)
            return 0;
    }
}

/* ---- token helpers ----------------------------------------------------- */

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) {
        d[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | cp >> 6);
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | cp >> 12);
        d[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | cp >> 18);
    d[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    d[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decode escapes; write to dst unless it is NULL; return the decoded size,
 * which never exceeds len (\uXXXX is 6 bytes for at most 3). Tolerates
 * unvalidated input (copies what it cannot decode) without reading past
 * p + len. */
static size_t decode(const char *p, size_t len, char *dst)
{
    const unsigned char *q = (const unsigned char *)p, *e = q + len;
    size_t n = 0;
    char tmp[4];
    while (q < e) {
        const unsigned char *bs = memchr(q, '\\', (size_t)(e - q));
        size_t run = (size_t)((bs ? bs : e) - q);
        if (dst)
            memcpy(dst + n, q, run);
        n += run;
        q += run;
        if (!bs)
            break;
        unsigned cp = 0, lo;
        size_t used = 2;
        switch (e - q >= 2 ? q[1] : 0) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(q + 2, e, &cp) != 0) {
                cp = '\\';
                used = 1;
                break;
            }
            used = 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && e - q >= 12 && q[6] == '\\' &&
                q[7] == 'u' && hex4(q + 8, e, &lo) == 0 && lo >= 0xDC00 &&
                lo <= 0xDFFF) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                used = 12;
            } else if (cp >= 0xD800 && cp <= 0xDFFF) {
                cp = 0xFFFD; /* unreachable for validated tokens */
            }
            break;
        default:
            cp = '\\';
            used = 1;
        }
        size_t k = put_utf8(tmp, cp);
        if (dst)
            memcpy(dst + n, tmp, k);
        n += k;
        q += used;
    }
    return n;
}

int sl_json_unescape(const char *p, size_t len, sl_buf *out)
{
    size_t n = len;
    if (len == 0)
        return 0; /* nothing to add (and out->data may still be NULL) */
    if (sl_buf_reserve(out, len) != 0) {
        /* the cap may still hold the shorter decoded form */
        n = decode(p, len, NULL);
        if (sl_buf_reserve(out, n) != 0)
            return -1;
    }
    out->len += decode(p, len, out->data + out->len);
    return 0;
}

int sl_json_unescape_into(const char *p, size_t len, char *dst, size_t cap,
                          size_t *outlen)
{
    size_t n = len <= cap ? len : decode(p, len, NULL);
    if (n > cap)
        return -1;
    *outlen = decode(p, len, dst);
    return 0;
}

int sl_json_parse_int64(const char *p, size_t len, int64_t *v)
{
    bool neg = len > 0 && p[0] == '-';
    const char *d = p + neg;
    size_t n = len - neg;
    uint64_t u = 0;
    if (n == 0 || n > 19)
        return -1;
    /* 19 digits may overflow: compare with the limit digit by digit */
    if (n == 19 &&
        memcmp(d, neg ? "9223372036854775808" : "9223372036854775807", 19) > 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit((unsigned char)d[i]))
            return -1;
        u = u * 10 + (uint64_t)(d[i] - '0');
    }
    *v = neg ? (u == 0 ? 0 : -(int64_t)(u - 1) - 1) : (int64_t)u;
    return 0;
}

/* The JSON number p[0..len) as "-0.DDDe-N" in buf (NUMBER_SIG_MAX + 32
 * bytes): its first NUMBER_SIG_MAX significant digits, then a 1 when a
 * dropped digit was not 0, so that strtod rounds it as the whole literal
 * (no halfway point between doubles lies between the two). Returns the
 * length, or 0 when p is not a JSON number. */
static size_t shorten_number(const char *p, size_t len, char *buf)
{
    size_t i = 0, n = 0, kept = 0;
    int64_t point = 0, exp = 0; /* the value is 0.DDD * 10^(point + exp) */
    bool frac = false, nonzero = false, dropped = false, digit = false;
    if (p[0] == '-')
        buf[n++] = p[i++];
    buf[n++] = '0';
    buf[n++] = '.';
    for (; i < len && (is_digit((unsigned char)p[i]) || (p[i] == '.' && !frac));
         i++) {
        if (p[i] == '.') {
            frac = true;
            continue;
        }
        digit = true;
        if (!nonzero && p[i] == '0') { /* a leading zero: 0.001 */
            point -= frac;
            continue;
        }
        nonzero = true;
        point += !frac;
        if (kept < NUMBER_SIG_MAX)
            buf[n + kept++] = p[i];
        else
            dropped |= p[i] != '0';
    }
    if (i < len && (p[i] == 'e' || p[i] == 'E')) {
        bool neg = ++i < len && p[i] == '-';
        i += i < len && (p[i] == '-' || p[i] == '+');
        if (i == len)
            return 0;
        for (; i < len && is_digit((unsigned char)p[i]); i++)
            if (exp < 1000000000) /* past it the value is 0 or infinite */
                exp = exp * 10 + (p[i] - '0');
        exp = neg ? -exp : exp;
    }
    if (i != len || !digit)
        return 0;
    if (!nonzero) { /* 0.000...: zero, with its sign */
        buf[n - 1] = '\0';
        return n - 1;
    }
    n += kept;
    if (dropped)
        buf[n++] = '1';
    int64_t e = point + exp;
    e = e > 100000 ? 100000 : e < -100000 ? -100000 : e;
    return n + (size_t)snprintf(buf + n, 32, "e%lld", (long long)e);
}

int sl_json_parse_double(const char *p, size_t len, double *v)
{
    char buf[NUMBER_SIG_MAX + 32], *end;
    if (len == 0)
        return -1;
    /* only JSON number characters: keeps strtod off "inf", "nan", hex */
    for (size_t i = 0; i < len; i++) {
        char c = p[i];
        if (!is_digit((unsigned char)c) && c != '-' && c != '+' && c != '.' &&
            c != 'e' && c != 'E')
            return -1;
    }
    if (len <= NUMBER_MAX_LEN)
        memcpy(buf, p, len);
    else if ((len = shorten_number(p, len, buf)) == 0)
        return -1;
    buf[len] = '\0';
    /* strtod follows LC_NUMERIC; a host that set a ',' locale still works */
    const char *dp = localeconv()->decimal_point;
    if (dp && dp[0] != '.' && dp[0] != '\0' && dp[1] == '\0') {
        char *dot = memchr(buf, '.', len);
        if (dot)
            *dot = dp[0];
    }
    double d = strtod(buf, &end); /* underflow (ERANGE) gives 0: finite */
    if (end != buf + len || !isfinite(d))
        return -1;
    *v = d;
    return 0;
}

const char *sl_json_type_name(sl_json_type t)
{
    switch (t) {
    case SL_JSON_OBJECT_BEGIN: return "object";
    case SL_JSON_ARRAY_BEGIN: return "array";
    case SL_JSON_KEY:
    case SL_JSON_STRING: return "string";
    case SL_JSON_NUMBER: return "number";
    case SL_JSON_TRUE:
    case SL_JSON_FALSE: return "boolean";
    case SL_JSON_NULL: return "null";
    case SL_JSON_OBJECT_END: return "end of object";
    case SL_JSON_ARRAY_END: return "end of array";
    case SL_JSON_END: return "end of input";
    case SL_JSON_ERROR: return "invalid JSON";
    default: return "nothing";
    }
}
