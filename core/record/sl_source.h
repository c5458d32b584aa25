/* sl_source: records read from a file or standard input, for `sluice
 * send` and `sluice preview`: CSV and TSV (by sl_csv, converted by the
 * schema), NDJSON and a JSON array of objects (by sl_jsonsplit), streamed
 * in chunks so that a file of any size is read in bounded memory. Each
 * record comes out with its line in the file, its JSON text or the reason
 * the reader refused it, and its text as read (for a rejects file).
 *
 * Formats: given, or by the file name's extension (.csv .tsv .ndjson
 * .jsonl .json, any case). Standard input ("-") without a format is
 * sniffed from its first byte that is not a BOM or whitespace: '[' is a
 * JSON array, '{' NDJSON; anything else is refused (CSV cannot be told
 * from its header: give the format). Reading is also push-driven
 * (sl_source_new + feed/finish) for tests and other inputs. */
#ifndef SL_SOURCE_H
#define SL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_schema.h"

typedef enum sl_source_format {
    SL_SOURCE_AUTO = 0, /* from the name, or sniffed (stdin) */
    SL_SOURCE_CSV,
    SL_SOURCE_TSV,
    SL_SOURCE_NDJSON,
    SL_SOURCE_JSON      /* one JSON array of objects */
} sl_source_format;

#define SL_SOURCE_DEF_CHUNK ((size_t)64 << 10)

typedef struct sl_source_options {
    sl_source_format format; /* AUTO: by name, or sniffed */
    char delimiter;          /* CSV/TSV: 0 is ',' for CSV, '\t' for TSV */
    bool keep_unknown;       /* CSV: columns the schema lacks kept (for a
                                transform); see sl_csv_options */
    size_t record_bytes;     /* most bytes of a record (a CSV row, an
                                NDJSON line, an array element); 0: 1 MiB */
    size_t chunk_bytes;      /* bytes per read(2); 0: SL_SOURCE_DEF_CHUNK */
} sl_source_options;

/* One record, for the callback; pointers valid during the call only. */
typedef struct sl_source_rec {
    size_t line;        /* where it starts in the file, 1-based */
    const char *json;   /* accepted by the reader: a JSON object; NULL
                           when rejected */
    size_t json_len;
    const char *field;  /* rejected: the field, or "" for the record */
    const char *error;  /* rejected: why; NULL when accepted */
    const char *raw;    /* the record as read (no line end) */
    size_t raw_len;
    bool raw_cut;       /* raw is only its beginning (oversized record) */
} sl_source_rec;

/* Called per record in file order; nonzero stops reading (the reading
 * calls then return SL_SOURCE_E_STOPPED). */
typedef int (*sl_source_fn)(void *ud, const sl_source_rec *rec);

typedef enum sl_source_rc {
    SL_SOURCE_OK = 0,   /* more to read */
    SL_SOURCE_END,      /* sl_source_read: the input is all read */
    SL_SOURCE_E_FORMAT, /* cannot be read as its format (CSV header, not a
                           JSON array, unknown format): nothing was passed
                           to the callback */
    SL_SOURCE_E_IO,     /* open or read failed */
    SL_SOURCE_E_NOMEM,
    SL_SOURCE_E_STOPPED /* the callback asked to stop */
} sl_source_rc;

struct sl_source;
typedef struct sl_source sl_source;

/* The format named `name` ("csv", "tsv", "ndjson", "jsonl", "json"), or
 * -1 when unknown. */
int sl_source_format_parse(const char *name, sl_source_format *out);

/* A --delimiter argument: one character, or "tab" (or "\\t") for a
 * tab; not a quote, CR or LF. 0, or -1 when it is none of those. */
int sl_source_delimiter_parse(const char *s, char *out);

/* Can format f (AUTO: not known yet) be given a delimiter? CSV and TSV. */
bool sl_source_takes_delimiter(sl_source_format f);

/* The format of a file by its name's extension; AUTO when unknown. */
sl_source_format sl_source_format_of_path(const char *path);

/* "csv", "tsv", "ndjson", "json", or "auto". */
const char *sl_source_format_name(sl_source_format f);

/* A push reader: records of the bytes given to sl_source_feed. schema
 * (for CSV) is borrowed and must outlive the reader; opt NULL: the
 * defaults (AUTO sniffs). NULL on allocation failure. */
sl_source *sl_source_new(const sl_schema *schema, const sl_source_options *opt,
                         sl_source_fn fn, void *ud);

/* A reader of the file at path, "-" for standard input (not closed).
 * NULL with err filled ("cannot open ...", "cannot tell the format of
 * ...") when the file cannot be opened or its format is unknown; *rc
 * (when not NULL) then says which (E_IO or E_FORMAT, E_NOMEM). */
sl_source *sl_source_open(const char *path, const sl_schema *schema,
                          const sl_source_options *opt, sl_source_fn fn,
                          void *ud, sl_source_rc *rc, char *err,
                          size_t errlen);
void sl_source_free(sl_source *s); /* accepts NULL; closes its file */

/* Push: read p[0..n) / the end of the input. OK, or an error (sticky:
 * every later call returns it). */
sl_source_rc sl_source_feed(sl_source *s, const void *p, size_t n);
sl_source_rc sl_source_finish(sl_source *s);

/* Opened: read one chunk and pass its records on. OK while there is
 * more (also after a read interrupted by a signal, so that the caller
 * can look at its flags), END after the last record, or an error. */
sl_source_rc sl_source_read(sl_source *s);

/* Why the reader stopped with an error, or "". Owned by s. */
const char *sl_source_error(const sl_source *s);

/* The format being read (AUTO while still sniffing). */
sl_source_format sl_source_format_used(const sl_source *s);

/* The file descriptor read (-1 for a push reader), to wait for it. */
int sl_source_fd(const sl_source *s);

/* Bytes read so far, and the file's size: -1 when unknown (a pipe). */
uint64_t sl_source_bytes(const sl_source *s);
int64_t sl_source_size(const sl_source *s);

#endif
