/* sl_log: JSON-lines logging to stderr. One line per event, with a level,
 * a component and a message; the level threshold is per process. A
 * warning or error that repeats within SL_LOG_DEDUP_WINDOW_MS is written
 * once and then summarised with a count (the rule: sl_logdedup.h). */
#ifndef SL_LOG_H
#define SL_LOG_H

#include <stdint.h>
#include <stdio.h>

#include "sl_time.h"

#define SL_LOG_DEDUP_WINDOW_MS 60000

typedef enum sl_log_level {
    SL_LOG_DEBUG = 0,
    SL_LOG_INFO,
    SL_LOG_WARN,
    SL_LOG_ERROR,
    SL_LOG_OFF
} sl_log_level;

/* Set the lowest level that is written (default SL_LOG_INFO). */
void sl_log_set_level(sl_log_level lvl);
sl_log_level sl_log_get_level(void);

/* Parse "debug", "info", "warn", "error", "off"; -1 if unknown. */
int sl_log_level_from_name(const char *name);

/* Write {"ts":...,"level":...,"component":...,"msg":...}. */
void sl_log(sl_log_level lvl, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write the summaries of the windows that ended (the gateway calls it
 * every second, so that a summary comes when its window ends). */
void sl_log_tick(void);

/* Write the summaries of the warnings and errors counted so far (at
 * shutdown: a summary is otherwise written by the first line logged after
 * its window ends) and flush the output. */
void sl_log_flush(void);

/* Where lines go (NULL: stderr; not owned), the clock that stamps them
 * and times the windows (NULL: the system's; not owned, must outlive its
 * use) and the dedup window (0: every line written). Forgets every
 * counted repeat without writing it. */
void sl_log_configure(FILE *out, const sl_time_clock *clock,
                      int64_t dedup_window_ms);

/* Everything back to the start: stderr, the system clock, a 60 s window,
 * level info. For tests. */
void sl_log_reset(void);

/* As sl_log, never summarised: for a line its caller already writes once
 * per change of state (a TLS failure's cause, max_connections reached),
 * which must be written again after the state changed back, however soon. */
void sl_log_news(sl_log_level lvl, const char *component, const char *fmt,
                 ...) __attribute__((format(printf, 3, 4)));

#define sl_log_debug(c, ...) sl_log(SL_LOG_DEBUG, c, __VA_ARGS__)
#define sl_log_info(c, ...) sl_log(SL_LOG_INFO, c, __VA_ARGS__)
#define sl_log_warn(c, ...) sl_log(SL_LOG_WARN, c, __VA_ARGS__)
#define sl_log_error(c, ...) sl_log(SL_LOG_ERROR, c, __VA_ARGS__)

#endif
