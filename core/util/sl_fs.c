/* sl_fs: whole-file reads with a cap, full writes and reads, mkdir -p,
 * directory fsync and buffered lines. */
#include "sl_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define READ_FIRST 16384u      /* first buffer when the size is unknown */
#define LINE_FLUSH (1u << 20)  /* sl_fs_put_line writes past this */

/* Grow *buf (holding *cap bytes plus a NUL) towards twice, at most to
 * max + 1 bytes so that one byte past max shows the file is too big. */
static int grow(char **buf, size_t *cap, size_t max)
{
    size_t want = *cap ? *cap * 2 : READ_FIRST;
    if (want < *cap || want > max + 1)
        want = max + 1;
    char *nb = realloc(*buf, want + 1);
    if (!nb)
        return -1;
    *buf = nb;
    *cap = want;
    return 0;
}

/* Read fd to its end into a new buffer of at most max bytes. */
static sl_fs_rc read_fd(int fd, size_t max, char **out, size_t *len)
{
    struct stat st;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    sl_fs_rc rc = SL_FS_OK;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        if ((uint64_t)st.st_size > max) {
            errno = EFBIG;
            return SL_FS_TOOBIG;
        }
        cap = (size_t)st.st_size + 1; /* the last read sees the end */
        if (!(buf = malloc(cap + 1)))
            goto nomem;
    }
    for (;;) {
        if (n == cap) {
            if (n > max) {
                errno = EFBIG;
                rc = SL_FS_TOOBIG;
                goto fail;
            }
            if (grow(&buf, &cap, max) != 0)
                goto nomem;
        }
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = SL_FS_READ;
            goto fail;
        }
        if (k == 0)
            break;
        n += (size_t)k;
    }
    if (n > max) {
        errno = EFBIG;
        rc = SL_FS_TOOBIG;
        goto fail;
    }
    if (!buf && !(buf = malloc(1)))
        goto nomem;
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return SL_FS_OK;
nomem:
    errno = ENOMEM;
    rc = SL_FS_NOMEM;
fail:
    free(buf);
    return rc;
}

sl_fs_rc sl_fs_read_file(const char *path, size_t max, char **out,
                         size_t *len)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SL_FS_OPEN;
    sl_fs_rc rc = read_fd(fd, max, out, len);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int sl_fs_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* no progress: never loop forever */
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int sl_fs_writev_all(int fd, struct iovec *iov, int n)
{
    for (;;) {
        while (n > 0 && iov->iov_len == 0) {
            iov++;
            n--;
        }
        if (n == 0)
            return 0;
        ssize_t w = writev(fd, iov, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* no progress: never loop forever */
            errno = EIO;
            return -1;
        }
        for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
            w -= (ssize_t)iov->iov_len;
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + w;
            iov->iov_len -= (size_t)w;
        }
    }
}

int sl_fs_pwrite_all(int fd, const void *p, size_t n, off_t off)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = pwrite(fd, c, n, off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        if (w == 0) { /* no progress: never loop forever */
            errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
        off += w;
    }
    return 0;
}

int sl_fs_pread_all(int fd, void *p, size_t n, off_t off, size_t *got)
{
    char *c = p;
    *got = 0;
    while (n > 0) {
        ssize_t r = pread(fd, c, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        c += r;
        n -= (size_t)r;
        off += r;
        *got += (size_t)r;
    }
    return 0;
}

/* mkdir one directory; an existing directory is fine, anything else that
 * exists there is ENOTDIR. */
static int mkdir_one(const char *path, mode_t mode)
{
    if (mkdir(path, mode) == 0)
        return 0;
    if (errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0; /* a directory, or a dangling link the next step reports */
}

int sl_fs_mkdir_p(const char *path, mode_t mode, char *failed,
                  size_t failedlen)
{
    char tmp[PATH_MAX];
    if (failed && failedlen)
        snprintf(failed, failedlen, "%s", path);
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir_one(tmp, mode) != 0) {
            int e = errno;
            if (failed && failedlen)
                snprintf(failed, failedlen, "%s", tmp);
            errno = e;
            return -1;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

int sl_fs_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int sl_fs_mkdir_synced(const char *parent, const char *dir)
{
    if (mkdir(dir, 0750) == 0)
        return sl_fs_sync_dir(parent);
    return errno == EEXIST ? 0 : -1;
}

int sl_fs_put_line(int fd, sl_buf *b, const char *p, size_t n)
{
    size_t was = b->len;
    if (sl_buf_append(b, p, n) != 0 || sl_buf_putc(b, '\n') != 0) {
        sl_buf_truncate(b, was);
        errno = ENOMEM;
        return -1;
    }
    if (b->len < LINE_FLUSH)
        return 0;
    int rc = sl_fs_write_all(fd, b->data, b->len);
    sl_buf_reset(b);
    return rc;
}

int sl_fs_flush_sync(int fd, sl_buf *b)
{
    int rc = sl_fs_write_all(fd, b->data, b->len);
    sl_buf_reset(b);
    return rc != 0 || fsync(fd) != 0 ? -1 : 0;
}
