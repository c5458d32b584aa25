/* sl_recovery: a spool's segments and progress checked at open, and the
 * read-only count behind sl_spool_inspect. */
#include "sl_recovery.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sl_log.h"
#include "sl_time.h"

uint64_t sl_recovery_new_epoch(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
           ((uint64_t)getpid() << 16);
}

/* A damaged segment: the last one's torn tail is cut (when `repair`), an
 * earlier one's rest is skipped. Both are logged. 0, or -1 with err. */
static int damaged(const char *name, const char *path, uint64_t start,
                   const sl_segment_scan *sc, int last, char *err,
                   size_t errlen)
{
    uint64_t lost = sc->file_end - sc->valid_end;
    if (!last) {
        sl_log_error("spool", "%s: %s is damaged at byte %" PRIu64 " (%s): "
                     "%" PRIu64 " bytes after it cannot be read and are "
                     "skipped", name, path, sc->valid_end - start, sc->why,
                     lost);
        return 0;
    }
    sl_log_warn("spool", "%s: cut torn tail of %s at byte %" PRIu64 ": %"
                PRIu64 " bytes discarded (%s: normally a write cut short by "
                "a crash, before the intake answered)", name, path,
                sc->valid_end - start, lost, sc->why);
    if (truncate(path, (off_t)(sc->valid_end - start)) != 0) {
        snprintf(err, errlen, "cannot truncate %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* Scan every segment of dir, counting into *cnt; with `name` (a spool
 * opening) damage is logged and repaired and the valid extents go to
 * r->segs. 0, or -1 with err. */
static int scan_dir(const char *dir, const char *name, sl_segment_counter *cnt,
                    sl_recovery *r, char *err, size_t errlen)
{
    uint64_t *starts = NULL;
    size_t n = 0, cap = 0;
    if (sl_segment_list(dir, &starts, &n) != 0) {
        snprintf(err, errlen, "cannot list %s: %s", dir, strerror(errno));
        return -1;
    }
    sl_buf buf;
    sl_buf_init(&buf, 0);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char path[PATH_MAX + 32];
        sl_segment_path(dir, starts[i], path, sizeof path);
        sl_segment_scan sc;
        if (sl_segment_scan_file(path, starts[i], &buf,
                                 sl_segment_count_block, cnt, &sc) != 0) {
            snprintf(err, errlen, "cannot read %s: %s", path,
                     strerror(errno));
            rc = -1;
        } else if (!r) {
            continue; /* inspecting: count only */
        } else if (sc.why && damaged(name, path, starts[i], &sc, i + 1 == n,
                                     err, errlen) != 0) {
            rc = -1;
        } else if (sl_segment_push(&r->segs, &r->nsegs, &cap, starts[i],
                                   sc.valid_end) != 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    sl_buf_free(&buf);
    free(starts);
    return rc;
}

/* Move the read position into the valid data and keep the cuts that can
 * still be read again. */
static void check_positions(const char *name, sl_recovery *r)
{
    uint64_t first = r->nsegs ? r->segs[0].start : r->read_lsn;
    r->end = r->nsegs ? r->segs[r->nsegs - 1].end : r->read_lsn;
    if (r->read_lsn < first)
        r->read_lsn = first; /* delivered segments already deleted */
    if (r->read_lsn > r->end) {
        sl_log_warn("spool", "%s: delivery progress (%" PRIu64 ") is past "
                    "the end of the spool (%" PRIu64 "); starting at the "
                    "end", name, r->read_lsn, r->end);
        r->read_lsn = r->end;
        /* LSNs from `end` on were cut (maybe delivered) and will be used
         * again for other records: they need other idempotency keys */
        r->epoch = sl_recovery_new_epoch();
    }
    /* in the unreadable rest of a damaged segment: go on at the next */
    for (size_t i = 0; i + 1 < r->nsegs; i++)
        if (r->read_lsn > r->segs[i].end && r->read_lsn < r->segs[i + 1].start)
            r->read_lsn = r->segs[i + 1].start;
    size_t k = 0;
    uint64_t prev = first;
    for (size_t i = 0; i < r->ncuts; i++) {
        const sl_cut *c = &r->cuts[i];
        if (c->start >= prev && c->start < c->end && c->end <= r->read_lsn &&
            c->nrecords > 0 && c->nrecords <= (c->end - c->start) / 4) {
            prev = c->end;
            r->cuts[k++] = *c;
        }
    }
    r->ncuts = k;
}

int sl_recovery_run(const char *spool_dir, sl_progress *prog,
                    const char *name, sl_recovery *r, char *err,
                    size_t errlen)
{
    sl_progress_state *st = malloc(sizeof *st);
    memset(r, 0, sizeof *r);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (sl_progress_read(prog, st) != 0) {
        r->epoch = sl_recovery_new_epoch(); /* a new spool, or an unreadable file */
    } else {
        r->epoch = st->epoch;
        r->read_lsn = st->read_lsn;
        r->ncuts = st->ncuts;
        memcpy(r->cuts, st->cuts, st->ncuts * sizeof *r->cuts);
    }
    free(st);
    sl_segment_counter cnt = {.from = r->read_lsn};
    if (scan_dir(spool_dir, name, &cnt, r, err, errlen) != 0) {
        sl_recovery_free(r);
        return -1;
    }
    r->records = cnt.records;
    r->bytes = cnt.bytes;
    check_positions(name, r);
    if (!(r->arr = sl_arrivals_open(spool_dir, r->end, sl_time_mono_ms(),
                                    sl_time_wall_ms(), err, errlen))) {
        sl_recovery_free(r);
        return -1;
    }
    for (size_t i = 0; i < r->ncuts; i++) /* 1 (unknown) without a mark */
        r->cuts[i].ms = sl_arrivals_at(r->arr, r->cuts[i].start);
    if (r->records || r->ncuts)
        sl_log_info("spool", "%s: recovered %" PRIu64 " undelivered records "
                    "(%" PRIu64 " bytes) and %zu batch%s that %s in flight",
                    name, r->records, r->bytes, r->ncuts,
                    r->ncuts == 1 ? "" : "es", r->ncuts == 1 ? "was" : "were");
    return 0;
}

void sl_recovery_free(sl_recovery *r)
{
    free(r->segs);
    r->segs = NULL;
    r->nsegs = 0;
    sl_arrivals_close(r->arr);
    r->arr = NULL;
}

int sl_recovery_inspect(const char *dir, uint64_t *records, uint64_t *bytes,
                        char *err, size_t errlen)
{
    char spool[PATH_MAX];
    *records = *bytes = 0;
    if (snprintf(spool, sizeof spool, "%s/spool", dir) >= (int)sizeof spool) {
        snprintf(err, errlen, "spool path too long");
        return -1;
    }
    sl_progress_state *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sl_progress *prog = sl_progress_open(spool, 0);
    if (prog) {
        (void)sl_progress_read(prog, st); /* none or unreadable: all count */
        sl_progress_close(prog);
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot open %s/progress: %s", spool,
                 strerror(errno));
        free(st);
        return -1;
    }
    /* what was never cut, and the batches still in flight (not the done
     * ones between them) */
    sl_segment_counter cnt = {.from = st->read_lsn, .cuts = st->cuts,
                              .ncuts = st->ncuts};
    int rc = scan_dir(spool, NULL, &cnt, NULL, err, errlen);
    *records = cnt.records;
    *bytes = cnt.bytes;
    free(st);
    return rc;
}
