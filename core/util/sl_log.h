/* sl_log: JSON-lines logging to stderr. One line per event, with a level,
 * a component and a message; the level threshold is per process. */
#ifndef SL_LOG_H
#define SL_LOG_H

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

#define sl_log_debug(c, ...) sl_log(SL_LOG_DEBUG, c, __VA_ARGS__)
#define sl_log_info(c, ...) sl_log(SL_LOG_INFO, c, __VA_ARGS__)
#define sl_log_warn(c, ...) sl_log(SL_LOG_WARN, c, __VA_ARGS__)
#define sl_log_error(c, ...) sl_log(SL_LOG_ERROR, c, __VA_ARGS__)

#endif
