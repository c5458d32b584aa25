/* sl_csv: drives libcsv over the input cut into segments that end at each
 * CR or LF (or after SEG_MAX bytes), so that a row always ends at the end
 * of a segment: the line where a row starts, the row's raw text and the
 * size of a cell still being read are then known between two csv_parse
 * calls without reaching into the parser. Rules in sl_csv.h. */
#include "sl_csv.h"

#include <csv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_csv_cell.h"
#include "sl_json.h"

#if CSV_MAJOR != 3
#error "sl_csv is written against libcsv 3 (entry_buf, entry_pos, quoted)"
#endif

#define SEG_MAX ((size_t)16 << 10) /* most bytes given to one csv_parse */
#define BLK_SIZE ((size_t)16 << 10) /* libcsv's buffer grows by this */

static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

typedef struct cell {
    size_t off, len; /* in cells */
    bool quoted;
} cell;

typedef struct column {
    size_t name_off, name_len; /* in names: the header's text */
    size_t key_off, key_len;   /* in names: `"name":` */
    sl_schema_type type;
    bool nullable;
    bool drop;                 /* not emitted */
} column;

struct sl_csv {
    struct csv_parser p;
    const sl_schema *schema;
    sl_csv_options opt;       /* defaults filled in */
    sl_csv_row_fn fn;
    void *ud;
    sl_csv_rc rc;             /* sticky: not OK once stopped */
    char err[320];
    unsigned bom_seen;        /* bytes of a leading BOM matched; 3 decided */
    size_t lf;                /* line ends in the segments fed (LF, CRLF
                                 or a CR alone) */
    char last;                /* the last byte fed (0: none yet) */
    size_t rows;              /* data rows passed to fn */
    bool at_boundary;         /* the next byte begins a row or a blank line */
    bool skipping;            /* malformed row: discarding to its line end */
    bool header_done;
    bool ended;               /* finish ran: no more input */
    /* the row being read */
    size_t row_line;
    size_t row_bytes;         /* bytes of its cells so far */
    size_t ncells;            /* cells seen (stored or not) */
    cell *cellv;              /* stored cells: opt.columns at most */
    sl_buf cells;
    bool bad;                 /* rejected already: cells no longer kept */
    char bad_field[SL_SCHEMA_NAME_MAX + 1];
    char bad_msg[256];
    sl_buf raw;
    bool raw_cut;
    /* the header */
    column *cols;
    size_t ncols;
    sl_buf names;
    sl_buf out;
};

/* libcsv trims no byte of ours: spaces belong to the cell (RFC 4180). */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

sl_csv *sl_csv_new(const sl_schema *schema, const sl_csv_options *opt,
                   sl_csv_row_fn fn, void *ud) {
sl_csv *r = calloc(1, sizeof *r);
if (!r)
    return NULL;
if (opt)
    r->opt = *opt;
if (!r->opt.delimiter)
    r->opt.delimiter = ',';
if (!r->opt.cell_bytes)
    r->opt.cell_bytes = SL_CSV_DEF_CELL_BYTES;
if (!r->opt.row_bytes)
    r->opt.row_bytes = SL_CSV_DEF_ROW_BYTES;
if (!r->opt.columns)
    r->opt.columns = SL_CSV_DEF_COLUMNS;
r->schema = schema;
r->fn = fn;
r->ud = ud;
r->at_boundary = true;
sl_buf_init(&r->cells, r->opt.row_bytes + 1);
sl_buf_init(&r->raw, r->opt.row_bytes + 2);
sl_buf_init(&r->names, 0);
sl_buf_init(&r->out, 8 * r->opt.row_bytes + ((size_t)1 << 20));
r->cellv = calloc(r->opt.columns, sizeof *r->cellv);
if (!r->cellv ||
    csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL) != 0)
    goto fail;
csv_set_space_func(&r->p, no_space);
csv_set_delim(&r->p, (unsigned char)r->opt.delimiter);
csv_set_blk_size(&r->p, BLK_SIZE);
return r;
fail:
free(r->cellv);
free(r);
return NULL;
}

void sl_csv_free(sl_csv *r)
{
    if (!r)
        return;
    csv_free(&r->p);
    free(r->cellv);
    free(r->cols);
    sl_buf_free(&r->cells);
    sl_buf_free(&r->raw);
    sl_buf_free(&r->names);
    sl_buf_free(&r->out);
    free(r);
}

const char *sl_csv_error(const sl_csv *r) { return r->err; }
size_t sl_csv_lines(const sl_csv *r) { return r->lf; }
size_t sl_csv_rows(const sl_csv *r) { return r->rows; }

static sl_csv_rc stop(sl_csv *r, sl_csv_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static sl_csv_rc stop(sl_csv *r, sl_csv_rc rc, const char *fmt, ...)
{
    if (r->rc != SL_CSV_OK)
        return r->rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, sizeof r->err, fmt, ap);
    va_end(ap);
    r->rc = rc;
    return rc;
}

/* The name of column i for a message ("" past the header or before it). */
static const char *col_name(const sl_csv *r, size_t i, char *buf, size_t cap)
{
    size_t n = 0;
    if (r->header_done && i < r->ncols)
        n = r->cols[i].name_len < cap - 1 ? r->cols[i].name_len : cap - 1;
    if (n)
        memcpy(buf, r->names.data + r->cols[i].name_off, n);
    buf[n] = '\0';
    return buf;
}

/* Reject the row being read (the first reason wins; `force` overrides,
 * for malformed CSV). field: the column of cell `cellno`, or none when
 * cellno is (size_t)-1. */
static void reject(sl_csv *r, bool force, size_t cellno, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void reject(sl_csv *r, bool force, size_t cellno, const char *fmt, ...)
{
    if (r->bad && !force)
        return;
    r->bad = true;
    col_name(r, cellno, r->bad_field, sizeof r->bad_field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->bad_msg, sizeof r->bad_msg, fmt, ap);
    va_end(ap);
}

/* Where cell i's bytes are (cells.data is NULL while only empty cells
 * were kept). */
static const char *cell_at(const sl_csv *r, size_t i)
{
    return r->cells.data ? r->cells.data + r->cellv[i].off : "";
}

static void row_reset(sl_csv *r)
{
    r->ncells = r->row_bytes = 0;
    r->bad = false;
    sl_buf_reset(&r->cells);
}

/* libcsv's field callback: keep the cell (NULL: empty and unquoted). */
static void on_cell(void *s, size_t len, void *ud)
{
    sl_csv *r = ud;
    size_t i = r->ncells++;
    if (r->bad)
        return;
    if (i >= r->opt.columns) {
        reject(r, false, (size_t)-1, "row has more than %zu cells "
                      "(the column limit)", r->opt.columns);
        return;
    }
    if (len > r->opt.cell_bytes) {
        reject(r, false, i, "cell is longer than %zu bytes (the cell "
                      "limit)", r->opt.cell_bytes);
        return;
    }
    if (len > r->opt.row_bytes - r->row_bytes) {
        reject(r, false, (size_t)-1, "row is longer than %zu bytes "
                      "(the row limit)", r->opt.row_bytes);
        return;
    }
    r->cellv[i] = (cell){r->cells.len, len, s != NULL};
    r->row_bytes += len;
    if (len && sl_buf_append(&r->cells, s, len) != 0) /* within its cap */
        stop(r, SL_CSV_E_NOMEM, "out of memory");
}

/* The row's text without its line end. */
static void raw_view(const sl_csv *r, sl_csv_row *row)
{
    size_t n = r->raw.len;
    if (!r->raw_cut && n && (r->raw.data[n - 1] == '\n' ||
                             r->raw.data[n - 1] == '\r'))
        n--;
    row->raw = n ? r->raw.data : "";
    row->raw_len = n;
    row->raw_cut = r->raw_cut;
}

static void deliver(sl_csv *r, sl_csv_row *row)
{
    row->line = r->row_line;
    row->number = ++r->rows;
    raw_view(r, row);
    if (r->fn && r->fn(r->ud, row) != 0)
        stop(r, SL_CSV_E_STOPPED, "stopped by the caller");
}

static void deliver_bad(sl_csv *r)
{
    sl_csv_row row = {.field = r->bad_field, .error = r->bad_msg};
    deliver(r, &row);
}

/* Convert the row's cells by the header's columns into r->out. Its cap
 * is out of reach (see sl_csv_new), so a buffer failure is memory. */
static void convert(sl_csv *r)
{
    char why[192];
    sl_buf *o = &r->out;
    int rc = 0;
    sl_buf_reset(o);
    rc |= sl_buf_putc(o, '{');
    bool first = true;
    for (size_t i = 0; i < r->ncols && rc == 0; i++) {
        const column *c = &r->cols[i];
        if (c->drop)
            continue;
        if (!first)
            rc |= sl_buf_putc(o, ',');
        first = false;
        rc |= sl_buf_append(o, r->names.data + c->key_off, c->key_len);
        sl_csv_cell v = {cell_at(r, i), r->cellv[i].len,
                         r->cellv[i].quoted};
        int vrc = rc ? 0 : sl_csv_cell_append(c->type, c->nullable, &v, o,
                                              why, sizeof why);
        if (vrc == -1) {
            reject(r, false, i, "%s", why);
            return;
        }
        rc |= vrc;
    }
    rc |= rc ? 0 : sl_buf_putc(o, '}');
    if (rc != 0)
        stop(r, SL_CSV_E_NOMEM, "out of memory");
}

static void data_row(sl_csv *r)
{
    if (!r->bad && r->ncells != r->ncols)
        reject(r, false, (size_t)-1, "row has %zu cell%s, the header has %zu",
               r->ncells, r->ncells == 1 ? "" : "s", r->ncols);
    if (!r->bad)
        convert(r);
    if (r->rc != SL_CSV_OK)
        return;
    if (r->bad) {
        deliver_bad(r);
        return;
    }
    sl_csv_row row = {.json = r->out.data, .json_len = r->out.len};
    deliver(r, &row);
}

/* Index of the schema field named p[0..n), or -1. */
static long field_index(const sl_schema *s, const char *p, size_t n)
{
    for (size_t i = 0; i < sl_schema_nfields(s); i++) {
        const char *f = sl_schema_field_name(s, i);
        if (strlen(f) == n && memcmp(f, p, n) == 0)
        return (long)i;
    }
    return -1;
}

static sl_csv_rc header_column(sl_csv *r, size_t i, bool *seen)
{
    column *c = &r->cols[i];
    const char *p = cell_at(r, i);
    size_t n = r->cellv[i].len;
    if (memchr(p, '\0', n) || !sl_json_utf8_valid(p, n))
        return stop(r, SL_CSV_E_HEADER, "line %zu: column %zu's name is not "
                "valid UTF-8 text", r->row_line, i + 1);
    for (size_t j = 0; j < i; j++)
        if (r->cols[j].name_len == n &&
        memcmp(r->names.data + r->cols[j].name_off, p, n) == 0)
        return stop(r, SL_CSV_E_HEADER, "line %zu: columns %zu and %zu "
                    "are both named \"%.*s\"", r->row_line, j + 1, i + 1,
                    (int)(n > 64 ? 64 : n), p);
    c->name_off = r->names.len;
    c->name_len = n;
    if (sl_buf_append(&r->names, p, n) != 0)
        return stop(r, SL_CSV_E_NOMEM, "out of memory");
    c->key_off = r->names.len;
    if (sl_csv_cell_string(&r->names, p, n) != 0 ||
        sl_buf_putc(&r->names, ':') != 0)
        return stop(r, SL_CSV_E_NOMEM, "out of memory");
    c->key_len = r->names.len - c->key_off;
    long f = field_index(r->schema, p, n);
    if (f >= 0) {
        seen[f] = true;
        c->type = sl_schema_field_type(r->schema, (size_t)f);
        c->nullable = sl_schema_field_nullable(r->schema, (size_t)f);
        return SL_CSV_OK;
    }
    c->type = SL_TYPE_STRING;
    c->nullable = true;
    if (r->opt.keep_unknown)
        return SL_CSV_OK;
    if (sl_schema_policy(r->schema) == SL_UNKNOWN_DROP) {
        c->drop = true;
        return SL_CSV_OK;
    }
    return stop(r, SL_CSV_E_HEADER, "line %zu: column %zu \"%.*s\" is not a "
            "field of the schema, which rejects unknown fields",
            r->row_line, i + 1, (int)(n > 64 ? 64 : n), p);
}

static void header_row(sl_csv *r)
{
    size_t nf = sl_schema_nfields(r->schema);
    if (r->bad) {
        stop(r, SL_CSV_E_HEADER, "line %zu: the header row: %s", r->row_line,
             r->bad_msg);
        return;
    }
    bool *seen = calloc(nf + 1, sizeof *seen);
    r->cols = calloc(r->ncells, sizeof *r->cols);
    if (!seen || !r->cols) {
        free(seen);
        stop(r, SL_CSV_E_NOMEM, "out of memory");
        return;
    }
    r->ncols = r->ncells;
    for (size_t i = 0; i < r->ncols && r->rc == SL_CSV_OK; i++)
        header_column(r, i, seen);
    /* with keep_unknown a transform reads the rows: it may fill a field
     * no column has, and the schema check judges what it returns */
    for (size_t f = 0; f < nf && r->rc == SL_CSV_OK && !r->opt.keep_unknown;
         f++)
        if (!seen[f] && !sl_schema_field_nullable(r->schema, f))
            stop(r, SL_CSV_E_HEADER, "line %zu: the header has no column "
                 "for field \"%s\", which is not nullable", r->row_line,
                 sl_schema_field_name(r->schema, f));
    free(seen);
    r->header_done = true;
}

/* libcsv's row callback: the row ends with the segment being parsed. */
static void on_row(int c, void *ud)
{
    sl_csv *r = ud;
    (void)c;
    if (r->rc == SL_CSV_OK) {
        if (r->header_done)
        data_row(r);
        else
        header_row(r);
    }
    row_reset(r);
    r->at_boundary = true;
}

static void raw_add(sl_csv *r, const char *s, size_t n)
{
    if (r->raw_cut)
        return;
    size_t room = r->raw.max - r->raw.len;
    if (n > room) {
        n = room;
        r->raw_cut = true;
    }
    if (sl_buf_append(&r->raw, s, n) != 0) /* within its cap: memory */
        stop(r, SL_CSV_E_NOMEM, "out of memory");
}

/* The row ends inside a malformed cell, or the file inside a quote. */
static void malformed_end(sl_csv *r)
{
    r->skipping = false;
    r->at_boundary = true;
    if (r->header_done)
        deliver_bad(r);
    else
        stop(r, SL_CSV_E_HEADER, "line %zu: the header row: %s", r->row_line,
             r->bad_msg);
    row_reset(r);
}

/* A cell still being read past its limit is cut to its last byte (all
 * libcsv looks back at: the quote that may end it), so that a hostile
 * cell is never held whole; the row is rejected with the reason on_cell
 * would give when the cell ends (the same however the input is cut). A
 * cell within its limit but past the row's is left to on_cell: it is
 * bounded by the cell limit. */
static void cap_cell(sl_csv *r)
{
    size_t pos = r->p.entry_pos;
    if (pos <= 1 || (!r->bad && pos - 1 <= r->opt.cell_bytes))
        return; /* pos - 1: the last byte may be a closing quote */
    if (r->ncells >= r->opt.columns)
        reject(r, false, (size_t)-1, "row has more than %zu cells (the "
               "column limit)", r->opt.columns);
    else
        reject(r, false, r->ncells, "cell is longer than %zu bytes (the cell "
               "limit)", r->opt.cell_bytes);
    r->p.entry_buf[0] = r->p.entry_buf[pos - 1];
    r->p.entry_pos = 1;
}

static void segment(sl_csv *r, const char *s, size_t n)
{
    char last = s[n - 1];
    bool term = last == '\n' || last == '\r';
    if (r->last == '\r' && s[0] != '\n')
        r->lf++; /* the CR before ended a line by itself */
    r->last = last;
    size_t line = r->lf + 1;
    r->lf += last == '\n';
    if (r->skipping) {
        raw_add(r, s, n);
        if (term)
        malformed_end(r);
        return;
    }
    if (r->at_boundary) {
        if (n == 1 && term)
        return; /* a blank line, or the LF of a CRLF */
        r->at_boundary = false;
        r->row_line = line;
        sl_buf_reset(&r->raw);
        r->raw_cut = false;
    }
    raw_add(r, s, n);
    if (csv_parse(&r->p, s, n, on_cell, on_row, r) == n) {
        cap_cell(r);
        return;
    }
    if (csv_error(&r->p) != CSV_EPARSE) {
        stop(r, SL_CSV_E_NOMEM, "out of memory (libcsv: %s)",
         csv_strerror(csv_error(&r->p)));
        return;
    }
    char at[48] = "";
    if (line != r->row_line)
        snprintf(at, sizeof at, " (on line %zu)", line);
    reject(r, true, r->ncells, "malformed CSV%s: %s", at,
           r->p.quoted ? "text after the closing quote of a quoted cell (a "
                     "quote inside one is written \"\")"
                   : "a quote inside an unquoted cell (quote the cell "
                     "and write the quote as \"\")");
    int opts = csv_get_opts(&r->p); /* back to a row's start, quietly */
    csv_set_opts(&r->p, (unsigned char)(opts & ~CSV_STRICT_FINI));
    csv_fini(&r->p, NULL, NULL, NULL);
    csv_set_opts(&r->p, (unsigned char)opts);
    r->skipping = true;
    if (term)
        malformed_end(r);
}

static void feed_bytes(sl_csv *r, const char *p, size_t n)
{
    while (n > 0 && r->rc == SL_CSV_OK) {
        size_t k = n < SEG_MAX ? n : SEG_MAX;
        const char *lf = memchr(p, '\n', k);
        if (lf)
        k = (size_t)(lf - p) + 1;
        const char *cr = memchr(p, '\r', k);
        if (cr)
        k = (size_t)(cr - p) + 1;
        segment(r, p, k);
        p += k;
        n -= k;
    }
}

sl_csv_rc sl_csv_feed(sl_csv *r, const void *data, size_t n)
{
    const unsigned char *p = data;
    if (r->rc != SL_CSV_OK || n == 0)
        return r->rc;
    if (r->ended)
        return stop(r, SL_CSV_E_STOPPED, "input after the end");
    while (r->bom_seen < 3 && n > 0) {
        if (*p != bom[r->bom_seen]) { /* not a BOM: give back what matched */
        unsigned k = r->bom_seen;
        r->bom_seen = 3;
        feed_bytes(r, (const char *)bom, k);
        break;
    }
        r->bom_seen++;
        p++;
        n--;
    }
    feed_bytes(r, (const char *)p, n);
    return r->rc;
}

sl_csv_rc sl_csv_finish(sl_csv *r)
{
    if (r->rc != SL_CSV_OK || r->ended)
        return r->rc;
    if (r->bom_seen > 0 && r->bom_seen < 3) {
        unsigned k = r->bom_seen;
        r->bom_seen = 3;
        feed_bytes(r, (const char *)bom, k);
    }
    r->ended = true;
    if (r->last && r->last != '\n')
        r->lf++; /* a last line without LF, or one ended by a CR */
    if (r->rc == SL_CSV_OK && !r->at_boundary) {
        if (r->skipping) {
            malformed_end(r);
        } else if (csv_fini(&r->p, on_cell, on_row, r) != 0) {
            reject(r, true, r->ncells, "malformed CSV: a quoted cell is not "
                   "closed (the file ends inside it)");
            malformed_end(r);
        }
    }
    if (r->rc == SL_CSV_OK && !r->header_done)
        stop(r, SL_CSV_E_HEADER, "the file has no header row");
    return r->rc;
}
