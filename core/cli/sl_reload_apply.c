/* sl_reload_apply: applying a checked reload to the running connectors,
 * and the configurations kept for them (see sl_reload_apply.h). */
#include "sl_reload_apply.h"

#include <stdlib.h>
#include <string.h>

#include "sl_config_load.h"
#include "sl_log.h"

struct sl_reload_configs {
    sl_config **cfgs; /* owned */
    size_t n, cap;
    const sl_config *keep; /* not freed: the gateway keys run from it */
};

static sl_connector *find(sl_connector *const *cs, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sl_connector_name(cs[i]), name) == 0)
            return cs[i];
    return NULL;
}

size_t sl_reload_apply(sl_connector *const *cs, size_t n,
                       const sl_config *next, const sl_reload_report *r)
{
    char err[256];
    size_t applied = 0;
    for (size_t i = 0; i < next->nconnectors; i++) {
        const sl_connector_conf *cc = &next->connectors[i];
        sl_connector *c = find(cs, n, cc->name);
        if (sl_reload_action_of(r, i) != SL_RELOAD_CHANGE || !c)
            continue;
        for (size_t k = 0; k < cc->nwarnings; k++) /* as at the start */
            sl_log_warn("config", "%s", cc->warnings[k]);
        if (sl_connector_reconfigure(c, cc, err, sizeof err) != 0) {
            sl_log_news(SL_LOG_ERROR, "reload", "connector %s: cannot take "
                        "its new configuration (%s): it keeps the old one",
                        cc->name, err);
            continue;
        }
        applied++;
    }
    return applied;
}

sl_reload_configs *sl_reload_apply_configs_new(void)
{
    return calloc(1, sizeof(sl_reload_configs));
}

void sl_reload_apply_configs_free(sl_reload_configs *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sl_config_free(l->cfgs[i]);
    free(l->cfgs);
    free(l);
}

int sl_reload_apply_configs_add(sl_reload_configs *l, sl_config *cfg)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 4;
        sl_config **p = realloc(l->cfgs, cap * sizeof *p);
        if (!p)
            return -1;
        l->cfgs = p;
        l->cap = cap;
    }
    l->cfgs[l->n++] = cfg;
    return 0;
}

void sl_reload_apply_configs_keep(sl_reload_configs *l, const sl_config *cfg)
{
    l->keep = cfg;
}

static int in_use(const sl_config *cfg, sl_connector *const *cs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < cfg->nconnectors; k++)
            if (sl_connector_uses(cs[i], &cfg->connectors[k]))
                return 1;
    return 0;
}

size_t sl_reload_apply_configs_collect(sl_reload_configs *l, sl_connector *const *cs,
                                 size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->cfgs[i] == l->keep || in_use(l->cfgs[i], cs, n))
            l->cfgs[kept++] = l->cfgs[i];
        else
            sl_config_free(l->cfgs[i]);
    }
    l->n = kept;
    return kept;
}
