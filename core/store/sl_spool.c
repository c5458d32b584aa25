/* sl_spool: segments on disk, a cache in memory, group commit, recovery.
 *
 * Positions are LSNs: byte offsets in the concatenation of all segments,
 * each segment file named by the LSN of its first byte. Three positions
 * move forward:
 *   append_lsn  end of everything appended (written or not)
 *   write_lsn   end of what has been written to the current segment
 *   read_lsn    the next record delivery will cut
 * and "ack" is the lowest LSN still needed: the start of the oldest cut not
 * yet done, or read_lsn. Segments that end at or before ack are deleted.
 *
 * The loop thread does all reading and writing. The segment files' format,
 * their scan and the record reader are sl_segment's; the threads that
 * fdatasync (reporting the durable LSN back on the loop) and delete
 * delivered segments are sl_syncer's; the progress file is sl_progress's
 * and what open finds on disk sl_recovery's.
 *
 * The owner's callbacks may close the spool: while one runs (`reporting`)
 * sl_spool_close releases everything but the struct, which the report
 * frees once the callback has returned (see report()). */
#include "sl_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_arrivals.h"
#include "sl_fs.h"
#include "sl_log.h"
#include "sl_progress.h"
#include "sl_recovery.h"
#include "sl_segment.h"
#include "sl_syncer.h"

#define BLK_HDR SL_SEGMENT_BLOCK_HDR
#define MAX_CUTS SL_PROGRESS_MAX_CUTS

typedef struct mblock {         /* a block held in memory */
    struct mblock *next;
    char *data;                 /* payload (frames), owned */
    size_t len;                 /* payload bytes */
    size_t nrec;                /* records */
    size_t rec_bytes;           /* record bytes (payload minus frames) */
    size_t off;                 /* read offset in the payload */
    uint64_t lsn;               /* LSN of the block's header */
    uint64_t ms;                /* arrival, monotonic */
} mblock;

struct sl_spool {
    struct event_base *base;
    sl_spool_opts o;
    char name[80];
    char dir[PATH_MAX];         /* <connector dir>/spool */
    int dir_fd;
    int disk;                   /* fsync or os */
    uint64_t hdr;               /* LSN bytes before a block's payload:
                                   BLK_HDR on disk, 0 in memory */
    uint64_t epoch;

    uint64_t append_lsn, write_lsn, read_lsn, durable_lsn;

    mblock *wq_head, *wq_tail;  /* appended, not yet written */
    mblock *mq_head, *mq_tail;  /* written, cached, not all read */
    size_t mq_bytes;            /* payload bytes in mq */
    struct event *flush_ev;

    size_t unread_records, unread_bytes; /* in [read_lsn, write_lsn) */

    sl_segment *segs;           /* in LSN order; the last is appended to */
    size_t nsegs, capsegs;
    int seg_fd;                 /* append fd of segs[nsegs-1], or -1 */
    int new_seg;                /* created since the last sync request */

    sl_segment_reader *rd;

    sl_cut cuts[MAX_CUTS];/* outstanding, in cut order */
    size_t ncuts;
    sl_cut rcuts[MAX_CUTS];/* recovered, to cut again first */
    size_t nrcuts, rcut_next;

    sl_progress *prog;          /* <dir>/progress */
    sl_arrivals *arr;           /* <dir>/arrivals; NULL in memory */
    int prog_dirty;

    sl_syncer *sy;              /* NULL without a loop */
    int reporting;              /* owner callbacks running (nested) */
    int closing;                /* sl_spool_close has begun */
    int closed;                 /* ... and left the free to report() */
    char err[256];
};

/* ---- small helpers ------------------------------------------------------ */

static void set_err(sl_spool *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_err(sl_spool *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    sl_log_error("spool", "%s: %s", s->name, s->err);
}

static uint64_t ack_lsn(const sl_spool *s)
{
    return s->ncuts ? s->cuts[0].start : s->read_lsn;
}

static void mblock_free(mblock *b)
{
    if (b) {
        free(b->data);
        free(b);
    }
}

/* Free the list of blocks starting at b. */
static void mblocks_free(mblock *b)
{
    for (mblock *n; b; b = n) {
        n = b->next;
        mblock_free(b);
    }
}

/* ---- progress (sl_progress) --------------------------------------------- */

static int prog_write(sl_spool *s)
{
    if (sl_progress_write(s->prog, s->epoch, s->read_lsn, s->cuts,
                          s->ncuts) != 0) {
        set_err(s, "cannot write %s/progress: %s", s->dir, strerror(errno));
        return -1;
    }
    s->prog_dirty = 0;
    return 0;
}

/* ---- the sync thread ------------------------------------------------------ */

/* Tell the owner (fn may be NULL). The callback may close the spool:
 * then the struct is freed here once the last callback has returned, and
 * 1 says so; the caller returns at once without touching s. */
static int report(sl_spool *s, sl_spool_durable_fn fn, uint64_t lsn)
{
    if (!fn)
        return 0;
    s->reporting++;
    fn(s->o.ud, lsn);
    if (--s->reporting > 0 || !s->closed)
        return s->closed;
    free(s);
    return 1;
}

/* sl_syncer_report_fn: a round of the sync thread finished. */
static void on_synced(void *ud, uint64_t done, int err)
{
    sl_spool *s = ud;
    if (err) {
        /* The data may or may not be on disk; after a failed fsync nothing
         * can be promised (the kernel may have dropped the dirty pages).
         * Those waiting are told their records were not accepted, so they
         * send them again (at least once); the records stay in the spool
         * and are delivered as well. */
        set_err(s, "fdatasync failed: %s; the requests waiting for it are "
                "answered 503", strerror(err));
        uint64_t failed_above = s->durable_lsn;
        if (done > s->durable_lsn)
            s->durable_lsn = done;
        (void)report(s, s->o.on_failed, failed_above);
        return;
    }
    if (done > s->durable_lsn) {
        s->durable_lsn = done;
        (void)report(s, s->o.on_durable, done);
    }
}

static int sync_start(sl_spool *s)
{
    char why[sizeof s->err];
    s->sy = sl_syncer_new(s->o.syncpool, s->base, s->dir_fd,
                          sl_progress_fd(s->prog), on_synced, s, why, sizeof why);
    if (!s->sy) {
        set_err(s, "%s", why);
        return -1;
    }
    return 0;
}

/* Hand the thread everything written so far (and the progress file when
 * `prog`); returns the round that will cover it. */
static uint64_t sync_request(sl_spool *s, int old_fd, int prog)
{
    unsigned also = (s->new_seg ? SL_SYNCER_DIR : 0) |
                    (prog ? SL_SYNCER_PROGRESS : 0);
    s->new_seg = 0;
    return sl_syncer_request(s->sy, s->seg_fd, s->write_lsn, old_fd, also);
}

/* ---- writing -------------------------------------------------------------- */

/* Start a new segment at write_lsn; the previous one goes to the thread
 * (or is synced here when there is no thread). */
static int roll(sl_spool *s)
{
    char path[PATH_MAX + 32];
    sl_segment_path(s->dir, s->write_lsn, path, sizeof path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
                  0640);
    if (fd < 0) {
        set_err(s, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    if (sl_segment_push(&s->segs, &s->nsegs, &s->capsegs, s->write_lsn,
                        s->write_lsn) != 0) {
        close(fd);
        unlink(path);
        set_err(s, "out of memory");
        return -1;
    }
    int old = s->seg_fd;
    s->seg_fd = fd;
    s->new_seg = 1;
    if (old >= 0) {
        if (s->sy && s->o.durability == SL_DURABILITY_FSYNC) {
            sync_request(s, old, 0);
        } else {
            if (s->o.durability == SL_DURABILITY_FSYNC)
                (void)fdatasync(old);
            close(old);
        }
    }
    return 0;
}

static void cache_or_free(sl_spool *s, mblock *b)
{
    int contiguous =
        !s->disk ||
        (s->mq_tail ? s->mq_tail->lsn + s->hdr + s->mq_tail->len == b->lsn
                    : s->read_lsn == b->lsn);
    b->next = NULL;
    /* memory mode: sl_spool_has_room already checked the cap */
    if (contiguous && (!s->disk || s->mq_bytes + b->len <= s->o.cache_bytes)) {
        if (s->mq_tail)
            s->mq_tail->next = b;
        else
            s->mq_head = b;
        s->mq_tail = b;
        s->mq_bytes += b->len;
    } else {
        mblock_free(b);
    }
}

/* Write the blocks of wq, at most IOV_MAX/2 per writev, rolling segments.
 * On failure the segment is cut back to write_lsn and everything unwritten
 * is dropped (its requests were not answered yet: they get an error). */
static int write_pending(sl_spool *s)
{
    struct iovec iov[128];
    unsigned char hdrs[64][BLK_HDR];
    while (s->wq_head) {
        if (s->seg_fd < 0 ||
            s->write_lsn - s->segs[s->nsegs - 1].start >= s->o.segment_bytes)
            if (roll(s) != 0)
                goto fail;
        uint64_t seg_room = s->o.segment_bytes -
                            (s->write_lsn - s->segs[s->nsegs - 1].start);
        size_t n = 0, bytes = 0;
        mblock *b = s->wq_head;
        while (b && n < 64 && (n == 0 || bytes + BLK_HDR + b->len <= seg_room)) {
            sl_segment_block_header(hdrs[n], b->data, b->len, b->nrec);
            iov[2 * n].iov_base = hdrs[n];
            iov[2 * n].iov_len = BLK_HDR;
            iov[2 * n + 1].iov_base = b->data;
            iov[2 * n + 1].iov_len = b->len;
            bytes += BLK_HDR + b->len;
            n++;
            b = b->next;
        }
        if (sl_fs_writev_all(s->seg_fd, iov, (int)(2 * n)) != 0) {
            set_err(s, "cannot write segment %016" PRIx64 ": %s",
                    s->segs[s->nsegs - 1].start, strerror(errno));
            goto fail;
        }
        s->write_lsn += bytes;
        s->segs[s->nsegs - 1].end = s->write_lsn;
        for (size_t i = 0; i < n; i++) {
            mblock *w = s->wq_head;
            s->wq_head = w->next;
            s->unread_records += w->nrec;
            s->unread_bytes += w->rec_bytes;
            cache_or_free(s, w);
        }
        if (!s->wq_head)
            s->wq_tail = NULL;
    }
    return 0;
fail:
    if (s->seg_fd >= 0) {
        uint64_t start = s->segs[s->nsegs - 1].start;
        if (ftruncate(s->seg_fd, (off_t)(s->write_lsn - start)) != 0)
            sl_log_error("spool", "%s: cannot cut a failed write back: %s",
                     s->name, strerror(errno));
    }
    mblocks_free(s->wq_head);
    s->wq_head = s->wq_tail = NULL;
    s->append_lsn = s->write_lsn;
    return -1;
}

static void delete_behind(sl_spool *s)
{
    uint64_t ack = ack_lsn(s);
    size_t drop = 0;
    /* never the segment being appended to */
    while (drop + 1 < s->nsegs && s->segs[drop + 1].start <= ack)
        drop++;
    if (drop == 0)
        return;
    for (size_t i = 0; i < drop; i++) {
        char path[PATH_MAX + 32];
        sl_segment_path(s->dir, s->segs[i].start, path, sizeof path);
        if (!s->sy || sl_syncer_unlink_later(s->sy, path) != 0)
            if (unlink(path) != 0 && errno != ENOENT)
                sl_log_warn("spool", "%s: cannot delete %s: %s", s->name, path,
                        strerror(errno));
    }
    sl_arrivals_trim(s->arr, ack);
    sl_segment_reader_dropped(s->rd, drop);
    memmove(s->segs, s->segs + drop, (s->nsegs - drop) * sizeof *s->segs);
    s->nsegs -= drop;
}

/* End of a loop turn: write what arrived, persist progress, hand the rest
 * to the fsync thread. */
static void flush(sl_spool *s)
{
    uint64_t before = s->write_lsn;
    int failed = s->wq_head && write_pending(s) != 0;
    if (!s->disk)
        return;
    int prog = 0, arr = sl_arrivals_write(s->arr, s->write_lsn);
    if (s->prog_dirty && prog_write(s) == 0) {
        prog = 1;
        delete_behind(s);
    }
    if (s->o.durability == SL_DURABILITY_FSYNC) {
        /* new marks: a copy, synced and closed with the progress */
        int arr_fd = arr > 0 && s->sy ? dup(sl_arrivals_fd(s->arr)) : -1;
        if (arr_fd >= 0)
            sl_syncer_sync_close(s->sy, arr_fd);
        if (s->write_lsn > before || s->new_seg || prog)
            sync_request(s, -1, prog);
    } else if (s->write_lsn > s->durable_lsn) {
        s->new_seg = 0; /* "os" promises nothing about the directory */
        s->durable_lsn = s->write_lsn;
        if (report(s, s->o.on_durable, s->durable_lsn))
            return; /* closed by the owner */
    }
    if (failed)
        (void)report(s, s->o.on_failed, s->write_lsn);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    flush(arg);
}

static void schedule_flush(sl_spool *s)
{
    if (s->flush_ev && !event_pending(s->flush_ev, EV_TIMEOUT, NULL))
        event_active(s->flush_ev, EV_TIMEOUT, 1);
}

sl_spool_rc sl_spool_append(sl_spool *s, sl_buf *block, size_t nrecords,
                            uint64_t now_ms, uint64_t *ticket)
{
    size_t len = block->len;
    *ticket = 0;
    if (nrecords == 0 || len == 0) {
        block->len = 0; /* nothing to keep */
        return SL_SPOOL_OK;
    }
    if (len > SL_SEGMENT_MAX_PAYLOAD || !sl_spool_has_room(s, len))
        return SL_SPOOL_FULL;
    mblock *b = calloc(1, sizeof *b);
    if (!b)
        return SL_SPOOL_NOMEM;
    b->data = block->data;
    b->len = len;
    b->nrec = nrecords;
    b->rec_bytes = len - 4 * nrecords;
    b->lsn = s->append_lsn;
    b->ms = now_ms;
    s->append_lsn += s->hdr + len;
    size_t max = block->max;
    block->data = NULL;
    block->len = block->cap = 0;
    sl_buf_init(block, max);
    if (!s->disk) {
        /* memory: "written" and "durable" at once */
        s->write_lsn = s->durable_lsn = s->append_lsn;
        s->unread_records += b->nrec;
        s->unread_bytes += b->rec_bytes;
        cache_or_free(s, b); /* always cached: has_room checked the cap */
        return SL_SPOOL_OK;
    }
    sl_arrivals_note(s->arr, b->lsn, now_ms);
    b->next = NULL;
    if (s->wq_tail)
        s->wq_tail->next = b;
    else
        s->wq_head = b;
    s->wq_tail = b;
    *ticket = s->append_lsn;
    schedule_flush(s);
    return SL_SPOOL_OK;
}

int sl_spool_has_room(const sl_spool *s, size_t bytes)
{
    /* everything not yet done, batches being delivered included (in
     * memory mode LSNs count the same bytes without a file) */
    uint64_t held = s->append_lsn - ack_lsn(s);
    return (uint64_t)bytes + s->hdr <= s->o.max_bytes &&
           held <= s->o.max_bytes - bytes - s->hdr;
}

int sl_spool_sync(sl_spool *s)
{
    if (!s->disk)
        return 0;
    int rc = 0;
    if (s->wq_head && write_pending(s) != 0)
        rc = -1;
    (void)sl_arrivals_write(s->arr, s->write_lsn); /* synced at close */
    if (s->prog_dirty && prog_write(s) != 0)
        rc = -1;
    if (s->sy) {
        /* the thread may hold rolled segments not yet synced: let it do
         * everything, and wait */
        int err = sl_syncer_wait(s->sy, sync_request(s, -1, 1));
        if (err) {
            set_err(s, "fdatasync failed: %s", strerror(err));
            rc = -1;
        }
    } else {
        if (s->seg_fd >= 0 && fdatasync(s->seg_fd) != 0) {
            set_err(s, "fdatasync failed: %s", strerror(errno));
            rc = -1;
        }
        if (s->new_seg && fsync(s->dir_fd) != 0) {
            set_err(s, "fsync of %s failed: %s", s->dir, strerror(errno));
            rc = -1;
        }
        s->new_seg = 0;
        if (fdatasync(sl_progress_fd(s->prog)) != 0) {
            set_err(s, "fdatasync of the progress file failed: %s",
                    strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0 && s->write_lsn > s->durable_lsn) {
        s->durable_lsn = s->write_lsn;
        (void)report(s, s->o.on_durable, s->durable_lsn); /* last */
    }
    return rc;
}

uint64_t sl_spool_durable_lsn(const sl_spool *s) { return s->durable_lsn; }
size_t sl_spool_count(const sl_spool *s) { return s->unread_records; }
size_t sl_spool_bytes(const sl_spool *s) { return s->unread_bytes; }
uint64_t sl_spool_disk_bytes(const sl_spool *s)
{
    return s->append_lsn - ack_lsn(s);
}
const char *sl_spool_error(const sl_spool *s) { return s->err; }
size_t sl_spool_recovered_left(const sl_spool *s)
{
    return s->nrcuts - s->rcut_next;
}

uint64_t sl_spool_oldest_ms(const sl_spool *s)
{
    if (s->unread_records == 0)
        return 0;
    if (s->mq_head && s->read_lsn >= s->mq_head->lsn)
        return s->mq_head->ms;
    return sl_arrivals_at(s->arr, s->read_lsn); /* a backlog on disk */
}

uint64_t sl_spool_undelivered_ms(const sl_spool *s)
{   /* cut order is LSN order is arrival order: the first cut is oldest */
    return s->ncuts ? s->cuts[0].ms : sl_spool_oldest_ms(s);
}

/* ---- reading ---------------------------------------------------------------- */

/* Take records from the disk while read_lsn is behind the cache. */
static size_t take_disk(sl_spool *s, size_t max, sl_cut_emit_fn emit,
                        void *ud, int exact)
{
    uint64_t limit = s->mq_head ? s->mq_head->lsn : s->write_lsn, bytes;
    if (!s->disk || s->read_lsn >= limit)
        return 0; /* nothing written that is not in the cache */
    sl_segment_table t = {s->dir, s->segs, s->nsegs};
    size_t n = sl_segment_reader_take(s->rd, &t, &s->read_lsn, limit, max,
                                      exact, emit, ud, &bytes);
    const char *why = sl_segment_reader_error(s->rd);
    if (why[0])
        set_err(s, "%s", why); /* the reader's error is the spool's */
    s->unread_records -= n;
    s->unread_bytes -= (size_t)bytes;
    return n;
}

/* Free the cache's first block, all of it read. */
static void cache_pop(sl_spool *s)
{
    mblock *b = s->mq_head;
    s->mq_head = b->next;
    if (!s->mq_head)
        s->mq_tail = NULL;
    s->mq_bytes -= b->len;
    mblock_free(b);
}

static size_t take_cache(sl_spool *s, size_t max, sl_cut_emit_fn emit,
                         void *ud)
{
    size_t n = 0;
    while (n < max && s->mq_head) {
        mblock *b = s->mq_head;
        if (b->off >= b->len) {
            s->read_lsn = b->lsn + s->hdr + b->len;
            cache_pop(s);
            continue;
        }
        uint32_t len;
        memcpy(&len, b->data + b->off, 4);
        uint64_t lsn = b->lsn + s->hdr + b->off;
        if (emit(ud, b->data + b->off + 4, len, lsn) != 0)
            break;
        b->off += 4 + (size_t)len;
        s->read_lsn = b->off >= b->len ? b->lsn + s->hdr + b->len
                                       : b->lsn + s->hdr + b->off;
        s->unread_records--;
        s->unread_bytes -= len;
        n++;
    }
    if (s->mq_head && s->mq_head->off >= s->mq_head->len)
        cache_pop(s); /* a block finished just now */
    sl_segment_reader_forget(s->rd); /* it must seek next time */
    return n;
}

static int add_cut(sl_spool *s, const sl_cut *c)
{
    if (s->ncuts == MAX_CUTS)
        return -1;
    s->cuts[s->ncuts++] = *c;
    s->prog_dirty = 1;
    schedule_flush(s);
    return 0;
}

/* Cut a batch recovered from the previous run again, exactly. */
static size_t take_recovered(sl_spool *s, sl_cut_emit_fn emit, void *ud,
                             sl_cut *cut)
{
    sl_cut *rc = &s->rcuts[s->rcut_next++];
    uint64_t keep = s->read_lsn;
    size_t keep_n = s->unread_records, keep_b = s->unread_bytes;
    s->read_lsn = rc->start;
    size_t n = take_disk(s, rc->nrecords, emit, ud, 1);
    int ok = n == rc->nrecords && s->read_lsn == rc->end;
    int nomem = !ok && sl_segment_reader_nomem(s->rd);
    s->read_lsn = keep;
    s->unread_records = keep_n;
    s->unread_bytes = keep_b;
    sl_segment_reader_forget(s->rd);
    if (nomem) {
        s->rcut_next--; /* not the batch's fault: cut it again next time */
        return 0;
    }
    if (!ok) {
        sl_log_error("spool", "%s: batch %" PRIu64 "..%" PRIu64 " from before the "
                 "restart could not be read again (%zu of %zu records): %s",
                 s->name, rc->start, rc->end, n, rc->nrecords, s->err);
        return 0;
    }
    *cut = *rc;
    cut->recovered = 1;
    cut->epoch = s->epoch;
    return n;
}

size_t sl_spool_take(sl_spool *s, size_t max_records, sl_cut_emit_fn emit,
                     void *ud, sl_cut *cut)
{
    memset(cut, 0, sizeof *cut);
    cut->epoch = s->epoch;
    cut->ms = sl_spool_oldest_ms(s); /* its first record's */
    while (s->rcut_next < s->nrcuts) {
        size_t next = s->rcut_next;
        size_t n = take_recovered(s, emit, ud, cut);
        if (n > 0)
            return n; /* already outstanding (cuts[] holds it) */
        if (s->rcut_next == next)
            return 0; /* out of memory: the same batch next time */
        /* unreadable: drop it from the outstanding list */
        sl_spool_done(s, &s->rcuts[s->rcut_next - 1]);
    }
    if (s->ncuts == MAX_CUTS)
        return 0;
    uint64_t start = s->read_lsn;
    size_t n = 0;
    /* from the disk while read_lsn is behind the cache (a backlog), from
     * the cache once it reaches it, from the disk again where the cache
     * stopped keeping blocks; a refusing emit ends it */
    while (n < max_records) {
        int cached = s->mq_head && s->read_lsn >= s->mq_head->lsn;
        size_t got = cached ? take_cache(s, max_records - n, emit, ud)
                            : take_disk(s, max_records - n, emit, ud, 0);
        if (got == 0)
            break;
        n += got;
    }
    if (n == 0)
        return 0;
    cut->start = start;
    cut->end = s->read_lsn;
    cut->nrecords = n;
    if (add_cut(s, cut) != 0)
        sl_log_error("spool", "%s: too many outstanding batches", s->name);
    return n;
}

void sl_spool_done(sl_spool *s, const sl_cut *cut)
{
    for (size_t i = 0; i < s->ncuts; i++)
        if (s->cuts[i].start == cut->start && s->cuts[i].end == cut->end) {
            memmove(s->cuts + i, s->cuts + i + 1,
                    (s->ncuts - i - 1) * sizeof *s->cuts);
            s->ncuts--;
            s->prog_dirty = 1;
            schedule_flush(s);
            return;
        }
}

/* ---- recovery (sl_recovery) -------------------------------------------- */

/* Take over what sl_recovery found, open the last segment to append to
 * unless it is full, and write the progress back. */
static int recover(sl_spool *s)
{
    sl_recovery *r = malloc(sizeof *r);
    char why[sizeof s->err];
    if (!r || sl_recovery_run(s->dir, s->prog, s->name, r, why,
                              sizeof why) != 0) {
        set_err(s, "%s", r ? why : "out of memory");
        free(r);
        return -1;
    }
    s->segs = r->segs;
    s->nsegs = s->capsegs = r->nsegs;
    s->epoch = r->epoch;
    s->write_lsn = s->append_lsn = s->durable_lsn = r->end;
    s->read_lsn = r->read_lsn;
    s->unread_records = (size_t)r->records;
    s->unread_bytes = (size_t)r->bytes;
    /* recovered cuts that still exist are outstanding again */
    s->nrcuts = s->ncuts = r->ncuts;
    memcpy(s->rcuts, r->cuts, r->ncuts * sizeof *s->rcuts);
    memcpy(s->cuts, r->cuts, r->ncuts * sizeof *s->cuts);
    s->arr = r->arr;
    free(r);
    if (s->nsegs && s->segs[s->nsegs - 1].end - s->segs[s->nsegs - 1].start <
                        s->o.segment_bytes) {
        char path[PATH_MAX + 32];
        sl_segment_path(s->dir, s->segs[s->nsegs - 1].start, path,
                        sizeof path);
        s->seg_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (s->seg_fd < 0) {
            set_err(s, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
    }
    return prog_write(s);
}

/* ---- open / close -------------------------------------------------------------- */

sl_spool *sl_spool_open(struct event_base *base, const sl_spool_opts *o,
                        char *err, size_t errlen)
{
    sl_spool *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    s->o = *o;
    s->o.dir = NULL;
    s->dir_fd = s->seg_fd = -1;
    snprintf(s->name, sizeof s->name, "%s", o->name ? o->name : "spool");
    s->disk = o->durability != SL_DURABILITY_MEMORY;
    s->hdr = s->disk ? BLK_HDR : 0;
    if (!(s->rd = sl_segment_reader_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!s->disk) {
        s->o.cache_bytes = o->max_bytes;
        s->epoch = sl_recovery_new_epoch();
        return s;
    }
    if (snprintf(s->dir, sizeof s->dir, "%s/spool", o->dir) >= (int)sizeof s->dir) {
        snprintf(err, errlen, "spool path too long");
        goto fail;
    }
    if (sl_fs_mkdir_p(s->dir, 0750, NULL, 0) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", s->dir, strerror(errno));
        goto fail;
    }
    if ((s->dir_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        !(s->prog = sl_progress_open(s->dir, 1))) {
        snprintf(err, errlen, "cannot open %s/progress: %s", s->dir,
                 strerror(errno));
        goto fail;
    }
    if (recover(s) != 0) {
        snprintf(err, errlen, "%s", s->err);
        goto fail;
    }
    if (base) {
        if (!(s->flush_ev = event_new(base, -1, 0, on_flush, s))) {
            snprintf(err, errlen, "cannot create the flush event");
            goto fail;
        }
        /* the thread syncs (fsync mode) and deletes delivered segments */
        if (sync_start(s) != 0) {
            snprintf(err, errlen, "%s", s->err);
            goto fail;
        }
    }
    return s;
fail:
    sl_spool_close(s);
    return NULL;
}

void sl_spool_close(sl_spool *s)
{
    if (!s || s->closing)
        return;
    s->closing = 1;
    if (s->disk && s->prog)
        (void)sl_spool_sync(s);
    sl_syncer_free(s->sy);
    s->sy = NULL;
    if (s->flush_ev)
        event_free(s->flush_ev);
    mblocks_free(s->wq_head);
    mblocks_free(s->mq_head);
    sl_segment_reader_free(s->rd);
    if (s->seg_fd >= 0)
        close(s->seg_fd);
    sl_progress_close(s->prog);
    sl_arrivals_close(s->arr);
    if (s->dir_fd >= 0)
        close(s->dir_fd);
    free(s->segs);
    if (s->reporting)
        s->closed = 1; /* inside a callback: report() frees s */
    else
        free(s);
}

int sl_spool_inspect(const char *dir, uint64_t *records, uint64_t *bytes,
                     char *err, size_t errlen)
{
    return sl_recovery_inspect(dir, records, bytes, err, errlen);
}
