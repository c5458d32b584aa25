/* sl_pidlock: a file that names the process holding an flock() on it —
 * the gateway's pid file (sl_pidfile) and each connector directory's lock
 * file (sl_state). The lock, not the file, says who runs: it goes with
 * the holder's last descriptor, so a killed process leaves a file nobody
 * holds, which the next taker takes over. */
#ifndef SL_PIDLOCK_H
#define SL_PIDLOCK_H

#include <stddef.h>

#define SL_PIDLOCK_BUSY (-2) /* sl_pidlock_take: another process holds it */

/* Open path (made with mode 0640 if missing), lock it exclusively and
 * write our pid into it. Returns its fd (the lock is held until it is
 * closed); SL_PIDLOCK_BUSY when another process holds the lock (*holder
 * = the pid its file names, 0 when none parses; err untouched); -1 with
 * a message in err on any other failure. A few retries 10 ms apart keep
 * a probe's instant of shared lock from turning the taker away. */
int sl_pidlock_take(const char *path, long *holder, char *err,
                    size_t errlen);

typedef enum sl_pidlock_state {
    SL_PIDLOCK_FREE = 0,  /* the file exists and nobody holds it */
    SL_PIDLOCK_HELD,      /* a process holds it */
    SL_PIDLOCK_MISSING,   /* no file */
    SL_PIDLOCK_FAILED     /* cannot open or lock it: errno says why */
} sl_pidlock_state;

/* Who holds path? Takes nothing for longer than an instant. *pid is the
 * pid the file names (0 when none parses, or no file). */
sl_pidlock_state sl_pidlock_probe(const char *path, long *pid);

#endif
