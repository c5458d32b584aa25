/* sl_state: a connector's directory, the flock that keeps two gateways off
 * it and the schema lock (<dir>/schema.lock). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_state.h"

#include "sl_err.h"
#include "sl_fs.h"
#include "sl_pidlock.h"

#define LOCK_FILE "lock"
#define SCHEMA_LOCK_FILE "schema.lock"
#define SCHEMA_LOCK_TMP "schema.lock.tmp"
#define SCHEMA_LOCK_HEAD "sluice schema lock v1"
#define SCHEMA_LOCK_MAX (1u << 20)  /* 512 fields fit in ~80 KiB */

int sl_state_path(char *out, size_t outlen, const char *dir,
                  const char *name, char *err, size_t errlen)
{
    int n = snprintf(out, outlen, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= outlen) {
        sl_err_set(err, errlen, "path %s/%s is too long", dir, name);
        return -1;
    }
    return 0;
}

/* fsync a directory so that a rename or unlink in it survives a crash. */
static int sync_dir(const char *dir, char *err, size_t errlen)
{
    if (sl_fs_sync_dir(dir) != 0) {
        sl_err_set(err, errlen, "cannot sync directory %s: %s", dir,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- the connector directory ------------------------------------------- */

/* mkdir -p, mode 0750 for what it creates. */
static int mkdir_p(const char *path, char *err, size_t errlen)
{
    char failed[PATH_MAX];
    if (sl_fs_mkdir_p(path, 0750, failed, sizeof failed) == 0)
        return 0;
    if (errno == ENOTDIR)
        sl_err_set(err, errlen, "cannot create directory %s: it exists and "
                "is not a directory", failed);
    else
        sl_err_set(err, errlen, "cannot create directory %s: %s", failed,
                strerror(errno));
    return -1;
}

int sl_state_dir(const char *state_dir, const char *connector, int create,
                 char *out, size_t outlen, char *err, size_t errlen)
{
    /* names are validated by the config; this keeps a stray one from
     * reaching outside state_dir */
    if (!connector[0] || strchr(connector, '/') ||
        strcmp(connector, ".") == 0 || strcmp(connector, "..") == 0) {
        sl_err_set(err, errlen, "\"%s\" is not a connector name", connector);
        return -1;
    }
    size_t n = strlen(state_dir);
    while (n > 1 && state_dir[n - 1] == '/') /* "var/" -> "var/name" */
        n--;
    int w = snprintf(out, outlen, "%.*s/%s", (int)n, state_dir, connector);
    if (w < 0 || (size_t)w >= outlen) {
        sl_err_set(err, errlen, "connector directory %.*s/%s: path too long",
                (int)n, state_dir, connector);
        return -1;
    }
    return create ? mkdir_p(out, err, errlen) : 0;
}

/* ---- the connector lock ------------------------------------------------ */

int sl_state_lock(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (sl_state_path(path, sizeof path, dir, LOCK_FILE, err, errlen) != 0)
        return -1;
    /* sl_state_locked probes with a shared lock for an instant; the
     * retries of sl_pidlock_take keep that from turning a gateway away */
    long pid;
    int fd = sl_pidlock_take(path, &pid, err, errlen);
    if (fd == SL_PIDLOCK_BUSY && pid > 0)
        sl_err_set(err, errlen, "connector directory %s is in use by another "
                   "sluice (pid %ld)", dir, pid);
    else if (fd == SL_PIDLOCK_BUSY)
        sl_err_set(err, errlen, "connector directory %s is in use by another "
                   "sluice", dir);
    return fd < 0 ? -1 : fd;
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
    if (sl_state_path(path, sizeof path, dir, LOCK_FILE, NULL, 0) != 0)
        return -1;
    long holder;
    sl_pidlock_state st = sl_pidlock_probe(path, &holder);
    if (st == SL_PIDLOCK_HELD && pid)
        *pid = holder;
    return st == SL_PIDLOCK_HELD ? 1 : st == SL_PIDLOCK_FAILED ? -1 : 0;
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
    for (size_t i = 0; rc == 0 && i < sl_schema_nfields(s); i++) {
        rc = sl_buf_printf(b, "field %s %s %s\n", sl_schema_field_name(s, i),
                           sl_schema_type_name(sl_schema_field_type(s, i)),
                           sl_schema_field_nullable(s, i) ? "nullable"
                                                          : "not-null");
        sl_schema_type t = sl_schema_field_type(s, i);
        if (rc == 0 && (t == SL_TYPE_OBJECT || t == SL_TYPE_ARRAY)) {
            rc = sl_buf_printf(b, "  parts ");
            if (rc == 0)
                rc = sl_schema_field_shape(s, i, b);
            if (rc == 0)
                rc = sl_buf_putc(b, '\n');
        }
    }
    return rc;
}

int sl_state_schema_write(const char *dir, const sl_schema *s, char *err,
                          size_t errlen)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (sl_state_path(path, sizeof path, dir, SCHEMA_LOCK_FILE, err,
                      errlen) != 0 ||
        sl_state_path(tmp, sizeof tmp, dir, SCHEMA_LOCK_TMP, err,
                      errlen) != 0)
        return -1;
    sl_buf text;
    sl_buf_init(&text, SCHEMA_LOCK_MAX);
    int fd = -1;
    if (lock_text(s, &text) != 0) {
        sl_err_set(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0 || sl_fs_write_all(fd, text.data, text.len) != 0 ||
        fsync(fd) != 0) {
        sl_err_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc != 0) {
        sl_err_set(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        sl_err_set(err, errlen, "cannot rename %s to %s: %s", tmp, path,
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
    sl_schema *schema; /* owned: its fields and policy (an object or array
                          field with placeholder parts) */
    const char *parts[SL_SCHEMA_MAX_FIELDS]; /* field i's "parts" line, in
                          the lock's text; NULL for a flat field */
} lock_file;

/* Read <dir>/schema.lock into a new *text of *len bytes. 1 read, 0
 * absent, -1 error. */
static int read_lock(const char *path, char **text, size_t *len, char *err,
                     size_t errlen)
{
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        sl_err_set(err, errlen, "%s is not a regular file", path);
        return -1;
    }
    switch (sl_fs_read_file(path, SCHEMA_LOCK_MAX, text, len)) {
    case SL_FS_OK:
        return 1;
    case SL_FS_OPEN:
        if (errno == ENOENT || errno == ENOTDIR)
            return 0;
        sl_err_set(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    case SL_FS_TOOBIG:
    case SL_FS_NOMEM:
        sl_err_set(err, errlen, "%s is too large (more than %u bytes)", path,
                SCHEMA_LOCK_MAX);
        return -1;
    default:
        sl_err_set(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
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
    int type = sl_schema_type_from_name(tname);
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
    /* an object's or array's parts are compared as the text of their own
     * line (sl_schema_field_shape): placeholders here */
    sl_schema_value parts_of_array = {.type = SL_TYPE_JSON};
    sl_schema_value v = {.type = (sl_schema_type)type, .nullable = nullable};
    if (type == SL_TYPE_OBJECT && !(v.fields = sl_schema_new(0))) {
        snprintf(why, whylen, "out of memory");
        return -1;
    }
    if (type == SL_TYPE_ARRAY)
        v.items = &parts_of_array;
    return sl_schema_add_value(s, name, &v, why, whylen);
}

/* Parse the text of a schema lock, strictly: the three header lines in
 * order, then field lines, every line ending in a newline. text is
 * modified. 0, or -1 with "PATH line N: ..." in err. */
static int parse_lock(const char *path, char *text, size_t len,
                      lock_file *lf, char *err, size_t errlen)
{
    char why[256] = "";
    size_t lineno = 0;
    char *p = text, *end = text + len;
    if (len == 0) {
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
        } else if (strncmp(p, "  parts ", 8) == 0) {
            size_t nf = sl_schema_nfields(lf->schema);
            sl_schema_type t = nf ? sl_schema_field_type(lf->schema, nf - 1)
                                  : SL_TYPE_STRING;
            if ((t != SL_TYPE_OBJECT && t != SL_TYPE_ARRAY) ||
                lf->parts[nf - 1]) {
                snprintf(why, sizeof why, "a \"parts\" line not right after "
                         "the line of an object or array field");
                goto fail;
            }
            lf->parts[nf - 1] = p + 8;
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
    sl_err_set(err, errlen, "%s line %zu: %s", path, lineno, why);
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
        sl_schema_type t = sl_schema_field_type(was, i);
        bool nul = sl_schema_field_nullable(was, i);
        long j = find_field(now, name);
        if (j < 0) {
            sl_buf_printf(diff, "  field \"%s\": removed (was %s, %s)\n", name,
                          sl_schema_type_name(t), nullity(nul));
            n++;
            continue;
        }
        kept[j] = true;
        reordered |= j < last;
        last = j;
        sl_schema_type t2 = sl_schema_field_type(now, (size_t)j);
        bool nul2 = sl_schema_field_nullable(now, (size_t)j);
        if (t2 != t) {
            sl_buf_printf(diff, "  field \"%s\": type was %s, now %s\n", name,
                          sl_schema_type_name(t), sl_schema_type_name(t2));
            n++;
        }
        if (nul2 != nul) {
            sl_buf_printf(diff, "  field \"%s\": was %s, now %s\n", name,
                          nullity(nul), nullity(nul2));
            n++;
        }
        if (t2 == t && (t == SL_TYPE_OBJECT || t == SL_TYPE_ARRAY)) {
            size_t mark = diff->len;
            const char *was_parts = lf->parts[i] ? lf->parts[i] : "";
            sl_buf_printf(diff, "  field \"%s\": was %s, now ", name,
                          was_parts);
            size_t at = diff->len;
            sl_schema_field_shape(now, (size_t)j, diff);
            if (diff->len - at == strlen(was_parts) &&
                memcmp(diff->data + at, was_parts, diff->len - at) == 0) {
                sl_buf_truncate(diff, mark); /* the same parts */
            } else {
                sl_buf_putc(diff, '\n');
                n++;
            }
        }
    }
    for (size_t j = 0; j < nn; j++) {
        if (kept[j])
            continue;
        sl_buf_printf(diff, "  field \"%s\": added (%s, %s)\n",
                      sl_schema_field_name(now, j),
                      sl_schema_type_name(sl_schema_field_type(now, j)),
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
    if (sl_state_path(path, sizeof path, dir, SCHEMA_LOCK_FILE, err,
                      errlen) != 0)
        return SL_SCHEMA_LOCK_ERROR;
    char *text = NULL;
    size_t len = 0;
    lock_file lf = {.schema = NULL};
    sl_schema_lock_rc rc;
    int r = read_lock(path, &text, &len, err, errlen);
    if (r <= 0)
        rc = r == 0 ? SL_SCHEMA_LOCK_NONE : SL_SCHEMA_LOCK_ERROR;
    else if (parse_lock(path, text, len, &lf, err, errlen) != 0)
        rc = SL_SCHEMA_LOCK_ERROR;
    else
        rc = diff_schemas(&lf, s, diff) ? SL_SCHEMA_LOCK_CHANGED
                                        : SL_SCHEMA_LOCK_SAME;
    sl_schema_free(lf.schema);
    free(text);
    return rc;
}

int sl_state_schema_exists(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    if (sl_state_path(path, sizeof path, dir, SCHEMA_LOCK_FILE, err,
                      errlen) != 0)
        return -1;
    return lstat(path, &st) != 0 && errno == ENOENT ? 0 : 1;
}

int sl_state_schema_remove(const char *dir, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (sl_state_path(path, sizeof path, dir, SCHEMA_LOCK_FILE, err,
                      errlen) != 0)
        return -1;
    if (unlink(path) != 0 && errno != ENOENT) {
        sl_err_set(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        return -1;
    }
    return sync_dir(dir, err, errlen);
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
        sl_buf_init(&diff, SL_STATE_DIFF_MAX);
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
