/* Unit tests for sl_dlq: the dead-letter file as written (escaping,
 * truncation, torn lines, ids), reading it back (sl_dlq_each), replay into
 * the inbox, purge, and the `sluice dlq` command (sl_dlq_cli) driven
 * through sl_dlq_cli_main with a real config. */
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_dlq.h"
#include "sl_dlq_cli.h"
#include "sl_dlq_line.h"
#include "sl_json.h"
#include "sl_state.h"
#include "sl_test.h"

/* ---- helpers ----------------------------------------------------------- */

static char tmpdir[64];

/* out = a followed by b, checked. */
static void cat2(char *out, size_t n, const char *a, const char *b)
{
    int k = snprintf(out, n, "%s%s", a, b);
    CHECK(k >= 0 && (size_t)k < n);
}

static const char *mktmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sl_test_dlq.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        CHECK(!"mkdtemp");
        return NULL;
    }
    return tmpdir;
}

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

static void rmtree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The whole file as a NUL-terminated string (static, until the next call);
 * NULL when it cannot be read. */
static const char *slurp(const char *path)
{
    static char buf[1 << 16];
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static const char *dead_file(const char *dir)
{
    static char p[256];
    cat2(p, sizeof p, dir, "/dlq/dead.ndjson");
    return p;
}

static size_t count_char(const char *s, char c)
{
    size_t n = 0;
    for (; s && *s; s++)
        n += *s == c;
    return n;
}

static sl_dlq_entry entry(const char *record)
{
    sl_dlq_entry e = {
        .record = record,
        .record_len = strlen(record),
        .status = 400,
        .reason = "HTTP 400 (permanent)",
        .response = "{\"error\":\"bad email\"}",
        .response_len = 21,
        .attempts = 3,
        .first_attempt_ms = 1795687200000, /* 2026-11-26T10:00:00Z */
        .last_attempt_ms = 1795687201234,
        .batch_id = "b-0001",
    };
    return e;
}

static int append1(sl_dlq *d, const char *record)
{
    char err[256] = "";
    sl_dlq_entry e = entry(record);
    int rc = sl_dlq_append(d, &e, 1, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "append: %s\n", err);
    return rc;
}

/* Find a top-level string member of the JSON object in line[0..n) and
 * decode it into out. Asserts the whole line is valid JSON. 0 or -1. */
static int member(const char *line, size_t n, const char *key, sl_buf *out)
{
    sl_json s;
    sl_json_token t;
    int found = -1;
    sl_buf_reset(out);
    sl_json_init(&s, line, n, 0);
    if (sl_json_next(&s, &t) != SL_JSON_OBJECT_BEGIN)
        return -1;
    for (;;) {
        sl_json_type ty = sl_json_next(&s, &t);
        if (ty == SL_JSON_OBJECT_END)
            break;
        if (ty != SL_JSON_KEY)
            return -1;
        int want = t.len == strlen(key) && memcmp(t.p, key, t.len) == 0;
        if (sl_json_next(&s, &t) == SL_JSON_ERROR)
            return -1;
        if (want && t.type == SL_JSON_STRING) {
            sl_json_unescape(t.p, t.len, out);
            found = 0;
        }
        if (sl_json_skip(&s, &t) != 0)
            return -1;
    }
    return sl_json_next(&s, &t) == SL_JSON_END ? found : -1;
}

/* The n-th line (0-based) of s, without its newline, into a static buffer. */
static const char *line_at(const char *s, size_t idx, size_t *len)
{
    static char buf[1 << 16];
    for (size_t i = 0; s && i < idx; i++) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s || !*s)
        return NULL;
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    memcpy(buf, s, n);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- the store --------------------------------------------------------- */

static void test_append_count_reopen(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    if (!dir)
        return;
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 0); /* no store yet */
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    CHECK(sl_dlq_count(d) == 0);
    sl_dlq_entry two[2] = {entry("{\"id\":1}"), entry("{\"id\":2}")};
    two[1].batch_id = NULL;
    two[1].response = NULL;
    two[1].status = 0;
    two[1].first_attempt_ms = 0;
    CHECK(sl_dlq_append(d, two, 2, err, sizeof err) == 0);
    CHECK(sl_dlq_count(d) == 2);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 2);
    sl_dlq_close(d);

    d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && sl_dlq_count(d) == 2);
    CHECK(d && append1(d, "{\"id\":3}") == 0);
    CHECK(d && sl_dlq_count(d) == 3);
    sl_dlq_close(d);

    const char *s = slurp(dead_file(dir));
    CHECK(count_char(s, '\n') == 3);
    size_t n;
    const char *l = line_at(s, 0, &n);
    CHECK_CONTAINS(l, "{\"id\":1,\"time\":\"20");
    CHECK_CONTAINS(l, "\"status\":400,\"reason\":\"HTTP 400 (permanent)\"");
    CHECK_CONTAINS(l, "\"attempts\":3");
    CHECK_CONTAINS(l, "\"first_attempt\":\"2026-11-26T10:00:00.000Z\"");
    CHECK_CONTAINS(l, "\"last_attempt\":\"2026-11-26T10:00:01.234Z\"");
    CHECK_CONTAINS(l, "\"batch_id\":\"b-0001\"");
    CHECK_CONTAINS(l, "\"response\":\"{\\\"error\\\":\\\"bad email\\\"}\"");
    static const char tail[] = ",\"record\":{\"id\":1}}";
    CHECK(l && n > sizeof tail && strcmp(l + n - (sizeof tail - 1), tail) == 0);
    l = line_at(s, 1, &n);
    CHECK_CONTAINS(l, "{\"id\":2,");
    CHECK_CONTAINS(l, "\"status\":0,");
    CHECK_CONTAINS(l, "\"first_attempt\":null");
    CHECK_CONTAINS(l, "\"batch_id\":null,\"response\":\"\"");
    CHECK_CONTAINS(line_at(s, 2, &n), "{\"id\":3,");
    struct stat st;
    CHECK(stat(dead_file(dir), &st) == 0 && (st.st_mode & 0777) == 0640);
out:
    rmtree(dir);
}

static void test_response_truncated(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    char big[3000];
    sl_buf v;
    sl_buf_init(&v, 1 << 20);
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    memset(big, 'a', sizeof big);
    sl_dlq_entry e = entry("{\"id\":1}");
    e.response = big;
    e.response_len = sizeof big;
    CHECK(sl_dlq_append(d, &e, 1, err, sizeof err) == 0);
    /* a two-byte character straddling the limit is dropped whole */
    memcpy(big + 1023, "\xc3\xa9", 2);
    CHECK(sl_dlq_append(d, &e, 1, err, sizeof err) == 0);
    sl_dlq_close(d);

    const char *s = slurp(dead_file(dir));
    size_t n;
    const char *l = line_at(s, 0, &n);
    CHECK(l && member(l, n, "response", &v) == 0 && v.len == 1024);
    l = line_at(s, 1, &n);
    CHECK(l && member(l, n, "response", &v) == 0 && v.len == 1023);
    CHECK(v.len > 0 && v.data[v.len - 1] == 'a');
out:
    sl_buf_free(&v);
    rmtree(dir);
}

static void test_escaping(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    sl_buf v;
    sl_buf_init(&v, 1 << 20);
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    /* controls, quotes, a lone continuation byte, a cut sequence, a UTF-8
     * encoded surrogate, an overlong '/', a byte never valid, then é */
    static const char resp[] = "a\x01\n\"\\\x1b[31m\x80 \xc3( \xed\xa0\x80"
                               " \xc0\xaf \xff \xc3\xa9";
    sl_dlq_entry e = entry("{\"s\":\"x\\ny\"}");
    e.response = resp;
    e.response_len = sizeof resp - 1;
    e.reason = "line1\nline2\t\x7f\xfe end";
    e.batch_id = "id\"\x02";
    CHECK(sl_dlq_append(d, &e, 1, err, sizeof err) == 0);
    sl_dlq_close(d);

    const char *s = slurp(dead_file(dir));
    size_t n;
    const char *l = line_at(s, 0, &n);
    CHECK(l != NULL);
    if (!l)
        goto out;
    for (size_t i = 0; i < n; i++) /* no raw control bytes in the line */
        CHECK((unsigned char)l[i] >= 0x20);
    CHECK_CONTAINS(l, "a\\u0001\\n\\\"\\\\\\u001b[31m");
    CHECK(member(l, n, "response", &v) == 0); /* the line is valid JSON */
    CHECK_STR(sl_buf_cstr(&v),
              "a\x01\n\"\\\x1b[31m\xef\xbf\xbd \xef\xbf\xbd( "
              "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xef\xbf\xbd\xef\xbf\xbd"
              " \xef\xbf\xbd \xc3\xa9");
    CHECK(member(l, n, "reason", &v) == 0);
    CHECK_STR(sl_buf_cstr(&v), "line1\nline2\t\x7f\xef\xbf\xbd end");
    CHECK(member(l, n, "batch_id", &v) == 0);
    CHECK_STR(sl_buf_cstr(&v), "id\"\x02");
    CHECK_CONTAINS(l, ",\"record\":{\"s\":\"x\\ny\"}}");
out:
    sl_buf_free(&v);
    rmtree(dir);
}

static void test_torn_line(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && append1(d, "{\"id\":1}") == 0);
    sl_dlq_close(d);
    /* a crash in the middle of the next append */
    int fd = open(dead_file(dir), O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "{\"id\":2,\"time\":\"20", 18) == 18);
    if (fd >= 0)
        close(fd);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 1);
    d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && sl_dlq_count(d) == 1);
    CHECK(d && append1(d, "{\"id\":3}") == 0);
    sl_dlq_close(d);

    const char *s = slurp(dead_file(dir));
    size_t n;
    CHECK(count_char(s, '\n') == 3);
    CHECK_STR(line_at(s, 1, &n), "{\"id\":2,\"time\":\"20"); /* own line */
    CHECK_CONTAINS(line_at(s, 2, &n), "{\"id\":2,\"time\":\"");
    CHECK_CONTAINS(line_at(s, 2, &n), "\"record\":{\"id\":3}}");
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 2);
    rmtree(dir);
}

static void test_hostile_record(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    sl_dlq_entry e[2] = {entry("{\"id\":1}"), entry("{\"a\":1,\n\"b\":2}")};
    CHECK(sl_dlq_append(d, e, 2, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "dead letter 1: record contains a raw newline");
    e[1] = entry("{\"a\":1}{\"b\":2}");
    CHECK(sl_dlq_append(d, e, 2, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not a JSON object");
    e[1] = entry("[1,2]");
    CHECK(sl_dlq_append(d, e, 2, err, sizeof err) == -1);
    e[1] = entry("");
    CHECK(sl_dlq_append(d, e, 2, err, sizeof err) == -1);
    CHECK(sl_dlq_count(d) == 0);
    CHECK(access(dead_file(dir), F_OK) != 0); /* nothing was written */
    sl_dlq_close(d);
out:
    rmtree(dir);
}

static void test_ids_never_reused(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    size_t n = 0;
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    for (int i = 0; i < 3; i++)
        CHECK(d && append1(d, "{\"x\":1}") == 0);
    sl_dlq_close(d);
    int64_t three = 3;
    CHECK(sl_dlq_purge_dir(dir, -1, &three, 1, &n, err, sizeof err) == 0);
    CHECK(n == 1);
    d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && sl_dlq_count(d) == 2);
    CHECK(d && append1(d, "{\"x\":2}") == 0); /* 4, not 3 */
    sl_dlq_close(d);
    CHECK_CONTAINS(slurp(dead_file(dir)), "{\"id\":4,");
    /* everything gone: the next id still follows the purged ones */
    CHECK(sl_dlq_purge_dir(dir, -1, NULL, 0, &n, err, sizeof err) == 0);
    CHECK(n == 3);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 0);
    CHECK_STR(slurp(dead_file(dir)), "");
    d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && sl_dlq_count(d) == 0);
    CHECK(d && append1(d, "{\"x\":3}") == 0);
    sl_dlq_close(d);
    CHECK_CONTAINS(slurp(dead_file(dir)), "{\"id\":5,");
    /* an id that is not there: an error, nothing deleted */
    int64_t ids[2] = {5, 42};
    CHECK(sl_dlq_purge_dir(dir, -1, ids, 2, &n, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no dead letter with id 42");
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 1);
    rmtree(dir);
}

static void test_replay(void)
{
    const char *dir = mktmp();
    char err[256] = "", inbox[512] = "x";
    size_t n = 9;
    if (!dir)
        return;
    /* no store: nothing to do */
    CHECK(sl_dlq_replay_dir(dir, -1, NULL, 0, &n, inbox, sizeof inbox, err,
                            sizeof err) == 0);
    CHECK(n == 0 && inbox[0] == '\0');
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && append1(d, "{\"n\":1}") == 0);
    CHECK(d && append1(d, "{\"n\":2}") == 0);
    CHECK(d && append1(d, "{\"n\":3,\"s\":\"\\u00e9\"}") == 0);
    /* newer than everything: nothing selected, nothing written */
    CHECK(sl_dlq_replay_dir(dir, INT64_C(4102444800000), NULL, 0, &n, inbox,
                            sizeof inbox, err, sizeof err) == 0);
    CHECK(n == 0);
    int64_t ids[2] = {3, 1};
    CHECK(sl_dlq_replay_dir(dir, 0, ids, 2, &n, inbox, sizeof inbox, err,
                            sizeof err) == 0);
    CHECK(n == 2);
    CHECK_CONTAINS(inbox, "/inbox/replay-");
    CHECK_STR(slurp(inbox), "{\"n\":1}\n{\"n\":3,\"s\":\"\\u00e9\"}\n");
    const char *s = slurp(dead_file(dir));
    CHECK(count_char(s, '\n') == 1);
    CHECK_CONTAINS(s, "{\"id\":2,");
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 1);
    /* the appender still holds ids 1..3 in mind and the file says 2 */
    CHECK(d && append1(d, "{\"n\":4}") == 0);
    sl_dlq_close(d);
    CHECK_CONTAINS(slurp(dead_file(dir)), "{\"id\":4,");
    /* the rest, by default all */
    char inbox2[512];
    CHECK(sl_dlq_replay_dir(dir, -1, NULL, 0, &n, inbox2, sizeof inbox2, err,
                            sizeof err) == 0);
    CHECK(n == 2);
    CHECK(strcmp(inbox, inbox2) != 0);
    CHECK_STR(slurp(inbox2), "{\"n\":2}\n{\"n\":4}\n");
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 0);
    char tmpname[512]; /* no temporary files left behind */
    cat2(tmpname, sizeof tmpname, dir, "/dlq/dead.ndjson.tmp");
    CHECK(access(tmpname, F_OK) != 0);
    rmtree(dir);
}

/* Unreadable complete lines and a torn tail survive a rewrite. */
static void test_rewrite_keeps_unknown(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    size_t n;
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && append1(d, "{\"n\":1}") == 0);
    sl_dlq_close(d);
    int fd = open(dead_file(dir), O_WRONLY | O_APPEND);
    CHECK(fd >= 0 && write(fd, "garbage\n{\"id\":7,\"tor", 20) == 20);
    if (fd >= 0)
        close(fd);
    CHECK(sl_dlq_purge_dir(dir, -1, NULL, 0, &n, err, sizeof err) == 0);
    CHECK(n == 1);
    CHECK_STR(slurp(dead_file(dir)), "garbage\n{\"id\":7,\"tor\n");
    rmtree(dir);
}

/* Records far longer than the reader's chunk survive count and replay;
 * a large replay is split into inbox files of at most 8 MiB. */
static void test_long_records(void)
{
    enum { BIG = 300000, N = 30 };
    const char *dir = mktmp();
    char err[256] = "", inbox[512], path[512];
    size_t n = 0;
    char *rec = malloc(BIG + 16), *got = malloc(16 << 20);
    if (!dir || !rec || !got)
        goto out;
    memcpy(rec, "{\"s\":\"", 6);
    memset(rec + 6, 'x', BIG);
    memcpy(rec + 6 + BIG, "\"}", 3);
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && append1(d, "{\"n\":1}") == 0);
    for (int i = 0; i < N; i++)
        CHECK(d && append1(d, rec) == 0);
    CHECK(d && append1(d, "{\"n\":3}") == 0);
    sl_dlq_close(d);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == N + 2);
    int64_t two = 2;
    CHECK(sl_dlq_replay_dir(dir, -1, &two, 1, &n, inbox, sizeof inbox, err,
                            sizeof err) == 0);
    CHECK(n == 1);
    FILE *f = fopen(inbox, "rb");
    size_t k = f ? fread(got, 1, 16 << 20, f) : 0;
    if (f)
        fclose(f);
    CHECK(k == strlen(rec) + 1 && memcmp(got, rec, k - 1) == 0 &&
          got[k - 1] == '\n');
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == N + 1);
    /* the rest: N - 1 big ones (about 8.7 MB) and two small ones */
    CHECK(sl_dlq_replay_dir(dir, -1, NULL, 0, &n, inbox, sizeof inbox, err,
                            sizeof err) == 0);
    CHECK(n == N + 1);
    CHECK_CONTAINS(inbox, ".0001.ndjson");
    size_t lines = 0, total = 0;
    for (int part = 1; part <= 3; part++) {
        cat2(path, sizeof path, inbox, "");
        path[strlen(path) - 8] = (char)('0' + part); /* .000N.ndjson */
        f = fopen(path, "rb");
        CHECK((f != NULL) == (part <= 2));
        if (!f)
            continue;
        k = fread(got, 1, 16 << 20, f);
        fclose(f);
        CHECK(k <= (8u << 20));
        total += k;
        for (size_t i = 0; i < k; i++)
            lines += got[i] == '\n';
    }
    CHECK(lines == N + 1);
    CHECK(total == (N - 1) * (strlen(rec) + 1) + 2 * 8);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 0);
out:
    free(rec);
    free(got);
    if (dir)
        rmtree(dir);
}

/* Appenders in several processes while another replays again and again:
 * every entry ends up exactly once in the store or an inbox file, with
 * distinct ids (an appender that waited on the lock of a file that a
 * rewrite replaced must not write into the replaced file). */
static void test_concurrent(void)
{
    enum { PROCS = 4, EACH = 40 };
    const char *dir = mktmp();
    char err[256] = "";
    if (!dir)
        return;
    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    sl_dlq_close(d);
    pid_t kids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        kids[p] = fork();
        if (kids[p] == 0) {
            sl_dlq *c = sl_dlq_open(dir, err, sizeof err);
            int bad = !c;
            for (int i = 0; c && i < EACH; i++) {
                char rec[64];
                snprintf(rec, sizeof rec, "{\"p\":%d,\"i\":%d}", p, i);
                bad |= append1(c, rec) != 0;
            }
            sl_dlq_close(c);
            _exit(bad);
        }
    }
    size_t moved_total = 0;
    for (int round = 0; round < 30; round++) {
        size_t n = 0;
        CHECK(sl_dlq_replay_dir(dir, -1, NULL, 0, &n, NULL, 0, err,
                                sizeof err) == 0);
        moved_total += n;
        usleep(2000);
    }
    for (int p = 0; p < PROCS; p++) {
        int st = -1;
        CHECK(kids[p] > 0 && waitpid(kids[p], &st, 0) == kids[p] &&
              WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
    long left = sl_dlq_count_dir(dir, err, sizeof err);
    CHECK(left >= 0 && moved_total + (size_t)left == PROCS * EACH);
    /* ids: distinct across the store and what was replayed, which we can
     * only see in the store now; replay the rest and count inbox lines */
    size_t n = 0;
    CHECK(sl_dlq_replay_dir(dir, -1, NULL, 0, &n, NULL, 0, err,
                            sizeof err) == 0);
    CHECK(n == (size_t)left);
    char cmd[256];
    cat2(cmd, sizeof cmd, "cat ", dir);
    cat2(cmd + strlen(cmd), sizeof cmd - strlen(cmd),
         "/inbox/*.ndjson | sort | uniq | wc -l", "");
    FILE *f = popen(cmd, "r");
    int lines = -1;
    CHECK(f && fscanf(f, "%d", &lines) == 1);
    if (f)
        pclose(f);
    CHECK(lines == PROCS * EACH);
    /* the next id follows every id handed out */
    d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d && append1(d, "{\"last\":1}") == 0);
    sl_dlq_close(d);
    char want[32];
    snprintf(want, sizeof want, "{\"id\":%d,", PROCS * EACH + 1);
    CHECK_CONTAINS(slurp(dead_file(dir)), want);
    rmtree(dir);
}

/* ---- reading back ------------------------------------------------------ */

typedef struct seen {
    int64_t ids[8];
    size_t n;
    int stop_at; /* stop the walk after this many; 0: never */
} seen;

static int see(void *ud, const sl_dlq_stored *e, const char *line, size_t n)
{
    seen *s = ud;
    CHECK(n > 0 && line[0] == '{' && line[n - 1] == '}');
    CHECK(e->record_len == 8 && memcmp(e->record, "{\"n\":", 5) == 0);
    CHECK(e->status == 400 && e->attempts == 3 && e->time_ms > 0);
    CHECK(e->reason.p && e->reason.len == 20 &&
          memcmp(e->reason.p, "HTTP 400 (permanent)", 20) == 0);
    CHECK(e->batch_id.p && e->batch_id.len == 6);
    CHECK(e->first_attempt.p && e->first_attempt.len == 24 &&
          memcmp(e->first_attempt.p, "2026-11-26T10:00:00.000Z", 24) == 0);
    if (s->n < 8)
        s->ids[s->n++] = e->id;
    return s->stop_at && (int)s->n == s->stop_at;
}

static void test_each(void)
{
    const char *dir = mktmp();
    char err[256] = "";
    size_t bad = 9;
    seen s = {.n = 0};
    if (!dir)
        return;
    /* no store yet: no entries; an id selects nothing */
    CHECK(sl_dlq_each(dir, -1, NULL, 0, see, &s, &bad, err, sizeof err) == 0);
    CHECK(s.n == 0 && bad == 0);
    int64_t want2[] = {2};
    CHECK(sl_dlq_each(dir, -1, want2, 1, see, &s, &bad, err, sizeof err) ==
          -1);
    CHECK_STR(err, "no dead letter with id 2");

    sl_dlq *d = sl_dlq_open(dir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    CHECK(append1(d, "{\"n\":11}") == 0);
    CHECK(append1(d, "{\"n\":22}") == 0);
    CHECK(append1(d, "{\"n\":33}") == 0);
    sl_dlq_close(d);
    FILE *f = fopen(dead_file(dir), "a");
    CHECK(f != NULL);
    if (f) {
        fputs("not an entry\n", f);
        fclose(f);
    }

    CHECK(sl_dlq_each(dir, -1, NULL, 0, see, &s, &bad, err, sizeof err) == 0);
    CHECK(s.n == 3 && s.ids[0] == 1 && s.ids[1] == 2 && s.ids[2] == 3);
    CHECK(bad == 1);
    CHECK(sl_dlq_count_dir(dir, err, sizeof err) == 3);

    int64_t pick[] = {3, 1};
    s = (seen){.n = 0};
    CHECK(sl_dlq_each(dir, -1, pick, 2, see, &s, &bad, err, sizeof err) == 0);
    CHECK(s.n == 2 && s.ids[0] == 1 && s.ids[1] == 3);
    int64_t pick_bad[] = {1, 7};
    CHECK(sl_dlq_each(dir, -1, pick_bad, 2, see, &s, &bad, err,
                      sizeof err) == -1);
    CHECK_STR(err, "no dead letter with id 7");
    CHECK(sl_dlq_each(dir, INT64_MAX, pick, 1, see, &s, &bad, err,
                      sizeof err) == -1);
    CHECK_STR(err, "no dead letter with id 3 at or after --since");
    /* a walk that fn stops is not checked for missing ids */
    s = (seen){.n = 0, .stop_at = 1};
    CHECK(sl_dlq_each(dir, -1, pick_bad, 2, see, &s, &bad, err,
                      sizeof err) == 0);
    CHECK(s.n == 1 && s.ids[0] == 1);
    s = (seen){.n = 0};
    CHECK(sl_dlq_each(dir, 0, NULL, 0, see, &s, &bad, err, sizeof err) == 0);
    CHECK(s.n == 3);
out:
    rmtree(dir);
}

/* The URL of the last request: written when known, read back, absent
 * from older lines (which still read), capped. */
static void test_url_member(void)
{
    sl_buf b;
    sl_buf_init(&b, 0);
    sl_dlq_entry e = entry("{\"id\":\"a b\"}");
    e.url = "https://api.example.com/v1/users/a%20b?x=\"q\"";
    CHECK(sl_dlq_line_encode(&b, 7, "2026-12-01T00:00:00.000Z", &e) == 0);
    CHECK_CONTAINS(sl_buf_cstr(&b), "\"batch_id\":\"b-0001\",\"url\":"
                   "\"https://api.example.com/v1/users/a%20b?x=\\\"q\\\"\","
                   "\"response\":");
    sl_dlq_stored st;
    CHECK(sl_dlq_line_parse(b.data, b.len - 1, &st) == 0);
    CHECK(st.url.p != NULL && st.url.len == 46);
    CHECK(st.url.p && memcmp(st.url.p, "https://api.example.com/v1/users/"
                             "a%20b?x=\\\"q\\\"", st.url.len) == 0);
    const char *old = "{\"id\":1,\"time\":\"2026-11-26T10:00:00.000Z\","
                      "\"status\":400,\"reason\":\"x\",\"batch_id\":\"b\","
                      "\"record\":{\"id\":1}}";
    CHECK(sl_dlq_line_parse(old, strlen(old), &st) == 0);
    CHECK(st.url.p == NULL && st.id == 1);
    sl_buf_reset(&b);
    e.url = NULL;
    CHECK(sl_dlq_line_encode(&b, 8, "2026-12-01T00:00:00.000Z", &e) == 0);
    CHECK(strstr(sl_buf_cstr(&b), "\"url\"") == NULL);
    static char huge[SL_DLQ_ENTRY_URL_MAX + 100];
    memset(huge, 'u', sizeof huge - 1);
    e.url = huge;
    sl_buf_reset(&b);
    CHECK(sl_dlq_line_encode(&b, 9, "2026-12-01T00:00:00.000Z", &e) == 0);
    CHECK(sl_dlq_line_parse(b.data, b.len - 1, &st) == 0);
    CHECK(st.url.len == SL_DLQ_ENTRY_URL_MAX);
    sl_buf_free(&b);
}

/* The store's times are parsed by sl_time (tests/unit/test_time.c). */
static void test_utf8_len(void)
{
    size_t bad = 0;
    CHECK(sl_json_utf8_len((const unsigned char *)"a", 1, &bad) == 1);
    CHECK(sl_json_utf8_len((const unsigned char *)"\xC3\xA9", 2, &bad) == 2);
    CHECK(sl_json_utf8_len((const unsigned char *)"\xE2\x82", 2, &bad) == 0 &&
          bad == 2);
    CHECK(sl_json_utf8_len((const unsigned char *)"\xFF", 1, &bad) == 0 &&
          bad == 1);
}

/* ---- the command ------------------------------------------------------- */

static char out_text[1 << 16], err_text[1 << 16];

/* Run `sluice dlq ARGS...` with stdout and stderr captured. */
static int run_cli(const char *dir, int argc, const char **args)
{
    char po[256], pe[256];
    char *argv[16];
    cat2(po, sizeof po, dir, "/out.txt");
    cat2(pe, sizeof pe, dir, "/err.txt");
    for (int i = 0; i < argc && i < 15; i++)
        argv[i] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    int so = dup(1), se = dup(2);
    int fo = open(po, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int fe = open(pe, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fo, 1);
    dup2(fe, 2);
    int rc = sl_dlq_cli_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(so, 1);
    dup2(se, 2);
    close(so);
    close(se);
    close(fo);
    close(fe);
    cat2(out_text, sizeof out_text, slurp(po) ? slurp(po) : "", "");
    cat2(err_text, sizeof err_text, slurp(pe) ? slurp(pe) : "", "");
    unlink(po);
    unlink(pe);
    return rc;
}

static void test_cli(void)
{
    const char *root = mktmp();
    char err[256] = "", gw[256], conn[256], cdir[256];
    if (!root)
        return;
    cat2(gw, sizeof gw, root, "/sluice.lua");
    cat2(conn, sizeof conn, root, "/orders.lua");
    FILE *f = fopen(gw, "w");
    CHECK(f != NULL);
    if (!f)
        goto out;
    fprintf(f, "return { state_dir = \"var\", connectors = { "
            "\"orders.lua\" } }\n");
    fclose(f);
    f = fopen(conn, "w");
    CHECK(f != NULL);
    if (!f)
        goto out;
    fprintf(f, "return { name = \"orders\", url = \"http://127.0.0.1:9/x\","
            " schema = { { name = \"id\", type = \"integer\" } } }\n");
    fclose(f);

    const char *list[] = {"list", "orders", "-c", gw};
    CHECK(run_cli(root, 4, list) == 0); /* no state directory at all */
    CHECK_STR(out_text, "no dead letters for orders\n");

    char var[256];
    cat2(var, sizeof var, root, "/var");
    CHECK(sl_state_dir(var, "orders", 1, cdir, sizeof cdir, err,
                       sizeof err) == 0);
    sl_dlq *d = sl_dlq_open(cdir, err, sizeof err);
    CHECK(d != NULL);
    if (!d)
        goto out;
    sl_dlq_entry e[2] = {entry("{\"id\":1}"), entry("{\"id\":2}")};
    e[1].reason = "retry time (max_elapsed_s = 60) ran out; last: "
                  "connection refused \x1b]0;pwned\x07";
    e[1].status = 0;
    e[0].url = "https://api.example.com/v1/u/%2F%20x?y=1";
    e[1].response = "line one\nline two\x1b[2J";
    e[1].response_len = strlen(e[1].response);
    CHECK(sl_dlq_append(d, e, 2, err, sizeof err) == 0);
    sl_dlq_close(d);

    CHECK(run_cli(root, 4, list) == 0);
    CHECK_CONTAINS(out_text, "    ID  TIME                      STATUS  "
                             "ATTEMPTS  REASON                          URL"
                             "                                   RECORD\n");
    CHECK_CONTAINS(out_text, "     1  20");
    CHECK_CONTAINS(out_text, "     400         3  HTTP 400 (permanent)"
                             "            https://api.example.com/v1/u/%2F%...  "
                             "{\"id\":1}\n");
    CHECK_CONTAINS(out_text, "       -         3  retry time (max_elapsed_s "
                             "=...  -                                     "
                             "{\"id\":2}\n");
    CHECK_CONTAINS(out_text, "\n2 dead letter(s)\n");
    CHECK(strchr(out_text, '\x1b') == NULL);

    const char *json[] = {"list", "--json", "orders", "-c", gw};
    CHECK(run_cli(root, 5, json) == 0);
    CHECK_STR(out_text, slurp(dead_file(cdir)));

    const char *show[] = {"show", "orders", "2", "-c", gw};
    CHECK(run_cli(root, 5, show) == 0);
    CHECK_CONTAINS(out_text, "id             2\n");
    CHECK_CONTAINS(out_text, "status         0 (no HTTP answer)\n");
    CHECK(strstr(out_text, "url ") == NULL); /* none: no line */
    CHECK_CONTAINS(out_text, "reason         retry time (max_elapsed_s = 60)"
                             " ran out; last: connection refused "
                             "\\u001b]0;pwned\\u0007\n");
    CHECK_CONTAINS(out_text, "record (8 bytes)\n  {\"id\":2}\n");
    CHECK_CONTAINS(out_text, "response (21 bytes)\n  line one\n"
                             "  line two\\u001b[2J\n");
    CHECK(strchr(out_text, '\x1b') == NULL);

    const char *show1[] = {"show", "orders", "1", "-c", gw};
    CHECK(run_cli(root, 5, show1) == 0);
    CHECK_CONTAINS(out_text, "batch_id       b-0001\n"
                             "url            https://api.example.com/v1/u/"
                             "%2F%20x?y=1\nreason         HTTP 400");

    const char *show_bad[] = {"show", "orders", "9", "-c", gw};
    CHECK(run_cli(root, 5, show_bad) == 1);
    CHECK_CONTAINS(err_text, "no dead letter with id 9");

    const char *purge[] = {"purge", "orders", "--id", "2", "-c", gw};
    CHECK(run_cli(root, 6, purge) == 1);
    CHECK_CONTAINS(out_text, "1 dead letter(s) would be deleted; add --yes");
    CHECK(sl_dlq_count_dir(cdir, err, sizeof err) == 2);
    const char *purge_bad[] = {"purge", "orders", "--id", "7", "-c", gw};
    CHECK(run_cli(root, 6, purge_bad) == 1);
    CHECK_CONTAINS(err_text, "no dead letter with id 7");
    const char *purge_yes[] = {"purge", "orders", "--id", "2", "--yes",
                               "-c", gw};
    CHECK(run_cli(root, 7, purge_yes) == 0);
    CHECK_STR(out_text, "deleted 1 dead letter(s) of orders\n");
    CHECK(sl_dlq_count_dir(cdir, err, sizeof err) == 1);

    const char *replay[] = {"replay", "orders", "--since",
                            "2020-01-01T00:00:00Z", "-c", gw};
    CHECK(run_cli(root, 6, replay) == 0);
    CHECK_STR(out_text, "replayed 1 record(s) into the spool inbox of "
                        "orders; a running gateway takes them within a "
                        "second, otherwise at its next start\n");
    CHECK(sl_dlq_count_dir(cdir, err, sizeof err) == 0);
    CHECK(run_cli(root, 4, list) == 0);
    CHECK_STR(out_text, "no dead letters for orders\n");

    /* usage errors: exit 2 with a message */
    const char *unknown_conn[] = {"list", "nosuch", "-c", gw};
    CHECK(run_cli(root, 4, unknown_conn) == 2);
    CHECK_CONTAINS(err_text, "no connector \"nosuch\" in");
    CHECK_CONTAINS(err_text, "known: orders\n");
    const char *unknown_sub[] = {"lsit", "orders"};
    CHECK(run_cli(root, 2, unknown_sub) == 2);
    CHECK_CONTAINS(err_text, "unknown command \"lsit\"");
    const char *bad_opt[] = {"list", "orders", "--yes", "-c", gw};
    CHECK(run_cli(root, 5, bad_opt) == 2);
    CHECK_CONTAINS(err_text, "sluice dlq list: unknown option \"--yes\"");
    const char *bad_since[] = {"replay", "orders", "--since", "yesterday"};
    CHECK(run_cli(root, 4, bad_since) == 2);
    CHECK_CONTAINS(err_text, "--since wants RFC 3339");
    const char *bad_date[] = {"replay", "orders", "--since",
                              "2026-02-30T00:00:00Z"};
    CHECK(run_cli(root, 4, bad_date) == 2);
    const char *bad_id[] = {"show", "orders", "x1"};
    CHECK(run_cli(root, 3, bad_id) == 2);
    const char *no_conn[] = {"replay"};
    CHECK(run_cli(root, 1, no_conn) == 2);
    CHECK_CONTAINS(err_text, "which connector?");
out:
    rmtree(root);
}

int main(void)
{
    static const sl_test_case cases[] = {
        {"append_count_reopen", test_append_count_reopen},
        {"response_truncated", test_response_truncated},
        {"escaping", test_escaping},
        {"torn_line", test_torn_line},
        {"hostile_record", test_hostile_record},
        {"ids_never_reused", test_ids_never_reused},
        {"replay", test_replay},
        {"rewrite_keeps_unknown", test_rewrite_keeps_unknown},
        {"long_records", test_long_records},
        {"concurrent", test_concurrent},
        {"each", test_each},
        {"url_member", test_url_member},
        {"utf8_len", test_utf8_len},
        {"cli", test_cli},
        {NULL, NULL},
    };
    return sl_test_run(cases);
}
