/* sl_queue: the per-connector queue of encoded, destination-ready records
 * between intake and delivery. This is the in-memory implementation; the
 * durable spool implements the same calls.
 *
 * Records travel in "framed blocks": a sequence of [u32 length, host byte
 * order][record bytes] frames, as the intake builds them for one request. */
#ifndef SL_QUEUE_H
#define SL_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sl_buf.h"

typedef enum sl_queue_rc {
    SL_QUEUE_OK = 0,
    SL_QUEUE_FULL,  /* the size limit would be passed; nothing was added */
    SL_QUEUE_NOMEM
} sl_queue_rc;

struct sl_queue;
typedef struct sl_queue sl_queue;

/* A queue that holds at most max_bytes of record bytes. NULL on ENOMEM. */
sl_queue *sl_queue_new(size_t max_bytes);
void sl_queue_free(sl_queue *q); /* accepts NULL; drops what is queued */

/* Append the `nrecords` records framed in `block` (all or nothing).
 * Ownership of block->data passes to the queue on SL_QUEUE_OK and `block`
 * is left empty (re-initialised with the same cap); on any other result
 * the block is untouched and still the caller's. now_ms stamps the records'
 * arrival for max-delay batching. */
sl_queue_rc sl_queue_append(sl_queue *q, sl_buf *block, size_t nrecords,
                            uint64_t now_ms);

/* Would `bytes` more record bytes fit? */
int sl_queue_has_room(const sl_queue *q, size_t bytes);

size_t sl_queue_count(const sl_queue *q); /* records queued */
size_t sl_queue_bytes(const sl_queue *q); /* record bytes queued */

/* Arrival time (ms) of the oldest queued record; 0 when empty. */
uint64_t sl_queue_oldest_ms(const sl_queue *q);

/* Called by sl_queue_take for each record in order. Return 0 to take it,
 * non-zero to stop before it (it stays queued). */
typedef int (*sl_queue_emit_fn)(void *ud, const char *rec, size_t len);

/* Remove up to max_records records from the head, handing each to emit,
 * until emit refuses one. Returns how many were taken. */
size_t sl_queue_take(sl_queue *q, size_t max_records, sl_queue_emit_fn emit,
                     void *ud);

/* Frame helper for producers: append one record frame to a block. Returns
 * 0, or -1 when the block's cap is reached (block unchanged). */
int sl_queue_frame(sl_buf *block, const char *rec, size_t len);

/* Start a frame whose record is appended next; returns its offset, or
 * (size_t)-1 when the cap is reached. Finish with sl_queue_frame_end. */
size_t sl_queue_frame_begin(sl_buf *block);
void sl_queue_frame_end(sl_buf *block, size_t off);

#endif
