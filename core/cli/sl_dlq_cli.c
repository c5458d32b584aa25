/* sl_dlq_cli: `sluice dlq list|show|replay|purge`: arguments, the
 * connector's store, and what is printed (terminal-safe). */
#include "sl_dlq_cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_config_load.h"
#include "sl_dlq.h"
#include "sl_dlq_line.h"
#include "sl_help.h"
#include "sl_json.h"
#include "sl_state.h"
#include "sl_time.h"

#define CLI_PATH 4096


static const struct {
    const char *name, *synopsis, *what;
} dlq_cmds[] = {
    {"list", "list   CONNECTOR [--json]", "one line per dead letter"},
    {"show", "show   CONNECTOR ID", "every field of one dead letter"},
    {"replay", "replay CONNECTOR [--since T] [--id ID]...",
     "send them again, through the spool inbox"},
    {"purge", "purge  CONNECTOR [--since T] [--id ID]... [--yes]",
     "delete them (shows what, without --yes)"},
};
#define DLQ_NCMDS (sizeof dlq_cmds / sizeof dlq_cmds[0])

/* the text lives in sl_help.c, with every command's */
static void dlq_usage(FILE *out)
{
    sl_help_print_cmd(sl_help_find("dlq"), out);
}

typedef struct cli {
    int cmd;            /* index into dlq_cmds */
    const char *conn;
    const char *config;
    int json, yes;
    int64_t since_ms;   /* -1: no --since */
    int64_t *ids;       /* --id values, or show's ID */
    size_t nids;
    char dir[CLI_PATH]; /* the connector's directory */
} cli;

enum { CMD_LIST, CMD_SHOW, CMD_REPLAY, CMD_PURGE };

static int usage_error(const cli *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int usage_error(const cli *c, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sluice dlq %s: ", dlq_cmds[c->cmd].name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: sluice dlq %s [-c FILE]\n",
            dlq_cmds[c->cmd].synopsis);
    return 2;
}

static int parse_id(const char *s, int64_t *id)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end || errno || v < 1)
        return -1;
    *id = v;
    return 0;
}

static int parse_since(const char *s, int64_t *ms)
{
    int64_t sec;
    if (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") == strlen(s)) {
        if (parse_id(s, &sec) != 0 || sec > INT64_MAX / 1000)
            return -1;
        *ms = sec * 1000;
        return 0;
    }
    return sl_time_parse_rfc3339(s, strlen(s), SL_TIME_LOOSE, ms) == SL_TIME_OK
               ? 0 : -1;
}

static int parse_args(cli *c, int argc, char **argv)
{
    int filters = c->cmd == CMD_REPLAY || c->cmd == CMD_PURGE;
    const char *id_arg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
            if (!has_value)
                return usage_error(c, "%s needs a file name", a);
            c->config = argv[++i];
        } else if (strcmp(a, "--json") == 0 && c->cmd == CMD_LIST) {
            c->json = 1;
        } else if (strcmp(a, "--yes") == 0 && c->cmd == CMD_PURGE) {
            c->yes = 1;
        } else if (strcmp(a, "--since") == 0 && filters) {
            if (!has_value || parse_since(argv[i + 1], &c->since_ms) != 0)
                return usage_error(c, "--since wants RFC 3339 "
                                   "(2026-11-26T10:00:00Z) or unix seconds, "
                                   "got \"%s\"", has_value ? argv[i + 1] : "");
            i++;
        } else if (strcmp(a, "--id") == 0 && filters) {
            if (!has_value || parse_id(argv[i + 1], &c->ids[c->nids]) != 0)
                return usage_error(c, "--id wants a dead letter id (a "
                                   "positive integer), got \"%s\"",
                                   has_value ? argv[i + 1] : "");
            c->nids++;
            i++;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(c, "unknown option \"%s\"", a);
        } else if (!c->conn) {
            c->conn = a;
        } else if (c->cmd == CMD_SHOW && !id_arg) {
            id_arg = a;
        } else {
            return usage_error(c, "unexpected argument \"%s\"", a);
        }
    }
    if (!c->conn)
        return usage_error(c, "which connector?");
    if (c->cmd == CMD_SHOW) {
        if (!id_arg)
            return usage_error(c, "which id? (`sluice dlq list %s` shows "
                               "them)", c->conn);
        if (parse_id(id_arg, &c->ids[0]) != 0)
            return usage_error(c, "ID wants a positive integer, got \"%s\"",
                               id_arg);
        c->nids = 1;
    }
    return 0;
}

/* Render n bytes of text for a terminal into b: control characters (C0,
 * DEL, C1; with `oneline` also newline and tab) become \uXXXX so that a
 * hostile response cannot drive the terminal; at most `max` columns, the
 * cut marked "...". Returns the columns used. */
static size_t render(sl_buf *b, const char *s, size_t n, size_t max,
                     int oneline)
{
    size_t cols = 0, cut_len = b->len, cut_cols = 0;
    for (size_t i = 0; i < n;) {
        const unsigned char *u = (const unsigned char *)s + i;
        size_t bad = 0, k = sl_json_utf8_len(u, n - i, &bad);
        /* only C0, DEL and C1 (all below U+00A0) matter here */
        unsigned cp = k == 1   ? u[0]
                      : k == 2 ? (u[0] & 0x1Fu) << 6 | (u[1] & 0x3Fu)
                               : 0xA0;
        size_t w;
        if (k == 0) {
            w = 1;
            sl_buf_append(b, "\xEF\xBF\xBD", 3);
            k = bad;
        } else if ((cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) &&
                   (oneline || (cp != '\n' && cp != '\t'))) {
            w = 6;
            sl_buf_printf(b, "\\u%04x", cp);
        } else {
            w = cp == '\n' ? 0 : 1;
            sl_buf_append(b, u, k);
        }
        i += k;
        cols += w;
        if (cols <= max - 3 || max < 3) {
            cut_len = b->len;
            cut_cols = cols;
        }
        if (cols > max) {
            sl_buf_truncate(b, cut_len);
            sl_buf_append(b, "...", 3);
            return cut_cols + 3;
        }
    }
    return cols;
}

/* Decode a string member of an entry into b (empty when absent). */
static void text_get(const sl_dlq_text *t, sl_buf *b)
{
    sl_buf_reset(b);
    if (t->p)
        sl_json_unescape(t->p, t->len, b);
}

typedef struct list_ctx {
    const cli *c;
    size_t n;        /* entries printed */
    size_t bad;      /* unreadable lines skipped */
    sl_buf tmp, out; /* decoded and rendered text; live during walk() */
    char err[512];   /* why walk() failed */
} list_ctx;

/* Run fn over the dead letters of c's connector: all of them, or with
 * `filtered` those that --since and --id select (their check included).
 * out caps the rendered text at out_cap bytes. 0, or -1 with lc->err. */
static int walk(list_ctx *lc, const cli *c, int filtered, sl_dlq_each_fn fn,
                size_t out_cap)
{
    *lc = (list_ctx){.c = c};
    sl_buf_init(&lc->tmp, 1u << 20);
    sl_buf_init(&lc->out, out_cap);
    int rc = sl_dlq_each(c->dir, filtered ? c->since_ms : -1,
                         filtered ? c->ids : NULL, filtered ? c->nids : 0, fn,
                         lc, &lc->bad, lc->err, sizeof lc->err);
    sl_buf_free(&lc->tmp);
    sl_buf_free(&lc->out);
    return rc;
}

#define LIST_REASON_COLS 30
#define LIST_URL_COLS 36
#define LIST_RECORD_COLS 60

/* A partial failure's reason "item 3 of batch <key>: why" as "item 3:
 * why" in b (the key is the entry's batch_id), so that the list shows
 * why; any other reason as it is. */
static void short_reason(sl_buf *b)
{
    static const char of[] = " of batch ";
    size_t i = 5;
    if (b->len < 5 || memcmp(b->data, "item ", 5) != 0)
        return;
    while (i < b->len && b->data[i] >= '0' && b->data[i] <= '9')
        i++;
    if (i == 5 || b->len - i < sizeof of - 1 ||
        memcmp(b->data + i, of, sizeof of - 1) != 0)
        return;
    size_t key = i + sizeof of - 1, k = key;
    while (k < b->len && b->data[k] != ' ' && b->data[k] != ':')
        k++;
    if (k == key || k + 1 >= b->len || b->data[k] != ':' ||
        b->data[k + 1] != ' ')
        return;
    memmove(b->data + i, b->data + k, b->len - k);
    b->len -= k - i;
}

static void list_row(list_ctx *lc, const sl_dlq_stored *e)
{
    char status[24];
    if (lc->n == 1)
        printf("%6s  %-24s  %6s  %8s  %-*s  %-*s  %s\n", "ID", "TIME",
               "STATUS", "ATTEMPTS", LIST_REASON_COLS, "REASON",
               LIST_URL_COLS, "URL", "RECORD");
    if (e->status)
        snprintf(status, sizeof status, "%ld", e->status);
    else
        snprintf(status, sizeof status, "-");
    sl_buf_reset(&lc->out);
    sl_buf_printf(&lc->out, "%6" PRId64 "  %-24.*s  %6s  %8ld  ", e->id,
                  (int)(e->time.len < 40 ? e->time.len : 40),
                  e->time.p ? e->time.p : "", status, e->attempts);
    text_get(&e->reason, &lc->tmp);
    short_reason(&lc->tmp);
    size_t cols = render(&lc->out, lc->tmp.data, lc->tmp.len,
                         LIST_REASON_COLS, 1);
    sl_buf_printf(&lc->out, "%*s  ", (int)(LIST_REASON_COLS - cols), "");
    text_get(&e->url, &lc->tmp); /* absent in older lines: "-" */
    cols = render(&lc->out, e->url.p ? lc->tmp.data : "-",
                  e->url.p ? lc->tmp.len : 1, LIST_URL_COLS, 1);
    sl_buf_printf(&lc->out, "%*s  ", (int)(LIST_URL_COLS - cols), "");
    render(&lc->out, e->record, e->record_len, LIST_RECORD_COLS, 1);
    sl_buf_putc(&lc->out, '\n');
    fwrite(lc->out.data, 1, lc->out.len, stdout);
}

static int list_one(void *ud, const sl_dlq_stored *e, const char *line,
                    size_t n)
{
    list_ctx *lc = ud;
    lc->n++;
    if (lc->c->json) {
        fwrite(line, 1, n, stdout);
        putchar('\n');
    } else {
        list_row(lc, e);
    }
    return 0;
}

static void warn_bad(const cli *c, size_t bad)
{
    if (bad)
        fprintf(stderr, "sluice dlq: skipped %zu unreadable line(s) in "
                "%s/dlq/dead.ndjson\n", bad, c->dir);
}

static int cmd_list(const cli *c)
{
    list_ctx lc;
    if (walk(&lc, c, 0, list_one, 1u << 20) != 0) {
        fprintf(stderr, "sluice dlq list: %s\n", lc.err);
        return 1;
    }
    warn_bad(c, lc.bad);
    if (!c->json) {
        if (lc.n == 0)
            printf("no dead letters for %s\n", c->conn);
        else
            printf("%zu dead letter(s)\n", lc.n);
    }
    return 0;
}

/* Print text on its own lines, each indented by two spaces. */
static void print_block(sl_buf *out, const char *s, size_t n)
{
    sl_buf_reset(out);
    render(out, s, n, SIZE_MAX, 0);
    fputs("  ", stdout);
    for (size_t i = 0; i < out->len; i++) {
        putchar(out->data[i]);
        if (out->data[i] == '\n' && i + 1 < out->len)
            fputs("  ", stdout);
    }
    if (out->len == 0 || out->data[out->len - 1] != '\n')
        putchar('\n');
}

static int show_one(void *ud, const sl_dlq_stored *e, const char *line,
                    size_t n)
{
    list_ctx *lc = ud;
    (void)line;
    (void)n;
    if (e->id != lc->c->ids[0])
        return 0;
    lc->n++;
    const struct {
        const char *name;
        const sl_dlq_text *t;
    } texts[] = {{"time", &e->time},
                 {NULL, NULL}, /* status and attempts go here */
                 {"first_attempt", &e->first_attempt},
                 {"last_attempt", &e->last_attempt},
                 {"batch_id", &e->batch_id},
                 {"url", &e->url},
                 {"reason", &e->reason}};
    printf("%-14s %" PRId64 "\n", "id", e->id);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        if (!texts[i].name) {
            printf("%-14s %ld%s\n", "status", e->status,
                   e->status ? "" : " (no HTTP answer)");
            printf("%-14s %ld\n", "attempts", e->attempts);
            continue;
        }
        if (!texts[i].t->p && texts[i].t == &e->url)
            continue; /* older lines have none */
        text_get(texts[i].t, &lc->tmp);
        sl_buf_reset(&lc->out);
        render(&lc->out, lc->tmp.data, lc->tmp.len, SIZE_MAX, 1);
        printf("%-14s %.*s\n", texts[i].name, (int)lc->out.len,
               lc->out.len ? lc->out.data : "");
    }
    printf("record (%zu bytes)\n", e->record_len);
    print_block(&lc->out, e->record, e->record_len);
    text_get(&e->response, &lc->tmp);
    if (lc->tmp.len == 0) {
        printf("response       (empty)\n");
    } else {
        printf("response (%zu bytes%s)\n", lc->tmp.len,
               lc->tmp.len >= SL_DLQ_ENTRY_RESPONSE_MAX - 3 ? ", maybe cut" : "");
        print_block(&lc->out, lc->tmp.data, lc->tmp.len);
    }
    return 1;
}

static int cmd_show(const cli *c)
{
    list_ctx lc;
    if (walk(&lc, c, 0, show_one, SL_DLQ_LINE_MAX) != 0) {
        fprintf(stderr, "sluice dlq show: %s\n", lc.err);
        return 1;
    }
    if (lc.n == 0) {
        warn_bad(c, lc.bad);
        fprintf(stderr, "sluice dlq show: %s has no dead letter with id %"
                PRId64 " (`sluice dlq list %s` shows them)\n", c->conn,
                c->ids[0], c->conn);
        return 1;
    }
    return 0;
}

static int cmd_purge(const cli *c)
{
    char err[512];
    size_t n = 0;
    if (c->yes) {
        if (sl_dlq_purge_dir(c->dir, c->since_ms, c->ids, c->nids, &n, err,
                             sizeof err) != 0) {
            fprintf(stderr, "sluice dlq purge: %s: %s\n", c->conn, err);
            return 1;
        }
        printf("deleted %zu dead letter(s) of %s\n", n, c->conn);
        return 0;
    }
    /* the preview lists what the purge would delete: the same selection,
     * rows as `list` prints them (purge has no --json) */
    list_ctx lc;
    if (walk(&lc, c, 1, list_one, 1u << 20) != 0) {
        fprintf(stderr, "sluice dlq purge: %s: %s\n", c->conn, lc.err);
        return 1;
    }
    if (lc.n == 0) {
        printf("no dead letters for %s%s\n", c->conn,
               c->since_ms >= 0 ? " at or after --since" : "");
        return 0;
    }
    printf("%zu dead letter(s) would be deleted; add --yes to delete them\n",
           lc.n);
    return 1;
}

static int cmd_replay(const cli *c)
{
    char err[512], path[CLI_PATH];
    size_t n = 0;
    if (sl_dlq_replay_dir(c->dir, c->since_ms, c->ids, c->nids, &n, path,
                          sizeof path, err, sizeof err) != 0) {
        fprintf(stderr, "sluice dlq replay: %s: %s\n", c->conn, err);
        return 1;
    }
    if (n == 0) {
        printf("nothing to replay for %s\n", c->conn);
        return 0;
    }
    printf("replayed %zu record(s) into the spool inbox of %s; a running "
           "gateway takes them within a second, otherwise at its next "
           "start\n", n, c->conn);
    return 0;
}

int sl_dlq_cli_main(int argc, char **argv)
{
    if (argc < 1) {
        dlq_usage(stderr);
        return 2;
    }
    if (strcmp(argv[0], "help") == 0 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "-h") == 0) {
        dlq_usage(stdout);
        return 0;
    }
    cli c = {.cmd = -1, .config = "conf/sluice.lua", .since_ms = -1};
    for (size_t i = 0; i < DLQ_NCMDS; i++)
        if (strcmp(argv[0], dlq_cmds[i].name) == 0)
            c.cmd = (int)i;
    if (c.cmd < 0) {
        fprintf(stderr, "sluice dlq: unknown command \"%s\" (list, show, "
                "replay or purge)\n", argv[0]);
        dlq_usage(stderr);
        return 2;
    }
    c.ids = calloc((size_t)argc + 1, sizeof *c.ids);
    if (!c.ids) {
        fprintf(stderr, "sluice dlq: out of memory\n");
        return 1;
    }
    int rc = parse_args(&c, argc, argv);
    sl_config *cfg = rc == 0 ? sl_config_load_or_report(c.config,
                                                          "sluice dlq", stderr)
                            : NULL;
    if (rc == 0 && !cfg)
        rc = 2;
    const sl_connector_conf *cc = cfg ? sl_config_connector(cfg, c.conn)
                                      : NULL;
    char err[512];
    if (rc == 0 && !cc) {
        fprintf(stderr, "sluice dlq: no connector \"%s\" in %s; known:",
                c.conn, c.config);
        for (size_t i = 0; i < cfg->nconnectors; i++)
            fprintf(stderr, "%s %s", i ? "," : "", cfg->connectors[i].name);
        fprintf(stderr, "%s\n", cfg->nconnectors ? "" : " (none)");
        rc = 2;
    } else if (rc == 0 && sl_state_dir(cfg->state_dir, cc->name, 0, c.dir,
                                       sizeof c.dir, err, sizeof err) != 0) {
        fprintf(stderr, "sluice dlq: %s\n", err);
        rc = 1;
    } else if (rc == 0) {
        rc = c.cmd == CMD_LIST   ? cmd_list(&c)
             : c.cmd == CMD_SHOW ? cmd_show(&c)
             : c.cmd == CMD_REPLAY ? cmd_replay(&c)
                                   : cmd_purge(&c);
    }
    sl_config_free(cfg);
    free(c.ids);
    return rc;
}
