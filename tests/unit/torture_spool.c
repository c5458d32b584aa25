/* Torture tests for sl_spool (sl_torture.h), in "os", "fsync" and
 * "memory" mode: open (recovering a spool left with delivered, in-flight
 * and never-cut records and a torn tail), sl_spool_inspect, append (up to
 * its answer, durable or failed), take + done (a recovered batch first,
 * deletion of delivered segments) and close are each run with allocation
 * 1, 2, 3, ... failing, until a run that fails nothing. After each run,
 * and with no failures injected, the segment files hold no partial block
 * and a reopened spool gives back every record it should, exactly once,
 * and nothing else; every block allocated is freed. Then short and
 * interrupted reads and writes, and the last block of a segment cut at
 * every byte offset. */
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_buf.h"
#include "sl_frame.h"
#include "sl_log.h"
#include "sl_segment.h"
#include "sl_spool.h"
#include "sl_test.h"
#include "sl_torture.h"

#define NREC 3        /* records per block */
#define MAXB 64       /* block ids */
#define NEW_BLOCK 40  /* the id of blocks appended by a tortured run */

static const char *mode_name(sl_durability d)
{
    return d == SL_DURABILITY_FSYNC ? "fsync"
           : d == SL_DURABILITY_OS  ? "os"
                                    : "memory";
}


/* ---- records ------------------------------------------------------------ */

#define RECMAX 512 /* bytes of a record, at most */

/* Record i of block b: "b003.r1." and a filler of varying length; block
 * 19 (the last of the largest fixture) is the longest, so that reading it
 * needs a larger buffer than any block before. */
static size_t rec_text(size_t b, size_t i, char *out, size_t cap)
{
    int n = snprintf(out, cap, "b%03zu.r%zu.", b, i);
    size_t pad = (b * 7 + i * 5) % 23 + (b == 19 ? 300 : 0);
    for (size_t k = 0; k < pad && (size_t)n + 1 < cap; k++)
        out[n++] = (char)('a' + (b + k) % 26);
    out[n] = '\0';
    return (size_t)n;
}

static size_t block_payload(size_t b)
{
    char r[RECMAX];
    size_t n = 0;
    for (size_t i = 0; i < NREC; i++)
        n += 4 + rec_text(b, i, r, sizeof r);
    return n;
}

/* Append block b (built by the test: never failed); on anything but OK
 * the block must still be the caller's, whole. */
static sl_spool_rc append_block(sl_spool *s, size_t b, uint64_t *ticket)
{
    char r[RECMAX];
    sl_buf blk;
    sl_buf_init(&blk, 0);
    sl_torture_hold();
    for (size_t i = 0; i < NREC; i++) {
        size_t n = rec_text(b, i, r, sizeof r);
        CHECK(sl_frame_append(&blk, r, n) == 0);
    }
    sl_torture_release();
    sl_spool_rc rc = sl_spool_append(s, &blk, NREC, 1, ticket);
    if (rc == SL_SPOOL_OK)
        CHECK(blk.data == NULL && blk.len == 0);
    else
        CHECK(blk.len == block_payload(b));
    sl_buf_free(&blk);
    return rc;
}

/* ---- what came back ----------------------------------------------------- */

static int seen[MAXB][NREC]; /* times each record was taken */
static int want[MAXB][NREC]; /* times it should have been */

typedef struct taker {
    size_t pend[512][2]; /* (block, record) emitted in this take */
    size_t npend;
} taker;

static int emit(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    (void)lsn;
    taker *t = ud;
    char buf[32];
    size_t b, i;
    snprintf(buf, sizeof buf, "%.*s", (int)(len < 31 ? len : 31), rec);
    if (sscanf(buf, "b%zu.r%zu.", &b, &i) != 2 || b >= MAXB || i >= NREC) {
        CHECK(!"a record that was never appended");
        return 0;
    }
    char r[RECMAX];
    rec_text(b, i, r, sizeof r);
    CHECK(len == strlen(r) && memcmp(rec, r, len) == 0); /* whole, intact */
    if (t->npend < 512) {
        t->pend[t->npend][0] = b;
        t->pend[t->npend][1] = i;
        t->npend++;
    }
    return 0;
}

/* One take: the records it returns count as seen (emitted records of a
 * take that then returned 0 do not: the caller drops such a batch). */
static size_t take(sl_spool *s, size_t max, sl_cut *cut)
{
    taker t = {.npend = 0};
    size_t n = sl_spool_take(s, max, emit, &t, cut);
    CHECK(n <= t.npend);
    for (size_t k = 0; k < n && k < t.npend; k++)
        seen[t.pend[k][0]][t.pend[k][1]]++;
    if (n)
        CHECK(cut->nrecords == n);
    return n;
}

static size_t drain(sl_spool *s)
{
    sl_cut cut;
    size_t total = 0, n;
    while ((n = take(s, 7, &cut)) > 0) {
        sl_spool_done(s, &cut);
        total += n;
    }
    return total;
}

/* seen == want, with the first differences named. */
static void check_seen(const char *what, unsigned long n)
{
    int shown = 0;
    for (size_t b = 0; b < MAXB; b++)
        for (size_t i = 0; i < NREC; i++)
            if (seen[b][i] != want[b][i]) {
                if (shown++ < 3)
                    fprintf(stderr, "%s, allocation %lu failing: record "
                            "b%03zu.r%zu seen %d times, want %d\n", what, n,
                            b, i, seen[b][i], want[b][i]);
                sl_test_failed_checks++;
            }
}

/* ---- the spool ---------------------------------------------------------- */

static struct {
    uint64_t durable;
    int durable_calls;
    uint64_t failed;
    int failed_calls;
} cb;

static void on_durable(void *ud, uint64_t lsn)
{
    (void)ud;
    cb.durable = lsn;
    cb.durable_calls++;
}

static void on_failed(void *ud, uint64_t lsn)
{
    (void)ud;
    cb.failed = lsn;
    cb.failed_calls++;
}

/* One block per segment (segment_bytes 1): the list of segments grows
 * with every block, and delivered segments are deleted one by one. */
static sl_spool *open_spool(struct event_base *base, const char *dir,
                            sl_durability d, char *err, size_t errlen)
{
    sl_spool_opts o = {
        .dir = dir,
        .name = "torture",
        .durability = d,
        .max_bytes = 1 << 20,
        .segment_bytes = 1,
        .cache_bytes = 1 << 20,
        .on_durable = on_durable,
        .on_failed = on_failed,
    };
    memset(&cb, 0, sizeof cb);
    return sl_spool_open(base, &o, err, errlen);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until the append with `ticket` is answered, durable or
 * failed (at most 5 s). 1 durable, 0 failed, -1 never answered. */
static int wait_answer(struct event_base *base, uint64_t ticket)
{
    uint64_t t0 = now_ms();
    while (now_ms() - t0 < 5000) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (cb.failed_calls && cb.failed < ticket)
            return 0;
        if (cb.durable >= ticket)
            return 1;
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    return -1;
}

static void pump(struct event_base *base)
{
    for (int i = 0; i < 3; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

/* ---- directories -------------------------------------------------------- */

static char root[64], fixture[96], work[96];

static void run(const char *cmd)
{
    if (system(cmd) != 0)
        fprintf(stderr, "failed: %s\n", cmd);
}

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/sl_torture_spool_XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(fixture, sizeof fixture, "%s/fixture", root);
    snprintf(work, sizeof work, "%s/work", root);
}

static void remove_root(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    run(cmd);
}

/* work = a fresh copy of fixture */
static void copy_fixture(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", work, fixture,
             work);
    run(cmd);
}

/* A spool in `fixture` with blocks 0..nblocks-1 (one segment each): the
 * first 8 records delivered, the next 5 cut and not done (a batch in
 * flight, cut again first after a reopen), the rest never cut; with
 * `torn`, garbage after the last block. want[] = what a reopen must give
 * back. */
static void make_fixture(size_t nblocks, int torn)
{
    char err[256] = "", cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture);
    run(cmd);
    sl_spool *s = open_spool(NULL, fixture, SL_DURABILITY_OS, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    for (size_t b = 0; b < nblocks; b++)
        CHECK(append_block(s, b, &(uint64_t){0}) == SL_SPOOL_OK);
    CHECK(sl_spool_sync(s) == 0);
    memset(seen, 0, sizeof seen);
    sl_cut cut;
    CHECK(take(s, 4, &cut) == 4);
    sl_spool_done(s, &cut);
    CHECK(take(s, 4, &cut) == 4);
    sl_spool_done(s, &cut);
    CHECK(take(s, 5, &cut) == 5);
    sl_spool_close(s);
    memset(want, 0, sizeof want);
    for (size_t b = 0; b < nblocks; b++)
        for (size_t i = 0; i < NREC; i++)
            want[b][i] = b * NREC + i >= 8;
    if (torn) {
        uint64_t *starts;
        size_t n;
        char dir[160], path[224];
        snprintf(dir, sizeof dir, "%s/spool", fixture);
        CHECK(sl_segment_list(dir, &starts, &n) == 0 && n == nblocks);
        sl_segment_path(dir, starts[n - 1], path, sizeof path);
        free(starts);
        FILE *f = fopen(path, "ab");
        CHECK(f != NULL);
        if (f) {
            /* the block magic "SPL1", then what a crash left */
            fwrite("SPL1garbage: a block header torn by a crash", 1, 40, f);
            fclose(f);
        }
    }
}

/* Every segment in work is whole: no partial block, no bad tail. */
static void check_no_torn(const char *what, unsigned long n)
{
    char dir[160], path[224];
    uint64_t *starts;
    size_t k;
    snprintf(dir, sizeof dir, "%s/spool", work);
    CHECK(sl_segment_list(dir, &starts, &k) == 0);
    sl_buf buf;
    sl_buf_init(&buf, 0);
    for (size_t i = 0; i < k; i++) {
        sl_segment_scan sc;
        sl_segment_path(dir, starts[i], path, sizeof path);
        CHECK(sl_segment_scan_file(path, starts[i], &buf, NULL, NULL, &sc) == 0);
        if (sc.why || sc.valid_end != sc.file_end) {
            fprintf(stderr, "%s, allocation %lu failing: %s: %s\n", what, n,
                    path, sc.why ? sc.why : "?");
            sl_test_failed_checks++;
        }
    }
    sl_buf_free(&buf);
    free(starts);
}

/* Reopen work with nothing failing and take everything: seen[] adds what
 * comes back; then compare with want[]. */
static void check_work(sl_durability d, const char *what, unsigned long n)
{
    char err[256] = "";
    sl_spool *s = open_spool(NULL, work, d, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        fprintf(stderr, "%s, allocation %lu failing: reopen: %s\n", what, n, err);
        return;
    }
    drain(s);
    sl_spool_close(s);
    check_seen(what, n);
}

/* ---- open / recover ----------------------------------------------------- */

/* Recovery of 20 segments (the segment list grows twice), a batch in
 * flight and a torn tail, with each allocation failing: open returns NULL
 * with a message, or a working spool; either way nothing on disk is lost
 * (the torn tail aside) and nothing leaks. */
static void open_torture(sl_durability d)
{
    make_root();
    make_fixture(20, 1);
    long live0 = sl_torture_live();
    unsigned long n = 1, refused = 0;
    for (; n < SL_TORTURE_MAX_N; n++) {
        copy_fixture();
        struct event_base *base = event_base_new();
        char err[256] = "";
        sl_torture_arm(n, true);
        sl_spool *s = open_spool(base, work, d, err, sizeof err);
        unsigned long failed = sl_torture_disarm();
        if (!s) {
            CHECK(failed > 0);
            CHECK(err[0] != '\0');
            refused++;
        }
        sl_spool_close(s);
        event_base_free(base);
        SL_TORTURE_CHECK_LIVE(live0, n);
        memset(seen, 0, sizeof seen);
        check_work(d, "open", n);
        if (!failed) {
            CHECK(s != NULL);
            break;
        }
    }
    CHECK(n > 10 && n < SL_TORTURE_MAX_N);
    CHECK(refused > 5);
    sl_torture_report(n, "open %s, 20 segments", mode_name(d));
    remove_root();
}

static void test_open_os(void) { open_torture(SL_DURABILITY_OS); }
static void test_open_fsync(void) { open_torture(SL_DURABILITY_FSYNC); }

static void test_open_memory(void)
{
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        char err[256] = "";
        struct event_base *base = event_base_new();
        sl_torture_arm(n, true);
        sl_spool *s =
            open_spool(base, NULL, SL_DURABILITY_MEMORY, err, sizeof err);
        unsigned long failed = sl_torture_disarm();
        CHECK(s != NULL || (failed > 0 && err[0] != '\0'));
        if (s) { /* it works */
            memset(seen, 0, sizeof seen);
            memset(want, 0, sizeof want);
            CHECK(append_block(s, 1, &(uint64_t){0}) == SL_SPOOL_OK);
            CHECK(drain(s) == NREC);
            want[1][0] = want[1][1] = want[1][2] = 1;
            check_seen("open memory", n);
        }
        sl_spool_close(s);
        event_base_free(base);
        SL_TORTURE_CHECK_LIVE(live0, n);
        if (!failed)
            break;
    }
    CHECK(n > 2 && n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "open memory");
}

/* sl_spool_inspect (`sluice reset`, `sluice dlq`) of the same spool: -1
 * with a message, or the right count; never a wrong one. */
static void test_inspect(void)
{
    make_root();
    make_fixture(20, 1);
    size_t records = 0;
    for (size_t b = 0; b < MAXB; b++)
        for (size_t i = 0; i < NREC; i++)
            records += (size_t)want[b][i];
    long live0 = sl_torture_live();
    unsigned long n = 1;
    for (; n < SL_TORTURE_MAX_N; n++) {
        char err[256] = "";
        uint64_t got = 0, bytes = 0;
        sl_torture_arm(n, true);
        int rc = sl_spool_inspect(fixture, &got, &bytes, err, sizeof err);
        unsigned long failed = sl_torture_disarm();
        SL_TORTURE_CHECK_LIVE(live0, n);
        if (rc == 0) {
            CHECK(got == records);
        } else {
            CHECK(rc == -1 && failed > 0 && err[0] != '\0');
        }
        if (!failed) {
            CHECK(rc == 0);
            break;
        }
    }
    CHECK(n > 2 && n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "inspect, 20 segments");
    remove_root();
}

/* ---- append ------------------------------------------------------------- */

/* One append to a spool of 16 segments (so that its segment makes the
 * list grow), run to its answer, with allocation n failing (sticky or
 * not): NOMEM with the block still the caller's, or accepted and then
 * either durable (on disk after a reopen) or failed (not there); never
 * unanswered; the other records untouched. */
static unsigned long append_once(sl_durability d, unsigned long n, bool sticky)
{
    char err[256] = "";
    struct event_base *base = event_base_new();
    if (d != SL_DURABILITY_MEMORY)
        copy_fixture();
    sl_spool *s = open_spool(base, d == SL_DURABILITY_MEMORY ? NULL : work, d,
                             err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        event_base_free(base);
        return 0;
    }
    memset(seen, 0, sizeof seen);
    if (d == SL_DURABILITY_MEMORY) {
        memset(want, 0, sizeof want);
        for (size_t b = 0; b < 3; b++) {
            CHECK(append_block(s, b, &(uint64_t){0}) == SL_SPOOL_OK);
            want[b][0] = want[b][1] = want[b][2] = 1;
        }
    }
    uint64_t ticket = 0;
    int answer = 0;
    sl_torture_arm(n, sticky);
    sl_spool_rc rc = append_block(s, NEW_BLOCK, &ticket);
    if (rc == SL_SPOOL_OK)
        answer = d == SL_DURABILITY_MEMORY ? 1 : wait_answer(base, ticket);
    unsigned long failed = sl_torture_disarm();

    CHECK(rc == SL_SPOOL_OK || (rc == SL_SPOOL_NOMEM && failed > 0));
    CHECK(answer >= 0); /* every accepted append is answered */
    if (answer == 0 && rc == SL_SPOOL_OK)
        CHECK(failed > 0 && sl_spool_error(s)[0] != '\0');
    int there = rc == SL_SPOOL_OK && answer == 1;
    for (size_t i = 0; i < NREC; i++)
        want[NEW_BLOCK][i] = there;
    if (d == SL_DURABILITY_MEMORY) {
        drain(s);
        check_seen("append memory", n);
    }
    sl_spool_close(s);
    event_base_free(base);
    if (d != SL_DURABILITY_MEMORY) {
        check_no_torn("append", n);
        check_work(d, "append", n);
    }
    if (!failed)
        CHECK(there);
    return failed;
}

static void append_torture(sl_durability d, bool sticky)
{
    if (d != SL_DURABILITY_MEMORY) {
        make_root();
        make_fixture(16, 0);
    }
    long live0 = sl_torture_live();
    unsigned long n = 1;
    while (n < SL_TORTURE_MAX_N && append_once(d, n, sticky) > 0) {
        SL_TORTURE_CHECK_LIVE(live0, n);
        n++;
    }
    CHECK(sl_torture_live() == live0);
    CHECK(n > 1 && n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "append %s, %s", mode_name(d),
                      sticky ? "sticky" : "transient");
    if (d != SL_DURABILITY_MEMORY)
        remove_root();
}

static void test_append_os(void) { append_torture(SL_DURABILITY_OS, true); }
static void test_append_fsync(void)
{
    append_torture(SL_DURABILITY_FSYNC, true);
}
static void test_append_memory(void)
{
    append_torture(SL_DURABILITY_MEMORY, true);
}
static void test_append_fsync_transient(void)
{
    append_torture(SL_DURABILITY_FSYNC, false);
}

/* ---- take / done -------------------------------------------------------- */

/* Three takes (the batch in flight from before the reopen first), each
 * done, and the loop turn that persists that and deletes delivered
 * segments, with allocation n failing; then the rest taken without
 * failures. Every record not delivered before comes out exactly once,
 * and afterwards the spool is empty, also after a reopen. */
static unsigned long take_once(sl_durability d, unsigned long n, bool sticky)
{
    char err[256] = "";
    struct event_base *base = event_base_new();
    copy_fixture();
    sl_spool *s = open_spool(base, work, d, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        event_base_free(base);
        return 0;
    }
    CHECK(sl_spool_recovered_left(s) == 1);
    memset(seen, 0, sizeof seen);
    sl_torture_arm(n, sticky);
    for (int k = 0; k < 3; k++) {
        sl_cut cut;
        if (take(s, 4, &cut) > 0)
            sl_spool_done(s, &cut);
    }
    pump(base);
    unsigned long failed = sl_torture_disarm();
    drain(s);
    pump(base);
    CHECK(sl_spool_count(s) == 0 && sl_spool_recovered_left(s) == 0);
    sl_spool_close(s);
    event_base_free(base);
    check_seen("take", n);

    /* all of it was done: nothing comes back */
    memset(seen, 0, sizeof seen);
    s = open_spool(NULL, work, d, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        CHECK(drain(s) == 0);
        sl_spool_close(s);
    }
    return failed;
}

static void take_torture(sl_durability d, bool sticky)
{
    make_root();
    make_fixture(20, 0);
    long live0 = sl_torture_live();
    unsigned long n = 1;
    while (n < SL_TORTURE_MAX_N && take_once(d, n, sticky) > 0) {
        SL_TORTURE_CHECK_LIVE(live0, n);
        n++;
    }
    CHECK(sl_torture_live() == live0);
    CHECK(n > 2 && n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "take + done %s, %s", mode_name(d),
                      sticky ? "sticky" : "transient");
    remove_root();
}

static void test_take_os(void) { take_torture(SL_DURABILITY_OS, true); }
static void test_take_fsync(void) { take_torture(SL_DURABILITY_FSYNC, true); }
static void test_take_os_transient(void)
{
    take_torture(SL_DURABILITY_OS, false);
}

/* In memory the records are in blocks already: take and done allocate
 * nothing. */
static void test_take_memory(void)
{
    char err[256] = "";
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, NULL, SL_DURABILITY_MEMORY, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        event_base_free(base);
        return;
    }
    memset(seen, 0, sizeof seen);
    memset(want, 0, sizeof want);
    for (size_t b = 0; b < 10; b++) {
        CHECK(append_block(s, b, &(uint64_t){0}) == SL_SPOOL_OK);
        want[b][0] = want[b][1] = want[b][2] = 1;
    }
    sl_torture_arm(1, true);
    CHECK(drain(s) == 10 * NREC);
    pump(base);
    CHECK(sl_torture_calls() == 0);
    CHECK(sl_torture_disarm() == 0);
    check_seen("take memory", 1);
    sl_spool_close(s);
    event_base_free(base);
}

/* ---- close -------------------------------------------------------------- */

/* Three blocks appended but not yet written when close runs with
 * allocation n failing: each is written whole or not at all, in order,
 * and what was there before stays. */
static unsigned long close_once(sl_durability d, unsigned long n)
{
    char err[256] = "";
    struct event_base *base = event_base_new();
    copy_fixture();
    sl_spool *s = open_spool(base, work, d, err, sizeof err);
    CHECK(s != NULL);
    if (!s) {
        event_base_free(base);
        return 0;
    }
    for (size_t b = NEW_BLOCK; b < NEW_BLOCK + 3; b++)
        CHECK(append_block(s, b, &(uint64_t){0}) == SL_SPOOL_OK);
    sl_torture_arm(n, true);
    sl_spool_close(s);
    unsigned long failed = sl_torture_disarm();
    event_base_free(base);
    check_no_torn("close", n);

    memset(seen, 0, sizeof seen);
    s = open_spool(NULL, work, d, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return failed;
    drain(s);
    sl_spool_close(s);
    /* the new blocks: a prefix of them, each whole */
    int prev = 1;
    for (size_t b = NEW_BLOCK; b < NEW_BLOCK + 3; b++) {
        int k = seen[b][0];
        CHECK(seen[b][1] == k && seen[b][2] == k && k <= prev);
        if (!failed)
            CHECK(k == 1);
        prev = k;
        for (size_t i = 0; i < NREC; i++)
            want[b][i] = k; /* judged above; the rest must match want */
    }
    check_seen("close", n);
    for (size_t b = NEW_BLOCK; b < NEW_BLOCK + 3; b++)
        for (size_t i = 0; i < NREC; i++)
            want[b][i] = 0;
    return failed;
}

static void close_torture(sl_durability d)
{
    make_root();
    make_fixture(16, 0);
    long live0 = sl_torture_live();
    unsigned long n = 1;
    while (n < SL_TORTURE_MAX_N && close_once(d, n) > 0) {
        SL_TORTURE_CHECK_LIVE(live0, n);
        n++;
    }
    CHECK(sl_torture_live() == live0);
    CHECK(n > 1 && n < SL_TORTURE_MAX_N);
    sl_torture_report(n, "close %s, 3 blocks unwritten", mode_name(d));
    remove_root();
}

static void test_close_os(void) { close_torture(SL_DURABILITY_OS); }
static void test_close_fsync(void) { close_torture(SL_DURABILITY_FSYNC); }

/* ---- short and interrupted I/O ------------------------------------------ */

/* Writes cut to `wmax` bytes and interrupted every 2nd call, then reads
 * cut to `rmax` bytes and interrupted every 3rd: 30 blocks in small
 * segments, a batch in flight, a reopen, everything back exactly. */
static void short_io(sl_durability d, size_t wmax, size_t rmax)
{
    char err[256] = "";
    make_root();
    struct event_base *base = event_base_new();
    sl_torture_short_io(wmax, 2);
    sl_spool_opts o = {.dir = work, .name = "short", .durability = d,
                       .max_bytes = 1 << 20, .segment_bytes = 500,
                       .cache_bytes = 0, .on_durable = on_durable,
                       .on_failed = on_failed};
    memset(&cb, 0, sizeof cb);
    sl_spool *s = sl_spool_open(base, &o, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        goto out;
    memset(want, 0, sizeof want);
    memset(seen, 0, sizeof seen);
    uint64_t ticket = 0;
    for (size_t b = 0; b < 30; b++) {
        CHECK(append_block(s, b, &ticket) == SL_SPOOL_OK);
        want[b][0] = want[b][1] = want[b][2] = 1;
        if (b % 5 == 4)
            CHECK(wait_answer(base, ticket) == 1);
    }
    CHECK(wait_answer(base, ticket) == 1);
    CHECK(cb.failed_calls == 0);
    sl_cut cut;
    sl_torture_short_io(rmax, 3);
    CHECK(take(s, 10, &cut) == 10); /* from the disk (no cache) */
    sl_spool_done(s, &cut);
    CHECK(take(s, 10, &cut) == 10); /* in flight at close */
    pump(base);
    sl_torture_short_io(wmax, 2);
    sl_spool_close(s);
    check_no_torn("short I/O", 0);
    sl_torture_short_io(rmax, 3);
    s = sl_spool_open(base, &o, err, sizeof err);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_recovered_left(s) == 1);
        drain(s);
        sl_spool_close(s);
    }
    for (size_t k = 10; k < 20; k++) /* the batch in flight: again */
        want[k / NREC][k % NREC]++;
    check_seen("short I/O", 0);
out:
    sl_torture_short_io(0, 0);
    event_base_free(base);
    remove_root();
}

static void test_short_io_os(void)
{
    short_io(SL_DURABILITY_OS, 1, 1);
    short_io(SL_DURABILITY_OS, 7, 5);
}

static void test_short_io_fsync(void) { short_io(SL_DURABILITY_FSYNC, 3, 7); }

/* ---- a torn last block at every offset ---------------------------------- */

static int read_file(const char *path, sl_buf *out)
{
    sl_buf_init(out, 0);
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        CHECK(sl_buf_append(out, chunk, n) == 0);
    fclose(f);
    return 0;
}

static void write_file(const char *path, const char *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (f) {
        CHECK(fwrite(p, 1, n, f) == n);
        fclose(f);
    }
}

/* Five blocks in one segment; the segment cut at every byte offset of its
 * last block (inside the header, inside the payload), with whole and with
 * short reads: the open cuts the file back to the end of block 3, and the
 * spool gives back exactly blocks 0-3. */
static void test_torn_last_block_every_offset(void)
{
    char err[256] = "", dir[160], seg[224], prog[224], cmd[400];
    make_root();
    sl_spool_opts o = {.dir = work, .name = "torn",
                       .durability = SL_DURABILITY_OS, .max_bytes = 1 << 20,
                       .segment_bytes = 1 << 20, .cache_bytes = 1 << 20};
    sl_spool *s = sl_spool_open(NULL, &o, err, sizeof err);
    CHECK(s != NULL);
    if (!s)
        return;
    for (size_t b = 0; b < 5; b++)
        CHECK(append_block(s, b, &(uint64_t){0}) == SL_SPOOL_OK);
    sl_spool_close(s);
    snprintf(dir, sizeof dir, "%s/spool", work);
    sl_segment_path(dir, 0, seg, sizeof seg);
    snprintf(prog, sizeof prog, "%s/progress", dir);
    sl_buf segb, progb;
    CHECK(read_file(seg, &segb) == 0 && read_file(prog, &progb) == 0);
    size_t last = SL_SEGMENT_BLOCK_HDR + block_payload(4);
    CHECK(segb.len > last);
    size_t keep = segb.len - last;

    memset(want, 0, sizeof want);
    for (size_t b = 0; b < 4; b++)
        want[b][0] = want[b][1] = want[b][2] = 1;
    size_t opened = 0;
    for (int pass = 0; pass < 2; pass++) {
        sl_torture_short_io(pass ? 3 : 0, pass ? 4 : 0);
        for (size_t cut = keep; cut < segb.len; cut++) {
            snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", work, dir);
            run(cmd);
            write_file(prog, progb.data, progb.len);
            write_file(seg, segb.data, cut);
            uint64_t records = 0, bytes = 0;
            CHECK(sl_spool_inspect(work, &records, &bytes, err, sizeof err) == 0);
            CHECK(records == 4 * NREC);
            memset(seen, 0, sizeof seen);
            s = sl_spool_open(NULL, &o, err, sizeof err);
            CHECK(s != NULL);
            if (!s)
                continue;
            opened++;
            struct stat st;
            CHECK(stat(seg, &st) == 0 && (size_t)st.st_size == keep);
            CHECK(sl_spool_count(s) == 4 * NREC);
            drain(s);
            sl_spool_close(s);
            check_seen("torn last block", cut);
        }
    }
    sl_torture_short_io(0, 0);
    CHECK(opened == 2 * last);
    sl_buf_free(&segb);
    sl_buf_free(&progb);
    remove_root();
}

int main(void)
{
    if (!getenv("SPOOL_TEST_LOG"))
        sl_log_set_level(SL_LOG_OFF);
    /* libevent's allocations are counted and failed too; a first base
     * makes whatever libevent keeps for the process before any count */
    sl_torture_libevent();
    event_base_free(event_base_new());
    static const sl_test_case cases[] = {
        {"open_os", test_open_os},
        {"open_fsync", test_open_fsync},
        {"open_memory", test_open_memory},
        {"inspect", test_inspect},
        {"append_os", test_append_os},
        {"append_fsync", test_append_fsync},
        {"append_memory", test_append_memory},
        {"append_fsync_transient", test_append_fsync_transient},
        {"take_os", test_take_os},
        {"take_fsync", test_take_fsync},
        {"take_os_transient", test_take_os_transient},
        {"take_memory", test_take_memory},
        {"close_os", test_close_os},
        {"close_fsync", test_close_fsync},
        {"short_io_os", test_short_io_os},
        {"short_io_fsync", test_short_io_fsync},
        {"torn_last_block_every_offset", test_torn_last_block_every_offset},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    if (sl_torture_live() != 0) {
        fprintf(stderr, "%ld blocks still allocated at exit\n", sl_torture_live());
        rc = rc ? rc : 1;
    }
    return rc;
}
