/* sl_dlq: a connector's dead letters in <dir>/dlq/dead.ndjson (one JSON
 * object per line, written under flock): appending, reading back, and the
 * rewrites behind replay (into <dir>/inbox/) and purge. */
#include "sl_dlq.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_dlq_line.h"
#include "sl_err.h"
#include "sl_fs.h"
#include "sl_inbox.h"
#include "sl_time.h"

#define DLQ_APPEND_MAX (256u << 20) /* bytes per sl_dlq_append call */
#define DLQ_PATH 4096

struct sl_dlq {
    char *dir;       /* <connector dir>/dlq */
    char *path;      /* <connector dir>/dlq/dead.ndjson */
    size_t count;    /* entries as of `seen` */
    struct stat seen;/* the file when counted (st_ino 0: never) */
    int64_t next_id; /* lowest id this process may hand out next */
};

static int join(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s/%s", a, b);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* Count the entries of the file open at fd and find their largest id. */
static int scan_fd(int fd, size_t *count, int64_t *max_id)
{
    sl_dlq_line_reader r;
    sl_dlq_line_reader_init(&r, fd);
    const char *p;
    size_t n;
    int k;
    *count = 0;
    *max_id = 0;
    while ((k = sl_dlq_line_reader_next(&r, &p, &n)) == 1) {
        sl_dlq_stored e;
        if (sl_dlq_line_parse(p, n, &e) == 0) {
            (*count)++;
            if (e.id > *max_id)
                *max_id = e.id;
        }
    }
    sl_dlq_line_reader_free(&r);
    return k < 0 ? -1 : 0;
}

/* ---- ids --------------------------------------------------------------- */

/* <dlq>/next_id keeps ids from being reused after a rewrite removed the
 * entries with the largest ones. 0 when missing or unreadable. */
static int64_t read_next_id(const char *dlqdir)
{
    char path[DLQ_PATH], b[32];
    if (join(path, sizeof path, dlqdir, "next_id") != 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t k = read(fd, b, sizeof b - 1);
    close(fd);
    if (k <= 0)
        return 0;
    b[k] = '\0';
    long long v = strtoll(b, NULL, 10);
    return v > 0 ? (int64_t)v : 0;
}

static int write_next_id(const char *dlqdir, int64_t v, char *err,
                         size_t errlen)
{
    char path[DLQ_PATH], tmp[DLQ_PATH], b[32];
    if (join(path, sizeof path, dlqdir, "next_id") != 0 ||
        join(tmp, sizeof tmp, dlqdir, "next_id.tmp") != 0) {
        sl_err_set(err, errlen, "%s: path too long", dlqdir);
        return -1;
    }
    int n = snprintf(b, sizeof b, "%" PRId64 "\n", v);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    int bad = fd < 0 || sl_fs_write_all(fd, b, (size_t)n) != 0 ||
              fsync(fd) != 0;
    if (fd >= 0 && close(fd) != 0)
        bad = 1;
    if (bad || rename(tmp, path) != 0 || sl_fs_sync_dir(dlqdir) != 0) {
        sl_err_set(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* Position of the last '\n' before `before`, -1 if none, -2 on error. */
static off_t rfind_nl(int fd, off_t before)
{
    char b[4096];
    while (before > 0) {
        size_t n = before < (off_t)sizeof b ? (size_t)before : sizeof b;
        off_t at = before - (off_t)n;
        ssize_t k = pread(fd, b, n, at);
        if (k != (ssize_t)n)
            return -2;
        for (size_t i = n; i-- > 0;)
            if (b[i] == '\n')
                return at + (off_t)i;
        before = at;
    }
    return -1;
}

/* The id of the last complete line, read from its head `{"id":N,` (so a
 * long file is not read): >= 0; -1 when there is no complete line; -2
 * when that line does not start like ours (the caller scans instead).
 * *ends_nl says whether the file ends with '\n' (an empty file does). */
static int64_t tail_id(int fd, off_t size, int *ends_nl)
{
    char head[40];
    *ends_nl = 1;
    if (size == 0)
        return -1;
    if (pread(fd, head, 1, size - 1) != 1)
        return -2;
    *ends_nl = head[0] == '\n';
    off_t end = *ends_nl ? size - 1 : rfind_nl(fd, size - 1);
    if (end < 0)
        return end == -1 ? -1 : -2;
    off_t start = rfind_nl(fd, end);
    if (start == -2)
        return -2;
    start++;
    size_t n = end - start < (off_t)sizeof head - 1 ? (size_t)(end - start)
                                                     : sizeof head - 1;
    if (pread(fd, head, n, start) != (ssize_t)n)
        return -2;
    head[n] = '\0';
    if (strncmp(head, "{\"id\":", 6) != 0 || head[6] < '0' || head[6] > '9')
        return -2;
    char *q;
    long long v = strtoll(head + 6, &q, 10);
    return *q == ',' || *q == '}' ? (int64_t)v : -2;
}

/* ---- the store --------------------------------------------------------- */

/* Open `path` and take its flock, making sure the lock is on the file the
 * name points to now: a rewrite may rename a new file over it while we
 * wait, and a lock on the old one would let us append to a dead file.
 * Returns the fd; -2 when the file is missing and !create; -1 with err. */
static int open_locked(const char *path, int flags, int create, int *created,
                       char *err, size_t errlen)
{
    for (int tries = 0; tries < 1000; tries++) {
        int made = 0;
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT && create) {
            fd = open(path, flags | O_CLOEXEC | O_CREAT | O_EXCL, 0640);
            if (fd < 0 && errno == EEXIST)
                continue;
            made = fd >= 0;
        }
        if (fd < 0) {
            if (errno == ENOENT && !create)
                return -2;
            sl_err_set(err, errlen, "%s: %s", path, strerror(errno));
            return -1;
        }
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                sl_err_set(err, errlen, "%s: flock: %s", path, strerror(errno));
                close(fd);
                return -1;
            }
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (created)
                *created = made;
            return fd;
        }
        close(fd); /* replaced (or removed) while we waited: try again */
    }
    sl_err_set(err, errlen, "%s: keeps being replaced", path);
    return -1;
}

static char *path_of(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", a, b);
    return p;
}

sl_dlq *sl_dlq_open(const char *dir, char *err, size_t errlen)
{
    sl_dlq *d = calloc(1, sizeof *d);
    if (!d || !(d->dir = path_of(dir, "dlq")) ||
        !(d->path = path_of(d->dir, "dead.ndjson"))) {
        sl_err_set(err, errlen, "out of memory");
        goto fail;
    }
    if (sl_fs_mkdir_synced(dir, d->dir) != 0) {
        sl_err_set(err, errlen, "%s: %s", d->dir, strerror(errno));
        goto fail;
    }
    int64_t max_id = 0;
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno != ENOENT) {
        sl_err_set(err, errlen, "%s: %s", d->path, strerror(errno));
        goto fail;
    }
    if (fd >= 0) {
        int rc = scan_fd(fd, &d->count, &max_id);
        close(fd);
        if (rc != 0) {
            sl_err_set(err, errlen, "%s: %s", d->path, strerror(errno));
            goto fail;
        }
    }
    int64_t kept = read_next_id(d->dir);
    d->next_id = max_id + 1 > kept ? max_id + 1 : kept;
    return d;
fail:
    sl_dlq_close(d);
    return NULL;
}

void sl_dlq_close(sl_dlq *d)
{
    if (!d)
        return;
    free(d->dir);
    free(d->path);
    free(d);
}

size_t sl_dlq_count(sl_dlq *d)
{
    /* `sluice dlq replay/purge` may have rewritten the store meanwhile:
     * count again when the file is not the one counted */
    struct stat st;
    if (stat(d->path, &st) != 0) {
        if (errno == ENOENT)
            d->count = 0;
        return d->count;
    }
    if (st.st_ino == d->seen.st_ino && st.st_size == d->seen.st_size &&
        st.st_mtim.tv_sec == d->seen.st_mtim.tv_sec &&
        st.st_mtim.tv_nsec == d->seen.st_mtim.tv_nsec)
        return d->count;
    int fd = open(d->path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        size_t count;
        int64_t max_id;
        if (fstat(fd, &st) == 0 && scan_fd(fd, &count, &max_id) == 0) {
            d->count = count;
            d->seen = st;
        }
        close(fd);
    }
    return d->count;
}

int sl_dlq_append(sl_dlq *d, const sl_dlq_entry *e, size_t n, char *err,
                  size_t errlen)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (sl_dlq_line_check(&e[i], i, err, errlen) != 0)
            return -1;
    int created = 0, rc = -1;
    sl_buf b;
    sl_buf_init(&b, DLQ_APPEND_MAX);
    int fd = open_locked(d->path, O_RDWR | O_APPEND, 1, &created, err,
                         errlen);
    if (fd < 0)
        goto done;
    /* Ids come from the file under the lock, since a CLI rewrite or
     * another process may have changed it since we last looked. */
    struct stat st;
    int ends_nl = 1;
    int64_t last = fstat(fd, &st) == 0 ? tail_id(fd, st.st_size, &ends_nl)
                                       : -2;
    if (last == -2) {
        size_t cnt;
        if (lseek(fd, 0, SEEK_SET) < 0 || scan_fd(fd, &cnt, &last) != 0) {
            sl_err_set(err, errlen, "%s: %s", d->path, strerror(errno));
            goto done;
        }
    }
    int64_t next = d->next_id, kept = read_next_id(d->dir);
    if (last + 1 > next)
        next = last + 1;
    if (kept > next)
        next = kept;
    if (next < 1)
        next = 1;
    char now[SL_TIME_FORMAT_MAX];
    sl_time_format_rfc3339(sl_time_wall_ms(), now, sizeof now);
    /* A torn line (a crash mid-write) stays a line of its own, which
     * readers skip, instead of swallowing our first entry. */
    if (!ends_nl && sl_buf_putc(&b, '\n') != 0)
        goto nomem;
    for (size_t i = 0; i < n; i++)
        if (sl_dlq_line_encode(&b, next + (int64_t)i, now, &e[i]) != 0)
            goto nomem;
    if (sl_fs_write_all(fd, b.data, b.len) != 0 || fdatasync(fd) != 0) {
        sl_err_set(err, errlen, "%s: %s", d->path, strerror(errno));
        goto done;
    }
    if (created && sl_fs_sync_dir(d->dir) != 0) {
        sl_err_set(err, errlen, "%s: fsync: %s", d->dir, strerror(errno));
        goto done;
    }
    d->count += n;
    d->next_id = next + (int64_t)n;
    rc = 0;
    goto done;
nomem:
    sl_err_set(err, errlen, "dead letters: %zu entries need more than %u MiB",
            n, DLQ_APPEND_MAX >> 20);
done:
    if (fd >= 0)
        close(fd);
    sl_buf_free(&b);
    return rc;
}

/* ---- replay and purge -------------------------------------------------- */

static int selected(const sl_dlq_stored *e, int64_t since_ms,
                    const int64_t *ids, size_t nids, unsigned char *found)
{
    if (since_ms >= 0 && e->time_ms < since_ms)
        return 0;
    if (nids == 0)
        return 1;
    int hit = 0;
    for (size_t i = 0; i < nids; i++)
        if (ids[i] == e->id)
            found[i] = 1, hit = 1;
    return hit;
}

static int missing_id(const int64_t *ids, size_t nids,
                      const unsigned char *found, int64_t since_ms, char *err,
                      size_t errlen)
{
    for (size_t i = 0; i < nids; i++)
        if (!found[i]) {
            sl_err_set(err, errlen, "no dead letter with id %" PRId64 "%s",
                    ids[i], since_ms >= 0 ? " at or after --since" : "");
            return -1;
        }
    return 0;
}

/* The one rewrite behind replay (to_inbox) and purge: under the store's
 * lock, stream the kept lines to a temporary file (and the selected
 * records to inbox/), then rename. Unreadable lines and a torn tail are
 * kept: this never drops what it does not understand. */
static int rewrite(const char *dir, int64_t since_ms, const int64_t *ids,
                   size_t nids, int to_inbox, size_t *nout, char *inbox_path,
                   size_t pathlen, char *err, size_t errlen)
{
    char dlqdir[DLQ_PATH], path[DLQ_PATH], tmp[DLQ_PATH];
    int fd = -1, out = -1, rc = -1;
    size_t n = 0;
    int64_t max_id = 0;
    unsigned char *found = calloc(nids ? nids : 1, 1);
    sl_dlq_line_reader r;
    sl_buf kb;
    sl_inbox_writer *w = NULL;
    sl_dlq_line_reader_init(&r, -1);
    sl_buf_init(&kb, SL_DLQ_LINE_MAX + (2u << 20));
    *nout = 0;
    if (inbox_path && pathlen)
        inbox_path[0] = '\0';
    if (join(dlqdir, sizeof dlqdir, dir, "dlq") != 0 ||
        join(path, sizeof path, dlqdir, "dead.ndjson") != 0 ||
        join(tmp, sizeof tmp, dlqdir, "dead.ndjson.tmp") != 0) {
        sl_err_set(err, errlen, "%s: path too long", dir);
        goto done;
    }
    if (to_inbox && !(w = sl_inbox_writer_new(dir, sl_time_wall_ms()))) {
        if (errno == ENAMETOOLONG)
            sl_err_set(err, errlen, "%s: path too long", dir);
        else
            sl_err_set(err, errlen, "out of memory");
        goto done;
    }
    if (!found) {
        sl_err_set(err, errlen, "out of memory");
        goto done;
    }
    fd = open_locked(path, O_RDWR, 0, NULL, err, errlen);
    if (fd == -2) { /* no store: nothing to select */
        fd = -1;
        rc = missing_id(ids, nids, found, since_ms, err, errlen);
        goto done;
    }
    if (fd < 0)
        goto done;
    out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (out < 0) {
        sl_err_set(err, errlen, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    r.fd = fd;
    for (;;) {
        const char *p;
        size_t len;
        int k = sl_dlq_line_reader_next(&r, &p, &len);
        if (k < 0) {
            sl_err_set(err, errlen, "%s: %s", path, strerror(errno));
            goto done;
        }
        if (k == 0 && len == 0)
            break;
        sl_dlq_stored e;
        if (k == 1 && sl_dlq_line_parse(p, len, &e) == 0) {
            if (e.id > max_id)
                max_id = e.id;
            if (selected(&e, since_ms, ids, nids, found)) {
                n++;
                if (w && sl_inbox_writer_put(w, e.record, e.record_len)) {
                    sl_err_set(err, errlen, "%s: %s", sl_inbox_writer_dir(w),
                            strerror(errno));
                    goto done;
                }
                continue;
            }
        }
        if (sl_fs_put_line(out, &kb, p, len) != 0) {
            sl_err_set(err, errlen, "%s: %s", tmp, strerror(errno));
            goto done;
        }
        if (k == 0)
            break;
    }
    if (r.toolong) {
        sl_err_set(err, errlen, "%s: %zu line(s) longer than %u MiB; not "
                "rewriting it", path, r.toolong, SL_DLQ_LINE_MAX >> 20);
        goto done;
    }
    if (missing_id(ids, nids, found, since_ms, err, errlen) != 0)
        goto done;
    if (n == 0) {
        rc = 0;
        goto done;
    }
    if (w && sl_inbox_writer_commit(w, inbox_path, pathlen) != 0) {
        sl_err_set(err, errlen, "%s: %s", sl_inbox_writer_dir(w),
                strerror(errno));
        goto done;
    }
    /* The records are now in the inbox. A crash from here until the rename
     * below leaves them in the store as well, so they may be replayed a
     * second time (at least once), but are never lost. */
    int64_t kept = read_next_id(dlqdir);
    if (write_next_id(dlqdir, max_id + 1 > kept ? max_id + 1 : kept, err,
                      errlen) != 0)
        goto done;
    int bad = sl_fs_flush_sync(out, &kb) != 0;
    if (close(out) != 0)
        bad = 1;
    out = -1;
    if (bad || rename(tmp, path) != 0) {
        sl_err_set(err, errlen, "%s: %s", tmp, strerror(errno));
        goto done;
    }
    tmp[0] = '\0';
    if (sl_fs_sync_dir(dlqdir) != 0) {
        sl_err_set(err, errlen, "%s: fsync: %s", dlqdir, strerror(errno));
        goto done;
    }
    *nout = n;
    rc = 0;
done:
    if (out >= 0)
        close(out);
    if (fd >= 0 && tmp[0])
        unlink(tmp); /* ours while we hold the lock */
    if (fd >= 0)
        close(fd); /* drops the lock */
    sl_inbox_writer_free(w);
    sl_dlq_line_reader_free(&r);
    sl_buf_free(&kb);
    free(found);
    return rc;
}

int sl_dlq_replay_dir(const char *dir, int64_t since_ms, const int64_t *ids,
                      size_t nids, size_t *moved, char *inbox_path,
                      size_t pathlen, char *err, size_t errlen)
{
    return rewrite(dir, since_ms, ids, nids, 1, moved, inbox_path, pathlen,
                   err, errlen);
}

int sl_dlq_purge_dir(const char *dir, int64_t since_ms, const int64_t *ids,
                     size_t nids, size_t *deleted, char *err, size_t errlen)
{
    return rewrite(dir, since_ms, ids, nids, 0, deleted, NULL, 0, err,
                   errlen);
}

/* ---- reading back ------------------------------------------------------ */

int sl_dlq_each(const char *dir, int64_t since_ms, const int64_t *ids,
                size_t nids, sl_dlq_each_fn fn, void *ud, size_t *bad,
                char *err, size_t errlen)
{
    char path[DLQ_PATH];
    *bad = 0;
    unsigned char *found = calloc(nids + 1, 1);
    if (!found) {
        sl_err_set(err, errlen, "out of memory");
        return -1;
    }
    if (snprintf(path, sizeof path, "%s/dlq/dead.ndjson", dir) >=
        (int)sizeof path) {
        sl_err_set(err, errlen, "%s: path too long", dir);
        free(found);
        return -1;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int rc = -1;
        if (errno == ENOENT) /* no store: nothing to select */
            rc = missing_id(ids, nids, found, since_ms, err, errlen);
        else
            sl_err_set(err, errlen, "%s: %s", path, strerror(errno));
        free(found);
        return rc;
    }
    sl_dlq_line_reader r;
    sl_dlq_line_reader_init(&r, fd);
    const char *p;
    size_t n;
    int k, stopped = 0;
    while ((k = sl_dlq_line_reader_next(&r, &p, &n)) == 1) {
        sl_dlq_stored e;
        if (sl_dlq_line_parse(p, n, &e) != 0)
            (*bad)++;
        else if (selected(&e, since_ms, ids, nids, found) &&
                 fn(ud, &e, p, n) != 0) {
            stopped = 1;
            break;
        }
    }
    int rc = k < 0 ? -1 : 0;
    if (k < 0)
        sl_err_set(err, errlen, "%s: %s", path, strerror(errno));
    else if (!stopped)
        rc = missing_id(ids, nids, found, since_ms, err, errlen);
    *bad += r.toolong;
    sl_dlq_line_reader_free(&r);
    close(fd);
    free(found);
    return rc;
}

static int count_one(void *ud, const sl_dlq_stored *e, const char *line,
                     size_t n)
{
    (void)e;
    (void)line;
    (void)n;
    (*(size_t *)ud)++;
    return 0;
}

long sl_dlq_count_dir(const char *dir, char *err, size_t errlen)
{
    size_t count = 0, bad;
    if (sl_dlq_each(dir, -1, NULL, 0, count_one, &count, &bad, err,
                    errlen) != 0)
        return -1;
    return (long)count;
}
