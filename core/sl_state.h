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
#include <stdint.h>
#include <stdio.h>

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

/* schema.lock, text, one item a line, each line ending in '\n':
 *   sluice schema lock v1
 *   fingerprint 0123456789abcdef        (sl_schema_fingerprint)
 *   unknown_fields reject|drop
 *   field NAME TYPE nullable|not-null   (one per field, in schema order;
 *                                        NAME may hold spaces, TYPE as
 *                                        sl_type_name)
 * A lock that does not parse exactly so is SL_SCHEMA_LOCK_ERROR with
 * "<dir>/schema.lock line N: ..." in err. */

/* Check every connector of `cfg` against its schema lock (a connector that
 * never ran has none and passes). For each one refused (its schema changed,
 * or its lock is unreadable) write to `err` what differs and how to go on
 * (`sluice reset NAME`). Returns the number refused; 0 means all may run.
 * Used by `sluice check` and `sluice run`. */
int sl_state_check_locks(const sl_config *cfg, FILE *err);

/* The rule of `sluice reset` for a connector that holds `records`
 * undelivered records (`bytes` bytes; spool and inbox) and `dead` dead
 * letters. Returns 0 when the reset may go ahead, with msg set to what
 * --force discards ("discarding N undelivered records (B bytes) and M dead
 * letters"), or "" when nothing is held; 1 when it must be refused
 * (something held, no `force`), with msg saying what is held and what to
 * do. */
int sl_state_reset_plan(const char *name, uint64_t records, uint64_t bytes,
                        uint64_t dead, int force, char *msg, size_t msglen);

/* Reset connector `c` whose directory is `dir`: refuse (1) while a sluice
 * runs it or (without `force`) while it holds records or dead letters
 * (see sl_state_reset_plan); else hold its lock meanwhile, with `force`
 * delete what spool/, dlq/ and inbox/ hold, then delete schema.lock and
 * return 0. No directory or no schema lock: nothing to do, 0. Reports on
 * `out`, refusals and errors on `err`. Returns the process exit code. */
int sl_state_reset(const char *dir, const sl_connector_conf *c, int force,
                   FILE *out, FILE *err);

/* `sluice reset CONNECTOR [--force] [-c FILE]`: argv[0] is the first
 * argument after "reset". Returns the process exit code. */
int sl_state_reset_main(int argc, char **argv);

#endif
