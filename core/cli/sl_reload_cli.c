/* sl_reload_cli: `sluice reload` (see sl_reload_cli.h). */
#include "sl_reload_cli.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "sl_config_load.h"
#include "sl_pidfile.h"

/* SIGHUP to the holder of state_dir's pid file; 0 or 1 (said why). */
static int signal_holder(const char *state_dir)
{
    char err[512];
    long pid = 0;
    switch (sl_pidfile_holder(state_dir, &pid, err, sizeof err)) {
    case SL_PIDFILE_HELD:
        break;
    case SL_PIDFILE_MISSING:
        fprintf(stderr, "sluice reload: no gateway serves %s (no %s/%s): "
                "nothing to reload\n", state_dir, state_dir, SL_PIDFILE_NAME);
        return 1;
    case SL_PIDFILE_STALE:
        fprintf(stderr, "sluice reload: %s/%s is stale (pid %ld, no gateway "
                "holds it): nothing to reload\n", state_dir, SL_PIDFILE_NAME,
                pid);
        return 1;
    case SL_PIDFILE_ERROR:
        fprintf(stderr, "sluice reload: %s\n", err);
        return 1;
    }
    if (kill((pid_t)pid, SIGHUP) != 0) {
        fprintf(stderr, "sluice reload: cannot signal pid %ld: %s\n", pid,
                strerror(errno));
        return 1;
    }
    printf("sluice reload: SIGHUP sent to pid %ld; its log says what the "
           "reload changed\n", pid);
    return 0;
}

int sl_reload_cli_main(const char *path)
{
    sl_config *cfg = sl_config_load_or_report(path, "sluice reload", stderr);
    if (!cfg) {
        fprintf(stderr, "sluice reload: nothing signalled\n");
        return 2;
    }
    int rc = signal_holder(cfg->state_dir);
    sl_config_free(cfg);
    return rc;
}
