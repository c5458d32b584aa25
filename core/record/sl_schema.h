/* sl_schema: a connector's record schema. Checks one record against it and
 * encodes it, compact and in schema order, in the same pass over the input.
 * Fields may nest: an object holds a field list of its own, an array an
 * item description, a json value is any JSON copied out compact. The
 * module's files: sl_schema_fields.c (the field lists, the fingerprint),
 * sl_schema_check.c/.h (one value's check, the messages), sl_schema_encode.c
 * (flat records), sl_schema_nested.c (records with nested fields). */
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
    SL_TYPE_OBJECT,   /* a JSON object with a field list of its own */
    SL_TYPE_ARRAY,    /* a JSON array whose items are all of one kind */
    SL_TYPE_JSON,     /* any JSON value, copied out compact */
    SL_TYPE__COUNT
} sl_schema_type;

#define SL_SCHEMA_NAME_MAX   127 /* bytes in a field name */
#define SL_SCHEMA_MAX_FIELDS 512 /* fields per schema, those of nested
                                    objects counted (per-record state is
                                    kept on the stack: 16-24 bytes a field) */
#define SL_SCHEMA_MAX_DEPTH 8    /* levels of objects and arrays below the
                                    record */

typedef enum sl_unknown_policy {
    SL_UNKNOWN_REJECT = 0, /* a field not in the schema rejects the record */
    SL_UNKNOWN_DROP        /* it is left out of the encoded record */
} sl_unknown_policy;

/* What one record may be, at most; 0 = no limit. */
typedef struct sl_schema_limits {
    size_t record_bytes; /* the record's JSON text as received */
    size_t string_bytes; /* a string value between its quotes, as received
                            (escapes count as written): every `string`
                            field and item, and every string (values and
                            keys) inside a `json` value */
    size_t fields;       /* members of the record object, and of each
                            nested object, unknown ones included */
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

/* Why a record was rejected. `field` is the path of the schema field or of
 * the offending key: "id", "address.zip", "lines[3].sku" (0-based index),
 * cut at a UTF-8 boundary when longer; "" when the record as a whole is
 * wrong, e.g. not an object. */
typedef struct sl_schema_error {
    char field[128];
    char msg[192];
} sl_schema_error;

struct sl_schema;
typedef struct sl_schema sl_schema;

/* New empty schema with the default limits (SL_SCHEMA_DEF_*). Returns
 * NULL on allocation failure. The same type is the field list of a nested
 * object (sl_schema_value.fields): there its policy applies to that
 * object's members and its limits are not used (the record's are). */
sl_schema *sl_schema_new(sl_unknown_policy policy);
void sl_schema_free(sl_schema *s); /* accepts NULL */

/* Append a field of a type without parts (not OBJECT or ARRAY: those take
 * sl_schema_add_value). Returns 0, or -1 with a message in err (duplicate
 * name, empty name, name longer than SL_SCHEMA_NAME_MAX, a name that would
 * need escaping in JSON (control character, quote, backslash) or is not
 * UTF-8, bad type, more than SL_SCHEMA_MAX_FIELDS fields, out of memory)
 * and the schema unchanged. */
int sl_schema_add(sl_schema *s, const char *name, sl_schema_type type, bool nullable,
                  char *err, size_t errlen);

/* What a value must be, for sl_schema_add_value: a field's type with its
 * parts, or (as `items`) what each item of an array must be. */
typedef struct sl_schema_value {
    sl_schema_type type;
    bool nullable;            /* null accepted (a missing field is null) */
    const sl_schema_rules *rules; /* STRING, INTEGER, NUMBER: its rules
                                 (copied), or NULL */
    sl_schema *fields;        /* OBJECT: its members (may be empty: `{}`) */
    const struct sl_schema_value *items; /* ARRAY: each item */
    size_t min_items;         /* ARRAY: fewest items */
    size_t max_items;         /* ARRAY: most items; 0 = no limit */
} sl_schema_value;

/* Append a field of any type. Every field list reachable from v (fields,
 * items->fields, items->items->fields, ...) is taken by the call, on
 * success and on error alike (freed on error); pass each one once. Errors
 * as sl_schema_add's, and: OBJECT without fields, ARRAY without items,
 * fields or items on another type, min_items > max_items, nesting deeper
 * than SL_SCHEMA_MAX_DEPTH, more than SL_SCHEMA_MAX_FIELDS fields counting
 * the nested ones, rules as sl_schema_set_rules refuses them. Returns 0,
 * or -1 with a message in err and s unchanged. */
int sl_schema_add_value(sl_schema *s, const char *name, const sl_schema_value *v,
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
/* Levels of objects and arrays below this field list (0: flat). */
int sl_schema_depth(const sl_schema *s);

/* What a value must be, read back: field i of a list, or an array's items.
 * Borrowed from the schema, valid while it lives. */
struct sl_schema_node;
typedef struct sl_schema_node sl_schema_node;
const sl_schema_node *sl_schema_field(const sl_schema *s, size_t i);
sl_schema_type sl_schema_node_type(const sl_schema_node *n);
bool sl_schema_node_nullable(const sl_schema_node *n);
const sl_schema *sl_schema_node_fields(const sl_schema_node *n); /* OBJECT,
                                                         else NULL */
const sl_schema_node *sl_schema_node_items(const sl_schema_node *n); /* ARRAY,
                                                         else NULL */
size_t sl_schema_node_min_items(const sl_schema_node *n); /* ARRAY, else 0 */
size_t sl_schema_node_max_items(const sl_schema_node *n); /* 0: no limit */
const sl_schema_rules_set *sl_schema_node_rules(const sl_schema_node *n);
                                                         /* NULL: none */

/* Append to out a one-line account of what is inside field i (for the
 * schema lock and its diff): "" for a type without parts, else e.g.
 * `{zip string not-null, city string nullable}` or
 * `[1..10 object not-null {sku string not-null}]`. 0, or -1 when out's
 * cap is reached (out then holds part of it). */
int sl_schema_field_shape(const sl_schema *s, size_t i, sl_buf *out);

/* "string", "integer", ...; and back (-1 for an unknown name). */
const char *sl_schema_type_name(sl_schema_type t);
int sl_schema_type_from_name(const char *name);

/* Check one record and encode it. `first` is the record's first token,
 * already read from `js` (normally SL_JSON_OBJECT_BEGIN); the function reads
 * the rest of that value. On OK the record's compact JSON object, fields in
 * schema order (missing nullable fields as null) at every level, is
 * appended to `out`; values are copied verbatim from the input (strings
 * keep their escapes, numbers their literal; a json value loses only the
 * whitespace between its tokens). On any other result `out` is left as it
 * was on entry (its length; bytes past it may have been written); on
 * INVALID `err` says which field and why and the scanner stands after the
 * record, so the next record can follow (also on NOMEM). On SYNTAX
 * err->msg repeats the scanner's error and offset. The first problem in
 * input order is reported; missing fields and the size of an object or
 * array (their limits) are found at its end, the record's size at the
 * record's end.
 * Allocates nothing but out's growth: nested values are encoded into out
 * past its end and moved into place. Thread-safe for distinct scanners
 * and buffers. */
sl_schema_rc sl_schema_encode(const sl_schema *s, sl_json *js,
                              const sl_json_token *first, sl_buf *out,
                              sl_schema_error *err);

/* Whether sl_schema_values_encode takes s's records: a flat schema (no
 * OBJECT, ARRAY or JSON field) without a post-check whose field names need
 * no escape in JSON. */
bool sl_schema_values_ok(const sl_schema *s);

/* The index of the field named name[0..len) (its bytes, unescaped), or
 * SIZE_MAX when s has none. */
size_t sl_schema_values_find(const sl_schema *s, const char *name, size_t len);

/* Check and encode a record held in another form than JSON text (a
 * transform's Lua table) exactly as sl_schema_encode would the JSON object
 * of the same members: vals[i] is the token the scanner gives for field
 * i's value (type SL_JSON_ERROR: the member is absent), the record having
 * no other member. Values are checked in schema order (sl_schema_encode:
 * input order), then the record's size (that of the object written
 * compactly), then the missing fields. Returns OK (encoding appended),
 * INVALID (err set), NOMEM, or SYNTAX when the record has more members
 * than limits.fields (the caller then goes through JSON text, whose order
 * decides that message); out as sl_schema_encode leaves it. Only for a
 * schema with sl_schema_values_ok. Allocates nothing but out's
 * growth. */
sl_schema_rc sl_schema_values_encode(const sl_schema *s,
                                     const sl_json_token *vals, sl_buf *out,
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

/* A stable fingerprint of the field list (names, types, nullability, policy;
 * nested field lists and items with their item counts) as 16 hex digits
 * plus NUL, for the schema lock. A flat schema's is what it was before
 * nested types existed. Field rules are left out: they may change across
 * restarts. */
void sl_schema_fingerprint(const sl_schema *s, char out[17]);

#endif
