/* Unit tests for sl_state: the connector directory, the connector lock
 * (also against another process), the schema lock file (its exact text,
 * every kind of difference, every kind of corruption, its presence and
 * removal) and the per-connector check of `sluice check`/`run`. `sluice
 * reset` is tests/unit/test_reset.c. */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sl_state.h"
#include "sl_test.h"
#include "sl_test_dir.h"

static char base[64]; /* this run's temporary directory */

/* A fresh directory base/<name>/ (made with sl_state_dir). */
static const char *fresh_dir(const char *name)
{
    static char dir[256];
    char err[512];
    snprintf(dir, sizeof dir, "%s/%s", base, name);
    sl_test_rm_rf(dir);
    CHECK(sl_state_dir(base, name, 1, dir, sizeof dir, err, sizeof err) == 0);
    return dir;
}

static void write_file(const char *dir, const char *name, const char *text,
                       size_t n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK(fwrite(text, 1, n, f) == n);
    fclose(f);
}

/* The whole file (static; valid until the next call), or NULL. */
static const char *read_file(const char *dir, const char *name)
{
    static char buf[8192];
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &st) == 0;
}

/* Schemas from a compact spec: "id:integer, email:string?, ..." where a
 * trailing ? means nullable; a leading "drop;" sets the policy. */
static sl_schema *schema(const char *spec)
{
    sl_unknown_policy pol = SL_UNKNOWN_REJECT;
    if (strncmp(spec, "drop;", 5) == 0) {
        pol = SL_UNKNOWN_DROP;
        spec += 5;
    }
    sl_schema *s = sl_schema_new(pol);
    char copy[1024], err[128];
    snprintf(copy, sizeof copy, "%s", spec);
    for (char *tok = strtok(copy, ","); tok; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        char *colon = strrchr(tok, ':');
        size_t tl = strlen(colon + 1);
        bool nullable = colon[tl] == '?';
        if (nullable)
            colon[tl] = '\0';
        *colon = '\0';
        int type = sl_schema_type_from_name(colon + 1);
        CHECK(type >= 0);
        CHECK(sl_schema_add(s, tok, (sl_schema_type)type, nullable, err,
                            sizeof err) == 0);
    }
    return s;
}

/* ---- the directory ------------------------------------------------------ */

static void test_dir(void)
{
    char dir[256], err[512], top[128];
    snprintf(top, sizeof top, "%s/var/state/", base); /* trailing slash */
    CHECK(sl_state_dir(top, "orders", 0, dir, sizeof dir, err,
                       sizeof err) == 0);
    char want[256];
    snprintf(want, sizeof want, "%s/var/state/orders", base);
    CHECK_STR(dir, want);
    struct stat st;
    CHECK(stat(dir, &st) != 0); /* not created without `create` */

    CHECK(sl_state_dir(top, "orders", 1, dir, sizeof dir, err,
                       sizeof err) == 0);
    CHECK(stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
    mode_t mask = umask(0);
    umask(mask);
    CHECK((st.st_mode & 0777) == (0750 & ~mask));
    /* again: it exists, fine */
    CHECK(sl_state_dir(top, "orders", 1, dir, sizeof dir, err,
                       sizeof err) == 0);

    /* a file where a directory should be */
    write_file(base, "plain", "x", 1);
    char plain[128];
    snprintf(plain, sizeof plain, "%s/plain", base);
    CHECK(sl_state_dir(plain, "c", 1, dir, sizeof dir, err, sizeof err) ==
          -1);
    CHECK_CONTAINS(err, plain);
    CHECK_CONTAINS(err, "cannot create directory");

    /* names that would leave state_dir */
    CHECK(sl_state_dir(base, "..", 1, dir, sizeof dir, err, sizeof err) ==
          -1);
    CHECK(sl_state_dir(base, "a/b", 1, dir, sizeof dir, err, sizeof err) ==
          -1);

    /* too long for the buffer */
    char small[8];
    CHECK(sl_state_dir(base, "orders", 0, small, sizeof small, err,
                       sizeof err) == -1);
    CHECK_CONTAINS(err, "too long");
}

/* ---- the connector lock -------------------------------------------------- */

static void test_lock(void)
{
    const char *dir = fresh_dir("lock");
    char err[512];
    long pid = -1;
    CHECK(sl_state_locked(dir, &pid) == 0); /* no lock file yet */
    CHECK(pid == 0);

    int fd = sl_state_lock(dir, err, sizeof err);
    CHECK(fd >= 0);
    char want[32];
    snprintf(want, sizeof want, "%ld\n", (long)getpid());
    CHECK_STR(read_file(dir, "lock"), want);

    /* flock belongs to the open file description: another open of the
     * same file, even in this process, is refused */
    CHECK(sl_state_locked(dir, &pid) == 1);
    CHECK(pid == (long)getpid());
    CHECK(sl_state_lock(dir, err, sizeof err) == -1);
    char msg[512];
    snprintf(msg, sizeof msg, "connector directory %s is in use by another "
             "sluice (pid %ld)", dir, (long)getpid());
    CHECK_STR(err, msg);

    /* and another process is refused too */
    pid_t child = fork();
    if (child == 0) {
        char e[512];
        long p = 0;
        int ok = sl_state_lock(dir, e, sizeof e) == -1 &&
                 strstr(e, "in use by another sluice") &&
                 sl_state_locked(dir, &p) == 1 && p == (long)getppid();
        _exit(ok ? 0 : 1);
    }
    int status;
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    sl_state_unlock(fd);
    CHECK(sl_state_locked(dir, &pid) == 0);

    /* free again: a child takes it and holds it while we look */
    int pipefd[2];
    CHECK(pipe(pipefd) == 0);
    child = fork();
    if (child == 0) {
        char e[512], c;
        close(pipefd[1]);
        int cfd = sl_state_lock(dir, e, sizeof e);
        if (cfd < 0)
            _exit(1);
        write_file(dir, "child-ready", "", 0);
        if (read(pipefd[0], &c, 1) < 0) /* until the parent closes it */
            _exit(1);
        _exit(0);
    }
    close(pipefd[0]);
    for (int i = 0; i < 500 && !exists(dir, "child-ready"); i++)
        usleep(10000);
    CHECK(sl_state_locked(dir, &pid) == 1);
    CHECK(pid == (long)child);
    CHECK(sl_state_lock(dir, err, sizeof err) == -1);
    close(pipefd[1]);
    CHECK(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* its exit released it */
    fd = sl_state_lock(dir, err, sizeof err);
    CHECK(fd >= 0);
    CHECK_STR(read_file(dir, "lock"), want); /* our pid, not the child's */
    sl_state_unlock(fd);
    sl_state_unlock(-1);

    /* a directory that is not there */
    char gone[256];
    snprintf(gone, sizeof gone, "%s/nowhere", base);
    CHECK(sl_state_locked(gone, &pid) == 0);
    CHECK(sl_state_lock(gone, err, sizeof err) == -1);
    CHECK_CONTAINS(err, gone);
}

/* ---- the schema lock ----------------------------------------------------- */

static void test_schema_same(void)
{
    const char *dir = fresh_dir("same");
    char err[512];
    sl_schema *s = schema("id:integer, email:string, amount:number?");
    CHECK(sl_state_schema_write(dir, s, err, sizeof err) == 0);
    CHECK(!exists(dir, "schema.lock.tmp"));

    char fp[17], want[512];
    sl_schema_fingerprint(s, fp);
    snprintf(want, sizeof want,
             "sluice schema lock v1\n"
             "fingerprint %s\n"
             "unknown_fields reject\n"
             "field id integer not-null\n"
             "field email string not-null\n"
             "field amount number nullable\n", fp);
    CHECK_STR(read_file(dir, "schema.lock"), want);

    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_SAME);
    CHECK(diff.len == 0);

    /* every type, a name with spaces, the drop policy; rewriting */
    sl_schema *t = schema("drop;a b:string?, c:integer, d:number, "
                          "e:boolean?, f:date, g:datetime?");
    CHECK(sl_state_schema_write(dir, t, err, sizeof err) == 0);
    CHECK_CONTAINS(read_file(dir, "schema.lock"),
                   "unknown_fields drop\nfield a b string nullable\n");
    CHECK(sl_state_schema_check(dir, t, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_SAME);
    CHECK(diff.len == 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_CHANGED);

    sl_buf_free(&diff);
    sl_schema_free(s);
    sl_schema_free(t);
}

/* An order with an address object and a lines array, `zip_type` and
 * `max` varying. */
static sl_schema *order(sl_schema_type zip_type, size_t max)
{
    char err[256];
    sl_schema *addr = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_add(addr, "zip", zip_type, false, err, sizeof err);
    sl_schema *line = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_add(line, "sku", SL_TYPE_STRING, false, err, sizeof err);
    sl_schema *s = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema_add(s, "id", SL_TYPE_INTEGER, false, err, sizeof err);
    sl_schema_add_value(s, "address", &(sl_schema_value){
                                          .type = SL_TYPE_OBJECT,
                                          .fields = addr},
                        err, sizeof err);
    sl_schema_add_value(s, "lines", &(sl_schema_value){
                                        .type = SL_TYPE_ARRAY, .max_items = max,
                                        .items = &(sl_schema_value){
                                            .type = SL_TYPE_OBJECT,
                                            .fields = line}},
                        err, sizeof err);
    sl_schema_add(s, "meta", SL_TYPE_JSON, true, err, sizeof err);
    CHECK(sl_schema_nfields(s) == 4);
    return s;
}

/* Nested fields: their parts in the lock, compared, a change named. */
static void test_schema_nested(void)
{
    const char *dir = fresh_dir("nested");
    char err[512], fp[17], want[1024];
    sl_schema *s = order(SL_TYPE_STRING, 10);
    CHECK(sl_state_schema_write(dir, s, err, sizeof err) == 0);
    sl_schema_fingerprint(s, fp);
    snprintf(want, sizeof want,
             "sluice schema lock v1\n"
             "fingerprint %s\n"
             "unknown_fields reject\n"
             "field id integer not-null\n"
             "field address object not-null\n"
             "  parts {zip string not-null}\n"
             "field lines array not-null\n"
             "  parts [..10 object not-null {sku string not-null}]\n"
             "field meta json nullable\n", fp);
    CHECK_STR(read_file(dir, "schema.lock"), want);
    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_SAME);
    CHECK(diff.len == 0);
    sl_schema *t = order(SL_TYPE_INTEGER, 5);
    CHECK(sl_state_schema_check(dir, t, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_CHANGED);
    CHECK(sl_buf_putc(&diff, '\0') == 0);
    CHECK_STR(diff.data,
              "  field \"address\": was {zip string not-null}, now {zip "
              "integer not-null}\n"
              "  field \"lines\": was [..10 object not-null {sku string "
              "not-null}], now [..5 object not-null {sku string not-null}]\n");
    /* a parts line where none belongs */
    const char *bad = "sluice schema lock v1\n"
                      "fingerprint 0123456789abcdef\nunknown_fields reject\n"
                      "field id integer not-null\n  parts {a string not-null}\n";
    write_file(dir, "schema.lock", bad, strlen(bad));
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_ERROR);
    CHECK_CONTAINS(err, "line 5: a \"parts\" line not right after the line of "
                        "an object or array field");
    sl_buf_free(&diff);
    sl_schema_free(s);
    sl_schema_free(t);
}

static void test_schema_none(void)
{
    const char *dir = fresh_dir("none");
    char err[512], gone[256];
    sl_schema *s = schema("id:integer");
    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_NONE);
    snprintf(gone, sizeof gone, "%s/no/such/dir", base);
    CHECK(sl_state_schema_check(gone, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_NONE);
    CHECK(diff.len == 0);
    /* writing into a missing directory fails and says where */
    CHECK(sl_state_schema_write(gone, s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, gone);
    sl_buf_free(&diff);
    sl_schema_free(s);
}

/* Lock `was`, check `now`: the diff text (static), "" unless CHANGED. */
static const char *diff_of(const char *was, const char *now)
{
    static char out[4096];
    const char *dir = fresh_dir("diff");
    char err[512];
    sl_schema *a = schema(was), *b = schema(now);
    CHECK(sl_state_schema_write(dir, a, err, sizeof err) == 0);
    sl_buf diff;
    sl_buf_init(&diff, 0);
    sl_schema_lock_rc rc = sl_state_schema_check(dir, b, &diff, err,
                                                 sizeof err);
    CHECK(rc == SL_SCHEMA_LOCK_CHANGED);
    snprintf(out, sizeof out, "%.*s", (int)diff.len,
             diff.data ? diff.data : "");
    sl_buf_free(&diff);
    sl_schema_free(a);
    sl_schema_free(b);
    return out;
}

static void test_schema_changes(void)
{
    CHECK_STR(diff_of("id:integer, email:string",
                      "id:integer, email:string, amount:number?"),
              "  field \"amount\": added (number, nullable)\n");
    CHECK_STR(diff_of("id:integer, email:string, amount:number?",
                      "id:integer, amount:number?"),
              "  field \"email\": removed (was string, not-null)\n");
    CHECK_STR(diff_of("id:integer, email:string", "id:integer, email:integer"),
              "  field \"email\": type was string, now integer\n");
    CHECK_STR(diff_of("id:integer, amount:number?", "id:integer, amount:number"),
              "  field \"amount\": was nullable, now not-null\n");
    CHECK_STR(diff_of("id:integer, amount:number", "id:integer, amount:number?"),
              "  field \"amount\": was not-null, now nullable\n");
    CHECK_STR(diff_of("a:string, b:string, c:string",
                      "b:string, a:string, c:string"),
              "  field order was a, b, c; now b, a, c\n");
    CHECK_STR(diff_of("a:string", "drop;a:string"),
              "  unknown_fields was reject, now drop\n");
    CHECK_STR(diff_of("drop;a:string", "a:string"),
              "  unknown_fields was drop, now reject\n");
    /* a field inserted or removed is not also an order change */
    CHECK_STR(diff_of("a:string, c:string", "a:string, b:string, c:string"),
              "  field \"b\": added (string, not-null)\n");
    /* several at once, in lock order, then additions, then order */
    CHECK_STR(diff_of("id:integer, email:string, name:string?, x:date",
                      "drop;email:integer?, id:integer, y:datetime"),
              "  field \"email\": type was string, now integer\n"
              "  field \"email\": was not-null, now nullable\n"
              "  field \"name\": removed (was string, nullable)\n"
              "  field \"x\": removed (was date, not-null)\n"
              "  field \"y\": added (datetime, not-null)\n"
              "  field order was id, email, name, x; now email, id, y\n"
              "  unknown_fields was reject, now drop\n");
}

/* The largest schema, locked and then reversed: one order line naming
 * every field, and no other difference. */
static void test_schema_large(void)
{
    const char *dir = fresh_dir("large");
    char err[512], name[16];
    sl_schema *a = sl_schema_new(SL_UNKNOWN_REJECT);
    sl_schema *b = sl_schema_new(SL_UNKNOWN_REJECT);
    for (int i = 0; i < SL_SCHEMA_MAX_FIELDS; i++) {
        snprintf(name, sizeof name, "f%d", i);
        CHECK(sl_schema_add(a, name, SL_TYPE_STRING, false, err,
                            sizeof err) == 0);
        snprintf(name, sizeof name, "f%d", SL_SCHEMA_MAX_FIELDS - 1 - i);
        CHECK(sl_schema_add(b, name, SL_TYPE_STRING, false, err,
                            sizeof err) == 0);
    }
    CHECK(sl_state_schema_write(dir, a, err, sizeof err) == 0);
    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, a, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_SAME);
    CHECK(sl_state_schema_check(dir, b, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_CHANGED);
    const char *d = sl_buf_cstr(&diff);
    CHECK(strncmp(d, "  field order was f0, f1, f2, ", 30) == 0);
    CHECK_CONTAINS(d, ", f511; now f511, f510, ");
    CHECK(strchr(d, '\n') == d + diff.len - 1); /* one line */
    sl_buf_free(&diff);
    sl_schema_free(a);
    sl_schema_free(b);
}

/* A lock whose fingerprint does not match its own fields (edited, or
 * written by another version) still counts as a change. */
static void test_schema_fingerprint_only(void)
{
    const char *dir = fresh_dir("fp");
    char err[512];
    sl_schema *s = schema("id:integer");
    const char *text = "sluice schema lock v1\n"
                       "fingerprint 0000000000000000\n"
                       "unknown_fields reject\n"
                       "field id integer not-null\n";
    write_file(dir, "schema.lock", text, strlen(text));
    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_CHANGED);
    char fp[17], want[256];
    sl_schema_fingerprint(s, fp);
    snprintf(want, sizeof want, "  fingerprint was 0000000000000000, now %s",
             fp);
    CHECK_CONTAINS(sl_buf_cstr(&diff), want);
    sl_buf_free(&diff);
    sl_schema_free(s);
}

/* Write `text` as the lock; the check must be ERROR with `want` (after the
 * path) in err. */
static void corrupt(const char *text, size_t n, const char *want, int line)
{
    const char *dir = fresh_dir("corrupt");
    char err[1024] = "", full[1200];
    write_file(dir, "schema.lock", text, n);
    sl_schema *s = schema("id:integer");
    sl_buf diff;
    sl_buf_init(&diff, 0);
    sl_schema_lock_rc rc = sl_state_schema_check(dir, s, &diff, err,
                                                 sizeof err);
    snprintf(full, sizeof full, "%s/schema.lock %s", dir, want);
    if (rc != SL_SCHEMA_LOCK_ERROR || strcmp(err, full) != 0) {
        fprintf(stderr, "line %d: rc %d err \"%s\"\n  want \"%s\"\n", line,
                (int)rc, err, full);
        sl_test_failed_checks++;
    }
    sl_buf_free(&diff);
    sl_schema_free(s);
}

#define HEAD "sluice schema lock v1\nfingerprint 0123456789abcdef\n"

static void test_schema_corrupt(void)
{
    corrupt("", 0, "line 1: empty file", __LINE__);
    corrupt("hello\n", 6,
            "line 1: not a sluice schema lock (the first line should be "
            "\"sluice schema lock v1\")", __LINE__);
    corrupt("sluice schema lock v2\n", 22,
            "line 1: version \"v2\" is not one this sluice reads (v1)",
            __LINE__);
    corrupt("sluice schema lock v1\n", 22,
            "line 2: the file ends before the \"fingerprint\" line", __LINE__);
    corrupt(HEAD, strlen(HEAD),
            "line 3: the file ends before the \"unknown_fields\" line",
            __LINE__);
    const char *t = "sluice schema lock v1\nfingerprint 0123\n";
    corrupt(t, strlen(t),
            "line 2: expected \"fingerprint\" and 16 lowercase hex digits",
            __LINE__);
    t = HEAD "unknown_fields maybe\n";
    corrupt(t, strlen(t),
            "line 3: expected \"unknown_fields reject\" or "
            "\"unknown_fields drop\"", __LINE__);
    t = HEAD "unknown_fields reject\nfield id integer not-null\n"
             "field amount money nullable\n";
    corrupt(t, strlen(t), "line 5: field \"amount\": unknown type \"money\"",
            __LINE__);
    t = HEAD "unknown_fields reject\nfield id integer sometimes\n";
    corrupt(t, strlen(t),
            "line 4: field \"id\": \"sometimes\" is neither nullable nor "
            "not-null", __LINE__);
    t = HEAD "unknown_fields reject\nfield id integer\n";
    corrupt(t, strlen(t),
            "line 4: expected \"field NAME TYPE nullable\" or \"field NAME "
            "TYPE not-null\"", __LINE__);
    t = HEAD "unknown_fields reject\n\n";
    corrupt(t, strlen(t),
            "line 4: expected \"field NAME TYPE nullable\" or \"field NAME "
            "TYPE not-null\"", __LINE__);
    t = HEAD "unknown_fields reject\nfield id integer not-null\n"
             "field id string nullable\n";
    corrupt(t, strlen(t), "line 5: duplicate field \"id\"", __LINE__);
    t = HEAD "unknown_fields reject\nfield id integer not-null";
    corrupt(t, strlen(t), "line 4: no end of line (a cut-off file?)",
            __LINE__);
    char nul[] = HEAD "unknown_fields reject\nfield i\0d integer not-null\n";
    corrupt(nul, sizeof nul - 1, "line 4: a NUL byte", __LINE__);

    /* not a regular file */
    const char *dir = fresh_dir("corrupt");
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/schema.lock", dir);
    CHECK(mkdir(path, 0700) == 0);
    sl_schema *s = schema("id:integer");
    sl_buf diff;
    sl_buf_init(&diff, 0);
    CHECK(sl_state_schema_check(dir, s, &diff, err, sizeof err) ==
          SL_SCHEMA_LOCK_ERROR);
    CHECK_CONTAINS(err, path);
    sl_buf_free(&diff);
    sl_schema_free(s);
}

/* A lock cut at every byte: mid-line is an ERROR naming that line; at a
 * line end after the header it is a valid lock with fewer fields. */
static void test_schema_truncated(void)
{
    const char *dir = fresh_dir("cut");
    char err[1024], full[8192]; /* as big as read_file's buffer */
    sl_schema *s = schema("id:integer, email:string, amount:number?");
    CHECK(sl_state_schema_write(dir, s, err, sizeof err) == 0);
    snprintf(full, sizeof full, "%s", read_file(dir, "schema.lock"));
    size_t len = strlen(full);
    sl_buf diff;
    sl_buf_init(&diff, 0);
    for (size_t n = 0; n < len; n++) {
        write_file(dir, "schema.lock", full, n);
        size_t lines = 0;
        for (size_t i = 0; i < n; i++)
            lines += full[i] == '\n';
        bool at_eol = n > 0 && full[n - 1] == '\n';
        sl_schema_lock_rc rc = sl_state_schema_check(dir, s, &diff, err,
                                                     sizeof err);
        if (at_eol && lines >= 3) {
            CHECK(rc == SL_SCHEMA_LOCK_CHANGED);
        } else {
            char want[32];
            snprintf(want, sizeof want, " line %zu: ", lines + 1);
            CHECK(rc == SL_SCHEMA_LOCK_ERROR);
            CHECK_CONTAINS(err, want);
        }
        sl_buf_reset(&diff);
    }
    sl_buf_free(&diff);
    sl_schema_free(s);
}

/* ---- sluice check / run ------------------------------------------------- */

/* A config of two connectors, a and b, under base/<sub>. */
static void fake_config(sl_config *cfg, sl_connector_conf conns[2],
                        const char *sub, sl_schema *sa, sl_schema *sb)
{
    static char state_dir[256];
    snprintf(state_dir, sizeof state_dir, "%s/%s", base, sub);
    memset(cfg, 0, sizeof *cfg);
    memset(conns, 0, 2 * sizeof *conns);
    cfg->state_dir = state_dir;
    conns[0].name = "a";
    conns[0].schema = sa;
    conns[0].file = "connectors/a.lua";
    conns[1].name = "b";
    conns[1].schema = sb;
    conns[1].file = "connectors/b.lua";
    cfg->connectors = conns;
    cfg->nconnectors = 2;
}

static void test_check_locks(void)
{
    sl_schema *s1 = schema("id:integer, email:string");
    sl_schema *s2 = schema("id:integer, email:integer");
    sl_config cfg;
    sl_connector_conf conns[2];
    fake_config(&cfg, conns, "check", s1, s1);
    sl_test_rm_rf(cfg.state_dir);

    char *text = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&text, &len);
    CHECK(sl_state_check_locks(&cfg, err) == 0); /* never ran: passes */
    fflush(err);
    CHECK(len == 0);

    char dir_a[256], dir_b[256], e[512];
    CHECK(sl_state_dir(cfg.state_dir, "a", 1, dir_a, sizeof dir_a, e,
                       sizeof e) == 0);
    CHECK(sl_state_dir(cfg.state_dir, "b", 1, dir_b, sizeof dir_b, e,
                       sizeof e) == 0);
    CHECK(sl_state_schema_write(dir_a, s1, e, sizeof e) == 0);
    CHECK(sl_state_schema_write(dir_b, s1, e, sizeof e) == 0);
    CHECK(sl_state_check_locks(&cfg, err) == 0);
    fflush(err);
    CHECK(len == 0);

    /* b's schema changes */
    conns[1].schema = s2;
    CHECK(sl_state_check_locks(&cfg, err) == 1);
    fflush(err);
    char want[1024];
    snprintf(want, sizeof want,
             "sluice: connector b: its schema differs from the one it ran "
             "with (locked in %s/schema.lock):\n"
             "  field \"email\": type was string, now integer\n"
             "sluice: deliver or drain what it holds, then `sluice reset b` "
             "to accept the new schema\n", dir_b);
    CHECK_STR(text, want);

    /* a's lock is corrupt */
    rewind(err);
    write_file(dir_a, "schema.lock", "junk\n", 5);
    CHECK(sl_state_check_locks(&cfg, err) == 2);
    fclose(err);
    snprintf(want, sizeof want, "sluice: connector a: %s/schema.lock line 1: "
             "not a sluice schema lock", dir_a);
    CHECK(strncmp(text, want, strlen(want)) == 0);
    CHECK_CONTAINS(text, "sluice reset a");
    CHECK_CONTAINS(text, "sluice: connector b: its schema differs");
    free(text);
    sl_schema_free(s1);
    sl_schema_free(s2);
}

/* ---- presence and removal of the schema lock ---------------------------- */

static void test_schema_exists_remove(void)
{
    const char *dir = fresh_dir("exists");
    sl_schema *s = schema("id:integer");
    char e[512], path[64];
    CHECK(sl_state_schema_exists(dir, e, sizeof e) == 0);
    CHECK(sl_state_schema_remove(dir, e, sizeof e) == 0); /* missing: fine */
    CHECK(sl_state_schema_write(dir, s, e, sizeof e) == 0);
    CHECK(sl_state_schema_exists(dir, e, sizeof e) == 1);
    CHECK(sl_state_schema_remove(dir, e, sizeof e) == 0);
    CHECK(!exists(dir, "schema.lock"));
    write_file(dir, "schema.lock", "junk\n", 5); /* present, unparsable */
    CHECK(sl_state_schema_exists(dir, e, sizeof e) == 1);
    CHECK(sl_state_schema_remove(dir, e, sizeof e) == 0);
    CHECK(sl_state_schema_exists(dir, e, sizeof e) == 0);

    CHECK(sl_state_path(path, sizeof path, "a", "b", e, sizeof e) == 0);
    CHECK_STR(path, "a/b");
    CHECK(sl_state_path(path, 3, "a", "b", e, sizeof e) == -1);
    CHECK_STR(e, "path a/b is too long");
    sl_schema_free(s);
}

int main(void)
{
    snprintf(base, sizeof base, "/tmp/sluice-test-state-XXXXXX");
    if (!mkdtemp(base)) {
        perror("mkdtemp");
        return 1;
    }
    static const sl_test_case cases[] = {
        {"dir", test_dir},
        {"lock", test_lock},
        {"schema_same", test_schema_same},
        {"schema_none", test_schema_none},
        {"schema_nested", test_schema_nested},
        {"schema_changes", test_schema_changes},
        {"schema_large", test_schema_large},
        {"schema_fingerprint_only", test_schema_fingerprint_only},
        {"schema_corrupt", test_schema_corrupt},
        {"schema_truncated", test_schema_truncated},
        {"check_locks", test_check_locks},
        {"schema_exists_remove", test_schema_exists_remove},
        {NULL, NULL}};
    int rc = sl_test_run(cases);
    sl_test_rm_rf(base);
    return rc;
}
