/* sl_send_rejects: the rejects file of one input of `sluice send`, one
 * JSON object a line: {"line":N,"field":"...","error":"...","row":"..."}
 * ("row_cut":true after "row" when only its beginning was kept). The row
 * is the text as read; bytes that are not UTF-8 become U+FFFD so that
 * the file stays JSON. The file is made at the first rejection only; a
 * file of that name from an earlier run is removed when the writer is
 * made. */
#ifndef SL_SEND_REJECTS_H
#define SL_SEND_REJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sl_send_rejects;
typedef struct sl_send_rejects sl_send_rejects;

/* The default path for an input: "FILE.rejects.ndjson" beside it, or
 * "stdin.rejects.ndjson" in the current directory for "-". 0, or -1 when
 * it does not fit out. */
int sl_send_rejects_path_for(const char *input, char *out, size_t n);

/* A writer to path (copied), after removing a stale file there. NULL
 * with a message in err when that file cannot be removed or memory is
 * out. */
sl_send_rejects *sl_send_rejects_new(const char *path, char *err,
                                     size_t errlen);

/* Write one rejection. 0, or -1 with a message in err (cannot create or
 * write the file). */
int sl_send_rejects_add(sl_send_rejects *r, uint64_t line, const char *field,
                        const char *error, const char *raw, size_t raw_len,
                        bool raw_cut, char *err, size_t errlen);

/* Rejections written, and the path. */
uint64_t sl_send_rejects_count(const sl_send_rejects *r);
const char *sl_send_rejects_path(const sl_send_rejects *r);

/* Flush and close. 0, or -1 with a message in err (a write failed). */
int sl_send_rejects_close(sl_send_rejects *r, char *err, size_t errlen);

void sl_send_rejects_free(sl_send_rejects *r); /* closes; accepts NULL */

#endif
