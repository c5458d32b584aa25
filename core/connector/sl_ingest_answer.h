/* sl_ingest_answer: the JSON answer to a request of records, written
 * from sl_ingest's verdict, and its HTTP status. */
#ifndef SL_INGEST_ANSWER_H
#define SL_INGEST_ANSWER_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_ingest.h"

/* Append {"error":"msg"} to answer. */
void sl_ingest_answer_error(sl_buf *answer, const char *msg);

/* Append the answer to a request checked as res says, rejects holding
 * the rejections sl_ingest listed ({"index":N,...},...), limit_records
 * the connector's limits.records_per_request. Returns its status: 413
 * too many records, 400 malformed, 422 every record rejected, else 200.
 * Nothing but answer is changed. */
int sl_ingest_answer_verdict(const sl_ingest_result *res, const sl_buf *rejects,
                             size_t limit_records, sl_buf *answer);

#endif
