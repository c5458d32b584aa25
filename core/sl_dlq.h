/* sl_dlq: a connector's dead letters: records that failed permanently or
 * ran out of retry time, each kept with the reason, in
 * <connector dir>/dlq/dead.ndjson (one JSON object per line). Appends are
 * durable when sl_dlq_append returns. The CLI (`sluice dlq ...`) can list,
 * show, replay (into <connector dir>/inbox/, which a gateway takes back
 * into the spool) and purge them, also while the gateway runs: every
 * writer holds an flock on the file while it writes. */
#ifndef SL_DLQ_H
#define SL_DLQ_H

#include <stddef.h>
#include <stdint.h>

struct sl_dlq;
typedef struct sl_dlq sl_dlq;

/* One dead record. All pointers are borrowed for the call. */
typedef struct sl_dlq_entry {
    const char *record;      /* the encoded record (compact JSON object) */
    size_t record_len;
    long status;             /* last HTTP status; 0 = no HTTP answer */
    const char *reason;      /* e.g. "HTTP 400 (permanent)",
                                "retry time (max_elapsed_s = 60) ran out;
                                last: connection refused" */
    const char *response;    /* start of the last response body; may be
                                NULL; at most 1024 bytes are kept */
    size_t response_len;
    unsigned attempts;
    int64_t first_attempt_ms;/* wall clock, ms since the epoch */
    int64_t last_attempt_ms;
    const char *batch_id;    /* the idempotency key of its last request */
} sl_dlq_entry;

/* Open (creating <dir>/dlq/ if needed) the dead letters of the connector
 * whose directory is `dir` (see sl_state). NULL with a message in err. */
sl_dlq *sl_dlq_open(const char *dir, char *err, size_t errlen);
void sl_dlq_free(sl_dlq *d); /* accepts NULL */

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

/* `sluice dlq list|show|replay|purge ...`: argv[0] is the first argument
 * after "dlq". Returns the process exit code. */
int sl_dlq_main(int argc, char **argv);

#endif
