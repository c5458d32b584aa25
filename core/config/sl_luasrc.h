/* sl_luasrc: finds where a key of a Lua table constructor is written in a
 * configuration file's source, so that config errors can name a line. A
 * best-effort scan (tokens and bracket nesting, no full parse) that is right
 * for ordinary formatting. */
#ifndef SL_LUASRC_H
#define SL_LUASRC_H

#include <stddef.h>

/* One step of a key path: a string key, or (key == NULL) the index-th
 * positional element (1-based), as in schema[3]. */
typedef struct sl_luasrc_seg {
    const char *key;
    long index;
} sl_luasrc_seg;

typedef struct sl_luasrc sl_luasrc;

/* Tokenise `len` bytes of Lua source. The text is not kept. Returns NULL
 * on allocation failure. Free with sl_luasrc_free (accepts NULL). */
sl_luasrc *sl_luasrc_new(const char *text, size_t len);
void sl_luasrc_free(sl_luasrc *s);

/* Line of the key path in the table the file returns: the line where the
 * deepest segment that could be found is written; if not even the first
 * one is found, the line of the file's final `return`; 0 when nothing is
 * known. `*found` (may be NULL) receives how many segments were found. */
int sl_luasrc_line(const sl_luasrc *s, const sl_luasrc_seg *path, size_t n,
                   size_t *found);

#endif
