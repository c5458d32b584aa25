/* sl_test_dir: files and directories for the unit tests that work on disk
 * (the store's modules): remove a tree, write a file whole. Header only,
 * like sl_test.h, whose CHECK it uses. */
#ifndef SL_TEST_DIR_H
#define SL_TEST_DIR_H

#include <ftw.h>
#include <stdio.h>
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
