/* sl_segment: segment files: block headers, names, the checked scan and
 * the sequential reader. The spool owns the list of segments. */
#include "sl_segment.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "sl_fs.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the spool format assumes a little-endian machine"
#endif

#define BLK_MAGIC 0x314C5053u      /* "SPL1" */
#define BLK_HDR SL_SEGMENT_BLOCK_HDR
#define READ_CHUNK (256u * 1024u)

static void put32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

uint32_t sl_segment_crc(const void *p, size_t n)
{
    uLong c = crc32(0L, Z_NULL, 0);
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = crc32(c, b, k);
        b += k;
        n -= k;
    }
    return (uint32_t)c;
}

int sl_segment_push(sl_segment **segs, size_t *n, size_t *cap,
                    uint64_t start, uint64_t end)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        sl_segment *ns = realloc(*segs, nc * sizeof *ns);
        if (!ns)
            return -1;
        *segs = ns;
        *cap = nc;
    }
    (*segs)[*n].start = start;
    (*segs)[*n].end = end;
    (*n)++;
    return 0;
}

void sl_segment_block_header(unsigned char out[SL_SEGMENT_BLOCK_HDR],
                             const void *payload, size_t len, size_t nrec)
{
    put32(out, BLK_MAGIC);
    put32(out + 4, (uint32_t)len);
    put32(out + 8, (uint32_t)nrec);
    put32(out + 12, sl_segment_crc(payload, len));
}

void sl_segment_path(const char *dir, uint64_t start, char *out, size_t n)
{
    snprintf(out, n, "%s/%016" PRIx64 ".seg", dir, start);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sl_segment_list(const char *dir, uint64_t **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : -1;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char *end;
        if (strlen(e->d_name) != 20 || strcmp(e->d_name + 16, ".seg") != 0)
            continue;
        uint64_t v = strtoull(e->d_name, &end, 16);
        if (end != e->d_name + 16)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nv = realloc(*out, cap * sizeof *nv);
            if (!nv) {
                closedir(d);
                free(*out);
                *out = NULL;
                *n = 0;
                errno = ENOMEM;
                return -1;
            }
            *out = nv;
        }
        (*out)[(*n)++] = v;
    }
    closedir(d);
    if (*n)
        qsort(*out, *n, sizeof **out, cmp_u64);
    return 0;
}

/* ---- scanning one segment ------------------------------------------------ */

int sl_segment_scan_file(const char *path, uint64_t start, sl_buf *buf,
                         sl_segment_block_fn fn, void *ud,
                         sl_segment_scan *out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0;
    out->why = NULL;
    out->file_end = start + size;
    while (off < size) {
        unsigned char h[BLK_HDR];
        size_t got;
        if (size - off < BLK_HDR) {
            out->why = "a partial block header";
            break;
        }
        if (sl_fs_pread_all(fd, h, BLK_HDR, (off_t)off, &got) != 0 ||
            got != BLK_HDR) {
            out->why = "a read error";
            break;
        }
        uint32_t len = get32(h + 4), nrec = get32(h + 8);
        if (get32(h) != BLK_MAGIC || len > SL_SEGMENT_MAX_PAYLOAD ||
            (uint64_t)nrec * 4 > len || (nrec == 0) != (len == 0)) {
            out->why = "a bad block header";
            break;
        }
        if (size - off - BLK_HDR < len) {
            out->why = "a partial block";
            break;
        }
        buf->len = 0;
        if (sl_buf_reserve(buf, len) != 0) {
            /* no verdict on the file: a block called bad here would be
             * cut off (the last segment) or skipped at recovery */
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        if (sl_fs_pread_all(fd, buf->data, len, (off_t)(off + BLK_HDR),
                             &got) != 0 || got != len) {
            out->why = "a read error";
            break;
        }
        if (sl_segment_crc(buf->data, len) != get32(h + 12)) {
            out->why = "a checksum mismatch";
            break;
        }
        size_t p = 0, k = 0;
        while (p + 4 <= len && k < nrec) {
            p += 4 + (size_t)get32(buf->data + p);
            k++;
        }
        if (p != len || k != nrec) {
            out->why = "frames that do not fill the block";
            break;
        }
        if (fn)
            fn(ud, start + off, buf->data, len, nrec);
        off += BLK_HDR + len;
    }
    close(fd);
    out->valid_end = start + off;
    return 0;
}

static int counted(const sl_segment_counter *c, uint64_t lsn)
{
    if (lsn >= c->from)
        return 1;
    for (size_t i = 0; i < c->ncuts; i++)
        if (lsn >= c->cuts[i].start && lsn < c->cuts[i].end)
            return 1;
    return 0;
}

void sl_segment_count_block(void *ud, uint64_t lsn, const char *p, size_t len,
                            size_t nrec)
{
    sl_segment_counter *c = ud;
    uint64_t at = lsn + BLK_HDR;
    if (at + len <= c->from && c->ncuts == 0)
        return;
    if (at >= c->from) {
        c->records += nrec;
        c->bytes += len - 4 * nrec;
        return;
    }
    for (size_t o = 0; o < len;) {
        uint32_t n = get32(p + o);
        if (counted(c, at + o)) {
            c->records++;
            c->bytes += n;
        }
        o += 4 + n;
    }
}

/* ---- the reader ------------------------------------------------------------ */

struct sl_segment_reader {      /* sequential reads from the segments */
    int fd;                     /* -1: not positioned */
    size_t seg;                 /* index in the table */
    uint64_t lsn;               /* at a block header or a frame */
    uint64_t blk_end;           /* end of the current block's payload */
    size_t blk_left;            /* records left in the current block */
    sl_buf buf;                 /* bytes [buf_lsn, buf_lsn + buf.len) */
    uint64_t buf_lsn;
    uint64_t hdr_lsn;           /* header of the current block */
    size_t hdr_nrec;            /* its record count */
    int nomem;                  /* the last error was out of memory */
    char err[256];
};

static void set_err(sl_segment_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(sl_segment_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
}

sl_segment_reader *sl_segment_reader_new(void)
{
    sl_segment_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = -1;
    sl_buf_init(&r->buf, 0);
    return r;
}

static void reader_reset(sl_segment_reader *r)
{
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
    r->buf.len = 0;
}

void sl_segment_reader_free(sl_segment_reader *r)
{
    if (!r)
        return;
    reader_reset(r);
    sl_buf_free(&r->buf);
    free(r);
}

const char *sl_segment_reader_error(const sl_segment_reader *r)
{
    return r->err;
}

int sl_segment_reader_nomem(const sl_segment_reader *r) { return r->nomem; }

static size_t seg_find(const sl_segment_table *t, uint64_t lsn)
{
    size_t i = t->n;
    while (i > 0 && t->segs[i - 1].start > lsn)
        i--;
    return i ? i - 1 : (size_t)-1;
}

/* Make [lsn, lsn + n) readable in r->buf; a pointer to it, or NULL with
 * the reason in r->err. */
static const char *reader_get(sl_segment_reader *r, const sl_segment_table *t,
                              uint64_t lsn, size_t n)
{
    if (lsn >= r->buf_lsn && lsn + n <= r->buf_lsn + r->buf.len)
        return r->buf.data + (lsn - r->buf_lsn);
    const sl_segment *g = &t->segs[r->seg];
    if (lsn + n > g->end) {
        set_err(r, "segment %016" PRIx64 " ends inside a block at %" PRIu64,
                g->start, lsn);
        return NULL;
    }
    size_t want = n > READ_CHUNK ? n : READ_CHUNK;
    if (want > g->end - lsn)
        want = (size_t)(g->end - lsn);
    r->buf.len = 0;
    if (sl_buf_reserve(&r->buf, want) != 0) {
        set_err(r, "out of memory reading the spool");
        r->nomem = 1;
        return NULL;
    }
    size_t got;
    if (sl_fs_pread_all(r->fd, r->buf.data, want, (off_t)(lsn - g->start),
                         &got) != 0 || got < n) {
        set_err(r, "cannot read segment %016" PRIx64 ": %s", g->start,
                got < n ? "file is shorter than expected" : strerror(errno));
        return NULL;
    }
    r->buf.len = got;
    r->buf_lsn = lsn;
    return r->buf.data;
}

static int reader_open_seg(sl_segment_reader *r, const sl_segment_table *t,
                           size_t i)
{
    reader_reset(r);
    char path[PATH_MAX + 32];
    sl_segment_path(t->dir, t->segs[i].start, path, sizeof path);
    if ((r->fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        set_err(r, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    r->seg = i;
    return 0;
}

/* Walk segment t->segs[i]'s block headers, then the frames of the block
 * holding lsn. */
int sl_segment_reader_seek(sl_segment_reader *r, const sl_segment_table *t,
                           uint64_t lsn)
{
    r->err[0] = '\0';
    r->nomem = 0;
    if (r->fd >= 0 && r->lsn == lsn)
        return 0;
    if (r->fd >= 0 && lsn == r->hdr_lsn && r->lsn == lsn + BLK_HDR &&
        r->blk_left == r->hdr_nrec) {
        /* a take stopped right after reading this block's header */
        r->lsn = r->blk_end = lsn;
        r->blk_left = 0;
        return 0;
    }
    size_t i = seg_find(t, lsn);
    if (i == (size_t)-1 || reader_open_seg(r, t, i) != 0)
        return -1;
    uint64_t at = t->segs[i].start;
    while (at < t->segs[i].end) {
        const char *h = reader_get(r, t, at, BLK_HDR);
        if (!h)
            return -1;
        uint64_t end = at + BLK_HDR + get32(h + 4);
        size_t nrec = get32(h + 8);
        if (lsn < end || (lsn == at)) {
            r->lsn = at;
            r->blk_end = at;
            r->blk_left = 0;
            if (lsn == at)
                return 0;
            r->lsn = at + BLK_HDR;
            r->blk_end = end;
            r->blk_left = nrec;
            while (r->lsn < lsn && r->blk_left > 0) {
                const char *f = reader_get(r, t, r->lsn, 4);
                if (!f)
                    return -1;
                r->lsn += 4 + get32(f);
                r->blk_left--;
            }
            if (r->lsn != lsn) {
                set_err(r, "position %" PRIu64 " is not a record boundary",
                        lsn);
                return -1;
            }
            return 0;
        }
        at = end;
    }
    /* at the end of the segment's valid data */
    r->lsn = r->blk_end = at;
    r->blk_left = 0;
    if (at != lsn) {
        set_err(r, "position %" PRIu64 " is past segment %016" PRIx64,
                lsn, t->segs[i].start);
        return -1;
    }
    return 0;
}

/* The next record at the reader, not consumed, going on into the next
 * segment of t at the end of one: 1 found (*rec and *len valid until the
 * next call, *lsn its frame's LSN), 0 none before `limit`, -1 error (the
 * reason in sl_segment_reader_error). */
static int reader_peek(sl_segment_reader *r, const sl_segment_table *t,
                       uint64_t limit, const char **rec, size_t *len,
                       uint64_t *lsn)
{
    r->err[0] = '\0';
    r->nomem = 0;
    for (;;) {
        if (r->lsn >= limit)
            return 0;
        if (r->lsn >= t->segs[r->seg].end) {
            if (r->seg + 1 >= t->n)
                return 0;
            if (reader_open_seg(r, t, r->seg + 1) != 0)
                return -1;
            r->lsn = r->blk_end = t->segs[r->seg].start;
            r->blk_left = 0;
            continue;
        }
        if (r->blk_left == 0) {
            const char *h = reader_get(r, t, r->lsn, BLK_HDR);
            if (!h)
                return -1;
            if (get32(h) != BLK_MAGIC) {
                set_err(r, "bad block header at %" PRIu64, r->lsn);
                return -1;
            }
            r->blk_end = r->lsn + BLK_HDR + get32(h + 4);
            r->blk_left = get32(h + 8);
            r->hdr_lsn = r->lsn;
            r->hdr_nrec = r->blk_left;
            r->lsn += BLK_HDR;
            continue;
        }
        const char *f = reader_get(r, t, r->lsn, 4);
        if (!f)
            return -1;
        size_t n = get32(f);
        if (r->lsn + 4 + n > r->blk_end) {
            set_err(r, "record at %" PRIu64 " runs past its block", r->lsn);
            return -1;
        }
        if (!(f = reader_get(r, t, r->lsn, 4 + n)))
            return -1;
        *rec = f + 4;
        *len = n;
        *lsn = r->lsn;
        return 1;
    }
}

/* Step past the record just peeked (len bytes); returns the LSN after it
 * (the next block's when it was the block's last). */
static uint64_t reader_consume(sl_segment_reader *r, size_t len)
{
    r->lsn += 4 + len;
    r->blk_left--;
    if (r->blk_left == 0)
        r->lsn = r->blk_end;
    return r->lsn;
}

void sl_segment_reader_forget(sl_segment_reader *r)
{
    r->lsn = UINT64_MAX;
    r->nomem = 0;
}

void sl_segment_reader_dropped(sl_segment_reader *r, size_t drop)
{
    if (r->fd < 0)
        return;
    if (r->seg < drop) {
        close(r->fd);
        r->fd = -1;
    } else {
        r->seg -= drop;
    }
}

int sl_segment_reader_gap(const sl_segment_reader *r,
                          const sl_segment_table *t, uint64_t *next)
{
    if (r->fd < 0 || r->seg + 1 >= t->n || r->lsn < t->segs[r->seg].end)
        return 0;
    *next = t->segs[r->seg + 1].start;
    return 1;
}

size_t sl_segment_reader_take(sl_segment_reader *r, const sl_segment_table *t,
                              uint64_t *lsn, uint64_t limit, size_t max,
                              int exact, sl_cut_emit_fn emit, void *ud,
                              uint64_t *bytes)
{
    size_t n = 0;
    *bytes = 0;
    if (sl_segment_reader_seek(r, t, *lsn) != 0)
        return 0;
    while (n < max) {
        const char *rec;
        size_t len;
        uint64_t at;
        if (reader_peek(r, t, limit, &rec, &len, &at) <= 0)
            break;
        if (emit(ud, rec, len, at) != 0 && !exact)
            break;
        *lsn = reader_consume(r, len);
        *bytes += len;
        n++;
    }
    /* a gap after a corrupt block: skip to the next segment */
    uint64_t next;
    if (n < max && sl_segment_reader_gap(r, t, &next) && *lsn < next)
        *lsn = next;
    return n;
}
