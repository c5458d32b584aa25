/* sl_gateway: wiring of the run loop. */
#include "sl_gateway.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "sl_connector.h"
#include "sl_fdlimit.h"
#include "sl_http_client.h"
#include "sl_intake_http.h"
#include "sl_intake_tls.h"
#include "sl_buf.h"
#include "sl_config_load.h"
#include "sl_config_print.h"
#include "sl_log.h"
#include "sl_metrics.h"
#include "sl_notify.h"
#include "sl_offload.h"
#include "sl_openapi.h"
#include "sl_pidfile.h"
#include "sl_reload.h"
#include "sl_reload_apply.h"
#include "sl_reload_http.h"
#include "sl_syncpool.h"
#include "sl_reload_tcp.h"
#include "sl_readyz.h"
#include "sl_sdstatus.h"
#include "sl_state.h"
#include "sl_status_page.h"
#include "sl_time.h"
#include "sl_version.h"

/* A reload's lines answer an operator's SIGHUP: written every time, never
 * summarised as repeats (sl_log_news). */
#define reload_warn(...) sl_log_news(SL_LOG_WARN, "reload", __VA_ARGS__)
#define reload_error(...) sl_log_news(SL_LOG_ERROR, "reload", __VA_ARGS__)

typedef struct gateway {
    const sl_config *cfg;
    struct event_base *base;
    sl_http_client *http;
    sl_offload *checks;         /* the check threads; NULL: workers = 1 */
    sl_syncpool *syncpool;      /* every spool's sync and delete threads */
    sl_connector **connectors;
    size_t n;
    sl_intake_http *intake;
    sl_reload_tcp *tcp;         /* owned: the TCP listeners now */
    struct event *sigint, *sigterm, *sighup, *drain_tick, *collect_tick;
    struct event *log_tick;     /* sl_log_tick every second */
    unsigned char *closed;      /* per connector: removed by a reload (the
                                   intake answers 404; it still delivers
                                   what it holds) */
    sl_reload_configs *configs; /* owned: those reloads loaded, kept while
                                   a connector uses them (cfg is the
                                   caller's: the listeners' and the
                                   gateway keys') */
    int pid_fd;                 /* <state_dir>/sluice.pid, held; or -1 */
    uint64_t reloads_ok, reloads_failed; /* SIGHUPs, by outcome */
    sl_notify_watchdog *watchdog; /* WATCHDOG=1 pings, when asked for */
    sl_sdstatus *sdstatus;        /* STATUS= refreshed while running */
    uint64_t drain_deadline;
    int stopping;
    int abandoned;
    sl_status_page *page;       /* GET / */
    sl_reload_http *keys;       /* owned: the HTTP intake's keys and TLS
                                   context now, and log_level */
    int log_level_given;        /* --log-level: it wins over log_level */
} gateway;

static size_t undelivered(const gateway *g, int durable)
{
    size_t total = 0;
    for (size_t i = 0; i < g->n; i++)
        if (sl_connector_durable(g->connectors[i]) == durable)
            total += sl_connector_undelivered(g->connectors[i]);
    return total;
}

static size_t busy(const gateway *g)
{
    size_t total = 0;
    for (size_t i = 0; i < g->n; i++)
        total += sl_connector_busy(g->connectors[i]);
    return total;
}

static void on_log_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    sl_log_tick(); /* the summaries of repeated lines whose window ended */
}

static void on_drain_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    gateway *g = arg;
    if (busy(g) == 0) {
        size_t kept = undelivered(g, 1);
        if (kept)
            sl_log_info("gateway", "in-flight requests finished; %zu undelivered "
                    "records stay in the spool for the next run", kept);
        else
            sl_log_info("gateway", "everything delivered; stopping");
        event_base_loopexit(g->base, NULL);
    } else if (sl_time_mono_ms() >= g->drain_deadline) {
        size_t lost = undelivered(g, 0);
        if (lost) {
            sl_log_error("gateway", "shutdown deadline passed with %zu records "
                     "undelivered; they are lost (durability \"memory\")",
                     lost);
            g->abandoned = 1;
        }
        size_t kept = undelivered(g, 1);
        if (kept)
            sl_log_warn("gateway", "shutdown deadline passed with requests in "
                    "flight; their batches stay in the spool and are sent "
                    "again (same idempotency key) at the next start");
        event_base_loopexit(g->base, NULL);
    }
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    gateway *g = arg;
    if (g->stopping) {
        sl_log_warn("gateway", "second signal: stopping now");
        g->abandoned = undelivered(g, 0) > 0;
        event_base_loopexit(g->base, NULL);
        return;
    }
    g->stopping = 1;
    sl_sdstatus_free(g->sdstatus); /* "listening" no more */
    g->sdstatus = NULL;
    sl_notify_stopping("stopping (signal %d): finishing requests in flight",
                       (int)sig);
    sl_log_info("gateway", "signal %d: closing the intake; finishing requests in "
            "flight (%zu records in memory-only connectors are delivered "
            "first)", (int)sig, undelivered(g, 0));
    /* make every spool durable first: that answers the requests waiting
     * for it, before the intake (and its connections) go */
    for (size_t i = 0; i < g->n; i++)
        sl_connector_shutdown(g->connectors[i]);
    /* no new connections; open ones stay until the loop ends, so the
     * answers just queued reach their clients (new requests on them get
     * 503 "shutting down") */
    sl_intake_http_close_listener(g->intake);
    sl_reload_tcp_close_listeners(g->tcp);
    g->drain_deadline = sl_time_mono_ms() + SL_GATEWAY_DRAIN_MS;
    struct timeval tv = {0, 50 * 1000};
    event_add(g->drain_tick, &tv);
}

/* sl_sdstatus_fn: "listening on 127.0.0.1:8080 and 1 TCP listener; 3
 * connectors: 2 delivering, 1 degraded (crm); 12 undelivered". */
static void status_text(void *arg, sl_buf *out)
{
    const gateway *g = arg;
    sl_buf_printf(out, "listening on %s", sl_reload_http_keys(g->keys)->listen);
    size_t ntcp = sl_reload_tcp_count(g->tcp);
    if (ntcp)
        sl_buf_printf(out, " and %zu TCP listener%s", ntcp,
                      ntcp == 1 ? "" : "s");
    sl_buf_printf(out, "; ");
    sl_sdstatus_connectors(g->connectors, g->n, out);
}

/* Called before a reload starts and after it ended (ok: 1 it went
 * through, 0 it was refused and nothing changed): what brackets a
 * reload, sd_notify RELOADING=1 / READY=1 (systemd leaves "reloading"
 * only at READY=1, so a refused reload sends it too). */
static void reload_begin(gateway *g)
{
    sl_notify_reloading("reloading %s", g->cfg->file);
}

static void reload_end(gateway *g, int ok)
{
    if (ok)
        g->reloads_ok++;
    else
        g->reloads_failed++;
    sl_notify_ready("listening on %s; %s", sl_reload_http_keys(g->keys)->listen,
                    ok ? "configuration reloaded"
                       : "reload failed, configuration unchanged");
}

/* Free the configurations of earlier reloads that no batch needs now. */
static void collect(gateway *g)
{
    for (size_t i = 0; i < g->n; i++)
        sl_connector_collect(g->connectors[i]);
    sl_reload_apply_configs_collect(g->configs, g->connectors, g->n);
    sl_reload_tcp_collect(g->tcp); /* intakes whose last connection closed */
}

static void on_collect_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    collect(arg);
}

/* The checked configuration of a reload, or NULL (said why). */
static sl_config *reload_check(gateway *g, sl_reload_report *r)
{
    size_t problems = 0;
    sl_config *next = NULL;
    const sl_connector_conf **running = calloc(g->n ? g->n : 1,
                                               sizeof *running);
    if (running) {
        size_t n = 0; /* a removed one is not running: it may come back */
        for (size_t i = 0; i < g->n; i++)
            if (!g->closed[i])
                running[n++] = sl_connector_conf_of(g->connectors[i]);
        /* the last committed configuration (a commit applies every
         * gateway key of it), with the TCP listeners as they run */
        sl_config now = *sl_reload_http_keys(g->keys);
        sl_reload_tcp_running(g->tcp, &now.tcp, &now.ntcp);
        next = sl_reload_check(&now, running, n, g->cfg->file, r, &problems);
        free(running);
    } else {
        problems = 1;
        reload_error("out of memory");
    }
    if (next && sl_reload_apply_configs_add(g->configs, next) != 0) {
        reload_error("out of memory");
        sl_reload_report_free(r);
        sl_config_free(next);
        next = NULL;
        problems = 1;
    }
    if (!next)
        reload_error("reload failed: %zu problem%s in %s; the "
                     "running configuration is unchanged", problems,
                     problems == 1 ? "" : "s", g->cfg->file);
    return next;
}

/* Close the intake to the running connectors `next` no longer has; open
 * it again to removed ones `next` has again (with their new conf).
 * Returns how many of r's added connectors that were not. */
static size_t apply_removed(gateway *g, const sl_config *next,
                            const sl_reload_report *r)
{
    char err[256];
    size_t reopened = 0;
    for (size_t i = 0; i < g->n; i++) {
        sl_connector *c = g->connectors[i];
        const char *name = sl_connector_name(c);
        const sl_connector_conf *cc = sl_config_connector(next, name);
        if (!cc && !g->closed[i]) {
            sl_intake_http_set_open(g->intake, c, 0);
            g->closed[i] = 1;
            reload_warn("connector %s removed: the intake answers 404 for "
                        "it; it delivers the %zu records it holds, and its "
                        "directory stays", name, sl_connector_undelivered(c));
        } else if (cc && g->closed[i] &&
                   sl_reload_action_of(r, (size_t)(cc - next->connectors)) ==
                       SL_RELOAD_ADD) {
            const sl_connector_conf *was = sl_connector_conf_of(c);
            if (cc->durability != was->durability ||
                cc->spool_max_bytes != was->spool_max_bytes ||
                cc->queue_max_bytes != was->queue_max_bytes) {
                reload_warn("connector %s: durability and spool changes take "
                            "a restart: it stays removed", name);
                continue;
            }
            if (sl_connector_reconfigure(c, cc, err, sizeof err) != 0) {
                reload_error("connector %s: cannot come back (%s)", name, err);
                continue;
            }
            sl_intake_http_set_open(g->intake, c, 1);
            g->closed[i] = 0;
            reopened++;
            reload_warn("connector %s is back", name);
        }
    }
    return r->added - reopened;
}

/* Start connector cc, added by a reload, as the start does, and open the
 * intake to it. 0, or -1 (logged). */
static int add_connector(gateway *g, const sl_connector_conf *cc)
{
    char err[256], dir[4096];
    sl_connector **cs = realloc(g->connectors, (g->n + 1) * sizeof *cs);
    if (cs)
        g->connectors = cs;
    unsigned char *cl = cs ? realloc(g->closed, g->n + 1) : NULL;
    if (cl)
        g->closed = cl;
    if (!cs || !cl) {
        reload_error("connector %s: out of memory: not added", cc->name);
        return -1;
    }
    for (size_t k = 0; k < cc->nwarnings; k++) /* as `check` says */
        sl_log_warn("config", "%s", cc->warnings[k]);
    sl_connector *c = sl_connector_new(cc, g->cfg->state_dir, g->base,
                                       g->http, g->syncpool, err, sizeof err);
    if (!c) {
        char hint[320];
        reload_error("connector %s: not added: %s%s", cc->name, err,
                     sl_fdlimit_hint(err, hint, sizeof hint));
        return -1;
    }
    sl_connector_set_offload(c, g->checks);
    g->connectors[g->n] = c;
    g->closed[g->n] = 1; /* until the intake takes it */
    g->n++;
    if (sl_state_dir(g->cfg->state_dir, cc->name, 0, dir, sizeof dir, err,
                     sizeof err) != 0 ||
        sl_state_schema_write(dir, cc->schema, err, sizeof err) != 0 ||
        sl_intake_http_add_connector(g->intake, g->connectors, g->n, err,
                                     sizeof err) != 0) {
        /* it may be sending what an earlier run left: it stays, closed */
        reload_error("connector %s: the intake does not take it: %s",
                     cc->name, err);
        return -1;
    }
    g->closed[g->n - 1] = 0;
    reload_warn("connector %s added: POST /v1/connectors/%s/records -> %s %s",
                cc->name, cc->name, cc->method, cc->url);
    return 0;
}

/* Start the connectors of `next` that r says are added and do not run.
 * Returns how many could not be. */
static size_t apply_added(gateway *g, const sl_config *next,
                          const sl_reload_report *r)
{
    size_t failed = 0;
    for (size_t i = 0; i < next->nconnectors; i++) {
        const char *name = next->connectors[i].name;
        int known = 0;
        for (size_t k = 0; k < g->n && !known; k++)
            known = strcmp(sl_connector_name(g->connectors[k]), name) == 0;
        if (sl_reload_action_of(r, i) == SL_RELOAD_ADD && !known &&
            add_connector(g, &next->connectors[i]) != 0)
            failed++;
    }
    return failed;
}

/* SIGHUP: read and check the configuration again. A configuration with
 * problems changes nothing (each problem is logged); a good one is
 * prepared (new addresses bound, TLS built again: a failure there fails
 * it all) and then committed: the HTTP intake's keys and log_level, then
 * the changed connectors' new configuration for what they take and cut
 * from now on, then the TCP listeners (sl_reload_tcp). */
static int page_lines(gateway *g);

static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    gateway *g = arg;
    if (g->stopping) {
        reload_warn("SIGHUP while stopping: ignored");
        return;
    }
    reload_begin(g);
    sl_reload_report r;
    sl_config *next = reload_check(g, &r); /* owned by g->configs */
    if (!next) {
        reload_end(g, 0);
        return;
    }
    sl_log_info("reload", "reload: %s", sl_buf_cstr(&r.summary));
    /* phase 1: bind every new address, build every TLS context; nothing
     * the running gateway uses changes */
    sl_reload_http_change *hc = NULL;
    sl_reload_tcp_change *tc = NULL;
    if (sl_reload_http_prepare(g->keys, g->intake, next, &hc) != 0 ||
        sl_reload_tcp_prepare(g->tcp, next, &tc) != 0) {
        sl_reload_http_abort(hc);
        sl_reload_tcp_abort(tc);
        sl_reload_report_free(&r); /* nothing else changed either */
        collect(g);
        reload_end(g, 0);
        return;
    }
    /* phase 2: commit, which cannot fail */
    sl_reload_http_commit(g->keys, g->intake, hc);
    sl_reload_apply_configs_keep(g->configs, next); /* the keys' */
    if (!g->log_level_given)
        sl_log_set_level((sl_log_level)next->log_level);
    if (next->workers != g->cfg->workers) /* the threads stay as started */
        reload_warn("workers = %u in the file, %u at the start: the check "
                    "threads change at the next start", next->workers,
                    g->cfg->workers);
    sl_reload_apply(g->connectors, g->n, next, &r);
    apply_removed(g, next, &r);
    apply_added(g, next, &r);
    /* after apply_added: a listener may feed a connector it added */
    sl_reload_tcp_commit(g->tcp, tc, g->connectors, g->n);
    page_lines(g);
    sl_reload_report_free(&r);
    collect(g);
    reload_end(g, 1);
}

/* sl_intake_tls_ctx, said on stderr: -1 on failure. */
static int tls_ctx(const sl_tls_conf *tls, const char *what, SSL_CTX **out)
{
    char err[768];
    if (sl_intake_tls_ctx(tls, what, out, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "sluice: %s\n", err);
    return -1;
}

/* The reload counters, Prometheus text. */
static int reload_metrics(const gateway *g, sl_buf *out)
{
    return sl_buf_printf(out, "# HELP sluice_config_reloads_total "
                         "Configuration reloads (SIGHUP), by outcome.\n"
                         "# TYPE sluice_config_reloads_total counter\n"
                         "sluice_config_reloads_total{result=\"ok\"} %llu\n"
                         "sluice_config_reloads_total{result=\"failed\"} "
                         "%llu\n", (unsigned long long)g->reloads_ok,
                         (unsigned long long)g->reloads_failed);
}

/* sl_intake_http_metrics_fn: the gateway's own rows (reloads) and the
 * handshake failures of every TLS intake. */
static int gateway_metrics(void *arg, sl_buf *out)
{
    gateway *g = arg;
    if (reload_metrics(g, out) != 0)
        return -1;
    sl_metrics_tls views[1 + 64];
    size_t n = 0;
    if (sl_reload_http_tls(g->keys))
        views[n++] = (sl_metrics_tls){
            .listener = sl_reload_http_keys(g->keys)->listen,
            .handshake_failures = sl_intake_http_tls_failures(g->intake)};
    n += sl_reload_tcp_tls_views(g->tcp, views + n,
                                 sizeof views / sizeof views[0] - n);
    return n ? sl_metrics_prom(&sl_metrics_tls_table, views, n, out) : 0;
}

/* sl_intake_http_ready_fn: sl_readyz's checks of this gateway. */
static int ready_checks(void *arg, sl_buf *out)
{
    gateway *g = arg;
    sl_readyz_facts f = {
        .state_dir = g->cfg->state_dir, .connectors = g->connectors,
        .n = g->n, .tcp_up = sl_reload_tcp_up(g->tcp),
        .tcp_wanted = sl_reload_tcp_wanted(g->tcp),
        .stopping = g->stopping, .config_loaded = g->cfg != NULL,
    };
    return sl_readyz_checks(&f, out);
}

/* sl_status_page_connectors_fn: the connectors running now. */
static size_t page_connectors(void *arg, sl_connector *const **cs)
{
    gateway *g = arg;
    *cs = g->connectors;
    return g->n;
}

/* The status page's listener lines from what runs now: at the start and
 * after each reload's commit. 0, or -1 out of memory (the page keeps the
 * lines it had). */
static int page_lines(gateway *g)
{
    const sl_config *k = sl_reload_http_keys(g->keys);
    size_t n = 0, cap = 2 + sl_reload_tcp_count(g->tcp);
    char (*lines)[320] = calloc(cap, sizeof *lines);
    const char **ptrs = calloc(cap, sizeof *ptrs);
    int rc = -1;
    if (lines && ptrs) {
        snprintf(lines[n++], sizeof *lines, "http %s%s", k->listen,
                 sl_reload_http_tls(g->keys) ? " (TLS)" : "");
        if (k->admin_listen)
            snprintf(lines[n++], sizeof *lines, "admin %s", k->admin_listen);
        for (size_t i = 0; i < sl_reload_tcp_count(g->tcp); i++)
            sl_reload_tcp_describe(g->tcp, i, lines[n++], sizeof *lines);
        for (size_t i = 0; i < n; i++)
            ptrs[i] = lines[i];
        rc = sl_status_page_set_listeners(g->page, ptrs, n);
    }
    free(lines);
    free(ptrs);
    return rc;
}

/* sl_intake_http_page_fn */
static int page_render(void *arg, sl_buf *out)
{
    gateway *g = arg;
    return sl_status_page_render(g->page, sl_time_wall_ms(), out);
}

/* sl_intake_http_openapi_fn: the document of the connectors served now
 * (a reload's added ones in, its removed ones out) at the intake's
 * address now. */
static int openapi_render(void *arg, sl_buf *out)
{
    gateway *g = arg;
    const sl_connector_conf **cs = malloc((g->n ? g->n : 1) * sizeof *cs);
    if (!cs)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < g->n; i++)
        if (!g->closed[i])
            cs[k++] = sl_connector_conf_of(g->connectors[i]);
    sl_openapi_intake in;
    sl_openapi_intake_of(sl_reload_http_keys(g->keys), &in);
    int rc = sl_openapi_write(&in, cs, k, out);
    free(cs);
    return rc;
}

/* The status page, its listeners as the configuration names them. 0, or
 * -1 said on stderr. */
static int start_page(gateway *g)
{
    /* SLUICE_STATUS_SAMPLE_MS: shorter samples, for tests */
    const char *ms = getenv("SLUICE_STATUS_SAMPLE_MS");
    long v = ms ? strtol(ms, NULL, 10) : 0;
    sl_status_page_info info = {
        SL_VERSION, v >= 100 && v <= 600000 ? (unsigned)v : 0, NULL, 0};
    if (!(g->page = sl_status_page_new(g->base, &info, page_connectors, g)) ||
        page_lines(g) != 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return -1;
    }
    sl_intake_http_set_page(g->intake, page_render, g);
    sl_intake_http_set_openapi(g->intake, openapi_render, g);
    return 0;
}

/* The check threads `workers` asks for (0: one per CPU; 1: none, the
 * loop checks). */
static int start_checks(gateway *g)
{
    char err[256];
    long n = g->cfg->workers;
    if (n == 0)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    if (n > 256)
        n = 256;
    /* the loop is one of them: it spools, delivers and answers every
     * record; the others check records */
    if (n == 1) {
        sl_log_info("gateway", "workers: 1 (the event loop checks records "
                    "too)");
        return 0;
    }
    sl_log_info("gateway", "workers: %ld (the event loop and %ld check "
                "thread%s)", n, n - 1, n == 2 ? "" : "s");
    if (!(g->checks = sl_offload_new(g->base, (unsigned)(n - 1), err,
                                     sizeof err))) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    return 0;
}

static int start(gateway *g)
{
    char err[256];
    const sl_config *cfg = g->cfg;
    if (!(g->base = event_base_new())) {
        fprintf(stderr, "sluice: cannot create the event loop\n");
        return -1;
    }
    if (!(g->http = sl_http_client_new(g->base, err, sizeof err)) ||
        !(g->syncpool = sl_syncpool_new(g->base, sl_syncpool_default_threads(),
                                        err, sizeof err))) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    if (start_checks(g) != 0)
        return -1;
    g->connectors = calloc(cfg->nconnectors ? cfg->nconnectors : 1,
                           sizeof *g->connectors);
    g->closed = calloc(cfg->nconnectors ? cfg->nconnectors : 1, 1);
    if (!g->connectors || !g->closed)
        return -1;
    for (size_t i = 0; i < cfg->nconnectors; i++) {
        const sl_connector_conf *cc = &cfg->connectors[i];
        for (size_t k = 0; k < cc->nwarnings; k++) /* as `check` says */
            sl_log_warn("config", "%s", cc->warnings[k]);
        /* recovering a large spool takes time: each its own timeout */
        sl_notify_extend(SL_NOTIFY_OPEN_USEC, "starting: opening connector "
                         "%s (%zu of %zu)", cc->name, i + 1,
                         cfg->nconnectors);
        g->connectors[i] = sl_connector_new(cc, cfg->state_dir, g->base,
                                            g->http, g->syncpool, err,
                                            sizeof err);
        if (!g->connectors[i]) {
            char hint[320];
            fprintf(stderr, "sluice: connector %s: %s%s\n", cc->name, err,
                    sl_fdlimit_hint(err, hint, sizeof hint));
            return -1;
        }
        sl_connector_set_offload(g->connectors[i], g->checks);
        g->n++;
        /* the schema is fixed from the first run on */
        char dir[4096];
        if (sl_state_dir(cfg->state_dir, cc->name, 0, dir, sizeof dir, err,
                         sizeof err) != 0 ||
            sl_state_schema_write(dir, cc->schema, err, sizeof err) != 0) {
            fprintf(stderr, "sluice: connector %s: %s\n", cc->name, err);
            return -1;
        }
    }
    SSL_CTX *tls = NULL;
    if (tls_ctx(&cfg->tls, "tls", &tls) != 0)
        return -1;
    if (!(g->keys = sl_reload_http_new(cfg, tls))) {
        SSL_CTX_free(tls);
        fprintf(stderr, "sluice: out of memory\n");
        return -1;
    }
    sl_intake_http_opts opts;
    sl_reload_http_opts(cfg, tls, &opts);
    g->intake = sl_intake_http_new(g->base, &opts, g->connectors, g->n, err,
                                   sizeof err);
    if (!g->intake) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    sl_intake_http_set_metrics(g->intake, gateway_metrics, g);
    sl_intake_http_set_ready(g->intake, ready_checks, g);
    if (!(g->tcp = sl_reload_tcp_new(g->base, cfg, g->connectors, g->n, err,
                                      sizeof err))) {
        fprintf(stderr, "sluice: %s\n", err);
        return -1;
    }
    if (start_page(g) != 0)
        return -1;
    g->sigint = evsignal_new(g->base, SIGINT, on_signal, g);
    g->sigterm = evsignal_new(g->base, SIGTERM, on_signal, g);
    g->sighup = evsignal_new(g->base, SIGHUP, on_reload, g);
    g->drain_tick = event_new(g->base, -1, EV_PERSIST, on_drain_tick, g);
    g->collect_tick = event_new(g->base, -1, EV_PERSIST, on_collect_tick, g);
    struct timeval second = {1, 0};
    if (!(g->configs = sl_reload_apply_configs_new()) || !g->collect_tick ||
        event_add(g->collect_tick, &second) != 0) {
        fprintf(stderr, "sluice: out of memory\n");
        return -1;
    }
    if (!g->sigint || !g->sigterm || !g->sighup || !g->drain_tick ||
        evsignal_add(g->sigint, NULL) != 0 || evsignal_add(g->sigterm, NULL) != 0 ||
        evsignal_add(g->sighup, NULL) != 0) {
        fprintf(stderr, "sluice: cannot install signal handlers\n");
        return -1;
    }
    if (!(g->watchdog = sl_notify_watchdog_new(g->base)) ||
        !(g->sdstatus = sl_sdstatus_new(g->base, status_text, g))) {
        fprintf(stderr, "sluice: out of memory\n");
        return -1;
    }
    /* without it a summary waits for the next line: no reason to stop */
    g->log_tick = event_new(g->base, -1, EV_PERSIST, on_log_tick, g);
    if (!g->log_tick || event_add(g->log_tick, &second) != 0)
        sl_log_warn("gateway", "no log timer: a repeated line's summary "
                    "waits for the next line");
    return 0;
}

static void stop(gateway *g)
{
    /* first: no check comes back into an intake or connector freed */
    sl_offload_free(g->checks);
    sl_intake_http_free(g->intake);
    sl_status_page_free(g->page);
    sl_reload_tcp_stop(g->tcp); /* before the connectors they feed */
    /* after the intake whose connections use them */
    sl_reload_http_free(g->keys);
    /* the HTTP client goes first: it cancels transfers whose callbacks
     * point into the connectors' batches */
    sl_http_client_free(g->http);
    for (size_t i = 0; i < g->n; i++)
        sl_connector_free(g->connectors[i]);
    sl_syncpool_free(g->syncpool); /* after the spools syncing on it */
    free(g->connectors);
    free(g->closed);
    sl_reload_apply_configs_free(g->configs); /* after the connectors using them */
    if (g->collect_tick)
        event_free(g->collect_tick);
    sl_reload_tcp_free(g->tcp); /* its threads: after the connectors */
    if (g->sigint)
        event_free(g->sigint);
    if (g->sigterm)
        event_free(g->sigterm);
    if (g->sighup)
        event_free(g->sighup);
    if (g->drain_tick)
        event_free(g->drain_tick);
    sl_notify_watchdog_free(g->watchdog);
    sl_sdstatus_free(g->sdstatus);
    if (g->log_tick)
        event_free(g->log_tick);
    if (g->base)
        event_base_free(g->base);
}

/* "connector crm: proxy http://u:***@proxy:3128 (environment
 * HTTPS_PROXY)" for a connector whose destination is reached through one
 * (the one for its URL's scheme). */
static void log_proxy(const sl_connector_conf *c)
{
    char text[320];
    const sl_proxy_setting *s = strncasecmp(c->url, "https:", 6) == 0
                                    ? &c->proxy_https : &c->proxy_http;
    if (!s->value)
        return;
    sl_log_info("gateway", "connector %s: proxy %s%s%s", c->name,
                sl_config_print_proxy(s, "proxy", text, sizeof text),
                c->no_proxy.value ? "; no_proxy " : "",
                c->no_proxy.value ? c->no_proxy.value : "");
}

/* READY=1 with the status line, which the status timer then knows. */
static void notify_ready(gateway *g)
{
    sl_buf b;
    sl_buf_init(&b, 1024);
    status_text(g, &b);
    const char *text = sl_buf_cstr(&b);
    if (text) {
        sl_notify_ready("%s", text);
        sl_sdstatus_sent(g->sdstatus, text);
    }
    sl_buf_free(&b);
}

int sl_gateway_run(const sl_config *cfg, int log_level_given)
{
    gateway g;
    memset(&g, 0, sizeof g);
    g.cfg = cfg;
    g.log_level_given = log_level_given;
    if (sl_state_check_locks(cfg, stderr) > 0) {
        fprintf(stderr, "sluice: not starting\n");
        return 2;
    }
    char err[512];
    if ((g.pid_fd = sl_pidfile_take(cfg->state_dir, err, sizeof err)) < 0) {
        fprintf(stderr, "sluice: %s; not starting\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    /* about five descriptors per connector: 1,000 of them pass 1024 */
    (void)sl_fdlimit_raise();
    int rc = 1;
    sl_notify_status("starting: opening %zu connector%s", cfg->nconnectors,
                     cfg->nconnectors == 1 ? "" : "s");
    if (start(&g) == 0) {
        sl_log_info("gateway", "listening on %s:%d with %zu connector%s",
                cfg->listen_host, cfg->listen_port, g.n, g.n == 1 ? "" : "s");
        for (size_t i = 0; i < g.n; i++)
            sl_log_info("gateway", "connector %s: POST /v1/connectors/%s/records "
                    "-> %s %s", cfg->connectors[i].name,
                    cfg->connectors[i].name, cfg->connectors[i].method,
                    cfg->connectors[i].url);
        for (size_t i = 0; i < g.n; i++)
            log_proxy(&cfg->connectors[i]);
        sl_reload_tcp_log_start(g.tcp);
        /* every listener is bound and listening: connections wait in
         * their backlogs until the loop runs, right after */
        notify_ready(&g);
        event_base_dispatch(g.base);
        rc = g.abandoned ? 1 : 0;
    }
    stop(&g);
    sl_pidfile_release(cfg->state_dir, g.pid_fd);
    return rc;
}
