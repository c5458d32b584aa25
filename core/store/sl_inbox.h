/* sl_inbox: a connector's inbox, <connector dir>/inbox/: records replayed
 * from the dead letters (`sluice dlq replay`), waiting to go back into the
 * spool. Written by the replay (sl_dlq), taken by a running gateway within
 * a second and by every gateway at start (sl_connector), counted by
 * `sluice reset` (they were encoded with the schema of their time).
 *
 * The files:
 *   - A waiting file is any name ending in ".ndjson" that does not start
 *     with '.'; they are taken in strcmp order of their names. A file made
 *     by hand must be complete before it gets such a name.
 *   - Each line is one record as the spool holds it (a compact JSON object
 *     as the destination receives it), ending in '\n'; a last line without
 *     '\n' counts too, empty lines are skipped. The lines are checked
 *     against the connector's schema again when taken (no transform).
 *   - The replay writes replay-<unix ms>-<pid>.ndjson, or, past
 *     SL_INBOX_PART_BYTES (8 MiB), replay-<unix ms>-<pid>.0001.ndjson,
 *     .0002.ndjson, ...: each under a temporary name
 *     .replay-<unix ms>-<pid>.<k>.tmp first (fsync), all renamed at the
 *     end, then the directory fsync'ed. A gateway reads a file whole (at
 *     most SL_INBOX_FILE_MAX, 256 MiB) and takes it only when its spool
 *     has room for all of it, hence the parts.
 *   - A file is deleted once its records are durable in the spool; lines
 *     that no longer pass the schema are appended to <file>.rejected
 *     (not a waiting name: kept for the operator). */
#ifndef SL_INBOX_H
#define SL_INBOX_H

#include <stddef.h>
#include <stdint.h>

#define SL_INBOX_PART_BYTES (8u << 20)  /* bytes per replay file */
#define SL_INBOX_FILE_MAX (256u << 20)  /* a waiting file read at once */

/* ---- writing a replay ------------------------------------------------ */

struct sl_inbox_writer;
typedef struct sl_inbox_writer sl_inbox_writer;

/* A replay into the inbox of the connector in `dir`, its files named
 * after now_ms (wall clock, ms since the epoch) and this process. Nothing
 * is created before the first record. NULL with errno (ENAMETOOLONG,
 * ENOMEM). */
sl_inbox_writer *sl_inbox_writer_new(const char *dir, int64_t now_ms);

/* Add one record (n bytes, no newline). 0, or -1 with errno: the replay
 * cannot be committed then. */
int sl_inbox_writer_put(sl_inbox_writer *w, const char *rec, size_t n);

/* Make every file durable under its final name (nothing when no record
 * was put); the first one's path goes to `first` (when not NULL). 0, or
 * -1 with errno: some files may have their final name already (their
 * records are then in the inbox and may also stay where they came from:
 * replayed twice, never lost). */
int sl_inbox_writer_commit(sl_inbox_writer *w, char *first, size_t firstlen);

/* The inbox directory, for messages. */
const char *sl_inbox_writer_dir(const sl_inbox_writer *w);

/* Remove what is left under temporary names (all of it, without a commit)
 * and free. Accepts NULL. */
void sl_inbox_writer_free(sl_inbox_writer *w);

/* ---- taking the waiting files ---------------------------------------- */

typedef enum sl_inbox_verdict {
    SL_INBOX_TAKEN = 0, /* its records are durable in the spool: delete it */
    SL_INBOX_LATER,     /* no room yet: it and the files after it wait */
    SL_INBOX_FAILED     /* it stays (the taker logged why); go on */
} sl_inbox_verdict;

/* One waiting file, read whole: path and its len bytes at data (NUL-
 * terminated), valid during the call. */
typedef sl_inbox_verdict (*sl_inbox_take_fn)(void *ud, const char *path,
                                             const char *data, size_t len);

/* Offer each waiting file of the inbox of the connector in `dir` to fn,
 * in name order, deleting those it took, until one is LATER. A file that
 * cannot be read (or is larger than SL_INBOX_FILE_MAX) stays and is
 * logged (component "inbox", prefixed with `name`). No inbox directory is
 * no file. */
void sl_inbox_take(const char *dir, const char *name, sl_inbox_take_fn fn,
                   void *ud);

/* Append the nrec lines at `lines` (len bytes, each ending in '\n') that
 * no longer pass the schema to <path>.rejected and make them durable; the
 * outcome is logged either way (component "inbox", `name`). */
void sl_inbox_keep_rejected(const char *path, const char *name,
                            const char *lines, size_t len, size_t nrec);

/* ---- counting -------------------------------------------------------- */

/* The records (non-empty lines) and their bytes (newlines not counted) in
 * the waiting files of the inbox of the connector in `dir`. A file taken
 * meanwhile is skipped; no inbox is 0. 0, or -1 with a message in err. */
int sl_inbox_count(const char *dir, uint64_t *records, uint64_t *bytes,
                   char *err, size_t errlen);

#endif
