/* sl_config_errors: the list of messages a configuration load reports. */
#include "sl_config_errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sl_config_errors_init(sl_config_errors *e) { memset(e, 0, sizeof *e); }

void sl_config_errors_free(sl_config_errors *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    sl_config_errors_init(e);
}

static void errors_addv(sl_config_errors *e, const char *fmt, va_list ap)
{
    char *msg;
    if (vasprintf(&msg, fmt, ap) < 0)
        return;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 16;
        char **grown = realloc(e->msgs, cap * sizeof *grown);
        if (!grown) {
            free(msg);
            return;
        }
        e->msgs = grown;
        e->cap = cap;
    }
    e->msgs[e->n++] = msg;
}

void sl_config_errors_add(sl_config_errors *e, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    errors_addv(e, fmt, ap);
    va_end(ap);
}
