/* Unit tests for sl_fs: whole-file reads at, below and past the cap (and
 * of a pipe, a directory, a missing file), full writes through a pipe
 * that takes a few bytes at a time, pread/pwrite at offsets and at the end
 * of a file, mkdir -p over existing, new and blocked paths, the durable
 * mkdir and the buffered line writer. Asserts on the bytes on disk. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_fs.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[64]; /* this run's temporary directory */

static const char *at(const char *name)
{
    static char path[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", base, name);
    return path[k];
}

static size_t file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t)st.st_size : (size_t)-1;
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- read_file --------------------------------------------------------- */

static void test_read_file(void)
{
    char *p = (char *)1;
    size_t len = 77;
    /* exactly at the cap, one below, one past */
    char text[1000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (char)('a' + i % 26);
    sl_test_put_file(at("exact"), text, sizeof text);
    CHECK(sl_fs_read_file(at("exact"), sizeof text, &p, &len) == SL_FS_OK);
    CHECK(p && len == sizeof text && memcmp(p, text, len) == 0);
    CHECK(p && p[len] == '\0');
    free(p);
    CHECK(sl_fs_read_file(at("exact"), sizeof text + 1, &p, &len) ==
          SL_FS_OK);
    CHECK(len == sizeof text);
    free(p);
    len = 77;
    errno = 0;
    CHECK(sl_fs_read_file(at("exact"), sizeof text - 1, &p, &len) ==
          SL_FS_TOOBIG);
    CHECK(p == NULL && len == 77 && errno == EFBIG);

    /* empty */
    sl_test_put_file(at("empty"), "", 0);
    CHECK(sl_fs_read_file(at("empty"), 10, &p, &len) == SL_FS_OK);
    CHECK(p && len == 0 && p[0] == '\0');
    free(p);
    CHECK(sl_fs_read_file(at("empty"), 0, &p, &len) == SL_FS_OK);
    free(p);

    /* NUL bytes are data */
    sl_test_put_file(at("nul"), "a\0b\0", 4);
    CHECK(sl_fs_read_file(at("nul"), 4, &p, &len) == SL_FS_OK);
    CHECK(len == 4 && memcmp(p, "a\0b\0", 4) == 0);
    free(p);

    /* missing, a directory */
    len = 5;
    CHECK(sl_fs_read_file(at("missing"), 10, &p, &len) == SL_FS_OPEN);
    CHECK(errno == ENOENT && p == NULL && len == 5);
    CHECK(sl_fs_read_file(base, 10, &p, &len) == SL_FS_READ);
    CHECK(errno == EISDIR && p == NULL);

    /* larger than the first buffer of an unknown size (a pipe) */
    int fds[2];
    CHECK(pipe(fds) == 0);
    static char big[100000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        (void)sl_fs_write_all(fds[1], big, sizeof big);
        _exit(0);
    }
    close(fds[1]);
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
    CHECK(sl_fs_read_file(dev, sizeof big, &p, &len) == SL_FS_OK);
    CHECK(p && len == sizeof big && memcmp(p, big, len) == 0);
    free(p);
    close(fds[0]);
    while (wait(NULL) > 0)
        ;

    /* a pipe past the cap */
    CHECK(pipe(fds) == 0);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        (void)sl_fs_write_all(fds[1], big, sizeof big);
        _exit(0);
    }
    close(fds[1]);
    snprintf(dev, sizeof dev, "/dev/fd/%d", fds[0]);
    CHECK(sl_fs_read_file(dev, sizeof big - 1, &p, &len) == SL_FS_TOOBIG);
    CHECK(p == NULL);
    close(fds[0]);
    while (wait(NULL) > 0)
        ;
}

/* ---- writes and reads -------------------------------------------------- */

typedef struct drain_arg {
    int fd;
    char *got;
    size_t n;
} drain_arg;

/* Read the pipe a few bytes at a time (SIGALRM blocked here, so that it
 * interrupts the writer). */
static void *drain(void *arg)
{
    drain_arg *d = arg;
    for (;;) {
        ssize_t k = read(d->fd, d->got + d->n, 3);
        if (k <= 0)
            break;
        d->n += (size_t)k;
    }
    return NULL;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
}

static void test_write_all(void)
{
    /* a file: exact bytes */
    int fd = open(at("w"), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    CHECK(fd >= 0);
    CHECK(sl_fs_write_all(fd, "hello ", 6) == 0);
    CHECK(sl_fs_write_all(fd, "", 0) == 0);
    CHECK(sl_fs_write_all(fd, "world\n", 6) == 0);
    close(fd);
    char *p;
    size_t len;
    CHECK(sl_fs_read_file(at("w"), 100, &p, &len) == SL_FS_OK);
    CHECK_STR(p, "hello world\n");
    free(p);

    /* a small pipe read slowly while a timer interrupts the writer (no
     * SA_RESTART): writes come back short or with EINTR; all of it
     * arrives, in order */
    int fds[2];
    CHECK(pipe(fds) == 0);
    CHECK(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 0);
    static char big[300000], back[300000];
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 13 + 1);
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm; /* no SA_RESTART */
    CHECK(sigaction(SIGALRM, &sa, &old) == 0);
    sigset_t alrm, prev;
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alrm, &prev);
    drain_arg d = {fds[0], back, 0};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, drain, &d) == 0);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    struct itimerval it = {{0, 200}, {0, 200}};
    alarms = 0;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(sl_fs_write_all(fds[1], big, sizeof big) == 0);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    close(fds[1]);
    pthread_join(th, NULL);
    close(fds[0]);
    CHECK(d.n == sizeof big && memcmp(back, big, sizeof big) == 0);
    CHECK(alarms > 0);

    /* the same with writev: 300 pieces, some empty, through a slow pipe
     * under the timer */
    CHECK(pipe(fds) == 0);
    CHECK(fcntl(fds[1], F_SETPIPE_SZ, 4096) >= 0);
    struct iovec iov[300];
    for (int i = 0; i < 300; i++) {
        iov[i].iov_base = big + i * 1000;
        iov[i].iov_len = i % 7 == 3 ? 0 : 1000;
    }
    memset(back, 0, sizeof back);
    sigaction(SIGALRM, &sa, &old);
    pthread_sigmask(SIG_BLOCK, &alrm, &prev);
    d.fd = fds[0];
    d.n = 0;
    CHECK(pthread_create(&th, NULL, drain, &d) == 0);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    alarms = 0;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(sl_fs_writev_all(fds[1], iov, 300) == 0);
    setitimer(ITIMER_REAL, &off, NULL);
    sigaction(SIGALRM, &old, NULL);
    close(fds[1]);
    pthread_join(th, NULL);
    close(fds[0]);
    size_t want = 0;
    int same = 1;
    for (int i = 0; i < 300; i++) {
        if (i % 7 == 3)
            continue;
        same &= memcmp(back + want, big + i * 1000, 1000) == 0;
        want += 1000;
    }
    CHECK(d.n == want && same);
    struct iovec none[2] = {{big, 0}, {big, 0}};
    CHECK(sl_fs_writev_all(fds[1], none, 2) == 0); /* nothing to write */
    CHECK(sl_fs_writev_all(fds[1], iov, 1) == -1 && errno == EBADF);

    /* a closed descriptor: -1 with errno */
    errno = 0;
    CHECK(sl_fs_write_all(fds[1], "x", 1) == -1 && errno == EBADF);
}

static void test_pread_pwrite(void)
{
    int fd = open(at("pw"), O_RDWR | O_CREAT | O_TRUNC, 0640);
    CHECK(fd >= 0);
    CHECK(sl_fs_pwrite_all(fd, "ABCD", 4, 10) == 0); /* a hole before */
    CHECK(sl_fs_pwrite_all(fd, "xy", 2, 2) == 0);
    CHECK(file_size(at("pw")) == 14);
    char b[32];
    size_t got = 99;
    CHECK(sl_fs_pread_all(fd, b, 14, 0, &got) == 0 && got == 14);
    CHECK(memcmp(b, "\0\0xy\0\0\0\0\0\0ABCD", 14) == 0);
    /* past the end: short, not an error */
    CHECK(sl_fs_pread_all(fd, b, 10, 8, &got) == 0 && got == 6);
    CHECK(memcmp(b, "\0\0ABCD", 6) == 0);
    CHECK(sl_fs_pread_all(fd, b, 10, 100, &got) == 0 && got == 0);
    /* the file position did not move */
    CHECK(lseek(fd, 0, SEEK_CUR) == 0);
    close(fd);
    CHECK(sl_fs_pread_all(fd, b, 1, 0, &got) == -1 && errno == EBADF);
    CHECK(sl_fs_pwrite_all(fd, b, 1, 0) == -1 && errno == EBADF);
}

/* ---- directories ------------------------------------------------------- */

static void test_mkdir_p(void)
{
    char failed[256] = "";
    CHECK(sl_fs_mkdir_p(at("a/b/c"), 0750, failed, sizeof failed) == 0);
    CHECK(is_dir(at("a")) && is_dir(at("a/b")) && is_dir(at("a/b/c")));
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(at("a/b"), &st) == 0 && (st.st_mode & 0777) == (0750 & ~mask));
    /* again, and with a trailing slash: fine */
    CHECK(sl_fs_mkdir_p(at("a/b/c"), 0750, NULL, 0) == 0);
    CHECK(sl_fs_mkdir_p(at("a/b/c/"), 0750, NULL, 0) == 0);
    CHECK(sl_fs_mkdir_p("/", 0750, NULL, 0) == 0);

    /* a file in the way: ENOTDIR naming the file, nothing made under it */
    sl_test_put_file(at("a/plain"), "x", 1);
    CHECK(sl_fs_mkdir_p(at("a/plain/d/e"), 0750, failed, sizeof failed) ==
          -1);
    CHECK(errno == ENOTDIR);
    CHECK_STR(failed, at("a/plain"));
    CHECK(sl_fs_mkdir_p(at("a/plain"), 0750, failed, sizeof failed) == -1);
    CHECK(errno == ENOTDIR);

    /* a directory it may not write: EACCES naming the first it could not
     * make (root may write anywhere: skip) */
    if (geteuid() != 0) {
        CHECK(sl_fs_mkdir_p(at("ro"), 0500, NULL, 0) == 0);
        CHECK(sl_fs_mkdir_p(at("ro/x/y"), 0750, failed, sizeof failed) ==
              -1);
        CHECK(errno == EACCES);
        CHECK_STR(failed, at("ro/x"));
        chmod(at("ro"), 0700);
    }

    /* too long */
    static char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    longp[0] = '/';
    CHECK(sl_fs_mkdir_p(longp, 0750, NULL, 0) == -1 && errno == ENAMETOOLONG);
}

static void test_mkdir_synced_and_sync_dir(void)
{
    CHECK(sl_fs_mkdir_synced(base, at("s")) == 0);
    CHECK(is_dir(at("s")));
    CHECK(sl_fs_mkdir_synced(base, at("s")) == 0); /* exists: fine */
    CHECK(sl_fs_mkdir_synced(base, at("nope/s")) == -1 && errno == ENOENT);
    CHECK(sl_fs_sync_dir(at("s")) == 0);
    CHECK(sl_fs_sync_dir(at("missing")) == -1 && errno == ENOENT);
    sl_test_put_file(at("f"), "x", 1);
    CHECK(sl_fs_sync_dir(at("f")) == -1 && errno == ENOTDIR);
}

/* ---- lines ------------------------------------------------------------- */

static void test_lines(void)
{
    int fd = open(at("lines"), O_WRONLY | O_CREAT | O_TRUNC, 0640);
    CHECK(fd >= 0);
    sl_buf b;
    sl_buf_init(&b, 4u << 20);
    CHECK(sl_fs_put_line(fd, &b, "one", 3) == 0);
    CHECK(sl_fs_put_line(fd, &b, "", 0) == 0);
    CHECK(sl_fs_put_line(fd, &b, "three", 5) == 0);
    CHECK(file_size(at("lines")) == 0); /* buffered */
    CHECK(b.len == 11);
    CHECK(sl_fs_flush_sync(fd, &b) == 0);
    CHECK(b.len == 0);
    char *p;
    size_t len;
    CHECK(sl_fs_read_file(at("lines"), 100, &p, &len) == SL_FS_OK);
    CHECK_STR(p, "one\n\nthree\n");
    free(p);

    /* past 1 MiB the buffer goes out without a flush */
    static char chunk[100000];
    memset(chunk, 'z', sizeof chunk);
    size_t lines = 0;
    while (file_size(at("lines")) == 11) {
        CHECK(sl_fs_put_line(fd, &b, chunk, sizeof chunk) == 0);
        lines++;
        if (lines > 20)
            break;
    }
    CHECK(lines == 11); /* 11 x 100001 bytes pass 1 MiB */
    CHECK(b.len == 0);
    CHECK(file_size(at("lines")) == 11 + 11 * 100001);

    /* the buffer's cap: -1, nothing written */
    sl_buf small;
    sl_buf_init(&small, 8);
    CHECK(sl_fs_put_line(fd, &small, "123456789", 9) == -1);
    CHECK(small.len == 0);
    sl_buf_free(&small);
    close(fd);

    /* a write error shows at the flush */
    CHECK(sl_fs_put_line(fd, &b, "x", 1) == 0);
    CHECK(sl_fs_flush_sync(fd, &b) == -1 && errno == EBADF);
    sl_buf_free(&b);
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/sl_fs_test_XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"read_file", test_read_file},
        {"write_all", test_write_all},
        {"pread_pwrite", test_pread_pwrite},
        {"mkdir_p", test_mkdir_p},
        {"mkdir_synced_and_sync_dir", test_mkdir_synced_and_sync_dir},
        {"lines", test_lines},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
