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
    sl_workers *workers;
    piece *pieces;           /* the last call's: count in use, cap made */
    size_t count, cap;
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
    if (!(p->workers = sl_workers_new(nhelpers, err, errlen))) {
        free(p);
        return NULL;
    }
    return p;
}

void sl_pieces_free(sl_pieces *p)
{
    if (!p)
        return;
    sl_workers_free(p->workers);
    for (size_t i = 0; i < p->cap; i++) {
        sl_buf_free(&p->pieces[i].block);
        sl_buf_free(&p->pieces[i].rejects);
    }
    free(p->pieces);
    free(p);
}

/* sl_workers_fn: check one piece. */
static void check_piece(void *ud, size_t i)
{
    sl_pieces *p = ud;
    piece *one = &p->pieces[i];
    sl_buf_reset(&one->block);
    if (one->rejects.cap > KEEP_MAX) /* the last call's; not needed now */
        sl_buf_free(&one->rejects);
    sl_buf_reset(&one->rejects);
    /* as sl_connector sizes its block: about the input, once */
    (void)sl_buf_reserve(&one->block, one->len + one->len / 8 + 256);
    one->rc = sl_ingest(p->schema, NULL, SL_INGEST_NDJSON, one->data,
                        one->len, p->lim, &one->block, &one->rejects,
                        &one->res);
}

/* Cut data[0..len) into pieces of whole lines of about SL_PIECES_BYTES.
 * 0, or -1 out of memory. */
static int cut(sl_pieces *p, const char *data, size_t len)
{
    size_t want = len / SL_PIECES_BYTES + 1;
    if (want > p->cap) {
        piece *grown = realloc(p->pieces, want * sizeof *grown);
        if (!grown)
            return -1;
        for (size_t i = p->cap; i < want; i++) {
            memset(&grown[i], 0, sizeof grown[i]);
            sl_buf_init(&grown[i].block, 0);
            sl_buf_init(&grown[i].rejects, 0);
        }
        p->pieces = grown;
        p->cap = want;
    }
    p->count = 0;
    size_t at = 0;
    while (at < len) {
        size_t end = len;
        if (len - at > SL_PIECES_BYTES) {
            const char *nl = memchr(data + at + SL_PIECES_BYTES - 1, '\n',
                                    len - at - SL_PIECES_BYTES + 1);
            end = nl ? (size_t)(nl - data) + 1 : len;
        }
        /* pieces end at line ends, so there are at most `want` */
        p->pieces[p->count].data = data + at;
        p->pieces[p->count].len = end - at;
        p->count++;
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
    sl_workers_run(p->workers, p->count, check_piece, p);
    size_t mark = block->len, bytes = 0;
    int rc = 0;
    for (size_t i = 0; i < p->count; i++) {
        const piece *one = &p->pieces[i];
        if (one->rc != 0)
            rc = -1;
        bytes += one->block.len;
        res->accepted += one->res.accepted;
        res->dropped += one->res.dropped;
        res->rejected += one->res.rejected;
        res->listed += one->res.listed;
        res->lines += one->res.lines;
    }
    if (rc == 0 && sl_buf_reserve(block, bytes) != 0)
        rc = -1;
    for (size_t i = 0; i < p->count; i++) {
        piece *one = &p->pieces[i];
        if (rc == 0 && one->block.len) {
            memcpy(block->data + block->len, one->block.data, one->block.len);
            block->len += one->block.len;
        }
        if (one->block.cap > KEEP_MAX)
            sl_buf_free(&one->block);
    }
    if (rc != 0) {
        block->len = mark;
        memset(res, 0, sizeof *res);
        for (size_t i = 0; i < p->count; i++)
            sl_buf_reset(&p->pieces[i].rejects);
    }
    return rc;
}

size_t sl_pieces_count(const sl_pieces *p) { return p->count; }

void sl_pieces_piece(const sl_pieces *p, size_t i, const char **data,
                     size_t *len, const sl_buf **rejects, size_t *listed)
{
    *data = p->pieces[i].data;
    *len = p->pieces[i].len;
    *rejects = &p->pieces[i].rejects;
    *listed = p->pieces[i].rejects.len ? p->pieces[i].res.listed : 0;
}
