/* sl_openapi_schema: a connector's record schema written as a JSON Schema
 * (draft 2020-12) for its OpenAPI document (sl_openapi). What the C
 * checker does that JSON Schema cannot say goes into `x-sluice-*` members
 * and the description; docs/tools.md lists those differences. */
#ifndef SL_OPENAPI_SCHEMA_H
#define SL_OPENAPI_SCHEMA_H

#include "sl_buf.h"
#include "sl_schema.h"

/* Append to out the JSON Schema of one record of s, as a JSON object:
 * the fields' types (date and datetime as strings of format date and
 * date-time, json as any value), nullability (`type: [T, "null"]`, null
 * in an enum), rules (enum, minimum/maximum, minLength/maxLength in code
 * points, as sluice counts them), nested objects (properties, required,
 * additionalProperties false when unknown members are rejected) and
 * arrays (items, minItems, maxItems), the non-nullable fields required,
 * and the record's limits: limits.fields as maxProperties on every
 * object, the others (record_bytes, string_bytes, depth, which JSON
 * Schema cannot state) as x-sluice-record-bytes, x-sluice-string-bytes,
 * x-sluice-max-depth and in the description. `depth` is the connector's
 * limits.depth (0: none). Names are escaped as JSON strings. Returns 0,
 * or -1 when out's cap is reached or memory runs out (out then cut back
 * to its length before the call). */
int sl_openapi_schema_record(const sl_schema *s, int depth, sl_buf *out);

#endif
