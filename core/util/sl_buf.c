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

int sl_buf_json_string(sl_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t start = b->len;
    if (sl_buf_putc(b, '"') != 0)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc = 0;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            rc = sl_buf_append(b, esc, 2);
        } else if (c == '\n') {
            rc = sl_buf_append(b, "\\n", 2);
        } else if (c == '\r') {
            rc = sl_buf_append(b, "\\r", 2);
        } else if (c == '\t') {
            rc = sl_buf_append(b, "\\t", 2);
        } else if (c < 0x20) {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            rc = sl_buf_append(b, esc, 6);
        } else {
            rc = sl_buf_putc(b, (char)c);
        }
        if (rc != 0)
            goto fail;
    }
    if (sl_buf_putc(b, '"') != 0)
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
