/* sl_fs: the file helpers every store writes with: a whole file read with
 * a cap, writes and reads that go on after EINTR and short counts, mkdir -p,
 * a directory made durable, and a buffered line writer. errno carries the
 * detail: callers word their own messages. */
#ifndef SL_FS_H
#define SL_FS_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "sl_buf.h"

typedef enum sl_fs_rc {
    SL_FS_OK = 0,
    SL_FS_OPEN,   /* open failed (errno) */
    SL_FS_READ,   /* read failed (errno) */
    SL_FS_TOOBIG, /* more than `max` bytes (errno EFBIG) */
    SL_FS_NOMEM   /* (errno ENOMEM) */
} sl_fs_rc;

/* Read the whole file at `path` (any kind that read() reads to its end:
 * a regular file, a pipe) if it holds at most `max` bytes. On SL_FS_OK,
 * *out is a new NUL-terminated buffer of *len bytes that the caller frees;
 * otherwise *out is NULL, *len unchanged, errno says why. */
sl_fs_rc sl_fs_read_file(const char *path, size_t max, char **out,
                         size_t *len);

/* write() all n bytes at fd's position, going on after EINTR and short
 * writes. 0, or -1 with errno (what was written before stays written). */
int sl_fs_write_all(int fd, const void *p, size_t n);

/* writev() all of the n buffers of iov, as sl_fs_write_all; iov is used
 * up on the way (its bases and lengths change). 0, or -1 with errno. */
int sl_fs_writev_all(int fd, struct iovec *iov, int n);

/* pwrite() all n bytes at off, as sl_fs_write_all. 0, or -1 with errno. */
int sl_fs_pwrite_all(int fd, const void *p, size_t n, off_t off);

/* pread() n bytes at off, going on after EINTR and short reads; *got is
 * what was read (less than n only at the end of the file). 0, or -1 with
 * errno. */
int sl_fs_pread_all(int fd, void *p, size_t n, off_t off, size_t *got);

/* mkdir -p: make `path` and every missing parent with `mode`; existing
 * directories are fine. 0, or -1 with errno and, when failed is not NULL,
 * the prefix of path that could not be made in failed (ENOTDIR: it exists
 * and is not a directory). Directories made before a failure stay. */
int sl_fs_mkdir_p(const char *path, mode_t mode, char *failed,
                  size_t failedlen);

/* mkdir `dir` (mode 0750) inside `parent`, an existing directory being
 * fine; a new one is made durable by an fsync of parent. 0, or -1 with
 * errno. */
int sl_fs_mkdir_synced(const char *parent, const char *dir);

/* fsync the directory at `dir`, so that a rename, create or unlink in it
 * survives a crash. 0, or -1 with errno. */
int sl_fs_sync_dir(const char *dir);

/* Buffered line output to fd: append the n bytes at p and a '\n' to b,
 * and write b out (emptying it) once it holds 1 MiB. 0, or -1 with errno:
 * ENOMEM when b's cap (or memory) refuses the line (b is then as it was),
 * or the write's error. */
int sl_fs_put_line(int fd, sl_buf *b, const char *p, size_t n);

/* Write out what b holds (emptying it), then fsync fd. 0, or -1 with
 * errno. */
int sl_fs_flush_sync(int fd, sl_buf *b);

#endif
