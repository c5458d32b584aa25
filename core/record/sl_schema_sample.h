/* sl_schema_sample: a record made up from a schema, for showing an
 * operator the request a connector sends before anything is sent
 * (`sluice check`). Every field is present, with a value its type and
 * rules accept. */
#ifndef SL_SCHEMA_SAMPLE_H
#define SL_SCHEMA_SAMPLE_H

#include "sl_buf.h"
#include "sl_schema.h"

/* Append to out a record for schema s as JSON text: every field, in
 * schema order, nullable ones too, with a value made from its type and
 * rules:
 *   string    its first enum value, else the field's name and "-1"
 *             ("email-1"; an array's items take the array's name), cut
 *             or padded with 'x' to its min_length/max_length
 *   integer   1, number 1.5, either moved into its min..max
 *   boolean   true
 *   date      "2026-01-31"; datetime "2026-01-31T12:00:00Z"
 *   json      {}
 *   object    its fields, the same way
 *   array     min_items items (at least one)
 * The text is meant to be checked with sl_schema_encode, which also says
 * why when rules cannot all be met (a min_length longer than
 * SL_SCHEMA_SAMPLE_PAD_MAX is not padded). Returns 0, or -1 when out's cap
 * is reached or memory runs out (out then cut back to its length before
 * the call). */
int sl_schema_sample_record(const sl_schema *s, sl_buf *out);

#define SL_SCHEMA_SAMPLE_PAD_MAX 4096 /* code points a string is padded to */

#endif
