/* Unit tests for sl_segment: the block header's bytes and the zlib CRC,
 * segment names and the sorted listing (with names that are not
 * segments), blocks appended and read back across segments, the checked
 * scan stopping at every kind of torn or corrupt tail (a partial header,
 * a partial block, a bad magic, a flipped payload byte, frames that do
 * not fill the block, hostile lengths), the record counter with cuts, and
 * the reader's seeks, limits, take and the gap after a damaged segment. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sl_frame.h"
#include "sl_segment.h"
#include "sl_test.h"
#include "sl_test_dir.h"

#define HDR SL_SEGMENT_BLOCK_HDR

static char dir[64];

static void clean(void)
{
    sl_test_rm_rf(dir);
    CHECK(mkdir(dir, 0750) == 0);
}

static uint32_t u32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* Block k's records: "k<k>.r<i>" padded to varying lengths. */
static void block_payload(sl_buf *b, int k, int nrec)
{
    sl_buf_init(b, 0);
    for (int i = 0; i < nrec; i++) {
        char r[64];
        int n = snprintf(r, sizeof r, "k%d.r%d.%.*s", k, i, (k + i) % 9,
                         "xxxxxxxxx");
        CHECK(sl_frame_append(b, r, (size_t)n) == 0);
    }
}

/* Append blocks [k0, k1) of nrec records to the segment starting at
 * `start`; returns the file's size after. */
static uint64_t append_blocks(uint64_t start, int k0, int k1, int nrec)
{
    char path[256];
    sl_segment_path(dir, start, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0640);
    CHECK(fd >= 0);
    for (int k = k0; k < k1; k++) {
        sl_buf b;
        block_payload(&b, k, nrec);
        unsigned char h[HDR];
        sl_segment_block_header(h, b.data, b.len, (size_t)nrec);
        CHECK(write(fd, h, HDR) == HDR);
        CHECK(write(fd, b.data, b.len) == (ssize_t)b.len);
        sl_buf_free(&b);
    }
    struct stat st;
    fstat(fd, &st);
    close(fd);
    return (uint64_t)st.st_size;
}

static const char *seg(uint64_t start)
{
    static char path[256];
    sl_segment_path(dir, start, path, sizeof path);
    return path;
}

/* ---- the block header ------------------------------------------------------ */

static void test_block_header(void)
{
    sl_buf b;
    block_payload(&b, 3, 4);
    unsigned char h[HDR];
    sl_segment_block_header(h, b.data, b.len, 4);
    CHECK(memcmp(h, "SPL1", 4) == 0);
    CHECK(u32(h + 4) == b.len && u32(h + 8) == 4);
    uint32_t z = (uint32_t)crc32(crc32(0L, Z_NULL, 0),
                                 (const Bytef *)b.data, (uInt)b.len);
    CHECK(u32(h + 12) == z);
    CHECK(sl_segment_crc(b.data, b.len) == z);
    CHECK(sl_segment_crc("", 0) == 0);
    CHECK(sl_segment_crc("123456789", 9) == 0xCBF43926u); /* the check */
    sl_buf_free(&b);
}

/* ---- names and the listing -------------------------------------------------- */

static void test_names_and_list(void)
{
    clean();
    char p[256];
    sl_segment_path("/d", UINT64_C(0x1a2b), p, sizeof p);
    CHECK_STR(p, "/d/0000000000001a2b.seg");
    sl_segment_path("/d", UINT64_MAX, p, sizeof p);
    CHECK_STR(p, "/d/ffffffffffffffff.seg");
    sl_segment_path("/d", 1, p, 8); /* truncated, terminated */
    CHECK(strlen(p) == 7);

    uint64_t *starts = (uint64_t *)1;
    size_t n = 9;
    CHECK(sl_segment_list(dir, &starts, &n) == 0);
    CHECK(starts == NULL && n == 0);
    const char *names[] = {
        "0000000000100000.seg", "0000000000000000.seg",
        "00000000000000ff.seg", "000000000000000.seg",   /* 15 digits */
        "00000000000000zz.seg", "0000000000000001.seg.tmp",
        "0000000000000002.SEG", ".0000000000000003.se",
        "progress",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        CHECK(f != NULL);
        if (f)
            fclose(f);
    }
    CHECK(sl_segment_list(dir, &starts, &n) == 0);
    CHECK(n == 3);
    if (n == 3)
        CHECK(starts[0] == 0 && starts[1] == 0xff && starts[2] == 0x100000);
    free(starts);
    CHECK(sl_segment_list("/nonexistent/sluice", &starts, &n) == 0 &&
          n == 0 && starts == NULL);

    sl_segment *segs = NULL;
    size_t ns = 0, cap = 0;
    for (uint64_t i = 0; i < 100; i++)
        CHECK(sl_segment_push(&segs, &ns, &cap, i * 10, i * 10 + 5) == 0);
    CHECK(ns == 100 && cap >= 100 && segs[99].start == 990 &&
          segs[99].end == 995);
    free(segs);
}

/* ---- scanning ------------------------------------------------------------- */

typedef struct seen {
    uint64_t lsn[64];
    size_t n, recs;
} seen;

static void on_block(void *ud, uint64_t lsn, const char *p, size_t len,
                     size_t nrec)
{
    seen *s = ud;
    (void)p;
    (void)len;
    if (s->n < 64)
        s->lsn[s->n] = lsn;
    s->n++;
    s->recs += nrec;
}

static void scan(uint64_t start, seen *s, sl_segment_scan *sc)
{
    sl_buf buf;
    sl_buf_init(&buf, 0);
    memset(s, 0, sizeof *s);
    CHECK(sl_segment_scan_file(seg(start), start, &buf, on_block, s, sc) ==
          0);
    sl_buf_free(&buf);
}

static void test_scan_good_and_torn(void)
{
    clean();
    uint64_t size = append_blocks(1000, 0, 5, 3);
    seen s;
    sl_segment_scan sc;
    scan(1000, &s, &sc);
    CHECK(sc.why == NULL);
    CHECK(sc.valid_end == 1000 + size && sc.file_end == 1000 + size);
    CHECK(s.n == 5 && s.recs == 15 && s.lsn[0] == 1000);

    /* where blocks start: for the cuts below */
    uint64_t at[6];
    at[0] = 0;
    for (int k = 0; k < 5; k++) {
        sl_buf b;
        block_payload(&b, k, 3);
        at[k + 1] = at[k] + HDR + b.len;
        sl_buf_free(&b);
        CHECK(s.lsn[k] == 1000 + at[k]);
    }
    CHECK(at[5] == size);

    /* a tail torn in every place of the last block: the scan stops at the
     * block before it and says why */
    for (uint64_t cut = at[4] + 1; cut < at[5]; cut++) {
        clean();
        append_blocks(1000, 0, 5, 3);
        CHECK(truncate(seg(1000), (off_t)cut) == 0);
        scan(1000, &s, &sc);
        CHECK(sc.valid_end == 1000 + at[4] && sc.file_end == 1000 + cut);
        CHECK(s.n == 4);
        CHECK_STR(sc.why, cut - at[4] < HDR ? "a partial block header"
                                            : "a partial block");
    }
    /* a missing file */
    errno = 0;
    CHECK(sl_segment_scan_file(seg(5), 5, NULL, NULL, NULL, &sc) == -1 &&
          errno == ENOENT);
}

/* Overwrite n bytes at off of the segment at start. */
static void poke(uint64_t start, off_t off, const void *p, size_t n)
{
    int fd = open(seg(start), O_WRONLY);
    CHECK(fd >= 0 && pwrite(fd, p, n, off) == (ssize_t)n);
    close(fd);
}

static void test_scan_corrupt(void)
{
    seen s;
    sl_segment_scan sc;
    /* block 2 of 4, of 3 records each: its header starts at b2 */
    sl_buf b;
    block_payload(&b, 0, 3);
    size_t b0 = HDR + b.len;
    sl_buf_free(&b);
    block_payload(&b, 1, 3);
    uint64_t b2 = b0 + HDR + b.len;
    sl_buf_free(&b);
    block_payload(&b, 2, 3);
    size_t len2 = b.len;

    struct {
        off_t off;
        uint32_t value;
        int flip;
        const char *why;
    } cases[] = {
        {0, 0x314C5054u, 0, "a bad block header"},          /* magic */
        {4, (1u << 30) + 1, 0, "a bad block header"},       /* huge len */
        {8, 0, 0, "a bad block header"},                    /* nrec 0 */
        {8, 1000000, 0, "a bad block header"},              /* nrec*4>len */
        {4, 0xFFFFFFFFu, 0, "a bad block header"},
        {16 + 5, 0, 1, "a checksum mismatch"},              /* payload */
        {12, 0, 1, "a checksum mismatch"},                  /* the crc */
        {4, 0, 2, "a partial block"},                       /* len+1000 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        clean();
        uint64_t size = append_blocks(0, 0, 4, 3);
        off_t off = (off_t)b2 + cases[i].off;
        if (cases[i].flip == 1) {
            unsigned char c;
            int fd = open(seg(0), O_RDWR);
            CHECK(pread(fd, &c, 1, off) == 1);
            c ^= 0x40;
            CHECK(pwrite(fd, &c, 1, off) == 1);
            close(fd);
        } else if (cases[i].flip == 2) {
            uint32_t v = (uint32_t)len2 + (uint32_t)size;
            poke(0, off, &v, 4);
        } else {
            poke(0, off, &cases[i].value, 4);
        }
        scan(0, &s, &sc);
        CHECK(sc.valid_end == b2 && sc.file_end == size && s.n == 2);
        CHECK_STR(sc.why ? sc.why : "(none)", cases[i].why);
    }

    /* frames that do not fill the block, under a valid crc: one record's
     * length made longer by 1 and the block one byte longer */
    clean();
    sl_buf_reset(&b);
    CHECK(sl_frame_append(&b, "abc", 3) == 0);
    CHECK(sl_frame_append(&b, "de", 2) == 0);
    CHECK(sl_buf_putc(&b, 'x') == 0); /* a stray byte after the frames */
    unsigned char h[HDR];
    sl_segment_block_header(h, b.data, b.len, 2);
    int fd = open(seg(0), O_WRONLY | O_CREAT, 0640);
    CHECK(write(fd, h, HDR) == HDR && write(fd, b.data, b.len) ==
                                          (ssize_t)b.len);
    close(fd);
    scan(0, &s, &sc);
    CHECK_STR(sc.why ? sc.why : "(none)", "frames that do not fill the block");
    CHECK(sc.valid_end == 0 && s.n == 0);
    /* a frame length running past the block */
    clean();
    sl_buf_reset(&b);
    CHECK(sl_frame_append(&b, "abc", 3) == 0);
    uint32_t big = 0x7FFFFFFF;
    memcpy(b.data, &big, 4);
    sl_segment_block_header(h, b.data, b.len, 1);
    fd = open(seg(0), O_WRONLY | O_CREAT, 0640);
    CHECK(write(fd, h, HDR) == HDR && write(fd, b.data, b.len) ==
                                          (ssize_t)b.len);
    close(fd);
    scan(0, &s, &sc);
    CHECK_STR(sc.why ? sc.why : "(none)", "frames that do not fill the block");
    sl_buf_free(&b);
}

/* ---- counting ---------------------------------------------------------------- */

static void test_count_block(void)
{
    sl_buf b;
    block_payload(&b, 7, 4); /* records at lsn 100+16, then each frame */
    size_t rec[4], off = 0;
    uint64_t lsn[4];
    for (int i = 0; i < 4; i++) {
        rec[i] = u32((unsigned char *)b.data + off);
        lsn[i] = 100 + HDR + off;
        off += 4 + rec[i];
    }
    sl_segment_counter c = {.from = 0};
    sl_segment_count_block(&c, 100, b.data, b.len, 4);
    CHECK(c.records == 4 && c.bytes == rec[0] + rec[1] + rec[2] + rec[3]);
    /* from the third record on */
    sl_segment_counter d = {.from = lsn[2]};
    sl_segment_count_block(&d, 100, b.data, b.len, 4);
    CHECK(d.records == 2 && d.bytes == rec[2] + rec[3]);
    /* all behind `from`, but the second in a cut still in flight */
    sl_cut cut;
    memset(&cut, 0, sizeof cut);
    cut.start = lsn[1];
    cut.end = lsn[2];
    sl_segment_counter e = {.from = 100000, .cuts = &cut, .ncuts = 1};
    sl_segment_count_block(&e, 100, b.data, b.len, 4);
    CHECK(e.records == 1 && e.bytes == rec[1]);
    sl_segment_counter f = {.from = 100000};
    sl_segment_count_block(&f, 100, b.data, b.len, 4);
    CHECK(f.records == 0 && f.bytes == 0);
    sl_buf_free(&b);
}

/* ---- the reader --------------------------------------------------------------- */

typedef struct got {
    char text[4096];
    size_t n;
    uint64_t lsn[256];
    size_t refuse_at; /* refuse once n reaches it (0: never) */
} got;

static int emit(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    got *g = ud;
    if (g->refuse_at && g->n >= g->refuse_at)
        return 1;
    strncat(g->text, rec, len < sizeof g->text - strlen(g->text) - 2
                              ? len : 0);
    strcat(g->text, "|");
    if (g->n < 256)
        g->lsn[g->n] = lsn;
    g->n++;
    return 0;
}

/* Expected "k0.r0.|k0.r1.x|..." for blocks [k0, k1). */
static void expect(char *out, size_t cap, int k0, int k1, int nrec)
{
    out[0] = '\0';
    for (int k = k0; k < k1; k++)
        for (int i = 0; i < nrec; i++) {
            char r[64];
            snprintf(r, sizeof r, "k%d.r%d.%.*s|", k, i, (k + i) % 9,
                     "xxxxxxxxx");
            strncat(out, r, cap - strlen(out) - 1);
        }
}

static void test_reader_across_segments(void)
{
    clean();
    /* two segments of 4 blocks x 3 records; the second starts where the
     * first ends (LSNs run on) */
    uint64_t e0 = append_blocks(0, 0, 4, 3);
    uint64_t e1 = e0 + append_blocks(e0, 4, 8, 3);
    sl_segment segs[2] = {{0, e0}, {e0, e1}};
    sl_segment_table t = {dir, segs, 2};
    sl_segment_reader *r = sl_segment_reader_new();
    CHECK(r != NULL);
    got g;
    memset(&g, 0, sizeof g);
    uint64_t lsn = 0, bytes = 0;
    size_t n = sl_segment_reader_take(r, &t, &lsn, e1, 1000, 0, emit, &g,
                                      &bytes);
    char want[4096];
    expect(want, sizeof want, 0, 8, 3);
    CHECK(n == 24 && lsn == e1);
    CHECK_STR(g.text, want);
    CHECK(bytes == strlen(want) - 24); /* minus the '|' */
    CHECK_STR(sl_segment_reader_error(r), "");

    /* seek to record 5 (block 1, record 2) and take 4, then the rest */
    memset(&g, 0, sizeof g);
    uint64_t at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 5, 0, emit, &g, &bytes) ==
          5);
    uint64_t r5 = g.lsn[4] + 4 + strlen("k1.r1.xx"); /* after record 4 */
    CHECK(at == r5);
    memset(&g, 0, sizeof g);
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 4, 0, emit, &g, &bytes) ==
          4);
    char part[4096];
    expect(part, sizeof part, 1, 3, 3);
    CHECK_STR(g.text, part + strlen("k1.r0.x|k1.r1.xx|"));

    /* a limit: nothing at or past it is taken */
    memset(&g, 0, sizeof g);
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e0, 1000, 0, emit, &g,
                                 &bytes) == 12);
    CHECK(at == e0);

    /* emit refusing: the refused record stays, unless exact */
    memset(&g, 0, sizeof g);
    g.refuse_at = 2;
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 10, 0, emit, &g, &bytes) ==
          2);
    CHECK(at == g.lsn[1] + 4 + strlen("k0.r1.x"));
    memset(&g, 0, sizeof g);
    g.refuse_at = 2;
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 5, 1, emit, &g, &bytes) ==
          5);

    /* not a record boundary, and past the data */
    at = 3;
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 5, 0, emit, &g, &bytes) ==
          0);
    CHECK_CONTAINS(sl_segment_reader_error(r), "not a record boundary");
    CHECK(sl_segment_reader_seek(r, &t, e0 - 1) == -1);
    /* before the first segment: in no segment */
    sl_segment later[1] = {{100, e0}};
    sl_segment_table t2 = {dir, later, 1};
    CHECK(sl_segment_reader_seek(r, &t2, 50) == -1);
    sl_segment_reader_free(r);
    sl_segment_reader_free(NULL);
}

/* A segment whose valid data ends early (damaged at recovery): reading
 * stops there and the reader shows the gap to the next segment. */
static void test_reader_gap(void)
{
    clean();
    uint64_t e0 = append_blocks(0, 0, 4, 3);
    uint64_t e1 = e0 + append_blocks(e0, 4, 6, 3);
    /* what recovery keeps: blocks 0 and 1 of the first segment */
    sl_buf b0, b1;
    block_payload(&b0, 0, 3);
    block_payload(&b1, 1, 3);
    uint64_t valid0 = 2 * HDR + b0.len + b1.len;
    sl_buf_free(&b0);
    sl_buf_free(&b1);
    sl_segment segs[2] = {{0, valid0}, {e0, e1}};
    sl_segment_table t = {dir, segs, 2};
    sl_segment_reader *r = sl_segment_reader_new();
    got g;
    memset(&g, 0, sizeof g);
    uint64_t at = 0, bytes;
    /* the take goes through the gap to the next segment's records */
    size_t n = sl_segment_reader_take(r, &t, &at, e1, 1000, 0, emit, &g,
                                      &bytes);
    char want[4096], tail[4096];
    expect(want, sizeof want, 0, 2, 3);
    expect(tail, sizeof tail, 4, 6, 3);
    strcat(want, tail);
    CHECK(n == 12 && at == e1);
    CHECK_STR(g.text, want);

    /* stopped right at the damage: the gap points to the next segment */
    memset(&g, 0, sizeof g);
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e1, 6, 0, emit, &g, &bytes) ==
          6);
    uint64_t next = 0;
    CHECK(sl_segment_reader_gap(r, &t, &next) == 1 && next == e0);

    /* a take that ends there (its limit) steps over the gap */
    memset(&g, 0, sizeof g);
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, valid0, 1000, 0, emit, &g,
                                 &bytes) == 6);
    CHECK(at == e0);
    sl_segment_reader_free(r);
}

/* The reader's file is shorter than the table says (cut behind its
 * back): an error naming the segment, not a crash. */
static void test_reader_short_file(void)
{
    clean();
    uint64_t e0 = append_blocks(0, 0, 3, 3);
    CHECK(truncate(seg(0), (off_t)e0 - 5) == 0);
    sl_segment segs[1] = {{0, e0}};
    sl_segment_table t = {dir, segs, 1};
    sl_segment_reader *r = sl_segment_reader_new();
    got g;
    memset(&g, 0, sizeof g);
    uint64_t at = 0, bytes;
    size_t n = sl_segment_reader_take(r, &t, &at, e0, 100, 0, emit, &g,
                                      &bytes);
    CHECK(n < 9);
    CHECK_CONTAINS(sl_segment_reader_error(r), "0000000000000000");
    sl_segment_reader_free(r);
    /* a segment file that is gone */
    CHECK(unlink(seg(0)) == 0);
    r = sl_segment_reader_new();
    at = 0;
    CHECK(sl_segment_reader_take(r, &t, &at, e0, 100, 0, emit, &g,
                                 &bytes) == 0);
    CHECK_CONTAINS(sl_segment_reader_error(r), "cannot open");
    sl_segment_reader_free(r);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/sl_segment_test_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"block_header", test_block_header},
        {"names_and_list", test_names_and_list},
        {"scan_good_and_torn", test_scan_good_and_torn},
        {"scan_corrupt", test_scan_corrupt},
        {"count_block", test_count_block},
        {"reader_across_segments", test_reader_across_segments},
        {"reader_gap", test_reader_gap},
        {"reader_short_file", test_reader_short_file},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(dir);
    return rc;
}
