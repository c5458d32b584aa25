/* sl_send: `sluice send CONNECTOR FILE...`, the one-shot job: read CSV,
 * TSV, NDJSON or a JSON array (or standard input), put every row through
 * the connector's transform, checks, spool and delivery, show progress,
 * write rejected rows beside each input, and say at the end what became
 * of every row. docs/tools.md describes it for operators. */
#ifndef SL_SEND_H
#define SL_SEND_H

#include <stddef.h>

#include "sl_buf.h"

/* How one batch is handed on: the JSON array json_array[0..len) of the
 * batch's records, the intake's JSON answer appended to `answer`
 * ({"accepted":N,"rejected":[{"index":i,"field":..,"error":..}]}, index
 * counted from the batch's first record, or {"error":..}), and the
 * HTTP-like status returned: 200 some taken, 422 none, 503 not taken
 * (*retry_after_s set), another status or -1 the batch failed. In this
 * process it is sl_send_local_submit; through a gateway,
 * sl_send_remote_submit. */
typedef int (*sl_send_submit_fn)(void *ud, const char *json_array, size_t len,
                                 sl_buf *answer, int *retry_after_s);

/* `sluice send` with argv the words after "send". Returns its exit
 * status: 0 every row delivered, 1 some rejected, dead-lettered or not
 * sent (a signal), 2 a usage or configuration error. */
int sl_send_main(int argc, char **argv);

#endif
