/* sl_reload: load, check and compare a configuration for a reload (see
 * sl_reload.h). */
#include "sl_reload.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_config_diff.h"
#include "sl_config_errors.h"
#include "sl_config_load.h"
#include "sl_log.h"
#include "sl_state.h"

/* A reload's lines answer an operator's SIGHUP: written every time, never
 * summarised as repeats (sl_log_news). */
#define reload_warn(...) sl_log_news(SL_LOG_WARN, "reload", __VA_ARGS__)
#define reload_error(...) sl_log_news(SL_LOG_ERROR, "reload", __VA_ARGS__)

#define SUMMARY_MAX (64 * 1024)

void sl_reload_report_free(sl_reload_report *r)
{
    sl_buf_free(&r->summary);
    free(r->action);
    memset(r, 0, sizeof *r);
}

/* The lines of `text` logged one by one after `head` (a diff has one line
 * per difference). */
static void log_lines(const char *head, const char *text, size_t len)
{
    reload_warn("%s", head);
    while (len) {
        const char *nl = memchr(text, '\n', len);
        size_t n = nl ? (size_t)(nl - text) : len;
        if (n)
            reload_warn("%.*s", (int)n, text);
        text += nl ? n + 1 : n;
        len -= nl ? n + 1 : n;
    }
}

/* Does connector cc's schema differ from its lock? 1 refused (logged with
 * the difference), 0 it may run. */
static int schema_refused(const sl_config *next, const sl_connector_conf *cc)
{
    char dir[PATH_MAX], err[PATH_MAX + 256], head[PATH_MAX + 512];
    if (sl_state_dir(next->state_dir, cc->name, 0, dir, sizeof dir, err,
                     sizeof err) != 0) {
        reload_warn("connector %s: %s", cc->name, err);
        return 1;
    }
    sl_buf diff;
    sl_buf_init(&diff, SL_STATE_DIFF_MAX);
    int refused = 1;
    switch (sl_state_schema_check(dir, cc->schema, &diff, err, sizeof err)) {
    case SL_SCHEMA_LOCK_NONE:
    case SL_SCHEMA_LOCK_SAME:
        refused = 0;
        break;
    case SL_SCHEMA_LOCK_CHANGED:
        snprintf(head, sizeof head, "connector %s: schema change refused: it "
                 "keeps running with its old configuration (deliver or drain "
                 "it, then `sluice reset %s` and restart); the difference "
                 "from %s/schema.lock:", cc->name, cc->name, dir);
        log_lines(head, diff.data ? diff.data : "", diff.len);
        break;
    case SL_SCHEMA_LOCK_ERROR:
        reload_warn("connector %s: refused: %s", cc->name, err);
        break;
    }
    sl_buf_free(&diff);
    return refused;
}

/* Durability and spool keys shape the open spool: they take a restart.
 * 1 refused (logged), 0 not. */
static int durability_refused(const sl_connector_conf *a,
                              const sl_connector_conf *b)
{
    if (a->durability == b->durability &&
        a->queue_max_bytes == b->queue_max_bytes &&
        a->spool_max_bytes == b->spool_max_bytes &&
        a->spool_segment_bytes == b->spool_segment_bytes &&
        a->spool_cache_bytes == b->spool_cache_bytes)
        return 0;
    reload_warn("connector %s: durability and spool changes take "
                "a restart: it keeps running with its old configuration",
                b->name);
    return 1;
}

static const sl_connector_conf *running_of(const sl_connector_conf *const *run,
                                           size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(run[i]->name, name) == 0)
            return run[i];
    return NULL;
}

/* Appends "name: groups" to `list` for a connector that changed (*n
 * counted, *act CHANGE; else *same). 0, or -1 out of room. */
static int compare(const sl_connector_conf *a, const sl_connector_conf *b,
                   sl_buf *list, size_t *n, size_t *same, unsigned char *act)
{
    sl_buf groups;
    sl_buf_init(&groups, 4096);
    int d = sl_config_diff_connector(a, b, &groups);
    int rc = d < 0 ? -1 : 0;
    if (d > 0 && (*act = SL_RELOAD_CHANGE))
        rc = sl_buf_printf(list, "%s%s: %.*s", (*n)++ ? "; " : "", b->name,
                           (int)groups.len, groups.data);
    else if (d == 0)
        (*same)++;
    sl_buf_free(&groups);
    return rc;
}

static int add_name(sl_buf *list, size_t *n, const char *name)
{
    return sl_buf_printf(list, "%s%s", (*n)++ ? ", " : "", name);
}

/* Fills r from old and next; refused connectors listed in r. */
static int account(const sl_config *old, const sl_connector_conf *const *run,
                   size_t nrun, const sl_config *next, sl_reload_report *r)
{
    sl_buf changed, added, removed, refused, gw;
    sl_buf_init(&changed, SUMMARY_MAX);
    sl_buf_init(&added, SUMMARY_MAX);
    sl_buf_init(&removed, SUMMARY_MAX);
    sl_buf_init(&refused, SUMMARY_MAX);
    sl_buf_init(&gw, 4096);
    int rc = 0;
    r->nactions = next->nconnectors;
    if (!(r->action = calloc(r->nactions ? r->nactions : 1, 1)))
        rc = -1;
    for (size_t i = 0; i < next->nconnectors && rc == 0; i++) {
        const sl_connector_conf *b = &next->connectors[i];
        const sl_connector_conf *a = running_of(run, nrun, b->name);
        const char *why = schema_refused(next, b) ? "schema"
                          : a && durability_refused(a, b) ? "durability"
                                                          : NULL;
        if (why && (r->action[i] = SL_RELOAD_REFUSE))
            rc = sl_buf_printf(&refused, "%s%s: %s", r->refused++ ? ", " : "",
                               b->name, why);
        else if (!a && (r->action[i] = SL_RELOAD_ADD))
            rc = add_name(&added, &r->added, b->name);
        else if (a)
            rc = compare(a, b, &changed, &r->changed, &r->same, &r->action[i]);
    }
    for (size_t i = 0; i < nrun && rc == 0; i++)
        if (!sl_config_connector(next, run[i]->name))
            rc = add_name(&removed, &r->removed, run[i]->name);
    int g = rc == 0 ? sl_config_diff_gateway(old, next, &gw) : -1;
    r->gateway_changed = g > 0;
    if (g < 0 ||
        sl_buf_printf(&r->summary, "%zu connector%s changed%s%.*s%s, %zu "
                      "added%s%.*s%s, %zu removed%s%.*s%s", r->changed,
                      r->changed == 1 ? "" : "s", r->changed ? " (" : "",
                      (int)changed.len, changed.data ? changed.data : "",
                      r->changed ? ")" : "", r->added, r->added ? " (" : "",
                      (int)added.len, added.data ? added.data : "",
                      r->added ? ")" : "", r->removed, r->removed ? " (" : "",
                      (int)removed.len, removed.data ? removed.data : "",
                      r->removed ? ")" : "") != 0 ||
        (r->refused && sl_buf_printf(&r->summary, "; %zu refused (%.*s)",
                                     r->refused, (int)refused.len,
                                     refused.data) != 0) ||
        (g > 0 && sl_buf_printf(&r->summary, "; gateway: %.*s", (int)gw.len,
                                gw.data) != 0))
        rc = -1;
    sl_buf_free(&changed);
    sl_buf_free(&added);
    sl_buf_free(&removed);
    sl_buf_free(&refused);
    sl_buf_free(&gw);
    return rc;
}

sl_reload_action sl_reload_action_of(const sl_reload_report *r, size_t i)
{
    return r->action && i < r->nactions ? (sl_reload_action)r->action[i]
                                        : SL_RELOAD_SAME;
}

/* Problems the loader cannot see: those that need the running config. */
static size_t against_running(const sl_config *old, const sl_config *next)
{
    size_t n = 0;
    if (strcmp(old->state_dir, next->state_dir) != 0) {
        reload_error("state_dir cannot change on a reload (running "
                     "%s, the file says %s): restart to move it",
                     old->state_dir, next->state_dir);
        n++;
    }
    return n;
}

sl_config *sl_reload_check(const sl_config *old,
                           const sl_connector_conf *const *running, size_t n,
                           const char *path, sl_reload_report *r,
                           size_t *nproblems)
{
    memset(r, 0, sizeof *r);
    sl_buf_init(&r->summary, SUMMARY_MAX);
    *nproblems = 0;
    sl_config_errors errs;
    sl_config_errors_init(&errs);
    sl_config *next = sl_config_load(path, &errs);
    for (size_t i = 0; i < errs.n; i++)
        reload_error("%s", errs.msgs[i]);
    *nproblems = next ? 0 : (errs.n ? errs.n : 1);
    sl_config_errors_free(&errs);
    if (next)
        *nproblems = against_running(old, next);
    if (next && *nproblems == 0 && account(old, running, n, next, r) != 0) {
        reload_error("out of memory comparing the configurations");
        *nproblems = 1;
    }
    if (*nproblems) {
        sl_config_free(next);
        sl_reload_report_free(r);
        return NULL;
    }
    return next;
}
