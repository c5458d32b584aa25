/* sl_state: a connector's directory under the gateway's state_dir, the lock
 * that keeps two gateways off the same connector, and the schema lock.
 *
 * Layout of <state_dir>/<connector>/:
 *   lock         flock()ed by the running gateway; holds its pid as text
 *   schema.lock  the schema the connector first ran with (fingerprint and
 *                one line per field), see sl_state_schema_*
 *   spool/       segments (sl_segment) and progress (sl_progress) of the
 *                spool (sl_spool)
 *   dlq/         dead letters (sl_dlq)
 *   inbox/       replayed records waiting to go back into the spool: files
 *                *.ndjson, one encoded record per line, written complete
 *                (temporary name, fsync, rename), see sl_inbox
 *   rejects.ndjson  lines a stream intake rejected (sl_rejectlog) */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_schema.h"

/* Write "<dir>/<name>" (a path inside a connector directory) to out. 0, or
 * -1 with "path DIR/NAME is too long" in err (out then unspecified). */
int sl_state_path(char *out, size_t outlen, const char *dir,
                  const char *name, char *err, size_t errlen);

/* Write "<state_dir>/<connector>" to out. With `create`, make it (and its
 * parents, mode 0750) if missing. 0, or -1 with a message in err. */
int sl_state_dir(const char *state_dir, const char *connector, int create,
                 char *out, size_t outlen, char *err, size_t errlen);

/* Take the connector's lock (non-blocking flock on <dir>/lock, pid written
 * into it). Returns the lock's fd (the lock lasts until sl_state_unlock or
 * exit), or -1 with a message in err naming the pid that holds it. */
int sl_state_lock(const char *dir, char *err, size_t errlen);
void sl_state_unlock(int fd); /* accepts -1 */

/* Is the lock held by another process right now? 1 yes (its pid in *pid
 * when known, else 0), 0 no, -1 error. Does not take it. */
int sl_state_locked(const char *dir, long *pid);

typedef enum sl_schema_lock_rc {
    SL_SCHEMA_LOCK_NONE = 0, /* no lock yet: the connector never ran */
    SL_SCHEMA_LOCK_SAME,     /* the lock matches the schema */
    SL_SCHEMA_LOCK_CHANGED,  /* it differs: *diff says how */
    SL_SCHEMA_LOCK_ERROR     /* unreadable/corrupt lock: err says why */
} sl_schema_lock_rc;

/* Compare the schema in <dir>/schema.lock with `s`. On CHANGED, append to
 * diff a human-readable account, one line per difference, each naming the
 * field, e.g. "  field \"email\": type was string, now integer". A missing
 * directory counts as NONE. */
sl_schema_lock_rc sl_state_schema_check(const char *dir, const sl_schema *s,
                                        sl_buf *diff, char *err,
                                        size_t errlen);

/* Room enough for the diff of any two schemas (SL_SCHEMA_MAX_FIELDS each):
 * the cap to give the `diff` of sl_state_schema_check. */
#define SL_STATE_DIFF_MAX (1u << 20)

/* Record `s` as the connector's schema (temporary file, fsync, rename).
 * 0, or -1 with a message in err. */
int sl_state_schema_write(const char *dir, const sl_schema *s, char *err,
                          size_t errlen);

/* Is there a schema lock in `dir`? 1 yes (anything by that name, even one
 * that does not parse, or one lstat cannot see for another reason than
 * ENOENT), 0 no, -1 with a message in err. Reads nothing. */
int sl_state_schema_exists(const char *dir, char *err, size_t errlen);

/* Delete <dir>/schema.lock (missing is fine) and make that durable (fsync
 * of dir). 0, or -1 with a message in err ("cannot remove PATH: why",
 * "cannot sync directory DIR: why"). */
int sl_state_schema_remove(const char *dir, char *err, size_t errlen);

/* schema.lock, text, one item a line, each line ending in '\n':
 *   sluice schema lock v1
 *   fingerprint 0123456789abcdef        (sl_schema_fingerprint)
 *   unknown_fields reject|drop
 *   field NAME TYPE nullable|not-null   (one per field, in schema order;
 *                                        NAME may hold spaces, TYPE as
 *                                        sl_schema_type_name)
 *     parts SHAPE                        (after an object or array field
 *                                        only, two spaces in: its fields
 *                                        or items as sl_schema_field_shape
 *                                        writes them; a flat schema's lock
 *                                        has no such line)
 * A lock that does not parse exactly so is SL_SCHEMA_LOCK_ERROR with
 * "<dir>/schema.lock line N: ..." in err. */

/* Check every connector of `cfg` against its schema lock (a connector that
 * never ran has none and passes). For each one refused (its schema changed,
 * or its lock is unreadable) write to `err` what differs and how to go on
 * (`sluice reset NAME`). Returns the number refused; 0 means all may run.
 * Used by `sluice check` and `sluice run`. */
int sl_state_check_locks(const sl_config *cfg, FILE *err);

#endif
