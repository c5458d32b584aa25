/* sl_reload_tcp: see sl_reload_tcp.h. */
#include "sl_reload_tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "sl_config_diff.h"
#include "sl_intake_tcp.h"
#include "sl_intake_tls.h"
#include "sl_log.h"

#define reload_info(...) sl_log_news(SL_LOG_INFO, "reload", __VA_ARGS__)
#define reload_error(...) sl_log_news(SL_LOG_ERROR, "reload", __VA_ARGS__)

typedef struct entry {
    sl_intake_tcp *t;            /* serving the address now */
    unsigned long long failed;   /* handshake failures of intakes before t
                                    on this address */
} entry;

struct sl_reload_tcp {
    struct event_base *base;
    entry *e;                    /* the listeners now, in config order */
    size_t n;
    sl_tcp_conf *confs;          /* n shallow copies of the intakes' own
                                    settings (sl_reload_tcp_running) */
    size_t wanted;               /* listeners the configuration has */
    sl_intake_tcp **old;         /* replaced or removed: serving to the end */
    size_t nold, capold;
};

typedef struct step {
    const sl_tcp_conf *conf;     /* next->tcp[i], borrowed */
    long from;                   /* running entry on that address, or -1 */
    sl_intake_tcp_listen *l;     /* bound by prepare (from == -1) */
    SSL_CTX *tls;                /* built by prepare; NULL: plain */
} step;

struct sl_reload_tcp_change {
    step *s;
    size_t n;
    entry *e;                    /* the next entries (room for n) */
    sl_tcp_conf *confs;          /* ... and their settings */
    int start;                   /* the start's: failures are fatal */
};

static long find_running(const sl_reload_tcp *s, const sl_tcp_conf *c)
{
    for (size_t i = 0; i < s->n; i++) {
        const sl_tcp_conf *r = sl_intake_tcp_settings(s->e[i].t);
        if (r->port == c->port && strcmp(r->host, c->host) == 0)
            return (long)i;
    }
    return -1;
}

void sl_reload_tcp_abort(sl_reload_tcp_change *ch)
{
    if (!ch)
        return;
    for (size_t i = 0; i < ch->n; i++) {
        sl_intake_tcp_listen_free(ch->s[i].l);
        SSL_CTX_free(ch->s[i].tls);
    }
    free(ch->s);
    free(ch->e);
    free(ch->confs);
    free(ch);
}

/* The change to next, or NULL with the reason in err. */
static sl_reload_tcp_change *plan(sl_reload_tcp *s, const sl_config *next,
                                  char *err, size_t errlen)
{
    size_t cap = next->ntcp ? next->ntcp : 1;
    sl_reload_tcp_change *ch = calloc(1, sizeof *ch);
    if (!ch) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sl_intake_tcp **old = realloc(s->old, (s->nold + s->n + 1) * sizeof *old);
    if (old) {
        s->old = old; /* room for every listener to retire at commit */
        s->capold = s->nold + s->n + 1;
    }
    if (!old || !(ch->s = calloc(cap, sizeof *ch->s)) ||
        !(ch->e = calloc(cap, sizeof *ch->e)) ||
        !(ch->confs = calloc(cap, sizeof *ch->confs))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (; ch->n < next->ntcp; ch->n++) {
        step *st = &ch->s[ch->n];
        char what[32], why[768];
        st->conf = &next->tcp[ch->n];
        st->from = find_running(s, st->conf);
        snprintf(what, sizeof what, "tcp[%zu].tls", ch->n + 1);
        if (sl_intake_tls_ctx(&st->conf->tls, what, &st->tls, why,
                              sizeof why) != 0) {
            snprintf(err, errlen, "%s", why);
            goto fail;
        }
        if (st->from < 0 &&
            !(st->l = sl_intake_tcp_listen_bind(s->base, st->conf->listen,
                                                st->conf->host,
                                                st->conf->port, err, errlen)))
            goto fail;
    }
    return ch;
fail:
    if (ch->s && ch->n < next->ntcp)
        ch->n++; /* what the step that failed had made, too */
    sl_reload_tcp_abort(ch);
    return NULL;
}

int sl_reload_tcp_prepare(sl_reload_tcp *s, const sl_config *next,
                          sl_reload_tcp_change **out)
{
    char err[1024];
    *out = plan(s, next, err, sizeof err);
    if (*out)
        return 0;
    reload_error("reload failed: %s; the running configuration is unchanged",
                 err);
    return -1;
}

static sl_connector *find_connector(sl_connector *const *cs, size_t n,
                                    const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(sl_connector_name(cs[i]), name) == 0)
            return cs[i];
    return NULL;
}

/* Listener `listen` does not start: why, said. */
static void refuse(const sl_reload_tcp_change *ch, const char *listen,
                   const char *why)
{
    if (ch->start)
        fprintf(stderr, "sluice: tcp %s: %s\n", listen, why);
    else
        reload_error("tcp %s: not listening: %s", listen, why);
}

/* Step st applied: into *e (0), or not (-1, logged); *used set to the
 * running entry it kept or replaced. */
static int apply_step(sl_reload_tcp *s, sl_reload_tcp_change *ch, step *st,
                      sl_connector *const *cs, size_t n, entry *e, long *used)
{
    char err[256];
    const sl_tcp_conf *tc = st->conf;
    entry *was = st->from >= 0 ? &s->e[st->from] : NULL;
    sl_connector *c = find_connector(cs, n, tc->connector);
    *used = -1;
    if (!c) {
        snprintf(err, sizeof err, "connector %s is not running",
                 tc->connector);
        refuse(ch, tc->listen, err);
        return -1;
    }
    if (was && !sl_config_diff_tcp(sl_intake_tcp_settings(was->t), tc)) {
        sl_intake_tcp_set_tls(was->t, st->tls); /* the files read again */
        *e = *was;
        *used = st->from;
        return 0;
    }
    sl_intake_tcp *t = sl_intake_tcp_new(s->base, tc, c, st->tls, err,
                                         sizeof err);
    if (!t && was) { /* the running one stays as it is */
        reload_error("tcp %s: keeps its settings: %s", tc->listen, err);
        *e = *was;
        *used = st->from;
        return 0;
    }
    if (!t) {
        refuse(ch, tc->listen, err);
        return -1;
    }
    e->t = t;
    e->failed = 0;
    if (was) {
        /* the socket goes on to t: never closed, no connection refused */
        sl_intake_tcp_take(t, sl_intake_tcp_give(was->t));
        e->failed = was->failed + sl_intake_tcp_tls_failures(was->t);
        s->old[s->nold++] = was->t;
        *used = st->from;
        reload_info("reload: tcp %s -> %s: new settings for new connections "
                    "(%zu open keep theirs)", tc->listen, tc->connector,
                    sl_intake_tcp_connections(was->t));
    } else {
        sl_intake_tcp_take(t, st->l);
        st->l = NULL;
        if (!ch->start)
            reload_info("reload: tcp %s -> %s listening", tc->listen,
                        tc->connector);
    }
    return 0;
}

/* Apply ch; the number of listeners that could not be applied. */
static size_t apply(sl_reload_tcp *s, sl_reload_tcp_change *ch,
                    sl_connector *const *cs, size_t n)
{
    size_t m = 0, failed = 0;
    unsigned char *kept = calloc(s->n ? s->n : 1, 1);
    for (size_t i = 0; i < ch->n; i++) {
        long used;
        if (apply_step(s, ch, &ch->s[i], cs, n, &ch->e[m], &used) == 0)
            m++;
        else
            failed++;
        if (used >= 0 && kept)
            kept[used] = 1;
    }
    for (size_t i = 0; i < s->n; i++) {
        if (kept && kept[i])
            continue;
        /* gone (or, out of memory, everything not taken on) */
        reload_info("reload: tcp %s closed (%zu open connections are "
                    "served to their end)", sl_intake_tcp_settings(s->e[i].t)->listen,
                    sl_intake_tcp_connections(s->e[i].t));
        sl_intake_tcp_retire(s->e[i].t);
        s->old[s->nold++] = s->e[i].t;
    }
    free(kept);
    for (size_t i = 0; i < m; i++)
        ch->confs[i] = *sl_intake_tcp_settings(ch->e[i].t);
    free(s->e);
    free(s->confs);
    s->e = ch->e;
    s->confs = ch->confs;
    s->n = m;
    s->wanted = ch->n;
    ch->e = NULL;
    ch->confs = NULL;
    return failed;
}

void sl_reload_tcp_commit(sl_reload_tcp *s, sl_reload_tcp_change *ch,
                          sl_connector *const *cs, size_t n)
{
    apply(s, ch, cs, n);
    sl_reload_tcp_abort(ch); /* what is left: TLS references, sockets */
    sl_reload_tcp_collect(s);
}

sl_reload_tcp *sl_reload_tcp_new(struct event_base *base, const sl_config *cfg,
                                 sl_connector *const *cs, size_t n, char *err,
                                 size_t errlen)
{
    sl_reload_tcp *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->base = base;
    sl_reload_tcp_change *ch = plan(s, cfg, err, errlen);
    if (!ch) {
        sl_reload_tcp_free(s);
        return NULL;
    }
    ch->start = 1;
    size_t failed = apply(s, ch, cs, n);
    sl_reload_tcp_abort(ch);
    if (failed) {
        snprintf(err, errlen, "%zu TCP listener%s could not start", failed,
                 failed == 1 ? "" : "s");
        sl_reload_tcp_stop(s);
        sl_reload_tcp_free(s);
        return NULL;
    }
    return s;
}

void sl_reload_tcp_collect(sl_reload_tcp *s)
{
    size_t kept = 0;
    for (size_t i = 0; i < s->nold; i++) {
        if (sl_intake_tcp_done(s->old[i]))
            sl_intake_tcp_free(s->old[i]);
        else
            s->old[kept++] = s->old[i];
    }
    s->nold = kept;
}

void sl_reload_tcp_running(const sl_reload_tcp *s, sl_tcp_conf **tcp,
                           size_t *ntcp)
{
    *tcp = s->n ? s->confs : NULL;
    *ntcp = s->n;
}

size_t sl_reload_tcp_count(const sl_reload_tcp *s) { return s->n; }
size_t sl_reload_tcp_wanted(const sl_reload_tcp *s) { return s->wanted; }

size_t sl_reload_tcp_up(const sl_reload_tcp *s)
{
    size_t up = 0;
    for (size_t i = 0; i < s->n; i++)
        up += sl_intake_tcp_listening(s->e[i].t) != 0;
    return up;
}

void sl_reload_tcp_describe(const sl_reload_tcp *s, size_t i, char *out,
                            size_t n)
{
    const sl_tcp_conf *c = sl_intake_tcp_settings(s->e[i].t);
    snprintf(out, n, "tcp %s%s to %s", c->listen, c->tls.cert ? " (TLS)" : "",
             c->connector);
}

size_t sl_reload_tcp_tls_views(const sl_reload_tcp *s, sl_metrics_tls *views,
                               size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n && k < max; i++) {
        const sl_tcp_conf *c = sl_intake_tcp_settings(s->e[i].t);
        if (c->tls.cert)
            views[k++] = (sl_metrics_tls){
                .listener = c->listen,
                .handshake_failures =
                    s->e[i].failed + sl_intake_tcp_tls_failures(s->e[i].t)};
    }
    return k;
}

void sl_reload_tcp_log_start(const sl_reload_tcp *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const sl_tcp_conf *c = sl_intake_tcp_settings(s->e[i].t);
        sl_log_info("gateway", "tcp %s -> connector %s (NDJSON%s)", c->listen,
                    c->connector, c->ack ? ", ack" : "");
    }
}

void sl_reload_tcp_close_listeners(sl_reload_tcp *s)
{
    for (size_t i = 0; i < s->n; i++)
        sl_intake_tcp_close_listener(s->e[i].t);
    for (size_t i = 0; i < s->nold; i++)
        sl_intake_tcp_close_listener(s->old[i]);
}

void sl_reload_tcp_stop(sl_reload_tcp *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        sl_intake_tcp_free(s->e[i].t);
    for (size_t i = 0; i < s->nold; i++)
        sl_intake_tcp_free(s->old[i]);
    s->n = s->nold = 0;
}

void sl_reload_tcp_free(sl_reload_tcp *s)
{
    if (!s)
        return;
    sl_reload_tcp_stop(s);
    free(s->e);
    free(s->confs);
    free(s->old);
    free(s);
}
