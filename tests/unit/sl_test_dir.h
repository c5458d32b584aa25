/* sl_test_dir: files and directories for the unit tests that work on disk
 * (the store's modules, the TLS files): remove a tree, a fresh directory
 * of the test's own, a path in it, write a file whole. Header only, like
 * sl_test.h, whose CHECK it uses. */
#ifndef SL_TEST_DIR_H
#define SL_TEST_DIR_H

#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_test.h"

static int sl_test_rm_one(const char *path, const struct stat *st, int type,
                          struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* Remove path and everything below it (as rm -rf; a missing path is
 * fine). Says so on stderr when something could not be removed. */
static inline void sl_test_rm_rf(const char *path)
{
    if (access(path, F_OK) != 0)
        return;
    if (nftw(path, sl_test_rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", path);
}

/* A fresh directory for this test process, "/tmp/sluice-test-NAME-PID",
 * into dir (n bytes): whatever was there removed, then made (CHECKed). */
static inline void sl_test_dir_fresh(char *dir, size_t n, const char *name)
{
    snprintf(dir, n, "/tmp/sluice-test-%s-%ld", name, (long)getpid());
    sl_test_rm_rf(dir);
    CHECK(mkdir(dir, 0700) == 0);
}

/* "dir/name", in one of 8 static buffers used in turn (so that a call
 * may take several). */
static inline const char *sl_test_path_in(const char *dir, const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

/* Write the n bytes at p as the whole file at path (CHECKed). */
static inline void sl_test_put_file(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

#endif
