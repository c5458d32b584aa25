/* sl_fdlimit: the process's open-files limit (RLIMIT_NOFILE), raised at
 * `sluice run`'s start, and what an error says when even that is too
 * low. Each connector holds about five descriptors for as long as it
 * runs (its lock, spool directory, segment, progress and arrivals files),
 * so 1,000 connectors need some 5,000: more than the soft limit of 1024
 * most shells and services start with. Like nginx's
 * worker_rlimit_nofile, but without a key: the soft limit is raised to
 * the hard limit, which the administrator sets (LimitNOFILE= in the
 * systemd unit, `ulimit -Hn`). */
#ifndef SL_FDLIMIT_H
#define SL_FDLIMIT_H

#include <stddef.h>

/* Raise the soft limit to the hard one (logged at debug). Returns the
 * soft limit now, or 0 when it cannot be read. */
unsigned long sl_fdlimit_raise(void);

/* When `msg` (an error message) says a descriptor could not be opened
 * (EMFILE or ENFILE), write what to do about it to out (with the limit
 * now) and return out; else "" (out is left unchanged). */
const char *sl_fdlimit_hint(const char *msg, char *out, size_t outlen);

#endif
