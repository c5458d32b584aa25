/* Unit tests for sl_progress: the exact bytes of a slot (layout, zero
 * tail, zlib CRC), slots written in turn, the newer valid slot winning,
 * a torn or flipped slot falling back to the other, the sequence going on
 * after a read, and hostile files: empty, short, garbage, a wrong magic or
 * a cut count past the limit under a valid CRC, a count that would read
 * past the slot, equal sequence numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sl_progress.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char dir[64];

static const char *prog_path(void)
{
    static char p[128];
    snprintf(p, sizeof p, "%s/progress", dir);
    return p;
}

static void fresh(void)
{
    unlink(prog_path());
}

/* The whole file into buf (at most cap); its size. */
static size_t read_all(unsigned char *buf, size_t cap)
{
    int fd = open(prog_path(), O_RDONLY);
    if (fd < 0)
        return 0;
    ssize_t n = pread(fd, buf, cap, 0);
    close(fd);
    return n < 0 ? 0 : (size_t)n;
}

static void write_at(const void *p, size_t n, off_t off)
{
    int fd = open(prog_path(), O_WRONLY | O_CREAT, 0640);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, p, n, off) == (ssize_t)n);
    close(fd);
}

static uint64_t u64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static uint32_t u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint32_t zcrc(const void *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
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

/* A slot built by hand: magic, seq, epoch, lsn, n cuts {i, i+1, 1}, crc
 * over the cuts that n claims (when `crc`). */
static void make_slot(unsigned char *slot, uint64_t magic, uint64_t seq,
                      uint64_t epoch, uint64_t lsn, uint32_t n, int crc)
{
    memset(slot, 0, SL_PROGRESS_SLOT);
    memcpy(slot, &magic, 8);
    memcpy(slot + 8, &seq, 8);
    memcpy(slot + 16, &epoch, 8);
    memcpy(slot + 24, &lsn, 8);
    memcpy(slot + 32, &n, 4);
    size_t o = 40;
    for (uint32_t i = 0; i < n && o + 24 + 4 <= SL_PROGRESS_SLOT; i++) {
        uint64_t c[3] = {i * 10, i * 10 + 10, 1};
        memcpy(slot + o, c, sizeof c);
        o += 24;
    }
    if (crc && o + 4 <= SL_PROGRESS_SLOT) {
        uint32_t c = zcrc(slot, o);
        memcpy(slot + o, &c, 4);
    }
}

/* ---- the bytes ---------------------------------------------------------- */

static void test_slot_bytes(void)
{
    fresh();
    sl_progress *p = sl_progress_open(dir, 1);
    CHECK(p != NULL);
    if (!p)
        return;
    sl_cut cuts[2] = {cut(100, 250, 3), cut(250, 400, 7)};
    CHECK(sl_progress_write(p, 0xABCDEF, 100, cuts, 2) == 0);
    unsigned char f[3 * SL_PROGRESS_SLOT];
    size_t n = read_all(f, sizeof f);
    CHECK(n == 2 * SL_PROGRESS_SLOT); /* seq 1 goes to slot 1 */
    const unsigned char *s = f + SL_PROGRESS_SLOT;
    CHECK(memcmp(s, "SPL1PROG", 8) == 0);
    CHECK(u64(s + 8) == 1 && u64(s + 16) == 0xABCDEF && u64(s + 24) == 100);
    CHECK(u32(s + 32) == 2 && u32(s + 36) == 0);
    CHECK(u64(s + 40) == 100 && u64(s + 48) == 250 && u64(s + 56) == 3);
    CHECK(u64(s + 64) == 250 && u64(s + 72) == 400 && u64(s + 80) == 7);
    CHECK(u32(s + 88) == zcrc(s, 88));
    int zero = 1;
    for (size_t i = 92; i < SL_PROGRESS_SLOT; i++)
        zero &= s[i] == 0;
    CHECK(zero);
    for (size_t i = 0; i < SL_PROGRESS_SLOT; i++) /* slot 0: a hole */
        zero &= f[i] == 0;
    CHECK(zero);

    /* the second write goes to slot 0, the first stays */
    CHECK(sl_progress_write(p, 0xABCDEF, 250, cuts + 1, 1) == 0);
    unsigned char g[2 * SL_PROGRESS_SLOT];
    CHECK(read_all(g, sizeof g) == 2 * SL_PROGRESS_SLOT);
    CHECK(u64(g + 8) == 2 && u64(g + 24) == 250 && u32(g + 32) == 1);
    CHECK(u32(g + 64) == zcrc(g, 64));
    CHECK(memcmp(g + SL_PROGRESS_SLOT, f + SL_PROGRESS_SLOT,
                 SL_PROGRESS_SLOT) == 0);

    /* no cuts: the crc right after the header */
    CHECK(sl_progress_write(p, 1, 2, NULL, 0) == 0);
    CHECK(read_all(g, sizeof g) == 2 * SL_PROGRESS_SLOT);
    s = g + SL_PROGRESS_SLOT; /* seq 3 */
    CHECK(u64(s + 8) == 3 && u32(s + 32) == 0 && u32(s + 40) == zcrc(s, 40));

    /* too many cuts: refused, nothing written */
    static sl_cut many[SL_PROGRESS_MAX_CUTS + 1];
    errno = 0;
    CHECK(sl_progress_write(p, 1, 2, many, SL_PROGRESS_MAX_CUTS + 1) == -1);
    CHECK(errno == EINVAL);
    unsigned char h[2 * SL_PROGRESS_SLOT];
    CHECK(read_all(h, sizeof h) == sizeof h && memcmp(g, h, sizeof h) == 0);
    /* the most: 160 cuts fit */
    for (size_t i = 0; i < SL_PROGRESS_MAX_CUTS; i++)
        many[i] = cut(i, i + 1, 1);
    CHECK(sl_progress_write(p, 9, 0, many, SL_PROGRESS_MAX_CUTS) == 0);
    sl_progress_close(p);

    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(prog_path(), &st) == 0 && (st.st_mode & 0777) ==
                                             (0640 & ~mask));
}

/* ---- reading back --------------------------------------------------------- */

static void test_round_trip(void)
{
    fresh();
    sl_progress *p = sl_progress_open(dir, 1);
    static sl_progress_state st;
    CHECK(sl_progress_read(p, &st) == 1); /* new: none */
    CHECK(st.epoch == 0 && st.read_lsn == 0 && st.ncuts == 0);
    static sl_cut cuts[SL_PROGRESS_MAX_CUTS];
    for (size_t i = 0; i < SL_PROGRESS_MAX_CUTS; i++)
        cuts[i] = cut(1000 + i * 50, 1050 + i * 50, i + 1);
    CHECK(sl_progress_write(p, 42, 1000, cuts, SL_PROGRESS_MAX_CUTS) == 0);
    CHECK(sl_progress_write(p, 42, 1050, cuts + 1, 3) == 0);
    sl_progress_close(p);

    p = sl_progress_open(dir, 0); /* read only */
    CHECK(p != NULL);
    CHECK(sl_progress_read(p, &st) == 0);
    CHECK(st.epoch == 42 && st.read_lsn == 1050 && st.ncuts == 3);
    CHECK(st.cuts[0].start == 1050 && st.cuts[0].end == 1100 &&
          st.cuts[0].nrecords == 2);
    CHECK(st.cuts[2].start == 1150 && st.cuts[2].nrecords == 4);
    CHECK(st.cuts[0].epoch == 0 && st.cuts[0].recovered == 0);
    /* read only: a write fails and says why */
    errno = 0;
    CHECK(sl_progress_write(p, 1, 1, NULL, 0) == -1 && errno == EBADF);
    sl_progress_close(p);

    /* the sequence goes on from what was read: seq 3 into slot 1 */
    p = sl_progress_open(dir, 1);
    CHECK(sl_progress_read(p, &st) == 0);
    CHECK(sl_progress_write(p, 43, 7, NULL, 0) == 0);
    sl_progress_close(p);
    unsigned char f[2 * SL_PROGRESS_SLOT];
    CHECK(read_all(f, sizeof f) == sizeof f);
    CHECK(u64(f + SL_PROGRESS_SLOT + 8) == 3 && u64(f + 8) == 2);
    p = sl_progress_open(dir, 0);
    CHECK(sl_progress_read(p, &st) == 0 && st.epoch == 43 &&
          st.read_lsn == 7 && st.ncuts == 0);
    sl_progress_close(p);
    sl_progress_close(NULL);
}

/* A write torn by a crash, or a flipped bit: the other slot counts. */
static void test_torn_and_flipped(void)
{
    fresh();
    sl_progress *p = sl_progress_open(dir, 1);
    sl_cut c1 = cut(0, 10, 1), c2 = cut(10, 30, 2);
    CHECK(sl_progress_write(p, 5, 10, &c1, 1) == 0); /* seq 1, slot 1 */
    CHECK(sl_progress_write(p, 5, 30, &c2, 1) == 0); /* seq 2, slot 0 */
    sl_progress_close(p);
    static sl_progress_state st;

    /* flip a byte of a cut in the newer slot (0) */
    unsigned char b;
    int fd = open(prog_path(), O_RDWR);
    CHECK(pread(fd, &b, 1, 45) == 1);
    b ^= 0x10;
    CHECK(pwrite(fd, &b, 1, 45) == 1);
    close(fd);
    p = sl_progress_open(dir, 0);
    CHECK(sl_progress_read(p, &st) == 0);
    CHECK(st.read_lsn == 10 && st.ncuts == 1 && st.cuts[0].end == 10);
    sl_progress_close(p);

    /* the older slot torn as well (cut short): none is valid */
    CHECK(truncate(prog_path(), SL_PROGRESS_SLOT + 100) == 0);
    p = sl_progress_open(dir, 0);
    CHECK(sl_progress_read(p, &st) == 1);
    CHECK(st.read_lsn == 0 && st.ncuts == 0 && st.epoch == 0);
    sl_progress_close(p);

    /* only slot 0 whole (the file cut inside slot 1): slot 0 counts */
    fresh();
    p = sl_progress_open(dir, 1);
    CHECK(sl_progress_write(p, 5, 10, NULL, 0) == 0);
    CHECK(sl_progress_write(p, 5, 20, NULL, 0) == 0);
    sl_progress_close(p);
    CHECK(truncate(prog_path(), SL_PROGRESS_SLOT + 1) == 0);
    p = sl_progress_open(dir, 0);
    CHECK(sl_progress_read(p, &st) == 0 && st.read_lsn == 20);
    sl_progress_close(p);
}

/* ---- hostile files -------------------------------------------------------- */

static int read_state(sl_progress_state *st)
{
    sl_progress *p = sl_progress_open(dir, 0);
    CHECK(p != NULL);
    if (!p)
        return -1;
    int rc = sl_progress_read(p, st);
    sl_progress_close(p);
    return rc;
}

static void test_hostile(void)
{
    static sl_progress_state st;
    static unsigned char slot[SL_PROGRESS_SLOT], junk[2 * SL_PROGRESS_SLOT];

    /* empty, short, garbage */
    fresh();
    write_at("", 0, 0);
    CHECK(read_state(&st) == 1);
    write_at("SPL1PROG", 8, 0);
    CHECK(read_state(&st) == 1);
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    fresh();
    write_at(junk, sizeof junk, 0);
    CHECK(read_state(&st) == 1);

    /* a valid crc under a wrong magic */
    fresh();
    make_slot(slot, SL_PROGRESS_MAGIC ^ 1, 9, 1, 0, 1, 1);
    write_at(slot, sizeof slot, 0);
    write_at(slot, sizeof slot, SL_PROGRESS_SLOT);
    CHECK(read_state(&st) == 1);

    /* more cuts than allowed, the crc valid over all of them */
    fresh();
    make_slot(slot, SL_PROGRESS_MAGIC, 9, 1, 0, SL_PROGRESS_MAX_CUTS + 1, 1);
    write_at(slot, sizeof slot, 0);
    CHECK(read_state(&st) == 1);
    /* a count that would read far past the slot */
    make_slot(slot, SL_PROGRESS_MAGIC, 9, 1, 0, 0xFFFFFFFFu, 0);
    write_at(slot, sizeof slot, 0);
    CHECK(read_state(&st) == 1);

    /* the limit itself is fine */
    fresh();
    make_slot(slot, SL_PROGRESS_MAGIC, 9, 1, 77, SL_PROGRESS_MAX_CUTS, 1);
    write_at(slot, sizeof slot, SL_PROGRESS_SLOT);
    CHECK(read_state(&st) == 0 && st.ncuts == SL_PROGRESS_MAX_CUTS &&
          st.read_lsn == 77 && st.cuts[159].start == 1590);

    /* a bad slot with a higher seq does not beat a good one */
    make_slot(slot, SL_PROGRESS_MAGIC, 1000, 2, 88, 1, 1);
    slot[41] ^= 1; /* after the crc was taken */
    write_at(slot, sizeof slot, 0);
    CHECK(read_state(&st) == 0 && st.read_lsn == 77);

    /* equal sequence numbers: the first slot */
    make_slot(slot, SL_PROGRESS_MAGIC, 9, 3, 11, 0, 1);
    write_at(slot, sizeof slot, 0);
    CHECK(read_state(&st) == 0 && st.read_lsn == 11 && st.epoch == 3);

    /* a pad that is not zero is not checked (never written so) */
    uint32_t pad = 0xFFFFFFFF;
    make_slot(slot, SL_PROGRESS_MAGIC, 20, 4, 12, 0, 0);
    memcpy(slot + 36, &pad, 4);
    uint32_t c = zcrc(slot, 40);
    memcpy(slot + 40, &c, 4);
    write_at(slot, sizeof slot, 0);
    CHECK(read_state(&st) == 0 && st.read_lsn == 12);

    /* missing file, read only: ENOENT */
    fresh();
    errno = 0;
    CHECK(sl_progress_open(dir, 0) == NULL && errno == ENOENT);
    CHECK(sl_progress_open("/nonexistent/sluice", 1) == NULL &&
          errno == ENOENT);
    static char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    CHECK(sl_progress_open(longp, 1) == NULL && errno == ENAMETOOLONG);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl_progress_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"slot_bytes", test_slot_bytes},
        {"round_trip", test_round_trip},
        {"torn_and_flipped", test_torn_and_flipped},
        {"hostile", test_hostile},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
