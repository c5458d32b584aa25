/* sl_state: a connector's directory under the gateway's state_dir, the lock
 * that keeps two gateways off the same connector, and the schema lock.
 *
 * Layout of <state_dir>/<connector>/:
 *   lock         flock()ed by the running gateway; holds its pid as text
 *   schema.lock  the schema the connector first ran with (fingerprint and
 *                one line per field), see sl_state_schema_*
 *   spool/       segments and progress (sl_spool)
 *   dlq/         dead letters (sl_dlq)
 *   inbox/       replayed records waiting to go back into the spool: files
 *                *.ndjson, one encoded record per line, written complete
 *                (temporary name, fsync, rename) */
#ifndef SL_STATE_H
#define SL_STATE_H

#include <stddef.h>

#include "sl_buf.h"
#include "sl_config.h"
#include "sl_schema.h"

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

/* Record `s` as the connector's schema (temporary file, fsync, rename).
 * 0, or -1 with a message in err. */
int sl_state_schema_write(const char *dir, const sl_schema *s, char *err,
                          size_t errlen);

/* `sluice reset CONNECTOR [--force] [-c FILE]`: argv[0] is the first
 * argument after "reset". Returns the process exit code. */
int sl_state_reset_main(int argc, char **argv);

#endif
