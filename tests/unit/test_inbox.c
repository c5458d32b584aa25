/* Unit tests for sl_inbox: the replay writer (exact file names and bytes,
 * parts past 8 MiB, temporary names removed without a commit, nothing
 * written for no record), taking the waiting files (name order, which
 * names wait, taken / later / failed, files too large or unreadable, no
 * inbox), the .rejected file, and the count `sluice reset` makes (lines
 * without a final newline, empty lines, hostile names and contents). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_fs.h"
#include "sl_inbox.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[64]; /* this run's temporary directory */

/* A fresh connector directory base/<name> (without an inbox). */
static const char *fresh(const char *name)
{
    static char dir[256];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    sl_test_rm_rf(dir);
    CHECK(mkdir(dir, 0750) == 0);
    return dir;
}

static const char *path_in(const char *dir, const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/inbox/%s", dir, name);
    return p[k];
}

static void put_waiting(const char *dir, const char *name, const char *text)
{
    char inbox[300];
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    mkdir(inbox, 0750);
    sl_test_put_file(path_in(dir, name), text, strlen(text));
}

static int exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* The names in <dir>/inbox, sorted, joined with ' ' (static). */
static const char *listing(const char *dir)
{
    static char out[4096];
    char inbox[300], *names[64];
    size_t n = 0;
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    out[0] = '\0';
    DIR *d = opendir(inbox);
    if (!d)
        return "(none)";
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            names[n++] = strdup(e->d_name);
    closedir(d);
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (strcmp(names[j], names[i]) < 0) {
                char *t = names[i];
                names[i] = names[j];
                names[j] = t;
            }
    for (size_t i = 0; i < n; i++) {
        strncat(out, i ? " " : "", sizeof out - strlen(out) - 1);
        strncat(out, names[i], sizeof out - strlen(out) - 1);
        free(names[i]);
    }
    return out;
}

static char *slurp(const char *path, size_t *len)
{
    char *p = NULL;
    size_t n = 0;
    if (sl_fs_read_file(path, 64u << 20, &p, &n) != SL_FS_OK)
        return NULL;
    if (len)
        *len = n;
    return p;
}

/* stderr into a file while f runs; what was logged (static). */
static const char *logged(void (*f)(void))
{
    static char out[8192];
    char path[128];
    snprintf(path, sizeof path, "%s/log", base);
    fflush(stderr);
    int saved = dup(2);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    dup2(fd, 2);
    close(fd);
    f();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    size_t n = 0;
    char *p = slurp(path, &n);
    snprintf(out, sizeof out, "%s", p ? p : "");
    free(p);
    return out;
}

/* ---- the writer ------------------------------------------------------ */

static void test_writer_one_file(void)
{
    const char *dir = fresh("w1");
    sl_inbox_writer *w = sl_inbox_writer_new(dir, INT64_C(1700000000123));
    CHECK(w != NULL);
    if (!w)
        return;
    CHECK(!exists(path_in(dir, ""))); /* nothing before the first record */
    CHECK(sl_inbox_writer_put(w, "{\"a\":1}", 7) == 0);
    CHECK(sl_inbox_writer_put(w, "{\"b\":\"\\u00e9\"}", 14) == 0);
    /* before the commit: only a temporary name, which is not waiting */
    char tmp[128];
    snprintf(tmp, sizeof tmp, ".replay-1700000000123-%ld.1.tmp",
             (long)getpid());
    CHECK_STR(listing(dir), tmp);
    uint64_t rec = 9, by = 9;
    char err[256] = "";
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 0 && by == 0);
    char first[512] = "x";
    CHECK(sl_inbox_writer_commit(w, first, sizeof first) == 0);
    char want[128];
    snprintf(want, sizeof want, "replay-1700000000123-%ld.ndjson",
             (long)getpid());
    CHECK_STR(listing(dir), want);
    CHECK_STR(first, path_in(dir, want));
    char inbox[300];
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    CHECK_STR(sl_inbox_writer_dir(w), inbox);
    sl_inbox_writer_free(w);
    size_t n;
    char *p = slurp(first, &n);
    CHECK_STR(p, "{\"a\":1}\n{\"b\":\"\\u00e9\"}\n");
    free(p);
    struct stat st;
    mode_t mask = umask(0);
    umask(mask);
    CHECK(stat(first, &st) == 0 && (st.st_mode & 0777) == (0640 & ~mask));
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 2 && by == 7 + 14);
}

static void test_writer_parts(void)
{
    const char *dir = fresh("w2");
    sl_inbox_writer *w = sl_inbox_writer_new(dir, 5);
    CHECK(w != NULL);
    if (!w)
        return;
    /* 20 MiB of 100 KiB records: three parts of at most 8 MiB */
    static char rec[100 * 1024];
    size_t nrec = (20u << 20) / sizeof rec;
    for (size_t i = 0; i < nrec; i++) {
        memset(rec, 'a' + (int)(i % 26), sizeof rec);
        CHECK(sl_inbox_writer_put(w, rec, sizeof rec) == 0);
    }
    char first[512];
    CHECK(sl_inbox_writer_commit(w, first, sizeof first) == 0);
    sl_inbox_writer_free(w);
    char want[256];
    long pid = (long)getpid();
    snprintf(want, sizeof want,
             "replay-5-%ld.0001.ndjson replay-5-%ld.0002.ndjson "
             "replay-5-%ld.0003.ndjson", pid, pid, pid);
    CHECK_STR(listing(dir), want);
    CHECK_CONTAINS(first, ".0001.ndjson");
    /* in order, none over 8 MiB, each line whole */
    size_t seen = 0;
    for (int k = 1; k <= 3; k++) {
        char name[64];
        snprintf(name, sizeof name, "replay-5-%ld.%04d.ndjson", pid, k);
        size_t n = 0;
        char *p = slurp(path_in(dir, name), &n);
        CHECK(p != NULL && n <= SL_INBOX_PART_BYTES);
        CHECK(n % (sizeof rec + 1) == 0);
        for (size_t at = 0; p && at < n; at += sizeof rec + 1, seen++) {
            CHECK(p[at] == 'a' + (int)(seen % 26));
            CHECK(p[at + sizeof rec] == '\n');
        }
        free(p);
    }
    CHECK(seen == nrec);
    uint64_t records, bytes;
    char err[256];
    CHECK(sl_inbox_count(dir, &records, &bytes, err, sizeof err) == 0);
    CHECK(records == nrec && bytes == nrec * sizeof rec);
}

static void test_writer_without_commit(void)
{
    const char *dir = fresh("w3");
    sl_inbox_writer *w = sl_inbox_writer_new(dir, 7);
    static char rec[1u << 20];
    memset(rec, 'z', sizeof rec);
    for (int i = 0; i < 10; i++) /* two temporary parts */
        CHECK(sl_inbox_writer_put(w, rec, sizeof rec) == 0);
    sl_inbox_writer_free(w);
    CHECK_STR(listing(dir), ""); /* the inbox stays, empty */

    /* no record: no file, no inbox */
    dir = fresh("w4");
    w = sl_inbox_writer_new(dir, 7);
    char first[64] = "x";
    CHECK(sl_inbox_writer_commit(w, first, sizeof first) == 0);
    CHECK_STR(first, "");
    sl_inbox_writer_free(w);
    CHECK_STR(listing(dir), "(none)");
    sl_inbox_writer_free(NULL);

    /* a connector directory that is not there: put fails with errno */
    w = sl_inbox_writer_new("/nonexistent/sluice/c", 7);
    CHECK(w != NULL);
    errno = 0;
    CHECK(sl_inbox_writer_put(w, "{}", 2) == -1 && errno == ENOENT);
    sl_inbox_writer_free(w);

    /* a path too long */
    static char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    errno = 0;
    CHECK(sl_inbox_writer_new(longp, 7) == NULL && errno == ENAMETOOLONG);
}

/* ---- taking ---------------------------------------------------------- */

typedef struct taker {
    char names[16][64];
    char data[16][64];
    size_t lens[16];
    size_t n;
    const char *later;          /* LATER for the file ending so */
    const char *failed;         /* FAILED for the file ending so */
} taker;

static int ends(const char *s, const char *end)
{
    size_t a = strlen(s), b = strlen(end);
    return end[0] && a >= b && strcmp(s + a - b, end) == 0;
}

static sl_inbox_verdict take_fn(void *ud, const char *path, const char *data,
                                size_t len)
{
    taker *t = ud;
    CHECK(data[len] == '\0');
    if (t->n < 16) {
        const char *slash = strrchr(path, '/');
        snprintf(t->names[t->n], sizeof t->names[t->n], "%s", slash + 1);
        memcpy(t->data[t->n], data, len < 63 ? len : 63);
        t->lens[t->n] = len;
        t->n++;
    }
    CHECK(exists(path)); /* deleted only after the verdict */
    if (t->later && ends(path, t->later))
        return SL_INBOX_LATER;
    if (t->failed && ends(path, t->failed))
        return SL_INBOX_FAILED;
    return SL_INBOX_TAKEN;
}

static void test_take_order_and_names(void)
{
    const char *dir = fresh("t1");
    put_waiting(dir, "b.ndjson", "{\"b\":1}\n");
    put_waiting(dir, "a.ndjson", "{\"a\":1}\n{\"a\":2}");
    put_waiting(dir, "c.ndjson", "");
    put_waiting(dir, ".hidden.ndjson", "{}\n");       /* starts with . */
    put_waiting(dir, ".ndjson", "{}\n");
    put_waiting(dir, "x.ndjson.rejected", "{}\n");    /* kept for people */
    put_waiting(dir, ".replay-1-2.1.tmp", "{}\n");    /* being written */
    put_waiting(dir, "ndjson", "{}\n");
    put_waiting(dir, "notes.txt", "{}\n");
    put_waiting(dir, "A.NDJSON", "{}\n");             /* case matters */
    taker t;
    memset(&t, 0, sizeof t);
    sl_inbox_take(dir, "c1", take_fn, &t);
    CHECK(t.n == 3);
    CHECK_STR(t.names[0], "a.ndjson");
    CHECK_STR(t.names[1], "b.ndjson");
    CHECK_STR(t.names[2], "c.ndjson");
    CHECK(t.lens[0] == 15 &&
          memcmp(t.data[0], "{\"a\":1}\n{\"a\":2}", 15) == 0);
    CHECK(t.lens[2] == 0);
    CHECK_STR(listing(dir), ".hidden.ndjson .ndjson .replay-1-2.1.tmp "
              "A.NDJSON ndjson notes.txt x.ndjson.rejected");
    uint64_t rec, by;
    char err[256];
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 0 && by == 0); /* what waits is what would be taken */
}

static void test_take_later_and_failed(void)
{
    const char *dir = fresh("t2");
    put_waiting(dir, "1.ndjson", "{\"n\":1}\n");
    put_waiting(dir, "2.ndjson", "{\"n\":2}\n");
    put_waiting(dir, "3.ndjson", "{\"n\":3}\n");
    put_waiting(dir, "4.ndjson", "{\"n\":4}\n");
    taker t;
    memset(&t, 0, sizeof t);
    t.failed = "/2.ndjson";
    t.later = "/3.ndjson";
    sl_inbox_take(dir, "c2", take_fn, &t);
    CHECK(t.n == 3); /* 4 is not offered after 3 said later */
    CHECK_STR(listing(dir), "2.ndjson 3.ndjson 4.ndjson");
    /* next time: all of them */
    memset(&t, 0, sizeof t);
    sl_inbox_take(dir, "c2", take_fn, &t);
    CHECK(t.n == 3);
    CHECK_STR(t.names[0], "2.ndjson");
    CHECK_STR(listing(dir), "");
}

static const char *g_dir;
static taker g_t;
static void take_g(void)
{
    memset(&g_t, 0, sizeof g_t);
    sl_inbox_take(g_dir, "c3", take_fn, &g_t);
}

static void test_take_unreadable(void)
{
    const char *dir = fresh("t3");
    put_waiting(dir, "a.ndjson", "{\"a\":1}\n");
    /* larger than a gateway reads at once (sparse: no disk used) */
    int fd = open(path_in(dir, "b.ndjson"), O_WRONLY | O_CREAT, 0640);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)SL_INBOX_FILE_MAX + 1) == 0);
    close(fd);
    /* a directory with a waiting name */
    CHECK(mkdir(path_in(dir, "c.ndjson"), 0750) == 0);
    put_waiting(dir, "d.ndjson", "{\"d\":1}\n");
    g_dir = dir;
    const char *log = logged(take_g);
    CHECK(g_t.n == 2);
    CHECK_STR(g_t.names[0], "a.ndjson");
    CHECK_STR(g_t.names[1], "d.ndjson");
    CHECK_CONTAINS(log, "c3: cannot read ");
    CHECK_CONTAINS(log, "b.ndjson: too large");
    CHECK_CONTAINS(log, "c.ndjson: Is a directory");
    CHECK_STR(listing(dir), "b.ndjson c.ndjson");

    /* the count refuses what it cannot read */
    uint64_t rec, by;
    char err[512] = "";
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot read ");
    CHECK_CONTAINS(err, "c.ndjson: Is a directory");

    /* no inbox at all: nothing offered, nothing counted */
    dir = fresh("t4");
    memset(&g_t, 0, sizeof g_t);
    sl_inbox_take(dir, "c4", take_fn, &g_t);
    CHECK(g_t.n == 0);
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 0 && by == 0);
    /* an inbox that is a file: nothing to take, and the count says so */
    char inbox[300];
    snprintf(inbox, sizeof inbox, "%s/inbox", dir);
    sl_test_put_file(inbox, "", 0);
    sl_inbox_take(dir, "c4", take_fn, &g_t);
    CHECK(g_t.n == 0);
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "Not a directory");
}

static void test_keep_rejected(void)
{
    const char *dir = fresh("r1");
    put_waiting(dir, "a.ndjson", "x\n");
    const char *p = path_in(dir, "a.ndjson");
    sl_inbox_keep_rejected(p, "c5", "{\"bad\":1}\n", 10, 1);
    sl_inbox_keep_rejected(p, "c5", "{\"bad\":2}\n{\"bad\":3}\n", 20, 2);
    char kept[600];
    snprintf(kept, sizeof kept, "%s.rejected", p);
    char *text = slurp(kept, NULL);
    CHECK_STR(text, "{\"bad\":1}\n{\"bad\":2}\n{\"bad\":3}\n");
    free(text);
    /* kept for people: not waiting, not counted */
    uint64_t rec, by;
    char err[256];
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 1 && by == 1);
}

/* ---- counting hostile contents --------------------------------------- */

static void test_count_contents(void)
{
    const char *dir = fresh("n1");
    put_waiting(dir, "a.ndjson", "a\n\nbb\nccc"); /* no final newline */
    put_waiting(dir, "b.ndjson", "\n\n\n");       /* only empty lines */
    static const char bin[] = {'{', 0, '}', '\n', '\r', '\n', (char)0xff};
    sl_test_put_file(path_in(dir, "c.ndjson"), bin, sizeof bin);
    uint64_t rec = 0, by = 0;
    char err[256] = "";
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    /* a: 3 records, 6 bytes; b: none; c: "{\0}", "\r", "\xff": 3, 5 */
    CHECK(rec == 3 + 3);
    CHECK(by == 6 + 5);

    /* a long line across read chunks */
    static char big[200000];
    memset(big, 'q', sizeof big);
    big[sizeof big - 1] = '\n';
    dir = fresh("n2");
    put_waiting(dir, "x.ndjson", "");
    sl_test_put_file(path_in(dir, "x.ndjson"), big, sizeof big);
    CHECK(sl_inbox_count(dir, &rec, &by, err, sizeof err) == 0);
    CHECK(rec == 1 && by == sizeof big - 1);

    /* the path too long */
    static char longp[5000];
    memset(longp, 'a', sizeof longp - 1);
    static char lerr[6000];
    CHECK(sl_inbox_count(longp, &rec, &by, lerr, sizeof lerr) == -1);
    CHECK_CONTAINS(lerr, "/inbox is too long");
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/sl_inbox_test_XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"writer_one_file", test_writer_one_file},
        {"writer_parts", test_writer_parts},
        {"writer_without_commit", test_writer_without_commit},
        {"take_order_and_names", test_take_order_and_names},
        {"take_later_and_failed", test_take_later_and_failed},
        {"take_unreadable", test_take_unreadable},
        {"keep_rejected", test_keep_rejected},
        {"count_contents", test_count_contents},
        {NULL, NULL},
    };
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
