/* sl_ingest_answer: the JSON answer to a request of records. */
#include "sl_ingest_answer.h"

#include <stdio.h>
#include <string.h>

void sl_ingest_answer_error(sl_buf *answer, const char *msg)
{
    sl_buf_append(answer, "{\"error\":", 9);
    sl_buf_json_string(answer, msg, strlen(msg));
    sl_buf_putc(answer, '}');
}

int sl_ingest_answer_verdict(const sl_ingest_result *res, const sl_buf *rejects,
                             size_t limit_records, sl_buf *answer)
{
    if (res->too_many) {
        char msg[200];
        snprintf(msg, sizeof msg, "more than limits.records_per_request "
                 "(%zu) records in one request; nothing of this request was "
                 "accepted", limit_records);
        sl_ingest_answer_error(answer, msg);
        return 413;
    }
    if (res->malformed) {
        sl_buf_append(answer, "{\"error\":", 9);
        char msg[256];
        snprintf(msg, sizeof msg, "malformed JSON at byte %zu: %s",
                 res->error_offset, res->error);
        sl_buf_json_string(answer, msg, strlen(msg));
        sl_buf_printf(answer, ",\"offset\":%zu}", res->error_offset);
        return 400;
    }
    sl_buf_printf(answer, "{\"accepted\":%zu,", res->accepted);
    if (res->dropped > 0)
        sl_buf_printf(answer, "\"dropped\":%zu,", res->dropped);
    sl_buf_append(answer, "\"rejected\":[", 12);
    sl_buf_append(answer, rejects->data, rejects->len);
    sl_buf_putc(answer, ']');
    if (res->listed < res->rejected)
        sl_buf_printf(answer, ",\"rejected_total\":%zu,\"rejected_truncated\":true",
                      res->rejected);
    sl_buf_putc(answer, '}');
    if (res->accepted == 0 && res->rejected > 0 && res->dropped == 0)
        return 422;
    return 200;
}
