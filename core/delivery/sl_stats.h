/* sl_stats: a connector's counters. Shared plain struct: intake and
 * delivery bump the fields; /v1/connectors and /metrics show them through
 * the table in core/connector/sl_metrics.c, where each field has its row
 * (a static assert there counts them). uint64_t fields only. */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stdint.h>

#include "sl_tls_cause.h"

typedef struct sl_stats {
    uint64_t accepted;   /* records accepted at the intake */
    uint64_t rejected;   /* records rejected at the intake */
    uint64_t delivered;  /* records the destination answered 2xx for */
    uint64_t requests;   /* HTTP requests sent (attempts) */
    uint64_t failures;   /* attempts that failed (non-2xx or transport) */
    uint64_t retries;    /* attempts that were retries */
    uint64_t refused;    /* records refused because the queue was full */
    uint64_t dropped;    /* records a transform dropped (returned nil) */
    uint64_t dead_lettered; /* records moved to the dead letters */
    uint64_t splits;     /* batches halved (413 or bisect) */
    uint64_t replayed;   /* records taken back from the inbox */
    uint64_t unauthorized; /* requests refused for a missing/wrong key */
    uint64_t tls_failures[SL_TLS_CAUSE_COUNT - 1]; /* attempts whose TLS
                            failed, by cause: [cause - 1] */
    uint64_t rate_limited; /* attempts held back by rate_limit */
    uint64_t rate_limit_wait_ms; /* how long they were held, summed */
    uint64_t quota_pauses; /* pauses because the destination said its
                            quota was exhausted (sl_quota) */
    uint64_t response_fn_errors; /* response_fn calls that raised, ran out
                            of budget or returned something invalid (the
                            piece was retried) */
    uint64_t records_retried; /* records response_fn listed as failed with
                            retry = true, sent again on their own */
    uint64_t concurrency_decreases; /* cuts of the adaptive concurrency
                            limit (sl_adaptive) */
} sl_stats;

#endif
