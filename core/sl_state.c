/* sl_state: a connector's directory, the flock that keeps two gateways off
 * it, the schema lock (<dir>/schema.lock) and `sluice reset`. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sl_dlq.h"
#include "sl_spool.h"
#include "sl_state.h"

#define LOCK_FILE "lock"
#define SCHEMA_LOCK_FILE "schema.lock"
#define SCHEMA_LOCK_TMP "schema.lock.tmp"
#define SCHEMA_LOCK_HEAD "sluice schema lock v1"
#define SCHEMA_LOCK_MAX (1u << 20)  /* 512 fields fit in ~80 KiB */
#define DIFF_MAX (1u << 20)         /* a diff of two 512-field schemas */
#define EMPTY_DEPTH_MAX 8           /* nesting removed under spool/ etc. */

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "<dir>/<name>" into out; -1 (with err) when it does not fit. */
static int join(char *out, size_t outlen, const char *dir, const char *name,
                char *err, size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen) {
        set_err(err, errlen, "path %s/%s is too long", dir, name);
        return -1;
    }
    return 0;
}

/* fsync a directory so that a rename or unlink in it survives a crash. */
static int sync_dir(const char *dir, char *err, size_t errlen)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) {
        set_err(err, errlen, "cannot sync directory %s: %s", dir,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ---- the connector directory ------------------------------------------- */

/* mkdir -p, mode 0750 for what it creates. */
static int mkdir_p(char *path, char *err, size_t errlen)
{
    for (char *p = path + 1;; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        int rc = mkdir(path, 0750);
        int e = errno;
        struct stat st;
        if (rc != 0 && e == EEXIST && stat(path, &st) == 0 &&
            !S_ISDIR(st.st_mode)) {
            set_err(err, errlen, "cannot create directory %s: it exists and "
                    "is not a directory", path);
            *p = c;
            return -1;
        }
        if (rc != 0 && e != EEXIST) {
            set_err(err, errlen, "cannot create directory %s: %s", path,
                    strerror(e));
            *p = c;
            return -1;
        }
        *p = c;
        if (c == '\0')
            return 0;
    }
}

int sl_state_dir(const char *state_dir, const char *connector, int create,
                 char *out, size_t outlen, char *err, size_t errlen)
{
    /* names are validated by the config; this keeps a stray one from
     * reaching outside state_dir */
    if (!connector[0] || strchr(connector, '/') ||
        strcmp(connector, ".") == 0 || strcmp(connector, "..") == 0) {
        set_err(err, errlen, "\"%s\" is not a connector name", connector);
        return -1;
    }
    size_t n = strlen(state_dir);
    while (n > 1 && state_dir[n - 1] == '/') /* "var/" -> "var/name" */
        n--;
    int w = snprintf(out, outlen, "%.*s/%s", (int)n, state_dir, connector);
    if (w < 0 || (size_t)w >= outlen) {
        set_err(err, errlen, "connector directory %.*s/%s: path too long",
                (int)n, state_dir, connector);
        return -1;
    }
    return create ? mkdir_p(out, err, errlen) : 0;
}

/* ---- the connector lock ------------------------------------------------ */

/* The pid written in an open lock file; 0 when there is none (yet). */
static long read_pid(int fd)
{
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *end;
    long pid = strtol(buf, &end, 10);
    return pid > 0 && (*end == '\n' || *end == '\0') ? pid : 0;
}

int sl_state_lock(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (join(path, sizeof path, dir, LOCK_FILE, err, errlen) != 0)
        return -1;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* sl_state_locked probes with a shared lock for an instant; a few
     * retries keep that probe from turning away a gateway as it starts */
    int rc, e = 0;
    for (int tries = 0;; tries++) {
        rc = flock(fd, LOCK_EX | LOCK_NB);
        e = errno;
        if (rc == 0 || (e != EWOULDBLOCK && e != EINTR) || tries == 10)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
    }
    if (rc != 0) {
        long pid = e == EWOULDBLOCK ? read_pid(fd) : 0;
        if (e != EWOULDBLOCK)
            set_err(err, errlen, "cannot lock %s: %s", path, strerror(e));
        else if (pid > 0)
            set_err(err, errlen, "connector directory %s is in use by another "
                    "sluice (pid %ld)", dir, pid);
        else
            set_err(err, errlen, "connector directory %s is in use by another "
                    "sluice", dir);
        close(fd);
        return -1;
    }
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        set_err(err, errlen, "cannot write %s: %s", path, strerror(errno));
        close(fd); /* releases the lock */
        return -1;
    }
    return fd;
}

void sl_state_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* the flock goes with the last descriptor of the file */
}

int sl_state_locked(const char *dir, long *pid)
{
    if (pid)
        *pid = 0;
    char path[PATH_MAX];
    if (join(path, sizeof path, dir, LOCK_FILE, NULL, 0) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    int rc;
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        rc = 0;
    } else if (errno == EWOULDBLOCK) {
        rc = 1;
        if (pid)
            *pid = read_pid(fd);
    } else {
        rc = -1;
    }
    int e = errno;
    close(fd);
    errno = e; /* for the caller's message when rc is -1 */
    return rc;
}

/* ---- the schema lock ---------------------------------------------------- */

/* The text of schema.lock for `s` (see sl_state_schema_write). */
static int lock_text(const sl_schema *s, sl_buf *b)
{
    char fp[17];
    sl_schema_fingerprint(s, fp);
    int rc = sl_buf_printf(b, "%s\nfingerprint %s\nunknown_fields %s\n",
                           SCHEMA_LOCK_HEAD, fp,
                           sl_schema_policy(s) == SL_UNKNOWN_DROP ? "drop"
                                                                  : "reject");
    for (size_t i = 0; rc == 0 && i < sl_schema_nfields(s); i++)
        rc = sl_buf_printf(b, "field %s %s %s\n", sl_schema_field_name(s, i),
                           sl_type_name(sl_schema_field_type(s, i)),
                           sl_schema_field_nullable(s, i) ? "nullable"
                                                          : "not-null");
    return rc;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int sl_state_schema_write(const char *dir, const sl_schema *s, char *err,
                          size_t errlen)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (join(path, sizeof path, dir, SCHEMA_LOCK_FILE, err, errlen) != 0 ||
        join(tmp, sizeof tmp, dir, SCHEMA_LOCK_TMP, err, errlen) != 0)
        return -1;
    sl_buf text;
    sl_buf_init(&text, SCHEMA_LOCK_MAX);
    int fd = -1;
    if (lock_text(s, &text) != 0) {
        set_err(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || write_all(fd, text.data, text.len) != 0 || fsync(fd) != 0) {
        set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        set_err(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        set_err(err, errlen, "cannot rename %s to %s: %s", tmp, path,
                strerror(errno));
        goto fail;
    }
    sl_buf_free(&text);
    return sync_dir(dir, err, errlen);
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    sl_buf_free(&text);
    return -1;
}

/* What a schema.lock says. */
typedef struct lock_file {
    char fingerprint[17];
    sl_schema *schema; /* owned: its fields and policy */
} lock_file;

/* Read <dir>/schema.lock into *text. 1 read, 0 absent, -1 error. */
static int read_lock(const char *path, sl_buf *text, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_err(err, errlen, "%s is not a regular file", path);
        goto fail;
    }
    for (;;) {
        if (sl_buf_reserve(text, 4096) != 0) {
            set_err(err, errlen, "%s is too large (more than %u bytes)", path,
                    SCHEMA_LOCK_MAX);
            goto fail;
        }
        ssize_t n = read(fd, text->data + text->len, text->cap - text->len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        text->len += (size_t)n;
    }
    close(fd);
    return 1;
fail:
    close(fd);
    return -1;
}

static bool is_hex16(const char *p, size_t n)
{
    if (n != 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Line 1+: "field NAME TYPE nullable|not-null". NAME may hold spaces (the
 * schema allows them), so TYPE and nullability are taken from the right. */
static int parse_field(sl_schema *s, char *line, char *why, size_t whylen)
{
    static const char usage[] = "expected \"field NAME TYPE nullable\" or "
                                "\"field NAME TYPE not-null\"";
    if (strncmp(line, "field ", 6) != 0) {
        snprintf(why, whylen, "%s", usage);
        return -1;
    }
    char *name = line + 6;
    char *sp2 = strrchr(name, ' ');
    if (!sp2) {
        snprintf(why, whylen, "%s", usage);
        return -1;
    }
    *sp2 = '\0';
    char *sp1 = strrchr(name, ' ');
    if (!sp1 || sp1 == name) {
        snprintf(why, whylen, "%s", usage);
        return -1;
    }
    *sp1 = '\0';
    const char *tname = sp1 + 1, *nullity = sp2 + 1;
    int type = sl_type_from_name(tname);
    if (type < 0) {
        snprintf(why, whylen, "field \"%s\": unknown type \"%.32s\"", name,
                 tname);
        return -1;
    }
    bool nullable;
    if (strcmp(nullity, "nullable") == 0) {
        nullable = true;
    } else if (strcmp(nullity, "not-null") == 0) {
        nullable = false;
    } else {
        snprintf(why, whylen, "field \"%s\": \"%.32s\" is neither nullable "
                 "nor not-null", name, nullity);
        return -1;
    }
    return sl_schema_add(s, name, (sl_type)type, nullable, why, whylen);
}

/* Parse the text of a schema lock, strictly: the three header lines in
 * order, then field lines, every line ending in a newline. text is
 * modified. 0, or -1 with "PATH line N: ..." in err. */
static int parse_lock(const char *path, sl_buf *text, lock_file *lf,
                      char *err, size_t errlen)
{
    char why[256] = "";
    size_t lineno = 0;
    char *p = text->data, *end = text->data + text->len;
    if (text->len == 0) {
        lineno = 1;
        snprintf(why, sizeof why, "empty file");
        goto fail;
    }
    while (p < end) {
        lineno++;
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            snprintf(why, sizeof why, "no end of line (a cut-off file?)");
            goto fail;
        }
        *nl = '\0';
        size_t n = (size_t)(nl - p);
        if (strlen(p) != n) {
            snprintf(why, sizeof why, "a NUL byte");
            goto fail;
        }
        if (lineno == 1) {
            if (strcmp(p, SCHEMA_LOCK_HEAD) != 0) {
                if (strncmp(p, "sluice schema lock ", 19) == 0)
                    snprintf(why, sizeof why, "version \"%.32s\" is not one "
                             "this sluice reads (v1)", p + 19);
                else
                    snprintf(why, sizeof why, "not a sluice schema lock (the "
                             "first line should be \"%s\")", SCHEMA_LOCK_HEAD);
                goto fail;
            }
        } else if (lineno == 2) {
            if (strncmp(p, "fingerprint ", 12) != 0 ||
                !is_hex16(p + 12, n - 12)) {
                snprintf(why, sizeof why, "expected \"fingerprint\" and 16 "
                         "lowercase hex digits");
                goto fail;
            }
            memcpy(lf->fingerprint, p + 12, 17);
        } else if (lineno == 3) {
            sl_unknown_policy pol;
            if (strcmp(p, "unknown_fields reject") == 0) {
                pol = SL_UNKNOWN_REJECT;
            } else if (strcmp(p, "unknown_fields drop") == 0) {
                pol = SL_UNKNOWN_DROP;
            } else {
                snprintf(why, sizeof why, "expected \"unknown_fields reject\" "
                         "or \"unknown_fields drop\"");
                goto fail;
            }
            lf->schema = sl_schema_new(pol);
            if (!lf->schema) {
                snprintf(why, sizeof why, "out of memory");
                goto fail;
            }
        } else if (parse_field(lf->schema, p, why, sizeof why) != 0) {
            goto fail;
        }
        p = nl + 1;
    }
    if (!lf->schema) {
        lineno++;
        snprintf(why, sizeof why, "the file ends before the "
                 "\"%s\" line", lineno == 2 ? "fingerprint" : "unknown_fields");
        goto fail;
    }
    return 0;
fail:
    set_err(err, errlen, "%s line %zu: %s", path, lineno, why);
    sl_schema_free(lf->schema);
    lf->schema = NULL;
    return -1;
}

static long find_field(const sl_schema *s, const char *name)
{
    for (size_t i = 0; i < sl_schema_nfields(s); i++)
        if (strcmp(sl_schema_field_name(s, i), name) == 0)
            return (long)i;
    return -1;
}

static const char *nullity(bool nullable)
{
    return nullable ? "nullable" : "not-null";
}

/* "a, b, c" */
static void put_names(sl_buf *b, const sl_schema *s)
{
    for (size_t i = 0; i < sl_schema_nfields(s); i++)
        sl_buf_printf(b, "%s%s", i ? ", " : "", sl_schema_field_name(s, i));
}

/* Append one line per difference between the locked schema and `now`;
 * returns how many. */
static size_t diff_schemas(const lock_file *lf, const sl_schema *now,
                           sl_buf *diff)
{
    const sl_schema *was = lf->schema;
    size_t nw = sl_schema_nfields(was), nn = sl_schema_nfields(now), n = 0;
    bool kept[SL_SCHEMA_MAX_FIELDS] = {false}; /* now's field j was locked */
    bool reordered = false;
    long last = -1;
    for (size_t i = 0; i < nw; i++) {
        const char *name = sl_schema_field_name(was, i);
        sl_type t = sl_schema_field_type(was, i);
        bool nul = sl_schema_field_nullable(was, i);
        long j = find_field(now, name);
        if (j < 0) {
            sl_buf_printf(diff, "  field \"%s\": removed (was %s, %s)\n", name,
                          sl_type_name(t), nullity(nul));
            n++;
            continue;
        }
        kept[j] = true;
        reordered |= j < last;
        last = j;
        sl_type t2 = sl_schema_field_type(now, (size_t)j);
        bool nul2 = sl_schema_field_nullable(now, (size_t)j);
        if (t2 != t) {
            sl_buf_printf(diff, "  field \"%s\": type was %s, now %s\n", name,
                          sl_type_name(t), sl_type_name(t2));
            n++;
        }
        if (nul2 != nul) {
            sl_buf_printf(diff, "  field \"%s\": was %s, now %s\n", name,
                          nullity(nul), nullity(nul2));
            n++;
        }
    }
    for (size_t j = 0; j < nn; j++) {
        if (kept[j])
            continue;
        sl_buf_printf(diff, "  field \"%s\": added (%s, %s)\n",
                      sl_schema_field_name(now, j),
                      sl_type_name(sl_schema_field_type(now, j)),
                      nullity(sl_schema_field_nullable(now, j)));
        n++;
    }
    /* records are encoded in schema order, so a reorder changes bodies */
    if (reordered) {
        sl_buf_printf(diff, "  field order was ");
        put_names(diff, was);
        sl_buf_printf(diff, "; now ");
        put_names(diff, now);
        sl_buf_putc(diff, '\n');
        n++;
    }
    if (sl_schema_policy(was) != sl_schema_policy(now)) {
        sl_buf_printf(diff, "  unknown_fields was %s, now %s\n",
                      sl_schema_policy(was) == SL_UNKNOWN_DROP ? "drop"
                                                               : "reject",
                      sl_schema_policy(now) == SL_UNKNOWN_DROP ? "drop"
                                                               : "reject");
        n++;
    }
    char fp[17];
    sl_schema_fingerprint(now, fp);
    if (n == 0 && strcmp(fp, lf->fingerprint) != 0) {
        sl_buf_printf(diff, "  fingerprint was %s, now %s, though no field "
                      "differs (was the lock edited, or written by another "
                      "version of sluice?)\n", lf->fingerprint, fp);
        n++;
    }
    return n;
}

sl_schema_lock_rc sl_state_schema_check(const char *dir, const sl_schema *s,
                                        sl_buf *diff, char *err,
                                        size_t errlen)
{
    char path[PATH_MAX];
    if (join(path, sizeof path, dir, SCHEMA_LOCK_FILE, err, errlen) != 0)
        return SL_SCHEMA_LOCK_ERROR;
    sl_buf text;
    sl_buf_init(&text, SCHEMA_LOCK_MAX);
    lock_file lf = {.schema = NULL};
    sl_schema_lock_rc rc;
    int r = read_lock(path, &text, err, errlen);
    if (r <= 0)
        rc = r == 0 ? SL_SCHEMA_LOCK_NONE : SL_SCHEMA_LOCK_ERROR;
    else if (parse_lock(path, &text, &lf, err, errlen) != 0)
        rc = SL_SCHEMA_LOCK_ERROR;
    else
        rc = diff_schemas(&lf, s, diff) ? SL_SCHEMA_LOCK_CHANGED
                                        : SL_SCHEMA_LOCK_SAME;
    sl_schema_free(lf.schema);
    sl_buf_free(&text);
    return rc;
}

int sl_state_check_locks(const sl_config *cfg, FILE *err)
{
    int refused = 0;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const sl_connector_conf *c = &cfg->connectors[i];
        char dir[PATH_MAX], msg[PATH_MAX + 512];
        if (sl_state_dir(cfg->state_dir, c->name, 0, dir, sizeof dir, msg,
                         sizeof msg) != 0) {
            fprintf(err, "sluice: connector %s: %s\n", c->name, msg);
            refused++;
            continue;
        }
        sl_buf diff;
        sl_buf_init(&diff, DIFF_MAX);
        switch (sl_state_schema_check(dir, c->schema, &diff, msg,
                                      sizeof msg)) {
        case SL_SCHEMA_LOCK_NONE:
        case SL_SCHEMA_LOCK_SAME:
            break;
        case SL_SCHEMA_LOCK_CHANGED:
            fprintf(err, "sluice: connector %s: its schema differs from the "
                    "one it ran with (locked in %s/%s):\n%.*s"
                    "sluice: deliver or drain what it holds, then `sluice "
                    "reset %s` to accept the new schema\n",
                    c->name, dir, SCHEMA_LOCK_FILE, (int)diff.len,
                    diff.data ? diff.data : "", c->name);
            refused++;
            break;
        case SL_SCHEMA_LOCK_ERROR:
            fprintf(err, "sluice: connector %s: %s\n"
                    "sluice: repair the file, or `sluice reset %s` to accept "
                    "the connector's current schema\n", c->name, msg, c->name);
            refused++;
            break;
        }
        sl_buf_free(&diff);
    }
    return refused;
}

/* ---- sluice reset ------------------------------------------------------- */

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int sl_state_reset_plan(const char *name, uint64_t records, uint64_t bytes,
                        uint64_t dead, int force, char *msg, size_t msglen)
{
    if (records == 0 && dead == 0) {
        set_err(msg, msglen, "%s", "");
        return 0;
    }
    if (force) {
        set_err(msg, msglen, "discarding %" PRIu64 " undelivered %s (%" PRIu64
                " %s) and %" PRIu64 " dead %s", records,
                plural(records, "record", "records"), bytes,
                plural(bytes, "byte", "bytes"), dead,
                plural(dead, "letter", "letters"));
        return 0;
    }
    set_err(msg, msglen, "connector %s still holds %" PRIu64 " undelivered %s "
            "and %" PRIu64 " dead %s; deliver them (start sluice with the old "
            "schema), or replay/purge the dead letters, or use --force to "
            "discard them", name, records, plural(records, "record", "records"),
            dead, plural(dead, "letter", "letters"));
    return 1;
}

/* Records waiting in <dir>/inbox/ (*.ndjson, one per line): they were
 * encoded with the old schema, so they count as held. 0 or -1. */
static int count_inbox(const char *dir, uint64_t *records, uint64_t *bytes,
                       char *err, size_t errlen)
{
    *records = *bytes = 0;
    char path[PATH_MAX];
    if (join(path, sizeof path, dir, "inbox", err, errlen) != 0)
        return -1;
    DIR *d = opendir(path);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n <= 7 || strcmp(e->d_name + n - 7, ".ndjson") != 0)
            continue;
        int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) /* taken by a gateway meanwhile */
                continue;
            set_err(err, errlen, "cannot open %s/%s: %s", path, e->d_name,
                    strerror(errno));
            rc = -1;
            break;
        }
        char buf[65536];
        bool in_line = false;
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0) {
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
        *records += in_line;
        if (r < 0) {
            set_err(err, errlen, "cannot read %s/%s: %s", path, e->d_name,
                    strerror(errno));
            rc = -1;
        }
        close(fd);
    }
    closedir(d);
    return rc;
}

/* Remove everything inside the directory open as dfd (which is consumed). */
static int empty_at(int dfd, const char *path, int depth, char *err,
                    size_t errlen)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        set_err(err, errlen, "cannot read %s: %s", path, strerror(errno));
        close(dfd);
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        const char *name = e->d_name;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        char sub[PATH_MAX];
        if (join(sub, sizeof sub, path, name, err, errlen) != 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue;
            set_err(err, errlen, "cannot stat %s: %s", sub, strerror(errno));
            rc = -1;
            break;
        }
        int flags = 0;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= EMPTY_DEPTH_MAX) {
                set_err(err, errlen, "%s: directories nested too deep", sub);
                rc = -1;
                break;
            }
            int sfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
                             O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) {
                set_err(err, errlen, "cannot open %s: %s", sub,
                        strerror(errno));
                rc = -1;
                break;
            }
            if (empty_at(sfd, sub, depth + 1, err, errlen) != 0) {
                rc = -1;
                break;
            }
            flags = AT_REMOVEDIR;
        }
        if (unlinkat(dirfd(d), name, flags) != 0 && errno != ENOENT) {
            set_err(err, errlen, "cannot remove %s: %s", sub, strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0 && fsync(dirfd(d)) != 0) {
        set_err(err, errlen, "cannot sync directory %s: %s", path,
                strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

/* Remove what <dir>/<sub>/ holds, keeping the directory. Missing is fine. */
static int empty_dir(const char *dir, const char *sub, char *err,
                     size_t errlen)
{
    char path[PATH_MAX];
    if (join(path, sizeof path, dir, sub, err, errlen) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        set_err(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return empty_at(fd, path, 0, err, errlen);
}

int sl_state_reset(const char *dir, const sl_connector_conf *c, int force,
                   FILE *out, FILE *errf)
{
    char err[PATH_MAX + 512], lockpath[PATH_MAX];
    struct stat st;
    if (stat(dir, &st) != 0 && errno == ENOENT) {
        fprintf(out, "connector %s has no state in %s: nothing to reset\n",
                c->name, dir);
        return 0;
    }
    long pid;
    int held = sl_state_locked(dir, &pid);
    if (held != 0) {
        if (held < 0)
            fprintf(errf, "sluice reset: cannot tell whether a sluice uses "
                    "%s: %s\n", dir, strerror(errno));
        else if (pid > 0)
            fprintf(errf, "sluice reset: connector %s is in use by a running "
                    "sluice (pid %ld); stop it first\n", c->name, pid);
        else
            fprintf(errf, "sluice reset: connector %s is in use by a running "
                    "sluice; stop it first\n", c->name);
        return 1;
    }
    /* hold the lock ourselves so that no gateway starts halfway through */
    int lockfd = sl_state_lock(dir, err, sizeof err);
    if (lockfd < 0) {
        fprintf(errf, "sluice reset: %s\n", err);
        return 1;
    }
    int rc = 1;
    if (join(lockpath, sizeof lockpath, dir, SCHEMA_LOCK_FILE, err,
             sizeof err) != 0) {
        fprintf(errf, "sluice reset: %s\n", err);
        goto out;
    }
    if (lstat(lockpath, &st) != 0 && errno == ENOENT) {
        fprintf(out, "connector %s has no schema lock in %s: nothing to "
                "reset\n", c->name, dir);
        rc = 0;
        goto out;
    }
    uint64_t records, bytes, in_records, in_bytes;
    long dead = sl_dlq_count_dir(dir, err, sizeof err);
    if (dead < 0 ||
        sl_spool_inspect(dir, &records, &bytes, err, sizeof err) != 0 ||
        count_inbox(dir, &in_records, &in_bytes, err, sizeof err) != 0) {
        fprintf(errf, "sluice reset: connector %s: %s\n", c->name, err);
        goto out;
    }
    char msg[512];
    if (sl_state_reset_plan(c->name, records + in_records, bytes + in_bytes,
                            (uint64_t)dead, force, msg, sizeof msg) != 0) {
        fprintf(errf, "sluice reset: %s\n", msg);
        goto out;
    }
    sl_buf diff;
    sl_buf_init(&diff, DIFF_MAX);
    if (sl_state_schema_check(dir, c->schema, &diff, err, sizeof err) ==
        SL_SCHEMA_LOCK_CHANGED)
        fprintf(out, "accepting these schema changes:\n%.*s", (int)diff.len,
                diff.data ? diff.data : "");
    sl_buf_free(&diff);
    if (msg[0])
        fprintf(out, "%s\n", msg);
    /* the held data goes first: should this stop halfway, the schema lock
     * still stands and reset can be run again */
    if (force && (empty_dir(dir, "spool", err, sizeof err) != 0 ||
                  empty_dir(dir, "dlq", err, sizeof err) != 0 ||
                  empty_dir(dir, "inbox", err, sizeof err) != 0)) {
        fprintf(errf, "sluice reset: %s\n", err);
        goto out;
    }
    if (unlink(lockpath) != 0 && errno != ENOENT) {
        fprintf(errf, "sluice reset: cannot remove %s: %s\n", lockpath,
                strerror(errno));
        goto out;
    }
    if (sync_dir(dir, err, sizeof err) != 0) {
        fprintf(errf, "sluice reset: %s\n", err);
        goto out;
    }
    fprintf(out, "connector %s reset: its next run locks the schema in %s\n",
            c->name, c->file ? c->file : "its file");
    rc = 0;
out:
    sl_state_unlock(lockfd);
    return rc;
}

/* As sluice's `load`: the config, or NULL with every error on stderr. */
static sl_config *load_config(const char *path)
{
    sl_errors errs;
    sl_errors_init(&errs);
    sl_config *cfg = sl_config_load(path, &errs);
    if (!cfg) {
        for (size_t i = 0; i < errs.n; i++)
            fprintf(stderr, "%s\n", errs.msgs[i]);
        fprintf(stderr, "sluice: %zu configuration error%s in %s\n", errs.n,
                errs.n == 1 ? "" : "s", path);
    }
    sl_errors_free(&errs);
    return cfg;
}

static void reset_usage(FILE *out)
{
    fprintf(out,
            "usage: sluice reset CONNECTOR [--force] [-c FILE]\n"
            "\n"
            "Forget the schema CONNECTOR locked on its first run, so that its\n"
            "next run accepts the schema in its file. Refused while a sluice\n"
            "runs it, and while it holds undelivered records or dead letters\n"
            "(made with the old schema) unless --force discards them.\n"
            "FILE defaults to conf/sluice.lua.\n");
}

int sl_state_reset_main(int argc, char **argv)
{
    const char *path = "conf/sluice.lua", *name = NULL;
    int force = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if ((strcmp(argv[i], "-c") == 0 ||
                    strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 ||
                   strcmp(argv[i], "--help") == 0) {
            reset_usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || name) {
            fprintf(stderr, "sluice reset: unexpected argument \"%s\"\n",
                    argv[i]);
            reset_usage(stderr);
            return 2;
        } else {
            name = argv[i];
        }
    }
    if (!name) {
        reset_usage(stderr);
        return 2;
    }
    sl_config *cfg = load_config(path);
    if (!cfg)
        return 2;
    int rc = 2;
    char dir[PATH_MAX], err[PATH_MAX + 512];
    const sl_connector_conf *c = sl_config_connector(cfg, name);
    if (!c)
        fprintf(stderr, "sluice reset: %s has no connector \"%s\"\n", path,
                name);
    else if (sl_state_dir(cfg->state_dir, c->name, 0, dir, sizeof dir, err,
                          sizeof err) != 0)
        fprintf(stderr, "sluice reset: %s\n", err);
    else
        rc = sl_state_reset(dir, c, force, stdout, stderr);
    sl_config_free(cfg);
    return rc;
}
