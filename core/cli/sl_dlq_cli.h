/* sl_dlq_cli: the `sluice dlq` command over a connector's dead letters
 * (sl_dlq): list, show, replay (into the spool inbox) and purge. */
#ifndef SL_DLQ_CLI_H
#define SL_DLQ_CLI_H

/* `sluice dlq list|show|replay|purge ...`: argv[0] is the first argument
 * after "dlq". Loads the configuration (-c FILE, default conf/sluice.lua)
 * to find the connector's directory. Prints to stdout and stderr; returns
 * the process exit code (2: a usage or configuration error). */
int sl_dlq_cli_main(int argc, char **argv);

#endif
