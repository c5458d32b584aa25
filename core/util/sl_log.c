/* sl_log: JSON-lines logging, with repeated warnings and errors
 * summarised (sl_logdedup). The process-wide state (threshold, output,
 * clock, dedup table) is behind one lock, and sl_log_reset sets it all
 * back, for tests. */
#include "sl_log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_logdedup.h"
#include "sl_time.h"

#define DEDUP_KEYS 64

/* read unlocked on every call from any thread (the check threads log
 * too), set by the loop at a reload: atomic */
static _Atomic int log_threshold = SL_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *log_out;                  /* NULL: stderr */
static const sl_time_clock *log_clock; /* NULL: sl_time_system_clock */
static int64_t log_window_ms = SL_LOG_DEDUP_WINDOW_MS;
static sl_logdedup *log_dedup;         /* made at the first warning */
/* its memory: static, so that the logger holds no heap block (the torture
 * tests count them) and cannot fail to make it */
static _Alignas(max_align_t) unsigned char
    log_dedup_mem[SL_LOGDEDUP_BYTES(DEDUP_KEYS)];

void sl_log_set_level(sl_log_level lvl) { log_threshold = lvl; }
sl_log_level sl_log_get_level(void) { return (sl_log_level)log_threshold; }

static const char *const level_names[] = {"debug", "info", "warn", "error",
                                          "off"};

int sl_log_level_from_name(const char *name)
{
    for (int i = 0; i <= SL_LOG_OFF; i++)
        if (strcmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

static const sl_time_clock *clock_now(void)
{
    return log_clock ? log_clock : &sl_time_system_clock;
}

/* One line out; called with log_lock held. */
static void write_line(void *ud, int lvl, const char *component,
                       const char *msg, size_t mlen)
{
    (void)ud;
    const sl_time_clock *c = clock_now();
    char tbuf[SL_TIME_FORMAT_MAX];
    sl_time_format_rfc3339(c->wall_ms(c->ud), tbuf, sizeof tbuf);

    sl_buf b;
    sl_buf_init(&b, 4096);
    sl_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"component\":",
                  tbuf, level_names[lvl]);
    sl_buf_json_string(&b, component, strlen(component));
    sl_buf_append(&b, ",\"msg\":", 7);
    sl_buf_json_string(&b, msg, mlen);
    sl_buf_append(&b, "}\n", 2);
    if (b.data) /* NULL when memory ran out: the line is lost, not more */
        fwrite(b.data, 1, b.len, log_out ? log_out : stderr);
    sl_buf_free(&b);
}

static int64_t mono_now(void)
{
    const sl_time_clock *c = clock_now();
    return (int64_t)c->mono_ms(c->ud);
}

static void vlog(sl_log_level lvl, int dedup, const char *component,
                 const char *fmt, va_list ap)
{
    if ((int)lvl < log_threshold || lvl >= SL_LOG_OFF)
        return;
    char msg[SL_LOGDEDUP_MAX_MSG];
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    if (n < 0)
        return;
    size_t mlen = (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;

    pthread_mutex_lock(&log_lock);
    dedup = dedup && lvl >= SL_LOG_WARN;
    if (dedup && !log_dedup && log_window_ms > 0)
        log_dedup = sl_logdedup_place(log_dedup_mem, sizeof log_dedup_mem,
                                      DEDUP_KEYS, log_window_ms);
    if (dedup && log_dedup)
        sl_logdedup_offer(log_dedup, mono_now(), (int)lvl, component, msg,
                          mlen, write_line, NULL);
    else
        write_line(NULL, (int)lvl, component, msg, mlen);
    pthread_mutex_unlock(&log_lock);
}

void sl_log(sl_log_level lvl, const char *component, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, 1, component, fmt, ap);
    va_end(ap);
}

void sl_log_news(sl_log_level lvl, const char *component, const char *fmt,
                 ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(lvl, 0, component, fmt, ap);
    va_end(ap);
}

void sl_log_tick(void)
{
    pthread_mutex_lock(&log_lock);
    if (log_dedup)
        sl_logdedup_expire(log_dedup, mono_now(), write_line, NULL);
    pthread_mutex_unlock(&log_lock);
}

void sl_log_flush(void)
{
    pthread_mutex_lock(&log_lock);
    sl_logdedup_flush(log_dedup, log_dedup ? mono_now() : 0, write_line,
                      NULL);
    FILE *out = log_out ? log_out : stderr;
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}

void sl_log_configure(FILE *out, const sl_time_clock *clock,
                      int64_t dedup_window_ms)
{
    pthread_mutex_lock(&log_lock);
    log_dedup = NULL; /* its memory is static */
    log_out = out;
    log_clock = clock;
    log_window_ms = dedup_window_ms;
    pthread_mutex_unlock(&log_lock);
}

void sl_log_reset(void)
{
    sl_log_configure(NULL, NULL, SL_LOG_DEDUP_WINDOW_MS);
    log_threshold = SL_LOG_INFO;
}
