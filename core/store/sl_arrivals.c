/* sl_arrivals: the spool's arrival marks, in memory and in
 * <spool dir>/arrivals. */
#include "sl_arrivals.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_fs.h"
#include "sl_segment.h"
#include "sl_time.h"

#define COMPACT_DEAD 1024u /* forgotten entries that make a rewrite */

typedef struct mark {
    uint64_t lsn;
    uint64_t mono;
    int64_t wall;               /* as written to the file */
} mark;

struct sl_arrivals {
    char path[PATH_MAX];
    int fd;
    mark *m;                    /* in LSN order */
    size_t n, cap;
    size_t written;             /* m[0..written) are in the file */
    size_t infile;              /* entries in the file */
};

static void put64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static uint64_t get64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void encode(unsigned char e[SL_ARRIVALS_ENTRY], uint64_t lsn,
                   int64_t wall)
{
    uint32_t magic = SL_ARRIVALS_MAGIC, crc;
    put64(e, lsn);
    put64(e + 8, (uint64_t)wall);
    memcpy(e + 16, &magic, 4);
    crc = sl_segment_crc(e, 20);
    memcpy(e + 20, &crc, 4);
}

/* 1 when the entry is whole and right. */
static int decode(const unsigned char *e, uint64_t *lsn, int64_t *wall)
{
    uint32_t magic, crc;
    memcpy(&magic, e + 16, 4);
    memcpy(&crc, e + 20, 4);
    if (magic != SL_ARRIVALS_MAGIC || crc != sl_segment_crc(e, 20))
        return 0;
    *lsn = get64(e);
    *wall = (int64_t)get64(e + 8);
    return 1;
}

static int push(sl_arrivals *a, uint64_t lsn, uint64_t mono, int64_t wall)
{
    if (a->n == a->cap) {
        size_t nc = a->cap ? a->cap * 2 : 64;
        mark *nm = realloc(a->m, nc * sizeof *nm);
        if (!nm)
            return -1;
        a->m = nm;
        a->cap = nc;
    }
    a->m[a->n++] = (mark){lsn, mono, wall};
    return 0;
}

/* A wall time read back as monotonic ms: never after now, never below 2
 * (0 and 1 mean "none" and "unknown"); before the boot it is the boot. */
static uint64_t to_mono(int64_t wall, uint64_t now_mono, int64_t now_wall)
{
    if (wall >= now_wall)
        return now_mono > 2 ? now_mono : 2;
    uint64_t ago = (uint64_t)(now_wall - wall);
    return ago + 2 < now_mono ? now_mono - ago : 2;
}

/* Read the good prefix of the file (entries below end, in order). */
static int load(sl_arrivals *a, uint64_t end, uint64_t now_mono,
                int64_t now_wall)
{
    struct stat st;
    if (fstat(a->fd, &st) != 0)
        return -1;
    size_t size = (size_t)st.st_size, got;
    unsigned char *buf = size ? malloc(size) : NULL;
    if (size && !buf)
        return -1;
    if (size && sl_fs_pread_all(a->fd, buf, size, 0, &got) != 0) {
        free(buf);
        return -1;
    }
    size_t k = 0;
    for (; size && (k + 1) * SL_ARRIVALS_ENTRY <= got; k++) {
        uint64_t lsn;
        int64_t wall;
        if (!decode(buf + k * SL_ARRIVALS_ENTRY, &lsn, &wall) ||
            lsn >= end || (a->n && lsn <= a->m[a->n - 1].lsn))
            break;
        if (push(a, lsn, to_mono(wall, now_mono, now_wall), wall) != 0) {
            free(buf);
            errno = ENOMEM;
            return -1;
        }
    }
    free(buf);
    a->written = a->infile = a->n;
    if ((uint64_t)size != (uint64_t)k * SL_ARRIVALS_ENTRY &&
        ftruncate(a->fd, (off_t)(k * SL_ARRIVALS_ENTRY)) != 0)
        return -1;
    return 0;
}

sl_arrivals *sl_arrivals_open(const char *spool_dir, uint64_t end,
                              uint64_t now_mono, int64_t now_wall,
                              char *err, size_t errlen)
{
    sl_arrivals *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->fd = -1;
    if (snprintf(a->path, sizeof a->path, "%s/arrivals", spool_dir) >=
        (int)sizeof a->path) {
        snprintf(err, errlen, "spool path too long");
        goto fail;
    }
    a->fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (a->fd < 0 || load(a, end, now_mono, now_wall) != 0) {
        snprintf(err, errlen, "cannot read %s: %s", a->path,
                 strerror(errno));
        goto fail;
    }
    return a;
fail:
    sl_arrivals_close(a);
    return NULL;
}

void sl_arrivals_close(sl_arrivals *a)
{
    if (!a)
        return;
    if (a->fd >= 0) {
        (void)fdatasync(a->fd);
        close(a->fd);
    }
    free(a->m);
    free(a);
}

void sl_arrivals_note(sl_arrivals *a, uint64_t lsn, uint64_t mono_ms)
{
    if (!a)
        return;
    while (a->n > a->written && a->m[a->n - 1].lsn >= lsn)
        a->n--; /* the spool dropped that append: its LSN comes again */
    if (a->n && a->m[a->n - 1].lsn < lsn &&
        mono_ms < a->m[a->n - 1].mono + SL_ARRIVALS_GRAIN_MS)
        return;
    if (a->n && a->m[a->n - 1].lsn >= lsn)
        return; /* written before a failed write: it stays the lower bound */
    (void)push(a, lsn, mono_ms < 2 ? 2 : mono_ms, 0); /* no memory: coarser */
}

int sl_arrivals_write(sl_arrivals *a, uint64_t written)
{
    if (!a || a->written == a->n || a->m[a->written].lsn >= written)
        return 0;
    uint64_t now_mono = sl_time_mono_ms();
    int64_t now_wall = sl_time_wall_ms();
    unsigned char e[16][SL_ARRIVALS_ENTRY];
    int any = 0;
    while (a->written < a->n && a->m[a->written].lsn < written) {
        size_t k = 0;
        for (; k < 16 && a->written + k < a->n &&
               a->m[a->written + k].lsn < written; k++) {
            mark *m = &a->m[a->written + k];
            m->wall = now_wall - (int64_t)(now_mono - m->mono);
            encode(e[k], m->lsn, m->wall);
        }
        if (sl_fs_write_all(a->fd, e, k * SL_ARRIVALS_ENTRY) != 0) {
            int keep = errno;
            /* a partial entry would hide every later one: cut it off */
            (void)ftruncate(a->fd, (off_t)(a->infile * SL_ARRIVALS_ENTRY));
            errno = keep;
            return -1;
        }
        a->written += k;
        a->infile += k;
        any = 1;
    }
    return any;
}

int sl_arrivals_fd(const sl_arrivals *a) { return a->fd; }

uint64_t sl_arrivals_at(const sl_arrivals *a, uint64_t lsn)
{
    if (!a || a->n == 0 || a->m[0].lsn > lsn)
        return 1;
    size_t lo = 0, hi = a->n; /* the last mark <= lsn is in [lo, hi) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (a->m[mid].lsn <= lsn)
            lo = mid;
        else
            hi = mid;
    }
    return a->m[lo].mono;
}

/* Write the marks in the file anew: a temporary file renamed over it (a
 * crash leaves the old file or the new one, both good). On any failure
 * the old file stays as it is. */
static void rewrite(sl_arrivals *a)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", a->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
                  0640);
    if (fd < 0)
        return;
    int ok = 1;
    for (size_t i = 0; i < a->written && ok; i++) {
        unsigned char e[SL_ARRIVALS_ENTRY];
        encode(e, a->m[i].lsn, a->m[i].wall);
        ok = sl_fs_write_all(fd, e, sizeof e) == 0;
    }
    if (!ok || fdatasync(fd) != 0 || rename(tmp, a->path) != 0) {
        close(fd);
        unlink(tmp);
        return;
    }
    close(a->fd);
    a->fd = fd;
    a->infile = a->written;
}

void sl_arrivals_trim(sl_arrivals *a, uint64_t ack)
{
    if (!a || a->written < 2 || a->m[1].lsn > ack)
        return;
    size_t keep = 1; /* the last written mark at or below ack stays */
    while (keep < a->written && a->m[keep].lsn <= ack)
        keep++;
    size_t drop = keep - 1;
    memmove(a->m, a->m + drop, (a->n - drop) * sizeof *a->m);
    a->n -= drop;
    a->written -= drop;
    if (a->infile - a->written >= COMPACT_DEAD)
        rewrite(a);
}
