/* sl_pieces: a chunk's lines checked in parallel pieces, merged in order. */
#include "sl_pieces.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sl_workers.h"

/* A piece buffer that grew past this (a very long line, many rejections)
 * is given back rather than kept for the next call. */
#define KEEP_MAX (4 * SL_PIECES_BYTES)

typedef struct piece {
    const char *data;
    size_t len;
    sl_buf block, rejects;   /* this piece's output */
    sl_ingest_result res;
    int rc;                  /* sl_ingest's */
} piece;

struct sl_pieces {
    sl_workers *w;
    piece *v;
    size_t n, cap;
    /* the call in progress, for the tasks */
    const sl_schema *schema;
    const sl_ingest_limits *lim;
};

sl_pieces *sl_pieces_new(unsigned nhelpers, char *err, size_t errlen)
{
    sl_pieces *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!(p->w = sl_workers_new(nhelpers, err, errlen))) {
        free(p);
        return NULL;
    }
    return p;
}

void sl_pieces_free(sl_pieces *p)
{
    if (!p)
        return;
    sl_workers_free(p->w);
    for (size_t i = 0; i < p->cap; i++) {
        sl_buf_free(&p->v[i].block);
        sl_buf_free(&p->v[i].rejects);
    }
    free(p->v);
    free(p);
}

/* sl_workers_fn: check one piece. */
static void check_piece(void *ud, size_t i)
{
    sl_pieces *p = ud;
    piece *pc = &p->v[i];
    sl_buf_reset(&pc->block);
    if (pc->rejects.cap > KEEP_MAX) /* the last call's; not needed now */
        sl_buf_free(&pc->rejects);
    sl_buf_reset(&pc->rejects);
    /* as sl_connector sizes its block: about the input, once */
    (void)sl_buf_reserve(&pc->block, pc->len + pc->len / 8 + 256);
    pc->rc = sl_ingest(p->schema, NULL, SL_INGEST_NDJSON, pc->data, pc->len,
                       p->lim, &pc->block, &pc->rejects, &pc->res);
}

/* Cut data[0..len) into pieces of whole lines of about SL_PIECES_BYTES.
 * 0, or -1 out of memory. */
static int cut(sl_pieces *p, const char *data, size_t len)
{
    size_t want = len / SL_PIECES_BYTES + 1;
    if (want > p->cap) {
        piece *v = realloc(p->v, want * sizeof *v);
        if (!v)
            return -1;
        for (size_t i = p->cap; i < want; i++) {
            memset(&v[i], 0, sizeof v[i]);
            sl_buf_init(&v[i].block, 0);
            sl_buf_init(&v[i].rejects, 0);
        }
        p->v = v;
        p->cap = want;
    }
    p->n = 0;
    size_t at = 0;
    while (at < len) {
        size_t end = len;
        if (len - at > SL_PIECES_BYTES) {
            const char *nl = memchr(data + at + SL_PIECES_BYTES - 1, '\n',
                                    len - at - SL_PIECES_BYTES + 1);
            end = nl ? (size_t)(nl - data) + 1 : len;
        }
        /* pieces end at line ends, so there are at most `want` */
        p->v[p->n].data = data + at;
        p->v[p->n].len = end - at;
        p->n++;
        at = end;
    }
    return 0;
}

int sl_pieces_ingest(sl_pieces *p, const sl_schema *schema, const char *data,
                     size_t len, const sl_ingest_limits *lim, sl_buf *block,
                     sl_ingest_result *res)
{
    memset(res, 0, sizeof *res);
    if (cut(p, data, len) != 0)
        return -1;
    p->schema = schema;
    p->lim = lim;
    sl_workers_run(p->w, p->n, check_piece, p);
    size_t mark = block->len, bytes = 0;
    int rc = 0;
    for (size_t i = 0; i < p->n; i++) {
        const piece *pc = &p->v[i];
        if (pc->rc != 0)
            rc = -1;
        bytes += pc->block.len;
        res->accepted += pc->res.accepted;
        res->dropped += pc->res.dropped;
        res->rejected += pc->res.rejected;
        res->listed += pc->res.listed;
        res->lines += pc->res.lines;
    }
    if (rc == 0 && sl_buf_reserve(block, bytes) != 0)
        rc = -1;
    for (size_t i = 0; i < p->n; i++) {
        piece *pc = &p->v[i];
        if (rc == 0 && pc->block.len) {
            memcpy(block->data + block->len, pc->block.data, pc->block.len);
            block->len += pc->block.len;
        }
        if (pc->block.cap > KEEP_MAX)
            sl_buf_free(&pc->block);
    }
    if (rc != 0) {
        block->len = mark;
        memset(res, 0, sizeof *res);
        for (size_t i = 0; i < p->n; i++)
            sl_buf_reset(&p->v[i].rejects);
    }
    return rc;
}

size_t sl_pieces_count(const sl_pieces *p) { return p->n; }

void sl_pieces_piece(const sl_pieces *p, size_t i, const char **data,
                     size_t *len, const sl_buf **rejects, size_t *listed)
{
    *data = p->v[i].data;
    *len = p->v[i].len;
    *rejects = &p->v[i].rejects;
    *listed = p->v[i].rejects.len ? p->v[i].res.listed : 0;
}
