/* sl_csv: a streaming CSV reader (RFC 4180, on libcsv) that turns each row
 * into a record, a compact JSON object, by a connector's schema, ready for
 * the ingest path (transform, schema check, spool) like a posted record.
 *
 * Reading
 * - Input comes in chunks of any size; a row may span chunks. A UTF-8
 *   byte order mark at the very start is skipped. Rows end with LF, CRLF
 *   or CR; blank lines are skipped (so a one-column file cannot hold a row
 *   whose only cell is unquoted and empty: write it as "").
 * - Cells are separated by `delimiter` (',' by default, '\t' for TSV; the
 *   quoting rules are the same). A cell may be quoted: "a, ""b""" is
 *   `a, "b"`; quoted cells may hold delimiters, CR and LF. Spaces are part
 *   of a cell (RFC 4180), quoted or not: nothing is trimmed.
 * - Strict: a quote inside an unquoted cell, or text after a cell's
 *   closing quote, makes the row malformed; the reader reports it and
 *   resumes after the end of that physical line (text of the bad row that
 *   follows on later lines, e.g. the rest of a quoted newline, is then read
 *   as rows of its own and reported as they fail). A quoted cell still
 *   open at the end of the file is an error for its row.
 * - Line numbers are 1-based; LF, CRLF and a CR alone each end a line;
 *   a row's line is the one where the row starts, whatever its quoted
 *   newlines; the header is line 1 (or later, after blank lines).
 *
 * The header
 * - The first non-blank row names the columns. A column named like a
 *   schema field is converted by that field's type. A column the schema
 *   does not have: with keep_unknown it is kept as a string (for a
 *   transform, whose input the schema does not describe); otherwise by
 *   the schema's unknown-field policy: drop ignores the column, reject
 *   refuses the whole file up front (SL_CSV_E_HEADER), since every row
 *   would be rejected for it. Also refused: a duplicate or not UTF-8
 *   column name, a non-nullable field without a column (but not with
 *   keep_unknown: the transform may fill it), a malformed or oversized
 *   header row, a file without a header row. A missing field is left out
 *   of the record (the schema check makes a nullable one null and rejects
 *   a missing non-nullable one).
 *   Nested fields (object, array, json) are one column holding JSON.
 *
 * Cells to values (every cell must be UTF-8 without NUL bytes)
 * - An unquoted empty cell is null, for every type; a quoted empty cell
 *   ("") is the empty string for a string field and null for any other
 *   type. Null in a non-nullable field rejects the row.
 * - integer: a JSON integer as written, within int64: "42", "-7", "0";
 *   not "42.0", "4e1", "+42", "042", " 42" (spaces are not trimmed).
 * - number: a JSON number as written, finite: "1.5", "-2e3", "42"; not
 *   ".5", "1.", "NaN", "Infinity", " 1".
 * - boolean: true/false/1/0, letters in any case; anything else rejects.
 * - string: the text as is (JSON-escaped). date, datetime: the text as a
 *   string; the schema check judges the format.
 * - object, array, json: the cell must hold one JSON document (of any
 *   kind here; the schema check judges it), re-emitted compact.
 * Keys are emitted in column order; the schema check puts them in schema
 * order.
 *
 * Rejections are per row: its line, the field ("" for the row as a whole)
 * and why: `"4x" is not an integer`, "row has 3 cells, the header has 4",
 * a malformed row, a cell or row over its limit. Limits (hostile input): a
 * cell longer than cell_bytes or a row longer than row_bytes is rejected
 * without being buffered whole (the reader keeps at most about the limit
 * plus 16 KiB of it); a row of more than `columns` cells is rejected. */
#ifndef SL_CSV_H
#define SL_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_schema.h"

#define SL_CSV_DEF_CELL_BYTES ((size_t)1 << 20)
#define SL_CSV_DEF_ROW_BYTES  ((size_t)1 << 20)
#define SL_CSV_DEF_COLUMNS    1024

typedef struct sl_csv_options {
    char delimiter;    /* 0: ',' */
    bool keep_unknown; /* columns the schema lacks are kept as strings */
    size_t cell_bytes; /* most bytes in a cell (as decoded); 0: default */
    size_t row_bytes;  /* most bytes in a row's cells; 0: default */
    size_t columns;    /* most cells in a row; 0: default */
} sl_csv_options;

/* One data row, for the row callback; every pointer is valid during the
 * call only. */
typedef struct sl_csv_row {
    size_t line;      /* line of the file where the row starts (1-based) */
    size_t number;    /* data row, 1-based (the header is not counted) */
    const char *json; /* accepted: the record; NULL when rejected */
    size_t json_len;
    const char *field; /* rejected: the field's column name, or "" */
    const char *error; /* rejected: why; NULL when accepted */
    const char *raw;   /* the row as read, without its line end */
    size_t raw_len;
    bool raw_cut;      /* raw holds only the first row_bytes + 2 bytes */
} sl_csv_row;

/* Called for each data row, in file order; nonzero stops the reader
 * (sl_csv_feed and sl_csv_finish then return SL_CSV_E_STOPPED). */
typedef int (*sl_csv_row_fn)(void *ud, const sl_csv_row *row);

typedef enum sl_csv_rc {
    SL_CSV_OK = 0,
    SL_CSV_E_HEADER,  /* the file cannot be read with this schema (the
                         header, or no header): sl_csv_error says why */
    SL_CSV_E_NOMEM,   /* out of memory */
    SL_CSV_E_STOPPED  /* the row callback asked to stop */
} sl_csv_rc;

struct sl_csv;
typedef struct sl_csv sl_csv;

/* A reader converting by `schema` (borrowed: must outlive the reader),
 * calling fn(ud, row) for each row. opt NULL: the defaults. NULL on
 * allocation failure. */
sl_csv *sl_csv_new(const sl_schema *schema, const sl_csv_options *opt,
                   sl_csv_row_fn fn, void *ud);
void sl_csv_free(sl_csv *r); /* accepts NULL */

/* Read the next p[0..n). Rows complete in it are passed to fn before it
 * returns. After an error other than OK every later call returns the
 * same error and reads nothing. */
sl_csv_rc sl_csv_feed(sl_csv *r, const void *p, size_t n);

/* The end of the input: the last row (one without a line end) is passed
 * to fn; a file without a header row is SL_CSV_E_HEADER. */
sl_csv_rc sl_csv_finish(sl_csv *r);

/* Why the reader stopped (SL_CSV_E_HEADER), or "". Owned by r. */
const char *sl_csv_error(const sl_csv *r);

/* Lines read so far (line ends, plus one for a last line without one,
 * after sl_csv_finish) and data rows passed to fn. */
size_t sl_csv_lines(const sl_csv *r);
size_t sl_csv_rows(const sl_csv *r);

#endif
