/* sl_jsonsplit: a byte-level state machine that finds where each element
 * of a JSON array or each NDJSON line ends, keeping only the element in
 * hand (capped), then has sl_json judge it whole. Rules in sl_jsonsplit.h. */
#include "sl_jsonsplit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_json.h"

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

typedef enum state {
    ST_BEGIN,  /* array: before '[' */
    ST_FIRST,  /* array: after '[', before any element; NDJSON: between lines */
    ST_NEXT,   /* array: after a comma */
    ST_PIECE,  /* in an element (NDJSON: in a line) */
    ST_AFTER,  /* array: after ']' */
    ST_TRAIL   /* array: text after ']' (one rejection at the end) */
} state;

struct sl_jsonsplit {
    bool array;
    size_t max_bytes;
    sl_jsonsplit_fn fn;
    void *ud;
    sl_jsonsplit_rc rc;      /* sticky once not OK */
    char err[200];
    unsigned bom_seen;       /* BOM bytes matched; 3: decided */
    size_t line;             /* line of the next byte */
    unsigned char last;      /* the previous byte */
    state st;
    size_t depth;            /* brackets open in the element */
    bool in_str, esc;
    size_t piece_line;
    sl_buf piece;            /* the element so far, at most max_bytes */
    bool over;               /* it had more */
    char msg[160];
};

sl_jsonsplit *sl_jsonsplit_new(bool array, size_t max_bytes,
                               sl_jsonsplit_fn fn, void *ud)
{
    sl_jsonsplit *js = calloc(1, sizeof *js);
    if (!js)
        return NULL;
    js->array = array;
    js->max_bytes = max_bytes ? max_bytes : SL_JSONSPLIT_DEF_MAX_BYTES;
    js->fn = fn;
    js->ud = ud;
    js->line = 1;
    js->st = array ? ST_BEGIN : ST_FIRST;
    sl_buf_init(&js->piece, js->max_bytes + 1);
    return js;
}

void sl_jsonsplit_free(sl_jsonsplit *js)
{
    if (!js)
        return;
    sl_buf_free(&js->piece);
    free(js);
}

const char *sl_jsonsplit_error(const sl_jsonsplit *js) { return js->err; }
size_t sl_jsonsplit_line(const sl_jsonsplit *js) { return js->line; }

static sl_jsonsplit_rc fail(sl_jsonsplit *js, sl_jsonsplit_rc rc,
                            const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sl_jsonsplit_rc fail(sl_jsonsplit *js, sl_jsonsplit_rc rc,
                            const char *fmt, ...)
{
    if (js->rc != SL_JSONSPLIT_OK)
        return js->rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(js->err, sizeof js->err, fmt, ap);
    va_end(ap);
    js->rc = rc;
    return rc;
}

static bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Keep p[0..n) of the element, up to max_bytes. */
static int keep(sl_jsonsplit *js, const char *p, size_t n)
{
    if (js->over || !n)
        return 0;
    size_t room = js->max_bytes - js->piece.len;
    if (n > room) {
        n = room;
        js->over = true;
    }
    if (n && sl_buf_append(&js->piece, p, n) != 0) {
        fail(js, SL_JSONSPLIT_E_NOMEM, "out of memory");
        return -1;
    }
    return 0;
}

static int emit(sl_jsonsplit *js, size_t line, const char *json, size_t jlen,
                const char *error, const char *raw, size_t rlen, bool cut)
{
    sl_jsonsplit_item it = {line, json, jlen, error, raw, rlen, cut};
    if (js->fn(js->ud, &it) != 0) {
        fail(js, SL_JSONSPLIT_E_STOPPED, "stopped");
        return -1;
    }
    return 0;
}

static int reject_msg(sl_jsonsplit *js, size_t line, const char *msg)
{
    return emit(js, line, NULL, 0, msg, "", 0, false);
}

/* Why the text t[0..n) is not one JSON object, or NULL when it is. */
static const char *judge_text(sl_jsonsplit *js, const char *t, size_t n)
{
    sl_json s;
    sl_json_token tok;
    sl_json_init(&s, t, n, 0);
    sl_json_type ty = sl_json_next(&s, &tok);
    if (ty == SL_JSON_ERROR) {
        snprintf(js->msg, sizeof js->msg, "malformed JSON: %s", s.err);
        return js->msg;
    }
    if (ty != SL_JSON_OBJECT_BEGIN) {
        int skip = sl_json_skip(&s, &tok);
        if (skip == 0 && sl_json_next(&s, &tok) == SL_JSON_END)
            snprintf(js->msg, sizeof js->msg, "%s is %s %s, not an object",
                     js->array ? "the element" : "the line",
                     ty == SL_JSON_ARRAY_BEGIN ? "an" : "a",
                     sl_json_type_name(ty));
        else
            snprintf(js->msg, sizeof js->msg, "malformed JSON: %s", s.err);
        return js->msg;
    }
    if (sl_json_skip(&s, &tok) != 0 || sl_json_next(&s, &tok) != SL_JSON_END) {
        snprintf(js->msg, sizeof js->msg, "malformed JSON: %s",
                 s.err ? s.err : "text after the object");
        return js->msg;
    }
    return NULL;
}

/* The element in hand is complete: pass it on, and forget it. */
static int judge(sl_jsonsplit *js)
{
    size_t n = js->piece.len;
    const char *t = js->piece.data ? js->piece.data : "";
    while (n && is_ws((unsigned char)t[n - 1]))
        n--;
    int rc;
    if (js->over) {
        snprintf(js->msg, sizeof js->msg, "%s is over %zu bytes",
                 js->array ? "the element" : "the line", js->max_bytes);
        rc = emit(js, js->piece_line, NULL, 0, js->msg, t, n, true);
    } else {
        const char *why = judge_text(js, t, n);
        rc = why ? emit(js, js->piece_line, NULL, 0, why, t, n, false)
                 : emit(js, js->piece_line, t, n, NULL, t, n, false);
    }
    sl_buf_reset(&js->piece);
    js->over = false;
    js->depth = 0;
    js->in_str = js->esc = false;
    return rc;
}

static void piece_begin(sl_jsonsplit *js, size_t line)
{
    js->st = ST_PIECE;
    js->piece_line = line;
    js->depth = 0;
    js->in_str = js->esc = false;
}

/* Whether byte c ends the array element in hand (a top-level ',' or
 * ']'), following strings and brackets. */
static bool array_end(sl_jsonsplit *js, unsigned char c)
{
    if (js->in_str) {
        if (js->esc)
            js->esc = false;
        else if (c == '\\')
            js->esc = true;
        else if (c == '"')
            js->in_str = false;
        return false;
    }
    if (c == '"')
        js->in_str = true;
    else if (c == '{' || c == '[')
        js->depth++;
    else if ((c == '}' || c == ']') && js->depth > 0)
        js->depth--;
    else if (js->depth == 0 && (c == ',' || c == ']'))
        return true;
    return false;
}

/* One byte outside an element, in array mode: 1 when it begins one. */
static int array_between(sl_jsonsplit *js, unsigned char c, size_t line)
{
    if (is_ws(c))
        return 0;
    switch (js->st) {
    case ST_BEGIN:
        if (c == '[') {
            js->st = ST_FIRST;
            return 0;
        }
        if (c > 0x20 && c < 0x7f)
            fail(js, SL_JSONSPLIT_E_FORMAT,
                 "not a JSON array: line %zu begins with '%c'", line, c);
        else
            fail(js, SL_JSONSPLIT_E_FORMAT,
                 "not a JSON array: line %zu begins with byte 0x%02X", line, c);
        return -1;
    case ST_FIRST:
        if (c == ']') {
            js->st = ST_AFTER;
            return 0;
        }
        return 1;
    case ST_NEXT:
        if (c == ',' || c == ']') {
            if (reject_msg(js, line, "empty element (a comma with no element "
                                     "before it)") != 0)
                return -1;
            js->st = c == ']' ? ST_AFTER : ST_NEXT;
            return 0;
        }
        return 1;
    case ST_AFTER:
        js->st = ST_TRAIL;
        js->piece_line = line;
        return 1;
    default:
        return 1;
    }
}

static sl_jsonsplit_rc feed_array(sl_jsonsplit *js, const char *p, size_t n)
{
    const char *seg = js->st == ST_PIECE || js->st == ST_TRAIL ? p : NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        size_t line = js->line;
        if (c == '\r' || (c == '\n' && js->last != '\r'))
            js->line++;
        js->last = c;
        if (js->st == ST_TRAIL)
            continue;
        if (js->st != ST_PIECE) {
            int r = array_between(js, c, line);
            if (r < 0)
                return js->rc;
            if (r == 0)
                continue;
            seg = p + i;
            if (js->st == ST_TRAIL)
                continue;
            piece_begin(js, line);
        }
        if (!array_end(js, c))
            continue;
        if (keep(js, seg, (size_t)(p + i - seg)) != 0 || judge(js) != 0)
            return js->rc;
        seg = NULL;
        js->st = c == ']' ? ST_AFTER : ST_NEXT;
    }
    if (seg && keep(js, seg, (size_t)(p + n - seg)) != 0)
        return js->rc;
    return SL_JSONSPLIT_OK;
}

static sl_jsonsplit_rc feed_lines(sl_jsonsplit *js, const char *p, size_t n)
{
    const char *seg = js->st == ST_PIECE ? p : NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        size_t line = js->line;
        bool eol = c == '\r' || (c == '\n' && js->last != '\r');
        if (eol)
            js->line++;
        js->last = c;
        if (js->st != ST_PIECE) {
            if (is_ws(c))
                continue;
            seg = p + i;
            piece_begin(js, line);
            continue;
        }
        if (c != '\r' && c != '\n')
            continue;
        if (keep(js, seg, (size_t)(p + i - seg)) != 0 || judge(js) != 0)
            return js->rc;
        seg = NULL;
        js->st = ST_FIRST;
    }
    if (seg && keep(js, seg, (size_t)(p + n - seg)) != 0)
        return js->rc;
    return SL_JSONSPLIT_OK;
}

static sl_jsonsplit_rc feed_body(sl_jsonsplit *js, const char *p, size_t n)
{
    return js->array ? feed_array(js, p, n) : feed_lines(js, p, n);
}

sl_jsonsplit_rc sl_jsonsplit_feed(sl_jsonsplit *js, const void *data, size_t n)
{
    const char *p = data;
    if (js->rc != SL_JSONSPLIT_OK)
        return js->rc;
    while (js->bom_seen < 3 && n) {
        if ((unsigned char)*p != bom[js->bom_seen]) {
            /* not a BOM after all: the bytes matched are data */
            unsigned matched = js->bom_seen;
            js->bom_seen = 3;
            if (matched && feed_body(js, (const char *)bom, matched))
                return js->rc;
            break;
        }
        js->bom_seen++;
        p++;
        n--;
    }
    return feed_body(js, p, n);
}

sl_jsonsplit_rc sl_jsonsplit_finish(sl_jsonsplit *js)
{
    if (js->rc != SL_JSONSPLIT_OK)
        return js->rc;
    if (js->bom_seen < 3) {
        unsigned matched = js->bom_seen;
        js->bom_seen = 3;
        if (matched && feed_body(js, (const char *)bom, matched))
            return js->rc;
    }
    if (js->st == ST_PIECE && judge(js) != 0)
        return js->rc;
    if (!js->array)
        return SL_JSONSPLIT_OK;
    switch (js->st) {
    case ST_BEGIN:
        return fail(js, SL_JSONSPLIT_E_FORMAT,
                    "not a JSON array: the file is empty");
    case ST_AFTER:
        return SL_JSONSPLIT_OK;
    case ST_TRAIL: {
        size_t n = js->piece.len;
        const char *t = js->piece.data ? js->piece.data : "";
        while (n && is_ws((unsigned char)t[n - 1]))
            n--;
        emit(js, js->piece_line, NULL, 0, "text after the array's closing ]",
             t, n, js->over);
        return js->rc;
    }
    default:
        reject_msg(js, js->line,
                   "the file ends before the array's closing ] (truncated?)");
        return js->rc;
    }
}
