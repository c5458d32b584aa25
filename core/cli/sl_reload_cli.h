/* sl_reload_cli: `sluice reload [-c FILE]` — ask the gateway serving
 * FILE's state directory to reload (SIGHUP to the pid in
 * <state_dir>/sluice.pid). */
#ifndef SL_RELOAD_CLI_H
#define SL_RELOAD_CLI_H

/* Load and check `path` (a configuration with errors is reported and
 * nothing is signalled), find the gateway of its state_dir and send it
 * SIGHUP. Returns 0 signalled, 1 no gateway to signal (no pid file, a
 * stale one, the process gone), 2 configuration errors. Messages on
 * stdout/stderr. */
int sl_reload_cli_main(const char *path);

#endif
