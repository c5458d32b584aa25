/* sl_dlq_entry: a dead letter, the vocabulary of the sl_dlq files: what
 * an append takes (sl_dlq_entry) and what reading the store gives
 * (sl_dlq_stored). How an entry is written as a line is sl_dlq_line.h;
 * the store is sl_dlq.h. Types only. */
#ifndef SL_DLQ_ENTRY_H
#define SL_DLQ_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#define SL_DLQ_ENTRY_RESPONSE_MAX 1024 /* response bytes kept per entry */
#define SL_DLQ_ENTRY_URL_MAX 2048      /* URL bytes kept per entry */

/* One dead record. All pointers are borrowed for the call. */
typedef struct sl_dlq_entry {
    const char *record;      /* the encoded record (compact JSON object) */
    size_t record_len;
    long status;             /* last HTTP status; 0 = no HTTP answer */
    const char *reason;      /* e.g. "HTTP 400 (permanent)",
                                "retry time (max_elapsed_s = 60) ran out;
                                last: connection refused" */
    const char *response;    /* start of the last response body; may be
                                NULL; at most SL_DLQ_ENTRY_RESPONSE_MAX bytes
                                are kept */
    size_t response_len;
    unsigned attempts;
    int64_t first_attempt_ms;/* wall clock, ms since the epoch */
    int64_t last_attempt_ms;
    const char *batch_id;    /* the idempotency key of its last request */
    const char *url;         /* the URL of its last request (per-record
                                URLs differ by record); NULL: none was
                                made; at most SL_DLQ_ENTRY_URL_MAX bytes
                                are kept */
} sl_dlq_entry;

/* A string member of a stored entry as it stands in the file: the bytes
 * between the quotes, still JSON-escaped (valid JSON; decode with
 * sl_json_unescape). p is NULL when the member is absent or not a string. */
typedef struct sl_dlq_text {
    const char *p;
    size_t len;
} sl_dlq_text;

/* One entry as read from the store. Every pointer points into the line it
 * was read from and is valid only during the sl_dlq_each callback. */
typedef struct sl_dlq_stored {
    int64_t id;              /* >= 0; unique within the store */
    int64_t time_ms;         /* when dead-lettered, ms since the epoch; -1
                                when "time" is absent or unreadable */
    sl_dlq_text time;        /* "time" as written (RFC 3339, UTC) */
    sl_dlq_text reason, response, batch_id, first_attempt, last_attempt;
    sl_dlq_text url;         /* absent (p NULL) in lines written before
                                sluice kept it, or when no request was
                                made */
    long status, attempts;   /* 0 when absent or not a small integer */
    const char *record;      /* the record, a compact JSON object */
    size_t record_len;
} sl_dlq_stored;

#endif
