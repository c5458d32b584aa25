/* sl_csv_cell: a CSV cell's text converted by its field's type into a JSON
 * value. Numbers must be JSON numbers as written, with nothing around
 * them; nested values must be one JSON document, re-emitted compact. */
#include "sl_csv_cell.h"

#include <stdio.h>
#include <string.h>

#include "sl_json.h"

#define SHOW_MAX 40 /* bytes of a cell quoted in a message */

/* c's text for a message: at most SHOW_MAX bytes cut at a UTF-8
 * boundary, control characters as '?'. The cell is valid UTF-8. */
static const char *show(const sl_csv_cell *c, char buf[SHOW_MAX + 4])
{
    size_t n = c->len;
    bool cut = n > SHOW_MAX;
    if (cut) {
        n = SHOW_MAX;
        while (n > 0 && ((unsigned char)c->p[n] & 0xC0) == 0x80)
            n--;
    }
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)c->p[i] < 0x20 ? '?' : c->p[i];
    memcpy(buf + n, cut ? "..." : "", cut ? 4 : 1);
    return buf;
}

static int fail(char *why, size_t whylen, const sl_csv_cell *c,
                const char *what, const char *hint)
{
    char sbuf[SHOW_MAX + 4];
    snprintf(why, whylen, "\"%s\" is not %s%s", show(c, sbuf), what, hint);
    return -1;
}

static bool json_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* The hint for a number with spaces around it, which is refused. */
static const char *space_hint(const sl_csv_cell *c)
{
    return json_space(c->p[0]) || json_space(c->p[c->len - 1])
               ? " (it has spaces around it)"
               : "";
}

/* One JSON number token spanning the whole cell, or SL_JSON_NONE. */
static sl_json_type one_number(const sl_csv_cell *c, sl_json_token *t)
{
    sl_json js;
    sl_json_token end;
    if (json_space(c->p[0]) || json_space(c->p[c->len - 1]))
        return SL_JSON_NONE;
    sl_json_init(&js, c->p, c->len, 1);
    if (sl_json_next(&js, t) != SL_JSON_NUMBER ||
        sl_json_next(&js, &end) != SL_JSON_END)
        return SL_JSON_NONE;
    return SL_JSON_NUMBER;
}

static int integer(const sl_csv_cell *c, sl_buf *out, char *why, size_t wl)
{
    sl_json_token t;
    int64_t v;
    if (one_number(c, &t) != SL_JSON_NUMBER || !(t.flags & SL_JSON_F_INT))
        return fail(why, wl, c, "an integer", space_hint(c));
    if (sl_json_parse_int64(t.p, t.len, &v) != 0)
        return fail(why, wl, c, "an integer", " (out of the 64-bit range)");
    return sl_buf_append(out, c->p, c->len) == 0 ? 0 : -2;
}

static int number(const sl_csv_cell *c, sl_buf *out, char *why, size_t wl)
{
    sl_json_token t;
    double d;
    if (one_number(c, &t) != SL_JSON_NUMBER)
        return fail(why, wl, c, "a number", space_hint(c));
    if (((t.flags & SL_JSON_F_EXP) || t.len > 308) &&
        sl_json_parse_double(t.p, t.len, &d) != 0)
        return fail(why, wl, c, "a number", " (out of range)");
    return sl_buf_append(out, c->p, c->len) == 0 ? 0 : -2;
}

static int boolean(const sl_csv_cell *c, sl_buf *out, char *why, size_t wl)
{
    const char *v = NULL;
    if ((c->len == 4 && strncasecmp(c->p, "true", 4) == 0) ||
        (c->len == 1 && c->p[0] == '1'))
        v = "true";
    else if ((c->len == 5 && strncasecmp(c->p, "false", 5) == 0) ||
             (c->len == 1 && c->p[0] == '0'))
        v = "false";
    if (!v)
        return fail(why, wl, c, "a boolean", " (true, false, 1 or 0)");
    return sl_buf_append(out, v, strlen(v)) == 0 ? 0 : -2;
}

/* Re-emit the JSON document in the cell compact: tokens only, strings
 * with their escapes as written. */
static int nested(const sl_csv_cell *c, sl_buf *out, char *why, size_t wl)
{
    sl_json js;
    sl_json_token t;
    size_t start = out->len;
    bool comma = false; /* a comma before the next value or key */
    sl_json_init(&js, c->p, c->len, 0);
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        int rc = 0;
        if (ty == SL_JSON_END)
            return 0;
        if (ty == SL_JSON_ERROR) {
            sl_buf_truncate(out, start);
            snprintf(why, wl, "cell is not JSON: %s at byte %zu", js.err,
                     js.err_off + 1);
            return -1;
        }
        bool closing = ty == SL_JSON_OBJECT_END || ty == SL_JSON_ARRAY_END;
        if (comma && !closing)
            rc |= sl_buf_putc(out, ',');
        switch (ty) {
        case SL_JSON_OBJECT_BEGIN: rc |= sl_buf_putc(out, '{'); break;
        case SL_JSON_OBJECT_END: rc |= sl_buf_putc(out, '}'); break;
        case SL_JSON_ARRAY_BEGIN: rc |= sl_buf_putc(out, '['); break;
        case SL_JSON_ARRAY_END: rc |= sl_buf_putc(out, ']'); break;
        case SL_JSON_KEY:
        case SL_JSON_STRING:
            rc |= sl_buf_append(out, t.p - 1, t.len + 2);
            if (ty == SL_JSON_KEY)
                rc |= sl_buf_putc(out, ':');
            break;
        default: rc |= sl_buf_append(out, t.p, t.len); break;
        }
        if (rc != 0) {
            sl_buf_truncate(out, start);
            return -2;
        }
        comma = ty != SL_JSON_OBJECT_BEGIN && ty != SL_JSON_ARRAY_BEGIN &&
                ty != SL_JSON_KEY;
    }
}

int sl_csv_cell_string(sl_buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = out->len, run = 0;
    if (sl_buf_putc(out, '"') != 0)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char ch = i < n ? (unsigned char)p[i] : 0;
        if (i < n && ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        if (sl_buf_append(out, p + run, i - run) != 0)
            goto fail;
        run = i + 1;
        if (i == n)
            break;
        char esc[6] = {'\\', (char)ch, 0, 0, 0, 0};
        size_t k = 2;
        if (ch == '\n' || ch == '\r' || ch == '\t')
            esc[1] = ch == '\n' ? 'n' : ch == '\r' ? 'r' : 't';
        else if (ch < 0x20) {
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            k = 6;
        }
        if (sl_buf_append(out, esc, k) != 0)
            goto fail;
    }
    if (sl_buf_putc(out, '"') == 0)
        return 0;
fail:
    sl_buf_truncate(out, start);
    return -1;
}

int sl_csv_cell_append(sl_schema_type type, bool nullable,
                       const sl_csv_cell *c, sl_buf *out, char *why,
                       size_t whylen)
{
    bool empty = c->len == 0 && (!c->quoted || type != SL_TYPE_STRING);
    if (empty) {
        if (!nullable) {
            snprintf(why, whylen, "empty cell (null) is not allowed");
            return -1;
        }
        return sl_buf_append(out, "null", 4) == 0 ? 0 : -2;
    }
    if (memchr(c->p, '\0', c->len)) {
        snprintf(why, whylen, "cell holds a NUL byte");
        return -1;
    }
    if (!sl_json_utf8_valid(c->p, c->len)) {
        snprintf(why, whylen, "cell is not valid UTF-8");
        return -1;
    }
    switch (type) {
    case SL_TYPE_INTEGER: return integer(c, out, why, whylen);
    case SL_TYPE_NUMBER: return number(c, out, why, whylen);
    case SL_TYPE_BOOLEAN: return boolean(c, out, why, whylen);
    case SL_TYPE_OBJECT:
    case SL_TYPE_ARRAY:
    case SL_TYPE_JSON: return nested(c, out, why, whylen);
    default: /* string, date, datetime: the text as written */
        return sl_csv_cell_string(out, c->p, c->len) == 0 ? 0 : -2;
    }
}
