/* Unit tests for sl_logdedup and the logger around it, on a fake clock:
 * the masking rule (ids and numbers masked, HTTP status kept), a repeat
 * counted within its window and summarised after it, different lines
 * not merged, the bounded table under many distinct lines (hostile: each
 * written, none lost, the evicted summarised), over-long lines, flush at
 * shutdown, and sl_log's JSON lines through sl_log_configure, also from
 * another thread while the level changes (a data race under TSan). */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_log.h"
#include "sl_logdedup.h"
#include "sl_test.h"

/* Lines emitted, "level|component|msg\n" each. */
typedef struct sink {
    char buf[64 * 1024];
    size_t len;
    int lines;
} sink;

static void emit(void *ud, int level, const char *component, const char *msg,
                 size_t len)
{
    sink *s = ud;
    int n = snprintf(s->buf + s->len, sizeof s->buf - s->len, "%d|%s|%.*s\n",
                     level, component, (int)len, msg);
    if (n > 0 && (size_t)n < sizeof s->buf - s->len)
        s->len += (size_t)n;
    s->lines++;
}

static int offer(sl_logdedup *d, sink *s, int64_t now, const char *msg)
{
    return sl_logdedup_offer(d, now, 2, "delivery", msg, strlen(msg), emit,
                             s);
}

static const char *mask(const char *msg)
{
    static char out[256];
    sl_logdedup_mask(msg, strlen(msg), out, sizeof out);
    return out;
}

static void test_mask_rule(void)
{
    CHECK_STR(mask("batch 0000017f-3 (12 records) attempt 3 to "
                   "http://127.0.0.1:8080/v1: HTTP 503: busy"),
              "batch #-# (# records) attempt # to http://#.#.#.#:#/#: "
              "HTTP 503: busy");
    CHECK_STR(mask("crm: TLS to api failed"), "crm: TLS to api failed");
    CHECK_STR(mask("id=a1b2c3 user_42 x9"), "id=# # #");
    CHECK_STR(mask("HTTP 5031 and HTTP 50 and HTTPS 503"),
              "HTTP # and HTTP # and HTTPS #");
    CHECK_STR(mask(""), "");
    /* cut: the full length is returned, the output NUL-terminated */
    char small[4];
    CHECK(sl_logdedup_mask("abcdef", 6, small, sizeof small) == 6);
    CHECK_STR(small, "abc");
    CHECK(sl_logdedup_mask("abc", 3, NULL, 0) == 3);
}

static void test_repeat_counted_then_summarised(void)
{
    sl_logdedup *d = sl_logdedup_new(8, 60000);
    sink s = {0};
    CHECK(offer(d, &s, 1000, "batch 1 attempt 1 to http://h/x: HTTP 503") ==
          1);
    for (int i = 2; i <= 121; i++) {
        char m[96];
        snprintf(m, sizeof m, "batch %d attempt %d to http://h/x: HTTP 503",
                 i, i);
        CHECK(offer(d, &s, 1000 + i * 100, m) == 0);
    }
    CHECK(s.lines == 1);
    /* a line of another key does not end the window */
    CHECK(offer(d, &s, 30000, "crm: cannot arm retry timer") == 1);
    CHECK(s.lines == 2);
    /* the window ends: the next line (any) writes the summary first */
    CHECK(offer(d, &s, 61000, "batch 999 attempt 9 to http://h/x: HTTP 503")
          == 1);
    CHECK_CONTAINS(s.buf, "2|delivery|batch 121 attempt 121 to http://h/x: "
                   "HTTP 503 (repeated 120 times in the last 60 s)\n");
    CHECK_CONTAINS(s.buf, "(repeated 120 times in the last 60 s)\n"
                   "2|delivery|batch 999 attempt 9");
    CHECK(s.lines == 4);
    /* the new window has one line and no repeat: flush writes nothing */
    sl_logdedup_flush(d, 62000, emit, &s);
    CHECK(s.lines == 4);
    sl_logdedup_free(d);
}

static void test_status_level_component_apart(void)
{
    sl_logdedup *d = sl_logdedup_new(8, 60000);
    sink s = {0};
    CHECK(offer(d, &s, 0, "batch 1 to u: HTTP 503") == 1);
    CHECK(offer(d, &s, 1, "batch 2 to u: HTTP 401") == 1);
    CHECK(offer(d, &s, 2, "batch 3 to u: HTTP 503") == 0);
    CHECK(sl_logdedup_offer(d, 3, 3, "delivery", "batch 4 to u: HTTP 503",
                            22, emit, &s) == 1); /* error, not warn */
    CHECK(sl_logdedup_offer(d, 4, 2, "spool", "batch 5 to u: HTTP 503", 22,
                            emit, &s) == 1);
    CHECK(s.lines == 4);
    /* expire without a line: the timer's call */
    sl_logdedup_expire(d, 59999, emit, &s);
    CHECK(s.lines == 4);
    sl_logdedup_expire(d, 60000, emit, &s);
    CHECK(s.lines == 5);
    CHECK_CONTAINS(s.buf, "batch 3 to u: HTTP 503 (repeated 1 time in the "
                   "last 60 s)\n");
    sl_logdedup_expire(NULL, 0, emit, &s);
    sl_logdedup_free(d);
}

static void test_bounded_table_hostile(void)
{
    sl_logdedup *d = sl_logdedup_new(4, 60000);
    sink s = {0};
    CHECK(offer(d, &s, 0, "key a 1") == 1);
    CHECK(offer(d, &s, 1, "key a 2") == 0); /* counted on a */
    /* 100 distinct keys: every one written; a, the oldest, summarised
     * when it is evicted */
    char m[32];
    for (int i = 0; i < 100; i++) {
        snprintf(m, sizeof m, "key %c%c", 'b' + i % 20, 'a' + i / 20);
        CHECK(offer(d, &s, 10 + i, m) == 1);
    }
    CHECK_CONTAINS(s.buf, "key a 2 (repeated 1 time in the last 1 s)");
    CHECK(s.lines == 102);
    sl_logdedup_free(d);
    CHECK(sl_logdedup_new(0, 1) == NULL);
    CHECK(sl_logdedup_new(1, 0) == NULL);
    sl_logdedup_free(NULL);
}

static void test_placed_in_caller_memory(void)
{
    static _Alignas(max_align_t) unsigned char mem[SL_LOGDEDUP_BYTES(2)];
    CHECK(sl_logdedup_place(mem, sizeof mem, 3, 1000) == NULL);
    CHECK(sl_logdedup_place(mem, 10, 1, 1000) == NULL);
    CHECK(sl_logdedup_place(NULL, sizeof mem, 1, 1000) == NULL);
    CHECK(sl_logdedup_place(mem, sizeof mem, 2, 0) == NULL);
    sl_logdedup *d = sl_logdedup_place(mem, sizeof mem, 2, 1000);
    CHECK(d != NULL);
    sink s = {0};
    CHECK(offer(d, &s, 0, "x 1") == 1);
    CHECK(offer(d, &s, 1, "x 2") == 0);
    CHECK(offer(d, &s, 2, "y") == 1);
    CHECK(offer(d, &s, 3, "z") == 1); /* evicts x, summarised */
    CHECK_CONTAINS(s.buf, "x 2 (repeated 1 time in the last 1 s)");
    CHECK(s.lines == 4);
}

static void test_too_long_never_counted(void)
{
    sl_logdedup *d = sl_logdedup_new(4, 60000);
    sink s = {0};
    char big[SL_LOGDEDUP_MAX_MSG + 10];
    memset(big, 'x', sizeof big);
    CHECK(sl_logdedup_offer(d, 0, 2, "c", big, sizeof big, emit, &s) == 1);
    CHECK(sl_logdedup_offer(d, 1, 2, "c", big, sizeof big, emit, &s) == 1);
    char comp[100];
    memset(comp, 'c', sizeof comp - 1);
    comp[sizeof comp - 1] = '\0';
    CHECK(sl_logdedup_offer(d, 2, 2, comp, "m", 1, emit, &s) == 1);
    CHECK(sl_logdedup_offer(d, 3, 2, comp, "m", 1, emit, &s) == 1);
    CHECK(s.lines == 4);
    sl_logdedup_free(d);
}

static void test_flush_at_shutdown(void)
{
    sl_logdedup *d = sl_logdedup_new(4, 60000);
    sink s = {0};
    offer(d, &s, 0, "disk 1 full");
    offer(d, &s, 500, "disk 2 full");
    offer(d, &s, 2500, "disk 3 full");
    sl_logdedup_flush(d, 3000, emit, &s);
    CHECK_CONTAINS(s.buf, "disk 3 full (repeated 2 times in the last 3 s)");
    CHECK(s.lines == 2);
    sl_logdedup_flush(d, 4000, emit, &s); /* forgotten: nothing twice */
    CHECK(s.lines == 2);
    CHECK(offer(d, &s, 4001, "disk 4 full") == 1);
    sl_logdedup_free(d);
}

/* ---- sl_log with a fake clock ----------------------------------------- */

static uint64_t fake_mono;
static uint64_t fake_mono_ms(void *ud) { (void)ud; return fake_mono; }
static int64_t fake_wall_ms(void *ud)
{
    (void)ud;
    return 1764633600000LL + (int64_t)fake_mono; /* 2025-12-02T00:00:00Z */
}
static const sl_time_clock fake_clock = {fake_mono_ms, fake_wall_ms, NULL};

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void test_logger_dedups_warnings_only(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f)
        return;
    fake_mono = 0;
    sl_log_configure(f, &fake_clock, 60000);
    for (int i = 0; i < 50; i++) {
        fake_mono = (uint64_t)i * 1000;
        sl_log_warn("delivery", "batch %d attempt %d to u: HTTP 503", i, i);
        sl_log_info("delivery", "progress %d", i); /* info: every line */
    }
    sl_log_error("delivery", "batch 7: HTTP 503"); /* another key */
    /* a line its caller says once per change of state: never counted */
    sl_log_news(SL_LOG_WARN, "intake", "64 connections open");
    sl_log_news(SL_LOG_WARN, "intake", "64 connections open");
    fake_mono = 60000;
    sl_log_tick();
    sl_log_flush();
    fclose(f);
    CHECK(count(text, "\"level\":\"warn\"") == 4);
    CHECK(count(text, "64 connections open\"}") == 2);
    CHECK(count(text, "\"level\":\"info\"") == 50);
    CHECK(count(text, "\"level\":\"error\"") == 1);
    CHECK_CONTAINS(text, "{\"ts\":\"2025-12-02T00:00:00.000Z\",\"level\":"
                   "\"warn\",\"component\":\"delivery\",\"msg\":\"batch 0 "
                   "attempt 0 to u: HTTP 503\"}\n");
    CHECK_CONTAINS(text, "\"msg\":\"batch 49 attempt 49 to u: HTTP 503 "
                   "(repeated 49 times in the last 60 s)\"}\n");
    free(text);
    /* window 0: every line */
    text = NULL;
    f = open_memstream(&text, &len);
    sl_log_configure(f, &fake_clock, 0);
    sl_log_warn("x", "same");
    sl_log_warn("x", "same");
    sl_log_flush();
    fclose(f);
    CHECK(count(text, "\"msg\":\"same\"") == 2);
    free(text);
    sl_log_reset();
    CHECK(sl_log_get_level() == SL_LOG_INFO);
}

static void *log_lines(void *arg)
{
    (void)arg;
    for (int i = 0; i < 500; i++)
        sl_log_news(SL_LOG_WARN, "spool", "line %d", i);
    return NULL;
}

/* The spool's delete thread logs while a reload sets the level on the
 * loop: every line is whole and in order, at most one per call, and the
 * last level set holds. */
static void test_level_set_while_another_thread_logs(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f)
        return;
    sl_log_configure(f, &fake_clock, 0);
    pthread_t th;
    int started = pthread_create(&th, NULL, log_lines, NULL) == 0;
    CHECK(started);
    for (int i = 0; i < 500; i++)
        sl_log_set_level(i % 2 ? SL_LOG_ERROR : SL_LOG_WARN);
    if (started)
        pthread_join(th, NULL);
    sl_log_set_level(SL_LOG_WARN);
    sl_log_news(SL_LOG_WARN, "spool", "line 500");
    sl_log_flush();
    fclose(f);
    int lines = count(text, "\n");
    CHECK(lines >= 1 && lines <= 501);
    CHECK(count(text, "{\"ts\":") == lines);
    CHECK(count(text, "\"}\n") == lines);
    int last = -1, ordered = 1;
    for (const char *p = text; (p = strstr(p, "\"msg\":\"line ")); p++) {
        int n = atoi(p + strlen("\"msg\":\"line "));
        ordered = ordered && n > last;
        last = n;
    }
    CHECK(ordered);
    CHECK(last == 500);
    free(text);
    sl_log_reset();
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"mask_rule", test_mask_rule},
        {"repeat_counted_then_summarised",
         test_repeat_counted_then_summarised},
        {"status_level_component_apart", test_status_level_component_apart},
        {"bounded_table_hostile", test_bounded_table_hostile},
        {"too_long_never_counted", test_too_long_never_counted},
        {"placed_in_caller_memory", test_placed_in_caller_memory},
        {"flush_at_shutdown", test_flush_at_shutdown},
        {"logger_dedups_warnings_only", test_logger_dedups_warnings_only},
        {"level_set_while_another_thread_logs",
         test_level_set_while_another_thread_logs},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
