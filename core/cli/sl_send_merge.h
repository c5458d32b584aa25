/* sl_send_merge: the intake's answers to the posts of one batch, read,
 * checked and added up, so that a batch the gateway made `send` split
 * (413) is answered as one: {"accepted":N,"rejected":[...]} with every
 * rejection's index counted from the batch's first record. */
#ifndef SL_SEND_MERGE_H
#define SL_SEND_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_buf.h"

typedef struct sl_send_merge {
    size_t accepted;       /* records taken */
    size_t dropped;        /* records the transform dropped */
    size_t rejected;       /* records rejected (rejected_total when given) */
    size_t listed;         /* rejections in `items` */
    bool truncated;        /* some rejections were not listed */
    bool fanout;           /* a transform may make several records of one
                              (or reject several outputs of one): counts
                              are then not bounded by the records sent */
    sl_buf items;          /* the listed rejections, "{..},{..}", indices
                              rebased; owned */
} sl_send_merge;

/* Start empty; the listed rejections may take `max` bytes at most.
 * fanout: the connector has a transform (see sl_send_merge.fanout). */
void sl_send_merge_init(sl_send_merge *a, size_t max, bool fanout);

/* Release the rejections. Accepts an initialised or freed answer. */
void sl_send_merge_free(sl_send_merge *a);

/* Read one 200/422 answer of the intake (`body`, `len` bytes) and add it,
 * each rejection's "index" plus `offset`. Members other than accepted,
 * dropped, rejected, rejected_total and rejected_truncated are ignored;
 * each rejection must be an object with an integer "index" in
 * [0, records) (`records`: how many the post had), and, unless fanout,
 * accepted + dropped + rejected at most `records`. 0, or -1 with the
 * reason in err (a is then partly added to: discard it). */
int sl_send_merge_add(sl_send_merge *a, const char *body, size_t len,
                       size_t offset, size_t records, char *err,
                       size_t errlen);

/* Add one rejection of the record at `index` (of the whole batch) that
 * no post could carry: {"index":index,"field":"","error":error}. 0, or
 * -1 when the rejections' cap was reached. */
int sl_send_merge_reject(sl_send_merge *a, size_t index, const char *error);

/* Append the sum as the intake would answer it to out and return its
 * status: 422 when nothing was accepted or dropped and some were
 * rejected, else 200. -1 when out's cap was reached. */
int sl_send_merge_write(const sl_send_merge *a, sl_buf *out);

#endif
