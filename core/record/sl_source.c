/* sl_source: picks the reader for a file's format (sniffing standard
 * input), reads the file in chunks and hands each record on in one shape
 * whatever the format. Rules in sl_source.h. */
#include "sl_source.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sl_buf.h"
#include "sl_csv.h"
#include "sl_jsonsplit.h"

#define SNIFF_MAX ((size_t)64 << 10) /* whitespace before the first byte */
#define DEF_RECORD ((size_t)1 << 20)

struct sl_source {
    sl_source_options opt;    /* defaults filled in; format as decided */
    const sl_schema *schema;
    sl_source_fn fn;
    void *ud;
    sl_csv *csv;              /* the reader, once the format is known */
    sl_jsonsplit *js;
    sl_buf sniff;             /* AUTO: bytes before the first telling one */
    size_t bom_seen;          /* AUTO: BOM bytes at the start so far */
    int fd;                   /* -1: push only */
    bool own_fd;
    char *chunk;
    uint64_t bytes;
    int64_t size;
    sl_source_rc rc;          /* sticky error, or END */
    char err[480];
};

static const struct {
    const char *name;
    sl_source_format f;
} formats[] = {
    {"csv", SL_SOURCE_CSV},       {"tsv", SL_SOURCE_TSV},
    {"ndjson", SL_SOURCE_NDJSON}, {"jsonl", SL_SOURCE_NDJSON},
    {"json", SL_SOURCE_JSON},
};

int sl_source_format_parse(const char *name, sl_source_format *out)
{
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++)
        if (strcasecmp(name, formats[i].name) == 0) {
            *out = formats[i].f;
            return 0;
        }
    return -1;
}

int sl_source_delimiter_parse(const char *s, char *out)
{
    if (strcmp(s, "tab") == 0 || strcmp(s, "\\t") == 0) {
        *out = '\t';
        return 0;
    }
    if (strlen(s) != 1 || s[0] == '"' || s[0] == '\r' || s[0] == '\n')
        return -1;
    *out = s[0];
    return 0;
}

bool sl_source_takes_delimiter(sl_source_format f)
{
    return f == SL_SOURCE_AUTO || f == SL_SOURCE_CSV || f == SL_SOURCE_TSV;
}

sl_source_format sl_source_format_of_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash + 1 : path, '.');
    sl_source_format f = SL_SOURCE_AUTO;
    if (dot && dot[1] && sl_source_format_parse(dot + 1, &f) == 0)
        return f;
    return SL_SOURCE_AUTO;
}

const char *sl_source_format_name(sl_source_format f)
{
    switch (f) {
    case SL_SOURCE_CSV: return "csv";
    case SL_SOURCE_TSV: return "tsv";
    case SL_SOURCE_NDJSON: return "ndjson";
    case SL_SOURCE_JSON: return "json";
    default: return "auto";
    }
}

static sl_source_rc fail(sl_source *s, sl_source_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sl_source_rc fail(sl_source *s, sl_source_rc rc, const char *fmt, ...)
{
    if (s->rc != SL_SOURCE_OK)
        return s->rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
    s->rc = rc;
    return rc;
}

static int on_csv(void *ud, const sl_csv_row *row)
{
    sl_source *s = ud;
    sl_source_rec rec = {row->line, row->json, row->json_len, row->field,
                         row->error, row->raw, row->raw_len, row->raw_cut};
    return s->fn(s->ud, &rec);
}

static int on_json(void *ud, const sl_jsonsplit_item *it)
{
    sl_source *s = ud;
    sl_source_rec rec = {it->line, it->json, it->json_len, "", it->error,
                         it->raw, it->raw_len, it->raw_cut};
    return s->fn(s->ud, &rec);
}

/* Make the reader for the format now known. */
static sl_source_rc start(sl_source *s)
{
    sl_source_options *o = &s->opt;
    if (o->format == SL_SOURCE_CSV || o->format == SL_SOURCE_TSV) {
        sl_csv_options co = {0};
        co.delimiter = o->delimiter ? o->delimiter
                       : o->format == SL_SOURCE_TSV ? '\t' : ',';
        co.keep_unknown = o->keep_unknown;
        co.row_bytes = o->record_bytes;
        co.cell_bytes = o->record_bytes;
        s->csv = sl_csv_new(s->schema, &co, on_csv, s);
        if (!s->csv)
            return fail(s, SL_SOURCE_E_NOMEM, "out of memory");
    } else if (o->format == SL_SOURCE_NDJSON || o->format == SL_SOURCE_JSON) {
        s->js = sl_jsonsplit_new(o->format == SL_SOURCE_JSON, o->record_bytes,
                                 on_json, s);
        if (!s->js)
            return fail(s, SL_SOURCE_E_NOMEM, "out of memory");
    }
    return SL_SOURCE_OK;
}

sl_source *sl_source_new(const sl_schema *schema, const sl_source_options *opt,
                         sl_source_fn fn, void *ud)
{
    sl_source *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (opt)
        s->opt = *opt;
    if (!s->opt.record_bytes)
        s->opt.record_bytes = DEF_RECORD;
    if (!s->opt.chunk_bytes)
        s->opt.chunk_bytes = SL_SOURCE_DEF_CHUNK;
    s->schema = schema;
    s->fn = fn;
    s->ud = ud;
    s->fd = -1;
    s->size = -1;
    sl_buf_init(&s->sniff, SNIFF_MAX);
    if (start(s) != SL_SOURCE_OK) {
        sl_source_free(s);
        return NULL;
    }
    return s;
}

void sl_source_free(sl_source *s)
{
    if (!s)
        return;
    sl_csv_free(s->csv);
    sl_jsonsplit_free(s->js);
    sl_buf_free(&s->sniff);
    if (s->own_fd && s->fd >= 0)
        close(s->fd);
    free(s->chunk);
    free(s);
}

const char *sl_source_error(const sl_source *s) { return s->err; }
sl_source_format sl_source_format_used(const sl_source *s)
{
    return s->opt.format;
}
uint64_t sl_source_bytes(const sl_source *s) { return s->bytes; }
int64_t sl_source_size(const sl_source *s) { return s->size; }
int sl_source_fd(const sl_source *s) { return s->fd; }

/* Pass p[0..n) to the reader of the format. */
static sl_source_rc to_reader(sl_source *s, const void *p, size_t n)
{
    if (s->csv) {
        sl_csv_rc rc = sl_csv_feed(s->csv, p, n);
        if (rc == SL_CSV_E_HEADER)
            return fail(s, SL_SOURCE_E_FORMAT, "%s", sl_csv_error(s->csv));
        if (rc == SL_CSV_E_NOMEM)
            return fail(s, SL_SOURCE_E_NOMEM, "out of memory");
        if (rc == SL_CSV_E_STOPPED)
            return fail(s, SL_SOURCE_E_STOPPED, "stopped");
        return SL_SOURCE_OK;
    }
    sl_jsonsplit_rc rc = sl_jsonsplit_feed(s->js, p, n);
    if (rc == SL_JSONSPLIT_E_FORMAT)
        return fail(s, SL_SOURCE_E_FORMAT, "%s", sl_jsonsplit_error(s->js));
    if (rc == SL_JSONSPLIT_E_NOMEM)
        return fail(s, SL_SOURCE_E_NOMEM, "out of memory");
    if (rc == SL_JSONSPLIT_E_STOPPED)
        return fail(s, SL_SOURCE_E_STOPPED, "stopped");
    return SL_SOURCE_OK;
}

/* AUTO: hold bytes until the first that tells the format, then start
 * the reader and give it everything held. 1: decided, 0: not yet. */
static int sniff(sl_source *s, const unsigned char *p, size_t n,
                 size_t *used)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};
    size_t i = 0;
    for (; i < n; i++) {
        size_t at = s->sniff.len + i;
        unsigned char c = p[i];
        if (at < 3 && s->bom_seen == at && c == bom[at]) {
            s->bom_seen++;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
            continue;
        break;
    }
    if (i == n) {
        *used = n;
        if (s->sniff.len + n > SNIFF_MAX)
            fail(s, SL_SOURCE_E_FORMAT, "cannot tell the format of the "
                 "input: only whitespace in its first %zu bytes (give "
                 "--format)", SNIFF_MAX);
        else if (sl_buf_append(&s->sniff, p, n) != 0)
            fail(s, SL_SOURCE_E_NOMEM, "out of memory");
        return 0;
    }
    *used = 0;
    if (p[i] == '[')
        s->opt.format = SL_SOURCE_JSON;
    else if (p[i] == '{')
        s->opt.format = SL_SOURCE_NDJSON;
    else {
        fail(s, SL_SOURCE_E_FORMAT, "cannot tell the format of the input "
             "from its first byte (not '[' or '{'): give --format csv, "
             "tsv, ndjson or json");
        return 0;
    }
    if (start(s) != SL_SOURCE_OK ||
        to_reader(s, s->sniff.data, s->sniff.len) != SL_SOURCE_OK)
        return 0;
    sl_buf_free(&s->sniff);
    return 1;
}

sl_source_rc sl_source_feed(sl_source *s, const void *p, size_t n)
{
    if (s->rc != SL_SOURCE_OK)
        return s->rc;
    if (s->opt.format == SL_SOURCE_AUTO) {
        size_t used = 0;
        if (!sniff(s, p, n, &used))
            return s->rc;
        p = (const char *)p + used;
        n -= used;
    }
    return to_reader(s, p, n);
}

sl_source_rc sl_source_finish(sl_source *s)
{
    if (s->rc != SL_SOURCE_OK)
        return s->rc;
    if (s->opt.format == SL_SOURCE_AUTO)
        return fail(s, SL_SOURCE_E_FORMAT, "cannot tell the format of an "
                    "empty input (give --format)");
    if (s->csv) {
        sl_csv_rc rc = sl_csv_finish(s->csv);
        if (rc == SL_CSV_E_HEADER)
            return fail(s, SL_SOURCE_E_FORMAT, "%s", sl_csv_error(s->csv));
        if (rc != SL_CSV_OK)
            return fail(s, rc == SL_CSV_E_NOMEM ? SL_SOURCE_E_NOMEM
                                                : SL_SOURCE_E_STOPPED,
                        "%s", rc == SL_CSV_E_NOMEM ? "out of memory"
                                                   : "stopped");
        return SL_SOURCE_OK;
    }
    sl_jsonsplit_rc rc = sl_jsonsplit_finish(s->js);
    if (rc == SL_JSONSPLIT_E_FORMAT)
        return fail(s, SL_SOURCE_E_FORMAT, "%s", sl_jsonsplit_error(s->js));
    if (rc != SL_JSONSPLIT_OK)
        return fail(s, rc == SL_JSONSPLIT_E_NOMEM ? SL_SOURCE_E_NOMEM
                                                  : SL_SOURCE_E_STOPPED,
                    "%s", rc == SL_JSONSPLIT_E_NOMEM ? "out of memory"
                                                     : "stopped");
    return SL_SOURCE_OK;
}

sl_source *sl_source_open(const char *path, const sl_schema *schema,
                          const sl_source_options *opt, sl_source_fn fn,
                          void *ud, sl_source_rc *rc, char *err,
                          size_t errlen)
{
    sl_source_options o = {0};
    if (opt)
        o = *opt;
    bool is_stdin = strcmp(path, "-") == 0;
    sl_source_rc dummy;
    if (!rc)
        rc = &dummy;
    if (o.format == SL_SOURCE_AUTO && !is_stdin) {
        o.format = sl_source_format_of_path(path);
        if (o.format == SL_SOURCE_AUTO) {
            snprintf(err, errlen, "cannot tell the format of %s from its "
                     "name (.csv, .tsv, .ndjson, .jsonl, .json): give "
                     "--format", path);
            *rc = SL_SOURCE_E_FORMAT;
            return NULL;
        }
    }
    int fd = is_stdin ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        *rc = SL_SOURCE_E_IO;
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "cannot read %s: it is a directory", path);
        if (!is_stdin)
            close(fd);
        *rc = SL_SOURCE_E_IO;
        return NULL;
    }
    sl_source *s = sl_source_new(schema, &o, fn, ud);
    if (s)
        s->chunk = malloc(s->opt.chunk_bytes);
    if (!s || !s->chunk) {
        snprintf(err, errlen, "out of memory");
        sl_source_free(s);
        if (!is_stdin)
            close(fd);
        *rc = SL_SOURCE_E_NOMEM;
        return NULL;
    }
    s->fd = fd;
    s->own_fd = !is_stdin;
    if (S_ISREG(st.st_mode))
        s->size = (int64_t)st.st_size;
    *rc = SL_SOURCE_OK;
    return s;
}

sl_source_rc sl_source_read(sl_source *s)
{
    if (s->rc != SL_SOURCE_OK)
        return s->rc;
    if (s->fd < 0)
        return fail(s, SL_SOURCE_E_IO, "not opened from a file");
    ssize_t n = read(s->fd, s->chunk, s->opt.chunk_bytes);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return SL_SOURCE_OK;
    if (n < 0)
        return fail(s, SL_SOURCE_E_IO, "cannot read: %s", strerror(errno));
    if (n == 0) {
        if (sl_source_finish(s) != SL_SOURCE_OK)
            return s->rc;
        s->rc = SL_SOURCE_END;
        return SL_SOURCE_END;
    }
    s->bytes += (uint64_t)n;
    return sl_source_feed(s, s->chunk, (size_t)n);
}
