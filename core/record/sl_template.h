/* sl_template: a body template, JSON text with placeholders where values
 * may stand ($records, $record, $batch_id, $count), checked once and
 * compiled into literal pieces and slots, so that a body is built by
 * copying pieces and values in one pass.
 *
 * The text is JSON once each placeholder is replaced by a value. A
 * placeholder is `$` and a name outside a string; "$records" inside a
 * string is literal text, and a placeholder cannot be a key. The compiled
 * form is compact: whitespace outside strings is removed, strings are kept
 * byte for byte (escapes as written). */
#ifndef SL_TEMPLATE_H
#define SL_TEMPLATE_H

#include <stddef.h>

#include "sl_buf.h"

#define SL_TEMPLATE_MAX_BYTES 65536 /* a template's text, at most */
#define SL_TEMPLATE_MAX_DEPTH 32    /* its nesting, at most */

/* What a template is for: which placeholders it may use. */
typedef enum sl_template_kind {
    SL_TEMPLATE_FOR_ARRAY = 0, /* a batch's body: $records exactly once;
                                  $batch_id and $count any number of times */
    SL_TEMPLATE_FOR_OBJECT,    /* a one-record body: $record exactly once;
                                  $batch_id and $count any number of times */
    SL_TEMPLATE_FOR_RECORD     /* each record: $record exactly once and
                                  nothing else */
} sl_template_kind;

/* What fills a slot. */
typedef enum sl_template_slot {
    SL_TEMPLATE_END = 0,   /* no slot: the last part */
    SL_TEMPLATE_RECORDS,   /* the records as a JSON array */
    SL_TEMPLATE_RECORD,    /* one record */
    SL_TEMPLATE_BATCH_ID,  /* the idempotency key, as a JSON string */
    SL_TEMPLATE_COUNT,     /* the number of records, as a JSON number */
    SL_TEMPLATE__NSLOTS
} sl_template_slot;

/* One literal piece of compact JSON and the slot that follows it. A
 * template is parts[0].lit, parts[0].slot, parts[1].lit, ... up to the
 * last part, whose slot is SL_TEMPLATE_END. */
typedef struct sl_template_part {
    const char *lit;       /* the literal bytes (owned by the template) */
    size_t len;
    sl_template_slot slot;
} sl_template_part;

struct sl_template;
typedef struct sl_template sl_template;

/* Check the `len` bytes at `text` (need not be NUL-terminated; NUL bytes
 * are bytes like others) as a template of `kind` and compile it. Returns
 * the template (the caller frees it with sl_template_free), or NULL with
 * one line in err: where, as "position N" (the byte offset from 0, and
 * the line and column from 1 when the text has several lines), and why:
 * an unknown placeholder or one the kind does not take, the main
 * placeholder twice or missing, a placeholder where a key must stand or
 * not alone as a value, text that is not JSON once the placeholders are
 * values (as sl_json says, trailing text included), nesting past
 * SL_TEMPLATE_MAX_DEPTH, a text longer than SL_TEMPLATE_MAX_BYTES, or out
 * of memory. */
sl_template *sl_template_new(const char *text, size_t len,
                             sl_template_kind kind, char *err, size_t errlen);

/* Free the template. Accepts NULL. */
void sl_template_free(sl_template *t);

/* The compiled parts (*n of them, at least 1), valid while t lives. */
const sl_template_part *sl_template_parts(const sl_template *t, size_t *n);

/* Literal bytes in all parts together. */
size_t sl_template_literal_bytes(const sl_template *t);

/* How many times slot s appears. */
size_t sl_template_uses(const sl_template *t, sl_template_slot s);

/* The placeholder's name as written: "$records", ...; "" for END. */
const char *sl_template_slot_name(sl_template_slot s);

/* What sl_template_render puts in the slots. */
typedef struct sl_template_values {
    const char *main;      /* $records or $record: JSON text, as is */
    size_t main_len;
    const char *batch_id;  /* $batch_id: NUL-terminated, written as a JSON
                              string (escaped as needed); NULL: "" */
    size_t count;          /* $count */
} sl_template_values;

/* Append the template with its slots filled from v to out. Returns 0, or
 * -1 when out's cap or memory runs out (out then cut back to its length
 * before the call). */
int sl_template_render(const sl_template *t, const sl_template_values *v,
                       sl_buf *out);

#endif
