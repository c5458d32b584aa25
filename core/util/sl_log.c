/* sl_log: JSON-lines logging. The threshold is the only process-wide state
 * and tests can set it back. */
#include "sl_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_time.h"

static sl_log_level log_threshold = SL_LOG_INFO;

void sl_log_set_level(sl_log_level lvl) { log_threshold = lvl; }
sl_log_level sl_log_get_level(void) { return log_threshold; }

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

int sl_log_level_from_name(const char *name)
{
    for (int i = 0; i <= SL_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

void sl_log(sl_log_level lvl, const char *component, const char *fmt, ...)
{
    if (lvl < log_threshold || lvl >= SL_LOG_OFF)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    size_t mlen = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    char tbuf[SL_TIME_FORMAT_MAX];
    sl_time_format_rfc3339(sl_time_wall_ms(), tbuf, sizeof tbuf);

    sl_buf b;
    sl_buf_init(&b, 4096);
    sl_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":",
                  tbuf, level_names[lvl]);
    sl_buf_json_string(&b, component, strlen(component));
    sl_buf_append(&b, ",\"msg\":", 7);
    sl_buf_json_string(&b, msg, mlen);
    sl_buf_append(&b, "}\n", 2);
    if (b.data) /* NULL when memory ran out: the line is lost, not more */
        fwrite(b.data, 1, b.len, stderr);
    sl_buf_free(&b);
}
