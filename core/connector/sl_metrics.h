/* sl_metrics: every metric sluice exports, declared once in a table —
 * Prometheus name, type, help, where its value is, its key in a JSON
 * "stats" object — and the one writer of the Prometheus text and of that
 * JSON, for any table. A table describes a view: a plain struct of
 * uint64_t values that its owner (a connector, the HTTP intake) fills,
 * so this module calls into neither. */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "sl_stats.h"

struct sl_buf;

typedef enum {
    SL_METRICS_COUNTER, /* only goes up, from 0 at start */
    SL_METRICS_GAUGE,   /* a level now */
    SL_METRICS_COUNTER_MS, /* a counter of milliseconds: in seconds in
                              the Prometheus text, in ms in the JSON */
    SL_METRICS_GAUGE_MS,   /* a gauge of milliseconds (an age, a wall
                              time): seconds in the text, ms in the JSON */
} sl_metrics_type;

/* One metric. A listing shows the rows that have a position in it, by
 * position: 0, 1, 2, ... Rows of one family told apart by more labels
 * (`labels`) share the name and have consecutive positions: its # HELP
 * and # TYPE come once, from the first. */
typedef struct sl_metrics_row {
    const char *name;     /* Prometheus family name */
    sl_metrics_type type;
    size_t at;            /* offset of its uint64_t in the table's view */
    const char *key;      /* its key in the JSON object; NULL: none */
    int prom_at;          /* position in the Prometheus text, or
                             SL_METRICS_ABSENT */
    int json_at;          /* position in the JSON object, or
                             SL_METRICS_ABSENT */
    const char *help;     /* the text of its # HELP line */
    const char *labels;   /* more labels of its samples, as written
                             (cause="unknown_ca"); NULL: none */
} sl_metrics_row;

#define SL_METRICS_ABSENT (-1)

/* A table: a row for each value of its view, in the view's order. */
typedef struct sl_metrics_table {
    const sl_metrics_row *rows;
    size_t n;
    size_t view_size;  /* sizeof the view struct */
    const char *label; /* the label that tells views apart ("connector");
                          NULL: one view, samples without labels */
    size_t label_at;   /* offset of the label's value (const char *) */
} sl_metrics_table;

/* The view of one connector: filled by sl_connector. Every member after
 * `name` is a value with its row in sl_metrics_connector_table (a static
 * assert counts them, so a counter added to sl_stats needs its row). */
typedef struct sl_metrics_connector {
    const char *name;      /* the connector's, borrowed: label value */
    sl_stats stats;        /* its counters */
    uint64_t queued;       /* records in the spool not yet in a batch */
    uint64_t in_flight;    /* delivery requests in flight */
    uint64_t pending;      /* records in batches not yet finished */
    uint64_t spool_bytes;  /* undelivered bytes the spool holds */
    uint64_t dead_letters; /* records in the dead letters */
    uint64_t concurrency_limit; /* requests that may be in flight now */
    uint64_t state_delivering;  /* 1 when its health state is this, else 0 */
    uint64_t state_degraded;
    uint64_t state_blocked;
    uint64_t oldest_age_ms; /* age of the oldest undelivered record */
    uint64_t last_delivery_ms; /* wall ms of the last 2xx; 0 none */
    uint64_t spool_records; /* undelivered records: queued + pending */
} sl_metrics_connector;

/* The view of the HTTP intake (gateway-wide): filled by sl_httpconn. */
typedef struct sl_metrics_http {
    uint64_t open;        /* connections open now */
    uint64_t accepted;    /* connections accepted */
    uint64_t slow_closed; /* closed by request_timeout_s */
    uint64_t paused;      /* times accepting stopped at the limit */
    uint64_t refused;     /* requests evhttp refused before routing */
} sl_metrics_http;

/* The view of one TLS intake (the HTTP intake's `tls`, a listener's
 * `tcp[n].tls`): filled by its owner. */
typedef struct sl_metrics_tls {
    const char *listener;        /* its address as configured, borrowed:
                                    label value */
    uint64_t handshake_failures; /* handshakes failed or not done in time */
} sl_metrics_tls;

extern const sl_metrics_table sl_metrics_connector_table;
extern const sl_metrics_table sl_metrics_http_table;
extern const sl_metrics_table sl_metrics_tls_table;

/* Append the Prometheus text exposition of `n` views of table `t` (an
 * array of n structs of t->view_size bytes): each family with a prom_at,
 * in that order, once — # HELP, # TYPE — then one sample per view
 * (labelled when t->label). Returns 0, or -1 when `out` could not grow
 * (it is then left as it was). */
int sl_metrics_prom(const sl_metrics_table *t, const void *views, size_t n,
                    struct sl_buf *out);

/* Append the families that are not one uint64_t per view, for `n`
 * connector views: the histograms of sl_stats_dist (`_bucket`, `_sum`,
 * `_count`), sluice_responses_total{connector,code} (only the codes
 * answered at least once) and sluice_transport_failures_total{connector,
 * cause} (every cause). 0, or -1 when `out` could not grow (then left as
 * it was). */
int sl_metrics_prom_dist(const sl_metrics_connector *views, size_t n,
                         struct sl_buf *out);

/* Append sluice_build_info{version="..."} 1 with its # HELP and # TYPE.
 * 0 or -1 as above. */
int sl_metrics_build_info(const char *version, struct sl_buf *out);

/* Append s as a Prometheus label value (inside the quotes): \, \" and
 * \n escaped. 0 or -1 as above. */
int sl_metrics_label_value(const char *s, struct sl_buf *out);

/* Append the JSON object {"key":value,...} of one view of `t`: every row
 * with a json_at, in that order. Returns 0, or -1 when `out` could not
 * grow (it is then left as it was). */
int sl_metrics_json(const sl_metrics_table *t, const void *view,
                    struct sl_buf *out);

#endif
