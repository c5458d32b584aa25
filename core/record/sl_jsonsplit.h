/* sl_jsonsplit: cuts a stream of JSON records into single records, for
 * files too large to hold: a JSON array of objects, or NDJSON (one object
 * per line). Input comes in chunks of any size; an element may span them.
 * Each element is checked whole by sl_json: an object is passed on as its
 * text, anything else is a rejection with its line and text.
 *
 * Rules
 * - A UTF-8 byte order mark at the very start is skipped. Lines end with
 *   LF, CRLF or a CR alone (as in sl_csv); line numbers are 1-based, and
 *   an element's line is the one where its first byte is.
 * - Array: whitespace, '[', then elements separated by commas, then ']'
 *   and only whitespace. An element is the text between two top-level
 *   commas (outside strings and brackets), trimmed: so garbage between
 *   elements (`{"a":1} x, {"b":2}`) rejects the element it follows, and
 *   the next one is read normally. `,,` and `,]` are an empty element,
 *   rejected. A file that does not start with '[' (after whitespace) is
 *   not an array: SL_JSONSPLIT_E_FORMAT before any element, as is an
 *   empty file. Text after the closing ']' is one rejection; a file that
 *   ends before the ']' is a rejection too ("truncated?"), after the
 *   elements read up to there.
 * - NDJSON: each non-blank line is an element; blank lines (whitespace
 *   only) are skipped; an empty file has no elements.
 * - An element longer than max_bytes is rejected without being buffered
 *   whole: at most max_bytes of it are kept (as its raw text, cut). Any
 *   nesting depth is followed without memory; sl_json rejects an element
 *   nested deeper than SL_JSON_MAX_DEPTH. */
#ifndef SL_JSONSPLIT_H
#define SL_JSONSPLIT_H

#include <stdbool.h>
#include <stddef.h>

#define SL_JSONSPLIT_DEF_MAX_BYTES ((size_t)1 << 20)

/* One element, for the callback; every pointer is valid during the call
 * only. */
typedef struct sl_jsonsplit_item {
    size_t line;       /* where the element starts (1-based) */
    const char *json;  /* accepted: the object's text; NULL when rejected */
    size_t json_len;
    const char *error; /* rejected: why; NULL when accepted */
    const char *raw;   /* the element as read, trimmed */
    size_t raw_len;
    bool raw_cut;      /* raw holds only the first max_bytes */
} sl_jsonsplit_item;

/* Called per element in file order; nonzero stops the splitter (feed and
 * finish then return SL_JSONSPLIT_E_STOPPED). */
typedef int (*sl_jsonsplit_fn)(void *ud, const sl_jsonsplit_item *it);

typedef enum sl_jsonsplit_rc {
    SL_JSONSPLIT_OK = 0,
    SL_JSONSPLIT_E_FORMAT,  /* not a JSON array: sl_jsonsplit_error says */
    SL_JSONSPLIT_E_NOMEM,
    SL_JSONSPLIT_E_STOPPED  /* the callback asked to stop */
} sl_jsonsplit_rc;

struct sl_jsonsplit;
typedef struct sl_jsonsplit sl_jsonsplit;

/* A splitter for a JSON array (array true) or NDJSON, keeping elements of
 * at most max_bytes (0: the default). NULL on allocation failure. */
sl_jsonsplit *sl_jsonsplit_new(bool array, size_t max_bytes,
                               sl_jsonsplit_fn fn, void *ud);
void sl_jsonsplit_free(sl_jsonsplit *js); /* accepts NULL */

/* Read p[0..n); elements complete in it are passed to fn first. After an
 * error every later call returns it and reads nothing. */
sl_jsonsplit_rc sl_jsonsplit_feed(sl_jsonsplit *js, const void *p, size_t n);

/* The end of the input: a last element without its end is judged. */
sl_jsonsplit_rc sl_jsonsplit_finish(sl_jsonsplit *js);

/* Why E_FORMAT, or "". Owned by js. */
const char *sl_jsonsplit_error(const sl_jsonsplit *js);

/* Lines begun so far (1 before any input). */
size_t sl_jsonsplit_line(const sl_jsonsplit *js);

#endif
