/* sl_preview_cli: the options, the records read (sl_source: CSV, TSV,
 * NDJSON, a JSON array) and checked as the intake checks a body
 * (sl_ingest with the connector's transform), and the requests they make (sl_preview_batch) on a loop of this process with
 * the connector's Lua runtime. The connector's state directory is never
 * opened: a gateway may run it. */
#include "sl_preview_cli.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <lauxlib.h>

#include "sl_buf.h"
#include "sl_config_load.h"
#include "sl_help.h"
#include "sl_http_client.h"
#include "sl_ingest.h"
#include "sl_json.h"
#include "sl_luaruntime.h"
#include "sl_luastd.h"
#include "sl_preview_batch.h"
#include "sl_preview_out.h"
#include "sl_source.h"
#include "sl_transform.h"

#define MAX_RECORDS 1000000 /* -n at most */

typedef struct opts {
    const char *connector, *file, *config;
    sl_source_format format; /* AUTO: by the name, or sniffed */
    char delimiter;          /* CSV/TSV; 0: the format's */
    size_t n;                /* 0: one batch */
    int show_secrets, no_network, json;
} opts;

/* The records accepted so far, as the intake encodes them, each with the
 * line it came from. */
typedef struct accepted {
    sl_buf frames;           /* sl_frame blocks, one after the other */
    uint64_t *lines;         /* per record */
    size_t n, cap;
} accepted;

/* What one run holds. */
typedef struct run {
    const sl_connector_conf *c;
    sl_preview_out out;
    sl_preview_out_counts counts;
    struct event_base *base;
    sl_http_client *http;
    sl_luaruntime *rt;
    sl_transform *transform;
    accepted acc;
    const char *const *recs; /* into acc.frames, once read */
    size_t max, seen;        /* records to read, read */
    sl_buf block, rejects;   /* one record's, from sl_ingest */
    int nomem;               /* checking ran out of memory */
} run;

static int usage(const char *msg, const char *arg)
{
    fprintf(stderr, "sluice preview: %s", msg);
    if (arg) {
        fputs(" \"", stderr);
        sl_help_print_arg(arg, stderr);
        fputc('"', stderr);
    }
    fputs("\n\n", stderr);
    sl_help_print_cmd(sl_help_find("preview"), stderr);
    return 2;
}

static int parse_count(const char *s, size_t *n)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > MAX_RECORDS)
        return -1;
    *n = (size_t)v;
    return 0;
}

/* 0, or the exit status of a usage error (reported). */
static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){.config = "conf/sluice.lua"};
    int pos = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int more = i + 1 < argc;
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && more) {
            o->config = argv[++i];
        } else if (!strcmp(a, "-n") && more) {
            if (parse_count(argv[++i], &o->n) != 0)
                return usage("-n wants a count of records, 1 to 1000000, "
                             "got", argv[i]);
        } else if (!strcmp(a, "--format") && more) {
            if (sl_source_format_parse(argv[++i], &o->format) != 0)
                return usage("--format wants csv, tsv, ndjson, jsonl or "
                             "json, not", argv[i]);
        } else if (!strcmp(a, "--tsv")) {
            o->format = SL_SOURCE_TSV;
        } else if (!strcmp(a, "--delimiter") && more) {
            if (sl_source_delimiter_parse(argv[++i], &o->delimiter) != 0)
                return usage("--delimiter wants one character (or tab), not",
                             argv[i]);
        } else if (!strcmp(a, "--show-secrets")) {
            o->show_secrets = 1;
        } else if (!strcmp(a, "--no-network")) {
            o->no_network = 1;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if ((a[0] == '-' && a[1] != '\0') || pos >= 2) {
            return usage(a[0] == '-' ? "unknown option" : "unexpected "
                         "argument", a);
        } else if (pos++ == 0) {
            o->connector = a;
        } else {
            o->file = a;
        }
    }
    if (!o->file)
        return usage("CONNECTOR and FILE are required", NULL);
    if (o->delimiter && !sl_source_takes_delimiter(o->format))
        return usage("--delimiter is for CSV and TSV", NULL);
    return 0;
}

static const sl_connector_conf *find(const sl_config *cfg, const char *name)
{
    const sl_connector_conf *c = sl_config_connector(cfg, name);
    if (c)
        return c;
    fprintf(stderr, "sluice preview: no connector \"");
    sl_help_print_arg(name, stderr);
    fprintf(stderr, "\" in the configuration (connectors:");
    for (size_t i = 0; i < cfg->nconnectors; i++)
        fprintf(stderr, " %s", cfg->connectors[i].name);
    fprintf(stderr, ")\n");
    return NULL;
}

/* ---- the loop, Lua and the transform ------------------------------------ */

static int setup(run *r, int no_network)
{
    char err[256] = "out of memory";
    const sl_connector_conf *c = r->c;
    if (!(r->base = event_base_new()) ||
        !(r->http = sl_http_client_new(r->base, err, sizeof err)))
        goto fail;
    if (c->L) {
        if (!(r->rt = sl_luaruntime_new(c->L, r->base, r->http,
                                        c->lua_max_instructions, err,
                                        sizeof err)) ||
            sl_luastd_open_loop(c->L, err, sizeof err) != 0)
            goto fail;
        /* token fetches trust and present what the deliveries do */
        sl_luaruntime_set_transport(r->rt, &c->transport);
        sl_luaruntime_set_no_network(r->rt, no_network);
    }
    if (c->L && sl_config_has_transform(c) &&
        !(r->transform = sl_transform_new(c->L, c->transform_ref, c->schema,
                                          c->name, c->lua_max_instructions)))
        goto fail;
    return 0;
fail:
    fprintf(stderr, "sluice preview: %s\n", err);
    return -1;
}

/* The client first: no transfer completes into a freed task. */
static void teardown(run *r)
{
    sl_http_client_free(r->http);
    sl_luaruntime_free(r->rt);
    sl_transform_free(r->transform);
    if (r->base)
        event_base_free(r->base);
    sl_buf_free(&r->acc.frames);
    sl_buf_free(&r->block);
    sl_buf_free(&r->rejects);
    free(r->acc.lines);
    free((void *)r->recs);
}

/* ---- checking, as the intake checks a body ------------------------------ */

/* Each rejection sl_ingest listed in rej ({"index":..,"field":..,
 * "error":..}, comma-separated) reported for `line`. */
static void report_rejections(run *r, const sl_buf *rej, uint64_t line)
{
    sl_buf all, field, msg;
    sl_json js;
    sl_json_token t;
    sl_buf_init(&all, 0);
    sl_buf_init(&field, 0);
    sl_buf_init(&msg, 0);
    if (sl_buf_putc(&all, '[') || sl_buf_append(&all, rej->data, rej->len) ||
        sl_buf_putc(&all, ']'))
        goto done;
    sl_json_init(&js, all.data, all.len, 8);
    sl_buf *into = NULL;
    for (;;) {
        sl_json_type ty = sl_json_next(&js, &t);
        if (ty == SL_JSON_END || ty == SL_JSON_ERROR)
            break;
        if (ty == SL_JSON_OBJECT_BEGIN) {
            sl_buf_reset(&field);
            sl_buf_reset(&msg);
        } else if (ty == SL_JSON_KEY) {
            into = t.len == 5 && !memcmp(t.p, "field", 5)   ? &field
                   : t.len == 5 && !memcmp(t.p, "error", 5) ? &msg
                                                            : NULL;
        } else if (ty == SL_JSON_STRING && into) {
            sl_json_unescape(t.p, t.len, into);
        } else if (ty == SL_JSON_OBJECT_END) {
            sl_preview_out_rejected(&r->out, line,
                                    field.len ? sl_buf_cstr(&field) : "",
                                    msg.len ? sl_buf_cstr(&msg) : "rejected");
        }
    }
done:
    sl_buf_free(&all);
    sl_buf_free(&field);
    sl_buf_free(&msg);
}

/* Keep block's n frames, each from `line`. 0, or -1 out of memory. */
static int keep(accepted *a, const sl_buf *block, size_t n, uint64_t line)
{
    if (a->n + n > a->cap) {
        size_t cap = (a->cap ? a->cap * 2 : 256) + n;
        uint64_t *l = realloc(a->lines, cap * sizeof *l);
        if (!l)
            return -1;
        a->lines = l;
        a->cap = cap;
    }
    if (sl_buf_append(&a->frames, block->data, block->len) != 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        a->lines[a->n++] = line;
    return 0;
}

/* One record's JSON object text, checked through the connector's
 * transform and schema as the intake checks a JSON object body. 0, or -1
 * out of memory. */
static int check_record(run *r, const char *text, size_t len, uint64_t line)
{
    sl_ingest_limits lim = {.depth = r->c->limit_depth};
    sl_ingest_result res;
    memset(&res, 0, sizeof res);
    sl_buf_reset(&r->block);
    sl_buf_reset(&r->rejects);
    if (sl_ingest(r->c->schema, r->transform, SL_INGEST_JSON, text, len,
                  &lim, &r->block, &r->rejects, &res) != 0)
        return -1;
    r->counts.accepted += res.accepted;
    r->counts.rejected += res.rejected + (res.malformed != 0);
    r->counts.dropped += res.dropped;
    if (res.malformed) /* sl_source passes objects checked by sl_json */
        sl_preview_out_rejected(&r->out, line, "", res.error ? res.error
                                                             : "malformed");
    if (res.rejected)
        report_rejections(r, &r->rejects, line);
    if (res.dropped)
        sl_preview_out_dropped(&r->out, line);
    return res.accepted ? keep(&r->acc, &r->block, res.accepted, line) : 0;
}

/* sl_source_fn: a record read (or refused by the reader: a CSV cell the
 * schema's type cannot take, an NDJSON line that is not an object). */
static int on_record(void *ud, const sl_source_rec *rec)
{
    run *r = ud;
    if (r->seen >= r->max)
        return 1;
    r->seen++;
    r->counts.read++;
    if (!rec->json) {
        r->counts.rejected++;
        sl_preview_out_rejected(&r->out, rec->line, rec->field, rec->error);
        return 0;
    }
    if (check_record(r, rec->json, rec->json_len, rec->line) != 0) {
        r->nomem = 1;
        return 1;
    }
    return 0;
}

/* The first r->max records of the file, checked. 0, or the exit status
 * (reported). */
static int read_file(run *r, const opts *o)
{
    char err[512];
    sl_source_rc rc;
    /* as sluice send reads it: a transform's input is not the schema's */
    sl_source_options so = {.format = o->format, .delimiter = o->delimiter,
                            .record_bytes = r->c->limit_record_bytes};
    so.keep_unknown = sl_config_has_transform(r->c);
    sl_source *src = sl_source_open(o->file, r->c->schema, &so, on_record, r,
                                    &rc, err, sizeof err);
    if (!src) {
        fprintf(stderr, "sluice preview: %s\n", err);
        return 2;
    }
    do
        rc = sl_source_read(src);
    while (rc == SL_SOURCE_OK);
    int status = 0;
    if (r->nomem) {
        fprintf(stderr, "sluice preview: out of memory\n");
        status = 2;
    } else if (rc != SL_SOURCE_END && rc != SL_SOURCE_E_STOPPED) {
        fprintf(stderr, "sluice preview: %s: %s\n", o->file,
                sl_source_error(src));
        status = 2;
    }
    sl_source_free(src);
    return status;
}

/* ---- the requests ------------------------------------------------------- */

/* sl_preview_batch_fn. */
static void on_request(void *ud, const sl_preview_batch_req *q)
{
    run *r = ud;
    r->counts.requests++;
    r->counts.failed += q->err != NULL;
    sl_preview_out_request(&r->out, r->c, q, r->acc.lines[q->first],
                           r->acc.lines[q->first + q->n - 1]);
}

/* Point recs/lens at the kept frames. 0, or -1 out of memory. */
static int index_frames(run *r, size_t **lens)
{
    const char **recs = calloc(r->acc.n + 1, sizeof *recs);
    *lens = calloc(r->acc.n + 1, sizeof **lens);
    if (!recs || !*lens) {
        free(recs);
        return -1;
    }
    const char *p = r->acc.frames.data;
    for (size_t i = 0; i < r->acc.n; i++) {
        uint32_t len;
        memcpy(&len, p, sizeof len);
        recs[i] = p + sizeof len;
        (*lens)[i] = len;
        p += sizeof len + len;
    }
    r->recs = recs;
    return 0;
}

static int requests(run *r)
{
    size_t *lens = NULL;
    char why[256];
    int rc = -1;
    if (index_frames(r, &lens) != 0)
        snprintf(why, sizeof why, "out of memory");
    else
        rc = sl_preview_batch_run(r->c, r->recs, lens, r->acc.n, r->base,
                                  r->rt, on_request, r, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "sluice preview: %s\n", why);
    free(lens);
    return rc;
}

/* ---- the command -------------------------------------------------------- */

static int preview(const opts *o, const sl_connector_conf *c)
{
    run r = {.c = c, .out = {.out = stdout, .json = o->json,
                             .show_secrets = o->show_secrets}};
    sl_buf_init(&r.acc.frames, 0);
    sl_buf_init(&r.block, 0);
    sl_buf_init(&r.rejects, 0);
    r.max = o->n ? o->n : c->body == SL_BODY_OBJECT ? 1 : c->batch_max_records;
    int rc = setup(&r, o->no_network) != 0 ? 2 : read_file(&r, o);
    if (rc == 0 && requests(&r) != 0)
        rc = 2;
    if (rc == 0) {
        sl_preview_out_summary(&r.out, &r.counts);
        rc = r.counts.rejected || r.counts.failed ? 1 : 0;
    }
    teardown(&r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "sluice preview: cannot write the output: %s\n",
                strerror(errno));
        rc = 2;
    }
    return rc;
}

int sl_preview_cli_main(int argc, char **argv)
{
    opts o;
    int rc = parse(argc, argv, &o);
    if (rc != 0)
        return rc;
    sl_config *cfg = sl_config_load_or_report(o.config, "sluice", stderr);
    if (!cfg)
        return 2;
    const sl_connector_conf *c = find(cfg, o.connector);
    rc = 2;
    if (c && curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK) {
        rc = preview(&o, c);
        curl_global_cleanup();
    }
    sl_config_free(cfg);
    return rc;
}
