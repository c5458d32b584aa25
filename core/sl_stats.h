/* sl_stats: a connector's counters. Shared plain struct: intake and
 * delivery bump the fields, /v1/connectors and /metrics read them. */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stdint.h>

typedef struct sl_stats {
    uint64_t accepted;   /* records accepted at the intake */
    uint64_t rejected;   /* records rejected at the intake */
    uint64_t delivered;  /* records the destination answered 2xx for */
    uint64_t requests;   /* HTTP requests sent (attempts) */
    uint64_t failures;   /* attempts that failed (non-2xx or transport) */
    uint64_t retries;    /* attempts that were retries */
    uint64_t refused;    /* records refused because the queue was full */
    uint64_t dropped;    /* records a transform dropped (returned nil) */
} sl_stats;

#endif
