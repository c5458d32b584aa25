/* sl_bufw: a writer into an sl_buf whose first failure sticks. */
#include "sl_bufw.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void sl_bufw_put(sl_bufw *o, const char *s)
{
    if (!o->failed && sl_buf_append(o->b, s, strlen(s)) != 0)
        o->failed = 1;
}

void sl_bufw_putf(sl_bufw *o, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        o->failed = 1;
    else
        sl_bufw_put(o, tmp);
}

void sl_bufw_str(sl_bufw *o, const char *s, size_t n)
{
    if (!o->failed && sl_buf_json_string(o->b, s, n) != 0)
        o->failed = 1;
}
