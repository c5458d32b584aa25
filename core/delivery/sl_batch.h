/* sl_batch: the records of one delivery batch and the pieces it is sent
 * as.
 *
 * A batch is a cut of the spool: its records are copied once into the
 * body of the whole batch, in the connector's form (a JSON array, NDJSON
 * lines or one object), with each record's place kept so that the batch
 * can be halved. It is worked through as pieces: the whole batch first; a
 * split replaces the current piece by its first half and stacks the
 * second, which becomes current when the pieces before it are done. A
 * piece's body and idempotency key are made when it is first sent.
 *
 * With templates (the connector's body.template and body.record_template)
 * each record is wrapped as it is copied, and each piece's body is the
 * body template around the piece's records, with the piece's own key
 * ($batch_id) and count ($count); the records themselves stay raw.
 *
 * A piece may also be made of records picked out of the current one
 * (sl_batch_pick: the records a destination asked to have again), not
 * contiguous; its body is built like any piece's. */
#ifndef SL_BATCH_H
#define SL_BATCH_H

#include <stddef.h>

#include "sl_config.h"
#include "sl_spool.h"

struct sl_batch;
typedef struct sl_batch sl_batch;

typedef struct sl_batch_piece {
    size_t from, n;             /* records [from, from + n) of the batch;
                                   picked: its records are those listed
                                   at [from, from + n) of the batch's
                                   picks (sl_batch_pick) */
    int picked;
} sl_batch_piece;

/* An empty batch for connector `c` (borrowed; must outlive it: its body
 * form and templates, batch_max_records, batch_max_bytes, compression
 * and name). NULL when out of memory. */
sl_batch *sl_batch_new(const sl_connector_conf *c);

/* Free the batch and its body. Accepts NULL. */
void sl_batch_free(sl_batch *b);

/* Cut the next batch from `spool` into the empty batch b: a batch
 * recovered from a previous run, else up to batch_max_records records (1
 * in the object form) while the body, a body template's text and values
 * included, stays within batch_max_bytes (a first record always goes,
 * however large). The whole batch becomes the
 * current piece. Returns 1 when records were taken, 0 when there were
 * none to take, -1 when out of memory (here, or in the spool reading a
 * recovered batch: try again later); then, if sl_batch_cut(b)->nrecords
 * is not 0, the spool did cut them and keeps them outstanding (they are
 * cut again after a restart). Either way b is only fit to be freed. */
int sl_batch_take(sl_batch *b, sl_spool *spool);

/* Whether c's next batch is due in `spool` at `now` (monotonic ms): 1 when
 * a recovered batch waits, or records wait and the batch is full (by
 * records or bytes), the object form takes them one by one, `draining`
 * is set, or the oldest has waited batch_max_delay_ms; 0 otherwise, with
 * *wait_ms set to when the oldest will have (left as it is when the spool
 * is empty). */
int sl_batch_due(const sl_connector_conf *c, const sl_spool *spool,
                 uint64_t now, int draining, uint64_t *wait_ms);

/* Cut a batch into the empty batch b from records the caller has
 * (recs[i], lens[i] bytes; copied), not from a spool: as sl_batch_take
 * would cut them from a new spool (identity 0, places from 0), as many as
 * fit one batch (batch_max_records, batch_max_bytes; 1 in the object
 * form). For showing a request without a spool (sl_preview). Returns 1
 * when records were taken, 0 when n is 0, -1 when out of memory (b is
 * then only fit to be freed). */
int sl_batch_take_records(sl_batch *b, const char *const *recs,
                          const size_t *lens, size_t n);

/* The batch's place in the spool (for sl_spool_done). */
const sl_cut *sl_batch_cut(const sl_batch *b);

/* Records in the batch. */
size_t sl_batch_count(const sl_batch *b);

/* The piece being sent. */
sl_batch_piece sl_batch_current(const sl_batch *b);

/* Make the current piece's body and key unless they are made already,
 * and with the connector's compression the body compressed (once per
 * piece: every attempt of it sends the same bytes). 0, or -1 when out of
 * memory (nothing changed; try again later). */
int sl_batch_build(sl_batch *b);

/* The current piece's body (*len bytes) and idempotency key, once built;
 * valid until the piece changes. The key names the records, not the
 * attempt: the connector, the spool's identity, the first record's place
 * and the count, so a batch cut again after a restart gets the same key;
 * a picked piece's ends in "-p" and 8 hex digits of its records' places,
 * so that it differs from a contiguous piece of the same first record
 * and count but stays the same for the same records. */
const char *sl_batch_body(const sl_batch *b, size_t *len);
const char *sl_batch_key(const sl_batch *b);

/* The bytes sent for the current piece, once built: the body compressed
 * as the connector's `compression` says, or without compression the body
 * itself (as sl_batch_body); valid until the piece changes. */
const char *sl_batch_wire_body(const sl_batch *b, size_t *len);

/* Replace the current piece (of 2 records or more) by its first half and
 * stack the second. 0, or -1 when out of memory (nothing changed). */
int sl_batch_split(sl_batch *b);

/* The batch record (an index for sl_batch_record) that is the k-th
 * (from 0, k < p.n) of piece p, a piece of b. */
size_t sl_batch_piece_record(const sl_batch *b, sl_batch_piece p, size_t k);

/* Replace the current piece by the piece of its records at positions
 * pos[0..n) (from 0, ascending, each below the current piece's n; n >= 1),
 * in that order. The pieces stacked are left as they are. 0, or -1 when
 * out of memory or pos is not as said (nothing changed). */
int sl_batch_pick(sl_batch *b, const size_t *pos, size_t n);

/* The current piece is done: the last one stacked becomes current.
 * Returns 1, or 0 when none is left (the batch is done). */
int sl_batch_next(sl_batch *b);

/* Record i's JSON text (*len bytes), inside the batch's body: the record
 * as it was spooled, without any template around it. */
const char *sl_batch_record(const sl_batch *b, size_t i, size_t *len);

#endif
