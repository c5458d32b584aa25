/* sl_batch: a batch's records, copied once from the spool into the body
 * in the connector's form, and the stack of pieces a split leaves. */
#include "sl_batch.h"

#include <inttypes.h>
#include <stdbool.h>
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
    size_t *picks;              /* records of picked pieces, appended */
    size_t npicks, cappicks;
    sl_buf part;                /* a piece's body, once split */
    const char *body;           /* the current piece's, in full or part;
                                   NULL until built (with the key) */
    size_t body_len;
    char key[160];              /* the current piece's idempotency key */
    sl_buf gz;                  /* with compression: the current piece's
                                   body compressed, made with it */
    /* Templates (sl_template); unused when the connector has none. The
     * records section (the array, the lines, the one record) is built in
     * full as without templates, each record wrapped in rpre/rsuf; the
     * body template's head goes into room kept free before it. */
    bool wrapped;               /* a body or record template is set */
    const sl_template_part *parts; /* the body template's; NULL: none */
    size_t nparts, main;        /* parts[main] ends at $records/$record */
    const char *rpre, *rsuf;    /* record_template around $record */
    size_t rprelen, rsuflen;
    size_t head;                /* bytes kept free at the front of full */
    size_t recs_end;            /* where the records section ends in full */
    size_t envelope;            /* the body template's bytes, at most */
};

/* A key is "<name>-<16 hex>-<hex>-<count>[-p<8 hex>]": at most this
 * beyond the name. */
#define KEY_MAX_EXTRA (1 + 16 + 1 + 16 + 1 + 20 + 10)
#define COUNT_MAX 20            /* digits of a size_t */

/* The templates' parts and sizes, once per batch. The head is what comes
 * before the records section at most: its literals and the largest
 * values of its slots. */
static void use_templates(sl_batch *b, const sl_connector_conf *c)
{
    size_t keymax = strlen(c->name) + KEY_MAX_EXTRA;
    b->wrapped = true;
    b->rpre = b->rsuf = ""; /* memcpy of 0 bytes needs a pointer too */
    if (c->record_template) {
        size_t n;
        const sl_template_part *rp = sl_template_parts(c->record_template, &n);
        b->rpre = rp[0].lit; /* the $record slot, then the rest */
        b->rprelen = rp[0].len;
        b->rsuf = rp[1].lit;
        b->rsuflen = rp[1].len;
    }
    if (!c->body_template)
        return;
    const sl_template *t = c->body_template;
    b->parts = sl_template_parts(t, &b->nparts);
    b->envelope = sl_template_literal_bytes(t) +
                  sl_template_uses(t, SL_TEMPLATE_BATCH_ID) * (keymax + 2) +
                  sl_template_uses(t, SL_TEMPLATE_COUNT) * COUNT_MAX;
    for (size_t i = 0; i < b->nparts; i++) {
        b->head += b->parts[i].len;
        if (b->parts[i].slot == SL_TEMPLATE_RECORDS ||
            b->parts[i].slot == SL_TEMPLATE_RECORD) {
            b->main = i;
            break;
        }
        b->head += b->parts[i].slot == SL_TEMPLATE_BATCH_ID ? keymax + 2
                                                            : COUNT_MAX;
    }
}

sl_batch *sl_batch_new(const sl_connector_conf *c)
{
    sl_batch *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->c = c;
    sl_buf_init(&b->full, 0);
    sl_buf_init(&b->part, 0);
    sl_buf_init(&b->gz, 0);
    if (c->body_template || c->record_template)
        use_templates(b, c);
    return b;
}

void sl_batch_free(sl_batch *b)
{
    if (!b)
        return;
    free(b->refs);
    free(b->stack);
    free(b->picks);
    sl_buf_free(&b->full);
    sl_buf_free(&b->part);
    sl_buf_free(&b->gz);
    free(b);
}

/* ---- cutting ---------------------------------------------------------- */

/* Body bytes of piece p's records in the connector's form. */
static size_t form_bytes(const sl_batch *b, sl_batch_piece p)
{
    size_t bytes = 0;
    for (size_t k = 0; k < p.n; k++)
        bytes += b->refs[sl_batch_piece_record(b, p, k)].len;
    if (b->c->body == SL_BODY_ARRAY)
        bytes += p.n + 1; /* [ , ... ] */
    else if (b->c->body == SL_BODY_NDJSON)
        bytes += p.n;
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

/* Room for one more rec_ref. 0, or -1 when out of memory. */
static inline int refs_room(sl_batch *b)
{
    if (b->nrecords < b->caprefs)
        return 0;
    size_t nc = b->caprefs ? b->caprefs * 2 : 64;
    rec_ref *nr = realloc(b->refs, nc * sizeof *nr);
    if (!nr)
        return -1;
    b->refs = nr;
    b->caprefs = nc;
    return 0;
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
    if (refs_room(b) != 0 ||
        sl_buf_reserve(&b->full, extra + 1) != 0) /* + the closing ']' */
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

/* Write record i of a piece whose first record is `from` at w, wrapped
 * in the record template (when there is one), in the connector's form, as
 * put_record does; *at gets where the record's own bytes start. */
static inline char *put_wrapped(const sl_batch *b, char *w, size_t i,
                                size_t from, const char *rec, size_t len,
                                char **at)
{
    if (b->c->body == SL_BODY_ARRAY)
        *w++ = i == from ? '[' : ',';
    memcpy(w, b->rpre, b->rprelen);
    w += b->rprelen;
    *at = w;
    memcpy(w, rec, len);
    w += len;
    memcpy(w, b->rsuf, b->rsuflen);
    w += b->rsuflen;
    if (b->c->body == SL_BODY_NDJSON)
        *w++ = '\n';
    return w;
}

/* sl_cut_emit_fn of a connector with templates: emit_record, with each
 * record wrapped and max_bytes counting the body template's bytes too
 * (the head's room in full is not body). */
static int emit_wrapped(void *ud, const char *rec, size_t len, uint64_t lsn)
{
    sl_batch *b = ud;
    const sl_connector_conf *c = b->c;
    size_t extra = len + b->rprelen + b->rsuflen + 1 +
                   (c->body == SL_BODY_ARRAY && b->nrecords == 0);
    if (b->nrecords > 0 && b->full.len - b->head + b->envelope + extra + 1 >
                               c->batch_max_bytes)
        return 1;
    if (refs_room(b) != 0 || sl_buf_reserve(&b->full, extra + 1) != 0)
        return 1;
    char *at, *w = b->full.data + b->full.len;
    char *end = put_wrapped(b, w, b->nrecords, 0, rec, len, &at);
    b->refs[b->nrecords].off = (size_t)(at - b->full.data);
    b->refs[b->nrecords].len = len;
    b->refs[b->nrecords].lsn = lsn;
    b->full.len = (size_t)(end - b->full.data);
    b->nrecords++;
    return 0;
}

/* Ready the empty batch b for `count` records of about `est` bytes: room
 * for them and for the templates. 0, or -1 when out of memory. */
static int take_begin(sl_batch *b, size_t est, size_t count)
{
    if (b->wrapped) /* each record's wrap, the template's text */
        est += count * (b->rprelen + b->rsuflen) + b->envelope;
    if (est > b->c->batch_max_bytes)
        est = b->c->batch_max_bytes;
    if (sl_buf_reserve(&b->full, est + b->head) != 0)
        return -1;
    b->full.len = b->head; /* 0 without a body template */
    return 0;
}

/* The records are in: close the array, make the whole batch current. */
static void take_end(sl_batch *b)
{
    if (b->c->body == SL_BODY_ARRAY)
        sl_buf_putc(&b->full, ']'); /* room was reserved by emit_record */
    b->recs_end = b->full.len;
    b->cur.from = 0;
    b->cur.n = b->nrecords;
    b->cur.picked = 0;
}

static size_t take_max(const sl_batch *b)
{
    return b->c->body == SL_BODY_OBJECT ? 1 : b->c->batch_max_records;
}

int sl_batch_due(const sl_connector_conf *c, const sl_spool *spool,
                 uint64_t now, int draining, uint64_t *wait_ms)
{
    if (sl_spool_recovered_left(spool) > 0)
        return 1;
    size_t count = sl_spool_count(spool);
    if (count == 0)
        return 0;
    if (draining || c->body == SL_BODY_OBJECT ||
        count >= c->batch_max_records ||
        sl_spool_bytes(spool) + count + 1 >= c->batch_max_bytes)
        return 1;
    uint64_t due = sl_spool_oldest_ms(spool) + c->batch_max_delay_ms;
    if (now >= due)
        return 1;
    *wait_ms = due - now;
    return 0;
}

int sl_batch_take(sl_batch *b, sl_spool *spool)
{
    if (take_begin(b, sl_spool_bytes(spool) + sl_spool_count(spool) + 2,
                   sl_spool_count(spool)) != 0)
        return -1;
    sl_spool_take(spool, take_max(b), b->wrapped ? emit_wrapped : emit_record,
                  b, &b->cut);
    if (b->nrecords == 0 || b->nrecords != b->cut.nrecords)
        /* empty with a recovered batch left: the spool ran out of memory
         * reading it (unreadable ones it drops), so try again */
        return b->cut.nrecords == 0 && sl_spool_recovered_left(spool) == 0
                   ? 0
                   : -1;
    take_end(b);
    return 1;
}

int sl_batch_take_records(sl_batch *b, const char *const *recs,
                          const size_t *lens, size_t n)
{
    size_t est = 2;
    for (size_t i = 0; i < n; i++)
        est += lens[i] + 1;
    if (n == 0)
        return 0;
    if (take_begin(b, est, n) != 0)
        return -1;
    for (size_t i = 0; i < n && i < take_max(b); i++)
        if ((b->wrapped ? emit_wrapped : emit_record)(b, recs[i], lens[i],
                                                      i) != 0)
            break;
    if (b->nrecords == 0)
        return -1; /* a first record always goes unless memory ran out */
    b->cut = (sl_cut){.start = 0, .end = b->nrecords,
                      .nrecords = b->nrecords};
    take_end(b);
    return 1;
}

const sl_cut *sl_batch_cut(const sl_batch *b) { return &b->cut; }
size_t sl_batch_count(const sl_batch *b) { return b->nrecords; }
sl_batch_piece sl_batch_current(const sl_batch *b) { return b->cur; }

size_t sl_batch_piece_record(const sl_batch *b, sl_batch_piece p, size_t k)
{
    return p.picked ? b->picks[p.from + k] : p.from + k;
}

const char *sl_batch_record(const sl_batch *b, size_t i, size_t *len)
{
    *len = b->refs[i].len;
    return b->full.data + b->refs[i].off;
}

/* ---- pieces ------------------------------------------------------------- */

/* The body template's parts [from, to) with their $batch_id and $count
 * filled (the main slot and END write nothing): their bytes, and writing
 * them at w (room reserved), which returns the end. */
static size_t run_bytes(const sl_batch *b, size_t from, size_t to,
                        size_t keylen, size_t countlen)
{
    size_t n = 0;
    for (size_t i = from; i < to; i++)
        n += b->parts[i].len +
             (b->parts[i].slot == SL_TEMPLATE_BATCH_ID ? keylen + 2
              : b->parts[i].slot == SL_TEMPLATE_COUNT  ? countlen
                                                       : 0);
    return n;
}

static char *put_run(const sl_batch *b, char *w, size_t from, size_t to,
                     const char *count, size_t countlen)
{
    size_t keylen = strlen(b->key);
    for (size_t i = from; i < to; i++) {
        memcpy(w, b->parts[i].lit, b->parts[i].len);
        w += b->parts[i].len;
        if (b->parts[i].slot == SL_TEMPLATE_BATCH_ID) {
            /* the key's bytes (name, hex, digits, '-') need no escape */
            *w++ = '"';
            memcpy(w, b->key, keylen);
            w += keylen;
            *w++ = '"';
        } else if (b->parts[i].slot == SL_TEMPLATE_COUNT) {
            memcpy(w, count, countlen);
            w += countlen;
        }
    }
    return w;
}

/* sl_batch_build with templates, once the key is made. The whole batch:
 * its head written into the room before the records, its tail after
 * them. A piece: built in part, its records wrapped again. */
static int build_wrapped(sl_batch *b, sl_batch_piece p)
{
    char count[COUNT_MAX + 4];
    size_t countlen = (size_t)snprintf(count, sizeof count, "%zu", p.n);
    size_t keylen = strlen(b->key);
    size_t hlen = 0, tlen = 0;
    if (b->parts) {
        hlen = run_bytes(b, 0, b->main + 1, keylen, countlen);
        tlen = run_bytes(b, b->main + 1, b->nparts, keylen, countlen);
    }
    if (!p.picked && p.from == 0 && p.n == b->nrecords) {
        sl_buf_truncate(&b->full, b->recs_end);
        if (sl_buf_reserve(&b->full, tlen) != 0)
            return -1;
        char *start = b->full.data + b->head - hlen; /* hlen <= head */
        if (b->parts) {
            put_run(b, start, 0, b->main + 1, count, countlen);
            put_run(b, b->full.data + b->full.len, b->main + 1, b->nparts,
                    count, countlen);
            b->full.len += tlen;
        }
        b->body = start;
        b->body_len = (size_t)(b->full.data + b->full.len - start);
        return 0;
    }
    size_t bytes = form_bytes(b, p) + p.n * (b->rprelen + b->rsuflen) +
                   hlen + tlen;
    sl_buf_reset(&b->part);
    if (sl_buf_reserve(&b->part, bytes + 1) != 0)
        return -1;
    char *at, *w = b->part.data;
    if (b->parts)
        w = put_run(b, w, 0, b->main + 1, count, countlen);
    for (size_t k = 0; k < p.n; k++) {
        const rec_ref *r = &b->refs[sl_batch_piece_record(b, p, k)];
        w = put_wrapped(b, w, k, 0, b->full.data + r->off, r->len, &at);
    }
    if (b->c->body == SL_BODY_ARRAY)
        *w++ = ']';
    if (b->parts)
        w = put_run(b, w, b->main + 1, b->nparts, count, countlen);
    b->part.len = (size_t)(w - b->part.data);
    b->body = b->part.data;
    b->body_len = b->part.len;
    return 0;
}

/* sl_batch_build without templates: the whole batch is `full` as cut, a
 * piece is copied into `part`. */
static int build_plain(sl_batch *b, sl_batch_piece p)
{
    const sl_connector_conf *c = b->c;
    if (!p.picked && p.from == 0 && p.n == b->nrecords) {
        b->body = b->full.data;
        b->body_len = b->full.len;
        return 0;
    }
    sl_buf_reset(&b->part);
    if (sl_buf_reserve(&b->part, form_bytes(b, p) + 1) != 0)
        return -1;
    char *w = b->part.data;
    for (size_t k = 0; k < p.n; k++) {
        const rec_ref *r = &b->refs[sl_batch_piece_record(b, p, k)];
        w = put_record(c, w, k, 0, b->full.data + r->off, r->len);
    }
    if (c->body == SL_BODY_ARRAY)
        *w++ = ']';
    b->part.len = (size_t)(w - b->part.data);
    b->body = b->part.data;
    b->body_len = b->part.len;
    return 0;
}

/* The current piece's key and body, in the connector's form and
 * templates. 0, or -1 when out of memory. */
static int make_body(sl_batch *b)
{
    const sl_connector_conf *c = b->c;
    sl_batch_piece p = b->cur;
    /* the key first: a body template may hold it */
    int kl = snprintf(b->key, sizeof b->key, "%s-%016" PRIx64 "-%" PRIx64
                      "-%zu", c->name, b->cut.epoch,
                      b->refs[sl_batch_piece_record(b, p, 0)].lsn, p.n);
    if (p.picked && kl > 0 && (size_t)kl < sizeof b->key) {
        uint32_t h = 2166136261u; /* FNV-1a of the records' places */
        for (size_t k = 0; k < p.n; k++) {
            uint64_t lsn = b->refs[sl_batch_piece_record(b, p, k)].lsn;
            for (int i = 0; i < 8; i++, lsn >>= 8)
                h = (h ^ (uint32_t)(lsn & 0xff)) * 16777619u;
        }
        snprintf(b->key + kl, sizeof b->key - (size_t)kl, "-p%08" PRIx32, h);
    }
    if ((b->wrapped ? build_wrapped(b, p) : build_plain(b, p)) != 0) {
        b->body = NULL;
        return -1;
    }
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
    *len = b->body_len;
    return b->body;
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
    b->stack[b->nstack] = b->cur;
    b->stack[b->nstack].from = b->cur.from + half;
    b->stack[b->nstack].n = b->cur.n - half;
    b->nstack++;
    b->cur.n = half;
    b->body = NULL;
    return 0;
}

int sl_batch_pick(sl_batch *b, const size_t *pos, size_t n)
{
    if (n == 0 || n > b->cur.n)
        return -1;
    for (size_t k = 0; k < n; k++)
        if (pos[k] >= b->cur.n || (k > 0 && pos[k] <= pos[k - 1]))
            return -1;
    /* picked again from the last picks (a destination throttling the
     * same records attempt after attempt): in place, so that the picks
     * do not grow with the attempts; pos[k] >= k, so each is read before
     * it is overwritten. Nothing else refers to them: a stacked half of
     * the current piece lies after it (then it is not the last), any
     * other stacked piece before it, and a piece done or dead-lettered
     * (sl_graves keeps its place) is never current again. */
    size_t at = b->npicks;
    if (b->cur.picked && b->cur.from + b->cur.n == b->npicks)
        at = b->cur.from;
    else if (b->cappicks - b->npicks < n) {
        size_t nc = b->cappicks ? b->cappicks : 64;
        while (nc - b->npicks < n)
            nc *= 2;
        size_t *np = realloc(b->picks, nc * sizeof *np);
        if (!np)
            return -1;
        b->picks = np;
        b->cappicks = nc;
    }
    for (size_t k = 0; k < n; k++)
        b->picks[at + k] = sl_batch_piece_record(b, b->cur, pos[k]);
    b->cur = (sl_batch_piece){.from = at, .n = n, .picked = 1};
    b->npicks = at + n;
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
