/* sl_inbox: the replay files of <dir>/inbox/ (format in sl_inbox.h):
 * written in parts under temporary names, taken in name order, counted. */
#include "sl_inbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_fs.h"
#include "sl_log.h"

#define SUFFIX ".ndjson"
#define SUFFIX_LEN 7

/* Is `name` a waiting file? (see sl_inbox.h) */
static bool waiting(const char *name)
{
    size_t l = strlen(name);
    return name[0] != '.' && l > SUFFIX_LEN &&
           strcmp(name + l - SUFFIX_LEN, SUFFIX) == 0;
}

/* <dir>/inbox into out. 0, or -1 when it does not fit. */
static int inbox_dir(const char *dir, char *out, size_t n)
{
    int k = snprintf(out, n, "%s/inbox", dir);
    return k < 0 || (size_t)k >= n ? -1 : 0;
}

/* ---- writing a replay ------------------------------------------------ */

struct sl_inbox_writer {
    char parent[PATH_MAX];  /* the connector directory */
    char dir[PATH_MAX];     /* its inbox/ */
    char stem[64];          /* replay-<unix ms>-<pid> */
    unsigned parts;         /* temporary files made so far */
    int fd;                 /* the part being written, or -1 */
    size_t bytes;           /* in that part */
    sl_buf b;               /* its unwritten bytes */
};

static int part_path(const sl_inbox_writer *w, unsigned k, int tmp,
                     char *out, size_t n);

/* replay-<ms>-<pid>, with the first millisecond from now_ms on that names
 * no file yet: two replays by one process within a millisecond must not
 * share a name, or the second would rename itself over the first. */
static void pick_stem(sl_inbox_writer *w, int64_t now_ms)
{
    for (int64_t ms = now_ms;; ms++) {
        snprintf(w->stem, sizeof w->stem, "replay-%" PRId64 "-%ld", ms,
                 (long)getpid());
        char one[PATH_MAX + 96], first[PATH_MAX + 96];
        w->parts = 1;
        int a = part_path(w, 1, 0, one, sizeof one);
        w->parts = 2;
        int b = part_path(w, 1, 0, first, sizeof first);
        w->parts = 0;
        if (a != 0 || b != 0 ||
            (access(one, F_OK) != 0 && access(first, F_OK) != 0))
            return;
    }
}

sl_inbox_writer *sl_inbox_writer_new(const char *dir, int64_t now_ms)
{
    sl_inbox_writer *w = calloc(1, sizeof *w);
    if (!w) {
        errno = ENOMEM;
        return NULL;
    }
    if (snprintf(w->parent, sizeof w->parent, "%s", dir) >=
            (int)sizeof w->parent ||
        inbox_dir(dir, w->dir, sizeof w->dir) != 0) {
        free(w);
        errno = ENAMETOOLONG;
        return NULL;
    }
    w->fd = -1;
    /* a record is at most what a gateway reads at once; the buffer holds
     * less than 1 MiB besides it (sl_fs_put_line) */
    sl_buf_init(&w->b, SL_INBOX_FILE_MAX + (2u << 20));
    pick_stem(w, now_ms);
    return w;
}

const char *sl_inbox_writer_dir(const sl_inbox_writer *w) { return w->dir; }

/* The path of part k: its temporary name, or its final one (which depends
 * on how many parts there are). 0, or -1 with errno. */
static int part_path(const sl_inbox_writer *w, unsigned k, int tmp,
                     char *out, size_t n)
{
    int rc = tmp ? snprintf(out, n, "%s/.%s.%u.tmp", w->dir, w->stem, k)
             : w->parts == 1
                 ? snprintf(out, n, "%s/%s" SUFFIX, w->dir, w->stem)
                 : snprintf(out, n, "%s/%s.%04u" SUFFIX, w->dir, w->stem, k);
    if (rc < 0 || (size_t)rc >= n) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

/* Write out and fsync the part being written, and close it. */
static int close_part(sl_inbox_writer *w)
{
    if (w->fd < 0)
        return 0;
    int bad = sl_fs_flush_sync(w->fd, &w->b) != 0;
    if (close(w->fd) != 0)
        bad = 1;
    w->fd = -1;
    return bad ? -1 : 0;
}

/* The next part under its temporary name (the inbox made first). */
static int open_part(sl_inbox_writer *w)
{
    char p[PATH_MAX + 96];
    if ((w->parts == 0 && sl_fs_mkdir_synced(w->parent, w->dir) != 0) ||
        part_path(w, w->parts + 1, 1, p, sizeof p) != 0)
        return -1;
    w->fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (w->fd < 0)
        return -1;
    w->parts++;
    w->bytes = 0;
    return 0;
}

int sl_inbox_writer_put(sl_inbox_writer *w, const char *rec, size_t n)
{
    if (w->fd >= 0 && w->bytes > 0 && w->bytes + n + 1 > SL_INBOX_PART_BYTES &&
        close_part(w) != 0)
        return -1;
    if (w->fd < 0 && open_part(w) != 0)
        return -1;
    w->bytes += n + 1;
    return sl_fs_put_line(w->fd, &w->b, rec, n);
}

int sl_inbox_writer_commit(sl_inbox_writer *w, char *first, size_t firstlen)
{
    if (first && firstlen)
        first[0] = '\0';
    if (close_part(w) != 0)
        return -1;
    for (unsigned k = 1; k <= w->parts; k++) {
        char t[PATH_MAX + 96], f[PATH_MAX + 96];
        if (part_path(w, k, 1, t, sizeof t) != 0 ||
            part_path(w, k, 0, f, sizeof f) != 0 || rename(t, f) != 0)
            return -1;
        if (k == 1 && first && firstlen)
            snprintf(first, firstlen, "%s", f);
    }
    return w->parts ? sl_fs_sync_dir(w->dir) : 0;
}

void sl_inbox_writer_free(sl_inbox_writer *w)
{
    if (!w)
        return;
    char t[PATH_MAX + 96];
    if (w->fd >= 0)
        close(w->fd);
    for (unsigned k = 1; k <= w->parts; k++)
        if (part_path(w, k, 1, t, sizeof t) == 0)
            unlink(t); /* renamed ones are gone under this name */
    sl_buf_free(&w->b);
    free(w);
}

/* ---- taking the waiting files ---------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The waiting names in `inbox`, sorted, in a new array of new strings
 * (NULL when none, or on a failure to list: then there is nothing to
 * take now). Out of memory part way keeps the names found so far. */
static char **list_waiting(const char *inbox, size_t *n)
{
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    DIR *d = opendir(inbox);
    if (!d)
        return NULL;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!waiting(e->d_name))
            continue;
        if (*n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            char **nn = realloc(names, nc * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            cap = nc;
        }
        if (!(names[*n] = strdup(e->d_name)))
            break;
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(names, *n, sizeof *names, cmp_str);
    return names;
}

void sl_inbox_take(const char *dir, const char *name, sl_inbox_take_fn fn,
                   void *ud)
{
    char inbox[PATH_MAX + 16];
    size_t n;
    if (inbox_dir(dir, inbox, sizeof inbox) != 0)
        return;
    char **names = list_waiting(inbox, &n);
    for (size_t i = 0; i < n; i++) {
        char path[2 * PATH_MAX], *data;
        size_t len;
        snprintf(path, sizeof path, "%s/%s", inbox, names[i]);
        if (sl_fs_read_file(path, SL_INBOX_FILE_MAX, &data, &len) !=
            SL_FS_OK) {
            sl_log_error("inbox", "%s: cannot read %s: %s", name, path,
                         errno == EFBIG ? "too large" : strerror(errno));
            continue;
        }
        sl_inbox_verdict v = fn(ud, path, data, len);
        free(data);
        if (v == SL_INBOX_LATER)
            break; /* no room: next time */
        if (v == SL_INBOX_TAKEN)
            unlink(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

void sl_inbox_keep_rejected(const char *path, const char *name,
                            const char *lines, size_t len, size_t nrec)
{
    char kept[2 * PATH_MAX + 32];
    snprintf(kept, sizeof kept, "%s.rejected", path);
    int fd = open(kept, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0 || sl_fs_write_all(fd, lines, len) != 0 || fdatasync(fd) != 0)
        sl_log_error("inbox", "%s: cannot write %s: %s", name, kept,
                     strerror(errno));
    else
        sl_log_warn("inbox", "%s: %zu replayed records no longer pass the "
                    "schema; they are kept in %s", name, nrec, kept);
    if (fd >= 0)
        close(fd);
}

/* ---- counting -------------------------------------------------------- */

/* Count the records of the file open as fd into *records and *bytes. */
static int count_fd(int fd, uint64_t *records, uint64_t *bytes)
{
    char buf[65536];
    bool in_line = false;
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        for (ssize_t i = 0; i < r; i++) {
            if (buf[i] == '\n') {
                *records += in_line;
                in_line = false;
            } else {
                in_line = true;
                (*bytes)++;
            }
        }
    }
    *records += in_line; /* a last line without '\n' */
    return 0;
}

int sl_inbox_count(const char *dir, uint64_t *records, uint64_t *bytes,
                   char *err, size_t errlen)
{
    char path[PATH_MAX];
    *records = *bytes = 0;
    if (inbox_dir(dir, path, sizeof path) != 0) {
        snprintf(err, errlen, "path %s/inbox is too long", dir);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (!waiting(e->d_name))
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
            continue; /* taken by a gateway meanwhile */
        if (fd < 0) {
            snprintf(err, errlen, "cannot open %s/%s: %s", path, e->d_name,
                     strerror(errno));
            rc = -1;
        } else if (count_fd(fd, records, bytes) != 0) {
            snprintf(err, errlen, "cannot read %s/%s: %s", path, e->d_name,
                     strerror(errno));
            rc = -1;
        }
        if (fd >= 0)
            close(fd);
    }
    closedir(d);
    return rc;
}
