/* sl_batch: a batch's records, copied once from the spool into the body
 * in the connector's form, and the stack of pieces a split leaves. */
#include "sl_batch.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_buf.h"
#include "sl_gzip.h"

typedef struct rec_ref {
    size_t off, len;            /* the record's bytes in batch.full */
    uint64_t lsn;               /* its place in the spool */
} rec_ref;

struct sl_batch {
    const sl_connector_conf *c;
    sl_cut cut;
    sl_buf full;                /* the whole batch's body, built as it is
                                   cut */
    rec_ref *refs;
    size_t nrecords, caprefs;
    sl_batch_piece cur;         /* being sent */
    sl_batch_piece *stack;      /* waiting halves, last on top */
    size_t nstack, capstack;
    sl_buf part;                /* a piece's body, once split */
    const sl_buf *body;         /* the current piece's: &full or &part;
                                   NULL until built (with the key) */
    char key[128];              /* the current piece's idempotency key */
    sl_buf gz;                  /* with compression: the current piece's
                                   body compressed, made with it */
};

sl_batch *sl_batch_new(const sl_connector_conf *c)
{
    sl_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->c = c;
    sl_buf_init(&b->full, 0);
    sl_buf_init(&b->part, 0);
    sl_buf_init(&b->gz, 0);
    return b;
}

void sl_batch_free(sl_batch *b)
{
    if (!b)
        return;
    free(b->refs);
    free(b->stack);
    sl_buf_free(&b->full);
    sl_buf_free(&b->part);
    sl_buf_free(&b->gz);
    free(b);
}

/* ---- cutting ---------------------------------------------------------- */

/* Body bytes of records [from, from+n) in the connector's form. */
static size_t form_bytes(const sl_batch *b, size_t from, size_t n)
{
    size_t bytes = 0;
    for (size_t i = from; i < from + n; i++)
        bytes += b->refs[i].len;
    if (b->c->body == SL_BODY_ARRAY)
        bytes += n + 1; /* [ , ... ] */
    else if (b->c->body == SL_BODY_NDJSON)
        bytes += n;
    return bytes;
}

/* Write record i of a body whose first record is `from` at w, in the
 * connector's form: '[' or ',' before it in the array form, '\n' after it
 * in NDJSON (the closing ']' is the caller's). Room must be reserved.
 * Returns the end. */
static char *put_record(const sl_connector_conf *c, char *w, size_t i,
                        size_t from, const char *rec, size_t len)
{
    if (c->body == SL_BODY_ARRAY)
        *w++ = i == from ? '[' : ',';
    memcpy(w, rec, len);
    w += len;
    if (c->body == SL_BODY_NDJSON)
        *w++ = '\n';
    return w;
}

/* sl_cut_emit_fn: add one record to the batch's body unless it would
 * make it pass max_bytes (a first record always goes, however large, so
 * that nothing can get stuck). The records are copied once, here, into
 * the body that is sent; `refs` remember where each is for a split. */
static int emit_record(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    sl_batch *b = ud;
    const sl_connector_conf *c = b->c;
    size_t extra = len + 1 + (c->body == SL_BODY_ARRAY && b->nrecords == 0);
    if (b->nrecords > 0 && b->full.len + extra + 1 > c->batch_max_bytes)
        return 1;
    if (b->nrecords == b->caprefs) {
        size_t nc = b->caprefs ? b->caprefs * 2 : 64;
        rec_ref *nr = realloc(b->refs, nc * sizeof *nr);
        if (!nr)
            return 1;
        b->refs = nr;
        b->caprefs = nc;
    }
    if (sl_buf_reserve(&b->full, extra + 1) != 0) /* + the closing ']' */
        return 1;
    char *w = b->full.data + b->full.len;
    char *end = put_record(c, w, b->nrecords, 0, rec, len);
    b->refs[b->nrecords].off =
        (size_t)(w - b->full.data) + (c->body == SL_BODY_ARRAY);
    b->refs[b->nrecords].len = len;
    b->full.len = (size_t)(end - b->full.data);
    b->refs[b->nrecords].lsn = lsn;
    b->nrecords++;
    return 0;
}

int sl_batch_take(sl_batch *b, sl_spool *spool)
{
    const sl_connector_conf *c = b->c;
    size_t max_records = c->body == SL_BODY_OBJECT ? 1 : c->batch_max_records;
    size_t est = sl_spool_bytes(spool) + sl_spool_count(spool) + 2;
    if (est > c->batch_max_bytes)
        est = c->batch_max_bytes;
    if (sl_buf_reserve(&b->full, est) != 0)
        return -1;
    sl_spool_take(spool, max_records, emit_record, b, &b->cut);
    if (b->nrecords == 0 || b->nrecords != b->cut.nrecords)
        /* empty with a recovered batch left: the spool ran out of memory
         * reading it (unreadable ones it drops), so try again */
        return b->cut.nrecords == 0 && sl_spool_recovered_left(spool) == 0
                   ? 0
                   : -1;
    if (c->body == SL_BODY_ARRAY)
        sl_buf_putc(&b->full, ']'); /* room was reserved by emit_record */
    b->cur.from = 0;
    b->cur.n = b->nrecords;
    return 1;
}

const sl_cut *sl_batch_cut(const sl_batch *b) { return &b->cut; }
size_t sl_batch_count(const sl_batch *b) { return b->nrecords; }
sl_batch_piece sl_batch_current(const sl_batch *b) { return b->cur; }

const char *sl_batch_record(const sl_batch *b, size_t i, size_t *len)
{
    *len = b->refs[i].len;
    return b->full.data + b->refs[i].off;
}

/* ---- pieces ------------------------------------------------------------- */

/* The current piece's body and key, in the connector's form. 0, or -1
 * when out of memory. */
static int make_body(sl_batch *b)
{
    const sl_connector_conf *c = b->c;
    sl_batch_piece p = b->cur;
    if (p.from == 0 && p.n == b->nrecords) {
        b->body = &b->full;
    } else {
        sl_buf_reset(&b->part);
        if (sl_buf_reserve(&b->part, form_bytes(b, p.from, p.n) + 1) != 0)
            return -1;
        char *w = b->part.data;
        for (size_t i = p.from; i < p.from + p.n; i++)
            w = put_record(c, w, i, p.from, b->full.data + b->refs[i].off,
                           b->refs[i].len);
        if (c->body == SL_BODY_ARRAY)
            *w++ = ']';
        b->part.len = (size_t)(w - b->part.data);
        b->body = &b->part;
    }
    snprintf(b->key, sizeof b->key, "%s-%016" PRIx64 "-%" PRIx64 "-%zu",
             c->name, b->cut.epoch, b->refs[p.from].lsn, p.n);
    return 0;
}

int sl_batch_build(sl_batch *b)
{
    if (b->body)
        return 0;
    if (make_body(b) != 0)
        return -1;
    if (b->c->compression == SL_COMPRESSION_NONE)
        return 0;
    /* the final body, compressed once per piece: every attempt of it
     * sends these bytes */
    size_t len;
    const char *body = sl_batch_body(b, &len);
    if (sl_gzip_compress(&b->gz, body, len, b->c->compression_level) != 0) {
        b->body = NULL; /* built again next time */
        return -1;
    }
    return 0;
}

const char *sl_batch_body(const sl_batch *b, size_t *len)
{
    *len = b->body->len;
    return b->body->data;
}

const char *sl_batch_wire_body(const sl_batch *b, size_t *len)
{
    if (b->c->compression == SL_COMPRESSION_NONE)
        return sl_batch_body(b, len);
    *len = b->gz.len;
    return b->gz.data;
}

const char *sl_batch_key(const sl_batch *b) { return b->key; }

int sl_batch_split(sl_batch *b)
{
    if (b->nstack == b->capstack) {
        size_t nc = b->capstack ? b->capstack * 2 : 8;
        sl_batch_piece *ns = realloc(b->stack, nc * sizeof *ns);
        if (!ns)
            return -1;
        b->stack = ns;
        b->capstack = nc;
    }
    size_t half = b->cur.n / 2;
    b->stack[b->nstack].from = b->cur.from + half;
    b->stack[b->nstack].n = b->cur.n - half;
    b->nstack++;
    b->cur.n = half;
    b->body = NULL;
    return 0;
}

int sl_batch_next(sl_batch *b)
{
    b->body = NULL;
    if (b->nstack == 0)
        return 0;
    b->cur = b->stack[--b->nstack];
    return 1;
}
