/* sl_ingest: turns one intake body (a JSON object, a JSON array of objects,
 * or NDJSON) into framed, destination-ready records plus a list of the
 * records it rejected and why. Transport-agnostic: HTTP and TCP intakes
 * both call it. */
#ifndef SL_INGEST_H
#define SL_INGEST_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_schema.h"
#include "sl_transform.h"

typedef enum sl_ingest_format {
    SL_INGEST_JSON = 0, /* one object, or an array of objects */
    SL_INGEST_NDJSON    /* one JSON object per line */
} sl_ingest_format;

/* Limits of one body beyond those of the schema; 0 = none. */
typedef struct sl_ingest_limits {
    int depth;      /* JSON nesting (0: SL_JSON_MAX_DEPTH) */
    size_t records; /* records in the body (array elements or non-blank
                       lines); past it nothing is accepted */
} sl_ingest_limits;

typedef struct sl_ingest_result {
    size_t accepted;       /* records framed into the block */
    size_t dropped;        /* records a transform dropped (returned nil) */
    size_t rejected;       /* records rejected (all of them, not only those
                              listed) */
    size_t listed;         /* rejections written to `rejects` */
    int malformed;         /* JSON format only: the body is not valid JSON;
                              nothing was accepted */
    size_t error_offset;   /* byte offset of the syntax error */
    const char *error;     /* static message for the syntax error */
    int too_many;          /* more than limits->records records; nothing
                              was accepted */
    size_t lines;          /* NDJSON: lines read, blank ones included (a
                              last one without newline counts) */
} sl_ingest_result;

/* Most rejections listed in one answer; the rest are only counted. */
#define SL_INGEST_MAX_LISTED 1000

/* Check and encode every record in body[0..len). Accepted records are
 * appended to `block` as frames (sl_frame_append); each rejection is
 * appended to `rejects` as a JSON object {"index":i,"field":..,
 * "error":..}, comma-separated, at most SL_INGEST_MAX_LISTED of them.
 * For SL_INGEST_JSON a syntax error anywhere rejects the whole body
 * (res->malformed, block and rejects restored to their entry length); for
 * NDJSON a malformed line rejects that line only. With a `transform`
 * (may be NULL) each record goes through it first, and its outputs are
 * what is checked; either way each record is checked with
 * sl_check_record. `lim` (NULL: none) bounds nesting and the number of
 * records; a body with too many records is treated like a malformed one
 * (nothing accepted, res->too_many). Returns 0, or -1 if a buffer's cap
 * was reached (buffers restored). */
int sl_ingest(const sl_schema *schema, sl_transform *transform,
              sl_ingest_format fmt, const char *body, size_t len,
              const sl_ingest_limits *lim, sl_buf *block, sl_buf *rejects,
              sl_ingest_result *res);

#endif
