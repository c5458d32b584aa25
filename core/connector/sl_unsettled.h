/* sl_unsettled: the records of spool appends not yet durable, so that a
 * connector counts them accepted only once the client is told so, and
 * refused when the spool drops them (disk full, I/O error): the counters
 * then agree with the answers. A FIFO of (ticket, records) in ticket
 * order; grows by doubling, so pushes do not allocate once warm. */
#ifndef SL_UNSETTLED_H
#define SL_UNSETTLED_H

#include <stddef.h>
#include <stdint.h>

struct sl_unsettled;
typedef struct sl_unsettled sl_unsettled;

/* An empty FIFO, or NULL out of memory. Free with sl_unsettled_free
 * (accepts NULL). */
sl_unsettled *sl_unsettled_new(void);
void sl_unsettled_free(sl_unsettled *u);

/* Remember an append of `records` durable at `ticket` (> every ticket
 * pushed and not yet settled). 0, or -1 out of memory (nothing kept: the
 * caller counts the records at once). */
int sl_unsettled_push(sl_unsettled *u, uint64_t ticket, uint64_t records);

/* The spool says everything up to `lsn` is durable: forget those appends
 * and return their records. */
uint64_t sl_unsettled_durable(sl_unsettled *u, uint64_t lsn);

/* The spool dropped the appends above `lsn`: forget them and return their
 * records (those at or below stay). */
uint64_t sl_unsettled_failed(sl_unsettled *u, uint64_t lsn);

/* Records held (not yet settled). */
uint64_t sl_unsettled_records(const sl_unsettled *u);

#endif
