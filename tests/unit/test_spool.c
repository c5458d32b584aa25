/* Unit tests for sl_spool: memory mode, disk order and LSNs, restart with
 * done/undone/recovered cuts, group commit in "fsync" mode, segment roll
 * and deletion, the cache spilling to disk, torn and corrupt tails,
 * max_bytes, sl_spool_inspect and hostile files. Asserts on the records
 * that come back and on the files left in the spool directory. */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <zlib.h>

#include "sl_buf.h"
#include "sl_log.h"
#include "sl_frame.h"
#include "sl_progress.h"
#include "sl_segment.h"
#include "sl_arrivals.h"
#include "sl_spool.h"
#include "sl_test.h"
#include "sl_test_dir.h"

#define BLK_HDR SL_SEGMENT_BLOCK_HDR /* the segment format's block header */

/* ---- helpers --------------------------------------------------------------- */

/* A fresh temporary connector directory (static; one at a time). */
/* A time read back through the wall clock: within a few ms. */
static int near_ms(uint64_t got, uint64_t want)
{
    return got + 5 >= want && got <= want + 5;
}

static const char *tmp_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/sl_spool_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        abort();
    }
    return dir;
}

/* Record i of block b: "b003.r1" plus a filler of varying length, so
 * that records and blocks are of different sizes. */
static size_t rec_text(size_t b, size_t i, char *out, size_t cap)
{
    int n = snprintf(out, cap, "b%03zu.r%zu.", b, i);
    size_t pad = (b * 7 + i * 5) % 23;
    for (size_t k = 0; k < pad && (size_t)n + 1 < cap; k++)
        out[n++] = (char)('a' + (b + k) % 26);
    out[n] = '\0';
    return (size_t)n;
}

/* Payload bytes (frames) of block b with nrec records. */
static size_t block_payload(size_t b, size_t nrec)
{
    char r[64];
    size_t n = 0;
    for (size_t i = 0; i < nrec; i++)
        n += 4 + rec_text(b, i, r, sizeof r);
    return n;
}

/* Record bytes (no frames) of block b. */
static size_t block_rec_bytes(size_t b, size_t nrec)
{
    return block_payload(b, nrec) - 4 * nrec;
}

static void build_block(sl_buf *blk, size_t b, size_t nrec)
{
    char r[64];
    sl_buf_init(blk, 0);
    for (size_t i = 0; i < nrec; i++) {
        size_t n = rec_text(b, i, r, sizeof r);
        CHECK(sl_frame_append(blk, r, n) == 0);
    }
}

static sl_spool_rc append_block(sl_spool *s, size_t b, size_t nrec,
                                uint64_t ms, uint64_t *ticket)
{
    sl_buf blk;
    uint64_t t = 0;
    build_block(&blk, b, nrec);
    sl_spool_rc rc = sl_spool_append(s, &blk, nrec, ms, &t);
    if (rc == SL_SPOOL_OK)
        CHECK(blk.data == NULL && blk.len == 0); /* ownership moved */
    else
        CHECK(blk.data != NULL && blk.len == block_payload(b, nrec));
    sl_buf_free(&blk);
    if (ticket)
        *ticket = t;
    return rc;
}

/* Expected "rec|rec|" for blocks [b0, b1) with nrec records each. */
static void expect_blocks(sl_buf *out, size_t b0, size_t b1, size_t nrec)
{
    char r[64];
    for (size_t b = b0; b < b1; b++)
        for (size_t i = 0; i < nrec; i++) {
            size_t n = rec_text(b, i, r, sizeof r);
            sl_buf_append(out, r, n);
            sl_buf_putc(out, '|');
        }
}

/* What emit saw. */
typedef struct coll {
    sl_buf out;          /* "rec|rec|" */
    uint64_t lsn[4096];
    size_t n;            /* records taken (all calls) */
    size_t calls;        /* emit calls, refused ones included */
    size_t refuse_at;    /* refuse once n reaches this (0: never) */
} coll;

static int emit(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    coll *c = ud;
    c->calls++;
    if (c->refuse_at && c->n >= c->refuse_at)
        return 1;
    sl_buf_append(&c->out, rec, len);
    sl_buf_putc(&c->out, '|');
    if (c->n < sizeof c->lsn / sizeof c->lsn[0])
        c->lsn[c->n] = lsn;
    c->n++;
    return 0;
}

static void coll_init(coll *c)
{
    memset(c, 0, sizeof *c);
    sl_buf_init(&c->out, 0);
}

static int lsns_increasing(const coll *c)
{
    for (size_t i = 1; i < c->n && i < sizeof c->lsn / sizeof c->lsn[0]; i++)
        if (c->lsn[i] <= c->lsn[i - 1])
            return 0;
    return 1;
}

/* The joined records after the first k. */
static const char *skip_recs(const char *joined, size_t k)
{
    while (k-- > 0 && joined && (joined = strchr(joined, '|')))
        joined++;
    return joined ? joined : "";
}

/* The callbacks' view. */
static struct {
    uint64_t lsn;
    int calls;
    uint64_t failed_lsn;
    int failed_calls;
} dur;

static void on_durable(void *ud, uint64_t lsn)
{
    (void)ud;
    CHECK(lsn >= dur.lsn); /* never backwards */
    dur.lsn = lsn;
    dur.calls++;
}

static void on_failed(void *ud, uint64_t lsn)
{
    (void)ud;
    dur.failed_lsn = lsn;
    dur.failed_calls++;
}

static sl_spool *open_spool(struct event_base *base, const char *dir,
                            sl_durability d, size_t max_bytes,
                            size_t segment_bytes, size_t cache_bytes)
{
    sl_spool_opts o = {
        .dir = dir,
        .name = "test",
        .durability = d,
        .max_bytes = max_bytes,
        .segment_bytes = segment_bytes,
        .cache_bytes = cache_bytes,
        .on_durable = on_durable,
        .on_failed = on_failed,
    };
    char err[512] = "";
    memset(&dur, 0, sizeof dur);
    sl_spool *s = sl_spool_open(base, &o, err, sizeof err);
    if (!s)
        fprintf(stderr, "sl_spool_open: %s\n", err);
    return s;
}

/* Let the end-of-turn flush (and whatever it scheduled) run. */
static void pump(struct event_base *base)
{
    for (int i = 0; i < 3; i++)
        event_base_loop(base, EVLOOP_NONBLOCK);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Loop until on_durable reported `want` (at most 5 s). */
static int wait_durable(struct event_base *base, uint64_t want)
{
    uint64_t t0 = now_ms();
    while (dur.lsn < want) {
        if (now_ms() - t0 > 5000)
            return -1;
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (dur.lsn < want) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
        }
    }
    return 0;
}

/* Take everything left in batches of `max`, calling done for each cut. */
static size_t drain(sl_spool *s, size_t max, coll *c)
{
    size_t total = 0, n;
    sl_cut cut;
    while ((n = sl_spool_take(s, max, emit, c, &cut)) > 0) {
        CHECK(cut.nrecords == n);
        CHECK(cut.start < cut.end);
        sl_spool_done(s, &cut);
        total += n;
    }
    return total;
}

/* Sorted *.seg names in <dir>/spool; returns how many (up to cap). */
static size_t list_segs(const char *dir, char names[][32], size_t cap)
{
    char path[512];
    snprintf(path, sizeof path, "%s/spool", dir);
    DIR *d = opendir(path);
    size_t n = 0;
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l > 4 && strcmp(e->d_name + l - 4, ".seg") == 0) {
            if (n < cap)
                snprintf(names[n], 32, "%.31s", e->d_name);
            n++;
        }
    }
    closedir(d);
    size_t m = n < cap ? n : cap;
    for (size_t i = 1; i < m; i++) /* insertion sort: same-width hex */
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char t[32];
            memcpy(t, names[j], 32);
            memcpy(names[j], names[j - 1], 32);
            memcpy(names[j - 1], t, 32);
        }
    return n;
}

/* Delivered segments are deleted by the spool's thread: wait (up to 5 s)
 * until `want` segment files are left. */
static size_t wait_segs(const char *dir, char names[][32], size_t cap,
                        size_t want)
{
    size_t n = 0;
    for (int i = 0; i < 500; i++) {
        if ((n = list_segs(dir, names, cap)) == want)
            break;
        usleep(10 * 1000);
    }
    return n;
}

static off_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void seg_file(const char *dir, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/spool/%s", dir, name);
}

/* Path of the last segment (static). */
static const char *last_seg(const char *dir)
{
    static char path[512];
    char names[64][32];
    size_t n = list_segs(dir, names, 64);
    CHECK(n > 0 && n <= 64);
    if (n == 0)
        return "";
    seg_file(dir, names[n - 1], path, sizeof path);
    return path;
}

/* ---- 1. memory mode -------------------------------------------------------- */

static void test_memory_mode(void)
{
    struct event_base *base = event_base_new();
    size_t p0 = block_payload(0, 3), p1 = block_payload(1, 2);
    sl_spool *s = open_spool(base, NULL, SL_DURABILITY_MEMORY, p0 + p1, 0, 0);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(sl_spool_count(s) == 0 && sl_spool_oldest_ms(s) == 0);

    uint64_t t = 99;
    CHECK(append_block(s, 0, 3, 100, &t) == SL_SPOOL_OK);
    CHECK(t == 0); /* memory: durable at once */
    CHECK(append_block(s, 1, 2, 200, &t) == SL_SPOOL_OK);
    CHECK(sl_spool_count(s) == 5);
    CHECK(sl_spool_bytes(s) == block_rec_bytes(0, 3) + block_rec_bytes(1, 2));
    CHECK(sl_spool_oldest_ms(s) == 100);

    /* exactly at max_bytes: one more byte does not fit */
    CHECK(!sl_spool_has_room(s, 1));
    CHECK(append_block(s, 2, 1, 300, &t) == SL_SPOOL_FULL);
    CHECK(sl_spool_count(s) == 5);

    /* emit refusing stops the take; the record stays */
    coll c;
    coll_init(&c);
    c.refuse_at = 2;
    sl_cut cut;
    CHECK(sl_spool_take(s, 10, emit, &c, &cut) == 2);
    CHECK(cut.nrecords == 2 && cut.recovered == 0);
    CHECK(sl_spool_count(s) == 3);
    CHECK(sl_spool_oldest_ms(s) == 100); /* b000.r2 is still from block 0 */
    sl_spool_done(s, &cut);

    c.refuse_at = 0;
    CHECK(sl_spool_take(s, 1, emit, &c, &cut) == 1); /* max_records */
    CHECK(sl_spool_oldest_ms(s) == 200);
    sl_spool_done(s, &cut);
    CHECK(sl_spool_take(s, 10, emit, &c, &cut) == 2);
    sl_spool_done(s, &cut);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 1, 3);
    expect_blocks(&want, 1, 2, 2);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    CHECK(lsns_increasing(&c));
    CHECK(sl_spool_count(s) == 0 && sl_spool_bytes(s) == 0);
    CHECK(sl_spool_oldest_ms(s) == 0);
    CHECK(sl_spool_take(s, 10, emit, &c, &cut) == 0);

    /* room is back */
    CHECK(sl_spool_has_room(s, p0));
    CHECK(append_block(s, 2, 1, 300, &t) == SL_SPOOL_OK);
    CHECK(sl_spool_count(s) == 1);
    CHECK(sl_spool_oldest_ms(s) == 300);
    /* an empty append is a no-op */
    sl_buf empty;
    sl_buf_init(&empty, 0);
    CHECK(sl_spool_append(s, &empty, 0, 1, &t) == SL_SPOOL_OK);
    CHECK(sl_spool_count(s) == 1);
    sl_buf_free(&want);
    sl_buf_free(&c.out);
    sl_spool_close(s); /* frees the record still held */
out:
    sl_spool_close(NULL);
    event_base_free(base);
}

/* The oldest undelivered record: in an outstanding batch (in flight or
 * retrying) once every record is cut, the oldest waiting one otherwise. */
static void test_undelivered_ms(void)
{
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, NULL, SL_DURABILITY_MEMORY, 1 << 20, 0, 0);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(sl_spool_undelivered_ms(s) == 0);
    CHECK(append_block(s, 0, 3, 100, NULL) == SL_SPOOL_OK);
    CHECK(append_block(s, 1, 2, 200, NULL) == SL_SPOOL_OK);
    CHECK(sl_spool_undelivered_ms(s) == 100);
    coll c;
    coll_init(&c);
    sl_cut a, b;
    CHECK(sl_spool_take(s, 3, emit, &c, &a) == 3);
    CHECK(a.ms == 100);
    CHECK(sl_spool_oldest_ms(s) == 200 && sl_spool_undelivered_ms(s) == 100);
    CHECK(sl_spool_take(s, 10, emit, &c, &b) == 2);
    CHECK(b.ms == 200);
    /* all cut: nothing waits, yet the oldest is still undelivered */
    CHECK(sl_spool_oldest_ms(s) == 0 && sl_spool_undelivered_ms(s) == 100);
    sl_spool_done(s, &a);
    CHECK(sl_spool_undelivered_ms(s) == 200);
    CHECK(append_block(s, 2, 1, 300, NULL) == SL_SPOOL_OK);
    CHECK(sl_spool_undelivered_ms(s) == 200); /* b is older than block 2 */
    sl_spool_done(s, &b);
    CHECK(sl_spool_undelivered_ms(s) == 300);
    CHECK(sl_spool_take(s, 10, emit, &c, &a) == 1 && a.ms == 300);
    sl_spool_done(s, &a);
    CHECK(sl_spool_undelivered_ms(s) == 0);
    sl_buf_free(&c.out);
    sl_spool_close(s);
out:
    event_base_free(base);
}

/* ---- 2. "os": order, LSNs, restart ------------------------------------------ */

static void test_os_order_and_reopen(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t t, last = 0;
    for (size_t b = 0; b < 20; b++) {
        CHECK(append_block(s, b, 3, 1000 + b, &t) == SL_SPOOL_OK);
        CHECK(t > last);
        last = t;
    }
    pump(base);
    CHECK(dur.lsn >= last); /* "os": durable once written */
    CHECK(sl_spool_durable_lsn(s) >= last);
    CHECK(sl_spool_count(s) == 60);
    CHECK(sl_spool_oldest_ms(s) == 1000);

    coll c;
    coll_init(&c);
    sl_cut cut;
    uint64_t prev_end = 0;
    size_t total = 0, n;
    while ((n = sl_spool_take(s, 7, emit, &c, &cut)) > 0) {
        CHECK(n <= 7);
        CHECK(cut.start == prev_end); /* batches are contiguous */
        CHECK(cut.nrecords == n && cut.recovered == 0);
        prev_end = cut.end;
        total += n;
        sl_spool_done(s, &cut);
    }
    CHECK(total == 60);
    CHECK(lsns_increasing(&c));
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 20, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    pump(base);
    sl_spool_close(s);

    /* everything was done: nothing comes back */
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out2;
    CHECK(sl_spool_count(s) == 0);
    CHECK(sl_spool_recovered_left(s) == 0);
    CHECK(sl_spool_take(s, 100, emit, &c, &cut) == 0);
    CHECK(c.n == 60);
    /* and appending goes on after the old end */
    CHECK(append_block(s, 20, 2, 5, &t) == SL_SPOOL_OK);
    CHECK(t > last);
    pump(base);
    sl_buf_reset(&c.out);
    c.n = 0;
    CHECK(sl_spool_take(s, 100, emit, &c, &cut) == 2);
    CHECK(cut.start >= prev_end);
    sl_buf_reset(&want);
    expect_blocks(&want, 20, 21, 2);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_spool_close(s);
out2:
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* Undone cuts come back exactly, first, with the same epoch; a done cut
 * does not; records never cut come after them. Also the exactness of a
 * recovered cut against max_records and a refusing emit (item 10). */
static void test_recovered_cuts(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 10; b++)
        CHECK(append_block(s, b, 3, 10, NULL) == SL_SPOOL_OK);
    pump(base);
    CHECK(sl_spool_count(s) == 30);

    coll ca, cb, cc;
    coll_init(&ca);
    coll_init(&cb);
    coll_init(&cc);
    sl_cut a, b, c;
    CHECK(sl_spool_take(s, 5, emit, &ca, &a) == 5);   /* ends mid-block */
    CHECK(sl_spool_take(s, 7, emit, &cb, &b) == 7);
    CHECK(sl_spool_take(s, 4, emit, &cc, &c) == 4);
    CHECK(a.end == b.start && b.end == c.start);
    uint64_t epoch = a.epoch;
    CHECK(b.epoch == epoch && c.epoch == epoch);
    sl_spool_done(s, &b);
    pump(base);
    sl_spool_close(s);

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out2;
    CHECK(sl_spool_recovered_left(s) == 2);
    CHECK(sl_spool_count(s) == 30 - 16); /* never cut */
    /* arrival times come back from spool/arrivals (ms 10, through the
     * wall clock: within a few ms) */
    CHECK(near_ms(sl_spool_oldest_ms(s), 10) &&
          near_ms(sl_spool_undelivered_ms(s), 10));

    /* A again: exactly, although max_records is 1 and emit refuses */
    coll ra;
    coll_init(&ra);
    ra.refuse_at = 1;
    sl_cut r;
    CHECK(sl_spool_take(s, 1, emit, &ra, &r) == 5);
    CHECK(r.start == a.start && r.end == a.end && r.nrecords == 5);
    CHECK(r.recovered == 1 && r.epoch == epoch && near_ms(r.ms, 10));
    CHECK(ra.calls == 5);
    /* (ra refused after the first record, so compare LSNs, not text) */
    CHECK(ra.lsn[0] == ca.lsn[0]);
    CHECK(sl_spool_recovered_left(s) == 1);

    /* then C, with the same records */
    coll rc_;
    coll_init(&rc_);
    CHECK(sl_spool_take(s, 100, emit, &rc_, &r) == 4);
    CHECK(r.start == c.start && r.end == c.end && r.nrecords == 4);
    CHECK(r.recovered == 1 && r.epoch == epoch);
    CHECK_STR(sl_buf_cstr(&rc_.out), sl_buf_cstr(&cc.out));
    for (size_t i = 0; i < 4; i++)
        CHECK(rc_.lsn[i] == cc.lsn[i]);
    CHECK(sl_spool_recovered_left(s) == 0);
    CHECK(sl_spool_count(s) == 14); /* recovered cuts did not count */

    /* then the records never cut, as a new batch after C */
    coll rest;
    coll_init(&rest);
    CHECK(sl_spool_take(s, 100, emit, &rest, &r) == 14);
    CHECK(r.recovered == 0 && r.start == c.end && r.epoch == epoch);
    sl_buf want;
    sl_buf_init(&want, 0);
    /* 16 records were cut: blocks 0-4 and b005.r0 */
    char rr[64];
    size_t l = rec_text(5, 1, rr, sizeof rr);
    sl_buf_append(&want, rr, l);
    sl_buf_putc(&want, '|');
    l = rec_text(5, 2, rr, sizeof rr);
    sl_buf_append(&want, rr, l);
    sl_buf_putc(&want, '|');
    expect_blocks(&want, 6, 10, 3);
    CHECK_STR(sl_buf_cstr(&rest.out), sl_buf_cstr(&want));
    sl_cut rest_cut = r;

    /* A and the rest done, C not: only C comes back */
    sl_spool_done(s, &a);
    sl_spool_done(s, &rest_cut);
    sl_spool_close(s); /* close persists progress without a loop turn */

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out3;
    CHECK(sl_spool_recovered_left(s) == 1);
    CHECK(sl_spool_count(s) == 0);
    coll rc2;
    coll_init(&rc2);
    CHECK(sl_spool_take(s, 100, emit, &rc2, &r) == 4);
    CHECK(r.start == c.start && r.end == c.end && r.recovered == 1);
    CHECK_STR(sl_buf_cstr(&rc2.out), sl_buf_cstr(&cc.out));
    sl_spool_done(s, &r);
    CHECK(sl_spool_take(s, 100, emit, &rc2, &r) == 0);
    sl_spool_close(s);

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_recovered_left(s) == 0);
        CHECK(sl_spool_take(s, 100, emit, &rc2, &r) == 0);
        CHECK(sl_spool_disk_bytes(s) == 0);
        sl_spool_close(s);
    }
    sl_buf_free(&rc2.out);
out3:
    sl_buf_free(&want);
    sl_buf_free(&rest.out);
    sl_buf_free(&rc_.out);
    sl_buf_free(&ra.out);
out2:
    sl_buf_free(&ca.out);
    sl_buf_free(&cb.out);
    sl_buf_free(&cc.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* A batch in flight that spans segments and came from the cache is cut
 * again from disk after a restart, exactly; once done, the segments go. */
static void test_recovered_cut_spans_segments(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 2048,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 60; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    coll c0, c1;
    coll_init(&c0);
    coll_init(&c1);
    sl_cut a, b;
    CHECK(sl_spool_take(s, 4, emit, &c0, &b) == 4);
    sl_spool_done(s, &b);
    CHECK(sl_spool_take(s, 100, emit, &c0, &a) == 100); /* from the cache */
    pump(base);
    sl_spool_close(s);
    char names[64][32];
    size_t nseg = list_segs(dir, names, 64);
    CHECK(nseg >= 3);

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 2048, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out2;
    sl_cut r;
    CHECK(sl_spool_take(s, 10, emit, &c1, &r) == 100);
    CHECK(r.start == a.start && r.end == a.end && r.nrecords == 100);
    CHECK(r.recovered == 1 && r.epoch == a.epoch);
    CHECK_STR(sl_buf_cstr(&c1.out), skip_recs(sl_buf_cstr(&c0.out), 4));
    for (size_t i = 0; i < 100; i++)
        CHECK(c1.lsn[i] == c0.lsn[4 + i]);
    CHECK(sl_spool_take(s, 1000, emit, &c1, &b) == 180 - 104);
    sl_spool_done(s, &b);
    pump(base);
    CHECK(list_segs(dir, names, 64) >= 3); /* r still holds them */
    sl_spool_done(s, &r);
    pump(base);
    CHECK(wait_segs(dir, names, 64, 1) == 1);
    sl_spool_close(s);
out2:
    sl_buf_free(&c0.out);
    sl_buf_free(&c1.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* Many batches in flight: the limit is kept (no batch is lost track of)
 * and all of them come back after a restart. */
static void test_many_cuts_in_flight(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 200; b++)
        CHECK(append_block(s, b, 1, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    coll c;
    coll_init(&c);
    sl_cut cut;
    size_t ncut = 0;
    while (sl_spool_take(s, 1, emit, &c, &cut) == 1 && ncut < 300)
        ncut++;
    CHECK(ncut >= 100 && ncut < 200); /* a cap below everything */
    CHECK(sl_spool_count(s) == 200 - ncut);
    pump(base);
    sl_spool_close(s);
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_recovered_left(s) == ncut);
        sl_buf_reset(&c.out);
        CHECK(drain(s, 1000, &c) == 200);
        sl_buf want;
        sl_buf_init(&want, 0);
        expect_blocks(&want, 0, 200, 1);
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
        sl_buf_free(&want);
        sl_spool_close(s);
    }
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* Records larger than the disk reader's chunk, and blocks whose records
 * straddle its chunks, read back from disk (no cache), also after a
 * restart in the middle of such a block. */
typedef struct big_coll {
    size_t n, bad;
    size_t refuse_at;
} big_coll;

static void big_fill(char *p, size_t len, size_t id)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (char)('A' + (i * 7 + id) % 53);
}

static size_t big_len(size_t id) { return id == 0 ? 400 * 1024 : 2900 + id % 211; }

static int big_emit(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    (void)lsn;
    big_coll *c = ud;
    if (c->refuse_at && c->n >= c->refuse_at)
        return 1;
    static char want[400 * 1024];
    size_t id = c->n;
    if (len != big_len(id)) {
        c->bad++;
    } else {
        big_fill(want, len, id);
        if (memcmp(want, rec, len) != 0)
            c->bad++;
    }
    c->n++;
    return 0;
}

static void test_large_records(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 8 << 20, 4 << 20, 0);
    CHECK(s != NULL);
    if (!s)
        goto out;
    static char rec[400 * 1024];
    sl_buf blk;
    sl_buf_init(&blk, 0);
    big_fill(rec, big_len(0), 0);
    CHECK(sl_frame_append(&blk, rec, big_len(0)) == 0);
    CHECK(sl_spool_append(s, &blk, 1, 1, &(uint64_t){0}) == SL_SPOOL_OK);
    sl_buf_init(&blk, 0);
    for (size_t id = 1; id < 301; id++) { /* ~900 KB in one block */
        big_fill(rec, big_len(id), id);
        CHECK(sl_frame_append(&blk, rec, big_len(id)) == 0);
    }
    CHECK(sl_spool_append(s, &blk, 300, 1, &(uint64_t){0}) == SL_SPOOL_OK);
    sl_buf_free(&blk);
    pump(base);
    CHECK(sl_spool_count(s) == 301);
    big_coll c = {0, 0, 150};
    sl_cut cut;
    CHECK(sl_spool_take(s, 1000, big_emit, &c, &cut) == 150); /* mid-block */
    CHECK(c.n == 150 && c.bad == 0);
    sl_spool_close(s); /* the cut stays in flight */

    /* after a restart: the cut again, exactly, then the rest of the block,
     * found by walking its frames from the start of the segment */
    s = open_spool(base, dir, SL_DURABILITY_OS, 8 << 20, 4 << 20, 0);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(sl_spool_count(s) == 151);
    big_coll r = {0, 0, 0};
    sl_cut rc;
    CHECK(sl_spool_take(s, 1, big_emit, &r, &rc) == 150);
    CHECK(r.n == 150 && r.bad == 0);
    CHECK(rc.start == cut.start && rc.end == cut.end && rc.recovered);
    CHECK(sl_spool_take(s, 1000, big_emit, &r, &rc) == 151);
    CHECK(r.n == 301 && r.bad == 0);
    CHECK(rc.start == cut.end && !rc.recovered);
    sl_spool_close(s);
    sl_buf_free(&blk);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 3. "fsync": group commit ------------------------------------------------ */

static void test_fsync_durable(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC, 1 << 20,
                             1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t t[5], last = 0;
    for (size_t b = 0; b < 5; b++) {
        CHECK(append_block(s, b, 2, 1, &t[b]) == SL_SPOOL_OK);
        CHECK(t[b] > last);
        last = t[b];
    }
    CHECK(dur.calls == 0); /* nothing before the loop turn */
    CHECK(wait_durable(base, last) == 0);
    CHECK(dur.lsn >= last);
    CHECK(sl_spool_durable_lsn(s) >= last);
    /* one loop turn, one flush, one fdatasync, one report */
    CHECK(dur.calls == 1);
    CHECK(dur.failed_calls == 0);

    /* a second turn */
    uint64_t t6;
    CHECK(append_block(s, 5, 1, 2, &t6) == SL_SPOOL_OK);
    CHECK(t6 > last);
    CHECK(wait_durable(base, t6) == 0);
    CHECK(dur.calls == 2);

    /* sl_spool_sync: durable on return */
    uint64_t t7;
    CHECK(append_block(s, 6, 4, 3, &t7) == SL_SPOOL_OK);
    CHECK(sl_spool_sync(s) == 0);
    CHECK(sl_spool_durable_lsn(s) >= t7);
    CHECK(dur.lsn >= t7);
    pump(base); /* a late thread report must not move it back */
    CHECK(sl_spool_durable_lsn(s) >= t7);

    coll c;
    coll_init(&c);
    CHECK(drain(s, 100, &c) == 5 * 2 + 1 + 4);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 5, 2);
    expect_blocks(&want, 5, 6, 1);
    expect_blocks(&want, 6, 7, 4);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    CHECK_STR(sl_spool_error(s), "");
    sl_spool_close(s);
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* Many turns in "fsync" with small segments: every ticket becomes durable
 * and the data survives a reopen. */
static void test_fsync_roll(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC, 1 << 20, 2048,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t t = 0;
    for (size_t b = 0; b < 60; b++) {
        CHECK(append_block(s, b, 3, 1, &t) == SL_SPOOL_OK);
        if (b % 4 == 3)
            CHECK(wait_durable(base, t) == 0);
    }
    CHECK(wait_durable(base, t) == 0);
    char names[64][32];
    CHECK(list_segs(dir, names, 64) >= 3);
    sl_spool_close(s);
    s = open_spool(base, dir, SL_DURABILITY_FSYNC, 1 << 20, 2048, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(sl_spool_count(s) == 180);
    coll c;
    coll_init(&c);
    CHECK(drain(s, 50, &c) == 180);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 60, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_spool_close(s);
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 4. segment roll and deletion -------------------------------------------- */

static void test_segments_roll_and_delete(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 4096,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    size_t bytes = 0;
    for (size_t b = 0; b < 120; b++) {
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
        bytes += BLK_HDR + block_payload(b, 3);
        if (b % 10 == 9)
            pump(base);
    }
    pump(base);
    char names[64][32];
    size_t nseg = list_segs(dir, names, 64);
    CHECK(nseg >= bytes / 4096);
    CHECK(nseg >= 3);
    CHECK_STR(names[0], "0000000000000000.seg");
    /* every segment but the last reached segment_bytes; the files join up */
    uint64_t at = 0;
    for (size_t i = 0; i < nseg && i < 64; i++) {
        char path[512], want[32];
        snprintf(want, sizeof want, "%016" PRIx64 ".seg", at);
        CHECK_STR(names[i], want);
        seg_file(dir, names[i], path, sizeof path);
        off_t sz = file_size(path);
        if (i + 1 < nseg)
            CHECK(sz >= 4096);
        at += (uint64_t)sz;
    }
    CHECK(at == bytes);
    CHECK(sl_spool_disk_bytes(s) == bytes);

    /* the first batch stays outstanding: its segment stays */
    coll c;
    coll_init(&c);
    sl_cut first;
    CHECK(sl_spool_take(s, 3, emit, &c, &first) == 3);
    CHECK(drain(s, 20, &c) == 357);
    pump(base);
    CHECK(list_segs(dir, names, 64) >= 2);
    CHECK_STR(names[0], "0000000000000000.seg");
    sl_spool_done(s, &first);
    pump(base);
    /* all done: only the segment being appended to is left */
    CHECK(wait_segs(dir, names, 64, 1) == 1);
    CHECK(sl_spool_disk_bytes(s) == 0);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 120, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));

    /* appends go on, across a reopen */
    for (size_t b = 120; b < 140; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    sl_spool_close(s);
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 4096, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_count(s) == 60);
        sl_buf_reset(&c.out);
        CHECK(drain(s, 7, &c) == 60);
        sl_buf_reset(&want);
        expect_blocks(&want, 120, 140, 3);
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
        pump(base);
        CHECK(list_segs(dir, names, 64) == 1);
        sl_spool_close(s);
    }
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 5. the cache spills to disk ---------------------------------------------- */

static void test_cache_spill(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 4096, 1024);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 200; b++)
        CHECK(append_block(s, b, 3, 1000 + b, NULL) == SL_SPOOL_OK);
    pump(base);
    CHECK(sl_spool_count(s) == 600);
    CHECK(sl_spool_oldest_ms(s) == 1000); /* the head is in the cache */

    coll c;
    coll_init(&c);
    sl_cut cut;
    size_t total = 0, n, calls = 0;
    int saw_disk = 0;
    while ((n = sl_spool_take(s, 50, emit, &c, &cut)) > 0) {
        CHECK(n <= 50 && cut.nrecords == n);
        sl_spool_done(s, &cut);
        total += n;
        calls++;
        if (sl_spool_count(s) > 0 && total > 3 && sl_spool_oldest_ms(s) == 1000)
            saw_disk = 1; /* a backlog beyond the cache, read from disk:
                             the arrival mark's time (block 0's, the
                             others within its second) */
        if (calls % 3 == 0)
            pump(base);
    }
    CHECK(total == 600);
    CHECK(saw_disk);
    CHECK(lsns_increasing(&c));
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 200, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    CHECK(sl_spool_oldest_ms(s) == 0);

    /* caught up: new records are cached again (their own arrival time) */
    CHECK(append_block(s, 200, 2, 7777, NULL) == SL_SPOOL_OK);
    pump(base);
    CHECK(sl_spool_oldest_ms(s) == 7777);
    sl_buf_reset(&c.out);
    CHECK(sl_spool_take(s, 50, emit, &c, &cut) == 2);
    sl_buf_reset(&want);
    expect_blocks(&want, 200, 201, 2);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_spool_done(s, &cut);

    /* interleaved: appends while a disk backlog is being read */
    for (size_t b = 201; b < 260; b++)
        CHECK(append_block(s, b, 3, 1000 + b, NULL) == SL_SPOOL_OK);
    pump(base);
    sl_buf_reset(&c.out);
    size_t next = 260;
    total = 0;
    while ((n = sl_spool_take(s, 13, emit, &c, &cut)) > 0) {
        sl_spool_done(s, &cut);
        total += n;
        if (next < 300) {
            CHECK(append_block(s, next, 3, 1000 + next, NULL) == SL_SPOOL_OK);
            next++;
            pump(base);
        }
    }
    CHECK(total == (next - 201) * 3);
    sl_buf_reset(&want);
    expect_blocks(&want, 201, next, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_spool_close(s);
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 6. torn and corrupt tails --------------------------------------------------- */

enum damage { TRUNCATE_MID_BLOCK, FLIP_PAYLOAD_BYTE, GARBAGE_AFTER };

static void torn_tail(enum damage how)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 5; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    sl_spool_close(s); /* close writes what was appended */

    const char *seg = last_seg(dir);
    off_t size = file_size(seg);
    off_t last_blk = (off_t)(BLK_HDR + block_payload(4, 3));
    CHECK(size > last_blk);
    int fd = open(seg, O_RDWR);
    CHECK(fd >= 0);
    size_t intact = 4;
    off_t valid = size - last_blk;
    if (how == TRUNCATE_MID_BLOCK) {
        CHECK(ftruncate(fd, size - last_blk / 2) == 0);
    } else if (how == FLIP_PAYLOAD_BYTE) {
        unsigned char ch;
        CHECK(pread(fd, &ch, 1, size - 3) == 1);
        ch ^= 0x20;
        CHECK(pwrite(fd, &ch, 1, size - 3) == 1);
    } else {
        unsigned char junk[37];
        memset(junk, 0xAB, sizeof junk);
        CHECK(pwrite(fd, junk, sizeof junk, size) == (ssize_t)sizeof junk);
        intact = 5;
        valid = size;
    }
    close(fd);

    uint64_t rec = 0, by = 0;
    char err[256];
    CHECK(sl_spool_inspect(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == intact * 3);

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(file_size(seg) == valid); /* the tail was cut at open */
    CHECK(sl_spool_count(s) == intact * 3);
    coll c;
    coll_init(&c);
    sl_buf want;
    sl_buf_init(&want, 0);
    CHECK(drain(s, 100, &c) == intact * 3);
    expect_blocks(&want, 0, intact, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));

    /* appending after the cut works and survives a reopen */
    uint64_t t;
    CHECK(append_block(s, 50, 2, 1, &t) == SL_SPOOL_OK);
    CHECK(t == (uint64_t)valid + BLK_HDR + block_payload(50, 2));
    pump(base);
    sl_spool_close(s);
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_count(s) == 2);
        sl_buf_reset(&c.out);
        sl_buf_reset(&want);
        CHECK(drain(s, 100, &c) == 2);
        expect_blocks(&want, 50, 51, 2);
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
        sl_spool_close(s);
    }
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

static void test_torn_tail_truncated(void) { torn_tail(TRUNCATE_MID_BLOCK); }
static void test_torn_tail_bad_crc(void) { torn_tail(FLIP_PAYLOAD_BYTE); }
static void test_torn_tail_garbage(void) { torn_tail(GARBAGE_AFTER); }

/* ---- 7. max_bytes ------------------------------------------------------------------ */

static void test_max_bytes_disk(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    size_t blk = BLK_HDR + block_payload(0, 3);
    size_t max = 5 * blk + blk / 2; /* room for 5 blocks of this size */
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, max, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    size_t ok = 0;
    for (size_t i = 0; i < 8; i++) {
        /* the same record sizes each time (block 0's records) */
        sl_spool_rc rc = append_block(s, 0, 3, 1, NULL);
        CHECK(rc == (i < 5 ? SL_SPOOL_OK : SL_SPOOL_FULL));
        ok += rc == SL_SPOOL_OK;
    }
    CHECK(ok == 5);
    CHECK(!sl_spool_has_room(s, block_payload(0, 3)));
    CHECK(sl_spool_has_room(s, 1));
    pump(base);
    CHECK(sl_spool_count(s) == 15);
    CHECK(sl_spool_disk_bytes(s) == 5 * blk);

    /* cut but not done: still held */
    coll c;
    coll_init(&c);
    sl_cut a, b;
    CHECK(sl_spool_take(s, 9, emit, &c, &a) == 9);
    CHECK(sl_spool_take(s, 9, emit, &c, &b) == 6);
    pump(base);
    CHECK(!sl_spool_has_room(s, block_payload(0, 3)));
    CHECK(append_block(s, 0, 3, 1, NULL) == SL_SPOOL_FULL);
    /* the later batch done: the earlier still holds everything from its start */
    sl_spool_done(s, &b);
    pump(base);
    CHECK(append_block(s, 0, 3, 1, NULL) == SL_SPOOL_FULL);
    sl_spool_done(s, &a);
    pump(base);
    CHECK(sl_spool_disk_bytes(s) == 0);
    CHECK(sl_spool_has_room(s, block_payload(0, 3)));
    for (size_t i = 0; i < 5; i++)
        CHECK(append_block(s, 0, 3, 1, NULL) == SL_SPOOL_OK);
    CHECK(append_block(s, 0, 3, 1, NULL) == SL_SPOOL_FULL);
    /* a block larger than max_bytes never fits */
    CHECK(!sl_spool_has_room(s, max));
    sl_spool_close(s);
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* The disk refuses a write (here: RLIMIT_FSIZE): the appends of that turn
 * are reported failed, the segment is cut back to what was written before,
 * and the spool goes on. */
static void test_write_failure(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    struct rlimit old;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    void (*old_sig)(int) = signal(SIGXFSZ, SIG_IGN);
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 10; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    const char *seg = last_seg(dir);
    off_t good = file_size(seg);
    CHECK(good > 0);
    struct rlimit lim = {(rlim_t)good + 100, old.rlim_max};
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    uint64_t t = 0;
    for (size_t b = 10; b < 30; b++)
        CHECK(append_block(s, b, 3, 1, &t) == SL_SPOOL_OK);
    pump(base);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    CHECK(dur.failed_calls == 1);
    CHECK(dur.failed_lsn == (uint64_t)good);
    CHECK(dur.lsn == (uint64_t)good && sl_spool_durable_lsn(s) < t);
    CHECK(file_size(seg) == good); /* cut back */
    CHECK_CONTAINS(sl_spool_error(s), "cannot write");
    CHECK(sl_spool_count(s) == 30);

    /* the spool goes on */
    for (size_t b = 30; b < 35; b++)
        CHECK(append_block(s, b, 3, 1, &t) == SL_SPOOL_OK);
    pump(base);
    CHECK(dur.lsn >= t);
    CHECK(dur.failed_calls == 1);
    coll c;
    coll_init(&c);
    sl_buf want;
    sl_buf_init(&want, 0);
    CHECK(drain(s, 100, &c) == 45);
    expect_blocks(&want, 0, 10, 3);
    expect_blocks(&want, 30, 35, 3);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_spool_close(s);
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_count(s) == 0 && sl_spool_recovered_left(s) == 0);
        sl_spool_close(s);
    }
    sl_buf_free(&want);
    sl_buf_free(&c.out);
out:
    setrlimit(RLIMIT_FSIZE, &old);
    signal(SIGXFSZ, old_sig);
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 8. sl_spool_inspect -------------------------------------------------------- */

static void test_inspect(void)
{
    const char *dir = tmp_dir();
    uint64_t rec = 9, by = 9;
    char err[256] = "";
    /* no spool yet, and no directory at all */
    CHECK(sl_spool_inspect(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 0 && by == 0);
    rec = by = 9;
    CHECK(sl_spool_inspect("/nonexistent/sluice/x", &rec, &by, err,
                           sizeof err) == 0);
    CHECK(rec == 0 && by == 0);

    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    uint64_t all_bytes = 0;
    for (size_t b = 0; b < 10; b++) {
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
        all_bytes += block_rec_bytes(b, 3);
    }
    pump(base);
    coll c;
    coll_init(&c);
    sl_cut a, b;
    CHECK(sl_spool_take(s, 6, emit, &c, &a) == 6); /* blocks 0, 1 */
    sl_spool_done(s, &a);
    CHECK(sl_spool_take(s, 3, emit, &c, &b) == 3); /* block 2: in flight */
    pump(base);
    CHECK(sl_spool_inspect(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 24);
    CHECK(by == all_bytes - block_rec_bytes(0, 3) - block_rec_bytes(1, 3));
    sl_spool_close(s);
    CHECK(sl_spool_inspect(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 24);

    /* an earlier batch in flight, a later one done: the done one is
     * delivered and must not be counted */
    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out2;
    sl_cut r, d;
    CHECK(sl_spool_take(s, 100, emit, &c, &r) == 3); /* block 2 again */
    CHECK(r.recovered == 1);
    CHECK(sl_spool_take(s, 3, emit, &c, &d) == 3);   /* block 3 */
    sl_spool_done(s, &d);
    sl_spool_close(s);
    CHECK(sl_spool_inspect(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 21); /* block 2 (in flight) + blocks 4-9 */
    CHECK(by == all_bytes - block_rec_bytes(0, 3) - block_rec_bytes(1, 3) -
                    block_rec_bytes(3, 3));
out2:
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- 9. hostile files ------------------------------------------------------------------ */

static void write_progress(const char *dir, const void *p, size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/spool/progress", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    CHECK(write(fd, p, n) == (ssize_t)n);
    close(fd);
}

/* n blocks of 3 records, flushed, nothing taken; the spool is closed. */
static void make_spool(const char *dir, size_t nblocks, size_t seg_bytes)
{
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, seg_bytes,
                             1 << 20);
    CHECK(s != NULL);
    if (s) {
        for (size_t b = 0; b < nblocks; b++)
            CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
        pump(base);
        sl_spool_close(s);
    }
    event_base_free(base);
}

static void check_all_back(const char *dir, size_t b0, size_t b1,
                           size_t seg_bytes)
{
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, seg_bytes,
                             1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_count(s) == (b1 - b0) * 3);
        coll c;
        coll_init(&c);
        sl_buf want;
        sl_buf_init(&want, 0);
        CHECK(drain(s, 100, &c) == (b1 - b0) * 3);
        expect_blocks(&want, b0, b1, 3);
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
        /* still usable */
        CHECK(append_block(s, 900, 1, 1, NULL) == SL_SPOOL_OK);
        CHECK(sl_spool_sync(s) == 0);
        sl_buf_reset(&c.out);
        CHECK(sl_spool_take(s, 100, emit, &c, &(sl_cut){0}) == 1);
        sl_buf_free(&want);
        sl_buf_free(&c.out);
        sl_spool_close(s);
    }
    event_base_free(base);
}

static void test_hostile_progress_garbage(void)
{
    const char *dir = tmp_dir();
    make_spool(dir, 6, 1 << 20);
    unsigned char junk[8192];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    write_progress(dir, junk, sizeof junk);
    check_all_back(dir, 0, 6, 1 << 20); /* treated as new: all again */
    sl_test_rm_rf(dir);

    dir = tmp_dir();
    make_spool(dir, 6, 1 << 20);
    write_progress(dir, "SPL1PROGxx", 10); /* short */
    check_all_back(dir, 0, 6, 1 << 20);
    sl_test_rm_rf(dir);

    dir = tmp_dir();
    make_spool(dir, 6, 1 << 20);
    write_progress(dir, "", 0); /* empty */
    check_all_back(dir, 0, 6, 1 << 20);
    sl_test_rm_rf(dir);
}

/* A progress slot with a valid checksum but a batch that cannot be: start
 * after end, and after the end of the spool. */
static void test_hostile_progress_bad_cut(void)
{
    const char *dir = tmp_dir();
    make_spool(dir, 4, 1 << 20);
    unsigned char slot[8192];
    memset(slot, 0, sizeof slot);
    uint64_t hdr[4] = {SL_PROGRESS_MAGIC, 5, 1234, 0}; /* seq 5, lsn 0 */
    uint32_t n = 1, pad = 0;
    memcpy(slot, hdr, sizeof hdr);
    memcpy(slot + 32, &n, 4);
    memcpy(slot + 36, &pad, 4);
    uint64_t cut[3] = {1000000, 0, 3};
    memcpy(slot + 40, cut, sizeof cut);
    uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), slot, 64);
    memcpy(slot + 64, &c, 4);
    write_progress(dir, slot, sizeof slot);

    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (s) {
        uint64_t held = 0;
        for (size_t b = 0; b < 4; b++)
            held += BLK_HDR + block_payload(b, 3);
        CHECK(sl_spool_disk_bytes(s) <= held); /* no wrap-around */
        CHECK(sl_spool_has_room(s, 100));
        coll cl;
        coll_init(&cl);
        CHECK(drain(s, 100, &cl) == 12);
        sl_buf want;
        sl_buf_init(&want, 0);
        expect_blocks(&want, 0, 4, 3);
        CHECK_STR(sl_buf_cstr(&cl.out), sl_buf_cstr(&want));
        sl_buf_free(&want);
        sl_buf_free(&cl.out);
        sl_spool_close(s);
    }
    event_base_free(base);
    sl_test_rm_rf(dir);
}

static void flip_byte(const char *path, off_t at)
{
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    unsigned char ch = 0;
    CHECK(pread(fd, &ch, 1, at) == 1);
    ch ^= 0xFF;
    CHECK(pwrite(fd, &ch, 1, at) == 1);
    close(fd);
}

static void test_hostile_segment_header(void)
{
    /* the only segment: a bad header at offset 0 loses it all, no crash */
    const char *dir = tmp_dir();
    make_spool(dir, 4, 1 << 20);
    flip_byte(last_seg(dir), 0);
    check_all_back(dir, 0, 0, 1 << 20);
    sl_test_rm_rf(dir);

    /* the first of several: its records are lost, the others' are not */
    dir = tmp_dir();
    make_spool(dir, 60, 2048);
    char names[64][32], path[512];
    size_t nseg = list_segs(dir, names, 64);
    CHECK(nseg >= 3);
    seg_file(dir, names[0], path, sizeof path);
    flip_byte(path, 0);
    /* blocks in segment 0: count them by size */
    off_t sz = file_size(path), at = 0;
    size_t b = 0;
    while (at < sz)
        at += (off_t)(BLK_HDR + block_payload(b++, 3));
    CHECK(at == sz);
    check_all_back(dir, b, 60, 2048);
    sl_test_rm_rf(dir);
}

/* A damaged segment behind the read position (delivered records, then bit
 * rot or an OS-mode crash that lost a non-last segment's tail): the
 * records after it must still be delivered. */
static void test_damage_behind_read_position(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 2048,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 60; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    coll c;
    coll_init(&c);
    sl_cut cut;
    CHECK(sl_spool_take(s, 6, emit, &c, &cut) == 6); /* blocks 0 and 1 */
    sl_spool_done(s, &cut);
    pump(base);
    sl_spool_close(s);

    char names[64][32], path[512];
    CHECK(list_segs(dir, names, 64) >= 3);
    seg_file(dir, names[0], path, sizeof path);
    flip_byte(path, BLK_HDR + 2); /* block 0's payload: already delivered */
    /* blocks in segment 0 */
    off_t sz = file_size(path), at = 0;
    size_t b0 = 0;
    while (at < sz)
        at += (off_t)(BLK_HDR + block_payload(b0++, 3));

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 2048, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out2;
    /* blocks 2..b0-1 are behind the damage and lost; the rest is there */
    CHECK(sl_spool_count(s) == (60 - b0) * 3);
    sl_buf_reset(&c.out);
    size_t got = drain(s, 100, &c);
    CHECK(got == (60 - b0) * 3);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, b0, 60, 3);
    if (got > 0) /* (an empty result is reported once, above) */
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_buf_free(&want);
    sl_spool_close(s);
out2:
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* The tail lost behind the read position (a delivered batch, then an
 * "os"-mode crash that lost the tail but kept the progress file): new
 * records reuse those LSNs and must not get a delivered batch's
 * idempotency key (epoch, start, end). */
static void test_lost_delivered_tail_key(void)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20,
                             1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 3; b++)
        CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
    pump(base);
    coll c;
    coll_init(&c);
    sl_cut a, d;
    CHECK(sl_spool_take(s, 6, emit, &c, &a) == 6);
    sl_spool_done(s, &a);
    CHECK(sl_spool_take(s, 3, emit, &c, &d) == 3); /* block 2: delivered */
    sl_spool_done(s, &d);
    sl_spool_close(s);
    /* block 2 is lost; progress says it was read */
    CHECK(truncate(last_seg(dir), (off_t)d.start) == 0);

    s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (s) {
        CHECK(sl_spool_count(s) == 0);
        /* a new block of the same size lands on the same LSNs */
        CHECK(append_block(s, 2, 3, 1, NULL) == SL_SPOOL_OK);
        pump(base);
        sl_cut n;
        CHECK(sl_spool_take(s, 3, emit, &c, &n) == 3);
        CHECK(!(n.epoch == d.epoch && n.start == d.start && n.end == d.end));
        sl_spool_close(s);
    }
    sl_buf_free(&c.out);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- odds and ends ------------------------------------------------------------------ */

static void test_open_errors_and_emit_refusal_on_disk(void)
{
    /* the connector "directory" is a file */
    char file[] = "/tmp/sl_spool_test_file_XXXXXX";
    int fd = mkstemp(file);
    CHECK(fd >= 0);
    close(fd);
    struct event_base *base = event_base_new();
    sl_spool_opts o = {.dir = file, .durability = SL_DURABILITY_OS,
                       .max_bytes = 1 << 20, .segment_bytes = 4096,
                       .cache_bytes = 0};
    char err[512] = "";
    CHECK(sl_spool_open(base, &o, err, sizeof err) == NULL);
    CHECK(err[0] != '\0');
    unlink(file);

    /* cache_bytes 0: everything is read from disk; refusal keeps it */
    const char *dir = tmp_dir();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_OS, 1 << 20, 4096, 0);
    CHECK(s != NULL);
    if (s) {
        for (size_t b = 0; b < 4; b++)
            CHECK(append_block(s, b, 3, 1, NULL) == SL_SPOOL_OK);
        pump(base);
        CHECK(sl_spool_count(s) == 12);
        CHECK(sl_spool_oldest_ms(s) == 2); /* on disk: its mark's (ms 1
                                              kept as 2: 1 is "unknown") */
        coll c;
        coll_init(&c);
        sl_cut cut;
        c.refuse_at = 4;
        CHECK(sl_spool_take(s, 100, emit, &c, &cut) == 4);
        sl_spool_done(s, &cut);
        CHECK(sl_spool_count(s) == 8);
        c.refuse_at = 0;
        CHECK(sl_spool_take(s, 100, emit, &c, &cut) == 8);
        sl_spool_done(s, &cut);
        sl_buf want;
        sl_buf_init(&want, 0);
        expect_blocks(&want, 0, 4, 3);
        CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
        sl_buf_free(&want);
        sl_buf_free(&c.out);
        sl_spool_close(s);
    }
    event_base_free(base);
    sl_test_rm_rf(dir);
}

/* ---- arrival times across a restart (spool/arrivals) ------------------- */

/* Write 3 blocks at ms 5000, 7000 and 9000 (three marks), close, then
 * change spool/arrivals with `how` and reopen: 'k' keep it, 'o' delete it
 * (a spool of the format before the marks), 't' tear the last entry, 'g'
 * garbage in the second. Every record is delivered in each case; returns
 * the reopened spool's undelivered_ms before and after the first block
 * is cut and done through *first and *second. */
static void arrivals_case(char how, uint64_t *first, uint64_t *second)
{
    const char *dir = tmp_dir();
    struct event_base *base = event_base_new();
    sl_spool *s = open_spool(base, dir, SL_DURABILITY_FSYNC, 1 << 20,
                             1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    for (size_t b = 0; b < 3; b++) {
        CHECK(append_block(s, b, 2, 5000 + 2000 * b, NULL) == SL_SPOOL_OK);
        pump(base); /* one loop turn each: one mark written each */
    }
    sl_spool_close(s);
    char path[160];
    snprintf(path, sizeof path, "%s/spool/arrivals", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 3 * SL_ARRIVALS_ENTRY);
    if (how == 'o')
        CHECK(unlink(path) == 0);
    if (how == 't')
        CHECK(truncate(path, 3 * SL_ARRIVALS_ENTRY - 7) == 0);
    if (how == 'g')
        flip_byte(path, SL_ARRIVALS_ENTRY + 3);
    s = open_spool(base, dir, SL_DURABILITY_FSYNC, 1 << 20, 1 << 20, 1 << 20);
    CHECK(s != NULL);
    if (!s)
        goto out;
    CHECK(sl_spool_count(s) == 6);
    *first = sl_spool_undelivered_ms(s);
    coll c;
    coll_init(&c);
    sl_cut cut;
    CHECK(sl_spool_take(s, 2, emit, &c, &cut) == 2);
    CHECK(cut.ms == *first);
    sl_spool_done(s, &cut);
    *second = sl_spool_undelivered_ms(s);
    CHECK(sl_spool_take(s, 100, emit, &c, &cut) == 4); /* all delivered */
    sl_spool_done(s, &cut);
    sl_buf want;
    sl_buf_init(&want, 0);
    expect_blocks(&want, 0, 3, 2);
    CHECK_STR(sl_buf_cstr(&c.out), sl_buf_cstr(&want));
    sl_buf_free(&want);
    sl_buf_free(&c.out);
    sl_spool_close(s);
    /* a torn or damaged file was cut to its good entries at the open */
    CHECK(stat(path, &st) == 0 &&
          st.st_size % SL_ARRIVALS_ENTRY == 0);
out:
    event_base_free(base);
    sl_test_rm_rf(dir);
}

static void test_arrivals_restart(void)
{
    uint64_t a, b;
    arrivals_case('k', &a, &b); /* kept: exact per mark */
    CHECK(near_ms(a, 5000) && near_ms(b, 7000));
    arrivals_case('o', &a, &b); /* the old format: unknown, as before */
    CHECK(a == 1 && b == 1);
    arrivals_case('t', &a, &b); /* torn last entry: the block under it
                                   counts from the mark before it */
    CHECK(near_ms(a, 5000) && near_ms(b, 7000));
    arrivals_case('g', &a, &b); /* damaged second entry: the rest is cut,
                                   later blocks count from the first */
    CHECK(near_ms(a, 5000) && near_ms(b, 5000));
}

int main(void)
{
    if (!getenv("SPOOL_TEST_LOG"))
        sl_log_set_level(SL_LOG_OFF);
    static const sl_test_case cases[] = {
        {"memory_mode", test_memory_mode},
        {"arrivals_restart", test_arrivals_restart},
        {"undelivered_ms", test_undelivered_ms},
        {"os_order_and_reopen", test_os_order_and_reopen},
        {"recovered_cuts", test_recovered_cuts},
        {"recovered_cut_spans_segments", test_recovered_cut_spans_segments},
        {"many_cuts_in_flight", test_many_cuts_in_flight},
        {"large_records", test_large_records},
        {"fsync_durable", test_fsync_durable},
        {"fsync_roll", test_fsync_roll},
        {"segments_roll_and_delete", test_segments_roll_and_delete},
        {"cache_spill", test_cache_spill},
        {"torn_tail_truncated", test_torn_tail_truncated},
        {"torn_tail_bad_crc", test_torn_tail_bad_crc},
        {"torn_tail_garbage", test_torn_tail_garbage},
        {"max_bytes_disk", test_max_bytes_disk},
        {"write_failure", test_write_failure},
        {"inspect", test_inspect},
        {"hostile_progress_garbage", test_hostile_progress_garbage},
        {"hostile_progress_bad_cut", test_hostile_progress_bad_cut},
        {"hostile_segment_header", test_hostile_segment_header},
        {"damage_behind_read_position", test_damage_behind_read_position},
        {"lost_delivered_tail_key", test_lost_delivered_tail_key},
        {"open_errors_and_emit_refusal_on_disk",
         test_open_errors_and_emit_refusal_on_disk},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
