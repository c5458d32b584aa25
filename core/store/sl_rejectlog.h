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

/* Called for each rejection sl_rejectlog_add_listed logs: its line
 * number and the rejection's members after the index. */
typedef void (*sl_rejectlog_each_fn)(void *ud, uint64_t line,
                                     const char *rejection, size_t rlen);

/* Walk the rejections sl_ingest listed in rej[0..rejlen)
 * ({"index":N,...},{"index":M,...}, N ascending) together with the lines
 * of data[0..len) (NDJSON; the first is line first_line of the stream
 * from peer): log each with its line's number and text, and report it to
 * on_reject (may be NULL); at most `max` of them. Stops after the last
 * one. Returns how many were logged. */
size_t sl_rejectlog_add_listed(sl_rejectlog *r, const char *rej,
                               size_t rejlen, const char *data, size_t len,
                               const char *peer, uint64_t first_line,
                               sl_rejectlog_each_fn on_reject, void *ud,
                               size_t max);

/* Lines written by this process. */
uint64_t sl_rejectlog_count(const sl_rejectlog *r);

#endif
