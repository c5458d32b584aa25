/* sl_preview_out: how `sluice preview` writes what it found — each
 * request (method, URL, headers with secret-looking values masked, the
 * body), each rejected or dropped record and a summary — as text for a
 * person or, with json, as one JSON object a line. */
#ifndef SL_PREVIEW_OUT_H
#define SL_PREVIEW_OUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_config.h"
#include "sl_preview_batch.h"

typedef struct sl_preview_out {
    FILE *out;
    int json;           /* one JSON object a line, else text */
    int show_secrets;   /* header values as they are, else masked */
} sl_preview_out;

/* Request r of connector c, whose records came from lines
 * [line_a, line_b] of the file. Text:
 *   ### request K of M (records a..b, lines x..y)
 *   METHOD URL
 *   Name: value               (each header sent, then Content-Length)
 *                             (a blank line)
 *   BODY                      (exactly, before compression)
 *   --- end of body (N bytes[, sent gzip-compressed: W bytes])
 * where one newline not part of the body comes before "--- end"; with
 * r->err, "(not made: ERR)" in place of the headers. JSON: {"kind":
 * "request", "request":K, "of":M, "records":[a,b], "lines":[x,y],
 * "method", "url", "headers":[[name,value],...], "body", "body_bytes",
 * "sent_bytes", "compression", "error"}. Values of headers that
 * sl_preview_header_masked names are "****" unless show_secrets. */
void sl_preview_out_request(const sl_preview_out *o,
                            const sl_connector_conf *c,
                            const sl_preview_batch_req *r, uint64_t line_a,
                            uint64_t line_b);

/* A record the intake would refuse: text "line N: FIELD: REASON" (no
 * FIELD when it is ""; control bytes in either written as \xHH, as in
 * a request's "(not made: ...)"); JSON {"kind":"rejected","line","field","error"}. */
void sl_preview_out_rejected(const sl_preview_out *o, uint64_t line,
                             const char *field, const char *reason);

/* A record the transform dropped (returned nil): text "line N: dropped by
 * the transform"; JSON {"kind":"dropped","line"}. */
void sl_preview_out_dropped(const sl_preview_out *o, uint64_t line);

/* The counts at the end: text "### N records read: A accepted, R
 * rejected, D dropped by the transform; M requests (F not made), nothing
 * sent"; JSON {"kind":"summary", "read", "accepted", "rejected",
 * "dropped", "requests", "failed"}. accepted and rejected count as the
 * intake's answer does (a transform's outputs); `failed`: requests that
 * could not be made. */
typedef struct sl_preview_out_counts {
    size_t read, accepted, rejected, dropped, requests, failed;
} sl_preview_out_counts;
void sl_preview_out_summary(const sl_preview_out *o,
                            const sl_preview_out_counts *n);

#endif
