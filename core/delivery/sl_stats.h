/* sl_stats: a connector's counters. Shared plain struct: intake and
 * delivery bump the fields; /v1/connectors and /metrics show them through
 * the table in core/connector/sl_metrics.c, where each field has its row
 * (a static assert there counts them). uint64_t fields only, but for
 * `dist`, the last, which /metrics shows through its own writer. */
#ifndef SL_STATS_H
#define SL_STATS_H

#include <stdint.h>

#include "sl_histogram.h"
#include "sl_tls_cause.h"

/* Answers counted by status code: 100..599, [code - SL_STATS_CODE_MIN]. */
#define SL_STATS_CODE_MIN 100
#define SL_STATS_CODES 500

/* Why an attempt got no HTTP answer, from its curl code. */
typedef enum sl_stats_net {
    SL_STATS_NET_CONNECT, /* refused, unreachable, the proxy's CONNECT */
    SL_STATS_NET_TIMEOUT, /* timeout_ms passed */
    SL_STATS_NET_TLS,     /* the handshake or a certificate */
    SL_STATS_NET_DNS,     /* the host (or proxy) did not resolve */
    SL_STATS_NET_OTHER,   /* everything else (reset, out of memory, ...) */
    SL_STATS_NET_COUNT
} sl_stats_net;

/* The kinds of Lua function a connector runs (label `function`). */
typedef enum sl_stats_lua_kind {
    SL_STATS_LUA_TRANSFORM,
    SL_STATS_LUA_HEADERS_FN,
    SL_STATS_LUA_RESPONSE_FN,
    SL_STATS_LUA_KINDS
} sl_stats_lua_kind;

/* What is not one counter: distributions, counters by label, times.
 * Shown in /metrics only (sl_metrics_prom_dist), not in "stats". */
typedef struct sl_stats_dist {
    sl_histogram intake_latency;  /* HTTP intake requests: from the whole
                                     request read to the answer, us */
    sl_histogram tcp_ack_latency; /* TCP intake lines with ack, one per
                                     line: from its chunk handed to the
                                     connector to its answer queued, us */
    sl_histogram attempt_latency; /* delivery attempts (curl's total), us */
    sl_histogram batch_records;   /* records per delivery attempt */
    sl_histogram batch_bytes;     /* body bytes per delivery attempt */
    uint64_t responses[SL_STATS_CODES]; /* answers by status code */
    uint64_t transport[SL_STATS_NET_COUNT]; /* attempts without an answer,
                                     by cause */
    uint64_t last_delivery_ms;    /* wall ms of the last 2xx answer; 0 none */
    struct {
        uint64_t calls, errors, overruns, time_us;
    } lua[SL_STATS_LUA_KINDS];    /* filled when read (sl_connector), from
                                     sl_transform and sl_luaruntime */
} sl_stats_dist;

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
    uint64_t dry_runs; /* intake requests answered as dry runs */
    sl_stats_dist dist;  /* last: every uint64_t before it has its row */
} sl_stats;

#endif
