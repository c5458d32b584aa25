/* sl_reset: `sluice reset`, which forgets the schema a connector locked on
 * its first run (sl_state) so that its next run accepts the schema in its
 * file; what the connector still holds (spool, inbox, dead letters: made
 * with the old schema) blocks it unless --force discards that. */
#ifndef SL_RESET_H
#define SL_RESET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sl_config.h"

/* The rule of `sluice reset` for a connector that holds `records`
 * undelivered records (`bytes` bytes; spool and inbox) and `dead` dead
 * letters. Returns 0 when the reset may go ahead, with msg set to what
 * --force discards ("discarding N undelivered records (B bytes) and M dead
 * letters"), or "" when nothing is held; 1 when it must be refused
 * (something held, no `force`), with msg saying what is held and what to
 * do. msg is a buffer of msglen bytes; the text is cut to fit. */
int sl_reset_plan(const char *name, uint64_t records, uint64_t bytes,
                  uint64_t dead, int force, char *msg, size_t msglen);

/* Reset connector `c` whose directory is `dir`: refuse (1) while a sluice
 * runs it or (without `force`) while it holds records or dead letters
 * (see sl_reset_plan); else hold its lock meanwhile, with `force` delete
 * what spool/, dlq/ and inbox/ hold, then delete schema.lock and return 0.
 * No directory or no schema lock: nothing to do, 0. Reports on `out`,
 * refusals and errors on `err`. Returns the process exit code. */
int sl_reset_connector(const char *dir, const sl_connector_conf *c,
                       int force, FILE *out, FILE *err);

/* `sluice reset CONNECTOR [--force] [-c FILE]`: argv[0] is the first
 * argument after "reset". Returns the process exit code. */
int sl_reset_main(int argc, char **argv);

#endif
