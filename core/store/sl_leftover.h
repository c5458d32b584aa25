/* sl_leftover: connector directories under state_dir that no configured
 * connector owns any more (its file was removed). Their spool, inbox and
 * dead letters stay on disk until a connector of that name comes back or
 * the directory is removed; `sluice check` says what each still holds. */
#ifndef SL_LEFTOVER_H
#define SL_LEFTOVER_H

#include <stdio.h>

#include "sl_config.h"

/* Is `name` (a directory entry of state_dir) a connector directory — a
 * directory holding `lock`, `schema.lock`, `spool` or `dlq`? 1 or 0. */
int sl_leftover_is_connector_dir(const char *state_dir, const char *name);

/* Write one line per left-over connector directory of cfg->state_dir to
 * `out` ("NOTE: ..." with what it holds; "cannot read" ones too). A
 * missing state_dir has none. Returns how many. */
int sl_leftover_report(const sl_config *cfg, FILE *out);

#endif
