/* sl_readyz: the readiness checks of the gateway. */
#include "sl_readyz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "sl_buf.h"

static int check(sl_buf *out, const char *name, const char *problem)
{
    sl_buf_printf(out, ",\"%s\":", name);
    sl_buf_json_string(out, problem ? problem : "ok",
                       strlen(problem ? problem : "ok"));
    return problem != NULL;
}

/* NULL when the directory can be written to, else why not. */
static const char *unwritable(const char *dir, char *why, size_t n)
{
    if (access(dir, W_OK) == 0)
        return NULL;
    int e = errno;
    size_t len = strlen(dir);
    snprintf(why, n, "%s%s is not writable: %s", len > 200 ? "..." : "",
             len > 200 ? dir + len - 200 : dir, strerror(e));
    return why;
}

int sl_readyz_checks(const sl_readyz_facts *f, sl_buf *out)
{
    char why[320];
    const char *dir = unwritable(f->state_dir, why, sizeof why);
    for (size_t i = 0; i < f->n && !dir; i++)
        dir = unwritable(sl_connector_dir(f->connectors[i]), why, sizeof why);
    for (size_t i = 0; i < f->n && !dir; i++) {
        const char *e = sl_connector_spool_failure(f->connectors[i]);
        if (e) {
            snprintf(why, sizeof why, "the spool of %s cannot be written: "
                     "%.200s", sl_connector_name(f->connectors[i]), e);
            dir = why;
        }
    }
    int failed = check(out, "listeners",
                       f->stopping ? "shutting down"
                       : f->tcp_up < f->tcp_wanted
                           ? "not every TCP listener is listening"
                           : NULL);
    failed += check(out, "state_dir", dir);
    failed += check(out, "config",
                    f->config_loaded ? NULL : "no configuration loaded");
    return failed;
}
