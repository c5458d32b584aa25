/* Unit tests for sl_arrivals: at most one mark a second, lookups give the
 * last mark at or before an LSN (1 when none), marks written only below
 * what the segments hold, read back across a reopen; a torn, damaged,
 * out-of-order or past-the-end entry cuts the file there; trimming keeps
 * the mark under ack and rewrites the file once enough is forgotten. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_arrivals.h"
#include "sl_log.h"
#include "sl_test.h"
#include "sl_test_dir.h"
#include "sl_time.h"

static char dir[64];

static sl_arrivals *reopen(uint64_t end)
{
    char err[256] = "";
    sl_arrivals *a = sl_arrivals_open(dir, end, sl_time_mono_ms(),
                                      sl_time_wall_ms(), err, sizeof err);
    if (!a)
        fprintf(stderr, "sl_arrivals_open: %s\n", err);
    return a;
}

static int near_ms(uint64_t got, uint64_t want)
{
    return got + 5 >= want && got <= want + 5;
}

static off_t file_size(void)
{
    char p[128];
    struct stat st;
    snprintf(p, sizeof p, "%s/arrivals", dir);
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static void clean(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/arrivals", dir);
    unlink(p);
}

static void test_marks_and_lookup(void)
{
    clean();
    sl_arrivals *a = reopen(0);
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK(sl_arrivals_at(a, 0) == 1); /* nothing known */
    uint64_t t = sl_time_mono_ms();
    sl_arrivals_note(a, 100, t - 5000);
    sl_arrivals_note(a, 200, t - 4500); /* same second: no mark */
    sl_arrivals_note(a, 300, t - 3000);
    CHECK(sl_arrivals_at(a, 99) == 1);
    CHECK(sl_arrivals_at(a, 100) == t - 5000);
    CHECK(sl_arrivals_at(a, 250) == t - 5000); /* never later than true */
    CHECK(sl_arrivals_at(a, 300) == t - 3000);
    /* an append dropped by a failed write: its LSN comes again */
    sl_arrivals_note(a, 300, t - 2000);
    CHECK(sl_arrivals_at(a, 300) == t - 2000);
    /* only what the segments hold is written */
    CHECK(sl_arrivals_write(a, 300) == 1);
    CHECK(file_size() == SL_ARRIVALS_ENTRY);
    CHECK(sl_arrivals_write(a, 300) == 0);
    CHECK(sl_arrivals_write(a, 400) == 1);
    CHECK(file_size() == 2 * SL_ARRIVALS_ENTRY);
    sl_arrivals_close(a);

    a = reopen(400); /* read back through the wall clock */
    CHECK(a != NULL);
    if (!a)
        return;
    CHECK(near_ms(sl_arrivals_at(a, 150), t - 5000));
    CHECK(near_ms(sl_arrivals_at(a, 399), t - 2000));
    sl_arrivals_close(a);

    a = reopen(300); /* the spool's tail was cut: the mark at 300 goes */
    CHECK(a != NULL && file_size() == SL_ARRIVALS_ENTRY);
    if (a)
        CHECK(near_ms(sl_arrivals_at(a, 399), t - 5000));
    sl_arrivals_close(a);
    CHECK(sl_arrivals_at(NULL, 5) == 1);
    sl_arrivals_note(NULL, 5, 5);
    CHECK(sl_arrivals_write(NULL, 5) == 0);
    sl_arrivals_trim(NULL, 5);
    sl_arrivals_close(NULL);
}

/* Three marks written; then the file is changed and reopened. */
static sl_arrivals *damaged(void (*change)(int fd))
{
    clean();
    sl_arrivals *a = reopen(0);
    CHECK(a != NULL);
    if (!a)
        return NULL;
    uint64_t t = sl_time_mono_ms();
    for (int k = 0; k < 3; k++)
        sl_arrivals_note(a, 100 * (uint64_t)(k + 1), t - 9000 + 2000 * k);
    CHECK(sl_arrivals_write(a, 1000) == 1);
    sl_arrivals_close(a);
    char p[128];
    snprintf(p, sizeof p, "%s/arrivals", dir);
    int fd = open(p, O_RDWR);
    CHECK(fd >= 0);
    change(fd);
    close(fd);
    return reopen(1000);
}

static void tear(int fd) { CHECK(ftruncate(fd, 2 * 24 + 11) == 0); }
static void flip(int fd)
{
    unsigned char c;
    CHECK(pread(fd, &c, 1, 24 + 9) == 1);
    c ^= 0x40;
    CHECK(pwrite(fd, &c, 1, 24 + 9) == 1);
}
static void reorder(int fd) /* the third entry copied over the first */
{
    unsigned char e[24];
    CHECK(pread(fd, e, 24, 0) == 24);
    CHECK(pwrite(fd, e, 24, 48) == 24);
}
static void garbage(int fd) { CHECK(pwrite(fd, "xxxx", 4, 0) == 4); }

static void test_damage_cuts_the_file(void)
{
    sl_arrivals *a = damaged(tear); /* torn third: two stay */
    CHECK(a && file_size() == 2 * SL_ARRIVALS_ENTRY);
    if (a)
        CHECK(sl_arrivals_at(a, 300) == sl_arrivals_at(a, 200));
    sl_arrivals_close(a);
    a = damaged(flip); /* bad crc in the second: one stays */
    CHECK(a && file_size() == SL_ARRIVALS_ENTRY);
    sl_arrivals_close(a);
    a = damaged(reorder); /* out of order: two stay */
    CHECK(a && file_size() == 2 * SL_ARRIVALS_ENTRY);
    sl_arrivals_close(a);
    a = damaged(garbage); /* nothing good: all unknown, appends go on */
    CHECK(a && file_size() == 0);
    if (a) {
        CHECK(sl_arrivals_at(a, 300) == 1);
        sl_arrivals_note(a, 1000, sl_time_mono_ms());
        CHECK(sl_arrivals_write(a, 2000) == 1);
        CHECK(file_size() == SL_ARRIVALS_ENTRY);
    }
    sl_arrivals_close(a);
}

static void test_trim_and_rewrite(void)
{
    clean();
    /* 1,500 marks a second apart, 2,000 s ago: the monotonic clock (the
     * time since boot) cannot say so on a machine up for less */
    if (sl_time_mono_ms() < 2000 * 1000 + 1000) {
        printf("skip trim_and_rewrite: up %llu s, needs 2001 s of "
               "monotonic clock\n",
               (unsigned long long)(sl_time_mono_ms() / 1000));
        return;
    }
    sl_arrivals *a = reopen(0);
    CHECK(a != NULL);
    if (!a)
        return;
    uint64_t t = sl_time_mono_ms() - 2000 * 1000;
    for (uint64_t k = 0; k < 1500; k++)
        sl_arrivals_note(a, 10 * (k + 1), t + 1000 * k);
    CHECK(sl_arrivals_write(a, 100000) == 1);
    CHECK(file_size() == 1500 * SL_ARRIVALS_ENTRY);
    sl_arrivals_trim(a, 5005); /* marks 10..5000 are behind: 499 dropped */
    CHECK(sl_arrivals_at(a, 5005) == t + 1000 * 499);
    CHECK(sl_arrivals_at(a, 4990) == 1); /* forgotten */
    CHECK(file_size() == 1500 * SL_ARRIVALS_ENTRY); /* not yet rewritten */
    sl_arrivals_trim(a, 12005); /* 1200 behind: the file is rewritten */
    CHECK(file_size() == 301 * SL_ARRIVALS_ENTRY);
    sl_arrivals_note(a, 20000, sl_time_mono_ms()); /* appends go on */
    CHECK(sl_arrivals_write(a, 30000) == 1);
    CHECK(file_size() == 302 * SL_ARRIVALS_ENTRY);
    sl_arrivals_close(a);
    a = reopen(30000);
    CHECK(a != NULL);
    if (a)
        CHECK(near_ms(sl_arrivals_at(a, 12005), t + 1000 * 1199));
    sl_arrivals_close(a);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    snprintf(dir, sizeof dir, "/tmp/sl_arrivals_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"marks_and_lookup", test_marks_and_lookup},
        {"damage_cuts_the_file", test_damage_cuts_the_file},
        {"trim_and_rewrite", test_trim_and_rewrite},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
