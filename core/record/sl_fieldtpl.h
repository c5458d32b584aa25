/* sl_fieldtpl: a text with {field} placeholders — a per-record URL or a
 * header value. Parsed once against a connector's schema, rendered per
 * request from one encoded record (the compact JSON object in schema order
 * that sl_schema_encode writes). */
#ifndef SL_FIELDTPL_H
#define SL_FIELDTPL_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_schema.h"

typedef enum sl_fieldtpl_mode {
    /* A URL: every '{' or '}' must belong to a placeholder; each value is
     * percent-encoded as one path segment (every byte outside A-Z a-z 0-9
     * - . _ ~ becomes %XX, upper-case hex), in the query string too. A
     * value in the path must not be empty. */
    SL_FIELDTPL_URL = 0,
    /* A header value: '{' name '}' (name of the characters below) is a
     * placeholder, any other brace is text; each value is sent as it is
     * (decoded), and must not have a control character (CR, LF, tab, ...,
     * DEL). */
    SL_FIELDTPL_HEADER
} sl_fieldtpl_mode;

/* A placeholder's name: 1 to SL_SCHEMA_NAME_MAX letters, digits, '_', '-'
 * or '.'. At most SL_FIELDTPL_MAX placeholders in one text. */
#define SL_FIELDTPL_MAX 16

/* A header value filled from a record has at most this many bytes. */
#define SL_FIELDTPL_HEADER_MAX 4096

typedef enum sl_fieldtpl_rc {
    SL_FIELDTPL_OK = 0,
    SL_FIELDTPL_BAD,   /* the record's value cannot be used; why says */
    SL_FIELDTPL_NOMEM  /* out of memory or the output buffer's cap */
} sl_fieldtpl_rc;

struct sl_fieldtpl;
typedef struct sl_fieldtpl sl_fieldtpl;

/* Parse `text` (NUL-terminated). Placeholders may stand only at byte
 * offset `from` or later (a URL's path: the scheme, host and port come
 * before it). With `schema`, each placeholder must name a top-level field
 * of type string, integer or date that is not nullable; with NULL only
 * the syntax is checked (names stay unresolved: fit for
 * sl_fieldtpl_first_name, not for rendering). `what` names where the text
 * is used in the messages of a bad record ("the URL path", "header
 * \"X-User\""; copied). Returns 0 with *out a new template, or NULL when
 * the text has no placeholder (nothing to render: send it as it is);
 * -1 with the reason in err ("position 23: '{' without a closing '}'",
 * positions byte offsets from 0; "{score}: ..." for a field) and *out NULL,
 * also when out of memory. */
int sl_fieldtpl_parse(const char *text, sl_fieldtpl_mode mode, size_t from,
                      const sl_schema *schema, const char *what,
                      sl_fieldtpl **out, char *err, size_t errlen);

/* Free a template. Accepts NULL. */
void sl_fieldtpl_free(sl_fieldtpl *t);

/* The name of t's first placeholder (borrowed from t). */
const char *sl_fieldtpl_first_name(const sl_fieldtpl *t);

/* Whether the values of record rec[0..len) make t render: every field
 * present and a string, an integer or a date as parsed; in a URL path not
 * empty; in a header without a control character, the value at most
 * SL_FIELDTPL_HEADER_MAX bytes. SL_FIELDTPL_OK, or
 * SL_FIELDTPL_BAD with why (the field, and the rule with `what`). No
 * allocation; thread-safe. */
sl_fieldtpl_rc sl_fieldtpl_check(const sl_fieldtpl *t, const char *rec,
                                 size_t len, sl_schema_error *why);

/* An sl_schema_post_fn: ud is a NULL-terminated array of templates
 * (sl_fieldtpl *const *); -1 with why at the first that
 * sl_fieldtpl_check refuses, else 0. */
int sl_fieldtpl_check_list(const void *ud, const char *rec, size_t len,
                           sl_schema_error *why);

/* Append t rendered for record rec[0..len) to out (not NUL-terminated).
 * SL_FIELDTPL_OK; SL_FIELDTPL_BAD as sl_fieldtpl_check says, with why;
 * SL_FIELDTPL_NOMEM when out's cap is reached or memory runs out. On
 * anything but OK out is left as it was. */
sl_fieldtpl_rc sl_fieldtpl_render(const sl_fieldtpl *t, const char *rec,
                                  size_t len, sl_buf *out,
                                  sl_schema_error *why);

#endif
