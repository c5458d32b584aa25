/* sl_schema: a connector's record schema. Checks one record against it and
 * encodes it, compact and in schema order, in the same pass over the input. */
#ifndef SL_SCHEMA_H
#define SL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "sl_buf.h"
#include "sl_json.h"
#include "sl_schema_rules.h"

typedef enum sl_schema_type {
    SL_TYPE_STRING = 0,
    SL_TYPE_INTEGER,  /* int64; no fraction, no exponent */
    SL_TYPE_NUMBER,   /* any finite JSON number */
    SL_TYPE_BOOLEAN,
    SL_TYPE_DATE,     /* "YYYY-MM-DD", a real calendar date */
    SL_TYPE_DATETIME, /* RFC 3339 with Z or a numeric offset */
    SL_TYPE__COUNT
} sl_schema_type;

#define SL_SCHEMA_NAME_MAX   127 /* bytes in a field name */
#define SL_SCHEMA_MAX_FIELDS 512 /* fields per schema (per-record state is
                                    kept on the stack: 16 bytes a field) */

typedef enum sl_unknown_policy {
    SL_UNKNOWN_REJECT = 0, /* a field not in the schema rejects the record */
    SL_UNKNOWN_DROP        /* it is left out of the encoded record */
} sl_unknown_policy;

/* What one record may be, at most; 0 = no limit. */
typedef struct sl_schema_limits {
    size_t record_bytes; /* the record's JSON text as received */
    size_t string_bytes; /* a `string` field's value between its quotes,
                            as received (escapes count as written) */
    size_t fields;       /* members of the record object, unknown ones
                            included */
} sl_schema_limits;

#define SL_SCHEMA_DEF_RECORD_BYTES ((size_t)1 << 20)
#define SL_SCHEMA_DEF_STRING_BYTES ((size_t)256 << 10)
#define SL_SCHEMA_DEF_FIELDS       1024

typedef enum sl_schema_rc {
    SL_SCHEMA_OK = 0,   /* record valid; its encoding was appended */
    SL_SCHEMA_INVALID,  /* record rejected; scanner is past the record */
    SL_SCHEMA_SYNTAX,   /* malformed JSON; scanner's err/err_off say where */
    SL_SCHEMA_NOMEM     /* the output buffer's cap was reached */
} sl_schema_rc;

/* Why a record was rejected. `field` is the schema field or the offending
 * key ("" when the record as a whole is wrong, e.g. not an object). */
typedef struct sl_schema_error {
    char field[128];
    char msg[192];
} sl_schema_error;

struct sl_schema;
typedef struct sl_schema sl_schema;

/* New empty schema with the default limits (SL_SCHEMA_DEF_*). Returns
 * NULL on allocation failure. */
sl_schema *sl_schema_new(sl_unknown_policy policy);
void sl_schema_free(sl_schema *s); /* accepts NULL */

/* Append a field. Returns 0, or -1 with a message in err (duplicate name,
 * empty name, name longer than SL_SCHEMA_NAME_MAX, a name that would need
 * escaping in JSON (control character, quote, backslash) or is not UTF-8,
 * bad type, more than SL_SCHEMA_MAX_FIELDS fields, out of memory) and the
 * schema unchanged. */
int sl_schema_add(sl_schema *s, const char *name, sl_schema_type type, bool nullable,
                  char *err, size_t errlen);

/* Set field i's rules (enum, min/max, min_length/max_length; see
 * sl_schema_rules.h), copied; rules that state nothing, or r NULL, remove
 * them. They are checked after the type, on non-null values only, and are
 * not part of the fingerprint (they do not change the encoding). Returns
 * 0, or -1 with a message in err (no such field, a rule for another type,
 * a value out of range, min > max, out of memory) and the field's rules
 * unchanged. */
int sl_schema_set_rules(sl_schema *s, size_t i, const sl_schema_rules *r,
                        char *err, size_t errlen);

/* Replace the limits (copied). */
void sl_schema_set_limits(sl_schema *s, const sl_schema_limits *lim);
const sl_schema_limits *sl_schema_get_limits(const sl_schema *s);

size_t sl_schema_nfields(const sl_schema *s);
const char *sl_schema_field_name(const sl_schema *s, size_t i);
sl_schema_type sl_schema_field_type(const sl_schema *s, size_t i);
bool sl_schema_field_nullable(const sl_schema *s, size_t i);
sl_unknown_policy sl_schema_policy(const sl_schema *s);

/* "string", "integer", ...; and back (-1 for an unknown name). */
const char *sl_schema_type_name(sl_schema_type t);
int sl_schema_type_from_name(const char *name);

/* Check one record and encode it. `first` is the record's first token,
 * already read from `js` (normally SL_JSON_OBJECT_BEGIN); the function reads
 * the rest of that value. On OK the record's compact JSON object, fields in
 * schema order (missing nullable fields as null), is appended to `out`;
 * values are copied verbatim from the input (strings keep their escapes,
 * numbers their literal). On any other result `out` is left as it was on
 * entry; on INVALID `err` says which field and why and the scanner stands
 * after the record, so the next record can follow (also on NOMEM). On
 * SYNTAX err->msg repeats the scanner's error and offset. The first problem
 * in input order is reported; missing fields and the record's size (its
 * limit) are found at the record's end.
 * No allocation. Thread-safe for distinct scanners and buffers. */
sl_schema_rc sl_schema_encode(const sl_schema *s, sl_json *js,
                              const sl_json_token *first, sl_buf *out,
                              sl_schema_error *err);

/* A check of one encoded record (rec[0..len), as sl_schema_encode
 * appended it) beyond the field types, which its owner sets: 0 keeps the
 * record, -1 rejects it with err filled (the field and why). Called from
 * sl_schema_encode, so on any thread: no allocation, no shared state. */
typedef int (*sl_schema_post_fn)(const void *ud, const char *rec, size_t len,
                                 sl_schema_error *err);

/* Run fn (NULL: none) with ud (borrowed; must outlive the schema's use)
 * on every record sl_schema_encode accepts; a refusal makes it
 * SL_SCHEMA_INVALID with out as it was. Not part of the fingerprint. */
void sl_schema_set_post(sl_schema *s, sl_schema_post_fn fn, const void *ud);

/* A stable fingerprint of the field list (names, types, nullability, policy)
 * as 16 hex digits plus NUL, for the schema lock. Field rules are left
 * out: they may change across restarts. */
void sl_schema_fingerprint(const sl_schema *s, char out[17]);

#endif
