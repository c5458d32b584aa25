/* sl_pidfile: <state_dir>/sluice.pid, the file that names the gateway
 * serving a state directory, so that `sluice reload` can find and signal
 * it. The running gateway holds an flock() on it; a file nobody holds is
 * stale (a gateway that was killed) and is taken over. */
#ifndef SL_PIDFILE_H
#define SL_PIDFILE_H

#include <stddef.h>

#define SL_PIDFILE_NAME "sluice.pid"

/* Take <state_dir>/sluice.pid (the directory is made if missing): lock
 * it and write our pid into it. Returns its fd (held until
 * sl_pidfile_release), or -1 with a message in err — "state directory D
 * is served by another sluice (pid N)" when a live gateway holds it. */
int sl_pidfile_take(const char *state_dir, char *err, size_t errlen);

/* Remove the file and drop the lock taken by sl_pidfile_take. Accepts
 * fd -1 (then does nothing). */
void sl_pidfile_release(const char *state_dir, int fd);

typedef enum sl_pidfile_rc {
    SL_PIDFILE_HELD = 0, /* a gateway holds it: its pid in *pid */
    SL_PIDFILE_MISSING,  /* no file: no gateway runs on that directory */
    SL_PIDFILE_STALE,    /* a file nobody holds (pid in *pid, 0 unknown) */
    SL_PIDFILE_ERROR     /* cannot read it: err says why */
} sl_pidfile_rc;

/* Who holds <state_dir>/sluice.pid? Reads, takes nothing for longer than
 * an instant. err gets a message on ERROR only. */
sl_pidfile_rc sl_pidfile_holder(const char *state_dir, long *pid, char *err,
                                size_t errlen);

#endif
