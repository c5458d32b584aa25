/* sl_csv_cell: one CSV cell turned into the JSON value its schema field's
 * type asks for (the conversion rules are in sl_csv.h). Used by sl_csv. */
#ifndef SL_CSV_CELL_H
#define SL_CSV_CELL_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_buf.h"
#include "sl_schema.h"

/* One cell as libcsv handed it over. */
typedef struct sl_csv_cell {
    const char *p; /* its bytes, quotes removed and "" undone */
    size_t len;
    bool quoted;   /* it was written in quotes (so "" is an empty string) */
} sl_csv_cell;

/* Append to out the JSON value of cell c for a field of type `type`
 * (nullable or not); an unknown column kept as text is SL_TYPE_STRING.
 * Returns 0; -1 with the reason in why (e.g. `"4x" is not an integer`)
 * and out as it was; -2 when out's cap is reached (out as it was). The
 * value is checked only as far as the conversion needs (a date is passed
 * on as a string for the schema check to judge). */
int sl_csv_cell_append(sl_schema_type type, bool nullable,
                       const sl_csv_cell *c, sl_buf *out, char *why,
                       size_t whylen);

/* Append p[0..n) (valid UTF-8) as a JSON string literal. 0, or -1 when
 * out's cap is reached (out as it was). */
int sl_csv_cell_string(sl_buf *out, const char *p, size_t n);

#endif
