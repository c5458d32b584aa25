/* Unit tests for sl_recovery: what a spool finds when it opens. A torn
 * tail of the last segment is cut on disk, damage in an earlier one only
 * skipped; the read position is moved into the valid data (deleted
 * segments, past the end with a new identity, inside a damaged rest);
 * outstanding cuts that cannot be read again are dropped; the read-only
 * count (sl_recovery_inspect) changes nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_frame.h"
#include "sl_log.h"
#include "sl_progress.h"
#include "sl_recovery.h"
#include "sl_test.h"
#include "sl_test_dir.h"

#define HDR SL_SEGMENT_BLOCK_HDR

static char cdir[64];     /* the connector directory */
static char sdir[96];     /* its spool/ */

static void clean(void)
{
    sl_test_rm_rf(sdir);
    CHECK(mkdir(sdir, 0750) == 0);
}

/* Append `nblocks` blocks of 2 records of 10 bytes ("rNNNNNNNNN") to the
 * segment at start; returns its size. Each block is HDR + 28 bytes. */
#define BLOCK (HDR + 2 * (4 + 10))
static uint64_t add_blocks(uint64_t start, int nblocks)
{
    char path[256];
    sl_segment_path(sdir, start, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
    CHECK(fd >= 0);
    for (int k = 0; k < nblocks; k++) {
        sl_buf b;
        sl_buf_init(&b, 0);
        CHECK(sl_frame_append(&b, "r000000000", 10) == 0);
        CHECK(sl_frame_append(&b, "r111111111", 10) == 0);
        unsigned char h[HDR];
        sl_segment_block_header(h, b.data, b.len, 2);
        CHECK(write(fd, h, HDR) == HDR);
        CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
        sl_buf_free(&b);
    }
    struct stat st;
    fstat(fd, &st);
    close(fd);
    return (uint64_t)st.st_size;
}

static off_t size_of(uint64_t start)
{
    char path[256];
    struct stat st;
    sl_segment_path(sdir, start, path, sizeof path);
    return stat(path, &st) == 0 ? st.st_size : -1;
}

static void set_progress(uint64_t epoch, uint64_t lsn,
                         const sl_cut *cuts, size_t n)
{
    sl_progress *p = sl_progress_open(sdir, 1);
    CHECK(p != NULL);
    CHECK(sl_progress_write(p, epoch, lsn, cuts, n) == 0);
    sl_progress_close(p);
}

static int run(sl_recovery *r)
{
    sl_progress *p = sl_progress_open(sdir, 1);
    char err[256] = "";
    int rc = sl_recovery_run(sdir, p, "t", r, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "sl_recovery_run: %s\n", err);
    sl_progress_close(p);
    return rc;
}

static sl_cut cut(uint64_t a, uint64_t b, size_t n)
{
    sl_cut c;
    memset(&c, 0, sizeof c);
    c.start = a;
    c.end = b;
    c.nrecords = n;
    return c;
}

static void test_new_spool(void)
{
    clean();
    static sl_recovery r;
    CHECK(run(&r) == 0);
    CHECK(r.nsegs == 0 && r.read_lsn == 0 && r.end == 0 && r.ncuts == 0);
    CHECK(r.records == 0 && r.epoch != 0);
    sl_recovery_free(&r);
}

static void test_torn_tail_cut_damage_skipped(void)
{
    clean();
    uint64_t s0 = add_blocks(0, 3);              /* 3 blocks */
    uint64_t s1 = add_blocks(s0, 3);             /* 3 more */
    uint64_t s2 = add_blocks(s0 + s1, 2);
    /* segment 1 damaged in its second block; segment 2 torn mid-block */
    char path[256];
    sl_segment_path(sdir, s0, path, sizeof path);
    int fd = open(path, O_WRONLY);
    CHECK(pwrite(fd, "X", 1, BLOCK + HDR + 6) == 1);
    close(fd);
    sl_segment_path(sdir, s0 + s1, path, sizeof path);
    CHECK(truncate(path, (off_t)(BLOCK + 7)) == 0);
    set_progress(77, 0, NULL, 0);
    static sl_recovery r;
    CHECK(run(&r) == 0);
    CHECK(r.epoch == 77 && r.nsegs == 3);
    CHECK(r.segs[0].start == 0 && r.segs[0].end == s0);
    CHECK(r.segs[1].start == s0 && r.segs[1].end == s0 + BLOCK);
    CHECK(r.segs[2].start == s0 + s1 && r.segs[2].end == s0 + s1 + BLOCK);
    CHECK(size_of(s0) == (off_t)s1);            /* damaged: not cut */
    CHECK(size_of(s0 + s1) == (off_t)BLOCK);    /* the torn tail: cut */
    CHECK(r.end == s0 + s1 + BLOCK);
    CHECK(r.records == 2 * (3 + 1 + 1) && r.bytes == 10 * r.records);
    (void)s2;
    sl_recovery_free(&r);

    /* again: nothing more to cut, the same result */
    CHECK(run(&r) == 0);
    CHECK(r.nsegs == 3 && r.end == s0 + s1 + BLOCK);
    sl_recovery_free(&r);
}

static void test_positions(void)
{
    static sl_recovery r;
    /* delivered segments deleted: the position moves to the first one */
    clean();
    uint64_t s = add_blocks(1000, 4);
    set_progress(5, 200, NULL, 0);
    CHECK(run(&r) == 0);
    CHECK(r.read_lsn == 1000 && r.epoch == 5 && r.records == 8);
    sl_recovery_free(&r);

    /* past the end: at the end, with a new identity */
    set_progress(5, 1000 + s + 500, NULL, 0);
    CHECK(run(&r) == 0);
    CHECK(r.read_lsn == 1000 + s && r.epoch != 5 && r.records == 0);
    sl_recovery_free(&r);

    /* inside the unreadable rest of a damaged segment: the next one */
    clean();
    uint64_t a = add_blocks(0, 4);
    add_blocks(a, 2);
    char path[256];
    sl_segment_path(sdir, 0, path, sizeof path);
    int fd = open(path, O_WRONLY);
    CHECK(pwrite(fd, "\xff\xff\xff\xff", 4, 2 * BLOCK) == 4); /* magic */
    close(fd);
    set_progress(6, 3 * BLOCK, NULL, 0); /* was block 3, now unreadable */
    CHECK(run(&r) == 0);
    CHECK(r.segs[0].end == 2 * BLOCK);
    CHECK(r.read_lsn == a && r.records == 4);
    sl_recovery_free(&r);
}

static void test_cuts_checked(void)
{
    clean();
    uint64_t s = add_blocks(100, 6); /* blocks at 100 + k * BLOCK */
    uint64_t b[7];
    for (int k = 0; k <= 6; k++)
        b[k] = 100 + (uint64_t)k * BLOCK;
    sl_cut cuts[] = {
        cut(b[0], b[1], 2),          /* fine */
        cut(b[1], b[1], 1),          /* empty range */
        cut(b[1], b[2], 0),          /* no records */
        cut(b[1], b[2], 200),        /* more records than bytes allow */
        cut(b[1], b[3], 4),          /* fine */
        cut(b[2], b[3], 2),          /* overlaps the one before */
        cut(b[3], b[5], 4),          /* ends past read_lsn (b[4]) */
        cut(b[0], b[1], 2),          /* before the previous: out of order */
    };
    set_progress(9, b[4], cuts, sizeof cuts / sizeof *cuts);
    static sl_recovery r;
    CHECK(run(&r) == 0);
    CHECK(r.ncuts == 2);
    CHECK(r.cuts[0].start == b[0] && r.cuts[0].end == b[1]);
    CHECK(r.cuts[1].start == b[1] && r.cuts[1].end == b[3] &&
          r.cuts[1].nrecords == 4);
    CHECK(r.read_lsn == b[4] && r.records == 4 && r.end == 100 + s);
    sl_recovery_free(&r);
    sl_recovery_free(&r); /* twice is fine */
}

static void test_inspect(void)
{
    clean();
    add_blocks(0, 5);
    sl_cut c = cut(BLOCK, 2 * BLOCK, 2); /* block 1 in flight */
    set_progress(3, 3 * BLOCK, &c, 1);         /* blocks 3, 4 not cut */
    char path[256];
    sl_segment_path(sdir, 0, path, sizeof path);
    struct stat before, after;
    CHECK(stat(path, &before) == 0);
    uint64_t rec = 99, by = 99;
    char err[256] = "";
    CHECK(sl_recovery_inspect(cdir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 2 + 4 && by == 10 * rec);
    CHECK(stat(path, &after) == 0 && after.st_size == before.st_size &&
          after.st_mtim.tv_nsec == before.st_mtim.tv_nsec);

    /* a torn tail is counted up to it and left as it is */
    CHECK(truncate(path, (off_t)(5 * BLOCK - 3)) == 0);
    CHECK(sl_recovery_inspect(cdir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 2 + 2);
    CHECK(stat(path, &after) == 0 && after.st_size == 5 * BLOCK - 3);

    /* an unreadable progress file: everything counts */
    sl_progress *p = sl_progress_open(sdir, 1);
    CHECK(ftruncate(sl_progress_fd(p), 10) == 0);
    sl_progress_close(p);
    CHECK(sl_recovery_inspect(cdir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 2 * 4);

    /* no spool at all: nothing; a progress that cannot be opened: error */
    CHECK(sl_recovery_inspect("/nonexistent/sluice/c", &rec, &by, err,
                              sizeof err) == 0 && rec == 0 && by == 0);
    char prog[160];
    snprintf(prog, sizeof prog, "%s/progress", sdir);
    CHECK(unlink(prog) == 0 && symlink(prog, prog) == 0); /* ELOOP */
    CHECK(sl_recovery_inspect(cdir, &rec, &by, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot open");
    CHECK_CONTAINS(err, "/spool/progress");
    unlink(prog);
}

int main(void)
{
    sl_log_set_level(SL_LOG_OFF);
    snprintf(cdir, sizeof cdir, "/tmp/sl_recovery_test_XXXXXX");
    if (!mkdtemp(cdir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(sdir, sizeof sdir, "%s/spool", cdir);
    static const sl_test_case cases[] = {
        {"new_spool", test_new_spool},
        {"torn_tail_cut_damage_skipped", test_torn_tail_cut_damage_skipped},
        {"positions", test_positions},
        {"cuts_checked", test_cuts_checked},
        {"inspect", test_inspect},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(cdir);
    return rc;
}
