/* sl_dlq: a connector's dead letters: records that failed permanently or
 * ran out of retry time, each kept with the reason, in
 * <connector dir>/dlq/dead.ndjson (one JSON object per line, the line
 * format in sl_dlq_line.h). Appends are durable when sl_dlq_append
 * returns. They can be read back, replayed (into <connector dir>/inbox/,
 * sl_inbox, which a gateway takes back into the spool) and purged, also
 * while the gateway runs: every writer holds an flock on the file while it
 * writes. `sluice dlq` is sl_dlq_cli. */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stddef.h>
#include <stdint.h>

#include "sl_dlq_entry.h"

struct sl_dlq;
typedef struct sl_dlq sl_dlq;

/* Open (creating <dir>/dlq/ if needed) the dead letters of the connector
 * whose directory is `dir` (see sl_state). NULL with a message in err. */
sl_dlq *sl_dlq_open(const char *dir, char *err, size_t errlen);
void sl_dlq_close(sl_dlq *d); /* accepts NULL */

/* Append n entries with one write and one fdatasync. 0 when they are on
 * disk, -1 with a message in err (nothing or a torn last line written; a
 * torn line is ignored and cut by later readers). */
int sl_dlq_append(sl_dlq *d, const sl_dlq_entry *e, size_t n, char *err,
                  size_t errlen);

/* Entries in the store now (counted again when the file changed, e.g. by
 * `sluice dlq replay` or `purge` from another process). */
size_t sl_dlq_count(sl_dlq *d);

/* Count the dead letters of the connector in `dir` without opening it for
 * writing: >= 0, or -1 with a message in err. A missing store is 0. */
long sl_dlq_count_dir(const char *dir, char *err, size_t errlen);

/* Move the selected dead letters of the connector in `dir` into a new
 * file <dir>/inbox/replay-<unix ms>-<pid>.ndjson (records only, one per
 * line; temporary name, fsync, rename; past 8 MiB, several files named
 * replay-<unix ms>-<pid>.0001.ndjson, ...), then rewrite the store without
 * them (under its flock; temporary file, fsync, rename). Selected: entries
 * dead-lettered at or after since_ms (-1: any time) and, when nids > 0,
 * whose id is one of ids. An id in ids that selects nothing is an error
 * and nothing changes. On 0, *moved is how many were moved (0: nothing
 * matched, no file written) and inbox_path (if not NULL) holds the
 * (first) new file's path ("" when none). -1 with a message in err: the
 * store is unchanged, though a crash or error after the inbox files were
 * renamed may leave the records in both places (replayed twice, never
 * lost). */
int sl_dlq_replay_dir(const char *dir, int64_t since_ms, const int64_t *ids,
                      size_t nids, size_t *moved, char *inbox_path,
                      size_t pathlen, char *err, size_t errlen);

/* Delete the selected dead letters (selection and errors as for
 * sl_dlq_replay_dir). 0 with *deleted, or -1 with a message in err and the
 * store unchanged. Ids are not reused afterwards (<dir>/dlq/next_id). */
int sl_dlq_purge_dir(const char *dir, int64_t since_ms, const int64_t *ids,
                     size_t nids, size_t *deleted, char *err, size_t errlen);

/* ---- reading the store back (for `sluice dlq`) ---- */

/* Called for each entry with the entry and its whole line (without the
 * newline). Nonzero stops the walk. */
typedef int (*sl_dlq_each_fn)(void *ud, const sl_dlq_stored *e,
                              const char *line, size_t n);

/* Call fn, in file order, for each dead letter of the connector in `dir`
 * selected as by sl_dlq_replay_dir (since_ms -1 and nids 0: all), until
 * it returns nonzero. Takes no lock: a line still being written is not
 * complete yet and a rewrite replaces the file by rename, so what is read
 * is consistent. A missing store has no entries. Returns 0 with *bad =
 * complete lines that are not entries (skipped); -1 with a message in err
 * when the store cannot be read or, the walk having run to the end, an id
 * in ids selected nothing (fn may have been called before either). */
int sl_dlq_each(const char *dir, int64_t since_ms, const int64_t *ids,
                size_t nids, sl_dlq_each_fn fn, void *ud, size_t *bad,
                char *err, size_t errlen);

#endif
