/* sl_buf: growable, capped byte buffer. */
#include "sl_buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_buf_init(sl_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max ? max : SIZE_MAX;
}

void sl_buf_free(sl_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int sl_buf_grow(sl_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return -1;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
    /* +1 leaves room for sl_buf_cstr's terminator even at the cap */
    if (ncap > b->max)
        ncap = b->max;
    char *p = realloc(b->data, ncap + 1);
    if (!p)
        return -1;
    b->data = p;
    b->cap = ncap;
    return 0;
}

int sl_buf_append(sl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (sl_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int sl_buf_putc(sl_buf *b, char c)
{
    if (sl_buf_reserve(b, 1) != 0)
        return -1;
    b->data[b->len++] = c;
    return 0;
}

int sl_buf_printf(sl_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n < sizeof small)
        return sl_buf_append(b, small, (size_t)n);
    if (sl_buf_reserve(b, (size_t)n + 1) != 0)
        return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

/* The escape of byte c in a JSON string into esc (2 or 6 bytes), or 0
 * when c stands for itself. */
static size_t json_escape(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";
    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\': esc[1] = '\\'; return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    case '\t': esc[1] = 't'; return 2;
    default:
        if (c >= 0x20)
            return 0;
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

/* How many of p[0..n) stand for themselves in a JSON string before the
 * first that needs an escape (a control byte, '"' or '\\'). Eight bytes
 * at a time: with ones = 0x01 in each byte and highs = 0x80 in each,
 * (x - ones) & ~x & highs is nonzero when a byte of x is zero, and a byte
 * below 0x20 is one whose top three bits are all clear. */
static size_t plain_prefix(const char *p, size_t n)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
        uint64_t ctl = x & (ones * 0xe0);
        uint64_t hit = ((q - ones) & ~q) | ((bs - ones) & ~bs) |
                       ((ctl - ones) & ~ctl);
        if (hit & highs)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 0x20 || c == '"' || c == '\\')
            break;
    }
    return i;
}

int sl_buf_json_string(sl_buf *b, const char *s, size_t n)
{
    size_t start = b->len;
    size_t plain = n ? plain_prefix(s, n) : 0;
    if (plain == n) { /* the usual: nothing to escape, one reservation */
        if (sl_buf_reserve(b, n + 2) != 0)
            return -1;
        char *o = b->data + b->len;
        o[0] = '"';
        if (n)
            memcpy(o + 1, s, n);
        o[n + 1] = '"';
        b->len += n + 2;
        return 0;
    }
    if (sl_buf_putc(b, '"') != 0)
        goto fail;
    /* runs of bytes that stand for themselves go in one append; the scan
     * for the next that does not looks 8 bytes at a time (a byte < 0x20,
     * '"' or '\\' among them: the usual zero-byte tests, see below) */
    size_t run = 0;
    for (size_t i = plain; i < n; i++) {
        i += plain_prefix(s + i, n - i);
        if (i == n)
            break;
        unsigned char c = (unsigned char)s[i];
        char esc[6];
        size_t elen = json_escape(c, esc);
        if ((i > run && sl_buf_append(b, s + run, i - run) != 0) ||
            sl_buf_append(b, esc, elen) != 0)
            goto fail;
        run = i + 1;
    }
    if ((n > run && sl_buf_append(b, s + run, n - run) != 0) ||
        sl_buf_putc(b, '"') != 0)
        goto fail;
    return 0;
fail:
    b->len = start;
    return -1;
}

const char *sl_buf_cstr(sl_buf *b)
{
    if (b->cap == 0 && sl_buf_reserve(b, 1) != 0)
        return NULL;
    b->data[b->len] = '\0'; /* cap+1 bytes are allocated */
    return b->data;
}
