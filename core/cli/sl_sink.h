/* sl_sink: `sluice sink`, a small HTTP destination for trying connectors.
 * It prints each request (method, path, headers, record count, optionally
 * the body) and answers with a fixed status. */
#ifndef SL_SINK_H
#define SL_SINK_H

#include <stdio.h>

typedef struct sl_sink_opts {
    const char *host;
    int port;
    int status;        /* answer status, default 200 */
    int show_body;     /* print bodies (up to 4 KiB each) */
    FILE *out;         /* where requests are printed */
} sl_sink_opts;

/* Serve until SIGINT/SIGTERM. Returns 0, or 1 with a message on stderr
 * when it cannot listen. */
int sl_sink_run(const sl_sink_opts *opts);

/* Records in a body: elements of a top-level JSON array, non-blank lines
 * of NDJSON, or 1 for anything else that is not empty. */
size_t sl_sink_count_records(const char *body, size_t len, int ndjson);

#endif
