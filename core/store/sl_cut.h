/* sl_cut: the vocabulary the spool's files share, below all of them: a
 * batch's place in the spool (a cut), which the segment reader fills, the
 * progress file keeps until the batch is done and delivery turns into an
 * idempotency key; and the callback that takes a cut's records one by
 * one. Types only. */
#ifndef SL_CUT_H
#define SL_CUT_H

#include <stddef.h>
#include <stdint.h>

/* A batch's place in the spool. Opaque to delivery except for the fields
 * that make its idempotency key. */
typedef struct sl_cut {
    uint64_t start, end;  /* LSN range */
    size_t nrecords;
    uint64_t epoch;       /* the spool's identity (new after a reset) */
    int recovered;        /* cut before a restart and cut again now */
    uint64_t ms;          /* arrival of its first record (monotonic ms);
                             1: before the spool opened (recovered) */
} sl_cut;

/* Called for each record of a cut in order with its LSN (sl_spool_take,
 * the segment reader). Return 0 to take it, non-zero to stop before it
 * (it stays in the spool). For a recovered cut the return value is
 * ignored: the batch must be exactly the records it was before the
 * restart. */
typedef int (*sl_cut_emit_fn)(void *ud, const char *rec, size_t len,
                              uint64_t lsn);

#endif
