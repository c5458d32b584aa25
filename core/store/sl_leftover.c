/* sl_leftover: connector directories of connectors no longer configured
 * (see sl_leftover.h). */
#include "sl_leftover.h"

#include <dirent.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "sl_config_load.h"
#include "sl_dlq.h"
#include "sl_inbox.h"
#include "sl_spool.h"

/* What one left-over connector directory holds. */
typedef struct leftover {
    char name[128];       /* the directory's name: the connector's */
    uint64_t records;     /* undelivered: spool and inbox */
    uint64_t bytes;
    long dead;            /* dead letters */
} leftover;

int sl_leftover_is_connector_dir(const char *state_dir, const char *name)
{
    static const char *marks[] = {"lock", "schema.lock", "spool", "dlq"};
    char path[PATH_MAX];
    struct stat st;
    if (name[0] == '.')
        return 0;
    int n = snprintf(path, sizeof path, "%s/%s", state_dir, name);
    if (n < 0 || (size_t)n >= sizeof path || lstat(path, &st) != 0 ||
        !S_ISDIR(st.st_mode))
        return 0;
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        n = snprintf(path, sizeof path, "%s/%s/%s", state_dir, name, marks[i]);
        if (n > 0 && (size_t)n < sizeof path && lstat(path, &st) == 0)
            return 1;
    }
    return 0;
}

/* What dir holds; 0, or -1 with err. */
static int inspect(const char *dir, leftover *l, char *err, size_t errlen)
{
    uint64_t in_records, in_bytes;
    if ((l->dead = sl_dlq_count_dir(dir, err, errlen)) < 0 ||
        sl_spool_inspect(dir, &l->records, &l->bytes, err, errlen) != 0 ||
        sl_inbox_count(dir, &in_records, &in_bytes, err, errlen) != 0)
        return -1;
    l->records += in_records;
    l->bytes += in_bytes;
    return 0;
}

static void report_one(const sl_config *cfg, const char *name, FILE *out)
{
    char dir[PATH_MAX], err[PATH_MAX + 256];
    leftover l;
    memset(&l, 0, sizeof l);
    snprintf(l.name, sizeof l.name, "%s", name);
    snprintf(dir, sizeof dir, "%s/%s", cfg->state_dir, name);
    if (inspect(dir, &l, err, sizeof err) != 0) {
        fprintf(out, "NOTE: %s: no connector \"%s\" is configured; its "
                "directory stays (cannot read it: %s)\n", dir, l.name, err);
        return;
    }
    fprintf(out, "NOTE: %s: no connector \"%s\" is configured; its directory "
            "stays with %llu undelivered record%s (%llu bytes) and %ld dead "
            "letter%s: configure it again to deliver them, or remove the "
            "directory\n", dir, l.name, (unsigned long long)l.records,
            l.records == 1 ? "" : "s", (unsigned long long)l.bytes, l.dead,
            l.dead == 1 ? "" : "s");
}

int sl_leftover_report(const sl_config *cfg, FILE *out)
{
    DIR *d = opendir(cfg->state_dir);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (sl_config_connector(cfg, e->d_name) ||
            !sl_leftover_is_connector_dir(cfg->state_dir, e->d_name))
            continue;
        report_one(cfg, e->d_name, out);
        n++;
    }
    closedir(d);
    return n;
}
