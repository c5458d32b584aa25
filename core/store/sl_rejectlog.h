/* sl_rejectlog: a connector's log of records rejected at a stream intake
 * (raw TCP), where there is no answer to carry the reason:
 * <connector dir>/rejects.ndjson, one JSON object per rejected line:
 *   {"time":"...","peer":"127.0.0.1:50312","line":17,
 *    "text":"<the line, at most 512 bytes>","field":"email",
 *    "error":"expected a string"}
 * Appended without fsync (a diagnostic, not data); past 64 MiB the file is
 * renamed to rejects.ndjson.1 (replacing the previous one) and a new one
 * started, so it never grows without bound. */
#ifndef SL_REJECTLOG_H
#define SL_REJECTLOG_H

#include <stddef.h>
#include <stdint.h>

struct sl_rejectlog;
typedef struct sl_rejectlog sl_rejectlog;

/* Open (create) <dir>/rejects.ndjson. NULL with a message in err. */
sl_rejectlog *sl_rejectlog_open(const char *dir, char *err, size_t errlen);
void sl_rejectlog_close(sl_rejectlog *r); /* accepts NULL */

/* Log one rejected line. `rejection` is the rest of an sl_ingest rejection
 * object after its index: `"field":...,"error":...}`. Errors are logged,
 * not returned: a full disk must not stop the intake. */
void sl_rejectlog_add(sl_rejectlog *r, const char *peer, uint64_t line,
                      const char *text, size_t textlen, const char *rejection,
                      size_t rlen);

/* Lines written by this process. */
uint64_t sl_rejectlog_count(const sl_rejectlog *r);

#endif
