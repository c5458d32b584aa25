/* Unit tests for sl_pidfile: taken (our pid written, the directory made),
 * refused while held by another process, stale after that process died
 * without removing it, missing after a release; hostile contents. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_pidfile.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[128];

static void put(const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", base, SL_PIDFILE_NAME);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_take_release(void)
{
    char err[512], state[256], path[300], text[32];
    long pid;
    snprintf(state, sizeof state, "%s/made/by/take", base);
    CHECK(sl_pidfile_holder(state, &pid, err, sizeof err) == SL_PIDFILE_MISSING);
    int fd = sl_pidfile_take(state, err, sizeof err);
    CHECK(fd >= 0);
    snprintf(path, sizeof path, "%s/%s", state, SL_PIDFILE_NAME);
    FILE *f = fopen(path, "r");
    CHECK(f && fgets(text, sizeof text, f));
    if (f)
        fclose(f);
    char want[32];
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    CHECK_STR(text, want);
    /* our own lock is per open file: a second take fails as another
     * gateway's would */
    CHECK(sl_pidfile_take(state, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "served by another sluice");
    sl_pidfile_release(state, fd);
    CHECK(access(path, F_OK) != 0);
    CHECK(sl_pidfile_holder(state, &pid, err, sizeof err) == SL_PIDFILE_MISSING);
    sl_pidfile_release(state, -1); /* nothing */
}

static void test_held_by_another_process(void)
{
    int ready[2], go[2];
    char err[512], c;
    CHECK(pipe(ready) == 0 && pipe(go) == 0);
    pid_t child = fork();
    if (child == 0) {
        int fd = sl_pidfile_take(base, err, sizeof err);
        c = fd >= 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(3);
        _exit(0); /* dies holding it, the file left behind */
    }
    CHECK(read(ready[0], &c, 1) == 1 && c == 'y');
    long pid = 0;
    CHECK(sl_pidfile_holder(base, &pid, err, sizeof err) == SL_PIDFILE_HELD);
    CHECK(pid == (long)child);
    CHECK(sl_pidfile_take(base, err, sizeof err) == -1);
    char want[64];
    snprintf(want, sizeof want, "(pid %ld,", (long)child);
    CHECK_CONTAINS(err, want);
    CHECK(write(go[1], "x", 1) == 1);
    int st;
    CHECK(waitpid(child, &st, 0) == child);
    CHECK(sl_pidfile_holder(base, &pid, err, sizeof err) == SL_PIDFILE_STALE);
    CHECK(pid == (long)child);
    /* a stale file is taken over */
    int fd = sl_pidfile_take(base, err, sizeof err);
    CHECK(fd >= 0);
    CHECK(sl_pidfile_holder(base, &pid, err, sizeof err) == SL_PIDFILE_HELD);
    sl_pidfile_release(base, fd);
    close(ready[0]);
    close(ready[1]);
    close(go[0]);
    close(go[1]);
}

static void test_hostile_contents(void)
{
    static const char *texts[] = {"", "abc\n", "-5\n", "12x\n",
                                  "99999999999999999999999\n", "\n\n\n"};
    char err[512];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        long pid = 1;
        put(texts[i]);
        /* nobody holds it: stale, and no pid believed */
        CHECK(sl_pidfile_holder(base, &pid, err, sizeof err) == SL_PIDFILE_STALE);
        CHECK(pid == 0);
    }
}

static void test_unusable_directory(void)
{
    char err[512], path[256];
    snprintf(path, sizeof path, "%s/file", base);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK(sl_pidfile_take(path, err, sizeof err) == -1); /* not a directory */
    CHECK_CONTAINS(err, "cannot");
    char deep[5000];
    memset(deep, 'a', sizeof deep - 1);
    deep[sizeof deep - 1] = '\0';
    long pid;
    CHECK(sl_pidfile_holder(deep, &pid, err, sizeof err) == SL_PIDFILE_ERROR);
    CHECK(strncmp(err, "path ", 5) == 0); /* "path ... is too long" */
}

int main(void)
{
    sl_test_dir_fresh(base, sizeof base, "pidfile");
    static const sl_test_case cases[] = {
        {"take_release", test_take_release},
        {"held_by_another_process", test_held_by_another_process},
        {"hostile_contents", test_hostile_contents},
        {"unusable_directory", test_unusable_directory},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
