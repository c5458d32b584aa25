/* sl_send: `sluice send`. Reads each input with sl_source, gathers its
 * records into batches (a JSON array and, per row, its line and raw
 * text), hands each batch to a submitter (sl_send_submit_fn) and maps the
 * answer's rejections back to their rows for the rejects file; then, in
 * this process, waits for delivery and sums up. */
#include "sl_send.h"

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <lauxlib.h>
#include <lua.h>

#include "sl_config.h"
#include "sl_config_load.h"
#include "sl_ingest.h"
#include "sl_log.h"
#include "sl_pidfile.h"
#include "sl_send_local.h"
#include "sl_send_opts.h"
#include "sl_send_progress.h"
#include "sl_send_rejects.h"
#include "sl_send_remote.h"
#include "sl_send_reply.h"
#include "sl_send_signal.h"
#include "sl_source.h"
#include "sl_state.h"
#include "sl_time.h"

typedef struct row {
    uint64_t line;
    size_t raw_off, raw_len; /* in sender.raws */
    bool raw_cut;
} row;

typedef struct sender {
    sl_send_opts o;
    sl_config *cfg;
    const sl_connector_conf *cc;
    sl_send_submit_fn submit;
    void *submit_ud;
    sl_send_local *local;      /* in this process; NULL through a gateway */
    sl_send_remote *remote;    /* through a gateway's intake; else NULL */
    /* the batch in hand */
    sl_buf body;               /* "[rec,rec,..." */
    row *rows;
    size_t nrows;
    size_t batch_rows;
    sl_buf raws;
    sl_buf answer;
    /* the input being read */
    const char *file;
    sl_source *src;
    sl_send_rejects *rej;
    uint64_t last_line;        /* of the last row read */
    /* every input */
    uint64_t read, accepted, rejected, dropped;
    uint64_t bytes_done;       /* of the inputs read to their end */
    int64_t size;              /* of all inputs; -1 unknown */
    char **rejects_made;       /* paths of the rejects files written */
    size_t nrejects_made;
    sl_send_progress *prog;
    uint64_t t0;
    int signals_seen;          /* signals acted on */
    bool failed;               /* a batch could not be handed on: stop */
    bool config_error;         /* the gateway refused this configuration
                                  (401, 403, 404): exit 2 */
    bool stopped_reading;      /* a first signal */
    bool abandoned;            /* a second signal */
    char err[1024];
} sender;

static uint64_t now_ms(void) { return sl_time_mono_ms(); }

static void view(const sender *s, bool done, sl_send_progress_view *v)
{
    memset(v, 0, sizeof *v);
    v->rows = s->read;
    v->accepted = s->accepted;
    v->rejected = s->rejected;
    v->bytes = s->bytes_done + (s->src ? sl_source_bytes(s->src) : 0);
    v->size = s->size;
    v->elapsed_ms = now_ms() - s->t0;
    v->done = done;
    v->acknowledged = s->remote != NULL;
    if (s->local) {
        sl_send_local_counts c;
        sl_send_local_counts_get(s->local, &c);
        v->delivery = true;
        v->delivered = c.delivered;
        v->dead = c.dead;
    }
}

static void progress(sender *s)
{
    if (!s->prog)
        return;
    sl_send_progress_view v;
    view(s, false, &v);
    sl_send_progress_update(s->prog, &v, now_ms());
}

static void say(sender *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(sender *s, const char *fmt, ...)
{
    if (s->prog)
        sl_send_progress_interrupt(s->prog);
    va_list ap;
    va_start(ap, fmt);
    fputs("sluice send: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Act on signals received since the last look. */
static void look_at_signals(sender *s)
{
    int n = sl_send_signal_count();
    if (n == s->signals_seen)
        return;
    s->signals_seen = n;
    if (!s->stopped_reading) {
        s->stopped_reading = true;
        say(s, "interrupted: reading stops; %s (interrupt again to stop at "
            "once)", s->local ? "delivering what was accepted"
                              : "handing on the rows read");
    }
    if (n >= 2 && !s->abandoned) {
        s->abandoned = true;
        say(s, "interrupted again: stopping now");
    }
}

static void hook_tick(void *ud)
{
    sender *s = ud;
    look_at_signals(s);
    progress(s);
}

static int hook_stop(void *ud)
{
    sender *s = ud;
    look_at_signals(s);
    return s->abandoned;
}

static void batch_reset(sender *s)
{
    sl_buf_reset(&s->body);
    sl_buf_putc(&s->body, '[');
    sl_buf_reset(&s->raws);
    s->nrows = 0;
}

static int reject(sender *s, uint64_t line, const char *field,
                  const char *error, const char *raw, size_t raw_len,
                  bool cut)
{
    s->rejected++;
    char err[512];
    if (sl_send_rejects_add(s->rej, line, field, error, raw, raw_len, cut,
                            err, sizeof err) != 0) {
        say(s, "%s", err);
        s->failed = true;
        return -1;
    }
    return 0;
}

/* sl_send_reply_fn: a row the connector rejected. */
static void on_rejection(void *ud, size_t index, const char *field,
                         const char *error)
{
    sender *s = ud;
    if (index >= s->nrows) {
        say(s, "the answer names row %zu of a batch of %zu: ignored", index,
            s->nrows);
        return;
    }
    const row *r = &s->rows[index];
    reject(s, r->line, field, error, s->raws.data + r->raw_off, r->raw_len,
           r->raw_cut);
}

/* Every row of the batch in hand into the rejects file, for `why`. */
static void reject_batch(sender *s, const char *why)
{
    for (size_t i = 0; i < s->nrows; i++) {
        const row *r = &s->rows[i];
        reject(s, r->line, "", why, s->raws.data + r->raw_off, r->raw_len,
               r->raw_cut);
    }
}

/* Hand the batch in hand on, and account for each of its rows. */
static int flush(sender *s)
{
    if (s->nrows == 0)
        return 0;
    sl_buf_putc(&s->body, ']');
    sl_buf_reset(&s->answer);
    int retry_after = 0;
    int st = s->submit(s->submit_ud, s->body.data, s->body.len, &s->answer,
                       &retry_after);
    sl_send_reply a;
    const char *ans = s->answer.data ? s->answer.data : "";
    /* read whole first, so that a malformed answer writes no row twice */
    int parsed = sl_send_reply_parse(ans, s->answer.len, &a, NULL, NULL);
    if ((st == 200 || st == 422) && parsed == 0) {
        sl_send_reply_parse(ans, s->answer.len, &a, on_rejection, s);
        s->accepted += a.accepted;
        s->dropped += a.dropped;
        if (a.truncated)
            say(s, "the answer did not list every rejection of a batch "
                "(lower --batch)");
    } else {
        char why[700];
        if ((st == 503 || st == 429) && s->remote)
            snprintf(why, sizeof why, "not sent: the gateway was still busy "
                     "(%d%s%s)", st, a.error[0] ? ": " : "", a.error);
        else if (st == 503)
            snprintf(why, sizeof why, "not sent: stopped while the spool "
                     "was full");
        else
            snprintf(why, sizeof why, "not sent: the intake answered %d%s%s",
                     st, a.error[0] ? ": " : "", a.error);
        say(s, "a batch of %zu rows from %s was not taken: %s", s->nrows,
            s->file, why);
        reject_batch(s, why);
        /* a batch-specific refusal goes on; anything else stops */
        if (st != 400 && st != 413)
            s->failed = true;
        if (s->remote && (st == 401 || st == 403 || st == 404))
            s->config_error = true;
    }
    batch_reset(s);
    progress(s);
    return s->failed ? -1 : 0;
}

/* sl_source_fn: one record read. */
static int on_record(void *ud, const sl_source_rec *rec)
{
    sender *s = ud;
    /* after a signal, not one more row: those read are the ones taken */
    look_at_signals(s);
    if (s->stopped_reading)
        return 1;
    s->read++;
    s->last_line = rec->line;
    if (!rec->json) {
        reject(s, rec->line, rec->field, rec->error, rec->raw, rec->raw_len,
               rec->raw_cut);
    } else {
        if (s->nrows && s->body.len + rec->json_len + 2 > s->o.batch_bytes &&
            flush(s) != 0)
            return 1;
        if (s->nrows > 1 || s->body.len > 1)
            sl_buf_putc(&s->body, ',');
        row *r = &s->rows[s->nrows++];
        r->line = rec->line;
        r->raw_off = s->raws.len;
        r->raw_len = rec->raw_len;
        r->raw_cut = rec->raw_cut;
        if (sl_buf_append(&s->body, rec->json, rec->json_len) != 0 ||
            sl_buf_append(&s->raws, rec->raw, rec->raw_len) != 0) {
            say(s, "out of memory");
            s->failed = true;
            return 1;
        }
        if (s->nrows == s->batch_rows && flush(s) != 0)
            return 1;
    }
    if (s->read % 256 == 0)
        progress(s);
    return s->failed;
}

/* Read one input to its end (or a stop). 0, or 2 when it cannot be read
 * (format, I/O): said on stderr. */
static int send_file(sender *s, const char *path)
{
    char rpath[4096], err[600];
    s->file = path;
    if (s->o.rejects)
        snprintf(rpath, sizeof rpath, "%s", s->o.rejects);
    else if (sl_send_rejects_path_for(path, rpath, sizeof rpath) != 0) {
        say(s, "%s: the path is too long", path);
        return 2;
    }
    sl_source_options so = {0};
    so.format = s->o.format;
    so.delimiter = s->o.delimiter;
    so.keep_unknown = sl_config_has_transform(s->cc);
    so.record_bytes = s->cc->limit_record_bytes;
    sl_source_rc rc;
    s->src = sl_source_open(path, s->cc->schema, &so, on_record, s, &rc, err,
                            sizeof err);
    if (!s->src) {
        say(s, "%s", err);
        return 2;
    }
    if (!(s->rej = sl_send_rejects_new(rpath, err, sizeof err))) {
        say(s, "%s", err);
        sl_source_free(s->src);
        s->src = NULL;
        return 2;
    }
    /* a pipe may be slow to fill: delivery goes on while it is waited for,
     * and the rows read are handed on when it pauses (about 50 ms) */
    bool wait = s->local && sl_source_size(s->src) < 0;
    for (;;) {
        while (wait && !s->stopped_reading && !s->failed &&
               !sl_send_local_wait_fd(s->local, sl_source_fd(s->src))) {
            look_at_signals(s);
            if (s->nrows) /* the pipe is idle: hand on the rows read */
                flush(s);
        }
        if (s->stopped_reading || s->failed)
            break;
        if ((rc = sl_source_read(s->src)) != SL_SOURCE_OK)
            break;
        look_at_signals(s);
    }
    int status = 0;
    if (rc == SL_SOURCE_E_FORMAT || rc == SL_SOURCE_E_IO ||
        rc == SL_SOURCE_E_NOMEM) {
        say(s, "%s: %s", strcmp(path, "-") == 0 ? "standard input" : path,
            sl_source_error(s->src));
        status = 2;
    }
    if (!s->failed)
        flush(s);
    if (s->stopped_reading && rc != SL_SOURCE_END)
        say(s, "stopped reading %s after line %llu", path,
            (unsigned long long)s->last_line);
    if (sl_send_rejects_count(s->rej) > 0) {
        char **m = realloc(s->rejects_made,
                           (s->nrejects_made + 1) * sizeof *m);
        if (m) {
            s->rejects_made = m;
            m[s->nrejects_made] = strdup(sl_send_rejects_path(s->rej));
            if (m[s->nrejects_made])
                s->nrejects_made++;
        }
    }
    if (sl_send_rejects_close(s->rej, err, sizeof err) != 0) {
        say(s, "%s", err);
        s->failed = true;
    }
    sl_send_rejects_free(s->rej);
    s->rej = NULL;
    s->bytes_done += sl_source_bytes(s->src);
    sl_source_free(s->src);
    s->src = NULL;
    return status;
}

/* The size of every input, -1 when one is unknown; 2 when one cannot be
 * opened or its format told, before anything is sent. */
static int check_inputs(sender *s)
{
    s->size = 0;
    for (size_t i = 0; i < s->o.nfiles; i++) {
        char err[600];
        sl_source_options so = {.format = s->o.format};
        sl_source_rc rc;
        sl_source *src = sl_source_open(s->o.files[i], s->cc->schema, &so,
                                        on_record, s, &rc, err, sizeof err);
        if (!src) {
            fprintf(stderr, "sluice send: %s\n", err);
            return 2;
        }
        int64_t n = sl_source_size(src);
        s->size = s->size < 0 || n < 0 ? -1 : s->size + n;
        sl_source_free(src);
    }
    return 0;
}

/* Through the intake of the gateway that holds the connector (its
 * address, TLS and intake key from the same configuration). 0, or 2 said
 * on stderr. */
static int open_remote(sender *s, long pid)
{
    char err[1024];
    if (!(s->remote = sl_send_remote_new(s->cfg, s->cc, err, sizeof err))) {
        fprintf(stderr, "sluice send: connector %s is held by a running "
                "gateway (pid %ld): %s\n", s->cc->name, pid, err);
        return 2;
    }
    sl_send_remote_set_stop(s->remote, hook_stop, s);
    s->submit = sl_send_remote_submit;
    s->submit_ud = s->remote;
    say(s, "sending through the gateway (pid %ld) at %s", pid,
        sl_send_remote_url(s->remote));
    return 0;
}

/* The connector in this process. 0, or 2 said on stderr. */
static int open_local(sender *s)
{
    char err[2048];
    sl_send_local_hooks h = {hook_tick, hook_stop, s};
    if (!(s->local = sl_send_local_new(s->cfg, s->cc, &h, err, sizeof err))) {
        fprintf(stderr, "sluice send: connector %s: %s\n", s->cc->name, err);
        return 2;
    }
    s->submit = sl_send_local_submit;
    s->submit_ud = s->local;
    sl_send_local_counts c;
    sl_send_local_counts_get(s->local, &c);
    if (c.leftover)
        say(s, "connector %s: %llu records left in the spool by an earlier "
            "run are delivered too", s->cc->name,
            (unsigned long long)c.leftover);
    return 0;
}

/* Where the rows went, on stdout; returns the exit status. */
static int summary(sender *s, int status)
{
    sl_send_local_counts c = {0};
    if (s->local)
        sl_send_local_counts_get(s->local, &c);
    printf("sluice send: connector %s: %llu rows read", s->cc->name,
           (unsigned long long)s->read);
    if (s->stopped_reading)
        printf(" (stopped by a signal)");
    printf("\n  %-14s %llu\n", s->remote ? "acknowledged" : "accepted",
           (unsigned long long)s->accepted);
    if (s->dropped)
        printf("  dropped        %llu (the transform returned nil)\n",
               (unsigned long long)s->dropped);
    printf("  rejected       %llu", (unsigned long long)s->rejected);
    for (size_t i = 0; i < s->nrejects_made; i++)
        printf("%s%s", i ? ", " : " (in ", s->rejects_made[i]);
    printf("%s\n", s->nrejects_made ? ")" : "");
    if (s->local) {
        printf("  delivered      %llu", (unsigned long long)c.delivered);
        if (c.leftover)
            printf(" (with %llu from an earlier run)",
                   (unsigned long long)c.leftover);
        printf("\n  dead-lettered  %llu", (unsigned long long)c.dead);
        if (c.dead)
            printf(" (sluice dlq list %s shows them)", s->cc->name);
        printf("\n");
        if (c.undelivered)
            printf("  undelivered    %llu (%s)\n",
                   (unsigned long long)c.undelivered,
                   c.durable ? "kept in the spool: the next sluice run or "
                               "sluice send delivers them"
                             : "lost: the connector keeps records in "
                               "memory only");
    } else if (!s->failed) {
        printf("  acknowledged by the gateway; delivery is the gateway's "
               "job now (its /metrics and GET /v1/connectors/%s show it)\n",
               s->cc->name);
    } else {
        printf("  the rows acknowledged by the gateway are its job now; "
               "the others were not taken (see above)\n");
    }
    fflush(stdout);
    if (status)
        return status;
    return s->rejected || c.dead || c.undelivered || s->stopped_reading ||
                   s->failed
               ? 1
               : 0;
}

static int setup(sender *s)
{
    s->cfg = sl_config_load_or_report(s->o.config, "sluice send", stderr);
    if (!s->cfg)
        return 2;
    sl_log_set_level(s->o.log_level >= 0 ? (sl_log_level)s->o.log_level
                     : (sl_log_level)s->cfg->log_level > SL_LOG_WARN
                         ? (sl_log_level)s->cfg->log_level
                         : SL_LOG_WARN);
    s->cc = sl_config_connector(s->cfg, s->o.connector);
    if (!s->cc) {
        fprintf(stderr, "sluice send: no connector \"%s\" in %s (it has:",
                s->o.connector, s->o.config);
        for (size_t i = 0; i < s->cfg->nconnectors; i++)
            fprintf(stderr, " %s", s->cfg->connectors[i].name);
        fprintf(stderr, ")\n");
        return 2;
    }
    s->batch_rows = s->o.batch_rows;
    if (s->cc->limit_records && s->batch_rows > s->cc->limit_records)
        s->batch_rows = s->cc->limit_records;
    if (s->batch_rows > SL_INGEST_MAX_LISTED) /* so that every rejection */
        s->batch_rows = SL_INGEST_MAX_LISTED; /* is listed with its index */
    s->rows = calloc(s->batch_rows, sizeof *s->rows);
    sl_buf_init(&s->body, s->o.batch_bytes + s->cc->limit_record_bytes + 16);
    sl_buf_init(&s->raws, 0);
    sl_buf_init(&s->answer, (size_t)8 << 20);
    if (!s->rows) {
        fprintf(stderr, "sluice send: out of memory\n");
        return 2;
    }
    batch_reset(s);
    int rc = check_inputs(s);
    if (rc)
        return rc;
    char dir[4096], err[512];
    long pid = 0;
    if (sl_state_dir(s->cfg->state_dir, s->cc->name, 0, dir, sizeof dir, err,
                     sizeof err) != 0) {
        fprintf(stderr, "sluice send: %s\n", err);
        return 2;
    }
    if (sl_state_locked(dir, &pid) != 1)
        return open_local(s);
    /* held: by a gateway (its pid file held too), or by another send */
    long gw = 0;
    if (sl_pidfile_holder(s->cfg->state_dir, &gw, err, sizeof err) !=
        SL_PIDFILE_HELD) {
        fprintf(stderr, "sluice send: connector %s is in use by process %ld, "
                "which is not a gateway serving %s (another sluice send?): "
                "try again once it is done\n", s->cc->name, pid,
                s->cfg->state_dir);
        return 2;
    }
    return open_remote(s, pid);
}

static void teardown(sender *s)
{
    sl_send_progress_free(s->prog);
    sl_send_local_free(s->local);
    sl_send_remote_free(s->remote);
    sl_buf_free(&s->body);
    sl_buf_free(&s->raws);
    sl_buf_free(&s->answer);
    free(s->rows);
    for (size_t i = 0; i < s->nrejects_made; i++)
        free(s->rejects_made[i]);
    free(s->rejects_made);
    sl_config_free(s->cfg);
    free(s->o.files);
}

static void start_progress(sender *s)
{
    if (!s->o.progress)
        return;
    bool tty = isatty(STDERR_FILENO);
    struct winsize ws;
    int width = tty && ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col
                    ? ws.ws_col : 80;
    s->prog = sl_send_progress_new(stderr, tty, width, s->o.progress_ms);
}

int sl_send_main(int argc, char **argv)
{
    sender s;
    memset(&s, 0, sizeof s);
    if (sl_send_opts_parse(argc, argv, &s.o, stderr) != 0) {
        free(s.o.files);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "sluice send: curl_global_init failed\n");
        free(s.o.files);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int status = setup(&s);
    if (status == 0 && sl_send_signal_install() != 0) {
        fprintf(stderr, "sluice send: cannot install signal handlers\n");
        status = 2;
    }
    if (status == 0) {
        s.t0 = now_ms();
        start_progress(&s);
        for (size_t i = 0; i < s.o.nfiles && !status; i++) {
            if (s.stopped_reading || s.failed)
                break;
            status = send_file(&s, s.o.files[i]);
        }
        if (s.local && sl_send_local_drain(s.local) != 0)
            say(&s, "stopped before everything was delivered");
        bool nothing = status == 2 && s.read == 0; /* the error says all */
        if (s.prog && !nothing) {
            sl_send_progress_view v;
            view(&s, !s.stopped_reading && !s.failed && !status, &v);
            sl_send_progress_final(s.prog, &v);
        }
        if (s.config_error && !status)
            status = 2;
        if (!nothing)
            status = summary(&s, status);
        sl_send_signal_restore();
    }
    teardown(&s);
    sl_log_flush();
    sl_log_reset();
    curl_global_cleanup();
    return status;
}
