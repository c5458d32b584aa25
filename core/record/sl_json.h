/* sl_json: a single-pass, zero-copy JSON pull scanner. It validates the
 * grammar (RFC 8259) as it goes and hands out tokens that point into the
 * caller's buffer; the schema checker drives it record by record. */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"

#define SL_JSON_MAX_DEPTH 128 /* hard ceiling for any configured depth */

typedef enum sl_json_type {
    SL_JSON_NONE = 0,
    SL_JSON_OBJECT_BEGIN,
    SL_JSON_OBJECT_END,
    SL_JSON_ARRAY_BEGIN,
    SL_JSON_ARRAY_END,
    SL_JSON_KEY,    /* an object member name; p/len as for STRING */
    SL_JSON_STRING,
    SL_JSON_NUMBER,
    SL_JSON_TRUE,
    SL_JSON_FALSE,
    SL_JSON_NULL,
    SL_JSON_END,    /* the document is complete and only whitespace follows */
    SL_JSON_ERROR   /* malformed input; see sl_json.err / err_off */
} sl_json_type;

#define SL_JSON_F_ESCAPED 0x1u /* STRING/KEY: contains backslash escapes */
#define SL_JSON_F_INT     0x2u /* NUMBER: no fraction and no exponent */
#define SL_JSON_F_EXP     0x4u /* NUMBER: has an exponent (e/E) */

typedef struct sl_json_token {
    sl_json_type type;
    const char *p;  /* STRING/KEY: bytes between the quotes, still escaped;
                       NUMBER: the literal; others: the token's first byte */
    size_t len;
    unsigned flags; /* SL_JSON_F_* */
} sl_json_token;

/* Scanner state. Lives on the caller's stack; fields are internal except
 * err and err_off, which are valid after SL_JSON_ERROR. */
typedef struct sl_json {
    const char *start;     /* first byte of the document */
    const char *cur;       /* next byte to read */
    const char *end;       /* one past the last byte */
    int depth;             /* open containers */
    int max_depth;         /* limit, <= SL_JSON_MAX_DEPTH */
    unsigned char stack[SL_JSON_MAX_DEPTH]; /* container kind per level */
    unsigned char state;   /* what the grammar expects next */
    const char *err;       /* static message after SL_JSON_ERROR */
    size_t err_off;        /* byte offset of the error from start */
} sl_json;

/* Start scanning the `len` bytes at `p` (need not be NUL-terminated) as one
 * JSON document. max_depth <= 0 or > SL_JSON_MAX_DEPTH means the ceiling.
 * The buffer must outlive every token taken from it. A leading UTF-8 byte
 * order mark is an error ("byte order mark not allowed"), as are lone
 * UTF-16 surrogates in \u escapes: both are rejected, not repaired. */
void sl_json_init(sl_json *s, const char *p, size_t len, int max_depth);

/* Read the next token into *t and return its type. After the top-level
 * value it returns SL_JSON_END (once only whitespace remains) and keeps
 * returning it; trailing bytes are an error. Strings are checked for valid
 * escapes, control characters and UTF-8; numbers for the JSON grammar.
 * After SL_JSON_ERROR every later call returns SL_JSON_ERROR. */
sl_json_type sl_json_next(sl_json *s, sl_json_token *t);

/* Skip the rest of the value whose first token is *first (a scalar is
 * already complete; an OBJECT/ARRAY_BEGIN is consumed to its matching end).
 * Call it right after sl_json_next returned *first. Returns 0, or -1 on
 * malformed input (s->err set). */
int sl_json_skip(sl_json *s, const sl_json_token *first);

/* Decode a STRING/KEY token's bytes (escapes resolved, UTF-8 output) and
 * append them to out. Returns 0, or -1 if out's cap is reached. The token
 * must come from sl_json_next (already validated). */
int sl_json_unescape(const char *p, size_t len, sl_buf *out);

/* The same into a fixed buffer: on 0, *outlen bytes were written to dst;
 * -1 when the decoded form does not fit `cap` bytes (dst contents then
 * unspecified). The decoded form is never longer than `len`. */
int sl_json_unescape_into(const char *p, size_t len, char *dst, size_t cap,
                          size_t *outlen);

/* Parse a NUMBER token with SL_JSON_F_INT as int64. Returns 0, or -1 when
 * it is out of range (*v unchanged). */
int sl_json_parse_int64(const char *p, size_t len, int64_t *v);

/* The UTF-8 rule of the scanner (and of every text sluice writes out, which
 * replaces what breaks it): the length of the well-formed UTF-8 sequence at
 * s (n > 0 bytes available; ASCII is 1), or 0 with *bad = the length of its
 * longest ill-formed prefix (>= 1), so that each maximal ill-formed subpart
 * can become one U+FFFD. No surrogates, nothing past U+10FFFF, no overlong
 * forms. */
size_t sl_json_utf8_len(const unsigned char *s, size_t n, size_t *bad);

/* Whether p[0..n) is wholly well-formed UTF-8 by that rule. */
bool sl_json_utf8_valid(const char *p, size_t n);

/* Parse a NUMBER token as double, rounded to nearest as strtod does, at
 * any length (a literal of thousands of digits is rounded as a whole).
 * Returns 0, or -1 when it does not fit a finite double (e.g. 1e400) or is
 * not a JSON number. Underflow (1e-400) is not an error: it gives 0 or a
 * subnormal. */
int sl_json_parse_double(const char *p, size_t len, double *v);

/* Human name of a token type as it appears in errors: "string", "number",
 * "boolean", "null", "object", "array". */
const char *sl_json_type_name(sl_json_type t);

#endif
