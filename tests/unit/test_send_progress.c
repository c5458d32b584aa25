/* Unit tests for sl_send_progress: the bar and the plain line for known
 * and unknown sizes, percent and ETA arithmetic, the width, and when a
 * line is written (tty: redraws at most every 100 ms, each starting with
 * \r; plain: one line per interval; the final one at 100 %). */
#include <stdio.h>
#include <stdlib.h>

#include "sl_buf.h"
#include "sl_send_progress.h"
#include "sl_test.h"

static sl_send_progress_view half(void)
{
    sl_send_progress_view v = {0};
    v.rows = 5000;
    v.accepted = 4990;
    v.rejected = 10;
    v.delivered = 4000;
    v.bytes = 500;
    v.size = 1000;
    v.elapsed_ms = 10000;
    v.delivery = true;
    return v;
}

static void test_numbers(void)
{
    sl_send_progress_view v = half();
    CHECK(sl_send_progress_percent(&v) == 50);
    CHECK(sl_send_progress_eta_s(&v) == 10);
    v.bytes = 1000; /* all read but not done: 99 % */
    CHECK(sl_send_progress_percent(&v) == 99);
    CHECK(sl_send_progress_eta_s(&v) == 0);
    v.done = true;
    CHECK(sl_send_progress_percent(&v) == 100);
    v = half();
    v.size = -1; /* a pipe */
    CHECK(sl_send_progress_percent(&v) == -1);
    CHECK(sl_send_progress_eta_s(&v) == -1);
    v.done = true;
    CHECK(sl_send_progress_percent(&v) == 100);
    v = half();
    v.elapsed_ms = 100; /* too soon to tell */
    CHECK(sl_send_progress_eta_s(&v) == -1);
    v = half();
    v.size = 0; /* an empty file */
    CHECK(sl_send_progress_percent(&v) == 100);
    v = half();
    v.bytes = 0;
    CHECK(sl_send_progress_eta_s(&v) == -1);
    v = half();
    v.size = (int64_t)1 << 40; /* large: no overflow */
    v.bytes = (uint64_t)1 << 39;
    CHECK(sl_send_progress_percent(&v) == 50);
    CHECK(sl_send_progress_eta_s(&v) == 10);
}

static void test_render(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_send_progress_view v = half();
    sl_send_progress_bar(&v, 120, &b);
    CHECK_STR(sl_buf_cstr(&b),
              "[###############...............]  50% rows 5000, accepted "
              "4990, rejected 10, delivered 4000, 500/s, ETA 0:10");
    CHECK(b.len <= 119);
    sl_buf_reset(&b);
    sl_send_progress_line(&v, &b);
    CHECK_STR(sl_buf_cstr(&b), "sluice send: 50%, rows 5000, accepted 4990, "
                               "rejected 10, delivered 4000, 500/s, ETA 0:10");
    /* narrow: no bar, never wider than the terminal */
    sl_buf_reset(&b);
    sl_send_progress_bar(&v, 50, &b);
    CHECK(b.len == 49);
    CHECK(b.data[0] == ' ');
    sl_buf_reset(&b);
    sl_send_progress_bar(&v, 3, &b);
    CHECK(b.len == 39);
    /* done, dead letters, an hour and more */
    v.done = true;
    v.dead = 7;
    v.elapsed_ms = 3723000;
    sl_buf_reset(&b);
    sl_send_progress_bar(&v, 160, &b);
    CHECK_CONTAINS(sl_buf_cstr(&b), "[##############################] 100% ");
    CHECK_CONTAINS(sl_buf_cstr(&b), "dead-lettered 7, 1/s, took 1:02:03");
    /* unknown size: no bar, no percent, no ETA */
    v = half();
    v.size = -1;
    v.delivery = false; /* through a gateway */
    sl_buf_reset(&b);
    sl_send_progress_bar(&v, 120, &b);
    CHECK_STR(sl_buf_cstr(&b), " rows 5000, accepted 4990, rejected 10, "
                               "500/s");
    sl_buf_free(&b);
}

static char *read_back(FILE *f)
{
    fflush(f);
    long n = ftell(f);
    char *p = calloc(1, (size_t)n + 1);
    rewind(f);
    CHECK(fread(p, 1, (size_t)n, f) == (size_t)n);
    return p;
}

static int count(const char *s, char c)
{
    int n = 0;
    for (; *s; s++)
        n += *s == c;
    return n;
}

static void test_timing(void)
{
    /* a terminal: the first update draws, then at most every 100 ms */
    FILE *f = tmpfile();
    sl_send_progress *p = sl_send_progress_new(f, true, 100, 0);
    sl_send_progress_view v = half();
    sl_send_progress_update(p, &v, 1000);
    sl_send_progress_update(p, &v, 1050);
    sl_send_progress_update(p, &v, 1099);
    sl_send_progress_update(p, &v, 1100);
    sl_send_progress_update(p, &v, 1150);
    v.done = true;
    sl_send_progress_final(p, &v);
    char *out = read_back(f);
    CHECK(count(out, '\r') == 3);
    CHECK(count(out, '\n') == 1); /* only after the final one */
    CHECK_CONTAINS(strrchr(out, '\r'), "100%");
    CHECK(out[strlen(out) - 1] == '\n');
    free(out);
    sl_send_progress_free(p);
    fclose(f);
    /* plain: one line per interval (none at once), and the final one */
    f = tmpfile();
    p = sl_send_progress_new(f, false, 80, 5000);
    v = half();
    for (uint64_t t = 0; t <= 12000; t += 100)
        sl_send_progress_update(p, &v, 1000 + t);
    v.done = true;
    sl_send_progress_final(p, &v);
    out = read_back(f);
    CHECK(count(out, '\r') == 0);
    CHECK(count(out, '\n') == 3);
    CHECK_CONTAINS(out, "sluice send: 50%, rows 5000");
    CHECK_CONTAINS(out, "\nsluice send: 100%, rows 5000");
    free(out);
    sl_send_progress_free(p);
    fclose(f);
    /* a message between two redraws gets its own line */
    f = tmpfile();
    p = sl_send_progress_new(f, true, 100, 0);
    v = half();
    sl_send_progress_update(p, &v, 0);
    sl_send_progress_interrupt(p);
    fputs("note\n", f);
    sl_send_progress_interrupt(p); /* nothing drawn since: no line end */
    out = read_back(f);
    CHECK(count(out, '\n') == 2);
    CHECK_CONTAINS(out, "\nnote\n");
    free(out);
    sl_send_progress_free(p);
    fclose(f);
    sl_send_progress_free(NULL);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"numbers", test_numbers},
        {"render", test_render},
        {"timing", test_timing},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
