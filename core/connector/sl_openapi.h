/* sl_openapi: the OpenAPI 3.1 document of the HTTP intake — a path per
 * connector (POST /v1/connectors/NAME/records) with its request bodies,
 * query and header parameters, answers and security, and each
 * connector's record as a JSON Schema (sl_openapi_schema). The same
 * writer serves `sluice openapi` (from a configuration file) and
 * GET /openapi.json (from what the gateway runs now). */
#ifndef SL_OPENAPI_H
#define SL_OPENAPI_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"

/* The HTTP intake the document describes (strings borrowed). */
typedef struct sl_openapi_intake {
    const char *host;              /* listen host, as parsed */
    int port;
    bool tls;                      /* https (gateway `tls` set) */
    size_t max_body_bytes;         /* 0: not stated */
    size_t max_decompressed_bytes; /* 0: not stated */
} sl_openapi_intake;

/* *in = cfg's HTTP intake (borrowing cfg's strings). */
void sl_openapi_intake_of(const sl_config *cfg, sl_openapi_intake *in);

/* Append the document for the n connectors cs (borrowed; listed by name,
 * whatever their order in cs, so that the same set gives the same bytes)
 * to out as one line of JSON (no newline). A connector's component keys
 * are its name with every byte outside [A-Za-z0-9._-] written as '_'
 * (names sl_config accepts need none) plus "_record"; its path is its
 * name percent-encoded where a path needs it. Returns 0, or -1 when
 * out's cap is reached or memory runs out (out then cut back to its
 * length before the call). */
int sl_openapi_write(const sl_openapi_intake *in,
                     const sl_connector_conf *const *cs, size_t n,
                     sl_buf *out);

/* The same for cfg: its intake and every connector. */
int sl_openapi_write_config(const sl_config *cfg, sl_buf *out);

/* Append name's component key (see sl_openapi_write) to out. 0, or -1
 * when out's cap is reached. */
int sl_openapi_key(const char *name, sl_buf *out);

#endif
