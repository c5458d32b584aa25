/* sl_reset: `sluice reset`, which forgets a connector's schema lock so that
 * its next run accepts a new schema, and the rule for what it may discard. */
#include "sl_reset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_config_load.h"
#include "sl_dlq.h"
#include "sl_help.h"
#include "sl_inbox.h"
#include "sl_spool.h"
#include "sl_state.h"

#define EMPTY_DEPTH_MAX 8 /* nesting removed under spool/ etc. */

static const char *plural(uint64_t n, const char *one, const char *many)
{
    return n == 1 ? one : many;
}

int sl_reset_plan(const char *name, uint64_t records, uint64_t bytes,
                  uint64_t dead, int force, char *msg, size_t msglen)
{
    if (records == 0 && dead == 0) {
        snprintf(msg, msglen, "%s", "");
        return 0;
    }
    if (force) {
        snprintf(msg, msglen, "discarding %" PRIu64 " undelivered %s (%" PRIu64
                 " %s) and %" PRIu64 " dead %s", records,
                 plural(records, "record", "records"), bytes,
                 plural(bytes, "byte", "bytes"), dead,
                 plural(dead, "letter", "letters"));
        return 0;
    }
    snprintf(msg, msglen, "connector %s still holds %" PRIu64 " undelivered "
             "%s and %" PRIu64 " dead %s; deliver them (start sluice with the "
             "old schema), or replay/purge the dead letters, or use --force "
             "to discard them", name, records,
             plural(records, "record", "records"), dead,
             plural(dead, "letter", "letters"));
    return 1;
}

/* Remove everything inside the directory open as dfd (which is consumed). */
static int empty_at(int dfd, const char *path, int depth, char *err,
                    size_t errlen)
{
    DIR *d = fdopendir(dfd);
    if (!d) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
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
        if (sl_state_path(sub, sizeof sub, path, name, err, errlen) != 0) {
            rc = -1;
            break;
        }
        struct stat st;
        if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                continue;
            snprintf(err, errlen, "cannot stat %s: %s", sub, strerror(errno));
            rc = -1;
            break;
        }
        int flags = 0;
        if (S_ISDIR(st.st_mode)) {
            if (depth >= EMPTY_DEPTH_MAX) {
                snprintf(err, errlen, "%s: directories nested too deep", sub);
                rc = -1;
                break;
            }
            int sfd = openat(dirfd(d), name, O_RDONLY | O_DIRECTORY |
                             O_NOFOLLOW | O_CLOEXEC);
            if (sfd < 0) {
                snprintf(err, errlen, "cannot open %s: %s", sub,
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
            snprintf(err, errlen, "cannot remove %s: %s", sub,
                     strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0 && fsync(dirfd(d)) != 0) {
        snprintf(err, errlen, "cannot sync directory %s: %s", path,
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
    if (sl_state_path(path, sizeof path, dir, sub, err, errlen) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    return empty_at(fd, path, 0, err, errlen);
}

int sl_reset_connector(const char *dir, const sl_connector_conf *c,
                       int force, FILE *out, FILE *errf)
{
    char err[PATH_MAX + 512];
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
    int has_lock = sl_state_schema_exists(dir, err, sizeof err);
    if (has_lock < 0) {
        fprintf(errf, "sluice reset: %s\n", err);
        goto out;
    }
    if (has_lock == 0) {
        fprintf(out, "connector %s has no schema lock in %s: nothing to "
                "reset\n", c->name, dir);
        rc = 0;
        goto out;
    }
    /* replayed records waiting in the inbox were encoded with the old
     * schema too: they count as held */
    uint64_t records, bytes, in_records, in_bytes;
    long dead = sl_dlq_count_dir(dir, err, sizeof err);
    if (dead < 0 ||
        sl_spool_inspect(dir, &records, &bytes, err, sizeof err) != 0 ||
        sl_inbox_count(dir, &in_records, &in_bytes, err, sizeof err) != 0) {
        fprintf(errf, "sluice reset: connector %s: %s\n", c->name, err);
        goto out;
    }
    char msg[512];
    if (sl_reset_plan(c->name, records + in_records, bytes + in_bytes,
                      (uint64_t)dead, force, msg, sizeof msg) != 0) {
        fprintf(errf, "sluice reset: %s\n", msg);
        goto out;
    }
    sl_buf diff;
    sl_buf_init(&diff, SL_STATE_DIFF_MAX);
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
    if (sl_state_schema_remove(dir, err, sizeof err) != 0) {
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

/* the text lives in sl_help.c, with every command's */
static void reset_usage(FILE *out)
{
    sl_help_print_cmd(sl_help_find("reset"), out);
}

int sl_reset_main(int argc, char **argv)
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
    sl_config *cfg = sl_config_load_or_report(path, "sluice", stderr);
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
        rc = sl_reset_connector(dir, c, force, stdout, stderr);
    sl_config_free(cfg);
    return rc;
}
